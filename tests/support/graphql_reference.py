"""graphql-core's own answer to a case, serialized as fraiseql serializes its responses."""

from __future__ import annotations

import asyncio
from typing import Any

import graphql

from fraiseql.executor import format_response
from support.graphql_corpus import Case


async def reference(schema: graphql.GraphQLSchema, case: Case, request_id: str) -> bytes:
    """The bytes fraiseql must answer `case` with: graphql-core executing `schema` itself."""
    query, variables, operation_name = case
    result = await graphql.graphql(
        schema, query, variable_values=variables, operation_name=operation_name
    )
    # Errors without a path are request errors (parse, validation, variables): no `data`.
    request_error = result.data is None and all(e.path is None for e in result.errors or ())
    return format_response(
        result.data, result.errors, with_data=not request_error, request_id=request_id
    )


def assert_same_as_graphql_core(model: tuple, case: Case, request_id: str) -> None:
    """fraiseql's executor answers `case` as graphql-core does, twice (the second run from
    the plan cache); `model` is (store, schema, executor), the store reset before each run."""
    store, schema, executor = model
    store.reset()
    expected = asyncio.run(reference(schema, case, request_id))
    store.reset()
    got = asyncio.run(executor.execute(*case, request_id=request_id))
    assert got == expected, (case, got, expected)
    store.reset()
    assert asyncio.run(executor.execute(*case, request_id=request_id)) == expected


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
    result = runner.run_until_complete(
        graphql.graphql(schema, query, variable_values=variables, context_value=context)
    )
    request_error = result.data is None and all(e.path is None for e in result.errors or ())
    expected = format_response(
        result.data, result.errors, with_data=not request_error, request_id="r"
    )
    assert got == expected, (query, got, expected)
    return got
