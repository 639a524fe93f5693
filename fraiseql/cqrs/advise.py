"""`fraiseql advise MODEL`: the seed's decision table, filled with numbers measured here.

Reads: median client-side latency of `SELECT data FROM <form> WHERE id = $1` over sampled
keys (the builder function stands in for tv_ when no view is installed). Writes: median
time of an UPDATE of one row of each source table, inside a transaction that is rolled
back, with the sync triggers and without them (session_replication_role = replica, which
needs a superuser; otherwise "n/a"). The UPDATE changes a value (so the document changes);
when the table refuses every change tried (a CHECK constraint, a range, a validating
trigger), it rewrites a value unchanged (`SET c = c`, which fires the same triggers), and
the report says so. mv_: the time of one REFRESH CONCURRENTLY.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from fraiseql.cqrs.declare import check_ident
from fraiseql.cqrs.verify import CatalogEntry, CatalogError, lookup

__all__ = ["Advice", "advise", "render"]

_BUMPS = {  # how to change a value of these types so the document really changes
    "text": "{c} || ' '",
    "character varying": "{c} || ' '",
    "integer": "{c} + 1",
    "bigint": "{c} + 1",
    "smallint": "{c} + 1",
    "numeric": "{c} + 1",
    "timestamp with time zone": "{c} + interval '1 microsecond'",
    "timestamp without time zone": "{c} + interval '1 microsecond'",
}


@dataclass
class Advice:
    model: str
    keys: int
    reads_us: dict[str, float | None] = field(default_factory=dict)  # form -> median read latency
    sizes: dict[str, int | None] = field(default_factory=dict)  # form -> bytes on disk
    writes_us: dict[str, tuple[float, float | None]] = field(
        default_factory=dict
    )  # table -> (with, without sync)
    refresh_s: float | None = None
    mv_age_s: float | None = None
    source_bytes: int = 0
    has_qm: bool = False
    notes: list[str] = field(default_factory=list)


async def _median_us(conn: Any, sql: str, args: list[tuple], repeat: int) -> float:
    for a in args[:5]:
        await conn.fetch(sql, *a)  # warm the caches and the driver's prepared statement
    times = []
    for i in range(repeat):
        a = args[i % len(args)]
        t0 = time.perf_counter()
        await conn.fetch(sql, *a)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


async def _relations(conn: Any, model_or_relation: str) -> tuple[CatalogEntry, dict[str, str]]:
    name = model_or_relation
    try:
        entry = await lookup(conn, name)
    except CatalogError:
        rows = await conn.fetch(
            "SELECT relation FROM fraiseql.read_model_relation WHERE model = $1",
            name.split(".")[-1],
        )
        if not rows:
            raise
        entry = await lookup(conn, rows[0]["relation"])
    rows = await conn.fetch(
        "SELECT kind, relation FROM fraiseql.read_model_relation WHERE schema_name = $1 AND model = $2",
        entry.schema,
        entry.model,
    )
    return entry, {r["kind"]: check_ident(r["relation"], "catalog relation") for r in rows}


# SQLSTATE classes of a value the table refuses: data exception, integrity constraint
# violation, an exception raised by a validating trigger.
_REFUSED_CLASSES = ("22", "23", "P0")


class _Refused(Exception):
    """The table refused the measuring UPDATE's new value."""


async def _write_candidates(conn: Any, table: str) -> tuple[str | None, list[tuple[str, str]]]:
    """The key column, and the (column, new-value expression) pairs to try, best first.

    First each field column whose value can be changed, then the first of them unchanged.
    """
    schema, name = table.split(".")
    rows = await conn.fetch(
        """SELECT a.attname::text, format_type(a.atttypid, NULL) AS type,
                  EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p'
                          AND k.conkey = ARRAY[a.attnum]) AS is_pk
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum""",
        schema,
        name,
    )
    pk = next((r[0] for r in rows if r["is_pk"]), None)
    fks = {
        r[0]
        for r in await conn.fetch(
            """SELECT a.attname::text FROM pg_constraint k JOIN pg_attribute a ON a.attrelid = k.conrelid
           AND a.attnum = ANY (k.conkey) WHERE k.conrelid = to_regclass($1) AND k.contype IN ('f', 'u')""",
            table,
        )
    }
    changeable = [
        (check_ident(r[0], "column"), r["type"])
        for r in rows
        if r["type"] in _BUMPS and not r["is_pk"] and r[0] not in fks
    ]
    bumps = [(c, _BUMPS[t].format(c=f'"{c}"')) for c, t in changeable]
    return pk, bumps + [(c, f'"{c}"') for c, _ in changeable[:1]]


