"""Cancelling the requests whose HTTP client went away (uvicorn never cancels the app).

A request still running after a few milliseconds gets a watcher task that waits on the
ASGI `receive` for `http.disconnect` and then cancels the request's task, which cancels its
pooled reads on the server (fraiseql.db.connection). One timer serves every request, so a
request that is answered before it fires pays a dict insert and delete, nothing more.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]

# Period of the sweep: a request is watched once it has run between one and two periods.
SWEEP_SECONDS = 0.005


class DisconnectWatch:
    """The requests executing now (after their body was read: the watcher must not take
    body chunks from receive), each with its receive, or its watcher once it has one."""

    def __init__(self, period: float = SWEEP_SECONDS) -> None:
        self.period = period
        self._running: dict[asyncio.Task[Any], Any] = {}  # task -> (receive, sweep) or watcher
        # cancelled because their client left (weak: a task that swallowed it is not kept)
        self._gone: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()
        self._sweeps = 0
        self._timer: asyncio.TimerHandle | None = None

    def enter(self, receive: Receive) -> asyncio.Task[Any]:
        """The current request executes from now on; returns its task for leave()."""
        task = asyncio.current_task()
        assert task is not None
        self._running[task] = (receive, self._sweeps)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.period, self._sweep)
        return task

    def leave(self, task: asyncio.Task[Any]) -> None:
        """The request has its answer (or failed): stop watching it."""
        entry = self._running.pop(task, None)
        if type(entry) is not tuple and entry is not None:
            entry.cancel()

    def client_gone(self, task: asyncio.Task[Any]) -> bool:
        """Whether `task`'s cancellation came from its client's disconnect (then it is
        taken back, so the task ends normally with nobody to answer)."""
        if task not in self._gone:
            return False
        self._gone.discard(task)
        task.uncancel()
        return True

    def _sweep(self) -> None:
        self._sweeps += 1
        for task, entry in list(self._running.items()):
            # entered before the previous sweep: running for at least one period
            if type(entry) is tuple and entry[1] < self._sweeps - 1:
                self._running[task] = asyncio.ensure_future(self._watch(task, entry[0]))
        self._timer = None
        if self._running:
            self._timer = asyncio.get_running_loop().call_later(self.period, self._sweep)

    async def _watch(self, task: asyncio.Task[Any], receive: Receive) -> None:
        try:
            while (await receive())["type"] != "http.disconnect":
                pass  # a GET's empty body comes first
        except Exception:  # noqa: BLE001 - a host whose receive fails after the body: unwatched
            return
        if self._running.get(task) is asyncio.current_task() and not task.done():
            self._gone.add(task)
            task.cancel()
