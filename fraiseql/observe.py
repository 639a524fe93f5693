"""What metrics and tracing learn of one GraphQL request while the HTTP app answers it.

An observation is a plain list, the cheapest object Python makes (a class instance costs
about 150 ns more per request); these are its indexes:
"""

from __future__ import annotations

STARTED = 0  # time.perf_counter() at the request's arrival
SPAN = 1  # the request's fraiseql.tracing.RequestSpan, or None when not traced
PLAN = 2  # the executor's Plan, once looked up
RESPONSE = 3  # the executor's Response, once executed

Observation = list  # [STARTED, SPAN, PLAN, RESPONSE]

# A request's outcome, as an index of fraiseql.metrics.OUTCOMES: without errors, executed
# with errors (or a server failure), refused before execution.
OK, ERROR, REJECTED = 0, 1, 2
