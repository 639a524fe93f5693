"""Prometheus metrics of one app, served at its `/metrics` (`create_app(metrics=True)`).

The request path only adds to plain integers (no prometheus-client object is touched per
request); a custom collector turns them, and the pool's state read at that moment, into
metric families when `/metrics` is scraped. Each app has its own `CollectorRegistry`, so two
apps in one process (or two tests) never share or collide on a metric.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator
from typing import Any

from fraiseql.observe import ERROR, OK, PLAN, REJECTED, RESPONSE, Observation

EXTRA = "pip install 'fraiseql[metrics]'"

try:
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
        Metric,
    )
except ImportError as exc:  # the one place that says which extra is missing
    raise ImportError(
        f"create_app(metrics=True) needs prometheus-client, which is not installed: {EXTRA}"
    ) from exc

# The exposition format prometheus_client.generate_latest writes (the charset is added by
# the app, as for its other responses).
CONTENT_TYPE = "text/plain; version=0.0.4"

# Upper bounds of the duration buckets, in seconds: a fast-path request takes 50-100 us, so
# the bounds start at 100 us, where Prometheus' defaults (from 5 ms) would put all in one.
BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

# The `operation` label: the operation's type, "unknown" when the request named none that
# could run (unparsable document, unknown operationName, a body that is not GraphQL).
OPERATIONS = ("query", "mutation", "subscription", "unknown")
# The `outcome` label: "ok" (no errors), "error" (executed, with errors in the response, or
# the server failed: 5xx), "rejected" (refused before execution: request errors, 4xx).
OUTCOMES = ("ok", "error", "rejected")
# The `outcome` of a subscription event: its response without errors, or with.
EVENT_OUTCOMES = ("ok", "error")


# Durations wait in a list per operation, bucketed a batch at a time (sorted, one bisection
# per bound): an append per request instead of a bisection.
FOLD_AT = 4096


class Metrics:
    """The counts of one app and the registry that exposes them."""

    def __init__(self, executor: Any, pool: Callable[[], Any]) -> None:
        self.executor = executor  # its fast_runs, graphql_core_runs and plan_misses
        self.pool = pool  # the app's pool at scrape time (None until it opens)
        # Per operation: the count of each outcome, in the order of OUTCOMES.
        self.requests = {op: [0] * len(OUTCOMES) for op in OPERATIONS}
        # Per operation: the count of each bucket (the last one is +Inf), their sum, and the
        # durations not yet bucketed.
        self.bucket_counts = {op: [0] * (len(BUCKETS) + 1) for op in OPERATIONS}
        self.duration_sums = dict.fromkeys(OPERATIONS, 0.0)
        self.pending: dict[str, list[float]] = {op: [] for op in OPERATIONS}
        self.plan_lookups = 0
        # WebSocket traffic: open connections and subscriptions, and each subscription event
        # (a `next` message) by outcome with the time its message took to be written.
        self.websocket_connections = 0
        self.subscriptions = 0
        self.events = [0] * len(EVENT_OUTCOMES)
        self.event_buckets = [0] * (len(BUCKETS) + 1)
        self.event_seconds = 0.0
        self.event_pending: list[float] = []
        self.registry = CollectorRegistry()
        self.registry.register(_Collector(self))

    def observe(self, obs: Observation, status: int, seconds: float) -> None:
        """Count one GraphQL request, from what the app observed and its HTTP status."""
        plan, response = obs[PLAN], obs[RESPONSE]
        if response is not None:
            outcome = REJECTED if response.request_error else ERROR if response.has_errors else OK
        else:  # refused or failed before execution
            outcome = ERROR if status >= 500 else REJECTED
        self.count(plan, outcome, seconds)

    def count(self, plan: Any, outcome: int, seconds: float) -> None:
        """Count one GraphQL request (over HTTP, or an operation over a WebSocket) of `plan`
        (None: none could be looked up) with its outcome (an index of OUTCOMES)."""
        operation = "unknown"
        if plan is not None:
            self.plan_lookups += 1
            if plan.operation is not None:
                operation = plan.operation.operation._value_  # the enum's plain attribute
        self.requests[operation][outcome] += 1
        pending = self.pending[operation]
        pending.append(seconds)
        if len(pending) >= FOLD_AT:
            self.fold(operation)

    def fold(self, operation: str) -> None:
        """Bucket the durations of `operation` not yet bucketed."""
        self.duration_sums[operation] += _fold(
            self.pending[operation], self.bucket_counts[operation]
        )

    def event(self, ok: bool, seconds: float) -> None:
        """Count one subscription event sent (with errors or not) and its send's duration."""
        self.events[0 if ok else 1] += 1  # indexes of EVENT_OUTCOMES
        self.event_pending.append(seconds)
        if len(self.event_pending) >= FOLD_AT:
            self.event_seconds += _fold(self.event_pending, self.event_buckets)

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


