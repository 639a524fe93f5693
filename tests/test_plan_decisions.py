"""The plan compiler's decisions, without a database or the C extension's rewriter: which root
fields take the fast path and which go to graphql-core, and the compiled selection trees
(output keys, source keys, flags) of the ones that take it.

Flags are named as fraiseql.plan exports them, never by value.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from graphql import GraphQLSchema, print_ast

import fraiseql
from fraiseql.plan import ArgumentPlan, Limits, Variant, build_plan, compile_roots

ID_FLAGS = fraiseql.NON_NULL | fraiseql.FIELD_ID  # an `id: fraiseql.ID` field
TEXT = fraiseql.NON_NULL | fraiseql.FIELD_STRING  # String!: a JSON string, written as stored


@pytest.fixture(scope="module")
def schema() -> Iterator[GraphQLSchema]:
    fraiseql.reset_registry()

    @fraiseql.enum
    class Status(enum.Enum):  # stored as its GraphQL names: the stored text can be copied
        ACTIVE = "ACTIVE"

    @fraiseql.enum
    class Role(enum.Enum):  # stored as other values: graphql-core maps them to names
        ADMIN = "admin"

    @fraiseql.type
    class Post:
        id: fraiseql.ID
        title: str
        rating: Decimal | None

    @fraiseql.type(sql_source="qm_user")
    class User:
        id: fraiseql.ID
        code: int
        email: str | None
        tags: list[str]
        maybe_tags: list[str | None] | None
        user_posts: list[Post] | None
        best_post: Post | None
        status: Status
        role: Role

        @fraiseql.field
        def full_name(self, info: Any) -> str:
            return "computed"

    @fraiseql.query
    def user(info: Any, id: int) -> User | None:
        return None

    @fraiseql.query
    def users(info: Any, limit: int = 10) -> list[User]:
        return []

    @fraiseql.query
    def hello(info: Any) -> str:
        return "hi"

    @fraiseql.mutation
    def touch(info: Any, id: int) -> User | None:
        return None

    yield fraiseql.build_schema()
    fraiseql.reset_registry()


def compiled(
    schema: GraphQLSchema, query: str, variables: dict[str, Any] | None = None
) -> Variant | None:
    """The variant of `query` for `variables` (the @include/@skip values)."""
    p = build_plan(schema, query, None, Limits())
    assert p.errors is None, p.errors
    return compile_roots(schema, p, variables or {})


def split(schema: GraphQLSchema, query: str, variables: dict[str, Any] | None = None) -> Variant:
    """The variant of `query`, which must keep some root on the fast path."""
    variant = compiled(schema, query, variables)
    assert variant is not None, f"{query}: graphql-core runs the whole operation"
    return variant


def decisions(variant: Variant) -> dict[str, str]:
    """Response key -> 'fast', 'core' or 'typename' for each root field."""
    return {
        r.key: "core" if r.core else "typename" if r.fn is None else "fast" for r in variant.roots
    }


def core_text(variant: Variant) -> str:
    """The document graphql-core runs for the roots the fast path does not take."""
    assert variant.core_document is not None
    return print_ast(variant.core_document)


def tree(schema: GraphQLSchema, query: str, key: str, variables: dict | None = None) -> Any:
    """The compiled selection of root `key`, which must take the fast path."""
    (root,) = [r for r in split(schema, query, variables).roots if r.key == key]
    assert not root.core and root.tree is not None
    return root.tree


def arguments(schema: GraphQLSchema, query: str) -> ArgumentPlan:
    (root,) = split(schema, query).roots
    assert root.args is not None
    return root.args


# ---------------------------------------------------------------- fast path or graphql-core


def test_stored_fields_take_the_fast_path(schema: GraphQLSchema) -> None:
    variant = split(schema, "{ user(id: 1) { id email } users { code } }")
    assert decisions(variant) == {"user": "fast", "users": "fast"}
    assert variant.core_document is None
    assert [r.prefix for r in variant.roots] == [b'"user":', b'"users":']


@pytest.mark.parametrize(
    "query",
    [
        "{ user(id: 1) { id fullName } }",  # a @fraiseql.field resolver
        "{ user(id: 1) { bestPost { id } fullName } }",
        "{ user(id: 1) { role } }",  # an enum whose stored values are not its names
        "{ hello }",  # a root returning a scalar: nothing stored to rewrite
        "{ hello user(id: 1) { fullName } }",
        "{ __schema { queryType { name } } }",  # introspection
        '{ __type(name: "User") { name } }',
        "mutation { a: touch(id: 1) { id } b: touch(id: 2) { id } }",  # serial: graphql-core's
        "mutation { touch(id: 1) @include(if: false) { id } __typename }",  # a lone __typename
    ],
)
def test_operations_with_no_fast_root_go_to_graphql_core_whole(
    schema: GraphQLSchema, query: str
) -> None:
    assert compiled(schema, query) is None


def test_a_lone_mutation_field_takes_the_fast_path(schema: GraphQLSchema) -> None:
    variant = split(schema, "mutation { touch(id: 1) { id } }")
    assert decisions(variant) == {"touch": "fast"}


def test_a_verbatim_enum_is_copied(schema: GraphQLSchema) -> None:
    assert tree(schema, "{ user(id: 1) { status } }", "user") == (
        "User",
        (("status", "status", None, fraiseql.NON_NULL),),
    )


def test_mixed_roots_split_and_graphql_core_gets_only_its_own(schema: GraphQLSchema) -> None:
    query = "query Q { a: user(id: 1) { id } b: user(id: 2) { fullName } hello __typename }"
    variant = split(schema, query)
    assert decisions(variant) == {
        "a": "fast",
        "b": "core",
        "hello": "core",
        "__typename": "typename",
    }
    core = core_text(variant)
    assert core.startswith("query Q {") and "b: user(id: 2)" in core and "hello" in core
    assert "a: user" not in core and "__typename" not in core


def test_introspection_beside_a_stored_root(schema: GraphQLSchema) -> None:
    variant = split(schema, "{ __schema { queryType { name } } user(id: 1) { id } }")
    assert decisions(variant) == {"__schema": "core", "user": "fast"}
    assert "__schema" in core_text(variant)


def test_typename_alone_is_answered_without_graphql_core(schema: GraphQLSchema) -> None:
    variant = split(schema, "{ __typename t: __typename }")
    assert decisions(variant) == {"__typename": "typename", "t": "typename"}
    assert variant.core_document is None


def test_the_core_document_keeps_the_fragments_it_uses(schema: GraphQLSchema) -> None:
    query = "{ user(id: 1) { id } users { ...U } } fragment U on User { fullName }"
    variant = split(schema, query)
    assert decisions(variant) == {"user": "fast", "users": "core"}
    assert "fragment U on User" in core_text(variant)


# ---------------------------------------------------------------- compiled selections


def test_output_keys_are_aliases_or_camel_case_and_source_keys_are_stored_names(
    schema: GraphQLSchema,
) -> None:
    query = "{ user(id: 1) { ident: id bestPost { t: title } posts: userPosts { id } maybeTags } }"
    assert tree(schema, query, "user") == (
        "User",
        (
            ("ident", "id", None, ID_FLAGS),
            ("bestPost", "best_post", ("Post", (("t", "title", None, TEXT),)), 0),
            (
                "posts",
                "user_posts",
                ("Post", (("id", "id", None, ID_FLAGS),)),
                fraiseql.ITEMS_NON_NULL,
            ),
            ("maybeTags", "maybe_tags", None, fraiseql.FIELD_STRING),
        ),
    )


def test_typename_fields_have_no_source_key(schema: GraphQLSchema) -> None:
    query = "{ user(id: 1) { __typename kind: __typename userPosts { __typename } } }"
    assert tree(schema, query, "user") == (
        "User",
        (
            ("__typename", None, None, fraiseql.NON_NULL),
            ("kind", None, None, fraiseql.NON_NULL),
            (
                "userPosts",
                "user_posts",
                ("Post", (("__typename", None, None, fraiseql.NON_NULL),)),
                fraiseql.ITEMS_NON_NULL,
            ),
        ),
    )


@pytest.mark.parametrize(
    "field, flags",
    [
        ("id", fraiseql.NON_NULL | fraiseql.FIELD_ID),  # ID!: numbers become strings
        ("code", fraiseql.NON_NULL | fraiseql.FIELD_INT),  # Int!: a 32-bit JSON integer
        ("email", fraiseql.FIELD_STRING),  # String
        ("tags", fraiseql.NON_NULL | fraiseql.ITEMS_NON_NULL | fraiseql.FIELD_STRING),
        ("maybeTags", fraiseql.FIELD_STRING),  # [String]
    ],
)
def test_leaf_flags_follow_the_graphql_type(schema: GraphQLSchema, field: str, flags: int) -> None:
    ((_, _, _, got),) = tree(schema, f"{{ user(id: 1) {{ {field} }} }}", "user")[1]
    assert got == flags


def test_decimal_is_stringified_like_id(schema: GraphQLSchema) -> None:
    _, ((_, _, post, _),) = tree(schema, "{ user(id: 1) { bestPost { rating } } }", "user")
    assert post == ("Post", (("rating", "rating", None, fraiseql.FIELD_ID),))


def test_fragments_compile_to_the_same_tree_as_inline_fields(schema: GraphQLSchema) -> None:
    inline = tree(schema, "{ user(id: 1) { id email userPosts { title } } }", "user")
    spread = tree(
        schema,
        "{ user(id: 1) { ...U } } fragment P on Post { title }"
        " fragment U on User { id ... on User { email } userPosts { ...P } }",
        "user",
    )
    assert spread == inline


def test_repeated_fields_merge_into_one(schema: GraphQLSchema) -> None:
    query = "{ user(id: 1) { id email id bestPost { id } bestPost { title } } }"
    assert tree(schema, query, "user") == (
        "User",
        (
            ("id", "id", None, ID_FLAGS),
            ("email", "email", None, fraiseql.FIELD_STRING),
            (
                "bestPost",
                "best_post",
                (
                    "Post",
                    (("id", "id", None, ID_FLAGS), ("title", "title", None, TEXT)),
                ),
                0,
            ),
        ),
    )


# ---------------------------------------------------------------- @include / @skip


def test_include_and_skip_select_the_fields_of_each_variant(schema: GraphQLSchema) -> None:
    query = (
        "query($x: Boolean!, $y: Boolean!) { user(id: 1) { id email @include(if: $x) "
        "code @skip(if: $y) tags @include(if: false) maybeTags @skip(if: false) } }"
    )
    assert build_plan(schema, query, None, Limits()).directive_vars == ("x", "y")

    def keys(x: bool, y: bool) -> list[str]:
        return [f[0] for f in tree(schema, query, "user", {"x": x, "y": y})[1]]

    assert keys(True, False) == ["id", "email", "code", "maybeTags"]
    assert keys(False, True) == ["id", "maybeTags"]
    assert keys(True, True) == ["id", "email", "maybeTags"]


def test_a_skipped_root_is_not_compiled(schema: GraphQLSchema) -> None:
    query = "query($x: Boolean!) { user(id: 1) @include(if: $x) { id } users { code } }"
    assert decisions(split(schema, query, {"x": False})) == {"users": "fast"}
    assert decisions(split(schema, query, {"x": True})) == {"user": "fast", "users": "fast"}
    # a skipped computed field does not send the root to graphql-core
    query = "query($x: Boolean!) { user(id: 1) { id fullName @include(if: $x) } }"
    assert decisions(split(schema, query, {"x": False})) == {"user": "fast"}
    assert compiled(schema, query, {"x": True}) is None


# ---------------------------------------------------------------- arguments


def test_literal_arguments_are_coerced_once_and_variables_bound_per_request(
    schema: GraphQLSchema,
) -> None:
    literal = arguments(schema, "{ user(id: 7) { id } }")
    assert literal.const == {"id": 7} and literal.values({}) == {"id": 7}
    bound = arguments(schema, "query($i: Int!) { user(id: $i) { id } }")
    assert bound.const == {} and bound.values({"i": 3}) == {"id": 3}
    # a missing or null non-null variable: graphql-core reports the error
    assert bound.values({}) is None and bound.values({"i": None}) is None
    assert arguments(schema, "{ users { id } }").values({}) == {"limit": 10}  # the default


# ---------------------------------------------------------------- limits


@pytest.mark.parametrize(
    "limits, message",
    [
        (Limits(max_depth=2), "exceeds the maximum query depth: 3 > 2."),
        (Limits(max_aliases=1), "exceeds the maximum query number of aliases: 2 > 1."),
        (Limits(max_fields=3), "exceeds the maximum query number of fields: 4 > 3."),
    ],
)
def test_limits_refuse_the_document_before_it_is_validated(
    schema: GraphQLSchema, limits: Limits, message: str
) -> None:
    # `nosuch` would fail validation: the limit error comes first, alone.
    query = "{ a: user(id: 1) { b: bestPost { id } nosuch } }"
    refused = build_plan(schema, query, None, limits)
    assert [e.message for e in refused.errors or ()] == [f"The operation {message}"]
    assert refused.operation is None and refused.document is None


def test_limits_of_none_are_off(schema: GraphQLSchema) -> None:
    query = "{ a: user(id: 1) { b: bestPost { id } } }"
    off = Limits(max_depth=None, max_aliases=None, max_fields=None)
    assert build_plan(schema, query, None, off).errors is None
    assert build_plan(schema, query, None, Limits(max_depth=2)).errors
