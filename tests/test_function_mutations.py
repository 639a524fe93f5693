"""Mutations backed by PostgreSQL functions (`@fraiseql.mutation(function=...)`): calls by
name and type, results read back from the read model, raised errors typed, signatures
checked at start-up; tables checked after every failure, answers compared with
graphql-core executing the same schema."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from support.databases import database_with, pool_on, table_rows
from support.graphql_reference import reference, rolled_back

import fraiseql
from fraiseql import constraints
from fraiseql.cqrs import ReadModel
from fraiseql.sources import check_sources

SCHEMA_SQL = """
CREATE SCHEMA app;
CREATE TABLE tb_person (
    id    serial PRIMARY KEY,
    name  text NOT NULL,
    email text NOT NULL UNIQUE,
    age   int
);
-- One input object's fields as the arguments; refuses a bad address on purpose.
CREATE FUNCTION app.fn_create_person(name text, email text, age int DEFAULT NULL)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE v int;
BEGIN
    IF position('@' IN email) = 0 THEN
        RAISE EXCEPTION 'That is not an email address.' USING COLUMN = 'email';
    END IF;
    IF name = 'root' THEN
        RAISE EXCEPTION 'That name is reserved.' USING ERRCODE = 'U0001';
    END IF;
    INSERT INTO tb_person (name, email, age) VALUES (name, email, age) RETURNING id INTO v;
    RETURN v;
END $$;
-- FraiseQL v1's convention: the whole input as one jsonb parameter.
CREATE FUNCTION app.fn_register(input_payload jsonb) RETURNS int LANGUAGE sql AS $$
    INSERT INTO tb_person (name, email) VALUES (input_payload->>'name', input_payload->>'email')
    RETURNING id
$$;
CREATE FUNCTION app.fn_rename(person_id int, new_name text) RETURNS int LANGUAGE sql AS $$
    UPDATE tb_person SET name = new_name WHERE id = person_id RETURNING id
$$;
CREATE FUNCTION app.fn_everyone_older(years int) RETURNS SETOF int LANGUAGE sql AS $$
    UPDATE tb_person SET age = coalesce(age, 0) + years RETURNING id
