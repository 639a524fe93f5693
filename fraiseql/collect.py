"""The spec's CollectFields for the fast path's compiler (fields grouped by response key).

Ours because graphql-core's own changed signature and result between 3.2 and 3.3. Only
validated documents come here; an `@include`/`@skip` whose `if` is not a boolean (a null
variable) raises `Uncollectable`, and graphql-core then answers with its own error.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    VariableNode,
    is_abstract_type,
)
from graphql.utilities import type_from_ast

Fields = dict[str, list[FieldNode]]


class Uncollectable(Exception):
    """A directive argument the fast path cannot decide: graphql-core reports it."""


def collect_fields(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    object_type: GraphQLObjectType,
    selection_sets: list[SelectionSetNode],
) -> Fields:
    """The fields of `selection_sets` on `object_type`, in order, keyed by response key.

    One selection set for the root; for a field, the sets of all its nodes (merged)."""
    fields: Fields = {}
    visited: set[str] = set()
    for selection_set in selection_sets:
        _collect(schema, fragments, variables, object_type, selection_set, fields, visited)
    return fields


def _collect(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    object_type: GraphQLObjectType,
    selection_set: SelectionSetNode,
    fields: Fields,
    visited: set[str],
) -> None:
    for selection in selection_set.selections:
        if not _included(selection, variables):
            continue
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            fields.setdefault(key, []).append(selection)
        elif isinstance(selection, InlineFragmentNode):
            if _applies(schema, selection, object_type):
                _collect(
                    schema,
                    fragments,
                    variables,
                    object_type,
                    selection.selection_set,
                    fields,
                    visited,
                )
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in visited:
                continue
            visited.add(name)
            fragment = fragments.get(name)
            if fragment is not None and _applies(schema, fragment, object_type):
                _collect(
                    schema,
                    fragments,
                    variables,
                    object_type,
                    fragment.selection_set,
                    fields,
                    visited,
                )


def _included(selection: Any, variables: dict[str, Any]) -> bool:
    for directive in selection.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        value: Any = None
        for arg in directive.arguments or ():
            if arg.name.value == "if":
                node = arg.value
                value = (
                    variables.get(node.name.value) if isinstance(node, VariableNode) else node.value
                )
        if type(value) is not bool:
            raise Uncollectable(f"@{name}(if:) is {value!r}")
        if value is (name == "skip"):
            return False
    return True


def _applies(
    schema: GraphQLSchema,
    fragment: InlineFragmentNode | FragmentDefinitionNode,
    object_type: GraphQLObjectType,
) -> bool:
    if fragment.type_condition is None:
        return True
    condition = type_from_ast(schema, fragment.type_condition)
    if condition is object_type:
        return True
    return is_abstract_type(condition) and schema.is_sub_type(condition, object_type)  # type: ignore[arg-type]
