"""graphql-core's own answer to a case, serialized as fraiseql serializes its responses."""

from __future__ import annotations

import asyncio
from typing import Any

import graphql

from fraiseql.executor import format_response
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
