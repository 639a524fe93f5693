"""The read API against a real PostgreSQL: sql_source read by the Repository, the start-up
check of every sql_source (fraiseql.SchemaError), filters by document key, and the stored
numbers' digits kept on both paths (a Decimal stored as 14.00 is "14.00" everywhere).

Every GraphQL answer is compared with graphql-core executing build_schema() with the same
resolvers (the Repository then returns Python data), byte for byte.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from support.databases import database_with, pool_on
from support.graphql_reference import answered_alike

import fraiseql
from fraiseql.cqrs import DeclarationError, Many, ReadModel, Sql
from fraiseql.repository import FilterError, Repository

SCHEMA_SQL = """
CREATE TABLE tb_author (
    id      serial PRIMARY KEY,
    name    text NOT NULL,
    email   text NOT NULL UNIQUE,
    born    date,
    rating  numeric(4, 2),
    joined  timestamptz NOT NULL,
    age     int
);
CREATE TABLE tb_book (
    id        serial PRIMARY KEY,
    author_id int NOT NULL REFERENCES tb_author (id),
    title     text NOT NULL,
    price     numeric(8, 2) NOT NULL,
    weight    float8 NOT NULL
);
CREATE INDEX ON tb_book (author_id);
INSERT INTO tb_author (name, email, born, rating, joined, age) VALUES
  ('Ada', 'ada@example.com', '1815-12-10', 14.00, '2024-01-05 10:00:00+00', 9),
  ('Bob', 'bob@example.org', NULL, 3.50, '2024-01-05 12:00:00+00', 10),
  ('Cy', 'cy@example.com', '1990-01-01', NULL, '2023-06-01 00:00:00+00', NULL);
INSERT INTO tb_book (author_id, title, price, weight) VALUES
  (1, 'Notes', 14.00, 100), (1, 'Engines', 0.50, 1.10), (2, 'Bits', 1234.56, 0.0000001);
-- a document table that no read model declares: its keys are known from the GraphQL type
CREATE TABLE qm_plain (id int PRIMARY KEY, data jsonb NOT NULL);
INSERT INTO qm_plain VALUES (1, '{"id": 1, "label": "x", "size": 9}'),
                            (2, '{"id": 2, "label": "y", "size": 10}');
