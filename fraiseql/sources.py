"""The database side of a GraphQL type's `sql_source`, read from the catalogs.

A relation's columns (pg_catalog), the document a `fraiseql.cqrs` read model stores in it
(the `fraiseql` catalog: its declaration, with each value's column type), and the start-up
check that every declared type's view, document column and fields exist with compatible
types (`check_sources`, run by `GraphQLApp.startup`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSchema

from fraiseql.cqrs.declare import Sql
from fraiseql.scalars import PG_ENUM
from fraiseql.schema import FieldInfo, scalar_of
from fraiseql.types import TypeDef
from fraiseql.where import FilterError, quote_relation

__all__ = [
    "DocField",
    "SchemaError",
    "check_sources",
    "not_null_columns",
    "read_model_document",
    "relation_columns",
]

DEFAULT_JSONB_COLUMN = "data"

# Enum types have their own names; the scalars know them as one kind.
_TYPE_NAME = f"CASE WHEN t.typtype = 'e' THEN '{PG_ENUM}' ELSE t.typname::text END"

_COLUMNS_SQL = f"""
SELECT a.attname::text AS name, {_TYPE_NAME} AS type
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

_NOT_NULL_SQL = """
SELECT a.attname::text FROM pg_attribute a
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull
"""

# The declaration of the read model a relation is a form of; NULL when it is none.
_READ_MODEL_SQL = """
SELECT m.declaration
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN fraiseql.read_model_relation r ON r.schema_name = n.nspname AND r.relation = c.relname
JOIN fraiseql.read_model m ON m.schema_name = r.schema_name AND m.name = r.model
WHERE c.oid = to_regclass($1)
"""


class SchemaError(Exception):
    """The declared GraphQL types do not match the database: the message names the type,
    the view, and the column or field at fault (one line per problem)."""


@dataclass
class DocField:
    """One key of a read model's document: a value (its column's type) or an embed."""

    kind: str  # "value", "one" (an object) or "many" (a list of objects)
    pg_type: str | None = None  # value: pg_type.typname of its column or Sql expression
    fields: dict[str, DocField] = field(default_factory=dict)  # one/many: the embedded keys


async def relation_columns(db: Any, relation: str) -> dict[str, str]:
    """Column name -> type name (pg_type.typname, "enum" for enum types); {} when absent."""
    rows = await db.fetch(_COLUMNS_SQL, quote_relation(relation))
    return {r["name"]: r["type"] for r in rows}


async def not_null_columns(db: Any, relation: str) -> frozenset[str]:
    """The columns declared NOT NULL (none for a view: PostgreSQL does not track them)."""
    return frozenset(r[0] for r in await db.fetch(_NOT_NULL_SQL, quote_relation(relation)))


async def read_model_document(db: Any, relation: str) -> dict[str, DocField] | None:
    """The document the `fraiseql.cqrs` read model behind `relation` stores, or None when
    the relation is not one (or fraiseql's catalog is not installed)."""
    if not await db.fetchval("SELECT to_regclass('fraiseql.read_model_relation') IS NOT NULL"):
        return None
    declaration = await db.fetchval(_READ_MODEL_SQL, quote_relation(relation))
    return None if declaration is None else await _document(db, declaration)


async def _document(db: Any, desc: dict[str, Any]) -> dict[str, DocField]:
    columns = await relation_columns(db, desc["table"])
    out: dict[str, DocField] = {}
    for key, source in desc["fields"]:
        if isinstance(source, dict):
            out[key] = DocField("value", await _expression_type(db, desc["table"], source["sql"]))
        else:
            out[key] = DocField("value", columns.get(source))
    for key, child in desc["embed"].items():
        out[key] = DocField(child["kind"], None, await _document(db, child))
    return out


async def _expression_type(db: Any, table: str, template: str) -> str | None:
    # The type of a computed value, even over an empty table: the outer join keeps a row.
    # The template comes from fraiseql's catalog; it is checked again as on declaration.
    sql_field = Sql(template)
    sql_field.columns(f"computed field of {table}")
    expr = sql_field.render("t0")
    sql = (
        f"SELECT (SELECT {_TYPE_NAME} FROM pg_type t WHERE t.oid = pg_typeof(s.v)) "
        f"FROM (VALUES (1)) AS one(x) LEFT JOIN LATERAL "
        f"(SELECT {expr} AS v FROM {quote_relation(table)} AS t0 LIMIT 1) AS s ON true"
    )
    return await db.fetchval(sql)


# ---------------------------------------------------------------- the start-up check


def _source_types(schema: GraphQLSchema) -> Iterator[tuple[GraphQLObjectType, TypeDef]]:
    for gtype in schema.type_map.values():
        typedef = (getattr(gtype, "extensions", None) or {}).get("fraiseql")
        if isinstance(gtype, GraphQLObjectType) and isinstance(typedef, TypeDef):
            if typedef.sql_source is not None:
                yield gtype, typedef


