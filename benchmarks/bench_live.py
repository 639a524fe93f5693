"""Live queries: from a write's commit to the message at the client (issue 12).

Run: .venv/bin/python benchmarks/bench_live.py [--dsn DSN] [--subscribers 1000]
     [--documents 100] [--rate 200] [--seconds 20] [--rounds 2]

On the demo's data (10,000 users, 200,000 posts), one server process at a time: `fraiseql
serve` of benchmarks.bench_app (the blog's Subscription.user: Repository.watch on qm_user,
told of changes by NOTIFY) and a Strawberry subscription polling qm_user every second
(benchmarks/peers/strawberry_live_app.py; Hasura's live queries poll at that interval too).
A client process opens the subscribers over 50 WebSocket connections (graphql-transport-ws),
`user(id)` spread evenly over documents 1..documents; then the writer sets the title of each
document's newest post, `rate` times a second round robin, the title carrying the write's
number, and records when its commit returned (CLOCK_MONOTONIC, the same in every process).

Latency: a message's arrival minus the commit of the newest write it shows (a subscriber
may skip a write when a newer one arrives first: newest state wins; counted as coalesced).
Server CPU per delivered message: the server process's utime+stime over the writes, divided
by the messages the client received. Memory per idle subscription: the server's RSS growth
from before the subscribers to after their first documents, divided by their number.
Rounds alternate the servers; the medians of the rounds are printed. --baseline DIR serves
DIR's fraiseql in place of Strawberry (before/after a change, interleaved).

--stages: fraiseql alone, served by benchmarks.live_stages_app (timestamps at each stage),
and where the time of a message goes: the commit to the hub's notification, the wait for
the re-read, the re-read, the fan-out to the watchers, each message's wait for its send,
the send, and from the send to the client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

QUERY = "subscription { user(id: %d) { id firstName userPosts { id title } } }"
CONNECTIONS = 50
_SEQ = re.compile(r'"title":"w(\d+)"')
_DOC = re.compile(r'"id":"(\d+)-(\d+)"')


# ---------------------------------------------------------------- the client process


async def client(url: str, subscribers: int, documents: int) -> None:
    """Subscribe, print "ready" once every first document arrived, record until stdin
    says stop, then print the records: [document, newest write shown, arrival]."""
    import websockets

    records: list[tuple[int, int, float]] = []
    ready = asyncio.Event()
    first = 0

    async def connection(index: int) -> None:
        nonlocal first
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            await ws.recv()
            for n in range(index, subscribers, CONNECTIONS):
                doc = n % documents + 1
                message = {
                    "type": "subscribe",
                    "id": f"{doc}-{n}",
                    "payload": {"query": QUERY % doc},
                }
                await ws.send(json.dumps(message))
            greeted: set[str] = set()
            async for text in ws:
                now = time.monotonic()
                found = _DOC.search(text)
                if found is None:
                    continue
                if found.group(0) not in greeted:  # its first document: the current one
                    if '"data":{"user":{' not in text:
                        print(f"error: {text[:300]}", flush=True)
                        os._exit(1)
                    greeted.add(found.group(0))
                    first += 1
                    if first == subscribers:
                        ready.set()
                    continue
                seqs = _SEQ.findall(text)
                if seqs:
                    records.append((int(found.group(1)), max(map(int, seqs)), now))

    tasks = [asyncio.ensure_future(connection(i)) for i in range(CONNECTIONS)]
    await ready.wait()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    print(json.dumps(records), flush=True)
    for task in tasks:
        task.cancel()


# ---------------------------------------------------------------- the measuring process


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def newest_posts(dsn: str, documents: int) -> dict[int, int]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    rows = await conn.fetch(
        "SELECT id, (data->'user_posts'->0->>'id')::int AS post FROM qm_user "
        "WHERE id <= $1 ORDER BY id",
        documents,
    )
    await conn.close()
    return {r["id"]: r["post"] for r in rows}


async def write(
    dsn: str, posts: dict[int, int], rate: float, seconds: float, start: int
) -> dict[int, float]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    docs = sorted(posts)
    commits: dict[int, float] = {}
    began = time.monotonic()
    for i in range(int(rate * seconds)):
        seq = start + i
        await asyncio.sleep(max(0.0, began + i / rate - time.monotonic()))
        await conn.execute(
            "UPDATE tb_post SET title = $1 WHERE id = $2", f"w{seq}", posts[docs[i % len(docs)]]
        )
        commits[seq] = time.monotonic()
    await conn.close()
    return commits


def measure(
    name: str, command: list[str], dsn: str, args: argparse.Namespace, start: int, cwd: Path
) -> dict[str, float]:
    from bench_graphql import free_port, wait_listening
    from bench_serve import cpu_seconds

    port = free_port()
    command = [part.replace("__PORT__", str(port)) for part in command]
    stages_file = ROOT / "build" / f"live_stages_{os.getpid()}.json"
    env = {**os.environ, "FRAISEQL_BENCH_DSN": dsn, "FRAISEQL_LIVE_STAGES": str(stages_file)}
    server = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_listening(server, port, name)
        time.sleep(1)
        rss_before = rss_kb(server.pid)
        clients = subprocess.Popen(
            [sys.executable, __file__, "--client", f"ws://127.0.0.1:{port}/graphql",
             "--subscribers", str(args.subscribers), "--documents", str(args.documents)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert clients.stdout is not None and clients.stdin is not None
        said = clients.stdout.readline().strip()
        if said != "ready":
            raise RuntimeError(f"{name}: the subscribers did not get their documents: {said}")
        time.sleep(1)
        rss_after = rss_kb(server.pid)
        posts = asyncio.run(newest_posts(dsn, args.documents))
        cpu = cpu_seconds(server.pid)
        commits = asyncio.run(write(dsn, posts, args.rate, args.seconds, start))
        time.sleep(2.5)  # the last writes reach pollers too
        cpu = cpu_seconds(server.pid) - cpu
        clients.stdin.write("stop\n")
        clients.stdin.flush()
        records = json.loads(clients.stdout.readline())
        clients.wait(30)
    finally:
        server.terminate()
        server.wait(30)
    latencies = sorted(t - commits[seq] for _, seq, t in records if seq in commits)
    per_doc = args.subscribers / args.documents
    expected = len(commits) * per_doc
    stages = {}
    if stages_file.exists():
        stages = stage_times(json.loads(stages_file.read_text()), commits, records)
        stages_file.unlink()
    return {
        **stages,
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1e3,
        "delivered": len(latencies),
        "coalesced_pct": 100 * (1 - len(latencies) / expected),
        "cpu_us_per_message": cpu / max(len(latencies), 1) * 1e6,
        "kb_per_idle_subscription": (rss_after - rss_before) / args.subscribers,
    }


STAGES = (
    "commit -> notified",
    "notified -> read starts",
    "re-read",
    "read -> watchers have it",
    "watchers -> send starts",
    "send",
    "send ends -> client (medians per write)",
    "event loop lag (a 5 ms timer's lateness)",
)


def stage_times(
    stages: dict[str, list[list[float]]],
    commits: dict[int, float],
    records: list[tuple[int, int, float]],
) -> dict[str, float]:
    """p50 and p99 in ms of each stage, from live_stages_app's timestamps (CLOCK_MONOTONIC
    in every process) of the writes whose commit was recorded."""
    spans: dict[str, list[float]] = {name: [] for name in STAGES}
    delivered: dict[int, float] = {}
    for seq, notified, start, end, done in stages["reads"]:
        # A title of an earlier run on the same database may carry a number of this one:
        # only reads notified after that number's commit are its.
        if seq in commits and notified >= commits[seq]:
            spans[STAGES[0]].append(notified - commits[seq])
            spans[STAGES[1]].append(start - notified)
            spans[STAGES[2]].append(end - start)
            spans[STAGES[3]].append(done - end)
            delivered[seq] = done
    sent: dict[int, list[float]] = {}
    for seq, start, end in stages["sends"]:
        if seq in delivered and start >= delivered[seq]:
            spans[STAGES[4]].append(start - delivered[seq])
            spans[STAGES[5]].append(end - start)
            sent.setdefault(seq, []).append(end)
    arrivals: dict[int, list[float]] = {}
    for _, seq, t in records:
        arrivals.setdefault(seq, []).append(t)
    for seq, ends in sent.items():  # a write's median arrival against its median send end
        if seq in arrivals:
            spans[STAGES[6]].append(statistics.median(arrivals[seq]) - statistics.median(ends))
    spans[STAGES[7]] = stages["lags"]
    out = {}
    for name, values in spans.items():
        values.sort()
        if values:
            out[f"{name} p50"] = statistics.median(values) * 1e3
            out[f"{name} p99"] = values[max(int(len(values) * 0.99) - 1, 0)] * 1e3
    return out


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--dsn", help="database holding (or to receive) the demo data")
    p.add_argument("--subscribers", type=int, default=1000)
    p.add_argument("--documents", type=int, default=100)
    p.add_argument("--rate", type=float, default=200, help="writes per second")
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--stages", action="store_true", help="fraiseql alone, timed per stage")
    p.add_argument(
        "--baseline",
        type=Path,
        help="a source tree (with its built extension) whose fraiseql is served instead of "
        "Strawberry, e.g. `git archive main` unpacked: before/after in interleaved rounds",
    )
    p.add_argument("--client", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.client:
        asyncio.run(client(args.client, args.subscribers, args.documents))
        return
    from contextlib import nullcontext

    from fraiseql.demo import setup
    from fraiseql.embedded import EmbeddedPostgres

    servers = {
        "fraiseql (NOTIFY)": [sys.executable, "-m", "fraiseql.cli", "serve", "benchmarks.bench_app:app",
                              "--port", "__PORT__", "--log-level", "warning"],
        "Strawberry, polling qm_user every 1 s": [sys.executable, "-m", "uvicorn",
            "benchmarks.peers.strawberry_live_app:app", "--port", "__PORT__", "--log-level", "warning"],
    }  # fmt: skip
    if args.stages:
        servers = {"fraiseql (NOTIFY), timed per stage": [sys.executable, "-m", "fraiseql.cli",
                   "serve", "benchmarks.live_stages_app:app", "--port", "__PORT__",
                   "--log-level", "warning"]}  # fmt: skip
    if args.baseline:  # this tree's fraiseql against another's, in alternating rounds
        fraiseql_server = servers["fraiseql (NOTIFY)"]
        servers = {
            "fraiseql (NOTIFY)": fraiseql_server,
            f"baseline {args.baseline}": fraiseql_server,
        }
    results: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
    with nullcontext() if args.dsn else EmbeddedPostgres() as pg:
        dsn = args.dsn or pg.create_database("fraiseql_bench_live")
        asyncio.run(setup(dsn))
        start = int(time.time())  # write numbers unique across runs on the same database
        for _ in range(args.rounds):
            for name, command in servers.items():
                cwd = args.baseline if name.startswith("baseline") else ROOT
                results[name].append(measure(name, command, dsn, args, start, cwd))
                start += int(args.rate * args.seconds) + 1
    print(
        f"\n## Live queries: {args.subscribers} subscribers on {args.documents} qm_user documents, "
        f"{args.rate:.0f} writes/s to tb_post for {args.seconds:.0f} s (medians of {args.rounds} rounds)\n"
    )
    print(
        "| server | p50 ms | p99 ms | messages | coalesced | server CPU us/message | KB/idle subscription |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, rows in results.items():
        m = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        print(
            f"| {name} | {m['p50_ms']:.1f} | {m['p99_ms']:.1f} | {m['delivered']:.0f} | "
            f"{m['coalesced_pct']:.1f}% | {m['cpu_us_per_message']:.0f} | "
            f"{m['kb_per_idle_subscription']:.1f} |"
        )
    if args.stages:
        print("\n| stage | p50 ms | p99 ms |\n|---|---:|---:|")
        rows = results[next(iter(results))]
        for stage in STAGES:
            if f"{stage} p50" in rows[0]:
                p50 = statistics.median(r[f"{stage} p50"] for r in rows)
                p99 = statistics.median(r[f"{stage} p99"] for r in rows)
                print(f"| {stage} | {p50:.2f} | {p99:.2f} |")


if __name__ == "__main__":
    main()