"""

AUTHOR = ReadModel(
    "author",
    table="tb_author",
    fields=("id", "name", "email", "born", "rating", "joined", "age"),
    embed={
        "books": Many(
            "tb_book", fk="author_id", fields=("id", "title", "price", "weight"), order_by="id"
        )
    },
    forms=("qm", "tv"),
)
# computed values: their types come from PostgreSQL (pg_typeof), even over an empty table
CARD = ReadModel(
    "card",
    table="tb_book",
    fields={"id": "id", "label": Sql("{title} || ' ' || {price}"), "double": Sql("{price} * 2")},
    forms=("tv",),
)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    return database_with(pg_server, pg_dsn, "read_api", SCHEMA_SQL, [AUTHOR, CARD])


@pytest.fixture(scope="module")
def pool(dsn: str, runner: asyncio.AbstractEventLoop) -> Iterator[Any]:
    with pool_on(runner, dsn) as pool:
        yield pool


def declare_api() -> None:
    """Types read through their sql_source: the resolvers name no view."""
    fraiseql.reset_registry()

    @fraiseql.type
    class Book:
        id: int
        title: str
        price: Decimal
        weight: float

        @fraiseql.field
        def label(self, info) -> str:  # a computed field: graphql-core answers its query
            return f"{self.title} ({self.price})"

        @fraiseql.field
        def half(self, info) -> float:  # stored numbers are floats to Python code
            return self.price / 2

    @fraiseql.type(sql_source="qm_author")
    class Author:
        id: int
        name: str
        email: str
        born: dt.date | None
        rating: Decimal | None
        joined: dt.datetime
        age: int | None
        books: list[Book]

        @fraiseql.field
        def initial(self, info) -> str:
            return self.name[0]

        @fraiseql.field
        async def peers(self, info) -> int:  # a Repository call inside a computed scalar
            return await Repository(info.context["db"], info.context).count("qm_author")

    @fraiseql.type(sql_source="qm_plain")
    class Plain:
        id: int
        label: str
        size: int

    @fraiseql.query
    async def author(info, id: int) -> Author | None:
        return await Repository(info.context["db"], info.context).find_one(id=id)

    @fraiseql.query
    async def authors(
        info, email_like: str | None = None, min_age: int | None = None
    ) -> list[Author]:
        where: dict[str, Any] = {}
        if email_like is not None:
            where["email"] = {"like": email_like}
        if min_age is not None:
            where["age"] = {"gte": min_age}
        repo = Repository(info.context["db"], info.context)
        return await repo.find(where=where or None, order_by=["id"])

    @fraiseql.query
    async def authors_named(info, name: str) -> list[Author]:
        # the class instead of the view name
        return await Repository(info.context["db"], info.context).find(Author, name=name)

    @fraiseql.query
    async def plains(info, min_size: int) -> list[Plain]:
        repo = Repository(info.context["db"], info.context)
        return await repo.find(where={"size": {"gte": min_size}}, order_by=["id"])

    @fraiseql.mutation
    async def rate_author(info, id: int, rating: Decimal) -> Author:
        db = info.context["db"]
        await db.execute("UPDATE tb_author SET rating = $1 WHERE id = $2", rating, id)
        return await Repository(db, info.context).find_one(id=id)


@pytest.fixture(scope="module")
def api(pool: Any) -> Iterator[tuple[Any, Any]]:
    declare_api()
    schema = fraiseql.build_schema()
    yield schema, fraiseql.Executor(schema)
    fraiseql.reset_registry()


def both(api: Any, runner: Any, pool: Any, query: str, variables: Any = None) -> bytes:
    """fraiseql's answer, after checking graphql-core's is the same bytes."""
    schema, executor = api
    return answered_alike(schema, executor, runner, {"db": pool}, query, variables)


BOOKS = "books { id title price weight }"
AUTHOR_FIELDS = f"id name email born rating joined age {BOOKS}"


def test_find_one_without_a_view_reads_the_types_sql_source(api, runner, pool) -> None:
    _, executor = api
    before = executor.fast_runs
    body = both(api, runner, pool, f"{{ author(id: 1) {{ {AUTHOR_FIELDS} }} }}")
    assert executor.fast_runs == before + 1  # served by the C rewriter
    author = json.loads(body)["data"]["author"]
    assert author["name"] == "Ada" and author["born"] == "1815-12-10"
    assert [b["title"] for b in author["books"]] == ["Notes", "Engines"]
    assert both(api, runner, pool, "{ author(id: 99) { id } }") == b'{"data":{"author":null}}'
    assert both(api, runner, pool, "{ author(id: 1) { peers } }") == (
        b'{"data":{"author":{"peers":3}}}'
    )


def test_decimal_keeps_its_scale_on_both_paths(api, runner, pool) -> None:
    """Defect 1: 14.00 was "14.00" on the fast path and "14.0" through graphql-core."""
    fast = both(api, runner, pool, "{ author(id: 1) { rating books { price } } }")
    assert (
        fast
        == b'{"data":{"author":{"rating":"14.00","books":[{"price":"14.00"},{"price":"0.50"}]}}}'
    )
    # a computed field sends the whole query through graphql-core: same digits
    core = both(
        api, runner, pool, "{ author(id: 1) { rating initial books { price label half } } }"
    )
    assert b'"rating":"14.00"' in core and b'"label":"Notes (14.00)","half":7.0' in core
    # a Float's digits as stored, too: 100, not 100.0; no exponent
    floats = both(api, runner, pool, "{ authors { initial books { weight } } }")
    assert b'"weight":100}' in floats and b'"weight":1.1}' in floats
    assert b'"weight":0.0000001}' in floats


def test_a_mutation_returns_the_stored_digits(api, runner, pool) -> None:
    _, executor = api
    query = 'mutation { rateAuthor(id: 2, rating: "7.10") { rating books { price } } }'
    body = runner.run_until_complete(executor.execute(query, context={"db": pool}))
    assert body == b'{"data":{"rateAuthor":{"rating":"7.10","books":[{"price":"1234.56"}]}}}'
    # and the fast path reads it back alike
    assert both(api, runner, pool, "{ author(id: 2) { rating } }") == (
        b'{"data":{"author":{"rating":"7.10"}}}'
    )


def test_filters_name_the_documents_keys(api, runner, pool) -> None:
    body = both(api, runner, pool, '{ authors(emailLike: "%@example.com") { name } }')
    assert json.loads(body)["data"]["authors"] == [{"name": "Ada"}, {"name": "Cy"}]
    # a declared Int compares numerically (as text "9" > "10")
    body = both(api, runner, pool, "{ authors(minAge: 10) { name age } }")
    assert json.loads(body)["data"]["authors"] == [{"name": "Bob", "age": 10}]
    body = both(api, runner, pool, '{ authorsNamed(name: "Cy") { id } }')
    assert json.loads(body)["data"]["authorsNamed"] == [{"id": 3}]
    # a table no read model declares: the GraphQL type's fields are its keys
    body = both(api, runner, pool, "{ plains(minSize: 10) { id label } }")
    assert json.loads(body)["data"]["plains"] == [{"id": 2, "label": "y"}]


def test_repository_outside_graphql_filters_by_read_model_keys(dsn: str) -> None:
    """No GraphQL type needed: the fraiseql catalog declares qm_author's document."""

    async def main() -> None:
        async with fraiseql.create_pool(dsn, max_size=1) as pool:
            repo = Repository(pool)
            found = await repo.find("qm_author", where={"email": {"eq": "cy@example.com"}})
            assert [d["name"] for d in found] == ["Cy"]
            # read models' types: a timestamptz compares chronologically (11:00+01 is 10:00 UTC)
            at = {"joined": {"lte": "2024-01-05T11:00:00+01:00"}}
            assert sorted(d["id"] for d in await repo.find("qm_author", where=at)) == [1, 3]
            assert [d["id"] for d in await repo.find("qm_author", where={"age": {"gt": 9}})] == [2]
            assert (await repo.find_one("qm_author", email="ada@example.com"))["id"] == 1
            assert await repo.count("qm_author", where={"born": {"isnull": True}}) == 1
            # bare paths stay
            assert len(await repo.find("qm_author", where={"data.name": {"eq": "Bob"}})) == 1
            with pytest.raises(FilterError, match="'mail' does not exist in view 'qm_author'"):
                await repo.find("qm_author", where={"mail": {"eq": "x"}})
            with pytest.raises(FilterError, match="fields: age, books, born, email"):
                await repo.find_one("qm_author", nick="x")
            # qm_plain's keys are declared by no read model and no type given here
            with pytest.raises(FilterError, match="nor a declared field"):
                await repo.find("qm_plain", where={"size": {"gt": 1}})
            with pytest.raises(FilterError, match="without a view name"):
                await repo.find()

    run(main())


