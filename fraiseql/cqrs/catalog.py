"""Checks a declaration against the database catalog and resolves it into a tree for generation.

Every table, column, key and foreign key a declaration names is looked up in pg_catalog
before any SQL is generated, so a typo is a DeclarationError naming the model path, not a
failed migration halfway through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fraiseql.cqrs.declare import DeclarationError, OrderTerm, ReadModel, Sql

__all__ = ["IndexedKey", "Node", "Resolved", "resolve"]


@dataclass
class Node:
    """One table occurrence in a document tree, with everything generation needs."""

    alias: str
    schema: str
    table: str
    key: str
    key_type: str
    fields: list[tuple[str, str | Sql]]
    kind: str = "root"  # "root", "many" or "one"
    doc_key: str | None = None
    parent: Node | None = None
    fk: str | None = None  # many: column of this table; one: column of the parent's table
    ref: str | None = None  # many: column of the parent's table; one: column of this table
    order: tuple[OrderTerm, ...] = ()
    limit: int | None = None
    embeds: list[Node] = field(default_factory=list)

    @property
    def qualified(self) -> str:
        return f'"{self.schema}"."{self.table}"'

    def walk(self):
        yield self
        for child in self.embeds:
            yield from child.walk()


@dataclass(frozen=True)
class IndexedKey:
    """A document key served as a typed column beside `data`, read in one order."""

    key: str  # the document key, and the column's name in tv_/mv_/qm_
    column: str  # the root table's column it is taken from
    sql_type: str  # that column's type, as format_type writes it
    not_null: bool
    order: OrderTerm  # the index's order of the key (the id follows, ascending)


@dataclass
class Resolved:
    """A declaration checked against the catalog."""

    model: ReadModel
    root: Node
    declaration: dict
    version: str
    warnings: list[str] = field(default_factory=list)
    indexed: list[IndexedKey] = field(default_factory=list)

    @property
    def source_tables(self) -> list[tuple[str, str]]:
        """Distinct (schema, table) of every node, root first."""
        seen: dict[tuple[str, str], None] = {}
        for node in self.root.walk():
            seen.setdefault((node.schema, node.table), None)
        return list(seen)


class _TableInfo:
    def __init__(
        self,
        columns: dict[str, str],
        pk: str | None,
        unique: set[str],
        fks: list[tuple[str, str, str, str]],
        indexed: set[str],
        not_null: set[str],
        enums: set[str],
    ) -> None:
        self.not_null = not_null
        self.enums = enums  # columns of enum types
        self.indexed = indexed  # columns leading some index
        self.columns = columns  # name -> SQL type
        self.pk = pk
        self.unique = unique  # single-column primary key or unique constraints
        self.fks = fks  # (column, referenced schema, referenced table, referenced column)


_TABLE_SQL = """
SELECT c.oid,
       (SELECT array_agg(a.attname::text || ':' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
          FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
       (SELECT array_agg(a.attname::text) FROM pg_attribute a
          WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull) AS not_null,
       (SELECT array_agg(a.attname::text) FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
          WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND t.typtype = 'e') AS enums
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
"""

_CONSTRAINT_SQL = """
SELECT k.contype::text, a.attname::text AS col, rn.nspname::text AS ref_schema, rc.relname::text AS ref_table,
       ra.attname::text AS ref_col
FROM pg_constraint k
JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
LEFT JOIN pg_class rc ON rc.oid = k.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
LEFT JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[1]
WHERE k.conrelid = $1 AND k.contype IN ('p', 'u', 'f') AND cardinality(k.conkey) = 1
ORDER BY k.conname
"""


class _Catalog:
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.cache: dict[tuple[str, str], _TableInfo] = {}

    async def table(self, schema: str, table: str, where: str) -> _TableInfo:
        if (schema, table) in self.cache:
            return self.cache[schema, table]
        row = await self.conn.fetchrow(_TABLE_SQL, schema, table)
        if row is None:
            raise DeclarationError(
                f"{where}: table {schema}.{table} does not exist "
                "(if a migration creates it, apply it first: fraiseql migrate)"
            )
        columns = dict(item.split(":", 1) for item in (row["columns"] or []))
        pk, unique, fks = None, set(), []
        for con in await self.conn.fetch(_CONSTRAINT_SQL, row["oid"]):
            if con["contype"] == "f":
                fks.append((con["col"], con["ref_schema"], con["ref_table"], con["ref_col"]))
            else:
                unique.add(con["col"])
                if con["contype"] == "p":
                    pk = con["col"]
        indexed = {
            r[0]
            for r in await self.conn.fetch(
                "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a "
                "ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = $1",
                row["oid"],
            )
        }
        not_null, enums = set(row["not_null"] or []), set(row["enums"] or [])
        info = self.cache[schema, table] = _TableInfo(
            columns, pk, unique, fks, indexed, not_null, enums
        )
        return info


def _column(info: _TableInfo, column: str, table: str, where: str) -> str:
    if column not in info.columns:
        raise DeclarationError(f"{where}: column {column!r} does not exist in table {table}")
    return column


async def resolve(conn: Any, model: ReadModel) -> Resolved:
    """Check `model` against the catalog of the database behind `conn`; raise DeclarationError."""
    declaration = model.describe()
    catalog = _Catalog(conn)
    counter = iter(range(1_000_000))
    root = await _resolve_node(
        catalog, declaration, None, None, f"read model {model.name}", counter
    )
    resolved = Resolved(model, root, declaration, model.version())
    for node in root.walk():
        if node.kind == "many" and node.fk not in catalog.cache[node.schema, node.table].indexed:
            resolved.warnings.append(
                f"no index on {node.schema}.{node.table} ({node.fk}): every document build scans the table; "
                f"create one, e.g. CREATE INDEX ON {node.schema}.{node.table} ({node.fk})"
            )
    _resolve_indexed(resolved, catalog.cache[root.schema, root.table])
    await _check_expressions(conn, resolved)
    return resolved


# Column types that compare and order unlike their document value as filters read it (an
# enum orders by declaration, JSON and arrays as structures).
_UNINDEXED_TYPES = ("json", "jsonb")


def _resolve_indexed(resolved: Resolved, info: _TableInfo) -> None:
    root, name = resolved.root, resolved.model.name
    sources = dict(root.fields)
    for key, descending, nulls in resolved.declaration.get("indexed", []):
        column = sources[key]
        assert isinstance(column, str)  # declare refuses computed keys
        sql_type = info.columns[column]
        if sql_type in _UNINDEXED_TYPES or sql_type.endswith("[]") or column in info.enums:
            raise DeclarationError(
                f"read model {name}: indexed key {key!r} is {sql_type}: only scalar columns "
                "(numbers, text, dates and times, booleans, uuid) are indexed keys"
            )
        resolved.indexed.append(
            IndexedKey(
                key, column, sql_type, column in info.not_null, OrderTerm(key, descending, nulls)
            )
        )
        if "tv" in resolved.model.forms and column not in info.indexed:
            resolved.warnings.append(
                f"no index on {root.schema}.{root.table} ({column}): tv_{name} filters and sorts "
                f"by {key} scanning the table; create one, e.g. CREATE INDEX ON "
                f"{root.schema}.{root.table} ({column}, {root.key})"
            )


async def _resolve_node(
    catalog: _Catalog, desc: dict, parent: Node | None, doc_key: str | None, where: str, counter
) -> Node:
    schema, table = desc["table"].split(".")
    info = await catalog.table(schema, table, where)
    key = desc.get("key")
    if key is None:
        if info.pk is None:
            raise DeclarationError(
                f"{where}: table {schema}.{table} has no single-column primary key; declare key=..."
            )
        key = info.pk
    elif _column(info, key, table, where) not in info.unique:
        raise DeclarationError(
            f"{where}: key {key!r} of {schema}.{table} is not a primary key or unique column"
        )
    fields: list[tuple[str, str | Sql]] = []
    for doc_key_, source in desc["fields"]:
        if isinstance(source, dict):
            expr = Sql(source["sql"])
            for col in expr.columns(f"{where}.{doc_key_}"):
                _column(info, col, table, f"{where}.{doc_key_}")
            fields.append((doc_key_, expr))
        else:
            fields.append((doc_key_, _column(info, source, table, f"{where}.{doc_key_}")))
    node = Node(
        alias=f"t{next(counter)}",
        schema=schema,
        table=table,
        key=key,
        key_type=info.columns[key],
        fields=fields,
        kind=desc.get("kind", "root"),
        doc_key=doc_key,
        parent=parent,
    )
    if parent is not None:
        await _link(catalog, node, desc, parent, info, where)
    for child_key, child_desc in desc["embed"].items():
        node.embeds.append(
            await _resolve_node(
                catalog, child_desc, node, child_key, f"{where}.{child_key}", counter
            )
        )
    return node


async def _link(
    catalog: _Catalog, node: Node, desc: dict, parent: Node, info: _TableInfo, where: str
) -> None:
    """Find the foreign key joining `node` to `parent`; set fk/ref, order and limit."""
    if node.kind == "many":
        holder, holder_name, target = info, node.table, (parent.schema, parent.table)
    else:
        holder = await catalog.table(parent.schema, parent.table, where)
        holder_name, target = parent.table, (node.schema, node.table)
    candidates = [fk for fk in holder.fks if (fk[1], fk[2]) == target]
    declared = desc.get("fk")
    if declared is not None:
        _column(holder, declared, holder_name, where)
        candidates = [fk for fk in candidates if fk[0] == declared]
        if not candidates:
            raise DeclarationError(
                f"{where}: column {holder_name}.{declared} has no FOREIGN KEY to {target[0]}.{target[1]}; "
                "fraiseql embeds rows only along declared foreign keys"
            )
    elif len(candidates) != 1:
        found = (
            "no" if not candidates else f"{len(candidates)} ({', '.join(c[0] for c in candidates)})"
        )
        raise DeclarationError(
            f"{where}: {holder_name} has {found} single-column foreign keys to {target[0]}.{target[1]}; "
            "declare fk=... naming one"
        )
    node.fk, node.ref = candidates[0][0], candidates[0][3]
    if node.kind == "many":
        order = tuple(
            OrderTerm(_column(info, c, node.table, where), d, n)
            for c, d, n in desc.get("order_by", [])
        )
        if node.key not in {t.column for t in order}:
            # The key makes the order total: equal created_at values must not reorder between builds.
            order += (OrderTerm(node.key, order[-1].descending if order else False, None),)
        node.order = order
        node.limit = desc.get("limit")


async def _check_expressions(conn: Any, resolved: Resolved) -> None:
    """Let PostgreSQL parse and type-check each Sql field (EXPLAIN plans it, runs nothing)."""
    for node in resolved.root.walk():
        for doc_key, source in node.fields:
            if isinstance(source, Sql):
                try:
                    await conn.fetch(
                        f"EXPLAIN SELECT {source.render(node.alias)} FROM {node.qualified} AS {node.alias}"
                    )
                except (
                    Exception
                ) as exc:  # the driver's error type: report it as a declaration error
                    raise DeclarationError(
                        f"read model {resolved.model.name}: Sql field {doc_key!r} on {node.table} is invalid: {exc}"
                    ) from exc
