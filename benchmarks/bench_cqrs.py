"""CQRS read models on the seed's blog: reads, write cost, bulk sync, mv_ refresh, staleness.

    .venv/bin/python benchmarks/bench_cqrs.py [--seconds 5] [--runs 3] [--write-results]

Starts its own EmbeddedPostgres, loads fraiseql.examples.blog (10,000 users, 200,000 posts),
and measures in the same run, against named baselines:
  1. read latency, pgbench -M prepared, 1 and 8 clients: tv_user, mv_user, qm_user, and the
     "traditional" normalized query (user row joined with its 10 latest posts);
  2. one INSERT of 10,000 posts (10 each for 1,000 users): fraiseql's statement-level sync
     against the seed's per-row trigger (as written, LIMIT bug included) and a per-row
     trigger calling fraiseql's own builder;
  3. REFRESH MATERIALIZED VIEW (CONCURRENTLY and plain) of mv_user, and the staleness of
     mv_user under the debounced refresher while a writer updates users;
  4. write cost of INSERT and UPDATE on tb_post: no triggers, qm_ sync (with and without
     the GIN index), mv_ NOTIFY only; each run starts from the same 200,000 posts.
Medians of --runs runs; the machine is shared, so the ratios matter more than the absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

from fraiseql.cqrs import install
from fraiseql.cqrs.refresh import Refresher
from fraiseql.embedded import EmbeddedPostgres, find_bindir
from fraiseql.examples import blog

USERS, POSTS = 10_000, 200_000

READS = {
    "qm_user": "SELECT data FROM qm_user WHERE id = :id;",
    "mv_user": "SELECT data FROM mv_user WHERE id = :id;",
    "tv_user": "SELECT data FROM tv_user WHERE id = :id;",
    "traditional (join, 10 rows)": """SELECT u.id, u.first_name, u.last_name, u.email, u.created_at,
       p.id, p.title, p.content, p.created_at
FROM tb_user u LEFT JOIN LATERAL (
    SELECT id, title, content, created_at FROM tb_post WHERE user_id = u.id
    ORDER BY created_at DESC, id DESC LIMIT 10) p ON true
WHERE u.id = :id;""",
}

# Posts 100,001..200,000 are the 10 newest of each user: updating them changes the document.
WRITES = {
    "INSERT tb_post": "\\set uid random(1, 10000)\n"
    "INSERT INTO tb_post (user_id, title, content) VALUES (:uid, 'bench', repeat('x', 320));",
    "UPDATE tb_post": "\\set pid random(100001, 200000)\n"
    "UPDATE tb_post SET title = 'upd ' || random() WHERE id = :pid;",
}

SYNC_TRIGGERS = ("fq_user_ins", "fq_user_upd", "fq_user_del", "fq_user_trunc")

# The seed's "Production-Ready Setup" trigger, verbatim but for the table name (qm_user_seed).
SEED_PER_ROW = """
CREATE TABLE qm_user_seed (id INT PRIMARY KEY, version INT DEFAULT 1, data JSONB NOT NULL,
                           updated_at TIMESTAMPTZ DEFAULT NOW());
CREATE OR REPLACE FUNCTION sync_qm_user_from_command()
RETURNS TRIGGER AS $$
DECLARE
    affected_user_id INT;
BEGIN
    IF TG_TABLE_NAME = 'tb_user' THEN
        affected_user_id := COALESCE(NEW.id, OLD.id);
    ELSIF TG_TABLE_NAME = 'tb_post' THEN
        affected_user_id := COALESCE(NEW.user_id, OLD.user_id);
    END IF;
    INSERT INTO qm_user_seed (id, data, updated_at)
    SELECT u.id, jsonb_build_object(
            'id', u.id, 'first_name', u.first_name, 'last_name', u.last_name, 'email', u.email,
            'created_at', u.created_at, 'updated_at', u.updated_at,
            'user_posts', COALESCE((
                SELECT jsonb_agg(jsonb_build_object('id', p.id, 'title', p.title, 'content', p.content,
                                                    'created_at', p.created_at) ORDER BY p.created_at DESC)
                FROM tb_post p WHERE p.user_id = u.id LIMIT 10), '[]'::jsonb)) as data,
        NOW()
    FROM tb_user u WHERE u.id = affected_user_id
    ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, version = qm_user_seed.version + 1, updated_at = NOW();
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
INSERT INTO qm_user_seed (id, data) SELECT id, data FROM qm_user;
CREATE TRIGGER trg_sync_qm_user_from_post AFTER INSERT OR UPDATE OR DELETE ON tb_post
FOR EACH ROW EXECUTE FUNCTION sync_qm_user_from_command();
"""

# Per-row, but with fraiseql's builder (correct LIMIT): isolates statement- vs row-level.
BUILDER_PER_ROW = """
CREATE FUNCTION per_row_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM fq_user_sync(ARRAY[NEW.user_id]);
    RETURN NULL;
