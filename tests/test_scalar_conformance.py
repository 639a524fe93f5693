"""Every scalar, edge values included, answered alike by both paths from a real PostgreSQL.

The documents are built by PostgreSQL from typed columns (as a read model builds them), so
each value is stored the way the database writes it. fraiseql.execute serves them through
the C rewriter; graphql-core executes build_schema() with the same resolvers (the
Repository then returns Python data); the bodies must be the same bytes. A computed field
sends the same selection through fraiseql's graphql-core path: the same bytes again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import re
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import graphql
import pytest

import fraiseql
from fraiseql.executor import format_response
from fraiseql.repository import Repository
from fraiseql.scalars import SCALARS

SCHEMA_SQL = r"""
CREATE TYPE mood AS ENUM ('HAPPY', 'SAD');
CREATE TABLE tb_scalar (
    id int PRIMARY KEY, i int, f float8, fn numeric, s text, b bool, ident int8, sid text,
    u uuid, ts timestamptz, tsn timestamp, d date, dec numeric, j jsonb, e mood,
    tags text[], nums int[]
);
INSERT INTO tb_scalar VALUES
 (1, -2147483648, 0.1, 1.10, '', true, 9223372036854775807, 'abc',
  '00000000-0000-0000-0000-000000000000', '2024-02-29 23:59:59.999999+00',
  '1970-01-01 00:00:00', '0001-01-01', 14.00,
  '{"snake_key": [1, 2.50, null, {"x_y": true}], "big": 12345678901234567890.000}',
  'HAPPY', '{}', '{1,2}'),
 (2, 2147483647, 1e300, -0.0, E'"quoted" \\ \u00e9 \u4e2d \U0001F600 \n\t\u0001\u007f/',
  false, 0, '', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '2024-06-01 12:00:00+00',
  '2024-06-01 12:00:00.5', '9999-12-31', 0.0000001000, '[]', 'SAD', '{a,NULL}', '{}'),
 (3, 0, 100, 1e20, 'x', NULL, -1, '0', NULL, '2000-01-01 00:00:00+00', NULL, NULL,
  -123456789012345678901234567890.123456789, 'null', NULL, NULL, NULL),
 (4, 7, 5e-324, 0.000000000000000000001, 'y', true, 1, 'z',
  '12345678-1234-5678-1234-567812345678', '1999-12-31 23:00:00-05', NULL, '2000-02-29',
  1e-20, '"text"', 'HAPPY', '{"x y"}', '{-1}'),
 (5, 8, 1.7976931348623157e308, 42, 'z', false, 2, 'w', NULL, '2024-01-01 00:00:00+00',
  NULL, NULL, 0, '{"a": {"b": []}}', NULL, '{}', '{0}');
CREATE VIEW tv_scalar AS
SELECT id, jsonb_build_object(
    'id', id, 'i', i, 'f', f, 'fn', fn, 's', s, 'b', b, 'ident', ident, 'sid', sid, 'u', u,
    'ts', ts, 'tsn', tsn, 'd', d, 'dec', dec, 'j', j, 'e', e, 'tags', tags, 'nums', nums
) AS data FROM tb_scalar;
"""

# Each field's scalar (by GraphQL name) -> the fields of ScalarRow holding it.
FIELDS = {
    "Int": ["i"],
    "Float": ["f", "fn"],
    "String": ["s", "tags"],
    "Boolean": ["b"],
    "ID": ["ident", "sid"],
    "UUID": ["u"],
    "DateTime": ["ts", "tsn"],
    "Date": ["d"],
    "Decimal": ["dec"],
    "JSON": ["j"],
    "Mood": ["e"],
}


def test_every_registered_scalar_is_covered() -> None:
    assert {s.name for s in SCALARS} | {"Mood"} == set(FIELDS)


@pytest.fixture(scope="module")
def api(pg_server: Any, pg_dsn: str, runner: asyncio.AbstractEventLoop) -> Iterator[Any]:
    dsn = pg_dsn if pg_server is None else pg_server.create_database("scalar_conformance")

    async def setup() -> Any:
        conn = await fraiseql.connect(dsn)
        await conn.execute(SCHEMA_SQL)
        await conn.close()
        return await fraiseql.create_pool(dsn, min_size=1, max_size=2)

    pool = runner.run_until_complete(setup())
    fraiseql.reset_registry()

    @fraiseql.enum
    class Mood(enum.Enum):
        HAPPY = "HAPPY"
        SAD = "SAD"

    @fraiseql.type(sql_source="tv_scalar")
    class ScalarRow:
        id: int
        i: int
        f: float
        fn: float
        s: str
        b: bool | None
        ident: fraiseql.ID
        sid: fraiseql.ID
        u: uuid.UUID | None
        ts: dt.datetime
        tsn: dt.datetime | None
        d: dt.date | None
        dec: Decimal
        j: fraiseql.JSON | None
        e: Mood | None
        tags: list[str | None] | None
        nums: list[int] | None

        @fraiseql.field
        def computed(self, info) -> int:  # selecting it sends the query to graphql-core
            return self.id

    @fraiseql.query
    async def rows(info) -> list[ScalarRow]:
        return await Repository(info.context["db"], info.context).find(order_by=["id"])

    @fraiseql.query
    async def row(info, id: int) -> ScalarRow | None:
        return await Repository(info.context["db"], info.context).find_one(id=id)

    schema = fraiseql.build_schema()
    yield schema, fraiseql.Executor(schema), pool
    runner.run_until_complete(pool.close())
    fraiseql.reset_registry()


def answers(api: Any, runner: Any, query: str) -> tuple[bytes, bytes]:
    schema, executor, pool = api
    context = {"db": pool}
    got = runner.run_until_complete(executor.execute(query, context=context))
    result = runner.run_until_complete(graphql.graphql(schema, query, context_value=context))
    return got, format_response(result.data, result.errors)


@pytest.mark.parametrize("scalar", sorted(FIELDS))
def test_each_scalar_is_written_alike_by_both_paths(api: Any, runner: Any, scalar: str) -> None:
    _, executor, _ = api
    selection = " ".join(FIELDS[scalar])
    before = executor.fast_runs
    fast, reference = answers(api, runner, f"{{ rows {{ id {selection} }} }}")
    assert executor.fast_runs == before + 1  # the C rewriter served it
    assert fast == reference
    # fraiseql's own graphql-core path (a computed field is selected) writes the same values
    core, reference = answers(api, runner, f"{{ rows {{ id {selection} computed }} }}")
    assert core == reference
    assert re.sub(rb',"computed":\d+', b"", core) == fast


def test_stored_text_is_the_answer(api: Any, runner: Any) -> None:
    """The values as PostgreSQL wrote them, pinned (both paths agree, checked above)."""
    fast, _ = answers(api, runner, "{ rows { f fn dec ident j } }")
    text = fast.decode()
    for stored in (
        '"dec":"14.00"',  # numeric scale is data
        '"dec":"0.0000001000"',  # never 1E-7
        '"f":100,',  # not 100.0
        '"fn":1.10,',
        '"ident":"9223372036854775807"',  # ID: numbers as strings, all digits
        '"big":12345678901234567890.000',  # inside JSON, as stored
        '"snake_key":[1,2.50,null',
    ):
        assert stored in text, stored


def test_one_row_and_no_row(api: Any, runner: Any) -> None:
    for query in ("{ row(id: 2) { s tags e b } }", "{ row(id: 99) { s } }"):
        fast, reference = answers(api, runner, query)
        assert fast == reference
