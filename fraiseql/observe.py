"""What metrics and tracing learn of one GraphQL request while the HTTP app answers it."""

from __future__ import annotations

import time
from typing import Any

from fraiseql import tracing


class Observation:
    """One GraphQL request: when it began, its span if traced, its plan (once looked up) and
    its response (once executed); what they mean is fraiseql.metrics' and tracing's."""

    __slots__ = ("started", "span", "plan", "response")

    def __init__(self, tracer: Any) -> None:
        self.started = time.perf_counter()
        self.span = None if tracer is None else tracing.begin_request(tracer)
        self.plan: Any = None  # the executor's Plan
        self.response: Any = None  # the executor's Response
