"""graphql-core's answer for fast root fields that failed, without running their resolvers again.

A fast root whose resolver raised, or whose value the rewriter could not complete (a null in
a non-null field), is answered by graphql-core over a document of those roots alone, with a
middleware that hands graphql-core each root's recorded outcome instead of calling the
resolver: graphql-core then locates the errors, completes the values and propagates nulls
itself, so paths, locations, messages and their order are its own. Each outcome is replayed
when it happened: at the call, or after an await, the awaited ones in the order they came
(one loop step apart), so that graphql-core collects the errors in the order it would have.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Any, NamedTuple

from graphql import ExecutionResult, GraphQLError

from fraiseql.graphql_compat import NULLING_ERROR_LAST

# The order in which outcomes happened, across requests (only their relative order counts).
_sequence = itertools.count()


class Outcome(NamedTuple):
    """What a root's resolver did: raised `error`, or returned `value` that the fast path
    could not complete; `at_call` when that happened at the call, not after an await."""

    error: Exception | None
    value: Any
    at_call: bool
    seq: int

    @classmethod
    def now(cls, error: Exception | None, value: Any, at_call: bool) -> Outcome:
        return cls(error, value, at_call, next(_sequence))

    def replay(self, steps: int) -> Any:
        if self.at_call:
            if self.error is not None:
                raise self.error
            return self.value
        return self._awaited(steps)

    async def _awaited(self, steps: int) -> Any:
        for _ in range(steps):  # after the awaited outcomes that came before this one
            await asyncio.sleep(0)
        if self.error is not None:
            raise self.error
        return self.value


class RootFailed(Exception):
    """A fast root field failed; carries its Outcome for the replay."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__("fast root failed")
        self.outcome = outcome


def middleware(outcomes: dict[str, Outcome]) -> Callable[..., Any]:
    """graphql-core middleware: the root fields named in `outcomes` replay them."""
    awaited = sorted((o.seq, key) for key, o in outcomes.items() if not o.at_call)
    steps = {key: i for i, (_, key) in enumerate(awaited)}

    def replaying(resolve: Callable[..., Any], source: Any, info: Any, **args: Any) -> Any:
        if info.path.prev is None:
            outcome = outcomes.get(info.path.key)
            if outcome is not None:
                return outcome.replay(steps.get(info.path.key, 0))
        return resolve(source, info, **args)

    return replaying


def merge_errors(
    keys: list[str], replayed: ExecutionResult | None, core: ExecutionResult | None
) -> tuple[list[GraphQLError], bool]:
    """The errors of the replayed roots and of the roots graphql-core answered alongside, and
    whether the data is null. Each run's errors keep their order, the two merged by root
    (graphql-core's order when they fail in the same step). graphql-core 3.3 adds the error
    that nulls the data (a non-null root's) last, after those of the roots settled meanwhile:
    so does the merge there; 3.2 keeps it in root order. When both runs nulled, the first
    such error is kept."""
    if core is None or not core.errors:
        assert replayed is not None
        return list(replayed.errors or ()), replayed.data is None
    if replayed is None:
        return list(core.errors), core.data is None
    index = {key: i for i, key in enumerate(keys)}

    def position(error: GraphQLError) -> int:
        return index.get(error.path[0], -1) if error.path else -1

    nulling = [run.errors[-1] for run in (replayed, core) if run.data is None and run.errors]
    first = min(nulling, key=position, default=None)  # the one kept when both runs nulled
    runs = [
        [
            e
            for e in run.errors or ()
            if (e is first and not NULLING_ERROR_LAST) or all(e is not n for n in nulling)
        ]
        for run in (replayed, core)
    ]
    errors = list(heapq.merge(*runs, key=position))
    if first is not None and NULLING_ERROR_LAST:
        errors.append(first)
    return errors, bool(nulling)
