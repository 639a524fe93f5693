"""Typed mutation results: refusals answered as the result union's error member.

Every mutation's function runs wrapped (`typed`): a `fraiseql.CommandError` it raises, or a
constraint violation of the database (fraiseql.constraints), becomes an instance of the
`@fraiseql.error` member of its result union, `code`, `message` and `field` filled and the
refusal's `details` filling the fields of the same names; a mutation without such a member
lets them through (a CommandError then reaches the client as a GraphQL error with its code,
see fraiseql.masking). A mutation whose value is an error instance, returned or made so, is
rolled back: the executor reads that from the `MutationState` it sets per mutation. Both
paths call the same wrapper, so graphql-core alone answers a refusal as the executor does.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from contextvars import ContextVar
from inspect import isawaitable
from typing import Any

from fraiseql.command_error import CommandError
from fraiseql.constraints import CODES, refusal
from fraiseql.errors import DatabaseError
from fraiseql.types import ERROR_MARK, field_names, to_camel

__all__ = ["MutationState", "current_mutation", "error_member", "fill", "is_error", "typed"]

# The field a refusal names the input field it concerns with, beside code and message.
FIELD_FIELD = "field"


class MutationState:
    """What the executor and a mutation it runs tell each other: the pool whose constraint
    catalog names a violation's columns (read on another of its connections when the
    violation's is aborted), whether the value is a refusal (then it rolls back), and
    whether the database aborted the transaction for a deadlock or serialization failure
    (then a retryable mutation runs again; fraiseql.retry)."""

    __slots__ = ("pool", "refused", "rolled_back")

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.refused = False
        self.rolled_back = False


current_mutation: ContextVar[MutationState | None] = ContextVar(
    "fraiseql_current_mutation", default=None
)


def is_error(value: Any) -> bool:
    """Whether `value` is an instance of a `@fraiseql.error` class."""
    return getattr(builtins.type(value), ERROR_MARK, False) is True


def fill(error_cls: builtins.type, exc: CommandError) -> Any:
    """The error member answering refusal `exc`: code, message and field, and each of its
    `details` (named in Python or camelCase) that the class declares."""
    names = field_names(error_cls)
    values: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if FIELD_FIELD in names:
        values[FIELD_FIELD] = exc.field
    by_camel = {to_camel(name): name for name in names}
    for key, value in exc.details.items():
        name = key if key in names else by_camel.get(key)
        if name is not None and name not in values:
            values[name] = value
    for name in names:  # fields the refusal leaves out: their default, else null
        if name not in values and not hasattr(error_cls, name):
            values[name] = None
    return error_cls(**values)


def typed(fn: Callable[..., Any], error_cls: builtins.type | None) -> Callable[..., Any]:
    """`fn`, a mutation's function, answering its refusals as `error_cls` (None: the
    result has no error member) and telling the executor about error values."""

    async def run(info: Any, /, *args: Any, **kwargs: Any) -> Any:
        try:
            value = fn(info, *args, **kwargs)
            if isawaitable(value):
                value = await value
        except CommandError as exc:
            if error_cls is None:
                raise
            value = fill(error_cls, exc)
        except DatabaseError as exc:
            if error_cls is None or exc.sqlstate not in CODES:
                raise
            state = current_mutation.get()
            db = state.pool if state is not None else info.context["db"]
            value = fill(error_cls, await refusal(db, exc))
        if is_error(value):
            state = current_mutation.get()
            if state is not None:
                state.refused = True
        return value

    run.__name__ = getattr(fn, "__name__", "mutation")
    run.__wrapped__ = fn  # type: ignore[attr-defined]
    run.error_member = error_cls  # type: ignore[attr-defined]
    return run


def error_member(members: list[Any]) -> builtins.type | None:
    """The @fraiseql.error class among a result union's member classes (None if none)."""
    errors = [cls for cls in members if getattr(cls, ERROR_MARK, False) is True]
    return errors[0] if errors else None
