"""Deadlocks and serialization failures in mutations: a typed error, and bounded re-runs.

PostgreSQL aborts one of two transactions that deadlock (SQLSTATE 40P01) or that a
SERIALIZABLE (or REPEATABLE READ) snapshot cannot order (40001); re-running the aborted
transaction from the start is the remedy it documents. Every mutation turns those into a
`CommandError` (`typed_rollbacks`, on both paths: a typed result answers it as its error
member) and tells the executor, through the mutation's state (fraiseql.results); a mutation
declared `retry=n` has its whole transaction re-run up to n times first
(`Executor._run_mutation`, `retries`), which only the executor can do: it owns the
transaction.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import random
from collections.abc import Callable, Iterable
from typing import Any

from fraiseql.command_error import CommandError
from fraiseql.errors import TransactionRollbackError
from fraiseql.results import current_mutation
from fraiseql.types import RETRY_MARK, marked

__all__ = ["RETRYABLE", "backoff", "retries", "typed", "typed_rollbacks"]

# SQLSTATE -> (CommandError code, message for end users)
RETRYABLE: dict[str, tuple[str, str]] = {
    "40001": (
        "SERIALIZATION_FAILURE",
        "The change conflicted with a concurrent one and was not applied; send it again.",
    ),
    "40P01": (
        "DEADLOCK",
        "The change waited on a concurrent one that waited on it, and was not applied; "
        "send it again.",
    ),
}
# Upper bound of the random pause before re-run n (n times this): the two writers that
# collided then seldom start again in step.
_BACKOFF_SECONDS = 0.005


def typed(exc: TransactionRollbackError) -> CommandError | None:
    """The CommandError of a deadlock or serialization failure (None for other rollbacks)."""
    found = RETRYABLE.get(exc.sqlstate or "")
    return None if found is None else CommandError(*found)


def _aborted(exc: TransactionRollbackError) -> CommandError:
    error = typed(exc)
    if error is None:
        raise exc
    state = current_mutation.get()
    if state is not None:
        state.rolled_back = True
    return error


def typed_rollbacks(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` (a mutation's function) raising a CommandError where the database aborted its
    transaction for a deadlock or serialization failure; the database's error is its cause."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def call_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except TransactionRollbackError as exc:
                raise _aborted(exc) from exc

        return call_async

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TransactionRollbackError as exc:
            raise _aborted(exc) from exc

    return call


def retries(fns: Iterable[Callable[..., Any] | None]) -> int:
    """How many re-runs a mutation document's root functions allow: the fewest any allows
    (a root not declared retryable allows none, nor does a document without roots)."""
    return min((marked(fn, RETRY_MARK, 0) for fn in fns), default=0)


async def backoff(attempt: int) -> None:
    """The pause before re-run `attempt` (1, 2, ...): random, growing with the attempt."""
    await asyncio.sleep(random.uniform(0, _BACKOFF_SECONDS * attempt))
