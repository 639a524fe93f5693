"""Unions and interfaces: their names, their members' tags, how a value finds its type.

A value of an abstract type is answered as the object type it resolves to, alike on both
paths: an instance of a declared class is that class's type; a stored value that remembers
its read model (fraiseql.documents) is that model's type; a dict names its type by the
value of the abstract type's discriminator key, a member's `tag` (its GraphQL name unless
declared), or when none is declared by its `__typename`, the member's GraphQL name.
Anything else resolves to nothing, and graphql-core words the error.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLUnionType

from fraiseql.documents import typename_of
from fraiseql.types import TypeDef, UnionDef

__all__ = ["TYPENAME", "discriminator_of", "tags", "type_resolver", "union_name"]

TYPENAME = "__typename"
"""The key naming a dict's type when its abstract type declares no discriminator."""


def union_name(members: list[builtins.type], mutation: str | None) -> str:
    """The name of a bare `A | B` hint: `CreateUserResult` for the result of the mutation
    `createUser` (FraiseQL v1's), else its members' names joined (`PostOrComment`)."""
    if mutation is not None:
        return f"{mutation[:1].upper()}{mutation[1:]}Result"
    return "Or".join(getattr(cls, "__name__", "Type") for cls in members)


def discriminator_of(abstract: GraphQLUnionType | GraphQLInterfaceType) -> str | None:
    """The document key an abstract type declares its members' tags in (None: none)."""
    declared = (abstract.extensions or {}).get("fraiseql")
    return declared.discriminator if isinstance(declared, (UnionDef, TypeDef)) else None


def tags(abstract: Any, possible: list[GraphQLObjectType]) -> dict[str, GraphQLObjectType]:
    """Each member's tag -> the member (its name when the abstract type declares no
    discriminator: then `__typename` tells); two members with one tag are refused."""
    out: dict[str, GraphQLObjectType] = {}
    keyed = discriminator_of(abstract) is not None
    for member in possible:
        typedef = (member.extensions or {}).get("fraiseql")
        tagged = keyed and isinstance(typedef, TypeDef) and typedef.tag
        tag = typedef.tag if tagged else member.name  # type: ignore[union-attr]
        if tag in out:
            raise TypeError(
                f"fraiseql: {abstract.name}: {out[tag].name} and {member.name} have the same "
                f"tag {tag!r}: declare distinct @fraiseql.type(tag=...) values"
            )
        out[tag] = member
    return out


def type_resolver() -> Callable[..., str | None]:
    """graphql-core's resolve_type for a union or interface (see the module's rules)."""
    known: dict[str, tuple[dict[builtins.type, str], dict[str, str], str]] = {}

    def resolve(value: Any, info: Any, abstract: Any) -> str | None:
        found = known.get(abstract.name)
        if found is None:
            possible = list(info.schema.get_possible_types(abstract))
            classes = {
                member.extensions["fraiseql"].cls: member.name
                for member in possible
                if isinstance((member.extensions or {}).get("fraiseql"), TypeDef)
            }
            by_tag = {tag: member.name for tag, member in tags(abstract, possible).items()}
            found = classes, by_tag, discriminator_of(abstract) or TYPENAME
            known[abstract.name] = found
        classes, by_tag, key = found
        remembered = typename_of(value)
        if remembered is not None:
            return remembered
        if isinstance(value, dict):
            tag = value.get(key)
            return by_tag.get(tag) if isinstance(tag, str) else None
        for cls in builtins.type(value).__mro__:
            if cls in classes:
                return classes[cls]
        return None

    return resolve
