"""Subscriptions: the Subscription root type, and each subscription run as a stream of responses.

A `@fraiseql.subscription` is an async generator function; every value it yields is one
response, executed against the operation's selection. When that selection is all stored JSON
the values take the queries' fast path (`Executor.fragment`: a Repository's rewritten bytes
as they are, Python data through the C rewriter); otherwise, or when a value needs null
propagation, graphql-core executes that value, so each response is byte for byte what
graphql-core's `subscribe()` gives for the same values.

While the generator runs, `current_field` names the subscription's field, as for a query's
resolver: `Repository.watch` then yields fragments rewritten for its selection.
"""

from __future__ import annotations

import collections.abc
import typing
from collections.abc import AsyncIterable, AsyncIterator
from inspect import isawaitable
from typing import Any, NamedTuple

from graphql import (
    ExecutionResult,
    GraphQLField,
    GraphQLObjectType,
    OperationType,
)
from graphql import execute as graphql_execute

from fraiseql import graphql_compat
from fraiseql.arguments import LIST, Generated
from fraiseql.current import Field, current_field
from fraiseql.executor import Executor, Response, bind_root, format_response
from fraiseql.masking import format_errors
from fraiseql.schema import FieldInfo, _Builder, _named, plain_value, resolving_field
from fraiseql.types import OperationDef

# The hints of an async generator function's return: AsyncIterator[T], AsyncGenerator[T, None]...
_STREAMS = (
    collections.abc.AsyncIterator,
    collections.abc.AsyncIterable,
    collections.abc.AsyncGenerator,
)


class Refused(NamedTuple):
    """A subscription that produced no stream: its errors, formatted (a protocol `error`)."""

    errors: list[dict[str, Any]]


# ---------------------------------------------------------------- the schema


def _item_hint(hint: Any, where: str) -> Any:
    if typing.get_origin(hint) not in _STREAMS or not typing.get_args(hint):
        raise TypeError(
            f"fraiseql: {where} must be an async generator annotated -> AsyncIterator[T], "
            f"got -> {hint!r}"
        )
    return typing.get_args(hint)[0]


def _event(event: Any, info: Any, **_: Any) -> Any:
    # Each value the generator yielded is the field's value (graphql-core's per-event root).
    return plain_value(event)


def _source(fn: Any, generated: Generated | None) -> Any:
    """graphql-core's `subscribe` resolver of a user function: its stream, run with
    `current_field` naming the field's type and its generated arguments (no selection:
    graphql-core executes the values)."""

    def resolve(_root: Any, info: Any, **args: Any) -> Any:
        field = resolving_field(info, args, generated)
        source = fn(info, **args)
        if isawaitable(source):
            return _awaited(source, field)
        return stream_of(source, field)

    return resolve


async def _awaited(source: Any, field: Field) -> Any:
    return stream_of(await source, field)


def stream_of(source: Any, field: Field) -> Any:
    """`source` iterated with `current_field` set; a value that is not an async iterable is
    returned as it is, for graphql-core to refuse in its own words."""
    if not isinstance(source, AsyncIterable):
        return source
    return _with_field(source, field)


async def _with_field(source: AsyncIterable[Any], field: Field) -> AsyncIterator[Any]:
    iterator = aiter(source)
    try:
        while True:
            try:
                value = await _step(iterator, field)
            except StopAsyncIteration:
                return
            yield value
    finally:
        await _close(iterator)


async def _step(iterator: AsyncIterator[Any], field: Field) -> Any:
    # Async generators run in their consumer's context: the variable is set around each step.
    token = current_field.set(field)
    try:
        return await anext(iterator)
    finally:
        current_field.reset(token)


async def _close(iterator: Any) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


