"""The write side as the catalog describes it: the command table behind a read model, and
the signature of a PostgreSQL function a mutation calls.

A `@fraiseql.type(sql_source=...)` over a `fraiseql.cqrs` read model writes to the model's
root table (`fraiseql.read_model.root_table`) by its root key (`key_column`, which the
read model exposes as `id`); over a plain table, to that table by the type's `key`. A read
model whose documents are refreshed later (`mv_`) has no command side here: a command
could not read back what it wrote. Every name in the SQL built from these comes from the
catalog and is quoted; values are always parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fraiseql.sources import _TYPE_NAME, SchemaError, relation_columns
from fraiseql.where import FilterError, quote_relation

__all__ = [
    "Column",
    "CommandTable",
    "FunctionSignature",
    "command_table",
    "function_signature",
    "quote_name",
]

_READ_MODEL_SQL = """
SELECT m.root_table, m.key_column, r.kind
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN fraiseql.read_model_relation r ON r.schema_name = n.nspname AND r.relation = c.relname
JOIN fraiseql.read_model m ON m.schema_name = r.schema_name AND m.name = r.model
WHERE c.oid = to_regclass($1)
"""

_RELATION_SQL = """
SELECT n.nspname::text AS schema, c.relname::text AS name, c.relkind::text AS kind
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass($1)
"""

_COLUMNS_SQL = f"""
SELECT a.attname::text AS name, {_TYPE_NAME} AS type,
       format_type(a.atttypid, a.atttypmod) AS sql_type,
       (SELECT e.typname::text FROM pg_type e WHERE e.oid = t.typelem AND t.typcategory = 'A')
           AS element,
       a.attnotnull AS not_null, a.atthasdef AS has_default,
       a.attidentity::text AS identity, a.attgenerated::text AS generated
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

_FUNCTIONS_SQL = f"""
SELECT p.oid::int8 AS oid, p.proretset AS returns_set, p.pronargdefaults AS defaults,
       {_TYPE_NAME} AS returns,
       (SELECT e.typname::text FROM pg_type e WHERE e.oid = t.typelem AND t.typcategory = 'A')
           AS returns_element
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_type t ON t.oid = p.prorettype
WHERE n.nspname = $1 AND p.proname = $2 AND p.prokind = 'f'
"""

# Input parameters only (OUT and TABLE ones are results), in order.
_PARAMETERS_SQL = f"""
SELECT coalesce(p.proargnames[a.ord], '') AS name, {_TYPE_NAME} AS type,
       format_type(a.type, NULL) AS sql_type
FROM pg_proc p
CROSS JOIN LATERAL unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]))
    WITH ORDINALITY AS a(type, ord)
JOIN pg_type t ON t.oid = a.type
WHERE p.oid = $1 AND coalesce(p.proargmodes[a.ord], 'i') IN ('i', 'b', 'v')
ORDER BY a.ord
"""


@dataclass(frozen=True)
class Column:
    """One column of a command table, as pg_attribute has it."""

    name: str
    type: str  # pg_type.typname ("enum" for enum types)
    sql_type: str  # format_type(): what a parameter is cast to
    element: str | None  # the element type of an array column
    not_null: bool
    has_default: bool
    identity: str  # "a" (ALWAYS), "d" (BY DEFAULT) or ""
    generated: bool

    @property
    def writable(self) -> bool:
        """Whether an INSERT or UPDATE may give it a value."""
        return not self.generated and self.identity != "a"

    @property
    def required(self) -> bool:
        """Whether a create must give it: NOT NULL with no default (identity is one)."""
        return self.not_null and not self.has_default and not self.identity


@dataclass(frozen=True)
class CommandTable:
    """Where a type's commands write and how they find a row again."""

    table: str  # quoted schema.table
    key: Column  # the row's key column in `table`
    columns: tuple[Column, ...]  # the writable columns, in table order
    # the read model's quoted relation holding a `version` per document (qm_), or None
    versioned: str | None


