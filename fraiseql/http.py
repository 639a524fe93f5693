"""GraphQL over HTTP as a plain ASGI application (no web framework).

Follows the GraphQL-over-HTTP specification: POST with `application/json`, GET for queries
only, `application/graphql-response+json` (request errors answer 4xx) or `application/json`
(every well-formed request answers 200), chosen from the Accept header. Also: a GraphiQL page
for browsers, a health endpoint, automatic persisted queries, and limits on everything a
client controls (body size, depth, aliases, fields, tokens, introspection).

Mountable in any ASGI host (FastAPI, Starlette): paths are relative to the scope's
`root_path`, and the pool opens on the first request when the host sends no lifespan events.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from inspect import isawaitable
from typing import Any
from urllib.parse import parse_qs

from graphql import GraphQLSchema, OperationType

from fraiseql import bounded_json
from fraiseql import tracing as _tracing
from fraiseql.accept import negotiate
from fraiseql.disconnect import DisconnectWatch
from fraiseql.errors import OperationalError, PoolOverloadedError
from fraiseql.executor import Executor, dumps
from fraiseql.graphiql import check_assets, graphiql_page
from fraiseql.lru import LRUCache
from fraiseql.masking import internal_error
from fraiseql.observe import PLAN, RESPONSE, SPAN, STARTED, Observation
from fraiseql.plan import Limits
from fraiseql.plan_cache import DEFAULT_CACHE_BYTES, DEFAULT_CACHE_SIZE
from fraiseql.sources import check_sources
from fraiseql.types import Registry
from fraiseql.ws import WebSocketLimits, serve_websocket

logger = logging.getLogger("fraiseql.http")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON_TYPE = "application/json"
# What the endpoint answers in, in the order that breaks ties: application/json first, for
# the clients the spec says to assume when Accept is missing or `*/*`.
MEDIA_TYPES = (JSON_TYPE, GRAPHQL_RESPONSE)
HTML_TYPE = "text/html"
DATABASE_UNAVAILABLE = "Database unavailable: could not open a connection; retry later."
OVERLOADED = "Server overloaded: too many requests wait for a database connection; retry later."
# Seconds an overloaded server asks clients to wait before retrying (the 503's Retry-After).
OVERLOADED_RETRY_AFTER = 1

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class Request:
    """What a `context_getter` sees of the HTTP request."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    query_params: dict[str, str]
    client: tuple[str, int] | None
    scope: Scope = field(repr=False)
    # A WebSocket connection's connection_init payload (see fraiseql.ws); None over HTTP.
    connection_params: dict[str, Any] | None = None