def subscription_root(builder: _Builder, ops: dict[str, OperationDef]) -> GraphQLObjectType | None:
    """The Subscription root type of the declared subscriptions (None when there are none)."""
    if not ops:
        return None

    def fields() -> dict[str, GraphQLField]:
        out: dict[str, GraphQLField] = {}
        for op in ops.values():
            where = f"Subscription.{op.name}"
            hints = builder.hints(op.fn, where)
            if "return" not in hints:
                raise TypeError(f"fraiseql: {where} needs a return type hint")
            item = _item_hint(hints["return"], where)
            gql = builder.gql_type(item, where, is_input=False)
            named = _named(gql)
            stored = isinstance(named, GraphQLObjectType) and "fraiseql" in (named.extensions or {})
            args = builder.arguments(op.fn, hints, where, skip=1)
            # A stream of lists (`-> AsyncIterator[list[T]]`) filters as a Query list does:
            # Repository.watch applies the where/orderBy/limit/offset it generates.
            generated = builder.generated(item, op.fn)
            if generated is not None and generated.kind == LIST:
                args.update(builder.generated_arguments(generated))
            else:
                generated = None
            info = FieldInfo(src_key=None, fn=op.fn, stored_root=stored, generated=generated)
            out[op.name] = GraphQLField(
                gql,
                args=args,
                resolve=_event,
                subscribe=_source(op.fn, generated),
                description=op.description,
                extensions={"fraiseql": info},
            )
        return out

    return GraphQLObjectType("Subscription", fields)


# ---------------------------------------------------------------- execution


async def open_stream(
    executor: Executor,
    query: str,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
    context: Any = None,
    *,
    debug: bool | None = None,
    request_id: str | None = None,
) -> Response | Refused | AsyncIterator[bytes]:
    """One operation of a WebSocket client: a query or mutation answers one Response; a
    subscription a stream of response bodies, or Refused when it has none (request errors,
    a failing or non-generator resolver). The stream raises what its generator raises."""
    plan = executor.plan(query, operation_name)
    if (
        plan.errors
        or plan.operation is None
        or plan.operation.operation != OperationType.SUBSCRIPTION
    ):
        return await executor.run(
            query, variables, operation_name, context, debug=debug, request_id=request_id
        )
    masking = {"debug": executor.debug if debug is None else debug, "request_id": request_id}
    values = executor.variable_values(plan, variables)
    if type(values) is list:
        return Refused(format_errors(values, **masking))
    coerced = values.coerced if graphql_compat.WRAPPED_VARIABLES else values
    root = executor.stream_root(plan, coerced)
    if root is not None:
        try:
            info, args, field = bind_root(root, coerced, values, context)
            token = current_field.set(field)
            try:
                source = root.fn(info, **args)  # type: ignore[misc]
                if isawaitable(source):
                    source = await source
            finally:
                current_field.reset(token)
        except Exception:  # noqa: BLE001 - graphql-core runs it again and words the error
            source = None
        if isinstance(source, AsyncIterable):
            return _fast_events(
                executor, plan.document, root, aiter(source), field, variables,
                operation_name, context, masking,
            )  # fmt: skip
    result = await graphql_compat.subscribe(
        executor.schema,
        plan.document,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
    )
    if isinstance(result, ExecutionResult):
        return Refused(format_errors(result.errors or [], **masking))
    return _core_events(result, masking)


async def _core_events(results: Any, masking: dict[str, Any]) -> AsyncIterator[bytes]:
    try:
        async for result in results:
            yield format_response(result.data, result.errors, **masking)
    finally:
        await results.aclose()


async def _fast_events(
    executor: Executor,
    document: Any,
    root: Any,
    source: AsyncIterator[Any],
    field: Field,
    variables: Any,
    operation_name: str | None,
    context: Any,
    masking: dict[str, Any],
) -> AsyncIterator[bytes]:
    # Steps `source` itself (no _with_field in between): an async generator less per
    # subscription, each one a frame and an entry in the loop's weak set of generators.
    try:
        while True:
            try:
                event = await _step(source, field)
            except StopAsyncIteration:
                return
            try:
                fragment = executor.fragment(root, event)
            except Exception:  # noqa: BLE001 - null propagation, a rewriter error: graphql-core
                # A fragment the rewriter made can only fail by being null.
                value = None if isinstance(event, bytes) else event
                result = graphql_execute(
                    executor.schema,
                    document,
                    root_value=value,
                    context_value=context,
                    variable_values=variables,
                    operation_name=operation_name,
                )
                if isawaitable(result):
                    result = await result
                yield format_response(result.data, result.errors, **masking)
            else:
                yield b"".join((b'{"data":{', root.prefix, fragment, b"}}"))
    finally:
        await _close(source)