def test_a_type_without_sql_source_is_a_clear_error(dsn: str) -> None:
    fraiseql.reset_registry()

    @fraiseql.type
    class Loose:
        id: int

    async def main() -> None:
        async with fraiseql.create_pool(dsn, max_size=1) as pool:
            with pytest.raises(FilterError, match="type Loose has no sql_source"):
                await Repository(pool).find(Loose)
            with pytest.raises(FilterError, match="neither a view name nor a @fraiseql.type"):
                await Repository(pool).find(int)

    try:
        run(main())
    finally:
        fraiseql.reset_registry()


# ---------------------------------------------------------------- the start-up check


def startup_error(dsn: str, declare: Any) -> str | None:
    """The SchemaError message `await app.startup()` raises for the declared types."""
    fraiseql.reset_registry()
    declare()

    @fraiseql.query
    def ping(info) -> str:
        return "pong"

    app = fraiseql.create_app(database_url=dsn)
    fraiseql.reset_registry()

    async def main() -> str | None:
        try:
            await app.startup()
        except fraiseql.SchemaError as exc:
            return str(exc)
        finally:
            await app.shutdown()
        return None

    return run(main())


def test_startup_accepts_matching_types(dsn: str) -> None:
    assert startup_error(dsn, declare_api) is None


def test_startup_names_a_missing_view(dsn: str) -> None:
    def declare() -> None:
        @fraiseql.type(sql_source="qm_nope")
        class Ghost:
            id: int

    assert "type Ghost (sql_source 'qm_nope'): view 'qm_nope' does not exist" in startup_error(
        dsn, declare
    )


def test_startup_names_a_listed_types_missing_key(dsn: str) -> None:
    def declare() -> None:
        @fraiseql.type(sql_source="qm_plain", key="uid")
        class Plain:
            id: int
            label: str

        @fraiseql.query
        async def plains(info) -> list[Plain]:  # ordered by its key: uid must exist
            return []

    assert (
        "type Plain (sql_source 'qm_plain'): its key 'uid' is neither a column of the view "
        "nor a field of the type" in startup_error(dsn, declare)
    )


def test_startup_names_a_missing_or_wrong_column(dsn: str) -> None:
    def declare() -> None:
        @fraiseql.type(sql_source="qm_author", jsonb_column="doc")
        class Author:
            id: int

        @fraiseql.type(sql_source="tb_author", jsonb_column="name")
        class Row:
            id: int

    message = startup_error(dsn, declare)
    assert (
        "type Author (sql_source 'qm_author'): column 'doc' of view 'qm_author' does not exist"
        in message
    )
    assert (
        "type Row (sql_source 'tb_author'): column 'name' of view 'tb_author' is text, not json/jsonb"
        in message
    )


def test_startup_names_a_field_absent_from_the_document(dsn: str) -> None:
    """Defect 2: a declared field the read model does not store was silently null."""

    def declare() -> None:
        @fraiseql.type
        class Book:
            id: int
            isbn: str

        @fraiseql.type(sql_source="qm_author")
        class Author:
            id: int
            nickname: str | None
            books: list[Book]

    message = startup_error(dsn, declare)
    assert (
        "type Author (sql_source 'qm_author'), column 'data': field Author.nickname "
        "(document key 'nickname') is not in the document" in message
    )
    assert (
        "field Author.books (document key 'books'): field Book.isbn (document key 'isbn') "
        "is not in the document" in message
    )