@dataclass(frozen=True)
class Parameter:
    """One input parameter of a function."""

    name: str
    type: str  # pg_type.typname ("enum" for enum types)
    sql_type: str


@dataclass(frozen=True)
class FunctionSignature:
    """A function's input parameters and what it returns, as pg_proc has them."""

    qualified: str  # quoted schema.name
    parameters: tuple[Parameter, ...]
    defaults: int  # how many of the last parameters have defaults
    returns: str  # pg_type.typname of the result (of one row, for SETOF)
    returns_element: str | None  # the element type when it returns an array
    returns_set: bool

    def describe(self) -> str:
        """`app.fn(a text, b int4) -> int4` for messages."""
        params = ", ".join(f"{p.name or '?'} {p.type}" for p in self.parameters)
        result = ("SETOF " if self.returns_set else "") + self.returns
        return f"{self.qualified.replace(chr(34), '')}({params}) -> {result}"

    def optional(self, parameter: Parameter) -> bool:
        return self.parameters.index(parameter) >= len(self.parameters) - self.defaults


def quote_name(*names: str) -> str:
    """Names from the catalog as one quoted, dotted identifier."""
    return ".".join('"' + n.replace('"', '""') + '"' for n in names)


async def command_table(db: Any, type_name: str, sql_source: str, key: str) -> CommandTable:
    """The command table behind `sql_source` (a read model's root table, or the relation
    itself when it is a table); SchemaError naming the type when there is none."""
    where = f"type {type_name} (sql_source {sql_source!r})"
    try:
        relation = quote_relation(sql_source)
    except FilterError as exc:
        raise SchemaError(f"{where}: {exc}") from None
    found = None
    if await db.fetchval("SELECT to_regclass('fraiseql.read_model_relation') IS NOT NULL"):
        found = await db.fetchrow(_READ_MODEL_SQL, relation)
    versioned = None
    if found is not None:
        if found["kind"] == "mv":
            raise SchemaError(
                f"{where}: an mv_ read model is refreshed later, so a command could not read "
                "back what it wrote; give the type the model's qm_ or tv_ form"
            )
        if key != "id":  # the forms expose the root key as `id`: what a command finds by
            raise SchemaError(
                f"{where}: its key is {key!r}, but a read model's rows are found by their id "
                f"(the root key {found['key_column']!r}); commands need @fraiseql.type(key='id')"
            )
        table, key_name = quote_name(*found["root_table"].split(".")), found["key_column"]
        if found["kind"] == "qm" and "version" in await relation_columns(db, sql_source):
            versioned = relation
    else:
        row = await db.fetchrow(_RELATION_SQL, relation)
        if row is None or row["kind"] not in ("r", "p"):
            state = "does not exist" if row is None else "is neither a table nor a read model"
            raise SchemaError(f"{where}: {sql_source!r} {state}, so there is no table to write")
        table, key_name = quote_name(row["schema"], row["name"]), key
    columns = [Column(**dict(r)) for r in await db.fetch(_COLUMNS_SQL, table)]
    key_column = next((c for c in columns if c.name == key_name), None)
    if key_column is None:
        raise SchemaError(f"{where}: its command table {table} has no key column {key_name!r}")
    return CommandTable(table, key_column, tuple(c for c in columns if c.writable), versioned)


async def function_signature(db: Any, schema: str, name: str) -> FunctionSignature | str:
    """The signature of `schema.name`, or why there is none to call (absent, overloaded)."""
    found = await db.fetch(_FUNCTIONS_SQL, schema, name)
    if not found:
        return f"function {schema}.{name} does not exist"
    if len(found) > 1:
        return f"function {schema}.{name} is overloaded ({len(found)} of them); keep one"
    row = found[0]
    params = tuple(Parameter(**dict(r)) for r in await db.fetch(_PARAMETERS_SQL, row["oid"]))
    return FunctionSignature(
        quote_name(schema, name),
        params,
        row["defaults"],
        row["returns"],
        row["returns_element"],
        row["returns_set"],
    )
