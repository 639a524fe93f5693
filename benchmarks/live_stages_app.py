"""bench_app with timestamps at each stage of a live query's delivery (bench_live.py --stages).

Records, per re-read of a watched document, when its notification reached the hub, when
the read started and ended, and when its watchers had the value; per WebSocket message,
when its send started and ended; each tagged with the newest write ("w<seq>") it shows.
Written as JSON to $FRAISEQL_LIVE_STAGES at the app's lifespan shutdown (uvicorn ends
on SIGTERM by raising it again: no atexit). Benchmark only: it wraps
fraiseql.live and fraiseql.ws methods.
"""

import asyncio
import json
import os
import re
import time
from typing import Any

from benchmarks.bench_app import app as _app
from fraiseql import live, ws

_SEQ = re.compile(r'"title": ?"w(\d+)"')  # stored (jsonb's spaces) or sent
_notified: dict[int, float] = {}  # id(group) -> when its first pending notification came
# seq, when a refresh was first asked (a notification, or a first watcher), start, end, delivered
reads: list[tuple[int, float, float, float, float]] = []
sends: list[tuple[int, float, float]] = []  # seq, start, end


def _newest(text: str) -> int:
    return max(map(int, _SEQ.findall(text)), default=-1)


_refresh = live._Group.refresh


def refresh(self: live._Group) -> None:
    _notified.setdefault(id(self), time.monotonic())
    _refresh(self)


_fetch = live._Group._fetch


_deliver = live._Group._deliver


def deliver(self: live._Group, raw: bytes, *, changed: bool) -> None:
    _deliver(self, raw, changed=changed)
    seq = _newest(raw.decode())
    stage = _stages.pop(id(self), None)
    if stage is not None and stage[0] == seq:
        reads.append((*stage, time.monotonic()))


_stages: dict[int, tuple[int, float, float, float]] = {}


async def fetch_recorded(self: live._Group) -> bytes:
    notified = _notified.pop(id(self), float("nan"))
    start = time.monotonic()
    raw = await _fetch(self)
    _stages[id(self)] = (_newest(raw.decode()), notified, start, time.monotonic())
    return raw


_send_text = ws._Session._send_text


async def send_text(self: ws._Session, text: str) -> None:
    start = time.monotonic()
    await _send_text(self, text)
    sends.append((_newest(text), start, time.monotonic()))


live._Group.refresh = refresh  # type: ignore[method-assign]
live._Group._fetch = fetch_recorded  # type: ignore[method-assign]
live._Group._deliver = deliver  # type: ignore[method-assign]
ws._Session._send_text = send_text  # type: ignore[method-assign]


lags: list[float] = []  # how late the event loop ran a timer due every LAG_EVERY seconds
LAG_EVERY = 0.005


def _sample_lag(due: float) -> None:
    now = time.monotonic()
    lags.append(now - due)
    asyncio.get_running_loop().call_later(LAG_EVERY, _sample_lag, now + LAG_EVERY)


def _write() -> None:
    with open(os.environ["FRAISEQL_LIVE_STAGES"], "w") as out:
        json.dump({"reads": reads, "sends": sends, "lags": lags}, out)


async def app(scope: Any, receive: Any, send: Any) -> None:
    """bench_app, writing the records when the server shuts down."""
    if scope["type"] != "lifespan":
        return await _app(scope, receive, send)

    async def received() -> Any:
        message = await receive()
        if message["type"] == "lifespan.startup":
            _sample_lag(time.monotonic())
        if message["type"] == "lifespan.shutdown":
            _write()
        return message

    return await _app(scope, received, send)
