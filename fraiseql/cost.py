"""The query cost limit: how many values a response may hold, priced before anything runs.

A field costs 1, times the size of each list it is in: a list field multiplies itself and
its selection by its `limit`, `first` or `last` argument (a literal or a variable), else by
that argument's default, else by DEFAULT_LIST_SIZE (a typical size rather than the most a
field may return, which would refuse every nested list by default). So
`users(limit: 1000) { userPosts { id } }` costs 1000 * (1 + 10 * (1 + 1)) = 21,000. Every
field is priced as if included (@include and @skip ignored: an upper bound), fragments on
every type they may apply to are added, and introspection (`__schema`, `__type`) costs
nothing: its size is the schema's, not the data's.

A document whose sizes are all literals or defaults is priced once, with its plan; one whose
sizes come from variables is priced per request (Cost.check), before its resolvers run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

# The arguments that bound a list's size; a list without one counts DEFAULT_LIST_SIZE items.
SIZE_ARGUMENTS = ("limit", "first", "last")
DEFAULT_LIST_SIZE = 10
_FREE = ("__schema", "__type")


def _lists(gql: Any) -> tuple[Any, int]:
    """The named type inside `gql` and how many list wrappers it has."""
    lists = 0
    while isinstance(gql, (GraphQLNonNull, GraphQLList)):
        lists += isinstance(gql, GraphQLList)
        gql = gql.of_type
    return gql, lists


class _Pricer:
    """Prices one operation; `variables` None: at plan time (`uses_variables` then tells
    whether a size came from one)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any] | None,
        default_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.default_size = default_size
        self.uses_variables = False
        self.memo: dict[str, int] = {}

    def selection_set(self, parent: Any, selection_set: SelectionSetNode | None) -> int:
        if selection_set is None:
            return 0
        total = 0
        fields = getattr(parent, "fields", None) or {}
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                name = sel.name.value
                if name in _FREE:
                    continue
                field_def = fields.get(name)
                if field_def is None:  # __typename
                    total += 1
                    continue
                named, lists = _lists(field_def.type)
                size = self.size(field_def, sel) ** lists if lists else 1
                total += size * (1 + self.selection_set(named, sel.selection_set))
            elif isinstance(sel, InlineFragmentNode):
                cond = sel.type_condition
                on = self.schema.get_type(cond.name.value) if cond else parent
                total += self.selection_set(on, sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode):
                total += self.fragment(sel.name.value)
        return total

    def fragment(self, name: str) -> int:
        if name not in self.memo:
            frag = self.fragments[name]
            on = self.schema.get_type(frag.type_condition.name.value)
            self.memo[name] = self.selection_set(on, frag.selection_set)
        return self.memo[name]

    def size(self, field_def: Any, node: FieldNode) -> int:
        for arg in node.arguments or ():
            name = arg.name.value
            if name not in SIZE_ARGUMENTS or name not in field_def.args:
                continue
            value: Any = None
            if isinstance(arg.value, IntValueNode):
                value = int(arg.value.value)
            elif isinstance(arg.value, VariableNode):
                self.uses_variables = True
                value = (self.variables or {}).get(arg.value.name.value)
            if isinstance(value, int):
                return max(value, 0)
        for name in SIZE_ARGUMENTS:
            arg_def = field_def.args.get(name)
            if arg_def is not None and isinstance(arg_def.default_value, int):
                return max(arg_def.default_value, 0)
        return self.default_size


@dataclass(frozen=True)
class Cost:
    """The price of an operation whose list sizes come from variables, checked per request."""

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    max_cost: int
    default_size: int

    def check(self, variables: dict[str, Any]) -> GraphQLError | None:
        """The error when the request's variables make the operation cost too much."""
        pricer = _Pricer(self.schema, self.fragments, variables, self.default_size)
        cost = _price(pricer, self.operation)
        return _error(self.operation, cost, self.max_cost, self.default_size)


def _price(pricer: _Pricer, op: OperationDefinitionNode) -> int:
    root = pricer.schema.get_root_type(op.operation)
    try:
        return pricer.selection_set(root, op.selection_set)
    except RecursionError:  # nesting only max_depth=None lets through: priced beyond any bound
        return 1 << 62


def _error(
    op: OperationDefinitionNode, cost: int, max_cost: int, default_size: int
) -> GraphQLError | None:
    if cost <= max_cost:
        return None
    name = f"Operation '{op.name.value}'" if op.name else "The operation"
    return GraphQLError(
        f"{name} exceeds the maximum query cost: {cost} > {max_cost} (each field counts once "
        f"per item of the lists it is in: a list counts its `limit` or `first` argument, "
        f"else {default_size} items; ask for fewer).",
        op,
    )


def price(
    schema: GraphQLSchema,
    op: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    max_cost: int,
    default_size: int = DEFAULT_LIST_SIZE,
) -> GraphQLError | Cost | None:
    """At plan time: the error when `op` costs too much whatever its variables, a Cost to
    check per request when its sizes come from variables, or None (within the bound)."""
    pricer = _Pricer(schema, fragments, None, default_size)
    cost = _price(pricer, op)
    if pricer.uses_variables:
        return Cost(schema, op, fragments, max_cost, default_size)
    return _error(op, cost, max_cost, default_size)
