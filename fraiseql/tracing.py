"""OpenTelemetry spans (`create_app(tracing=True)`, the `otel` extra): the request, the plan
on a cache miss, each root field, each database statement.

The app puts the request's tracer in `current` while it answers a traced request; the
executor and the driver look there, so a request that is not traced (tracing off, or no
tracer provider configured yet) costs them one ContextVar lookup and makes no span at all.
Attribute names are OpenTelemetry's semantic conventions; `db.statement` is the SQL text as
sent, whose values are bind parameters ($1, $2...): parameters are never recorded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from inspect import isawaitable
from typing import Any, TypeVar

EXTRA = "pip install 'fraiseql[otel]'"
INSTRUMENTATION = "fraiseql"

T = TypeVar("T")

# The tracer of the request being answered; None: make no span.
current: ContextVar[Any] = ContextVar("fraiseql_tracer", default=None)


class Tracing:
    """Where an app's tracer comes from: a given provider, else the global one once set."""

    def __init__(self, provider: Any = None) -> None:
        try:
            from opentelemetry import trace
        except ImportError as exc:
            raise ImportError(
                f"create_app(tracing=True) needs opentelemetry-api, which is not installed: {EXTRA}"
            ) from exc
        from fraiseql import __version__

        self._trace = trace
        self._version = __version__
        self._tracer = (
            None if provider is None else provider.get_tracer(INSTRUMENTATION, __version__)
        )

    def tracer(self) -> Any:
        """The tracer for this request; None while no tracer provider is configured (the API's
        default would only make no-op spans). Once set, the global provider cannot change."""
        if self._tracer is None:
            provider = self._trace.get_tracer_provider()
            if isinstance(
                provider, (self._trace.ProxyTracerProvider, self._trace.NoOpTracerProvider)
            ):
                return None
            self._tracer = provider.get_tracer(INSTRUMENTATION, self._version)
        return self._tracer


def request_span(tracer: Any) -> Any:
    """The request's span (a context manager making it current), named once planned."""
    from opentelemetry.trace import SpanKind

    return tracer.start_as_current_span("GraphQL Operation", kind=SpanKind.SERVER)


def name_request(span: Any, operation_type: str | None, name: str | None, status: int) -> None:
    """Name the request's span `{type} {name}` (semantic conventions) once planned."""
    span.set_attribute("http.response.status_code", status)
    if operation_type is None:
        return
    span.update_name(f"{operation_type} {name}" if name else operation_type)
    span.set_attribute("graphql.operation.type", operation_type)
    if name:
        span.set_attribute("graphql.operation.name", name)


def plan_span(tracer: Any) -> Any:
    """The span of a plan built on a cache miss: parse, limits, validation."""
    return tracer.start_as_current_span("graphql.plan")


async def field_span(tracer: Any, key: str, name: str, resolving: Awaitable[T]) -> T:
    """Await a root field's resolution in a span of its own (its statements' parent)."""
    attributes = {"graphql.field.name": name, "graphql.field.path": key, "fraiseql.path": "fast"}
    # An exception here hands the request over to graphql-core, whose span records the error.
    with tracer.start_as_current_span(
        f"graphql.resolve {key}",
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ):
        return await resolving


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
