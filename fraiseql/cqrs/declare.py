"""Declarations of read models: what a JSONB document holds, written once in Python.

A `ReadModel` names a root table and its key; `fields` say which columns become which document
keys; `embed` maps document keys to `Many` (child rows pointing at this row through a foreign
key: a list, ordered, optionally limited) or `One` (the row this row points at: an object).
Embeds nest: a user's posts, each with its comments and its author.

Everything here is checked without a database (identifier syntax, cycles, orders); checks
against the catalog (tables, columns, foreign keys) happen in `fraiseql.cqrs.catalog`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fraiseql.types import type as graphql_type_decorator

__all__ = ["DeclarationError", "Many", "One", "ReadModel", "Sql", "FORMS"]

FORMS = ("tv", "mv", "qm")
MAX_DEPTH = 8  # embeds nested deeper than this are almost surely a mistake (or a cycle)
MAX_NAME = 40  # leaves room for the prefixes and suffixes of generated names within 63 bytes

# Strict on purpose: a name matching this never needs quoting and cannot carry SQL.
_IDENT = re.compile(r"[a-z_][a-z0-9_]*\Z")
_DOC_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ORDER_TERM = re.compile(
    r"\s*([a-z_][a-z0-9_]*)(?:\s+(asc|desc))?(?:\s+nulls\s+(first|last))?\s*\Z", re.IGNORECASE
)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_SQL_FORBIDDEN = (";", "--", "/*", "$", "\\")


class DeclarationError(ValueError):
    """A read model declaration is invalid; the message names the model and the offending part."""


def check_ident(name: object, what: str) -> str:
    """Return `name` if it is a plain lowercase SQL identifier, else raise DeclarationError."""
    if not isinstance(name, str) or not _IDENT.match(name) or len(name.encode()) > 63:
        raise DeclarationError(
            f"{what} {name!r} is not a plain identifier (lowercase letters, digits and _, "
            "not starting with a digit, at most 63 bytes); fraiseql refuses names that need quoting"
        )
    return name


def split_qualified(name: object, default_schema: str, what: str) -> tuple[str, str]:
    """'tb_post' or 'app.tb_post' -> (schema, table), both validated."""
    if not isinstance(name, str):
        raise DeclarationError(f"{what} must be a string, got {name!r}")
    parts = name.split(".")
    if len(parts) == 1:
        return default_schema, check_ident(parts[0], what)
    if len(parts) == 2:
        return check_ident(parts[0], f"schema of {what}"), check_ident(parts[1], what)
    raise DeclarationError(f"{what} {name!r} has more than one dot")


@dataclass(frozen=True)
class Sql:
    """A computed document value: trusted SQL written by the developer, with `{column}` placeholders.

    `Sql("{first_name} || ' ' || {last_name}")`. Each placeholder must name a column of the
    row's table; it is replaced by the qualified, quoted column. Statement separators, comments
    and dollar quotes are refused, and PostgreSQL type-checks the expression before any DDL runs.
    """

    template: str

    def columns(self, where: str) -> list[str]:
        if not isinstance(self.template, str) or not self.template.strip():
            raise DeclarationError(f"{where}: Sql expression must be a non-empty string")
        for bad in _SQL_FORBIDDEN:
            if bad in self.template:
                raise DeclarationError(
                    f"{where}: Sql expression may not contain {bad!r}: {self.template!r}"
                )
        names = _PLACEHOLDER.findall(self.template)
        if not names:
            raise DeclarationError(
                f"{where}: Sql expression {self.template!r} references no {{column}}"
            )
        return [check_ident(n, f"{where}: column placeholder") for n in names]

    def render(self, alias: str) -> str:
        """The expression with placeholders replaced by `alias."column"` (names already validated)."""
        return "(" + _PLACEHOLDER.sub(lambda m: f'{alias}."{m.group(1)}"', self.template) + ")"


FieldSpec = Sequence[str] | Mapping[str, str | Sql]


@dataclass(frozen=True)
class OrderTerm:
    column: str
    descending: bool
    nulls: str | None  # "first", "last" or None for PostgreSQL's default

    def sql(self, alias: str, expr: str | None = None) -> str:
        """The ORDER BY term on `alias`."column"`, or on `expr` standing for that column."""
        text = (expr or f'{alias}."{self.column}"') + (" DESC" if self.descending else " ASC")
        return text + (f" NULLS {self.nulls.upper()}" if self.nulls else "")


def parse_order(order_by: str | Sequence[str] | None, where: str) -> tuple[OrderTerm, ...]:
    """'created_at DESC, id DESC' (or a sequence of such terms) -> validated order terms."""
    if order_by is None:
        return ()
    terms = order_by.split(",") if isinstance(order_by, str) else list(order_by)
    out = []
    for term in terms:
        m = _ORDER_TERM.match(term) if isinstance(term, str) else None
        if not m:
            raise DeclarationError(
                f"{where}: order term {term!r} is not 'column [ASC|DESC] [NULLS FIRST|LAST]'"
            )
        direction, nulls = (m.group(2) or "asc").lower(), m.group(3)
        out.append(
            OrderTerm(
                check_ident(m.group(1), f"{where}: order column"),
                direction == "desc",
                nulls.lower() if nulls else None,
            )
        )
    return tuple(out)


def _normalize_fields(fields: FieldSpec, where: str) -> tuple[tuple[str, str | Sql], ...]:
    """Fields as ((document key, column or Sql), ...), keys and columns validated."""
    if isinstance(fields, str):
        raise DeclarationError(
            f"{where}: fields must be a sequence of column names or a mapping, not a string"
        )
    items = list(fields.items()) if isinstance(fields, Mapping) else [(c, c) for c in fields]
    out = []
    for key, source in items:
        if not isinstance(key, str) or not _DOC_KEY.match(key):
            raise DeclarationError(
                f"{where}: document key {key!r} must match [A-Za-z_][A-Za-z0-9_]*"
            )
        if isinstance(source, Sql):
            source.columns(f"{where}.{key}")
        else:
            check_ident(source, f"{where}.{key}: column")
        out.append((key, source))
    return tuple(out)


@dataclass(eq=False)
class _Node:
    """What roots and embeds share: a table, fields, nested embeds."""

    table: str
    fields: FieldSpec = ()
    embed: Mapping[str, Many | One] = field(default_factory=dict)
    key: str | None = None  # the row's unique key; default: the table's single-column primary key


@dataclass(eq=False)
class Many(_Node):
    """Child rows embedded as a list: rows of `table` whose `fk` references the enclosing row.

    `fk` may be omitted when `table` has exactly one foreign key to the enclosing table.
    `order_by` gets the child's key appended as a tie-breaker, so the order is total;
    `limit` keeps the first N rows of that order.
    """

    fk: str | None = None
    order_by: str | Sequence[str] | None = None
    limit: int | None = None


@dataclass(eq=False)
class One(_Node):
    """The row the enclosing row points at through its column `fk`, embedded as an object (or null)."""

    fk: str | None = None


@dataclass(eq=False)
class ReadModel:
    """A read model: the document of one row of `table`, served as tv_/mv_/qm_<name>.

    `forms` picks what to create: "tv" (a view, always fresh), "mv" (a materialized view,
    refreshed), "qm" (a table kept in sync by statement-level triggers). `notify=True` makes
    writes to the source tables NOTIFY, which the debounced refresher of mv_ needs; it is
    opt-in because every notifying commit takes PostgreSQL's global notify lock.

    `indexed` names the document keys clients filter and sort by, each with the order it is
    read in: `indexed=("email", "created_at DESC")`. Each becomes a typed column beside
    `data` (qm_ and mv_ fill it from the same row as the document; tv_ exposes the table's
    column, so its indexes serve) with a btree on (key, id) in mv_ and qm_: equality, ranges,
    `orderBy` that key (or its reverse) with ties by id, and keyset pages are index scans.
    """

    name: str
    table: str
    fields: FieldSpec = ()
    embed: Mapping[str, Many | One] = field(default_factory=dict)
    key: str | None = None
    forms: Sequence[str] = ("tv",)
    schema: str = "public"
    gin: bool = True  # GIN index on the documents of mv_/qm_; each qm_ write pays for it
    notify: bool = False  # mv_: source tables NOTIFY on writes, for the debounced refresher
    indexed: str | Sequence[str] = ()  # document keys read as typed, indexed columns

    def __post_init__(self) -> None:
        if isinstance(self.forms, str):
            self.forms = (self.forms,)
        self.forms = tuple(self.forms)
        self.validate()

    @property
    def root(self) -> _Node:
        return _Node(self.table, self.fields, self.embed, self.key)

    def graphql_type(self, cls: type | None = None, /, *, form: str | None = None) -> Any:
        """Declare the GraphQL type of this model's documents: `@user.graphql_type` on a class.

        The type reads the model's relation (`form`, else the fastest it has: qm_, mv_, tv_)
        and its "data" column, so neither is written again; each annotation must name a key
        of the document (a DeclarationError at import otherwise; computed `@fraiseql.field`s
        aside), and app start-up checks each one's type against the columns behind it.
        """
        chosen = form or next(f for f in ("qm", "mv", "tv") if f in self.forms)
        if chosen not in self.forms:
            raise DeclarationError(
                f"read model {self.name}: form {chosen!r} is not among its forms {self.forms!r}"
            )
        relation = self.relation(chosen)
        sql_source = relation if self.schema == "public" else f"{self.schema}.{relation}"

        def declare(cls: type) -> type:
            desc = self.describe()
            keys = {k for k, _ in desc["fields"]} | set(desc["embed"])
            declared = [n for n in getattr(cls, "__annotations__", {}) if not n.startswith("_")]
            unknown = [n for n in declared if n not in keys]
            if unknown:
                raise DeclarationError(
                    f"read model {self.name}: {cls.__name__}.{unknown[0]} is not a key of its "
                    f"document (keys: {', '.join(sorted(keys))})"
                )
            return graphql_type_decorator(sql_source=sql_source, jsonb_column="data")(cls)

        if cls is not None and not isinstance(cls, type):
            raise TypeError(f"read model {self.name}: graphql_type decorates a class, got {cls!r}")
        return declare if cls is None else declare(cls)

    def relation(self, form: str) -> str:
        """Name of the relation of one form: relation('qm') == 'qm_user'."""
        return f"{form}_{self.name}"

    def validate(self) -> None:
        """Database-free checks; raise DeclarationError naming the model and the bad part."""
        check_ident(self.name, "read model name")
        if len(self.name) > MAX_NAME:
            raise DeclarationError(
                f"read model name {self.name!r} is longer than {MAX_NAME} characters"
            )
        check_ident(self.schema, f"read model {self.name}: schema")
        forms = list(self.forms)
        if not forms or any(f not in FORMS for f in forms) or len(set(forms)) != len(forms):
            raise DeclarationError(
                f"read model {self.name}: forms must be distinct values of {FORMS}, got {self.forms!r}"
            )
        if self.notify and "mv" not in forms:
            raise DeclarationError(
                f'read model {self.name}: notify=True serves the refresh of an mv_ form; add "mv" to forms'
            )
        self.describe()

    def describe(self) -> dict:
        """A canonical, JSON-able form of the declaration (checked on the way); hashed as its version."""
        desc = _describe(self.root, self.schema, f"read model {self.name}", [])
        indexed = _indexed(self.indexed, desc, f"read model {self.name}")
        return (
            desc
            | {"name": self.name, "schema": self.schema, "forms": sorted(self.forms)}
            | ({} if self.gin else {"gin": False})
            | ({"notify": True} if self.notify else {})
            | ({"indexed": indexed} if indexed else {})
        )

    def version(self) -> str:
        """Hash of the declaration: a change of shape, forms or schema gives a new version."""
        text = json.dumps(self.describe(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# Columns every qm_ table has: a document key of these names cannot become a column.
RESERVED_COLUMNS = ("id", "version", "data", "updated_at")


def _indexed(indexed: str | Sequence[str], desc: dict, where: str) -> list[list]:
    """The indexed keys as [[document key, descending, nulls], ...], each checked to be a
    distinct document key taken straight from a column of the root table."""
    terms = parse_order(indexed or None, f"{where}: indexed")
    columns = dict(desc["fields"])
    out = []
    for t in terms:
        here = f"{where}: indexed key {t.column!r}"
        if t.column in RESERVED_COLUMNS:
            raise DeclarationError(
                f"{here} is a column every read model has ({', '.join(RESERVED_COLUMNS)}): "
                "the key is indexed already; another key cannot take its name"
            )
        if t.column not in columns:
            keys = ", ".join(k for k, s in desc["fields"] if isinstance(s, str))
            raise DeclarationError(f"{here} is not a field of the document (fields: {keys})")
        if not isinstance(columns[t.column], str):
            raise DeclarationError(f"{here} is a computed Sql field; index a column's field")
        if any(o[0] == t.column for o in out):
            raise DeclarationError(f"{here} is declared twice")
        out.append([t.column, t.descending, t.nulls])
    return out


def _describe(node: _Node, schema: str, where: str, path: list[int]) -> dict:
    if id(node) in path:
        raise DeclarationError(f"{where}: cycle, this embed contains itself")
    if len(path) >= MAX_DEPTH:
        raise DeclarationError(f"{where}: embeds nested deeper than {MAX_DEPTH} levels")
    path = [*path, id(node)]
    sch, table = split_qualified(node.table, schema, f"{where}: table")
    out: dict = {"table": f"{sch}.{table}", "fields": [], "embed": {}}
    if node.key is not None:
        out["key"] = check_ident(node.key, f"{where}: key")
    fields = _normalize_fields(node.fields, where)
    if not fields:
        raise DeclarationError(f"{where}: no fields declared")
    out["fields"] = [[k, {"sql": s.template} if isinstance(s, Sql) else s] for k, s in fields]
    if not isinstance(node.embed, Mapping):
        raise DeclarationError(
            f"{where}: embed must be a mapping of document key -> Many(...) or One(...)"
        )
    keys = {k for k, _ in fields}
    for doc_key, child in node.embed.items():
        sub = f"{where}.{doc_key}"
        if not isinstance(doc_key, str) or not _DOC_KEY.match(doc_key):
            raise DeclarationError(
                f"{where}: document key {doc_key!r} must match [A-Za-z_][A-Za-z0-9_]*"
            )
        if doc_key in keys:
            raise DeclarationError(f"{sub}: document key declared twice")
        keys.add(doc_key)
        if not isinstance(child, (Many, One)):
            raise DeclarationError(
                f"{sub}: expected Many(...) or One(...), got {type(child).__name__}"
            )
        desc = _describe(child, schema, sub, path)
        desc["kind"] = "many" if isinstance(child, Many) else "one"
        if child.fk is not None:
            desc["fk"] = check_ident(child.fk, f"{sub}: fk")
        if isinstance(child, Many):
            desc["order_by"] = [
                [t.column, t.descending, t.nulls] for t in parse_order(child.order_by, sub)
            ]
            if child.limit is not None:
                if (
                    not isinstance(child.limit, int)
                    or isinstance(child.limit, bool)
                    or child.limit < 1
                ):
                    raise DeclarationError(
                        f"{sub}: limit must be a positive integer, got {child.limit!r}"
                    )
                desc["limit"] = child.limit
        out["embed"][doc_key] = desc
    return out