END $$;
CREATE TRIGGER per_row AFTER INSERT ON tb_post FOR EACH ROW EXECUTE FUNCTION per_row_sync();
"""

BULK_INSERT = """INSERT INTO tb_post (user_id, title, content, created_at)
SELECT 1 + g % 1000, 'bulk ' || g, repeat('y', 320), timestamptz '2030-01-01' + g * interval '1 second'
FROM generate_series(1, 10000) g"""


def pgbench(dsn: str, script: str, clients: int, seconds: float) -> tuple[float, float]:
    """(tps, average latency in us) of one pgbench -M prepared run."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script if script.startswith("\\set") else "\\set id random(1, 10000)\n" + script)
    exe = find_bindir() / "pgbench"
    cmd = [
        str(exe),
        "-n",
        "-M",
        "prepared",
        "-c",
        str(clients),
        "-j",
        str(min(clients, 2)),
        "-T",
        str(int(seconds)),
        "-f",
        f.name,
        dsn,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True)
    Path(f.name).unlink()
    if out.returncode != 0:
        raise RuntimeError(f"pgbench failed: {out.stderr}")
    tps = float(re.search(r"tps = ([\d.]+)", out.stdout).group(1))
    lat = float(re.search(r"latency average = ([\d.]+) ms", out.stdout).group(1)) * 1000
    return tps, lat


def median_pgbench(
    dsn: str, script: str, clients: int, seconds: float, runs: int
) -> tuple[float, float]:
    results = [pgbench(dsn, script, clients, seconds) for _ in range(runs)]
    return statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)


async def set_triggers(conn: asyncpg.Connection, *, sync: bool, notify: bool) -> None:
    for trig in SYNC_TRIGGERS:
        await conn.execute(f"ALTER TABLE tb_post {'ENABLE' if sync else 'DISABLE'} TRIGGER {trig}")
    await conn.execute(
        f"ALTER TABLE tb_post {'ENABLE' if notify else 'DISABLE'} TRIGGER fq_user_dirty"
    )


async def timed_bulk(
    conn: asyncpg.Connection, setup_sql: str | None, sync: bool
) -> tuple[float, int]:
    """Seconds of the 10,000-post INSERT in a rolled-back transaction, and qm_user documents rewritten."""
    tr = conn.transaction()
    await tr.start()
    try:
        await set_triggers(conn, sync=sync, notify=False)
        if setup_sql:
            await conn.execute(setup_sql)
        before = await conn.fetchval("SELECT sum(version) FROM qm_user")
        t0 = time.perf_counter()
        await conn.execute(BULK_INSERT)
        seconds = time.perf_counter() - t0
        rebuilt = int(await conn.fetchval("SELECT sum(version) FROM qm_user") - before)
        return seconds, rebuilt
    finally:
        await tr.rollback()