class HTTPError(Exception):
    """A request rejected before execution: status, message, optional headers."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.code = code


def _error_body(message: str, code: str | None = None) -> bytes:
    error: dict[str, Any] = {"message": message}
    if code:
        error["extensions"] = {"code": code}
    return dumps({"errors": [error]})


@functools.lru_cache(maxsize=256)  # clients send a handful of distinct headers; parsing is ~10 us
def _negotiated(accept: str | None, offers: tuple[str, ...] = MEDIA_TYPES) -> str | None:
    return negotiate(accept, offers)


def _wants_page(accept: str | None) -> bool:
    """A browser: the Accept header prefers HTML to both JSON types."""
    return accept is not None and _negotiated(accept, (*MEDIA_TYPES, HTML_TYPE)) == HTML_TYPE


def _media_type(accept: str | None) -> str:
    """The response media type the Accept header prefers (406 when it accepts neither)."""
    media = _negotiated(accept)
    if media is None:
        raise HTTPError(
            406,
            f"Not acceptable: {accept!r}; this server answers {GRAPHQL_RESPONSE} or {JSON_TYPE}.",
        )
    return media


class GraphQLApp:
    """The ASGI application returned by `create_app`; hosts that mount it may await
    `startup()` and `shutdown()` from their own lifespan to open and close its pool."""

    def __init__(
        self,
        executor: Executor,
        *,
        pool: Any = None,
        database_url: str | None = None,
        context_getter: Callable[[Request], Any] | None = None,
        path: str = "/graphql",
        health_path: str = "/health",
        graphiql: bool = True,
        graphiql_assets: str | None = None,
        max_body_bytes: int = 1 << 20,
        max_json_depth: int = bounded_json.MAX_JSON_DEPTH,
        pool_options: Mapping[str, Any] | None = None,
        metrics: bool = False,
        metrics_path: str = "/metrics",
        tracing: _tracing.Tracing | None = None,
        websocket_limits: WebSocketLimits | None = None,
    ) -> None:
        self.executor = executor
        self.pool_options = dict(pool_options or {})
        self.pool = pool
        self.database_url = database_url
        self.context_getter = context_getter
        self.path = path
        self.health_path = health_path
        self.graphiql = graphiql
        self.graphiql_assets = graphiql_assets
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth
        self.persisted = LRUCache(executor.plans.maxsize)
        # Built now so that bad pool_options fail in create_app, opened on first use.
        self._unopened = self._new_pool() if pool is None and database_url is not None else None
        self._opening: asyncio.Task[Any] | None = None
        self._outage = False  # the last attempt to open failed: warn once per outage
        self.metrics_path = metrics_path
        self.metrics = None
        if metrics:
            from fraiseql.metrics import Metrics  # raises naming the extra when it is missing

            self.metrics = Metrics(executor, lambda: self.pool)
        self.tracing = tracing
        self.websocket_limits = websocket_limits or WebSocketLimits(
            max_message_bytes=max_body_bytes
        )
        self._disconnects = DisconnectWatch()
        self._commands_declared = not (executor.registry and executor.registry.commands)
        self._declaring = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] == "websocket":
            await serve_websocket(self, scope, receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            status, ctype, body, headers = await self._handle(scope, receive)
        except Exception as exc:  # before the media type is known: application/json
            status, ctype, body, headers = self._failure(exc, JSON_TYPE)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and self._disconnects.client_gone(task):
                return  # the client went away: its query was cancelled, nobody to answer
            raise
        raw_headers = [
            (b"content-type", f"{ctype}; charset=utf-8".encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        """Open the pool of `database_url` now, then check every type's sql_source against
        the database (`fraiseql.SchemaError` naming the type, view, column or field); the ASGI
        lifespan runs it, and hosts that run their own lifespan await it there.

        Without it the first request opens the pool (unchecked). A database that is down
        does not stop the host: requests answer 503 and retry opening until it is back, and
        the check waits for the next start.
        """
        try:
            pool = await self._db()
        except HTTPError:
            return  # logged by _open_pool; the next request tries again
        if pool is not None:
            try:
                await self._declare_commands(pool)
                await check_sources(self.executor.schema, pool)
            except OperationalError as exc:  # down after all: serve, as above
                logger.warning("fraiseql: cannot check the sql_sources (%s)", exc)

    async def shutdown(self) -> None:
        """Close the pool this app opened (hosts call it from their lifespan's exit)."""
        if self._opening is not None:
            await asyncio.gather(self._opening, return_exceptions=True)
        if self.pool is not None and self.database_url is not None:
            await self.pool.close()
            self.pool = None

    def _new_pool(self) -> Any:
        from fraiseql.db import create_pool

        return create_pool(self.database_url, **self.pool_options)

    async def _declare_commands(self, pool: Any) -> None:
        """Declare the commands `fraiseql.expose` generates (their tables read once, before
        the first request that needs the schema): concurrent first requests wait for it."""
        if self._commands_declared:
            return
        async with self._declaring:
            if not self._commands_declared:
                await self.executor.load_commands(pool)
                self._commands_declared = True

    async def _db(self) -> Any:
        """The pool for `context["db"]`, opened once: concurrent first requests share one
        attempt, and a failed attempt is a 503 for its requests and retried by the next."""
        if self.pool is not None or self.database_url is None:
            if self.pool is not None and not self._commands_declared:
                await self._declare_commands(self.pool)
            return self.pool
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._open_pool())
            self._opening.add_done_callback(self._opened)
        # shielded: a client that disconnects does not cancel the attempt the others wait on
        error = await asyncio.shield(self._opening)
        if error is not None:
            # The database's own words name its host and port: logged, shown only in debug.
            detail = f" ({error})" if self.executor.debug else ""
            raise HTTPError(503, DATABASE_UNAVAILABLE + detail, code="DATABASE_UNAVAILABLE")
        await self._declare_commands(self.pool)
        return self.pool

    def _opened(self, task: asyncio.Task[Any]) -> None:
        self._opening = None  # before the waiters resume, so the next request starts afresh

    async def _open_pool(self) -> Exception | None:
        """Open a pool as self.pool; the error when that failed."""
        pool, self._unopened = self._unopened or self._new_pool(), None
        try:
            await pool
        except Exception as exc:  # a failed pool closed itself; the next attempt builds anew
            if not self._outage:
                logger.warning("fraiseql: database unavailable (%s); retrying on each request", exc)
            self._outage = True
            return exc
        if self._outage:
            logger.info("fraiseql: database available again")
        self._outage = False
        self.pool = pool
        return None

    # ------------------------------------------------------------ routing

    def _failure(self, exc: Exception, media: str) -> tuple[int, str, bytes, dict[str, str]]:
        """The response to a request that failed before or outside GraphQL execution."""
        if isinstance(exc, HTTPError):
            return exc.status, media, _error_body(exc.message, exc.code), exc.headers
        if isinstance(exc, PoolOverloadedError):  # expected under overload: no traceback logged
            detail = f" ({exc})" if self.executor.debug else ""
            body = _error_body(OVERLOADED + detail, "OVERLOADED")
            return 503, media, body, {"Retry-After": str(OVERLOADED_RETRY_AFTER)}
        # The server keeps serving whatever a request does; the client sees no internals.
        error = internal_error(exc, debug=self.executor.debug)
        return 500, media, dumps({"errors": [error]}), {}

    async def _handle(
        self, scope: Scope, receive: Receive
    ) -> tuple[int, str, bytes, dict[str, str]]:
        root, path = _mount_path(scope)
        if path == self.health_path:
            return await self._health()
        if self.metrics is not None and path == self.metrics_path:
            from fraiseql.metrics import CONTENT_TYPE

            return 200, CONTENT_TYPE, self.metrics.exposition(), {}
        if path != self.path:
            raise HTTPError(404, f"Not found: {root}{path}; GraphQL is served at {root}{self.path}")
        headers = _headers(scope)
        if (
            scope["method"] == "GET"
            and self.graphiql
            and not scope.get("query_string")
            and _wants_page(headers.get("accept"))
        ):
            return 200, HTML_TYPE, graphiql_page(root + self.path, self.graphiql_assets), {}
        # Observed (metrics, a traced request) right here: no coroutine more per request.
        tracer = self.tracing.tracer() if self.tracing is not None else None
        obs = None
        if self.metrics is not None or tracer is not None:
            span = None if tracer is None else _tracing.begin_request(tracer)
            obs = [time.perf_counter(), span, None, None]  # see fraiseql.observe
        answer = None
        try:
            # Every answer of the endpoint, request errors included, in the negotiated type.
            media = _media_type(headers.get("accept"))
            try:
                answer = await self._endpoint(scope, receive, headers, media, obs)
            except Exception as exc:
                answer = self._failure(exc, media)
        except HTTPError as exc:  # nothing acceptable: said in application/json
            answer = self._failure(exc, JSON_TYPE)
        finally:
            if obs is not None:
                self._observed(obs, answer)
        return answer

    def _observed(self, obs: Observation, answer: Any) -> None:
        """Count the request and end its span; `answer` None: it was cancelled."""
        status = 499 if answer is None else answer[0]  # 499: the client went away
        if obs[SPAN] is not None:
            _tracing.end_request(obs[SPAN], obs[PLAN], status)
        if self.metrics is not None:
            self.metrics.observe(obs, status, time.perf_counter() - obs[STARTED])

    async def _endpoint(
        self,
        scope: Scope,
        receive: Receive,
        headers: dict[str, str],
        media: str,
        obs: Observation | None,
    ) -> tuple[int, str, bytes, dict[str, str]]:
        path = scope["path"]
        method = scope["method"]
        if method not in ("GET", "POST"):
            raise HTTPError(
                405, f"Method {method} is not allowed; use GET or POST.", {"Allow": "GET, POST"}
            )
        if method == "POST":
            params = await self._post_params(headers, receive)
        else:
            params = _get_params(scope.get("query_string", b""), self.max_json_depth)
        query_params = {
            k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1")).items()
        }
        request = Request(method, path, headers, query_params, scope.get("client"), scope)
        return await self._graphql(request, params, media, obs, receive)

    async def _health(self) -> tuple[int, str, bytes, dict[str, str]]:
        try:
            pool = await self._db()
            if pool is not None:
                await pool.fetchval("SELECT 1")
        except Exception as exc:
            # The database's own words name its host and port: logged, shown only in debug.
            if not isinstance(exc, HTTPError):
                logger.warning("health check: database unavailable: %s", exc)
            body: dict[str, Any] = {"status": "unavailable"}
            if self.executor.debug:
                body["database"] = exc.message if isinstance(exc, HTTPError) else str(exc)
            return 503, JSON_TYPE, dumps(body), {}
        return 200, JSON_TYPE, b'{"status":"ok"}', {}

    async def _post_params(self, headers: dict[str, str], receive: Receive) -> dict[str, Any]:
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != JSON_TYPE:
            raise HTTPError(
                415,
                f"Unsupported content type {ctype or '(none)'!r}: POST a JSON body with "
                f"Content-Type: {JSON_TYPE}.",
            )
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise HTTPError(
                413,
                f"Request body of {declared} bytes exceeds the limit of {self.max_body_bytes} bytes.",
            )
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise HTTPError(400, "Client disconnected before sending the whole body.")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise HTTPError(
                    413, f"Request body exceeds the limit of {self.max_body_bytes} bytes."
                )
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        try:
            params = bounded_json.loads(b"".join(chunks), self.max_json_depth)
        except bounded_json.JSONDepthError as exc:
            raise HTTPError(400, f"The JSON body {exc}.") from None
        except ValueError as exc:  # UnicodeDecodeError included
            raise HTTPError(400, f"Malformed JSON body: {exc}.") from None
        if not isinstance(params, dict):
            raise HTTPError(400, f"The JSON body must be an object, got {_json_kind(params)}.")
        return params

    # ------------------------------------------------------------ GraphQL

    async def _graphql(
        self,
        request: Request,
        params: dict[str, Any],
        media: str,
        obs: Observation | None,
        receive: Receive,
    ) -> tuple[int, str, bytes, dict[str, str]]:
        if not self._commands_declared:  # the schema the plan needs holds them
            await self._db()
        query, variables, operation_name = self._request_parameters(params)
        plan = self.executor.bind(query, operation_name)[0]  # by shape for inline literals
        if obs is not None:
            obs[PLAN] = plan
        if (
            request.method == "GET"
            and plan.operation is not None
            and plan.operation.operation != OperationType.QUERY
        ):
            raise HTTPError(
                405,
                f"Only queries can be sent with GET; send this {plan.operation.operation.value} with POST.",
                {"Allow": "POST"},
            )
        db = self.pool
        if db is None and not plan.errors:  # request errors are answered without the database
            db = await self._db()
        context = await self._context(request, db)
        # A query is cancelled if its client goes away meanwhile; a mutation runs to its end.
        op = plan.operation
        task = (
            self._disconnects.enter(receive)
            if op is not None and op.operation == OperationType.QUERY
            else None
        )
        try:
            response = await self.executor.run(query, variables, operation_name, context)
        finally:
            if task is not None:
                self._disconnects.leave(task)
        if obs is not None:
            obs[RESPONSE] = response
        status = 400 if response.request_error and media == GRAPHQL_RESPONSE else 200
        return status, media, response.body, {}

    def _request_parameters(self, params: dict[str, Any]) -> tuple[str, Any, str | None]:
        query = params.get("query")
        variables = params.get("variables")
        operation_name = params.get("operationName")
        extensions = params.get("extensions")
        if variables is not None and not isinstance(variables, dict):
            raise HTTPError(
                400, f"'variables' must be an object or null, got {_json_kind(variables)}."
            )
        if operation_name is not None and not isinstance(operation_name, str):
            raise HTTPError(
                400, f"'operationName' must be a string or null, got {_json_kind(operation_name)}."
            )
        if extensions is not None and not isinstance(extensions, dict):
            raise HTTPError(
                400, f"'extensions' must be an object or null, got {_json_kind(extensions)}."
            )
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is not None:
            query = self._persisted_query(persisted, query)
        if query is None:
            raise HTTPError(400, "The request has no 'query'.")
        if not isinstance(query, str):
            raise HTTPError(400, f"'query' must be a string, got {_json_kind(query)}.")
        return query, variables, operation_name

    def _persisted_query(self, persisted: Any, query: Any) -> Any:
        """Automatic persisted queries: a hash alone, or a hash with its query to remember."""
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise HTTPError(
                400,
                'Unsupported persistedQuery extension: expected {"version": 1, "sha256Hash": ...}.',
            )
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str):
            raise HTTPError(400, "persistedQuery.sha256Hash must be a string.")
        digest = digest.lower()  # hex is case-insensitive: one key per query, however sent
        if query is None:
            known = self.persisted.get(digest)
            if known is None:
                # Apollo clients look for exactly this message, then resend with the query.
                raise HTTPError(200, "PersistedQueryNotFound", code="PERSISTED_QUERY_NOT_FOUND")
            return known
        if not isinstance(query, str):
            return query
        if hashlib.sha256(query.encode()).hexdigest() != digest:
            raise HTTPError(
                400, "persistedQuery.sha256Hash does not match the SHA-256 of the query."
            )
        self.persisted.put(digest, query)
        return query

    async def _context(self, request: Request, db: Any) -> dict[str, Any]:
        context: dict[str, Any] = {"db": db, "request": request}
        if self.context_getter is not None:
            extra = self.context_getter(request)
            if isawaitable(extra):
                extra = await extra
            if extra:
                context.update(extra)
        return context