def test_startup_names_an_incompatible_field_type(dsn: str) -> None:
    def declare() -> None:
        @fraiseql.type(sql_source="tv_author")
        class Author:
            id: int
            name: int  # text in the table
            rating: int | None  # numeric: 14.00 is no Int
            joined: dt.date  # timestamptz
            books: fraiseql.JSON  # any JSON: compatible
            email: list[str]  # text, not a list

    message = startup_error(dsn, declare)
    assert (
        "field Author.name (document key 'name') is declared Int but its column is text" in message
    )
    assert (
        "field Author.rating (document key 'rating') is declared Int but its column is numeric"
        in message
    )
    assert (
        "field Author.joined (document key 'joined') is declared Date but its column is timestamptz"
        in message
    )
    assert (
        "Author.email (document key 'email') is declared a list but the document holds a text value"
        in message
    )
    assert "Author.books" not in message


def test_startup_checks_computed_values_by_their_sql_type(dsn: str) -> None:
    def declare() -> None:
        @fraiseql.type(sql_source="tv_card")
        class Card:
            id: int
            label: str
            double: Decimal

    assert startup_error(dsn, declare) is None

    def declare_wrong() -> None:
        @fraiseql.type(sql_source="tv_card")
        class Card:
            id: int
            label: int
            double: str

    message = startup_error(dsn, declare_wrong)
    assert (
        "field Card.label (document key 'label') is declared Int but its column is text" in message
    )
    assert (
        "field Card.double (document key 'double') is declared String but its column is numeric"
        in message
    )


def test_startup_checks_a_table_read_whole(dsn: str) -> None:
    def declare() -> None:
        @fraiseql.type(sql_source="tb_book")  # no data column: the row is the document
        class Book:
            id: int
            title: str
            pages: int

    message = startup_error(dsn, declare)
    assert (
        "type Book (sql_source 'tb_book'), read whole (no column 'data'): field Book.pages"
        in message
    )


def test_startup_failure_stops_the_asgi_lifespan(dsn: str) -> None:
    fraiseql.reset_registry()

    @fraiseql.type(sql_source="qm_nope")
    class Ghost:
        id: int

    @fraiseql.query
    def ghost(info) -> Ghost:
        return {"id": 1}

    app = fraiseql.create_app(database_url=dsn)
    fraiseql.reset_registry()
    incoming = [{"type": "lifespan.startup"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def main() -> None:
        await app({"type": "lifespan"}, receive, send)
        await app.shutdown()

    run(main())
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "type Ghost (sql_source 'qm_nope'): view 'qm_nope' does not exist" in sent[0]["message"]


# ---------------------------------------------------------------- a read model's own type


def test_a_read_model_gives_its_graphql_type(dsn: str) -> None:
    """`@model.graphql_type`: the relation and column come from the model, the names are
    checked against its document at import, the types against its columns at start-up."""
    fraiseql.reset_registry()

    @AUTHOR.graphql_type
    class Author:
        id: int
        name: str
        rating: Decimal | None

    typedef = fraiseql.get_registry().types[Author]
    assert (typedef.sql_source, typedef.jsonb_column) == ("qm_author", "data")
    row = AUTHOR.graphql_type(form="tv")(type("AuthorRow", (), {"__annotations__": {"id": int}}))
    assert fraiseql.get_registry().types[row].sql_source == "tv_author"

    @fraiseql.query
    async def author(info, id: int) -> Author:
        return await Repository(info.context["db"], info.context).find_one(id=id)

    app = fraiseql.create_app(database_url=dsn)
    fraiseql.reset_registry()

    async def main() -> bytes:
        await app.startup()  # the check passes
        try:
            return await app.executor.execute(
                "{ author(id: 1) { name rating } }", context={"db": app.pool}
            )
        finally:
            await app.shutdown()

    assert run(main()) == b'{"data":{"author":{"name":"Ada","rating":"14.00"}}}'


def test_a_read_model_type_refuses_a_key_its_document_lacks() -> None:
    fraiseql.reset_registry()
    try:
        with pytest.raises(
            DeclarationError,
            match=r"Author.nickname is not a key of its document \(keys: age, books",
        ):

            @AUTHOR.graphql_type
            class Author:
                id: int
                nickname: str

        with pytest.raises(DeclarationError, match="form 'mv' is not among its forms"):
            AUTHOR.graphql_type(form="mv")
    finally:
        fraiseql.reset_registry()
