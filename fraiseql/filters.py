"""The GraphQL input types of generated list arguments: `TWhereInput`, `TOrderByInput`, the
filter input of each scalar, and `OrderDirection` (FraiseQL v1's names, so that its clients'
queries validate unchanged).

Built from the graphql-core object type of a `@fraiseql.type`, lazily (thunks), so embedded
types that refer back to each other work. Input field out-names are the stored document's
keys and fraiseql.where's operator and logic names, so a coerced `where` argument is a
filter `SQLBuilder` takes as it is.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
)

from fraiseql.scalars import Scalar

__all__ = ["FilterTypes", "ORDER_DIRECTION"]

ORDER_DIRECTION = GraphQLEnumType(
    "OrderDirection",
    {
        "ASC": GraphQLEnumValue("asc", description="Ascending, nulls last."),
        "DESC": GraphQLEnumValue("desc", description="Descending, nulls first."),
        "ASC_NULLS_FIRST": GraphQLEnumValue("asc_nulls_first"),
        "ASC_NULLS_LAST": GraphQLEnumValue("asc_nulls_last"),
        "DESC_NULLS_FIRST": GraphQLEnumValue("desc_nulls_first"),
        "DESC_NULLS_LAST": GraphQLEnumValue("desc_nulls_last"),
    },
    description="The direction of one orderBy entry; ties are broken by the key ascending.",
)

_ORDERED = ("gt", "gte", "lt", "lte")
# matched literally (% and _ are not wildcards), then patterns (LIKE, POSIX regex)
_TEXT = ("contains", "icontains", "startswith", "istartswith", "endswith", "iendswith")
_PATTERNS = ("like", "ilike", "matches", "imatches")


def _named(gql: Any) -> Any:
    while isinstance(gql, (GraphQLNonNull, GraphQLList)):
        gql = gql.of_type
    return gql


def _is_list(gql: Any) -> bool:
    return isinstance(gql.of_type if isinstance(gql, GraphQLNonNull) else gql, GraphQLList)


class FilterTypes:
    """The generated input types of one schema, each built once."""

    def __init__(self, scalar_of: Any, info_of: Any) -> None:
        self._scalar_of = scalar_of  # named GraphQL type -> Scalar | None
        self._info_of = info_of  # GraphQLField -> its FieldInfo, or None when computed
        self._scalar_filters: dict[str, GraphQLInputObjectType] = {}
        self._where: dict[str, GraphQLInputObjectType] = {}
        self._order: dict[str, GraphQLInputObjectType] = {}

    def where_input(self, object_type: GraphQLObjectType) -> GraphQLInputObjectType:
        name = f"{object_type.name}WhereInput"
        if name not in self._where:
            self._where[name] = GraphQLInputObjectType(
                name,
                lambda: self._where_fields(object_type, name),
                description=f"Filters on {object_type.name}: every field given must hold.",
            )
        return self._where[name]

    def order_input(self, object_type: GraphQLObjectType) -> GraphQLInputObjectType:
        name = f"{object_type.name}OrderByInput"
        if name not in self._order:
            self._order[name] = GraphQLInputObjectType(
                name,
                lambda: self._order_fields(object_type),
                description=f"One field of {object_type.name} to order by (one per entry).",
            )
        return self._order[name]

    def _stored(self, object_type: GraphQLObjectType) -> list[tuple[str, Any, str]]:
        out = []
        for name, fdef in object_type.fields.items():
            info = self._info_of(fdef)
            if info is not None:
                out.append((name, fdef.type, info.src_key))
        return out

    def _where_fields(self, object_type: GraphQLObjectType, name: str) -> dict[str, Any]:
        fields: dict[str, GraphQLInputField] = {}
        for field_name, gql, key in self._stored(object_type):
            named = _named(gql)
            if isinstance(named, GraphQLObjectType):
                kind: Any = self.where_input(named)  # a list of them: some element matches
            else:
                scalar = self._scalar_of(named)
                if scalar is None:
                    continue
                kind = self.scalar_filter(scalar, many=_is_list(gql))
            fields[field_name] = GraphQLInputField(kind, out_name=key)
        me = self._where[name]
        fields["AND"] = GraphQLInputField(GraphQLList(GraphQLNonNull(me)), out_name="and")
        fields["OR"] = GraphQLInputField(GraphQLList(GraphQLNonNull(me)), out_name="or")
        fields["NOT"] = GraphQLInputField(me, out_name="not")
        return fields

    def _order_fields(self, object_type: GraphQLObjectType) -> dict[str, Any]:
        fields = {}
        for field_name, gql, key in self._stored(object_type):
            scalar = self._scalar_of(_named(gql))
            if scalar is not None and scalar.ordered and not _is_list(gql):
                fields[field_name] = GraphQLInputField(ORDER_DIRECTION, out_name=key)
        return fields

    def scalar_filter(self, scalar: Scalar, *, many: bool = False) -> GraphQLInputObjectType:
        """`StringFilter` and its kin (`StringListFilter` for a list of them)."""
        name = f"{scalar.name}{'List' if many else ''}Filter"
        found = self._scalar_filters.get(name)
        if found is None:
            ops = _list_operators(scalar) if many else _operators(scalar)
            found = GraphQLInputObjectType(
                name,
                lambda: {op: GraphQLInputField(kind, out_name=op) for op, kind in ops.items()},
                description=f"Operators on {'a list of ' if many else ''}{scalar.name} values.",
            )
            self._scalar_filters[name] = found
        return found


def _operators(scalar: Scalar) -> dict[str, Any]:
    value = scalar.graphql
    values = GraphQLList(GraphQLNonNull(value))
    ops: dict[str, Any] = {"eq": value, "neq": value, "in": values, "nin": values}
    ops["isnull"] = GraphQLBoolean
    if scalar.ordered:
        ops.update(dict.fromkeys(_ORDERED, value))
    if scalar.name == "String":
        ops.update(dict.fromkeys(_TEXT + _PATTERNS, value))
    if scalar.name == "JSON":
        ops["haskey"] = GraphQLString
        ops["contains"] = value
    return ops


def _list_operators(scalar: Scalar) -> dict[str, Any]:
    values = GraphQLList(GraphQLNonNull(scalar.graphql))
    return {
        "eq": values,
        "neq": values,
        "contains": values,
        "overlaps": values,
        "isnull": GraphQLBoolean,
    }
