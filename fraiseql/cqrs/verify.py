"""Drift check: every stored document against what the builder function produces now.

Works from the catalog alone (`fraiseql verify qm_user --dsn ...`): the relation names its
model, the model its root table, key and builder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fraiseql.cqrs.declare import check_ident

__all__ = ["CatalogEntry", "Drift", "lookup", "repair", "verify"]


class CatalogError(LookupError):
    """A relation is not in fraiseql's catalog (or the catalog is missing)."""


@dataclass(frozen=True)
class CatalogEntry:
    """What the catalog says about one read model relation; every name re-validated."""

    schema: str
    relation: str
    kind: str
    model: str
    root_schema: str
    root_table: str
    key: str
    builder: str
    source_tables: tuple[str, ...]

    def q(self, name: str) -> str:
        return f'"{self.schema}"."{name}"'

    @property
    def root(self) -> str:
        return f'"{self.root_schema}"."{self.root_table}"'

    def rows_sql(self) -> str:
        """SELECT id, data of every document as the builder makes it now."""
        return f'SELECT r."{self.key}" AS id, {self.q(self.builder)}(r."{self.key}") AS data FROM {self.root} AS r'


async def lookup(conn: Any, relation: str) -> CatalogEntry:
    """The catalog entry of `relation` ('qm_user' or 'schema.qm_user')."""
    schema, _, name = relation.rpartition(".")
    schema = schema or None
    if not await conn.fetchval("SELECT to_regclass('fraiseql.read_model_relation') IS NOT NULL"):
        raise CatalogError(
            "this database has no fraiseql catalog: no read model was installed here "
            "(run `fraiseql migrate` first)"
        )
    rows = await conn.fetch(
        """SELECT r.schema_name, r.relation, r.kind, r.model, m.root_table, m.key_column, m.builder, m.source_tables
           FROM fraiseql.read_model_relation r JOIN fraiseql.read_model m
             ON m.schema_name = r.schema_name AND m.name = r.model
           WHERE r.relation = $1 AND ($2::text IS NULL OR r.schema_name = $2) ORDER BY r.schema_name""",
        name,
        schema,
    )
    if not rows:
        raise CatalogError(f"{relation!r} is not a read model in fraiseql's catalog")
    if len(rows) > 1:
        raise CatalogError(
            f"{relation!r} exists in several schemas ({', '.join(r[0] for r in rows)}); qualify it"
        )
    r = rows[0]
    root_schema, _, root_table = r["root_table"].partition(".")
    names = [
        r["schema_name"],
        r["relation"],
        r["model"],
        root_schema,
        root_table,
        r["key_column"],
        r["builder"],
    ]
    for value in names:
        check_ident(value, "catalog name")  # the catalog is data: never trust it into SQL unchecked
    return CatalogEntry(
        r["schema_name"],
        r["relation"],
        r["kind"],
        r["model"],
        root_schema,
        root_table,
        r["key_column"],
        r["builder"],
        tuple(r["source_tables"]),
    )


@dataclass
class Drift:
    """Keys whose stored document differs from the builder's: missing, orphaned or changed."""

    relation: str
    checked: int = 0
    missing: list[Any] = field(default_factory=list)  # root row without a document
    orphaned: list[Any] = field(default_factory=list)  # document without a root row
    changed: list[Any] = field(default_factory=list)  # document differs

    @property
    def drifted(self) -> int:
        return len(self.missing) + len(self.orphaned) + len(self.changed)

    def __bool__(self) -> bool:
        return self.drifted > 0


async def verify(conn: Any, relation: str) -> Drift:
    """Compare every document of `relation` with its builder, in one consistent snapshot."""
    entry = await lookup(conn, relation)
    result = Drift(f"{entry.schema}.{entry.relation}")
    sql = f"""
        SELECT coalesce(s.id, b.id) AS id,
               CASE WHEN s.id IS NULL THEN 'missing' WHEN b.id IS NULL THEN 'orphaned' ELSE 'changed' END AS problem
        FROM {entry.q(entry.relation)} AS s
        FULL JOIN ({entry.rows_sql()}) AS b ON b.id = s.id
        WHERE s.id IS NULL OR b.id IS NULL OR s.data IS DISTINCT FROM b.data
        ORDER BY 1"""
    async with conn.transaction():
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        result.checked = await conn.fetchval(f"SELECT count(*) FROM {entry.root}")
        for row in await conn.fetch(sql):
            getattr(result, row["problem"]).append(row["id"])
    return result


async def repair(conn: Any, relation: str, drift: Drift) -> int:
    """Rebuild the drifted documents of a qm_ relation through its sync function; return how many."""
    entry = await lookup(conn, relation)
    if entry.kind != "qm":
        raise CatalogError(
            f"{entry.schema}.{entry.relation} is a {entry.kind}_ model: only qm_ documents are "
            "repaired (refresh an mv_; a tv_ cannot drift)"
        )
    keys = drift.missing + drift.orphaned + drift.changed
    if keys:
        sync = check_ident(f"fq_{entry.model}_sync", "sync function")
        await conn.execute(f"SELECT {entry.q(sync)}($1, true)", keys)
    return len(keys)
