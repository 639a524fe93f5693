"""GraphQL over HTTP as a plain ASGI application (no web framework).

Follows the GraphQL-over-HTTP specification: POST with `application/json`, GET for queries
only, `application/graphql-response+json` (request errors answer 4xx) or `application/json`
(every well-formed request answers 200), chosen from the Accept header. Also: a GraphiQL page
for browsers, a health endpoint, automatic persisted queries, and limits on everything a
client controls (body size, depth, aliases, fields, tokens, introspection).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from inspect import isawaitable
from typing import Any
from urllib.parse import parse_qs

from graphql import GraphQLSchema, OperationType

from fraiseql.errors import OperationalError
from fraiseql.execute import Executor, dumps
from fraiseql.plan import Limits, LRUCache
from fraiseql.schema import build_schema
from fraiseql.sources import check_sources
from fraiseql.types import Registry

logger = logging.getLogger("fraiseql.http")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON_TYPE = "application/json"

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


def _media_type(accept: str | None) -> str:
    """The response media type the Accept header allows (406 when it allows neither)."""
    if not accept:
        return JSON_TYPE
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if GRAPHQL_RESPONSE in kinds:
        return GRAPHQL_RESPONSE
    if JSON_TYPE in kinds or "*/*" in kinds or "application/*" in kinds:
        return JSON_TYPE
    raise HTTPError(
        406,
        f"Not acceptable: {accept!r}; this server answers {GRAPHQL_RESPONSE} or {JSON_TYPE}.",
    )


class GraphQLApp:
    """The ASGI application returned by `create_app`."""

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
        max_body_bytes: int = 1 << 20,
        pool_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.executor = executor
        self.pool_options = dict(pool_options or {})
        self.pool = pool
        self.database_url = database_url
        self.context_getter = context_getter
        self.path = path
        self.health_path = health_path
        self.graphiql = graphiql
        self.max_body_bytes = max_body_bytes
        self.persisted = LRUCache(executor.plans.maxsize)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            status, ctype, body, headers = await self._handle(scope, receive)
        except HTTPError as exc:
            status, ctype, body, headers = (
                exc.status,
                JSON_TYPE,
                _error_body(exc.message, exc.code),
                exc.headers,
            )
        except Exception as exc:  # the server keeps serving whatever a request does
            status, ctype, body, headers = (
                500,
                JSON_TYPE,
                _error_body(f"Internal server error: {exc}"),
                {},
            )
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
        """Open the pool of `database_url`, then check every type's sql_source against the
        database (`fraiseql.SchemaError` naming the type, view, column or field). A database
        that is down does not stop the server; the check then waits for the next start."""
        if self.pool is None and self.database_url is not None:
            from fraiseql.db import create_pool

            try:
                self.pool = await create_pool(self.database_url, **self.pool_options)
            except Exception as exc:
                # Serve anyway: requests get errors naming the database problem until it is back.
                logger.warning(
                    "fraiseql: database unavailable at startup (%s); connecting on demand", exc
                )
                self.pool = await create_pool(
                    self.database_url, **{**self.pool_options, "min_size": 0}
                )
                return
        if self.pool is not None:
            try:
                await check_sources(self.executor.schema, self.pool)
            except OperationalError as exc:  # down after all: serve, as above
                logger.warning("fraiseql: cannot check the sql_sources (%s)", exc)

    async def shutdown(self) -> None:
        """Close the pool this app opened."""
        if self.pool is not None and self.database_url is not None:
            await self.pool.close()
            self.pool = None

    # ------------------------------------------------------------ routing

    async def _handle(
        self, scope: Scope, receive: Receive
    ) -> tuple[int, str, bytes, dict[str, str]]:
        path = scope["path"]
        method = scope["method"]
        if path == self.health_path:
            return await self._health()
        if path != self.path:
            raise HTTPError(404, f"Not found: {path}; GraphQL is served at {self.path}")
        headers = _headers(scope)
        if (
            method == "GET"
            and self.graphiql
            and "text/html" in headers.get("accept", "")
            and not scope.get("query_string")
        ):
            return 200, "text/html", GRAPHIQL_PAGE.replace("{path}", self.path).encode(), {}
        if method not in ("GET", "POST"):
            raise HTTPError(
                405, f"Method {method} is not allowed; use GET or POST.", {"Allow": "GET, POST"}
            )
        media = _media_type(headers.get("accept"))
        if method == "POST":
            params = await self._post_params(headers, receive)
        else:
            params = _get_params(scope.get("query_string", b""))
        query_params = {
            k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1")).items()
        }
        request = Request(method, path, headers, query_params, scope.get("client"), scope)
        return await self._graphql(request, params, media)

    async def _health(self) -> tuple[int, str, bytes, dict[str, str]]:
        if self.pool is not None:
            try:
                await self.pool.fetchval("SELECT 1")
            except Exception as exc:
                return 503, JSON_TYPE, dumps({"status": "unavailable", "database": str(exc)}), {}
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
            params = json.loads(b"".join(chunks))
        except (ValueError, UnicodeDecodeError) as exc:
            raise HTTPError(400, f"Malformed JSON body: {exc}.") from None
        if not isinstance(params, dict):
            raise HTTPError(400, f"The JSON body must be an object, got {_json_kind(params)}.")
        return params

    # ------------------------------------------------------------ GraphQL

    async def _graphql(
        self, request: Request, params: dict[str, Any], media: str
    ) -> tuple[int, str, bytes, dict[str, str]]:
        query, variables, operation_name = self._request_parameters(params)
        plan = self.executor.plan(query, operation_name)
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
        context = await self._context(request)
        response = await self.executor.run(query, variables, operation_name, context)
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
        if query is None:
            known = self.persisted.get(digest)
            if known is None:
                # Apollo clients look for exactly this message, then resend with the query.
                raise HTTPError(200, "PersistedQueryNotFound", code="PERSISTED_QUERY_NOT_FOUND")
            return known
        if not isinstance(query, str):
            return query
        if hashlib.sha256(query.encode()).hexdigest() != digest.lower():
            raise HTTPError(
                400, "persistedQuery.sha256Hash does not match the SHA-256 of the query."
            )
        self.persisted.put(digest.lower(), query)
        return query

    async def _context(self, request: Request) -> dict[str, Any]:
        context: dict[str, Any] = {"db": self.pool, "request": request}
        if self.context_getter is not None:
            extra = self.context_getter(request)
            if isawaitable(extra):
                extra = await extra
            if extra:
                context.update(extra)
        return context


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _get_params(query_string: bytes) -> dict[str, Any]:
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
                params[name] = json.loads(raw[name])
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
    max_body_bytes: int = 1 << 20,
    max_depth: int | None = 15,
    max_aliases: int | None = 30,
    max_fields: int | None = 500,
    max_tokens: int | None = 10_000,
    introspection: bool = True,
    cache_size: int = 1000,
    pool_options: Mapping[str, Any] | None = None,
) -> GraphQLApp:
    """An ASGI app serving the declared schema at `path`.

    `database_url` opens a pool at startup (`pool_options` go to `fraiseql.db.create_pool`),
    or pass an open `pool`; resolvers find it in
    `info.context["db"]`, next to `"request"` and whatever `context_getter(request)` returns.
    Each limit can be set to None to disable it. Start-up (`await app.startup()`, run by
    the ASGI lifespan) checks every type's sql_source against the database and raises
    `fraiseql.SchemaError` naming what does not match.
    """
    limits = Limits(
        max_depth=max_depth,
        max_aliases=max_aliases,
        max_fields=max_fields,
        max_tokens=max_tokens,
        introspection=introspection,
    )
    executor = Executor(schema or build_schema(registry), limits=limits, cache_size=cache_size)
    return GraphQLApp(
        executor,
        pool=pool,
        database_url=database_url,
        context_getter=context_getter,
        path=path,
        health_path=health_path,
        graphiql=graphiql,
        max_body_bytes=max_body_bytes,
        pool_options=pool_options,
    )


# The page loads GraphiQL from a CDN: fine for a developer's browser, never fetched by tests.
GRAPHIQL_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>fraiseql GraphiQL</title>
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3/graphiql.min.css">
</head>
<body>
  <div id="graphiql">Loading GraphiQL from unpkg.com...</div>
  <script crossorigin src="https://unpkg.com/react@18/umd/react.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/react-dom@18/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@3/graphiql.min.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({ url: "{path}" });
    ReactDOM.createRoot(document.getElementById("graphiql"))
      .render(React.createElement(GraphiQL, { fetcher }));
  </script>
</body>
</html>
"""
