"""The fast path hands resolvers the GraphQLResolveInfo graphql-core itself would, 3.2 or 3.3."""

from __future__ import annotations

import asyncio
from typing import Any

import graphql
from graphql import GraphQLResolveInfo, print_ast

import fraiseql
from fraiseql import graphql_compat
from fraiseql.executor import Executor

QUERY = "query Q($id: Int!) { item(id: $id) { ...F } } fragment F on Item { id name }"


def infos() -> tuple[GraphQLResolveInfo, GraphQLResolveInfo]:
    fraiseql.reset_registry()

    @fraiseql.type
    class Item:
        id: int
        name: str

    seen: list[GraphQLResolveInfo] = []

    @fraiseql.query
    async def item(info, id: int) -> Item:
        seen.append(info)
        if "async_helpers" in GraphQLResolveInfo._fields:  # 3.3: the helpers work here too
            (name,) = await info.async_helpers.gather([asyncio.sleep(0, "x")])
            info.async_helpers.track([asyncio.sleep(0)])
        else:
            name = "x"
        return {"id": id, "name": name}

    schema = fraiseql.build_schema()
    fraiseql.reset_registry()
    executor = Executor(schema)
    context = {"who": "test"}
    fast = asyncio.run(executor.execute(QUERY, {"id": 3}, context=context))
    core = asyncio.run(
        graphql.graphql(schema, QUERY, variable_values={"id": 3}, context_value=context)
    )
    assert executor.fast_runs == 1 and fast == b'{"data":{"item":{"id":3,"name":"x"}}}'
    assert core.data == {"item": {"id": 3, "name": "x"}} and not core.errors
    return seen[0], seen[1]


def comparable(info: GraphQLResolveInfo) -> dict[str, Any]:
    """Each field of an info as something two executions can be compared by."""
    out: dict[str, Any] = {}
    for name, value in info._asdict().items():
        if name == "field_nodes":
            value = [print_ast(node) for node in value]
        elif name == "path":
            value = (value.as_list(), value.typename)
        elif name == "fragments":
            value = {key: print_ast(node) for key, node in value.items()}
        elif name == "operation":
            value = print_ast(value)
        elif name == "variable_values" and graphql_compat.WRAPPED_VARIABLES:
            value = (type(value), value.coerced, {k: s.value for k, s in value.sources.items()})
        elif name in ("is_awaitable", "async_helpers"):
            value = type(value)  # functions bound to each executor
        out[name] = value
    return out


def test_fast_path_info_is_graphql_cores() -> None:
    fast, core = infos()
    assert type(fast) is type(core)
    assert comparable(fast) == comparable(core)
    assert fast.schema is core.schema and fast.return_type is core.return_type
    variables = fast.variable_values
    assert (variables.coerced if graphql_compat.WRAPPED_VARIABLES else variables) == {"id": 3}
