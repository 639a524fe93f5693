"""OpenTelemetry spans (create_app(tracing=True)) of requests to a real uvicorn server, taken
by the SDK's in-memory exporter: names, parents, attributes, and no parameter values."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from support.blog import blog_api_declared, blog_database
from support.extras import import_error_without
from support.http_server import serve
from support.ws_client import Client

import fraiseql
from fraiseql import tracing

SECRET = "Zelda-7f3a"  # a value sent as a variable: never in any span


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    return blog_database(pg_server, pg_dsn, "tracing_blog")


@pytest.fixture(scope="module")
def traced(dsn: str) -> Iterator[tuple[str, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with blog_api_declared():
        app = fraiseql.create_app(database_url=dsn, tracing=True, tracer_provider=provider)
    with serve(app) as base:
        yield base + "/graphql", exporter


def spans_of(
    url: str, exporter: InMemorySpanExporter, query: str, variables: Any = None, name: Any = None
) -> tuple[dict[str, Any], list[ReadableSpan]]:
    """The response of one request and the spans it made, in the order they ended."""
    exporter.clear()
    with httpx.Client(timeout=30) as client:
        body = client.post(
            url, json={"query": query, "variables": variables, "operationName": name}
        )
    return body.json(), list(exporter.get_finished_spans())


def one(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, (name, [s.name for s in spans])
    return found[0]


def parent_of(span: ReadableSpan, spans: list[ReadableSpan]) -> ReadableSpan | None:
    ids = {s.context.span_id: s for s in spans}
    return ids.get(span.parent.span_id) if span.parent is not None else None


def test_fast_path_query(traced: Any) -> None:
    url, exporter = traced
    query = "query GetUser($id: Int!) { user(id: $id) { id firstName } }"
    body, spans = spans_of(url, exporter, query, {"id": 2}, "GetUser")
    assert body == {"data": {"user": {"id": 2, "firstName": "First2"}}}
    request = one(spans, "query GetUser")
    assert request.kind == SpanKind.SERVER and request.parent is None
    assert request.attributes["graphql.operation.type"] == "query"
    assert request.attributes["graphql.operation.name"] == "GetUser"
    assert request.attributes["http.response.status_code"] == 200
    assert parent_of(one(spans, "graphql.plan"), spans) is request  # a miss: planned now
    field = one(spans, "graphql.resolve user")
    assert parent_of(field, spans) is request
    assert dict(field.attributes) == {
        "graphql.field.name": "user",
        "graphql.field.path": "user",
        "fraiseql.path": "fast",
    }
    # the read, after the catalog lookup of the view's columns on first use
    statements = [s for s in spans if s.name == "SELECT"]
    assert statements and all(
        s.kind == SpanKind.CLIENT
        and parent_of(s, spans) is field
        and s.attributes["db.system"] == "postgresql"
        for s in statements
    )
    read = statements[-1].attributes["db.statement"]
    assert "qm_user" in read and "$1" in read
    assert {s.context.trace_id for s in spans} == {request.context.trace_id}

    # The same document again: a plan cache hit, no plan span.
    _, again = spans_of(url, exporter, query, {"id": 3}, "GetUser")
    assert sorted(s.name for s in again) == ["SELECT", "graphql.resolve user", "query GetUser"]


def test_graphql_core_root_fields(traced: Any) -> None:
    """Root fields graphql-core resolves get their span too, beside the fast path's."""
    url, exporter = traced
    query = '{ user(id: 1) { id } __type(name: "User") { name } }'
    body, spans = spans_of(url, exporter, query)
    assert body == {"data": {"user": {"id": 1}, "__type": {"name": "User"}}}
    request = one(spans, "query")
    assert "graphql.operation.name" not in request.attributes
    for name in ("graphql.resolve user", "graphql.resolve __type"):
        assert parent_of(one(spans, name), spans) is request


def test_mutation_statements_without_values(traced: Any) -> None:
    url, exporter = traced
    query = (
        "mutation Create($first: String!) { createUser(input: {firstName: $first, lastName: "
        '"L", email: "zelda@example.org"}) { ... on CreateUserSuccess { user { id firstName } } } }'
    )
    body, spans = spans_of(url, exporter, query, {"first": SECRET}, "Create")
    assert body["data"]["createUser"]["user"]["firstName"] == SECRET
    request = one(spans, "mutation Create")
    assert request.attributes["graphql.operation.type"] == "mutation"
    field = one(spans, "graphql.resolve createUser")
    assert parent_of(field, spans) is request
    # the transaction around the mutation, then its statements under its root field
    assert parent_of(one(spans, "BEGIN"), spans) is request
    assert parent_of(one(spans, "COMMIT"), spans) is request
    insert = one(spans, "INSERT")
    assert parent_of(insert, spans) is field
    assert 'INSERT INTO "public"."tb_user"' in insert.attributes["db.statement"]
    for span in spans:
        for key, value in span.attributes.items():
            assert SECRET not in str(value), (span.name, key)