async def advise(conn: Any, model: str, *, samples: int = 300, refresh: bool = True) -> Advice:
    """Measure the read and write costs of the forms of `model` ('user' or 'qm_user')."""
    entry, forms = await _relations(conn, model)
    keys = [
        (r[0],)
        for r in await conn.fetch(
            f'SELECT "{entry.key}" FROM {entry.root} ORDER BY random() LIMIT 100'
        )
    ]
    advice = Advice(f"{entry.schema}.{entry.model}", len(keys), has_qm="qm" in forms)
    if not keys:
        advice.notes.append(f"{entry.root_schema}.{entry.root_table} is empty: nothing to measure")
        return advice
    if "tv" in forms:
        advice.reads_us["tv"] = await _median_us(
            conn, f"SELECT data FROM {entry.q(forms['tv'])} WHERE id = $1", keys, samples
        )
    else:
        advice.reads_us["tv"] = await _median_us(
            conn, f"SELECT {entry.q(entry.builder)}($1)", keys, samples
        )
        advice.notes.append("tv_: no view installed, measured the builder function it would call")
    advice.sizes["tv"] = 0
    for form in ("mv", "qm"):
        if form in forms:
            rel = entry.q(forms[form])
            advice.reads_us[form] = await _median_us(
                conn, f"SELECT data FROM {rel} WHERE id = $1", keys, samples
            )
            advice.sizes[form] = await conn.fetchval(
                "SELECT pg_total_relation_size($1::regclass)", f"{entry.schema}.{forms[form]}"
            )
        else:
            advice.reads_us[form] = advice.sizes[form] = None
    advice.source_bytes = sum(
        [
            await conn.fetchval("SELECT pg_total_relation_size(to_regclass($1))", t) or 0
            for t in entry.source_tables
        ]
    )
    if "mv" in forms:
        age = await conn.fetchval(
            """SELECT extract(epoch FROM now() - refreshed_at) FROM fraiseql.read_model_relation
                                     WHERE schema_name = $1 AND relation = $2""",
            entry.schema,
            forms["mv"],
        )
        advice.mv_age_s = float(age) if age is not None else None
        if refresh:
            t0 = time.perf_counter()
            await conn.execute("SELECT fraiseql.refresh($1, $2, true)", entry.schema, forms["mv"])
            advice.refresh_s = time.perf_counter() - t0
    for table in entry.source_tables:
        await _measure_write(conn, advice, table, max(samples // 10, 10))
    return advice


async def _measure_write(conn: Any, advice: Advice, table: str, repeat: int) -> None:
    pk, candidates = await _write_candidates(conn, table)
    if pk is None or not candidates:
        advice.notes.append(
            f"{table}: no primary key and changeable column, write cost not measured"
        )
        return
    schema, name = table.split(".")
    keys = [
        r[0]
        for r in await conn.fetch(
            f'SELECT "{pk}" FROM "{schema}"."{name}" ORDER BY random() LIMIT 50'
        )
    ]
    if not keys:
        return

    async def timed(sql: str, replica: bool) -> float:
        times = []
        for i in range(repeat):
            await conn.execute("BEGIN")
            try:
                if replica:
                    await conn.execute("SET LOCAL session_replication_role = replica")
                t0 = time.perf_counter()
                try:
                    await conn.execute(sql, keys[i % len(keys)])
                except Exception as exc:
                    if str(getattr(exc, "sqlstate", "") or "")[:2] in _REFUSED_CLASSES:
                        raise _Refused(str(exc).splitlines()[0]) from exc
                    raise
                times.append(time.perf_counter() - t0)
            finally:
                await conn.execute("ROLLBACK")  # measuring must leave the user's data as it was
        return statistics.median(times) * 1e6

    refusals: list[str] = []
    for column, expr in candidates:
        sql = f'UPDATE "{schema}"."{name}" SET "{column}" = {expr} WHERE "{pk}" = $1'
        try:
            with_sync = await timed(sql, False)
        except _Refused as refused:  # try the next value, down to the unchanged one
            refusals.append(f"{column} = {expr}: {refused}")
            continue
        break
    else:
        advice.notes.append(
            f"{table}: write cost not measured, every UPDATE tried was refused ("
            + "; ".join(refusals)
            + ")"
        )
        return
    if expr == f'"{column}"':
        advice.notes.append(
            f"{table}: write cost measured with an unchanged value ({column} = {column}): "
            "the table refused every change tried (" + "; ".join(refusals) + ")"
        )
    try:
        without = await timed(sql, True)
    except Exception:  # not a superuser: the comparison is not available, say so
        without = None
        advice.notes.append(
            "write cost without sync needs a superuser (session_replication_role): n/a"
        )
    advice.writes_us[f"{table}.{column}"] = (with_sync, without)


def _fmt_us(v: float | None) -> str:
    return "n/a" if v is None else (f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} us")


def _fmt_bytes(v: int | None) -> str:
    return "n/a" if v is None else f"{v / 1e6:.1f} MB"


def render(a: Advice) -> str:
    """The decision table as Markdown, with a recommendation from the measured numbers."""
    write_with = statistics.median([w for w, _ in a.writes_us.values()]) if a.writes_us else None
    pairs = [(w, wo) for w, wo in a.writes_us.values() if wo is not None]
    write_without = statistics.median([wo for _, wo in pairs]) if pairs else None
    sync_cost = (
        (write_with - write_without)
        if (a.has_qm and write_with is not None and write_without is not None)
        else None
    )
    src = f"{a.source_bytes / 1e6:.1f} MB of source tables"
    refresh = (
        f"refresh {a.refresh_s * 1000:.0f} ms"
        if a.refresh_s is not None
        else "refresh not measured"
    )
    age = f", last refresh {a.mv_age_s:.0f} s ago" if a.mv_age_s is not None else ""
    rows = [
        (
            "tv_ (view)",
            a.reads_us.get("tv"),
            "0",
            "0 (view)",
            _fmt_us(write_without) + " (no sync)",
            "small apps, write-heavy tables",
        ),
        (
            "mv_ (materialized view)",
            a.reads_us.get("mv"),
            f"until next refresh ({refresh}{age})",
            _fmt_bytes(a.sizes.get("mv")),
            f"{_fmt_us(write_without)} + {refresh}",
            "dashboards, staleness acceptable",
        ),
        (
            "qm_ (synced table)",
            a.reads_us.get("qm"),
            "0",
            _fmt_bytes(a.sizes.get("qm")),
            _fmt_us(write_with)
            + (f" (sync adds {_fmt_us(sync_cost)})" if sync_cost is not None else ""),
            "production APIs, read-heavy, real time",
        ),
    ]
    lines = [
        f"Read model {a.model}: measured on this database ({a.keys} sampled keys, {src})",
        "",
        "| form | read (median) | staleness | storage | write (UPDATE of one row) | best for |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {n} | {_fmt_us(r) if r is not None else 'not installed'} | {s} | {st} | {w} | {b} |"
        for n, r, s, st, w, b in rows
    ]
    for table, (w, wo) in a.writes_us.items():
        lines.append(f"- UPDATE {table}: {_fmt_us(w)} with sync, {_fmt_us(wo)} without")
    tv, qm = a.reads_us.get("tv"), a.reads_us.get("qm")
    lines.append("")
    if tv is not None and qm is not None and sync_cost is not None and tv > qm:
        ratio = max(sync_cost, 0.0) / (tv - qm)
        lines.append(
            f"qm_ saves {_fmt_us(tv - qm)} per read over tv_ and costs {_fmt_us(sync_cost)} per write: "
            f"it pays off above {ratio:.1f} reads per write."
        )
    lines.append(
        "Seed's rule: staleness acceptable -> mv_; real time and read-heavy (100:1+) -> qm_; "
        "write:read around 1:1 to 1:10 -> skip CQRS (tv_)."
    )
    lines += [f"note: {n}" for n in a.notes]
    return "\n".join(lines) + "\n"
