"""Constraint violations as refusals: the SQLSTATE's code, the column from the catalog.

A unique, foreign key, not-null, check or exclusion violation raised inside a mutation
becomes a `fraiseql.CommandError` with the code of its SQLSTATE, the camelCase field of the
constraint's first column and a sentence for end users: never PostgreSQL's message, which
names constraints and tables. The columns come from the diagnostics' column (not-null) or
from pg_constraint/pg_index by the constraint's schema, table and name, read once per pool
or connection (all constraints of the database in one query) and cached.
"""

from __future__ import annotations

import weakref
from typing import Any

from fraiseql.command_error import CommandError
from fraiseql.errors import DatabaseError
from fraiseql.types import to_camel

__all__ = ["CODES", "clear", "ensure", "load", "refusal"]

CODES = {
    "23505": "UNIQUE_VIOLATION",
    "23503": "FOREIGN_KEY_VIOLATION",
    "23502": "NOT_NULL_VIOLATION",
    "23514": "CHECK_VIOLATION",
    "23P01": "EXCLUSION_VIOLATION",
}
"""SQLSTATE -> the code of the refusal it becomes."""

# The end-user sentence per code: {label} the columns, {verb} agreeing with their number;
# the second when no column is known.
_SENTENCES = {
    "UNIQUE_VIOLATION": ("{label} {verb} already taken.", "This record already exists."),
    "FOREIGN_KEY_VIOLATION": (
        "{label} {verb} not a record that exists.",
        "This record refers to a record that does not exist.",
    ),
    "NOT_NULL_VIOLATION": ("{label} {verb} required.", "A required value is missing."),
    "CHECK_VIOLATION": ("{label} {verb} not valid.", "This record is not valid."),
    "EXCLUSION_VIOLATION": (
        "{label} {verb} in conflict with an existing record.",
        "This record is in conflict with an existing record.",
    ),
}

# Every constraint and unique index outside the system schemas, with its columns in order
# (an expression index has none; a foreign key's are those of the referencing table).
_CATALOG_SQL = """
SELECT n.nspname, r.relname, c.conname,
       array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(num, i)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num ORDER BY k.i)
FROM pg_constraint c
JOIN pg_class r ON r.oid = c.conrelid
JOIN pg_namespace n ON n.oid = r.relnamespace
WHERE c.contype IN ('p', 'u', 'f', 'c', 'x')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT n.nspname, r.relname, ic.relname,
       array(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(num, o)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num ORDER BY k.o)
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class r ON r.oid = i.indrelid
JOIN pg_namespace n ON n.oid = r.relnamespace
WHERE i.indisunique AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""


# (schema, table, constraint) -> its columns, per pool or connection read through.
_catalogs: weakref.WeakKeyDictionary[Any, dict[tuple[str, str, str], tuple[str, ...]]] = (
    weakref.WeakKeyDictionary()
)


def _owner(db: Any) -> Any:
    return getattr(db, "db", db)  # a pool.with_context(...) reads through its pool


async def load(db: Any) -> None:
    """Read every constraint's columns through `db` (a pool or a connection) and cache them."""
    rows = await db.fetch(_CATALOG_SQL)
    _catalogs[_owner(db)] = {
        (schema, table, name): tuple(columns) for schema, table, name, columns in rows
    }


async def ensure(db: Any) -> None:
    """Load the catalog of `db` unless it is cached (before a mutation's transaction, whose
    first violation would abort it)."""
    if _owner(db) not in _catalogs:
        await load(db)


def clear(db: Any) -> None:
    """Forget the cached catalog of `db` (after a migration changed constraints)."""
    _catalogs.pop(_owner(db), None)


async def _columns(db: Any, exc: DatabaseError) -> tuple[str, ...]:
    column = exc.column_name
    if column:  # not-null violations name their column
        return (column,)
    key = (exc.fields.get("schema_name", ""), exc.table_name or "", exc.constraint_name or "")
    found = _catalogs.get(_owner(db), {}).get(key)
    if found is None:  # a constraint made since the catalog was read: read it again
        try:
            await load(db)
        except DatabaseError:  # db is the connection the violation aborted, or no room
            clear(db)  # read again before the next mutation
            return ()
        found = _catalogs[_owner(db)].get(key)
    return found or ()


def _label(columns: tuple[str, ...]) -> str:
    words = [column.replace("_", " ").strip() for column in columns]
    text = " and ".join(words)
    return text[:1].upper() + text[1:]


async def refusal(db: Any, exc: DatabaseError) -> CommandError:
    """The refusal a constraint violation (its SQLSTATE in CODES) stands for."""
    code = CODES[exc.sqlstate or ""]
    columns = await _columns(db, exc)
    with_columns, without = _SENTENCES[code]
    if not columns:
        return CommandError(code, without)
    verb = "are" if len(columns) > 1 else "is"
    message = with_columns.format(label=_label(columns), verb=verb)
    return CommandError(code, message, field=to_camel(columns[0]))
