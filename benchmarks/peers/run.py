"""`make bench-peers`: fraiseql against PostGraphile v5, v4 and Strawberry over HTTP.

Run: .venv/bin/python benchmarks/peers/run.py [dataset.py's options: --dsn, --database, ...]
     [--seconds 10] [--rounds 3] [--connections 10] [--bodies 100]

Builds the data set (dataset.py: 100,000 users, kept when already loaded), starts every
server of servers.py (one worker or process each) and then, per query of queries.py:
1. checks that every server answers each of the request bodies (`--bodies` drawn at random,
   the same values for all) with the same rows and page facts; a server that errs or differs
   gets that cell marked failed, with the reason, and is not timed there;
2. times each server with wrk (-t1, bodies.lua posting a random one of those bodies), the
   servers interleaved in rounds (A B C D, D C B A, ...): requests/s and p99 (medians over
   rounds) and CPU per request of the server (utime+stime of its process tree, /proc), of
   the PostgreSQL backends connected to the benchmark's database (pg_stat_activity's pids,
   /proc) and of wrk itself: where the machine's two cores went.
Writes the table into benchmarks/RESULTS.md (report.py) and the plot benchmarks/peers_filters.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import dataset  # noqa: E402
from bench_graphql import free_port, parse_wrk, wait_listening  # noqa: E402
from bench_serve import cpu_seconds  # noqa: E402
from queries import QUERIES, WALK, Query, document, normalise, request  # noqa: E402
from report import Cell, write  # noqa: E402
from servers import SERVERS, Server, serving  # noqa: E402

from fraiseql.db import connect  # noqa: E402

OUT = HERE.parents[1] / "benchmarks" / "out" / "peers"


class Running:
    """A started server: its URL, process, and the cursor of each user id (connections)."""

    def __init__(self, server: Server, url: str, pid: int, log: Path) -> None:
        self.server, self.url, self.pid, self.log = server, url, pid, log
        self.cursors: dict[int, str] = {}
        self.walk_failed: str | None = None  # why the cursors are missing
        self.client = httpx.Client(timeout=60)

    def ask(self, body: dict[str, Any]) -> Any:
        r = self.client.post(self.url, json=body)
        try:
            return r.json()
        except ValueError:
            raise ValueError(f"HTTP {r.status_code}, not JSON: {r.text[:200]}") from None

    def walk(self, last_id: int) -> None:
        """The cursor after each user id up to `last_id`, by paging the connection forward."""
        after = None
        while not self.cursors or max(self.cursors) < last_id:
            answer = self.ask(
                {"query": document(WALK, self.server.dialect), "variables": {"after": after}}
            )
            if answer.get("errors") or "data" not in answer:
                raise ValueError(f"cursor walk: {str(answer)[:300]}")
            (root,) = answer["data"].values()
            for edge in root["edges"]:
                self.cursors[int(edge["node"]["id"])] = after = edge["cursor"]
            if not root["pageInfo"]["hasNextPage"]:
                break


def _tail(path: Path) -> str:
    return " | ".join(path.read_text(errors="replace").strip().splitlines()[-3:])


def start(stack: ExitStack, dsn: str, cells: dict[tuple[str, str], Cell]) -> list[Running]:
    """Every server that starts; the cells of one that does not are failed with its output."""
    running = []
    OUT.mkdir(parents=True, exist_ok=True)
    for server in SERVERS:
        port, log = free_port(), OUT / f"{server.name.replace(' ', '_')}.log"
        proc = stack.enter_context(serving(server, port, dsn, log))
        try:
            wait_listening(proc, port, server.name)
        except RuntimeError:
            for q in QUERIES:
                cells[(q.name, server.name)].fail(f"did not start: {_tail(log)}")
            continue
        r = Running(server, f"http://127.0.0.1:{port}/graphql", proc.pid, log)
        stack.callback(r.client.close)
        running.append(r)
    return running


def check(query: Query, params: list[dict[str, Any]], running: list[Running],
          cells: dict[tuple[str, str], Cell]) -> None:  # fmt: skip
    """Fail the cells of servers whose answers err or differ from the most common answers."""
    answers: dict[str, list[Any]] = {}
    for r in running:
        cell = cells[(query.name, r.server.name)]
        if query.connection and r.walk_failed:
            cell.fail(f"no cursors: {r.walk_failed}")
            continue
        try:
            bodies = [request(query, r.server.dialect, p, r.cursors) for p in params]
            answers[r.server.name] = [normalise(query, r.server.dialect, r.ask(b)) for b in bodies]
        except (ValueError, KeyError, TypeError, httpx.HTTPError) as exc:
            cell.fail(f"{type(exc).__name__}: {exc}"[:400])
            continue
        cell.bodies = [json.dumps(b) for b in bodies]
    if not answers:
        return
    groups: dict[str, list[str]] = {}
    for name, got in answers.items():
        groups.setdefault(repr(got), []).append(name)
    reference = max(groups.values(), key=len)
    expected = answers[reference[0]]
    if not any(expected):
        for name in answers:  # a check on empty answers would check nothing
            cells[(query.name, name)].fail("every answer was empty")
        return
    for name, got in answers.items():
        if name not in reference:
            i = next(i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
            cells[(query.name, name)].fail(
                f"differs from {', '.join(reference)} on {params[i]}: {got[i]!r:.200} "
                f"instead of {expected[i]!r:.200}"
            )


def backends_cpu(dsn: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the database of `dsn`."""

    async def pids() -> list[int]:
        conn = await connect(dsn)
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            return [r[0] for r in rows]
        finally:
            await conn.close()

    out = {}
    for pid in asyncio.run(pids()):
        try:
            out[pid] = cpu_seconds(pid)
        except OSError:  # gone meanwhile
            continue
    return out


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_cell(r: Running, cell: Cell, seconds: int, connections: int, dsn: str) -> None:
    """One wrk run of `cell` on `r`: appends requests/s, p99 and the CPU per request of the
    server, of the database's backends and of wrk."""
    bodies = OUT / "bodies.jsonl"
    bodies.write_text("\n".join(cell.bodies) + "\n")
    try:
        cpu, db, client = cpu_seconds(r.pid), backends_cpu(dsn), _children_cpu()
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
             "-s", str(HERE / "bodies.lua"), r.url, "--", str(bodies)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        used = cpu_seconds(r.pid) - cpu
        client = _children_cpu() - client
        # a backend connected during the run counts from zero
        db_used = sum(t - db.get(pid, 0.0) for pid, t in backends_cpu(dsn).items())
        row = parse_wrk(out.stdout)
    except subprocess.CalledProcessError as exc:
        cell.fail(f"wrk failed: {exc.stderr.strip()[:200]}")
        return
    except (OSError, ValueError) as exc:  # the server gone (/proc), or wrk without figures
        cell.fail(f"{type(exc).__name__}: {exc}"[:300])
        return
    if row["non_2xx"] or not row["requests"]:
        cell.fail(f"{row['non_2xx']} non-2xx answers of {row['requests']} under load")
        return
    per = 1e6 / row["requests"]
    cell.rounds.append({"rps": row["rps"], "p99_ms": row["p99_ms"], "cpu_us": used * per,
                        "db_cpu_us": db_used * per, "wrk_cpu_us": client * per})  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    dataset.add_arguments(p)
    p.add_argument("--seconds", type=int, default=10, help="wrk duration of one cell, one round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--connections", type=int, default=10)
    p.add_argument("--bodies", type=int, default=100, help="request bodies per query")
    p.add_argument("--seed", type=int, default=10)
    args = p.parse_args()
    dsn = dataset.from_arguments(args)
    rng = random.Random(args.seed)
    params = {q.name: [q.draw(rng, args.users) for _ in range(args.bodies)] for q in QUERIES}
    cells = {(q.name, s.name): Cell() for q in QUERIES for s in SERVERS}
    facts = {
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load": f"{os.getloadavg()[0]:.1f}",
        "postgres": dataset.server_version(dsn),
    }
    with ExitStack() as stack:
        running = start(stack, dsn, cells)
        last_id = max(p["after_id"] for ps in params.values() for p in ps if "after_id" in p)
        for r in running:
            try:
                r.walk(last_id)
            except (ValueError, KeyError, TypeError, httpx.HTTPError) as exc:
                r.walk_failed = f"{type(exc).__name__}: {exc}"[:400]
        for q in QUERIES:
            check(q, params[q.name], running, cells)
        for round_ in range(args.rounds):
            order = running if round_ % 2 == 0 else running[::-1]
            for q in QUERIES:
                for r in order:
                    cell = cells[(q.name, r.server.name)]
                    if cell.failed is None:
                        time_cell(r, cell, args.seconds, args.connections, dsn)
            print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)
    facts["load"] += f" at the start, {os.getloadavg()[0]:.1f} at the end"
    write(cells, [q.name for q in QUERIES], [s.name for s in SERVERS], args, facts)


if __name__ == "__main__":
    main()
