"""graphql-core's own answer to a case, serialized as fraiseql serializes its responses."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import graphql

from fraiseql import graphql_compat
from fraiseql.executor import format_response
from fraiseql.masking import format_errors
from support.graphql_corpus import Case


async def reference(
    schema: graphql.GraphQLSchema, case: Case, request_id: str, context: Any = None
) -> bytes:
    """The bytes fraiseql must answer `case` with: graphql-core executing `schema` itself."""
    query, variables, operation_name = case
    result = await graphql.graphql(
        schema,
        query,
        variable_values=variables,
        operation_name=operation_name,
        context_value=context,
    )
    # Errors without a path are request errors (parse, validation, variables): no `data`.
    request_error = result.data is None and all(e.path is None for e in result.errors or ())
    return format_response(
        result.data, result.errors, with_data=not request_error, request_id=request_id
    )


def assert_same_as_graphql_core(
    model: tuple, case: Case, request_id: str, context: Any = None
) -> bytes:
    """fraiseql's executor answers `case` (with `context`) as graphql-core does, twice (the
    second run from the plan cache); `model` is (store, schema, executor), the store reset
    before each run. Returns the answer."""
    store, schema, executor = model
    store.reset()
    expected = asyncio.run(reference(schema, case, request_id, context))
    store.reset()
    got = asyncio.run(executor.execute(*case, context=context, request_id=request_id))
    assert got == expected, (case, context, got, expected)
    store.reset()
    again = asyncio.run(executor.execute(*case, context=context, request_id=request_id))
    assert again == expected, (case, context, again, expected)
    return got


async def _stream_items(stream: Any, request_id: str) -> list[Any]:
    items: list[Any] = []
    try:
        async for body in stream:
            items.append(body)
    except Exception as exc:  # noqa: BLE001 - a generator's failure ends both streams alike
        items.append(("raised", type(exc).__name__, str(exc)))
    return items


async def stream_reference(
    schema: graphql.GraphQLSchema, case: Case, request_id: str, context: Any = None
) -> Any:
    """graphql-core's subscribe() of `case`: ("refused", errors) or the response bodies (and
    the error that ended the stream, if one did), serialized as fraiseql serializes them."""
    query, variables, operation_name = case
    try:
        document = graphql.parse(query)
    except graphql.GraphQLError as exc:
        return "refused", format_errors([exc], request_id=request_id)
    errors = graphql.validate(schema, document)
    if errors:
        return "refused", format_errors(errors, request_id=request_id)
    # graphql-core's subscribe(), with 3.2's TypeError for a field giving no stream worded as
    # 3.3 answers it (fraiseql answers so on both).
    result = await graphql_compat.subscribe(
        schema,
        document,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
    )
    if isinstance(result, graphql.ExecutionResult):
        return "refused", format_errors(result.errors or [], request_id=request_id)

    async def bodies() -> Any:
        async for item in result:
            yield format_response(item.data, item.errors, request_id=request_id)

    return await _stream_items(bodies(), request_id)


async def fraiseql_stream(executor: Any, case: Case, request_id: str, context: Any = None) -> Any:
    """What fraiseql.subscriptions.open_stream answers `case` with, in stream_reference's terms."""
    from fraiseql.subscriptions import Refused, open_stream

    opened = await open_stream(executor, *case, context, request_id=request_id)
    if isinstance(opened, Refused):
        return "refused", opened.errors
    if hasattr(opened, "body"):  # a Response: request errors
        return "refused", json.loads(opened.body)["errors"]
    return await _stream_items(opened, request_id)


def assert_stream_same_as_graphql_core(model: tuple, case: Case, request_id: str) -> None:
    """fraiseql streams `case` as graphql-core's subscribe() does, twice (plan cached)."""
    store, schema, executor = model
    store.reset()
    expected = asyncio.run(stream_reference(schema, case, request_id))
    for _ in range(2):
        store.reset()
        got = asyncio.run(fraiseql_stream(executor, case, request_id))
        assert got == expected, (case, got, expected)


def answered_alike(
    schema: graphql.GraphQLSchema,
    executor: Any,
    runner: asyncio.AbstractEventLoop,
    context: Any,
    query: str,
    variables: Any = None,
) -> bytes:
    """fraiseql's answer to `query`, after checking that graphql-core executing `schema` with
    the same resolvers and context answers the same bytes (request errors without `data`)."""
    got = runner.run_until_complete(
        executor.execute(query, variables, context=context, request_id="r")
    )
    expected = runner.run_until_complete(reference(schema, (query, variables, None), "r", context))
    assert got == expected, (query, got, expected)
    return got


async def rolled_back(pool: Any, run: Any) -> Any:
    """What `run({"db": conn})` gives on a connection of `pool` inside a transaction that
    is rolled back afterwards: a write's answer, leaving the tables as they were."""
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.__aenter__()
        try:
            return await run({"db": conn})
        finally:
            await tx.__aexit__(RuntimeError, RuntimeError("rollback"), None)
