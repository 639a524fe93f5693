"""Python memory per idle live subscription, by file: what bench_live's RSS figure is made of.

Run: .venv/bin/python benchmarks/live_memory.py [--dsn DSN] [--subscribers 1000] [--top 12]

Serves the demo's app (its data loaded as bench_live.py loads it) in this process under
uvicorn, warms it with one subscriber per document (plans, groups, the pool), then has a
client process open `subscribers` more over 50 WebSocket connections (bench_live's
`user(id)` over documents 1..100) and reports tracemalloc's growth until their first
documents arrived, per subscription. Run it from another source tree (its directory first
on sys.path) to compare: `cd /tmp/base && python /path/to/benchmarks/live_memory.py`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # support.http_server: uvicorn in a thread
sys.path.insert(0, os.getcwd())  # the fraiseql of the tree it is run from

CLIENT = r"""
import asyncio, json, sys, websockets
QUERY = "subscription { user(id: %d) { id firstName userPosts { id title } } }"
async def main(url, n):
    conns = []
    for _ in range(50):
        ws = await websockets.connect(url, subprotocols=["graphql-transport-ws"])
        await ws.send(json.dumps({"type": "connection_init"}))
        await ws.recv()
        conns.append(ws)
    for i in range(n):
        payload = {"query": QUERY % (i % 100 + 1)}
        await conns[i % 50].send(json.dumps({"type": "subscribe", "id": str(i), "payload": payload}))
    got = 0
    async def read(ws):
        nonlocal got
        while True:
            await ws.recv()
            got += 1
    readers = [asyncio.ensure_future(read(ws)) for ws in conns]
    while got < n:
        await asyncio.sleep(0.05)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def subscribe(url: str, n: int) -> subprocess.Popen[str]:
    """A client process holding `n` subscriptions, once their first documents arrived."""
    client = subprocess.Popen(
        [sys.executable, "-c", CLIENT, url, str(n)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert client.stdout is not None
    said = client.stdout.readline().strip()
    if said != "ready":
        raise RuntimeError(f"the subscribers did not get their documents: {said!r}")
    return client


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dsn", default="postgresql://postgres@127.0.0.1/fraiseql_bench_live")
    p.add_argument("--subscribers", type=int, default=1000)
    p.add_argument("--top", type=int, default=12)
    args = p.parse_args()
    import asyncio

    from support.http_server import serve

    import fraiseql
    from fraiseql.demo import setup
    from fraiseql.examples import blog_api  # noqa: F401 - declares the blog's API

    asyncio.run(setup(args.dsn))
    with serve(fraiseql.create_app(args.dsn)) as base:
        url = base.replace("http://", "ws://") + "/graphql"
        warm = subscribe(url, 100)
        time.sleep(1)
        tracemalloc.start(1)
        before = tracemalloc.take_snapshot()
        client = subscribe(url, args.subscribers)
        time.sleep(1)
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        for process in (client, warm):
            process.kill()
    stats = after.compare_to(before, os.environ.get("LIVE_MEMORY_BY", "filename"))
    n = args.subscribers
    print(f"fraiseql from {Path(fraiseql.__file__).parent}")
    print(f"{sum(s.size_diff for s in stats) / n:.0f} B of Python per idle subscription")
    for s in stats[: args.top]:
        print(
            f"{s.size_diff / n:8.0f} B {s.count_diff / n:6.2f} objects  {s.traceback[0].filename}"
        )


if __name__ == "__main__":
    main()
