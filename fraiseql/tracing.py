"""OpenTelemetry spans (`create_app(tracing=True)`, the `otel` extra): the request, the plan
on a cache miss, each root field, each database statement.

The app puts the request's tracer in `current` while it answers a traced request; the
executor and the driver look there, so a request that is not traced (tracing off, or no
tracer provider configured yet) costs them one ContextVar lookup and makes no span at all.
Attribute names are OpenTelemetry's semantic conventions; `db.statement` is the SQL text as
sent, whose values are bind parameters ($1, $2...): parameters are never recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from inspect import isawaitable
from typing import Any, NamedTuple, TypeVar

EXTRA = "pip install 'fraiseql[otel]'"
INSTRUMENTATION = "fraiseql"

T = TypeVar("T")

logger = logging.getLogger("fraiseql")

# The tracer of the request being answered; None: make no span.
current: ContextVar[Any] = ContextVar("fraiseql_tracer", default=None)


class Tracing:
    """Where an app's tracer comes from: the given provider, else the global one as the app
    finds it at its first request (OpenTelemetry lets it be set once, before serving)."""

    def __init__(self, provider: Any = None) -> None:
        try:
            from opentelemetry import trace
        except ImportError as exc:
            raise ImportError(
                f"create_app(tracing=True) needs opentelemetry-api, which is not installed: {EXTRA}"
            ) from exc
        self._trace = trace
        self._provider = provider
        self._pending = True
        self._tracer: Any = None

    def tracer(self) -> Any:
        """The tracer of this app's requests; None when no tracer provider was configured:
        then no span is made, not even a no-op one (they would cost each request)."""
        if self._pending:
            self._pending = False
            self._tracer = self._resolve()
        return self._tracer

    def _resolve(self) -> Any:
        from fraiseql import __version__

        trace, provider = self._trace, self._provider
        if provider is None:
            provider = trace.get_tracer_provider()
            if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
                logger.warning(
                    "fraiseql: tracing=True but no OpenTelemetry tracer provider is set "
                    "(set it before the app serves, or pass tracer_provider=): no spans"
                )
                return None
        return provider.get_tracer(INSTRUMENTATION, __version__)


class RequestSpan(NamedTuple):
    """A request's span, current (OpenTelemetry's context) and its tracer set (`current`)."""

    span: Any
    context_token: Any
    tracer_token: Any


def begin_request(tracer: Any) -> RequestSpan:
    """Start the request's span (named once planned) and make it the parent of the others."""
    from opentelemetry import context, trace

    span = tracer.start_span("GraphQL Operation", kind=trace.SpanKind.SERVER)
    return RequestSpan(span, context.attach(trace.set_span_in_context(span)), current.set(tracer))


def end_request(request: RequestSpan, plan: Any, status: int | None) -> None:
    """Name the request's span `{type} {name}` (semantic conventions) and end it; `status`:
    its HTTP status, None for an operation over a WebSocket (answered by its first message)."""
    from opentelemetry import context

    span = request.span
    if status is None:
        span.set_attribute("network.protocol.name", "websocket")
    else:
        span.set_attribute("http.response.status_code", status)
    _name_operation(span, plan)
    current.reset(request.tracer_token)
    context.detach(request.context_token)
    span.end()


def _name_operation(span: Any, plan: Any, suffix: str = "") -> None:
    operation = plan.operation if plan is not None else None
    if operation is not None:
        kind = operation.operation.value
        name = operation.name.value if operation.name else None
        span.update_name((f"{kind} {name}" if name else kind) + suffix)
        span.set_attribute("graphql.operation.type", kind)
        if name:
            span.set_attribute("graphql.operation.name", name)


def begin_event(tracer: Any, plan: Any) -> Any:
    """The span of one subscription event, `{type} {name} event`: from its response to its
    message written to the WebSocket (end it with `.end()`)."""
    span = tracer.start_span("GraphQL subscription event")
    _name_operation(span, plan, " event")
    return span


def plan_span(tracer: Any) -> Any:
    """The span of a plan built on a cache miss: parse, limits, validation."""
    return tracer.start_as_current_span("graphql.plan")


async def field_span(tracer: Any, key: str, name: str, resolving: Awaitable[T]) -> T:
    """Await a root field's resolution in a span of its own (its statements' parent)."""
    attributes = {"graphql.field.name": name, "graphql.field.path": key, "fraiseql.path": "fast"}
    # A failed root is answered by graphql-core from its outcome (fraiseql.replay), in no span
    # of its own: this one records what the resolver raised, as graphql-core's span would.
    with tracer.start_as_current_span(
        f"graphql.resolve {key}",
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            return await resolving
        except Exception as exc:
            error = getattr(getattr(exc, "outcome", None), "error", None)
            if error is not None:
                from opentelemetry.trace import Status, StatusCode

                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            raise


async def statement_span(tracer: Any, sql: str, running: Awaitable[T]) -> T:
    """Await one database statement in a client span: the SQL text, never its parameters."""
    from opentelemetry.trace import SpanKind

    attributes = {"db.system": "postgresql", "db.statement": sql}
    name = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "postgresql"
    with tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes):
        return await running


def root_field_middleware(tracer: Any) -> Callable[..., Any]:
    """graphql-core middleware giving each root field it resolves a span, like the fast path."""
    from opentelemetry.trace import use_span

    def middleware(resolve: Callable[..., Any], root: Any, info: Any, **args: Any) -> Any:
        if info.path.prev is not None:  # a nested field: no span
            return resolve(root, info, **args)
        key = info.path.key
        attributes = {
            "graphql.field.name": info.field_name,
            "graphql.field.path": key,
            "fraiseql.path": "graphql-core",
        }
        span = tracer.start_span(f"graphql.resolve {key}", attributes=attributes)
        try:
            with use_span(span):  # current while it runs; records an exception it raises
                value = resolve(root, info, **args)
        except BaseException:
            span.end()
            raise
        if isawaitable(value):
            return _awaited_in(span, value)
        span.end()
        return value

    return middleware


async def _awaited_in(span: Any, value: Awaitable[T]) -> T:
    from opentelemetry.trace import use_span

    with use_span(span, end_on_exit=True):
        return await value