async def staleness(dsn: str, interval: float, writes: int, tag: str) -> dict:
    """Write a marker into users' first_name every 50 ms; measure how long until mv_user shows it."""
    conn, probe = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    pending: dict[int, tuple[str, float]] = {}
    seen: list[float] = []

    async def writer() -> None:
        for i in range(writes):
            uid = 1 + i
            mark = f"{tag}-{i}"  # unique per run: an earlier run's value must not count
            await conn.execute("UPDATE tb_user SET first_name = $1 WHERE id = $2", mark, uid)
            pending[uid] = (mark, time.perf_counter())
            await asyncio.sleep(0.05)

    async def checker() -> None:
        while pending or len(seen) < writes:
            if pending:
                rows = await probe.fetch(
                    "SELECT id, data->>'first_name' AS v FROM mv_user WHERE id = ANY($1)",
                    list(pending),
                )
                now = time.perf_counter()
                for r in rows:
                    mark, t = pending.get(r["id"], (None, 0.0))
                    if r["v"] == mark:
                        seen.append(now - t)
                        del pending[r["id"]]
            await asyncio.sleep(0.01)

    try:
        async with Refresher(dsn, debounce={"mv_user": interval}) as refresher:
            await asyncio.wait_for(asyncio.gather(writer(), checker()), timeout=writes * 0.05 + 60)
            refreshes = refresher.refreshes.get("mv_user", 0)
    finally:
        await conn.close()
        await probe.close()
    return {
        "median": statistics.median(seen),
        "max": max(seen),
        "refreshes": refreshes,
        "writes": writes,
    }


async def reads_section(dsn: str, args: argparse.Namespace, out) -> None:
    out("### Reads: `SELECT data FROM <form> WHERE id = $1`, pgbench -M prepared\n")
    out("| form | 1 client: latency | 1 client: tps | 8 clients: tps | latency vs qm_user |")
    out("|---|---|---|---|---|")
    reads = {}
    for name, sql in READS.items():
        reads[name] = (
            median_pgbench(dsn, sql, 1, args.seconds, args.runs),
            median_pgbench(dsn, sql, 8, args.seconds, args.runs),
        )
    base = reads["qm_user"][0][1]
    for name, (one, eight) in reads.items():
        out(
            f"| {name} | {one[1]:.0f} us | {one[0]:,.0f} | {eight[0]:,.0f} | {one[1] / base:.2f}x |"
        )


async def bulk_section(conn: asyncpg.Connection, args: argparse.Namespace, out) -> None:
    out("\n### One INSERT of 10,000 posts (10 each for 1,000 users), rolled back each time\n")
    out("| sync | time | qm_user rows written | vs fraiseql |")
    out("|---|---|---|---|")
    variants = {
        "no triggers (baseline)": (None, False),
        "fraiseql statement-level triggers": (None, True),
        "per-row trigger, fraiseql builder": (BUILDER_PER_ROW, False),
        "seed per-row trigger (as written)": (SEED_PER_ROW, False),
    }
    bulk = {}
    for name, (setup_sql, sync) in variants.items():
        runs = [await timed_bulk(conn, setup_sql, sync) for _ in range(args.runs)]
        bulk[name] = (statistics.median(r[0] for r in runs), runs[0][1])
    await set_triggers(conn, sync=True, notify=True)
    ours = bulk["fraiseql statement-level triggers"][0]
    for name, (seconds, rebuilt) in bulk.items():
        rewritten = str(rebuilt) if "seed" not in name else "10,000 upserts (own table)"
        out(f"| {name} | {seconds * 1000:,.0f} ms | {rewritten} | {seconds / ours:.1f}x |")
    out(
        "\nRow-level triggers fire after the statement, so the per-row variant with fraiseql's builder "
        "builds each document 10 times but writes it once (later builds find it unchanged)."
    )


async def refresh_section(
    conn: asyncpg.Connection, dsn: str, args: argparse.Namespace, out
) -> None:
    out("\n### mv_user refresh (10,000 documents)\n")
    conc = [
        await _time(conn, "REFRESH MATERIALIZED VIEW CONCURRENTLY mv_user")
        for _ in range(args.runs)
    ]
    plain = [await _time(conn, "REFRESH MATERIALIZED VIEW mv_user") for _ in range(args.runs)]
    out(
        f"REFRESH CONCURRENTLY: {statistics.median(conc):.2f} s; plain REFRESH: {statistics.median(plain):.2f} s "
        f"(medians of {args.runs}).\n"
    )
    out("### Staleness of mv_user with the debounced refresher (a user updated every 50 ms)\n")
    out("| debounce interval | writes | refreshes | staleness median | staleness max |")
    out("|---|---|---|---|---|")
    for interval in (0.5, 2.0):
        s = await staleness(dsn, interval, writes=100, tag=f"i{interval}")
        out(
            f"| {interval} s | {s['writes']} | {s['refreshes']} | {s['median']:.2f} s | {s['max']:.2f} s |"
        )
    out(
        "\nA write committed while a refresh runs waits for the end of that refresh, then for the next "
        "one (started at most one interval after the previous start): staleness <= interval + 2 x refresh time. "
        "Writers never wait for a refresh."
    )


