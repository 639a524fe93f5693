"""Permissions: `fraiseql.requires(predicate)`, on a resolver or on a type's field.

`predicate(info)` gets the field's real `GraphQLResolveInfo` (the request's context in
`info.context`) and returns a bool or an awaitable bool. A refusal is a `GraphQLError` with
`extensions.code` "FORBIDDEN" at the field's path, so graphql-core makes the field null and
propagates that null as the spec says; a predicate that raises, or answers anything but a
bool, is an unexpected error (masked, see fraiseql.masking). The fast path asks the same
predicates before it runs a root field and hands the request to graphql-core on any refusal
(fraiseql.executor), so the rewriter never writes a refused field's value.

Imported by `import fraiseql` for the declarations: graphql-core is imported only when a
check runs, by which time the GraphQL layer is loaded anyway.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from fraiseql.types import OPERATION_MARK

__all__ = ["FORBIDDEN_CODE", "Requirement", "check", "guard", "requires"]

FORBIDDEN_CODE = "FORBIDDEN"

F = TypeVar("F", bound=Callable[..., Any])


class Requirement:
    """What `fraiseql.requires(predicate)` returns: a decorator, and `Annotated` metadata."""

    __slots__ = ("predicate",)

    def __init__(self, predicate: Callable[[Any], bool | Awaitable[bool]]) -> None:
        if not callable(predicate):
            raise TypeError(f"fraiseql.requires expects a predicate(info), got {predicate!r}")
        self.predicate = predicate

    def __repr__(self) -> str:
        return f"fraiseql.requires({_name(self.predicate)})"

    def __call__(self, fn: F) -> F:
        """`fn`, asking the predicate first: for any resolver (query, mutation, subscription,
        @fraiseql.field), whose arguments include its GraphQLResolveInfo."""
        if not callable(fn):
            raise TypeError(f"{self!r} decorates a resolver function, got {fn!r}")
        kind = getattr(fn, OPERATION_MARK, None)
        if kind is not None:  # the registry holds `fn` itself: the wrapper would never run
            raise TypeError(
                f"{self!r} is above @fraiseql.{kind} on {fn.__name__}: write it below, so "
                f"that the function registered is the one that asks the predicate"
            )
        requirements = (self,)
        if inspect.isasyncgenfunction(fn):  # a subscription's event source

            @functools.wraps(fn)
            async def events(*args: Any, **kwargs: Any) -> Any:
                await _settle(check(requirements, _info_of(args, fn)))
                async for event in fn(*args, **kwargs):
                    yield event

            return events  # type: ignore[return-value]

        @functools.wraps(fn)
        async def resolve(*args: Any, **kwargs: Any) -> Any:
            await _settle(check(requirements, _info_of(args, fn)))
            value = fn(*args, **kwargs)
            return await value if inspect.isawaitable(value) else value

        return resolve  # type: ignore[return-value]


def requires(predicate: Callable[[Any], bool | Awaitable[bool]]) -> Requirement:
    """Allow a field only when `predicate(info)` is true (or awaits to true).

    On a root field or computed field: `@fraiseql.requires(is_admin)` below `@fraiseql.query`
    (or `mutation`, `subscription`, `field`). On a stored field of a type:
    `email: Annotated[str, fraiseql.requires(is_admin)]`. A refused field is null, with a
    FORBIDDEN error at its path; a refused non-null field makes its parent null, as graphql-core
    does for any error.
    """
    return Requirement(predicate)


def check(requirements: Sequence[Requirement], info: Any) -> Awaitable[None] | None:
    """None when every predicate allows; raises the FORBIDDEN error when one refuses; an
    awaitable doing the rest when a predicate answers with an awaitable."""
    for i, requirement in enumerate(requirements):
        answer = requirement.predicate(info)
        if answer is True:
            continue
        if answer is False:
            raise forbidden(info)
        if inspect.isawaitable(answer):
            return _check_async(answer, requirement, requirements[i + 1 :], info)
        raise _not_a_bool(requirement, answer)
    return None


async def _check_async(
    answer: Awaitable[Any], requirement: Requirement, rest: Sequence[Requirement], info: Any
) -> None:
    result = await answer
    if result is False:
        raise forbidden(info)
    if result is not True:
        raise _not_a_bool(requirement, result)
    await _settle(check(rest, info))


async def _settle(pending: Awaitable[None] | None) -> None:
    if pending is not None:
        await pending


def guard(resolve: Callable[..., Any], requirements: Sequence[Requirement]) -> Callable[..., Any]:
    """A graphql-core resolver that asks `requirements` before `resolve(source, info, **args)`
    (`resolve` itself when there are none)."""
    if not requirements:
        return resolve

    def resolve_guarded(source: Any, info: Any, **args: Any) -> Any:
        pending = check(requirements, info)
        if pending is None:
            return resolve(source, info, **args)
        return _resolve_after(pending, resolve, source, info, args)

    return resolve_guarded


async def _resolve_after(
    pending: Awaitable[None],
    resolve: Callable[..., Any],
    source: Any,
    info: Any,
    args: dict[str, Any],
) -> Any:
    await pending
    value = resolve(source, info, **args)
    return await value if inspect.isawaitable(value) else value


def forbidden(info: Any) -> Exception:
    """The error of a refused field, naming it."""
    from graphql import GraphQLError

    return GraphQLError(
        f"Access to field '{info.parent_type.name}.{info.field_name}' is forbidden.",
        extensions={"code": FORBIDDEN_CODE},
    )


def _not_a_bool(requirement: Requirement, answer: Any) -> TypeError:
    return TypeError(
        f"{requirement!r}: the predicate returned {answer!r}, not a bool (or awaitable bool)"
    )


def _info_of(args: tuple[Any, ...], fn: Callable[..., Any]) -> Any:
    # Root fields get (info, ...), computed fields (parent, info, ...): the info is the one
    # argument of that type, whatever its position.
    from graphql import GraphQLResolveInfo

    for arg in args:
        if isinstance(arg, GraphQLResolveInfo):
            return arg
    raise TypeError(
        f"fraiseql.requires: {fn.__qualname__} was called without a GraphQLResolveInfo "
        "(it guards resolvers, which graphql-core and fraiseql call with one)"
    )


def _name(predicate: Callable[..., Any]) -> str:
    return getattr(predicate, "__qualname__", None) or repr(predicate)