def test_errors_are_recorded(traced: Any) -> None:
    url, exporter = traced
    body, spans = spans_of(url, exporter, "{ nope }")
    assert body["errors"][0]["message"].startswith("Cannot query field 'nope'")
    request = one(spans, "GraphQL Operation")  # no operation to name it by
    assert "graphql.operation.type" not in request.attributes
    body, spans = spans_of(url, exporter, "{ user(id: 999999) { id } }")
    assert body["data"] is None
    # the fast path's field found null for a non-null type (not an error of its resolver):
    # graphql-core words the error from that outcome, without resolving the field again
    [fast] = [s for s in spans if s.name == "graphql.resolve user"]
    assert fast.attributes["fraiseql.path"] == "fast"
    assert fast.status.status_code == StatusCode.UNSET


def test_untraced_requests_set_no_tracer(dsn: str) -> None:
    """Without tracing=True nothing reaches the executor or the driver: no tracer is set."""
    seen: list[Any] = []
    with blog_api_declared():

        @fraiseql.query
        async def probe(info) -> bool:
            seen.append(tracing.current.get())
            return True

        app = fraiseql.create_app(database_url=dsn)
    with serve(app) as base, httpx.Client(timeout=30) as client:
        r = client.post(base + "/graphql", json={"query": "{ probe }"})
    assert r.json() == {"data": {"probe": True}} and seen == [None]


def test_global_provider_as_found_at_the_first_request() -> None:
    """tracing=True takes the global provider as the app finds it at its first request:
    none set makes no spans (no no-op ones either) and logs why; one set gives its tracer."""
    code = (
        "import logging; logging.basicConfig(format='%(message)s')\n"
        "from opentelemetry import trace\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "from fraiseql.tracing import Tracing\n"
        "early = Tracing()\n"
        "print(early.tracer())\n"
        "trace.set_tracer_provider(TracerProvider())\n"
        "print(early.tracer(), type(Tracing().tracer()).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["None", "None", "Tracer"]
    assert "tracing=True but no OpenTelemetry tracer provider is set" in out.stderr


def test_missing_extra_is_a_startup_error() -> None:
    """Without opentelemetry-api, create_app(tracing=True) fails naming the extra."""
    assert import_error_without("opentelemetry", "fraiseql.create_app(tracing=True)") == (
        "create_app(tracing=True) needs opentelemetry-api, which is not installed: "
        "pip install 'fraiseql[otel]'"
    )


def test_tracer_provider_without_tracing_is_refused() -> None:
    with pytest.raises(ValueError, match="pass tracing=True"):
        fraiseql.create_app(tracer_provider=TracerProvider())


def test_websocket_operations_and_subscription_events(traced: Any, dsn: str) -> None:
    """An operation over a WebSocket has its span as a request does, ended at its first
    answer; each subscription event has a span of its own."""
    url, exporter = traced
    base = url.removesuffix("/graphql")

    async def go() -> list[ReadableSpan]:
        writer = await fraiseql.connect(dsn)
        client = await Client.open(base)
        exporter.clear()
        await client.subscribe("s", "subscription Live { user(id: 3) { firstName } }")
        assert (await client.recv())["type"] == "next"
        await writer.execute("UPDATE tb_user SET first_name = 'Traced' WHERE id = 3")
        assert (await client.recv())["payload"]["data"]["user"]["firstName"] == "Traced"
        await client.close()
        await writer.close()
        return list(exporter.get_finished_spans())

    spans = asyncio.run(go())
    operation = one(spans, "subscription Live")
    assert operation.kind == SpanKind.SERVER and operation.parent is None
    assert operation.attributes["network.protocol.name"] == "websocket"
    assert operation.attributes["graphql.operation.type"] == "subscription"
    events = [s for s in spans if s.name == "subscription Live event"]
    assert len(events) == 2
    assert all(e.attributes["graphql.operation.name"] == "Live" for e in events)