async def writes_section(conn: asyncpg.Connection, dsn: str, args: argparse.Namespace, out) -> None:
    out("\n### Write cost on tb_post, pgbench -M prepared (one statement per transaction)\n")
    out("| statement | clients | no triggers | qm_ sync | qm_ sync, gin=False | mv_ NOTIFY only |")
    out("|---|---|---|---|---|---|")
    configs = (
        ("none", False, False, True),
        ("qm", True, False, True),
        ("qm-nogin", True, False, False),
        ("notify", False, True, True),
    )
    for name, script in WRITES.items():
        for clients in (1, 8):
            row = []
            for _label, sync, notify, gin in configs:
                await set_triggers(conn, sync=sync, notify=notify)
                if not gin:
                    await conn.execute("DROP INDEX qm_user_data_gin")
                row.append(median_pgbench(dsn, script, clients, args.seconds, args.runs))
                if not gin:
                    await conn.execute("CREATE INDEX qm_user_data_gin ON qm_user USING gin (data)")
                await reset_posts(conn)
            base = row[0]
            cells = [f"{base[1]:.0f} us ({base[0]:,.0f} tps)"] + [
                f"{lat:.0f} us ({tps:,.0f} tps), +{lat - base[1]:.0f} us" for tps, lat in row[1:]
            ]
            out(f"| {name} | {clients} | " + " | ".join(cells) + " |")
    await set_triggers(conn, sync=True, notify=True)
    await conn.execute("SELECT fq_user_sync_all()")


async def reset_posts(conn: asyncpg.Connection) -> None:
    """Remove what a write run inserted, so every run starts from the same 200,000 posts."""
    await set_triggers(conn, sync=False, notify=False)
    await conn.execute(f"DELETE FROM tb_post WHERE id > {POSTS}")
    await conn.execute("VACUUM ANALYZE tb_post, qm_user")


async def main_async(args: argparse.Namespace) -> str:
    lines: list[str] = []
    out = lines.append
    with EmbeddedPostgres() as pg:
        dsn = pg.create_database("bench")
        conn = await asyncpg.connect(dsn)
        t0 = time.perf_counter()
        await blog.create_tables(conn)
        await blog.load(conn, USERS, POSTS)
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        await install(conn, blog.MODELS)
        install_s = time.perf_counter() - t0
        await conn.execute("VACUUM ANALYZE")
        size = await conn.fetchval("SELECT avg(length(data::text))::int FROM qm_user")
        out(
            f"Data: {USERS:,} users, {POSTS:,} posts (loaded in {load_s:.1f} s; read models installed with "
            f"backfill in {install_s:.1f} s); qm_user documents average {size} bytes.\n"
        )
        await reads_section(dsn, args, out)
        await bulk_section(conn, args, out)
        await refresh_section(conn, dsn, args, out)
        await writes_section(conn, dsn, args, out)  # last: it changes the data
        await conn.close()
    return "\n".join(lines) + "\n"


async def _time(conn: asyncpg.Connection, sql: str) -> float:
    t0 = time.perf_counter()
    await conn.execute(sql)
    return time.perf_counter() - t0


SECTION = "## CQRS read models (benchmarks/bench_cqrs.py)"


def write_results(body: str, command: str) -> None:
    path = Path(__file__).with_name("RESULTS.md")
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    section = (
        f"{SECTION}\n\nCommand: `{command}` ({time.strftime('%Y-%m-%d')}, 2-core shared machine, "
        f"PostgreSQL embedded, fsync off).\n\n{body}"
    )
    if SECTION in text:
        start = text.index(SECTION)
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + (text[nxt + 1 :] if nxt != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=int, default=5, help="pgbench duration per run (default 5)"
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="runs per measurement; medians reported (default 3)"
    )
    parser.add_argument("--write-results", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()
    body = asyncio.run(main_async(args))
    print(body)
    if args.write_results:
        write_results(body, "python benchmarks/bench_cqrs.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