def _mount_path(scope: Scope) -> tuple[str, str]:
    """(mount point, path below it). Hosts either keep the full path in `path` (the ASGI
    spec, Starlette's Mount since 0.33, uvicorn --root-path) or strip `root_path` from it."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        return root, path[len(root) :] or "/"
    return root, path


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _get_params(query_string: bytes, max_json_depth: int) -> dict[str, Any]:
    try:
        raw = {
            k: v[-1]
            for k, v in parse_qs(query_string.decode("utf-8"), strict_parsing=False).items()
        }
    except UnicodeDecodeError:
        raise HTTPError(400, "The query string is not valid UTF-8.") from None
    params: dict[str, Any] = {"query": raw.get("query"), "operationName": raw.get("operationName")}
    for name in ("variables", "extensions"):
        if raw.get(name):
            try:
                params[name] = bounded_json.loads(raw[name], max_json_depth)
            except bounded_json.JSONDepthError as exc:
                raise HTTPError(400, f"'{name}' in the query string {exc}.") from None
            except ValueError as exc:
                raise HTTPError(
                    400, f"'{name}' in the query string is not valid JSON: {exc}."
                ) from None
    return params


def _json_kind(value: Any) -> str:
    names = {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


def create_app(
    database_url: str | None = None,
    *,
    schema: GraphQLSchema | None = None,
    registry: Registry | None = None,
    pool: Any = None,
    context_getter: Callable[[Request], Any] | None = None,
    path: str = "/graphql",
    health_path: str = "/health",
    graphiql: bool = True,
    graphiql_assets: str | None = None,
    max_body_bytes: int = 1 << 20,
    max_json_depth: int = bounded_json.MAX_JSON_DEPTH,
    max_depth: int | None = 15,
    max_aliases: int | None = 30,
    max_fields: int | None = 500,
    max_tokens: int | None = 10_000,
    max_cost: int | None = Limits.max_cost,
    introspection: bool = True,
    cache_size: int = DEFAULT_CACHE_SIZE,
    cache_bytes: int | None = DEFAULT_CACHE_BYTES,
    max_limit: int | None = None,
    pool_options: Mapping[str, Any] | None = None,
    debug: bool = False,
    metrics: bool = False,
    metrics_path: str = "/metrics",
    tracing: bool = False,
    tracer_provider: Any = None,
    websocket_limits: WebSocketLimits | None = None,
) -> GraphQLApp:
    """An ASGI app serving the declared schema at `path` (and `health_path`), both relative
    to the mount point when a host mounts it (`app.mount("/api", fraiseql_app)`).

    `database_url` opens a pool (`pool_options` go to `fraiseql.db.create_pool`) at lifespan
    startup, else on the first request, or when the host awaits `app.startup()`; or pass an
    open `pool`. Resolvers find it in `info.context["db"]`, next to `"request"` and whatever
    `context_getter(request)` returns. Start-up (`await app.startup()`, run by the ASGI
    lifespan) checks every type's sql_source against the database and raises
    `fraiseql.SchemaError` naming what does not match. `graphiql_assets` is the base URL or
    path from which the GraphiQL page loads its four files (see fraiseql.graphiql.ASSETS)
    instead of unpkg.com. Each limit can be set to None to disable it (`max_cost`: see
    fraiseql.cost); `max_json_depth` bounds the nesting of the JSON a client sends (body,
    `variables`, `extensions`); `max_limit` (default 1000) the `limit`/`first`/`last` of
    generated list and connection fields (a setting of the schema: with `schema=` given,
    pass it to `build_schema`). `cache_size` and `cache_bytes` bound each plan cache (by
    document text, by shape: see fraiseql.plan_cache).
    Unexpected errors are answered "Internal server error" with a request id that the
    "fraiseql" logger's traceback shows too; `debug=True` shows them in full (never in
    production: they may hold SQL and hosts). `metrics=True` serves Prometheus metrics at
    `metrics_path` (the `metrics` extra, see fraiseql.metrics); `tracing=True` makes
    OpenTelemetry spans (the `otel` extra, see fraiseql.tracing) through `tracer_provider`,
    else the global provider once one is set. WebSocket clients (graphql-transport-ws, see
    fraiseql.ws) subscribe at `path` too, within `websocket_limits`.
    """
    check_assets(graphiql_assets)
    if tracer_provider is not None and not tracing:
        raise ValueError("tracer_provider is given but tracing is off: pass tracing=True too")
    traced = _tracing.Tracing(tracer_provider) if tracing else None
    limits = Limits(
        max_depth=max_depth,
        max_aliases=max_aliases,
        max_fields=max_fields,
        max_tokens=max_tokens,
        max_cost=max_cost,
        introspection=introspection,
    )
    executor = Executor(
        schema,
        registry=registry,
        limits=limits,
        cache_size=cache_size,
        cache_bytes=cache_bytes,
        debug=debug,
        max_limit=max_limit,
    )
    return GraphQLApp(
        executor,
        pool=pool,
        database_url=database_url,
        context_getter=context_getter,
        path=path,
        health_path=health_path,
        graphiql=graphiql,
        graphiql_assets=graphiql_assets,
        max_body_bytes=max_body_bytes,
        max_json_depth=max_json_depth,
        pool_options=pool_options,
        metrics=metrics,
        metrics_path=metrics_path,
        tracing=traced,
        websocket_limits=websocket_limits,
    )
