"""GraphQL over WebSocket: the graphql-transport-ws protocol (what the `graphql-ws` client and
Apollo's and urql's WebSocket links speak), served from ASGI websocket events at the app's
GraphQL path.

The connection_init payload reaches `context_getter` as `request.connection_params`; a
context_getter raising PermissionError refuses the connection (4403). Close codes are the
protocol's: 4400 invalid message (also one over `max_message_bytes`), 4401 subscribe before
the acknowledgement, 4403 forbidden, 4408 no connection_init within `init_timeout`, 4409 a
subscription id already running, 4429 a second connection_init; 4500 an unexpected failure,
1013 the database unavailable at connection_init. A subscribe beyond `max_subscriptions`
gets the protocol's `error` message and the connection carries on. A client that leaves a
message unread for `send_timeout` seconds is dropped: its subscriptions stop, nothing piles
up (a subscription sends its newest value only, see fraiseql.live).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from graphql import GraphQLError

from fraiseql import bounded_json, tracing
from fraiseql.errors import PoolOverloadedError
from fraiseql.executor import Response, dumps
from fraiseql.masking import format_errors, internal_error
from fraiseql.observe import ERROR, OK, REJECTED
from fraiseql.subscriptions import Refused, open_stream

if TYPE_CHECKING:
    from fraiseql.http import GraphQLApp, Receive, Scope, Send

logger = logging.getLogger("fraiseql.ws")

SUBPROTOCOL = "graphql-transport-ws"

BAD_REQUEST = 4400
UNAUTHORIZED = 4401
FORBIDDEN = 4403
INIT_TIMEOUT = 4408
SUBSCRIBER_EXISTS = 4409
TOO_MANY_INITS = 4429
INTERNAL = 4500
TRY_AGAIN_LATER = 1013  # RFC 6455's code for a server that cannot serve yet
# A close frame's reason holds at most 123 bytes (RFC 6455, 5.5).
_MAX_REASON = 123


@dataclass(frozen=True)
class WebSocketLimits:
    """What one WebSocket connection may do (`create_app(websocket_limits=...)`)."""

    init_timeout: float = 3.0  # seconds from the upgrade to connection_init (4408)
    max_subscriptions: int = 100  # operations running at once on one connection
    max_message_bytes: int = 1 << 20  # a bigger message closes the connection (4400)
    send_timeout: float = 30.0  # a client that does not read for this long is dropped


_ERRORS_FIRST = b'{"errors"'  # a response with errors (format_response writes them first)


class _Observed:
    """Metrics and tracing of one operation over the socket, as an HTTP request gets them
    (counted, and its span ended, at its first answer: a subscription's first event), and
    of each subscription event."""

    __slots__ = ("metrics", "tracer", "plan", "started", "request")

    def __init__(self, metrics: Any, tracer: Any, plan: Any) -> None:
        self.metrics = metrics
        self.tracer = tracer
        self.plan = plan
        self.started: float | None = time.perf_counter()
        self.request = None if tracer is None else tracing.begin_request(tracer)

    @classmethod
    def of(cls, app: GraphQLApp, query: str, operation_name: str | None) -> _Observed | None:
        """The observation of an operation of `app`; None when it has neither."""
        tracer = app.tracing.tracer() if app.tracing is not None else None
        if app.metrics is None and tracer is None:
            return None
        # The executor's cached plan (open_stream looks it up again): its operation's type.
        return cls(app.metrics, tracer, app.executor.plan(query, operation_name))

    def answered(self, outcome: int) -> None:
        """The operation's first answer (later calls: nothing)."""
        if self.started is None:
            return
        seconds, self.started = time.perf_counter() - self.started, None
        if self.request is not None:
            tracing.end_request(self.request, self.plan, None)
        if self.metrics is not None:
            self.metrics.count(self.plan, outcome, seconds)

    async def event(self, sending: Any, body: bytes) -> None:
        """Await one event's message `sending`, counted and in a span of its own."""
        ok = not body.startswith(_ERRORS_FIRST)
        self.answered(OK if ok else ERROR)
        span = None if self.tracer is None else tracing.begin_event(self.tracer, self.plan)
        started = time.perf_counter()
        try:
            await sending
        finally:
            if span is not None:
                span.end()
            if self.metrics is not None:
                self.metrics.event(ok, time.perf_counter() - started)


def _answered(seen: _Observed | None, outcome: int) -> None:
    if seen is not None:
        seen.answered(outcome)


class _Close(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason.encode()[:_MAX_REASON].decode(errors="ignore")


async def serve_websocket(app: GraphQLApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one WebSocket connection of `app` (its __call__ hands websocket scopes here)."""
    from fraiseql.http import _mount_path

    message = await receive()
    if message["type"] != "websocket.connect":
        return
    _, path = _mount_path(scope)
    if path != app.path or SUBPROTOCOL not in scope.get("subprotocols", ()):
        await send({"type": "websocket.close", "code": 1002})  # the handshake answers 403
        return
    await send({"type": "websocket.accept", "subprotocol": SUBPROTOCOL})
    metrics = app.metrics
    if metrics is not None:
        metrics.websocket_connections += 1
    try:
        await _Session(app, scope, receive, send).run()
    finally:
        if metrics is not None:
            metrics.websocket_connections -= 1


class _Session:
    def __init__(self, app: GraphQLApp, scope: Scope, receive: Receive, send: Send) -> None:
        self.app = app
        self.limits: WebSocketLimits = app.websocket_limits
        self.scope = scope
        self._receive = receive
        self._send = send
        self._sending = asyncio.Lock()
        self.initialised = False  # connection_init received
        self.context: dict[str, Any] | None = None  # set by the acknowledgement
        self.operations: dict[str, asyncio.Task[None]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._expired = False  # no connection_init in time
        self._send_started: float | None = None  # loop time the send in progress began
        self._watchdog: asyncio.TimerHandle | None = None  # see _watch_send

    async def run(self) -> None:
        # Timers cancel the reader rather than asyncio.wait_for wrapping it: wait_for can
        # swallow a cancellation that arrives as its inner await completes (Python < 3.12).
        loop = asyncio.get_running_loop()
        self._reader = asyncio.ensure_future(self._read())
        timer = loop.call_later(self.limits.init_timeout, self._init_expired)
        try:
            await self._reader
        except asyncio.CancelledError:  # by a timer: no connection_init, or a stuck client
            if not self._reader.cancelled():
                raise
        finally:
            timer.cancel()
            if self._watchdog is not None:
                self._watchdog.cancel()
            tasks = list(self.operations.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._expired:
            await self._close(INIT_TIMEOUT, "Connection initialisation timeout")

    def _init_expired(self) -> None:
        if not self.initialised and self._reader is not None:
            self._expired = True
            self._reader.cancel()

    async def _read(self) -> None:
        try:
            while True:
                message = await self._receive()
                if message["type"] == "websocket.disconnect":
                    return
                if message["type"] == "websocket.receive":
                    await self._dispatch(self._parse(message))
        except _Close as close:
            await self._close(close.code, close.reason)

    def _parse(self, message: dict[str, Any]) -> dict[str, Any]:
        data = message.get("text")
        if data is None:
            data = message.get("bytes") or b""
        size = len(data) if isinstance(data, bytes) else len(data.encode())
        if size > self.limits.max_message_bytes:
            raise _Close(
                BAD_REQUEST, f"Message of {size} bytes exceeds {self.limits.max_message_bytes}"
            )
        try:
            parsed = bounded_json.loads(data, self.app.max_json_depth)
        except ValueError as exc:
            raise _Close(BAD_REQUEST, f"Invalid message received: {exc}") from None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
            raise _Close(BAD_REQUEST, "Invalid message received: an object with a 'type'")
        return parsed

    async def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "connection_init":
            await self._init(message.get("payload"))
        elif kind == "ping":
            await self._send_json({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "subscribe":
            await self._subscribe(message)
        elif kind == "complete":
            op_id = message.get("id")
            if not isinstance(op_id, str):
                raise _Close(BAD_REQUEST, "Invalid message received: complete needs a string id")
            task = self.operations.pop(op_id, None)
            if task is not None:
                task.cancel()
        else:
            raise _Close(BAD_REQUEST, f"Invalid message received: unknown type {kind!r}")

    async def _init(self, payload: Any) -> None:
        if self.initialised:
            raise _Close(TOO_MANY_INITS, "Too many initialisation requests")
        self.initialised = True
        if payload is not None and not isinstance(payload, dict):
            raise _Close(BAD_REQUEST, "Invalid message received: the payload must be an object")
        from fraiseql.http import HTTPError, Request, _headers

        headers = _headers(self.scope)
        query = self.scope.get("query_string", b"").decode("latin-1")
        request = Request(
            "GET",
            self.scope["path"],
            headers,
            {k: v[-1] for k, v in parse_qs(query).items()},
            self.scope.get("client"),
            self.scope,
            connection_params=payload or {},
        )
        try:
            db = await self.app._db()
            self.context = await self.app._context(request, db)
        except PermissionError as exc:
            raise _Close(FORBIDDEN, f"Forbidden: {exc}" if str(exc) else "Forbidden") from None
        except HTTPError as exc:  # the database cannot be reached: the client retries later
            raise _Close(TRY_AGAIN_LATER, exc.message) from None
        except Exception as exc:  # noqa: BLE001 - a bug of context_getter: logged, masked
            internal_error(exc, debug=self.app.executor.debug)
            raise _Close(INTERNAL, "Internal server error") from None
        await self._send_json({"type": "connection_ack"})

    async def _subscribe(self, message: dict[str, Any]) -> None:
        if self.context is None:
            raise _Close(UNAUTHORIZED, "Unauthorized")
        op_id, payload = message.get("id"), message.get("payload")
        if not isinstance(op_id, str) or not op_id:
            raise _Close(BAD_REQUEST, "Invalid message received: subscribe needs a string id")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            raise _Close(BAD_REQUEST, "Invalid message received: subscribe needs a query")
        variables, name = payload.get("variables"), payload.get("operationName")
        if variables is not None and not isinstance(variables, dict):
            raise _Close(BAD_REQUEST, "Invalid message received: variables must be an object")
        if name is not None and not isinstance(name, str):
            raise _Close(BAD_REQUEST, "Invalid message received: operationName must be a string")
        if op_id in self.operations:
            raise _Close(SUBSCRIBER_EXISTS, f"Subscriber for {op_id} already exists")
        if len(self.operations) >= self.limits.max_subscriptions:
            # Answered by the reader itself: a client flooding subscribes while not reading
            # stops being read, instead of piling up answers.
            limit = self.limits.max_subscriptions
            error = {"message": f"Too many operations on this connection: at most {limit} at once."}
            await self._send_message(op_id, "error", dumps([error]))
            return
        task = asyncio.ensure_future(self._operation(op_id, payload["query"], variables, name))
        self.operations[op_id] = task

    async def _operation(
        self, op_id: str, query: str, variables: Any, operation_name: str | None
    ) -> None:
        debug = self.app.executor.debug
        context = dict(self.context or {})  # resolvers may write to theirs
        seen = _Observed.of(self.app, query, operation_name)
        try:
            result = await open_stream(self.app.executor, query, variables, operation_name, context)
            if isinstance(result, Refused):
                await self._send_message(op_id, "error", dumps(result.errors))
                _answered(seen, REJECTED)
                return
            if isinstance(result, Response):
                if result.request_error:  # {"errors": [...]}: the protocol's error message
                    errors = json.loads(result.body)["errors"]
                    await self._send_message(op_id, "error", dumps(errors))
                    _answered(seen, REJECTED)
                    return
                await self._send_message(op_id, "next", result.body)
                _answered(seen, ERROR if result.has_errors else OK)
            else:  # a subscription's stream: each response a `next` message
                metrics = self.app.metrics
                if metrics is not None:
                    metrics.subscriptions += 1
                try:  # here, not in a method of its own: a frame less per subscription
                    async for body in result:
                        if seen is None:
                            await self._send_message(op_id, "next", body)
                        else:
                            await seen.event(self._send_message(op_id, "next", body), body)
                        del body  # not kept while the subscription waits for its next event
                finally:
                    if metrics is not None:
                        metrics.subscriptions -= 1
                    await result.aclose()
            await self._send_message(op_id, "complete")
            _answered(seen, OK)  # a stream that ended without an event
        except asyncio.CancelledError:
            _answered(seen, REJECTED)  # as an HTTP request whose client left (499)
            raise
        except PoolOverloadedError as exc:
            error = {"message": str(exc) if debug else "Server overloaded; retry later."}
            error["extensions"] = {"code": "OVERLOADED"}
            await self._send_message(op_id, "error", dumps([error]))
            _answered(seen, ERROR)
        except Exception as exc:  # noqa: BLE001 - the generator failed: that operation only
            error = (
                exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)
            )
            await self._send_message(op_id, "error", dumps(format_errors([error], debug=debug)))
            _answered(seen, ERROR)
        finally:  # here rather than a done callback: no closure kept per operation
            if self.operations.get(op_id) is asyncio.current_task():
                del self.operations[op_id]

    # ------------------------------------------------------------ sending

    async def _send_message(self, op_id: str, kind: str, payload: bytes | None = None) -> None:
        text = '{"id":' + json.dumps(op_id) + ',"type":"' + kind + '"'
        if payload is not None:
            text += ',"payload":' + payload.decode() + "}"
        else:
            text += "}"
        await self._send_text(text)

    async def _send_json(self, message: dict[str, Any]) -> None:
        await self._send_text(json.dumps(message, separators=(",", ":")))

    async def _send_text(self, text: str) -> None:
        async with self._sending:
            # One watchdog timer per session, not one per message: a timer made and
            # cancelled per message cost each live event a heap push (bench_live --stages).
            loop = asyncio.get_running_loop()
            self._send_started = loop.time()
            if self._watchdog is None:
                self._watchdog = loop.call_at(
                    self._send_started + self.limits.send_timeout, self._watch_send
                )
            try:
                await self._send({"type": "websocket.send", "text": text})
            finally:
                self._send_started = None

    def _watch_send(self) -> None:
        """Drop the client if a send has waited send_timeout; else look again when the one
        in progress, if any, would have."""
        self._watchdog = None
        started = self._send_started
        if started is None:
            return
        due = started + self.limits.send_timeout
        loop = asyncio.get_running_loop()
        if loop.time() < due:
            self._watchdog = loop.call_at(due, self._watch_send)
        else:
            self._drop()

    def _drop(self) -> None:
        """The client read nothing for send_timeout: end the session (and its operations)."""
        logger.warning(
            "fraiseql: dropping a WebSocket client that read nothing for %ss",
            self.limits.send_timeout,
        )
        if self._reader is not None:
            self._reader.cancel()

    async def _close(self, code: int, reason: str) -> None:
        try:
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
        except Exception:  # noqa: BLE001 - the client may be gone already
            logger.debug("close %s after the client left", code)
