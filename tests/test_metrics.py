"""Prometheus metrics at /metrics (create_app(metrics=True)), scraped from a real uvicorn
server after real requests against the seed's blog in PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.routing import Mount
from support.blog import blog_api_declared, blog_database
from support.extras import import_error_without
from support.http_server import serve
from support.ws_client import WAIT, Client

import fraiseql
from fraiseql.metrics import BUCKETS

USER = "query User($id: Int!) { user(id: $id) { id firstName } }"
INTROSPECTION = '{ __type(name: "User") { name } }'  # graphql-core's alone
MISSING_USER = "{ user(id: 999999) { id } }"  # null for a non-null field: an error
CREATE = (
    'mutation { createUser(input: {firstName: "Ann", lastName: "B", email: "ann@example.org"}) '
    "{ ... on CreateUserSuccess { user { id } } ... on CreateUserError { code } } }"
)
LOCK = 4242  # the advisory lock the pool-state test holds the app's connections on


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    return blog_database(pg_server, pg_dsn, "metrics_blog")


def blog_app(dsn: str, **options: Any) -> fraiseql.http.GraphQLApp:
    """The blog's API with metrics, plus two operations that wait on the advisory lock LOCK:
    a query reading through the shared pool, a mutation holding its own connection."""
    with blog_api_declared():

        @fraiseql.query
        async def wait_shared(info) -> bool:
            return await info.context["db"].fetchval(
                "SELECT true FROM pg_advisory_xact_lock($1)", LOCK
            )

        @fraiseql.mutation
        async def wait_held(info) -> bool:
            return await info.context["db"].fetchval(
                "SELECT true FROM pg_advisory_xact_lock($1)", LOCK
            )

        return fraiseql.create_app(database_url=dsn, metrics=True, **options)


@pytest.fixture()
def served(dsn: str) -> Iterator[tuple[str, fraiseql.http.GraphQLApp]]:
    app = blog_app(dsn)
    with serve(app) as base:
        yield base, app


def post(client: httpx.Client, url: str, query: str, variables: Any = None) -> httpx.Response:
    return client.post(url, json={"query": query, "variables": variables})


def scrape(client: httpx.Client, url: str) -> dict[str, list[Any]]:
    """The samples of each metric family, by family name."""
    r = client.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {f.name: f.samples for f in text_string_to_metric_families(r.text)}


def value(samples: list[Any], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and s.labels == labels]
    assert len(found) == 1, (name, labels, samples)
    return found[0]


def test_counters_and_histogram_after_requests(served: Any) -> None:
    base, _ = served
    with httpx.Client(timeout=30) as client:
        before = scrape(client, base + "/metrics")
        assert (
            value(
                before["fraiseql_requests"],
                "fraiseql_requests_total",
                operation="query",
                outcome="ok",
            )
            == 0
        )
        url = base + "/graphql"
        for id in (1, 2, 1):  # one document: planned once, then two hits
            assert post(client, url, USER, {"id": id}).json()["data"]["user"]["id"] == id
        assert post(client, url, INTROSPECTION).json() == {"data": {"__type": {"name": "User"}}}
        assert post(client, url, MISSING_USER).json()["errors"]
        assert "errors" not in post(client, url, CREATE).json()
        assert post(client, url, "{ nope }").status_code == 200  # validation: a request error
        assert post(client, url, "{ user(").json()["errors"]  # unparsable, twice: one plan
        assert post(client, url, "{ user(").json()["errors"]
        r = client.post(url, content=b"{", headers={"content-type": "application/json"})
        assert r.status_code == 400  # malformed JSON: refused before any plan
        assert client.get(base + "/health").status_code == 200  # not a GraphQL request
        m = scrape(client, base + "/metrics")

    requests = m["fraiseql_requests"]
    counts = {
        (s.labels["operation"], s.labels["outcome"]): s.value
        for s in requests
        if s.name == "fraiseql_requests_total" and s.value
    }
    assert counts == {
        ("query", "ok"): 4,
        ("query", "error"): 1,
        ("mutation", "ok"): 1,
        ("unknown", "rejected"): 4,
    }
    # The fast path answered the three user queries and the typed mutation; graphql-core
    # the introspection and the missing user (the fast path handed it over for nulls).
    assert value(m["fraiseql_fast_path"], "fraiseql_fast_path_total") == 4
    assert value(m["fraiseql_graphql_core"], "fraiseql_graphql_core_total") == 2
    plans = m["fraiseql_plan_cache"]
    # Plans: USER, INTROSPECTION, MISSING_USER, CREATE, "{ nope }", "{ user(": six misses;
    # hits: USER twice more and the second "{ user(".
    assert value(plans, "fraiseql_plan_cache_total", result="miss") == 6
    assert value(plans, "fraiseql_plan_cache_total", result="hit") == 3
    # The six plans are held, none dropped: those of documents with literals by their
    # shape (INTROSPECTION, MISSING_USER, CREATE), the others by their text.
    held = {
        cache: value(m["fraiseql_plan_cache_entries"], "fraiseql_plan_cache_entries", cache=cache)
        for cache in ("plans", "shapes")
    }
    assert held == {"plans": 3, "shapes": 3}
    for cache in held:
        assert value(m["fraiseql_plan_cache_bytes"], "fraiseql_plan_cache_bytes", cache=cache) > 0
        evicted = m["fraiseql_plan_cache_evictions"]
        assert value(evicted, "fraiseql_plan_cache_evictions_total", cache=cache) == 0

    durations = m["fraiseql_request_duration_seconds"]
    for operation, count in (("query", 5), ("mutation", 1), ("unknown", 4), ("subscription", 0)):
        buckets = [
            s
            for s in durations
            if s.name == "fraiseql_request_duration_seconds_bucket"
            and s.labels["operation"] == operation
        ]
        assert [s.labels["le"] for s in buckets] == [repr(b) for b in BUCKETS] + ["+Inf"]
        cumulative = [s.value for s in buckets]
        assert cumulative == sorted(cumulative) and cumulative[-1] == count
        total = value(durations, "fraiseql_request_duration_seconds_count", operation=operation)
        seconds = value(durations, "fraiseql_request_duration_seconds_sum", operation=operation)
        assert total == count and (seconds > 0) == (count > 0)


def test_plan_cache_evictions_within_cache_size(dsn: str) -> None:
    with serve(blog_app(dsn, cache_size=2)) as base, httpx.Client(timeout=30) as client:
        for id in (1, 2, 3):  # three documents through a cache of two: one dropped
            query = f"query Q{id}($id: Int!) {{ user(id: $id) {{ id }} }}"  # no literal
            out = post(client, base + "/graphql", query, {"id": id}).json()
            assert out["data"]["user"]["id"] == id
        m = scrape(client, base + "/metrics")
    entries, evicted = m["fraiseql_plan_cache_entries"], m["fraiseql_plan_cache_evictions"]
    assert value(entries, "fraiseql_plan_cache_entries", cache="plans") == 2
    assert value(evicted, "fraiseql_plan_cache_evictions_total", cache="plans") == 1


def test_pool_connections_by_state(dsn: str) -> None:
    """A mutation (its own connection: busy) and a query (pipelined on a shared one: shared)
    both wait on an advisory lock the test holds; the gauge reads the pool at scrape time."""
    app = blog_app(dsn)

    async def waiting(conn: Any) -> int:
        return await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE '%pg_advisory_xact_lock%' AND pid <> pg_backend_pid()"
        )

    async def states(client: httpx.AsyncClient, base: str) -> dict[str, float]:
        r = await client.get(base + "/metrics")
        families = {f.name: f.samples for f in text_string_to_metric_families(r.text)}
        return {s.labels["state"]: s.value for s in families["fraiseql_pool_connections"]}

    async def scenario(base: str) -> tuple[dict[str, float], dict[str, float], int]:
        conn = await fraiseql.connect(dsn)
        try:
            await conn.execute(f"SELECT pg_advisory_lock({LOCK})")
            async with httpx.AsyncClient(timeout=30) as client:
                url = base + "/graphql"
                held = asyncio.ensure_future(
                    client.post(url, json={"query": "mutation { waitHeld }"})
                )
                for _ in range(3000):  # bounded: each pass is one round trip
                    if await waiting(conn) == 1:
                        break
                    await asyncio.sleep(0.01)
                shared = asyncio.ensure_future(client.post(url, json={"query": "{ waitShared }"}))
                for _ in range(3000):
                    if await waiting(conn) == 2:
                        break
                    await asyncio.sleep(0.01)
                blocked = await states(client, base)
                await conn.execute(f"SELECT pg_advisory_unlock({LOCK})")
                answers = [r.json() for r in await asyncio.gather(held, shared)]
                assert answers == [{"data": {"waitHeld": True}}, {"data": {"waitShared": True}}]
                after = await states(client, base)
                backends = await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = 'fraiseql' AND pid <> pg_backend_pid()"
                )
                return blocked, after, backends
        finally:
            await conn.close()

    with serve(app) as base:
        blocked, after, backends = asyncio.run(scenario(base))
    assert blocked["busy"] == 1 and blocked["shared"] == 1 and blocked["opening"] == 0
    assert sum(blocked.values()) == backends
    assert after == {"idle": backends, "shared": 0, "busy": 0, "opening": 0}


def test_metrics_under_a_mount(dsn: str) -> None:
    """Mounted at /api, the metrics are at /api/metrics, beside /api/graphql."""
    host = Starlette(routes=[Mount("/api", app=blog_app(dsn))])
    with serve(host) as base, httpx.Client(timeout=30) as client:
        assert post(client, base + "/api/graphql", USER, {"id": 3}).status_code == 200
        m = scrape(client, base + "/api/metrics")
        assert value(m["fraiseql_fast_path"], "fraiseql_fast_path_total") == 1
        assert client.get(base + "/metrics").status_code == 404


def test_each_app_has_its_own_registry(dsn: str) -> None:
    """Two apps in one process: each counts its own requests, in its own registry."""
    first, second = blog_app(dsn), blog_app(dsn)
    assert first.metrics.registry is not second.metrics.registry
    with serve(first) as base, httpx.Client(timeout=30) as client:
        assert post(client, base + "/graphql", USER, {"id": 1}).status_code == 200
        counted = scrape(client, base + "/metrics")["fraiseql_requests"]
    families = text_string_to_metric_families(second.metrics.exposition().decode())
    untouched = {f.name: f.samples for f in families}["fraiseql_requests"]
    for samples, count in ((counted, 1), (untouched, 0)):
        labels = {"operation": "query", "outcome": "ok"}
        assert value(samples, "fraiseql_requests_total", **labels) == count


def test_without_metrics_there_is_no_metrics_path(dsn: str) -> None:
    with blog_api_declared():
        app = fraiseql.create_app(database_url=dsn)
    with serve(app) as base, httpx.Client(timeout=30) as client:
        assert client.get(base + "/metrics").status_code == 404


def test_missing_extra_is_a_startup_error() -> None:
    """Without prometheus-client, create_app(metrics=True) fails naming the extra."""
    assert import_error_without("prometheus_client", "fraiseql.create_app(metrics=True)") == (
        "create_app(metrics=True) needs prometheus-client, which is not installed: "
        "pip install 'fraiseql[metrics]'"
    )


def test_bucketing_in_batches() -> None:
    """Durations are bucketed a batch at a time, at FOLD_AT and at each scrape: a duration
    equal to a bound counts in that bound's bucket (Prometheus' `le`), the rest above."""
    from fraiseql.metrics import FOLD_AT, Metrics

    metrics = Metrics(None, lambda: None)
    durations = [BUCKETS[i % len(BUCKETS)] for i in range(FOLD_AT)] + [0.0, 11.0, BUCKETS[0]]
    for seconds in durations:
        metrics.observe([0.0, None, None, None], 400, seconds)
    assert len(metrics.pending["unknown"]) == 3  # the first FOLD_AT are bucketed already
    metrics.fold("unknown")
    expected = [0] * (len(BUCKETS) + 1)
    for seconds in durations:
        expected[next((i for i, b in enumerate(BUCKETS) if seconds <= b), len(BUCKETS))] += 1
    assert metrics.bucket_counts["unknown"] == expected
    assert metrics.duration_sums["unknown"] == pytest.approx(sum(durations))
    assert metrics.requests["unknown"] == [0, 0, len(durations)]  # rejected, all of them


def test_websocket_operations_subscriptions_and_events(served: Any, dsn: str) -> None:
    """Operations over a WebSocket count as requests do (a subscription at its first event);
    subscription events count by outcome with their sends' durations; the gauges say what
    is open now."""
    base, _ = served
    live = "subscription Live { user(id: 1) { firstName } }"

    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        writer = await fraiseql.connect(dsn)
        client = await Client.open(base)
        await client.subscribe("q", USER, variables={"id": 2})
        assert (await client.recv())["type"] == "next"
        assert (await client.recv())["type"] == "complete"
        await client.subscribe("bad", "subscription { nope }")
        assert (await client.recv())["type"] == "error"
        await client.subscribe("s", live)
        assert (await client.recv())["type"] == "next"
        await writer.execute("UPDATE tb_user SET first_name = 'Metered' WHERE id = 1")
        assert (await client.recv())["payload"]["data"]["user"]["firstName"] == "Metered"
        with httpx.Client(timeout=30) as http:
            during = scrape(http, base + "/metrics")
            await client.close()
            deadline = asyncio.get_running_loop().time() + WAIT  # the server sees the close
            while True:
                after = scrape(http, base + "/metrics")
                gone = value(
                    after["fraiseql_websocket_connections"], "fraiseql_websocket_connections"
                )
                if gone == 0 or asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.05)
        await writer.close()
        return during, after

    during, after = asyncio.run(go())
    counts = {
        (s.labels["operation"], s.labels["outcome"]): s.value
        for s in during["fraiseql_requests"]
        if s.name == "fraiseql_requests_total" and s.value
    }
    assert counts == {("query", "ok"): 1, ("subscription", "ok"): 1, ("unknown", "rejected"): 1}
    durations = during["fraiseql_request_duration_seconds"]
    assert (
        value(durations, "fraiseql_request_duration_seconds_count", operation="subscription") == 1
    )
    assert value(during["fraiseql_websocket_connections"], "fraiseql_websocket_connections") == 1
    assert value(during["fraiseql_subscriptions"], "fraiseql_subscriptions") == 1
    events = during["fraiseql_subscription_events"]
    assert value(events, "fraiseql_subscription_events_total", outcome="ok") == 2
    assert value(events, "fraiseql_subscription_events_total", outcome="error") == 0
    sends = during["fraiseql_subscription_event_send_duration_seconds"]
    assert value(sends, "fraiseql_subscription_event_send_duration_seconds_count") == 2
    assert value(sends, "fraiseql_subscription_event_send_duration_seconds_bucket", le="+Inf") == 2
    assert value(after["fraiseql_websocket_connections"], "fraiseql_websocket_connections") == 0
    assert value(after["fraiseql_subscriptions"], "fraiseql_subscriptions") == 0