class _Collector:
    """Builds the metric families from the counts at scrape time."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        requests = CounterMetricFamily(
            "fraiseql_requests",
            "GraphQL requests, by operation type and outcome (ok, error, rejected).",
            labels=("operation", "outcome"),
        )
        for operation, counts in m.requests.items():
            for outcome, count in zip(OUTCOMES, counts, strict=True):
                requests.add_metric((operation, outcome), count)
        yield requests

        durations = HistogramMetricFamily(
            "fraiseql_request_duration_seconds",
            "Time from the request's arrival to its response body, by operation type.",
            labels=("operation",),
        )
        for operation, counts in m.bucket_counts.items():
            m.fold(operation)
            durations.add_metric((operation,), _buckets(counts), m.duration_sums[operation])
        yield durations

        yield GaugeMetricFamily(
            "fraiseql_websocket_connections",
            "WebSocket connections open now (graphql-transport-ws).",
            value=m.websocket_connections,
        )
        yield GaugeMetricFamily(
            "fraiseql_subscriptions",
            "Subscriptions running now over WebSocket connections.",
            value=m.subscriptions,
        )
        events = CounterMetricFamily(
            "fraiseql_subscription_events",
            "Subscription events sent (`next` messages), by outcome (ok, error: with errors).",
            labels=("outcome",),
        )
        for outcome, count in zip(EVENT_OUTCOMES, m.events, strict=True):
            events.add_metric((outcome,), count)
        yield events
        sends = HistogramMetricFamily(
            "fraiseql_subscription_event_send_duration_seconds",
            "Time to write one subscription event's message to its WebSocket (long when the "
            "client reads slowly).",
        )
        m.event_seconds += _fold(m.event_pending, m.event_buckets)
        sends.add_metric((), _buckets(m.event_buckets), m.event_seconds)
        yield sends

        executor = m.executor
        yield CounterMetricFamily(
            "fraiseql_fast_path",
            "Requests answered by the fast path (stored JSON rewritten in C; graphql-core "
            "may have answered other root fields of the same request alongside).",
            value=executor.fast_runs,
        )
        yield CounterMetricFamily(
            "fraiseql_graphql_core",
            "Requests executed entirely by graphql-core (mutations, computed fields, "
            "introspection, fast-path fallbacks).",
            value=executor.graphql_core_runs,
        )

        plans = CounterMetricFamily(
            "fraiseql_plan_cache",
            "Plan cache lookups of GraphQL requests: hit, or miss (parsed, validated, compiled).",
            labels=("result",),
        )
        misses = min(executor.plan_misses, m.plan_lookups)
        plans.add_metric(("hit",), m.plan_lookups - misses)
        plans.add_metric(("miss",), misses)
        yield plans
        yield from _cache_families(executor.cache_stats())

        pool = m.pool()
        states = getattr(pool, "connection_states", None)
        gauge = GaugeMetricFamily(
            "fraiseql_pool_connections",
            "Connections of the app's pool by state: idle, shared (pipelined reads in "
            "flight), busy (held by one task: a transaction, a mutation), opening.",
            labels=("state",),
        )
        for state, count in (states() if states is not None else {}).items():
            gauge.add_metric((state,), count)
        yield gauge


def _cache_families(stats: dict[str, Any]) -> Iterator[Metric]:
    """What each plan cache holds now and has dropped, by cache (plans: by document text;
    shapes: by shape), to size create_app(cache_size=, cache_bytes=) by."""
    labels = ("cache",)
    entries = GaugeMetricFamily(
        "fraiseql_plan_cache_entries", "Entries the plan cache holds now.", labels=labels
    )
    size = GaugeMetricFamily(
        "fraiseql_plan_cache_bytes",
        "Estimated bytes the plan cache holds now (bounded by cache_bytes).",
        labels=labels,
    )
    evictions = CounterMetricFamily(
        "fraiseql_plan_cache_evictions",
        "Entries the plan cache dropped to stay within cache_size and cache_bytes.",
        labels=labels,
    )
    for cache, found in stats.items():
        entries.add_metric((cache,), found.entries)
        size.add_metric((cache,), found.bytes)
        evictions.add_metric((cache,), found.evictions)
    yield from (entries, size, evictions)


def _fold(batch: list[float], counts: list[int]) -> float:
    """Add the durations of `batch` to the bucket `counts` (the last: +Inf), empty it, and
    return their sum."""
    batch.sort()
    below = 0
    for i, bound in enumerate(BUCKETS):
        upto = bisect_right(batch, bound)  # le: the durations at most `bound`
        counts[i] += upto - below
        below = upto
    counts[-1] += len(batch) - below
    total = sum(batch)
    batch.clear()
    return total


def _buckets(counts: list[int]) -> list[tuple[str, int]]:
    """Cumulative (le, count) pairs of bucket counts, as HistogramMetricFamily takes them."""
    cumulative, out = 0, []
    for bound, count in zip((*BUCKETS, float("inf")), counts, strict=True):
        cumulative += count
        out.append((_bound(bound), cumulative))
    return out


def _bound(value: float) -> str:
    # Prometheus' own spelling of bucket bounds: "0.001", "1.0", "+Inf".
    return "+Inf" if value == float("inf") else repr(float(value))