async def check_sources(schema: GraphQLSchema, db: Any) -> None:
    """Raise SchemaError unless every type's sql_source exists with its document column and,
    for a read model of the fraiseql catalog (or a view read whole), every stored field
    exists with a type compatible with its GraphQL type; and unless every function-backed
    mutation's function exists with parameters and result matching (fraiseql.function_mutations)."""
    problems: list[str] = []
    keyed = _keyed_types(schema)
    for gtype, typedef in _source_types(schema):
        problems += await _check_type(db, gtype, typedef)
        if typedef.name in keyed:
            problems += await _check_key(db, gtype, typedef)
    from fraiseql.function_mutations import check_functions  # it builds on this module

    problems += await check_functions(schema, db)
    if problems:
        raise SchemaError(
            "fraiseql: the GraphQL types do not match the database:\n  " + "\n  ".join(problems)
        )


def _keyed_types(schema: GraphQLSchema) -> set[str]:
    """Types listed by generated list or connection fields: they are ordered by their key."""
    out = set()
    for fdef in (schema.query_type.fields if schema.query_type else {}).values():
        info = (fdef.extensions or {}).get("fraiseql")
        if isinstance(info, FieldInfo) and info.generated is not None:
            out.add(info.generated.typedef.name)
    return out


async def _check_key(db: Any, gtype: GraphQLObjectType, typedef: TypeDef) -> list[str]:
    columns = await relation_columns(db, typedef.sql_source)  # type: ignore[arg-type]
    stored = {
        info.src_key
        for fdef in gtype.fields.values()
        if isinstance(info := (fdef.extensions or {}).get("fraiseql"), FieldInfo)
    }
    if not columns or typedef.key in columns or typedef.key in stored:
        return []
    return [
        f"type {gtype.name} (sql_source {typedef.sql_source!r}): its key {typedef.key!r} "
        "is neither a column of the view nor a field of the type; lists and connections "
        "order by it (declare another with @fraiseql.type(key=...))"
    ]


async def _check_type(db: Any, gtype: GraphQLObjectType, typedef: TypeDef) -> list[str]:
    view = typedef.sql_source
    where = f"type {gtype.name} (sql_source {view!r})"
    try:
        columns = await relation_columns(db, view)  # type: ignore[arg-type]
    except FilterError as exc:
        return [f"{where}: {exc}"]
    if not columns:
        return [f"{where}: view {view!r} does not exist"]
    column = typedef.jsonb_column or DEFAULT_JSONB_COLUMN
    if columns.get(column) in ("json", "jsonb"):
        document = await read_model_document(db, view)  # type: ignore[arg-type]
        if document is None:
            return []  # a document of unknown shape: what it holds is the view's business
        return _check_fields(gtype, document, f"{where}, column {column!r}")
    if typedef.jsonb_column is not None:
        found = columns.get(column)
        state = "does not exist" if found is None else f"is {found}, not json/jsonb"
        return [f"{where}: column {column!r} of view {view!r} {state}"]
    # No document column: the row is the document, its columns the fields.
    row = {name: DocField("value", pg_type) for name, pg_type in columns.items()}
    return _check_fields(gtype, row, f"{where}, read whole (no column {column!r})")


def _check_fields(gtype: GraphQLObjectType, doc: dict[str, DocField], where: str) -> list[str]:
    problems = []
    for name, fdef in gtype.fields.items():
        info = (fdef.extensions or {}).get("fraiseql")
        if not isinstance(info, FieldInfo) or info.src_key is None:
            continue  # computed by a resolver
        here = f"{where}: field {gtype.name}.{name} (document key {info.src_key!r})"
        found = doc.get(info.src_key)
        if found is None:
            problems.append(f"{here} is not in the document (keys: {', '.join(sorted(doc))})")
            continue
        problems += _check_value(fdef.type, found, here)
    return problems


def _check_value(gql: Any, found: DocField, here: str) -> list[str]:
    inner = gql.of_type if isinstance(gql, GraphQLNonNull) else gql
    if isinstance(inner, GraphQLList):
        item = inner.of_type.of_type if isinstance(inner.of_type, GraphQLNonNull) else inner.of_type
        if isinstance(item, GraphQLObjectType):
            if found.kind != "many":
                return [f"{here} is declared [{item.name}] but the document holds {_kind(found)}"]
            return _check_fields(item, found.fields, here)
        if found.kind == "value" and found.pg_type and found.pg_type.startswith("_"):
            return _check_value(inner.of_type, DocField("value", found.pg_type[1:]), here)
        if found.kind == "value" and found.pg_type in ("json", "jsonb", None):
            return []
        return [f"{here} is declared a list but the document holds {_kind(found)}"]
    if isinstance(inner, GraphQLObjectType):
        if found.kind != "one":
            return [f"{here} is declared {inner.name} but the document holds {_kind(found)}"]
        return _check_fields(inner, found.fields, here)
    scalar = scalar_of(inner)
    if scalar is not None and scalar.pg_types is None:
        return []  # JSON: any stored value, embeds included
    if found.kind != "value":
        return [f"{here} is declared {inner.name} but the document holds {_kind(found)}"]
    if scalar is None or found.pg_type is None:
        return []
    if found.pg_type in scalar.pg_types or found.pg_type in ("json", "jsonb"):
        return []
    return [
        f"{here} is declared {inner.name} but its column is {found.pg_type} "
        f"(compatible: {', '.join(sorted(scalar.pg_types))})"
    ]


def _kind(found: DocField) -> str:
    if found.kind == "many":
        return "a list of objects"
    if found.kind == "one":
        return "an object"
    return f"a {found.pg_type} value"
