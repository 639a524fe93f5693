"""Decorators, registry and the graphql-core schema built from them."""

from __future__ import annotations

import asyncio
import enum
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import graphql
import pytest

import fraiseql
from fraiseql.types import to_camel


@pytest.fixture(autouse=True)
def fresh_registry():
    fraiseql.reset_registry()
    yield
    fraiseql.reset_registry()


def sdl() -> str:
    return graphql.print_schema(fraiseql.build_schema())


def test_to_camel() -> None:
    assert to_camel("user_posts") == "userPosts"
    assert to_camel("id") == "id"
    assert to_camel("address_line_1") == "addressLine1"
    assert to_camel("_private") == "_private"
    assert to_camel("already_camelCase") == "alreadyCamelCase"


def test_hint_mapping_and_nullability() -> None:
    @fraiseql.enum
    class Color(enum.Enum):
        RED = "RED"
        BLUE = "BLUE"

    @fraiseql.type(sql_source="qm_thing")
    class Thing:
        an_int: int
        a_float: float | None
        a_str: str
        a_bool: bool
        when: datetime
        day: date | None
        uid: UUID
        amount: Decimal
        meta: dict
        blob: fraiseql.JSON
        key: fraiseql.ID
        color: Color
        names: list[str]
        maybe_names: list[str | None] | None
        child: Child | None
        children: list[Child]

    @fraiseql.type
    class Child:
        id: int

    @fraiseql.query
    async def thing(info, id: int, color: Color = Color.RED, limit: int | None = None) -> Thing:
        return None

    text = sdl()
    for line in (
        "anInt: Int!",
        "aFloat: Float\n",
        "aStr: String!",
        "aBool: Boolean!",
        "when: DateTime!",
        "day: Date\n",
        "uid: UUID!",
        "amount: Decimal!",
        "meta: JSON!",
        "blob: JSON!",
        "key: ID!",
        "color: Color!",
        "names: [String!]!",
        "maybeNames: [String]\n",
        "child: Child\n",
        "children: [Child!]!",
        "thing(id: Int!, color: Color! = RED, limit: Int): Thing!",
    ):
        assert line in text, line


def test_registry_reset_forgets_everything() -> None:
    @fraiseql.query
    def hello(info) -> str:
        return "hi"

    assert "hello: String!" in sdl()
    fraiseql.reset_registry()
    with pytest.raises(TypeError, match="no @fraiseql.query"):
        fraiseql.build_schema()


def test_duplicate_names_are_rejected() -> None:
    @fraiseql.query
    def hello(info) -> str:
        return "hi"

    with pytest.raises(ValueError, match="'hello' is already registered"):

        @fraiseql.query
        def hello(info) -> str:  # noqa: F811
            return "again"


class NotDeclared:
    pass


def test_unmappable_hint_names_the_field() -> None:
    @fraiseql.type
    class Holder:
        thing: NotDeclared

    @fraiseql.query
    def holder(info) -> Holder:
        return None

    with pytest.raises(TypeError, match=r"Holder\.thing: cannot map the type hint"):
        fraiseql.build_schema()


def test_unknown_forward_reference_is_named() -> None:
    @fraiseql.type
    class Holder:
        thing: Missing  # noqa: F821

    @fraiseql.query
    def holder(info) -> Holder:
        return None

    with pytest.raises(TypeError, match="Missing"):
        fraiseql.build_schema()


def test_enum_decorator_rejects_non_enums() -> None:
    with pytest.raises(TypeError, match="enum.Enum subclass"):
        fraiseql.enum(int)


def test_graphql_core_executes_the_schema_alone() -> None:
    @fraiseql.enum
    class Role(enum.Enum):
        ADMIN = "admin"

    @fraiseql.input
    class NewUser:
        first_name: str
        nick_name: str | None = None

    @fraiseql.type(sql_source="qm_user")
    class User:
        id: int
        first_name: str
        nick_name: str | None
        role: Role

        @fraiseql.field
        async def greeting(self, info, punctuation: str = "!") -> str:
            return f"hi {self.first_name}{punctuation}"

    @fraiseql.query
    async def user(info, id: int) -> User:
        # a stored document as JSON bytes: snake_case keys, enum stored as its value
        return b'{"id": %d, "first_name": "Ann", "role": "admin"}' % id

    @fraiseql.mutation
    def add_user(info, new: NewUser) -> User:
        return {
            "id": 9,
            "first_name": new.first_name,
            "nick_name": new.nick_name,
            "role": Role.ADMIN,
        }

    schema = fraiseql.build_schema()
    result = asyncio.run(
        graphql.graphql(
            schema, '{ user(id: 4) { id firstName nickName role greeting(punctuation: "?") } }'
        )
    )
    assert result.errors is None
    assert result.data == {
        "user": {
            "id": 4,
            "firstName": "Ann",
            "nickName": None,
            "role": "ADMIN",
            "greeting": "hi Ann?",
        }
    }
    result = asyncio.run(
        graphql.graphql(
            schema, 'mutation { addUser(new: {firstName: "Bo"}) { id firstName nickName role } }'
        )
    )
    assert result.errors is None
    assert result.data == {
        "addUser": {"id": 9, "firstName": "Bo", "nickName": None, "role": "ADMIN"}
    }


def test_custom_scalars_parse_and_reject() -> None:
    @fraiseql.query
    def echo(info, when: datetime, day: date, uid: UUID, amount: Decimal) -> str:
        return f"{when.year} {day.month} {uid.int} {amount + 1}"

    schema = fraiseql.build_schema()
    result = graphql.graphql_sync(
        schema,
        'query($w: DateTime!) { echo(when: $w, day: "2020-03-04", '
        'uid: "00000000-0000-0000-0000-000000000005", amount: "1.50") }',
        variable_values={"w": "2021-01-02T03:04:05+00:00"},
    )
    assert result.errors is None and result.data == {"echo": "2021 3 5 2.50"}
    result = graphql.graphql_sync(
        schema,
        '{ echo(when: "yesterday", day: "2020-03-04", uid: "x", amount: "1") }',
    )
    assert result.errors and "DateTime cannot parse 'yesterday'" in result.errors[0].message