$$;
CREATE FUNCTION app.fn_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM tb_person $$;
CREATE FUNCTION app.fn_broken(name text) RETURNS int LANGUAGE sql AS $$ SELECT 1 / 0 $$;
CREATE FUNCTION app.fn_text_key(name text) RETURNS text LANGUAGE sql AS $$ SELECT name $$;
CREATE FUNCTION app.fn_twice(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$;
CREATE FUNCTION app.fn_twice(a text) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
"""

PERSON = ReadModel(
    "person", table="tb_person", fields=("id", "name", "email", "age"), forms=("qm",)
)
SEED = "TRUNCATE tb_person RESTART IDENTITY; INSERT INTO tb_person (name, email) VALUES ('Ann', 'ann@x');"


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    return database_with(pg_server, pg_dsn, "write_functions", SCHEMA_SQL, [PERSON])


@pytest.fixture(scope="module")
def pool(dsn: str, runner: asyncio.AbstractEventLoop) -> Iterator[Any]:
    with pool_on(runner, dsn) as pool:
        yield pool


def declare_base() -> tuple[type, type]:
    fraiseql.reset_registry()

    @fraiseql.type(sql_source="qm_person", jsonb_column="data")
    class Person:
        id: int
        name: str
        email: str
        age: int | None

    @fraiseql.input
    class NewPerson:
        name: str
        email: str
        age: int | None = None

    @fraiseql.query
    async def ping(info) -> str:
        return "pong"

    return Person, NewPerson


def declare() -> None:
    Person, NewPerson = declare_base()

    @fraiseql.mutation(function="app.fn_create_person", errors={"U0001": "NAME_RESERVED"})
    async def create_person(info, input: NewPerson) -> Person | None: ...

    @fraiseql.mutation(function="app.fn_register")
    async def register(info, input: NewPerson) -> Person | None: ...

    @fraiseql.mutation(function="app.fn_rename")
    async def rename(info, person_id: int, new_name: str) -> Person | None: ...

    @fraiseql.mutation(function="app.fn_everyone_older")
    async def everyone_older(info, years: int) -> list[Person]: ...

    @fraiseql.mutation(function="app.fn_count")
    async def count_people(info) -> float: ...

    @fraiseql.mutation(function="app.fn_broken")
    async def broken(info, name: str) -> Person | None: ...

    @fraiseql.type
    class PersonCreated:
        person: Person
        message: str = "Welcome."

    @fraiseql.error
    class JoinError:
        code: str
        message: str
        field: str | None = None

    @fraiseql.mutation(function="app.fn_create_person", errors={"U0001": "NAME_RESERVED"})
    async def join(info, input: NewPerson) -> PersonCreated | JoinError: ...

    del create_person, register, rename, everyone_older, count_people, broken, join


@pytest.fixture(scope="module")
def api(pool: Any) -> Iterator[tuple[Any, Any]]:
    declare()
    executor = fraiseql.Executor()
    yield executor.schema, executor
    fraiseql.reset_registry()


@pytest.fixture()
def seeded(pool: Any, runner: asyncio.AbstractEventLoop) -> None:
    runner.run_until_complete(pool.execute(SEED))


def people(runner: Any, pool: Any) -> list[tuple]:
    return table_rows(
        runner,
        pool,
        "SELECT t.id, t.name, t.email, t.age, q.data->>'name' FROM tb_person t "
        "LEFT JOIN qm_person q ON q.id = t.id ORDER BY t.id",
    )


BEFORE = [(1, "Ann", "ann@x", None, "Ann")]


def mutate(api: Any, runner: Any, pool: Any, query: str, variables: Any = None) -> dict:
    """The executor's answer over the pool (one transaction), and graphql-core's executing
    the same schema on a connection in a transaction rolled back: the same bytes."""
    schema, executor = api

    async def graphql_core(ctx: dict) -> Any:
        # What the executor does before a mutation's transaction: a violation names columns.
        await constraints.ensure(ctx["db"])
        return await reference(schema, (query, variables, None), "r", ctx)

    expected = runner.run_until_complete(rolled_back(pool, graphql_core))
    got = runner.run_until_complete(
        executor.execute(query, variables, context={"db": pool}, request_id="r")
    )
    # serial keys move on in the rolled-back run: compare without them
    assert got.replace(b'"id":3', b'"id":2') == expected.replace(b'"id":3', b'"id":2'), (
        got,
        expected,
    )
    return json.loads(got)


def test_an_input_objects_fields_are_the_functions_arguments(api, runner, pool, seeded) -> None:
    out = mutate(
        api,
        runner,
        pool,
        'mutation { createPerson(input: {name: "Bo", email: "bo@x", age: 7}) { id name age } }',
    )
    assert out == {"data": {"createPerson": {"id": 3, "name": "Bo", "age": 7}}}
    assert people(runner, pool)[-1] == (3, "Bo", "bo@x", 7, "Bo")


def test_v1s_one_jsonb_parameter_gets_the_whole_input(api, runner, pool, seeded) -> None:
    out = mutate(
        api,
        runner,
        pool,
        'mutation { register(input: {name: "Cy", email: "cy@x"}) { name email } }',
    )
    assert out == {"data": {"register": {"name": "Cy", "email": "cy@x"}}}
    assert people(runner, pool)[-1][1:] == ("Cy", "cy@x", None, "Cy")


def test_arguments_by_name_and_a_missing_key(api, runner, pool, seeded) -> None:
    out = mutate(api, runner, pool, 'mutation { rename(personId: 1, newName: "Anna") { id name } }')
    assert out == {"data": {"rename": {"id": 1, "name": "Anna"}}}
    out = mutate(api, runner, pool, 'mutation { rename(personId: 9, newName: "X") { id } }')
    assert out == {"data": {"rename": None}}  # the function wrote nothing: no key
    assert people(runner, pool) == [(1, "Anna", "ann@x", None, "Anna")]


def test_setof_keys_read_back_as_a_list_and_plain_results(api, runner, pool, seeded) -> None:
    runner.run_until_complete(
        pool.execute("INSERT INTO tb_person (name, email) VALUES ('Bo', 'bo@x')")
    )
    out = mutate(api, runner, pool, "mutation { everyoneOlder(years: 2) { id age } }")
    assert out == {"data": {"everyoneOlder": [{"id": 1, "age": 2}, {"id": 2, "age": 2}]}}
    assert mutate(api, runner, pool, "mutation { countPeople }") == {"data": {"countPeople": 2}}


@pytest.mark.parametrize(
    ("query", "code", "message", "field"),
    [
        (
            'mutation { createPerson(input: {name: "Bo", email: "nowhere"}) { id } }',
            "REJECTED",
            "That is not an email address.",
            "email",
        ),
        (
            'mutation { createPerson(input: {name: "root", email: "r@x"}) { id } }',
            "NAME_RESERVED",
            "That name is reserved.",
            None,
        ),
    ],
)
def test_what_the_function_raises_is_typed_and_nothing_is_written(
    api, runner, pool, seeded, query, code, message, field
) -> None:
    out = mutate(api, runner, pool, query)
    (error,) = out["errors"]
    assert error["message"] == message
    assert error["extensions"] == ({"code": code} | ({"field": field} if field else {}))
    assert people(runner, pool) == BEFORE


def test_a_functions_bug_and_a_constraint_violation_stay_masked(api, runner, pool, seeded) -> None:
    for query in (
        'mutation { broken(name: "x") { id } }',  # division by zero: not for clients
        'mutation { ok: rename(personId: 1, newName: "Z") { id } '
        'dup: createPerson(input: {name: "B", email: "ann@x"}) { id } }',
    ):
        out = mutate(api, runner, pool, query)
        assert out["errors"][0]["message"] == "Internal server error"
        assert "ann@x" not in json.dumps(out) and "tb_person" not in json.dumps(out)
        assert people(runner, pool) == BEFORE  # rename's write rolled back with the rest


JOIN = (
    "mutation($n: String!, $e: String!) { join(input: {name: $n, email: $e}) { __typename "
    "... on PersonCreated { person { id name email } message } "
    "... on JoinError { code message field } } }"
)


def test_a_typed_result_reads_the_key_back_into_its_success_member(
    api, runner, pool, seeded
) -> None:
    out = mutate(api, runner, pool, JOIN, {"n": "Bo", "e": "bo@x"})
    assert out == {
        "data": {
            "join": {
                "__typename": "PersonCreated",
                "person": {"id": 3, "name": "Bo", "email": "bo@x"},
                "message": "Welcome.",
            }
        }
    }
    assert people(runner, pool)[-1] == (3, "Bo", "bo@x", None, "Bo")


@pytest.mark.parametrize(
    ("name", "email", "code", "message", "field"),
    [
        ("Bo", "nowhere", "REJECTED", "That is not an email address.", "email"),  # RAISE
        ("root", "r@x", "NAME_RESERVED", "That name is reserved.", None),  # errors= mapping
        ("Bo", "ann@x", "UNIQUE_VIOLATION", "Email is already taken.", "email"),  # constraint
    ],
)
def test_a_typed_result_answers_refusals_as_its_error_member(
    api, runner, pool, seeded, name, email, code, message, field
) -> None:
    out = mutate(api, runner, pool, JOIN, {"n": name, "e": email})
    assert out == {
        "data": {
            "join": {"__typename": "JoinError", "code": code, "message": message, "field": field}
        }
    }
    assert people(runner, pool) == BEFORE


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ('mutation { createPerson(input: {name: "Bo"}) { id } }', "email"),
        (
            'mutation { createPerson(input: {name: "Bo", email: "b@x", shoeSize: 3}) { id } }',
            "shoeSize",
        ),
        ('mutation { rename(personId: "one", newName: "X") { id } }', "Int"),
    ],
)
def test_bad_input_is_refused_before_the_call(api, runner, pool, seeded, query, names) -> None:
    out = mutate(api, runner, pool, query)
    assert "data" not in out and names in out["errors"][0]["message"]
    assert people(runner, pool) == BEFORE


# ---------------------------------------------------------------- the start-up check


def startup_problems(runner: Any, pool: Any) -> str:
    schema = fraiseql.build_schema()
    with pytest.raises(fraiseql.SchemaError) as caught:
        runner.run_until_complete(check_sources(schema, pool))
    return str(caught.value)


def test_start_up_names_the_mutation_and_the_function(pool, runner) -> None:
    Person, NewPerson = declare_base()

    @fraiseql.mutation(function="app.fn_missing")
    async def missing(info, name: str) -> Person | None: ...

    @fraiseql.mutation(function="app.fn_rename")
    async def wrong_names(info, id: int, name: str) -> Person | None: ...

    @fraiseql.mutation(function="app.fn_rename")
    async def wrong_types(info, person_id: str, new_name: str) -> Person | None: ...

    @fraiseql.mutation(function="app.fn_text_key")
    async def wrong_result(info, name: str) -> Person | None: ...

    @fraiseql.mutation(function="app.fn_everyone_older")
    async def not_a_list(info, years: int) -> Person | None: ...

    @fraiseql.mutation(function="app.fn_twice")
    async def overloaded(info, a: int) -> Person | None: ...

    @fraiseql.type
    class Created:
        person: Person

    @fraiseql.error
    class Refused:
        code: str
        message: str

    @fraiseql.type
    class Renamed:
        note: str

    @fraiseql.type
    class Unfilled:
        person: Person
        note: str

    @fraiseql.mutation(function="app.fn_rename")
    async def typed(info, person_id: int, new_name: str) -> Created | Refused: ...

    @fraiseql.mutation(function="app.fn_rename")
    async def no_document(info, person_id: int, new_name: str) -> Renamed | Refused: ...

    @fraiseql.mutation(function="app.fn_rename")
    async def unfilled(info, person_id: int, new_name: str) -> Unfilled | Refused: ...

    @fraiseql.mutation(function="app.fn_rename")
    async def two_successes(info, person_id: int, new_name: str) -> Created | Renamed | Refused: ...

    text = startup_problems(runner, pool)
    rename = "function app.fn_rename(person_id int4, new_name text) -> int4"
    for expected in (
        "mutation missing: function app.fn_missing does not exist",
        f"mutation wrongNames ({rename}): argument 'id' has no parameter 'id' to go to",
        f"mutation wrongNames ({rename}): parameter person_id (int4) has no default and no "
        "argument or input field of that name",
        f"mutation wrongTypes ({rename}): argument 'personId' is String! but parameter "
        "person_id is int4",
        "mutation wrongResult (function app.fn_text_key(name text) -> text): it returns text "
        "but the key 'id' of qm_person is int4; return the key of what it wrote",
        "mutation notAList (function app.fn_everyone_older(years int4) -> SETOF int4): the "
        "mutation returns one value, the function int4",
        "mutation overloaded: function app.fn_twice is overloaded (2 of them); keep one",
        f"mutation noDocument ({rename}): its success member Renamed needs one field of a "
        "type with a sql_source (the document the function's key is read back as), it has 0",
        f"mutation unfilled ({rename}): the field(s) note of its success member Unfilled are "
        "non-null without a default; nothing fills them",
        f"mutation twoSuccesses ({rename}): its result TwoSuccessesResult has 2 members "
        "besides the @fraiseql.error one; the function's key is read back into one success "
        "member",
    ):
        assert expected in text, (expected, text)
    assert "mutation typed" not in text  # a typed result with a document: wired
    # the first call of an unchecked mutation refuses the same way, writing nothing
    executor = fraiseql.Executor()
    body = runner.run_until_complete(
        executor.execute('mutation { wrongNames(id: 1, name: "x") { id } }', context={"db": pool})
    )
    assert json.loads(body)["errors"][0]["message"] == "Internal server error"
    fraiseql.reset_registry()


def test_the_declaration_is_checked_at_import() -> None:
    fraiseql.reset_registry()
    with pytest.raises(TypeError, match="not a plain identifier"):
        fraiseql.mutation(function="app.fn; drop")(lambda info: None)
    with pytest.raises(TypeError, match="errors key 'nope' is not a SQLSTATE"):
        fraiseql.mutation(function="app.fn_x", errors={"nope": "X"})(lambda info: None)
    with pytest.raises(TypeError, match="errors= maps the SQLSTATEs of a function="):
        fraiseql.mutation(errors={"U0001": "X"})
    fraiseql.reset_registry()


def test_a_matching_declaration_passes_the_start_up_check(api, runner, pool) -> None:
    schema, _ = api
    runner.run_until_complete(check_sources(schema, pool))


def test_the_body_checks_first_and_requires_guards_the_call(pool, runner) -> None:
    Person, NewPerson = declare_base()

    def staff(info: Any) -> bool:
        return info.context.get("role") == "staff"

    @fraiseql.mutation(function="app.fn_create_person")
    @fraiseql.requires(staff)
    async def guarded(info, input: NewPerson) -> Person | None: ...

    @fraiseql.mutation(function="app.fn_create_person")
    async def checked(info, input: NewPerson) -> Person | None:
        if input.name.startswith("_"):
            raise fraiseql.CommandError("BAD_NAME", "A name may not start with _.", field="name")

    executor = fraiseql.Executor()
    runner.run_until_complete(pool.execute(SEED))

    def send(query: str, role: str) -> dict:
        body = runner.run_until_complete(
            executor.execute(query, context={"db": pool, "role": role})
        )
        return json.loads(body)

    refused = send('mutation { guarded(input: {name: "G", email: "g@x"}) { id } }', "guest")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = send('mutation { checked(input: {name: "_x", email: "x@x"}) { id } }', "guest")
    assert bad["errors"][0]["extensions"] == {"code": "BAD_NAME", "field": "name"}
    assert people(runner, pool) == BEFORE  # neither called the function
    allowed = send('mutation { guarded(input: {name: "G", email: "g@x"}) { name } }', "staff")
    assert allowed == {"data": {"guarded": {"name": "G"}}}
    fraiseql.reset_registry()
