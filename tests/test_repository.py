"""Repository and filters against a real database: results, operators, injection attempts."""

import asyncio
import datetime

import pytest
from support.databases import database_with

import fraiseql
from fraiseql.repositories import Repository as SeedImport
from fraiseql.repository import FilterError, Repository, current_selection

SCHEMA = """
CREATE TABLE qm_user (id int PRIMARY KEY, version int NOT NULL DEFAULT 1, data jsonb NOT NULL);
INSERT INTO qm_user (id, data) VALUES
 (1, '{"id": 1, "first_name": "Ann", "age": 31, "active": true, "tags": ["a", "b"],
       "address": {"city": "Oslo"}, "joined": "2024-01-05", "user_posts": [{"id": 10, "title": "x"}]}'),
 (2, '{"id": 2, "first_name": "bob", "age": 25, "active": false, "tags": ["b"],
       "address": {"city": "Rome"}, "joined": "2023-06-01", "user_posts": []}'),
 (3, '{"id": 3, "first_name": "Cid", "age": null, "active": true, "tags": [],
       "address": {"city": "Oslo"}, "joined": "2022-12-31", "user_posts": []}');
CREATE TABLE tb_item (id int PRIMARY KEY, name text, tags text[], price numeric, made date);
INSERT INTO tb_item VALUES (1, 'apple pie', '{sweet,baked}', 3.5, '2024-01-01'),
                           (2, 'bread', '{baked}', 2, '2024-02-01'),
                           (3, NULL, '{}', 10, NULL);
CREATE VIEW tv_thing AS SELECT id, jsonb_build_object('id', id, 'label', name) AS payload FROM tb_item;
"""


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def dsn(pg_server, pg_dsn):
    return database_with(pg_server, pg_dsn, "repository_db", SCHEMA)


def with_repo(dsn, body, **kw):
    async def main():
        async with fraiseql.create_pool(dsn, max_size=2) as pool:
            return await body(Repository(pool, {}, **kw), pool)

    return run(main())


def test_seed_import_path_is_the_same_class():
    assert SeedImport is Repository


def test_find_one_returns_the_document_or_none(dsn):
    async def body(repo, pool):
        user = await repo.find_one("qm_user", id=1)
        assert user["first_name"] == "Ann" and user["address"] == {"city": "Oslo"}
        assert await repo.find_one("qm_user", id=99) is None
        async with pool.acquire() as conn:  # a Connection works as well as a Pool
            assert (await Repository(conn).find_one("qm_user", id=2))["first_name"] == "bob"

    with_repo(dsn, body)


def ids(docs):
    return [d["id"] for d in docs]


@pytest.mark.parametrize(
    "where, expected",
    [
        ({"id": {"eq": 2}}, [2]),
        ({"id": 2}, [2]),
        ({"id": {"neq": 2}}, [1, 3]),
        ({"id": {"gt": 1, "lte": 3}}, [2, 3]),
        ({"id": {"gte": 2}}, [2, 3]),
        ({"id": {"lt": 2}}, [1]),
        ({"id": {"in": [1, 3, 7]}}, [1, 3]),
        ({"id": {"nin": [1, 3]}}, [2]),
        ({"id": {"in": []}}, []),
        ({"data.first_name": {"eq": "bob"}}, [2]),
        ({"data.first_name": {"like": "C%"}}, [3]),
        ({"data.first_name": {"ilike": "b%"}}, [2]),
        ({"data.age": {"gt": 26}}, [1]),
        ({"data.age": {"lte": 25}}, [2]),
        ({"data.age": {"eq": 31}}, [1]),
        ({"data.age": {"isnull": True}}, [3]),
        ({"data.age": None}, [3]),
        ({"data.age": {"isnull": False}}, [1, 2]),
        ({"data.active": {"eq": False}}, [2]),
        ({"data.address.city": {"eq": "Oslo"}}, [1, 3]),
        ({"data.address.city": {"in": ["Rome", "Paris"]}}, [2]),
        ({"data.address.city": {"nin": ["Rome"]}}, [1, 3]),
        ({"data.tags": {"contains": ["b"]}}, [1, 2]),
        ({"data": {"contains": {"address": {"city": "Rome"}}}}, [2]),
        ({"data.joined": {"gte": datetime.date(2023, 1, 1)}}, [1, 2]),
        ({"or": [{"id": 1}, {"data.first_name": "Cid"}]}, [1, 3]),
        ({"and": [{"data.active": True}, {"data.address.city": "Oslo"}], "id": {"gt": 1}}, [3]),
        ({"not": {"data.address.city": "Oslo"}}, [2]),
        ({"not": {"or": [{"id": 1}, {"id": 2}]}}, [3]),
    ],
)
def test_where_operators_on_columns_and_jsonb_paths(dsn, where, expected):
    async def body(repo, pool):
        found = await repo.find("qm_user", where=where, order_by=[("id", "asc")])
        assert ids(found) == expected
        assert await repo.count("qm_user", where=where) == len(expected)
        assert await repo.exists("qm_user", where=where) is bool(expected)

    with_repo(dsn, body)


def test_order_limit_offset_and_keyword_equalities(dsn):
    async def body(repo, pool):
        assert ids(await repo.find("qm_user", order_by=[("id", "desc")])) == [3, 2, 1]
        assert ids(await repo.find("qm_user", order_by=[("data.age", "desc"), "id"], limit=2)) == [
            1,
            2,
        ]
        assert ids(await repo.find("qm_user", order_by=["id"], limit=1, offset=1)) == [2]
        assert ids(await repo.find("qm_user", id=3)) == [3]
        assert await repo.count("qm_user") == 3 and await repo.count("qm_user", id=1) == 1
        assert await repo.exists("qm_user", id=4) is False

    with_repo(dsn, body)


def test_plain_tables_use_row_to_json_and_columns_filter(dsn):
    async def body(repo, pool):
        items = await repo.find("tb_item", order_by=[("id", "asc")])
        assert items[0] == {
            "id": 1,
            "name": "apple pie",
            "tags": ["sweet", "baked"],
            "price": 3.5,
            "made": "2024-01-01",
        }
        assert ids(
            await repo.find("tb_item", where={"tags": {"contains": ["baked"]}}, order_by=["id"])
        ) == [1, 2]
        assert ids(await repo.find("tb_item", where={"name": {"contains": "pie"}})) == [1]
        assert ids(await repo.find("tb_item", where={"name": {"isnull": True}})) == [3]
        assert ids(await repo.find("tb_item", where={"price": {"gte": 3}}, order_by=["id"])) == [
            1,
            3,
        ]
        assert ids(
            await repo.find("tb_item", where={"made": {"lt": datetime.date(2024, 1, 15)}})
        ) == [1]
        assert (await repo.find_one("public.tb_item", id=2))["name"] == "bread"
        assert (await repo.find_one("tb_item", name="bread"))["id"] == 2
        assert (await repo.find_one("tb_item", name=None))[
            "id"
        ] == 3  # IS NULL, not cached as "= $1"
        assert (await repo.find_one("tb_item", name="apple pie"))["id"] == 1

    with_repo(dsn, body)


def test_jsonb_column_configurable_per_view(dsn):
    async def body(repo, pool):
        assert await repo.find_one("tv_thing", id=2) == {"id": 2, "label": "bread"}
        assert ids(await repo.find("tv_thing", where={"payload.label": {"like": "a%"}})) == [1]

    with_repo(dsn, body, jsonb_column={"tv_thing": "payload"})


def test_graphql_selection_hook_returns_rewritten_bytes(dsn):
    sel = fraiseql.Selection(
        "User",
        [
            ("__typename", None, None),
            ("firstName", "first_name", None),
            ("userPosts", "user_posts", fraiseql.Selection("Post", [("id", "id", None)])),
        ],
    )

    async def body(repo, pool):
        token = current_selection.set(sel)
        try:
            one = await repo.find_one("qm_user", id=1)
            none = await repo.find_one("qm_user", id=99)
            many = await repo.find("qm_user", where={"id": {"lte": 2}}, order_by=["id"])
            count = await repo.count("qm_user")
        finally:
            current_selection.reset(token)
        assert one == b'{"__typename":"User","firstName":"Ann","userPosts":[{"id":10}]}'
        assert none == b"null"
        assert many == (
            b'[{"__typename":"User","firstName":"Ann","userPosts":[{"id":10}]},'
            b'{"__typename":"User","firstName":"bob","userPosts":[]}]'
        )
        assert count == 3
        assert isinstance(await repo.find_one("qm_user", id=1), dict)  # hook reset

    with_repo(dsn, body)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda r: r.find_one("qm_user", nosuch=1), "does not exist in view"),
        (lambda r: r.find("qm_user", where={"nosuch": 1}), "does not exist in view"),
        (lambda r: r.find("qm_user", where={"id; DROP TABLE qm_user": 1}), "invalid field name"),
        (lambda r: r.find("qm_user", where={'id" OR 1=1 --': 1}), "invalid field name"),
        (
            lambda r: r.find("qm_user", where={"data.first_name' OR '1'='1": {"eq": "x"}}),
            "invalid JSON key",
        ),
        (lambda r: r.find("qm_user", where={"id.x": 1}), "not json/jsonb"),
        (
            lambda r: r.find("qm_user", where={"id": {"eq; DROP TABLE qm_user": 1}}),
            "unknown operator",
        ),
        (lambda r: r.find("qm_user", where={"id": {"=": 1}}), "unknown operator"),
        (lambda r: r.find("qm_user", where={"or": {"id": 1}}), "takes a list of filters"),
        (lambda r: r.find("qm_user", where={"id": {"in": "1,2"}}), "list of values"),
        (lambda r: r.find("qm_user", where={"id": {"isnull": "yes"}}), "true or false"),
        (lambda r: r.find("qm_user", where={"data.first_name": {"like": 5}}), "string pattern"),
        (
            lambda r: r.find("qm_user", order_by=[("id", "asc; DROP TABLE qm_user")]),
            "'asc' or 'desc'",
        ),
        (
            lambda r: r.find("qm_user", order_by=[("id) ; DROP TABLE qm_user --", "asc")]),
            "invalid field name",
        ),
        (lambda r: r.find("qm_user", order_by="id"), "list of"),
        (lambda r: r.find("qm_user", limit="1; DROP TABLE qm_user"), "non-negative int"),
        (lambda r: r.find("qm_user", offset=-1), "non-negative int"),
        (lambda r: r.find("qm_user; DROP TABLE qm_user", id=1), "invalid view name"),
        (lambda r: r.find('qm_user" --', id=1), "invalid view name"),
        (lambda r: r.find("a.b.c", id=1), "at most schema.view"),
        (lambda r: r.find("no_such_view", id=1), "does not exist"),
    ],
)
def test_injection_attempts_and_bad_filters_fail_before_any_sql(dsn, call, message):
    async def body(repo, pool):
        with pytest.raises(FilterError, match=message):
            await call(repo)
        assert await repo.count("qm_user") == 3  # nothing was dropped

    with_repo(dsn, body)


def test_hostile_values_are_bound_not_spliced(dsn):
    async def body(repo, pool):
        for hostile in ["1 OR 1=1", "'; DROP TABLE qm_user; --", "Ann' OR 'x'='x", "\\'", "$1"]:
            assert await repo.find("qm_user", where={"data.first_name": {"eq": hostile}}) == []
            assert await repo.find("qm_user", where={"data.first_name": {"in": [hostile]}}) == []
            assert await repo.find("tb_item", where={"name": {"like": hostile}}) == []
        with pytest.raises(fraiseql.DataError):
            await repo.find("qm_user", where={"id": {"eq": "1 OR 1=1"}})  # bound: not an int
        assert await repo.count("qm_user") == 3

    with_repo(dsn, body)


def test_deeply_nested_filter_is_rejected(dsn):
    where = {"id": 1}
    for _ in range(100):
        where = {"not": where}

    async def body(repo, pool):
        with pytest.raises(FilterError, match="deeper"):
            await repo.find("qm_user", where=where)

    with_repo(dsn, body)


def test_catalog_is_per_database_object_when_alternating(dsn):
    # A temporary view exists on its own session only: each connection must keep its own
    # catalog, also when the hot path's last-database shortcut switches back and forth.
    async def main():
        async with fraiseql.create_pool(dsn, max_size=2) as pool:
            async with pool.acquire() as a, pool.acquire() as b:
                await a.execute("CREATE TEMP VIEW tmp_only_a AS SELECT id, data FROM qm_user")
                for _ in range(3):
                    assert (await Repository(a).find_one("tmp_only_a", id=2))["first_name"] == "bob"
                    with pytest.raises(FilterError, match="does not exist"):
                        await Repository(b).find_one("tmp_only_a", id=2)
                Repository(pool).clear_catalog_cache()
                assert (await Repository(a).find_one("tmp_only_a", id=1))["first_name"] == "Ann"
                with pytest.raises(FilterError, match="does not exist"):
                    await Repository(b).find_one("tmp_only_a", id=1)

    run(main())


def test_view_cache_is_each_pools_own_and_cleared_with_its_connections(dsn):
    async def main():
        async with fraiseql.create_pool(dsn) as one, fraiseql.create_pool(dsn) as other:
            await Repository(one).find_one("qm_user", id=1)
            assert list(one.view_cache) == [("qm_user", "data")] and not other.view_cache
            async with one.acquire() as conn:
                await Repository(conn).find_one("qm_user", id=1)
                assert list(conn.view_cache) == [("qm_user", "data")]
                Repository(one).clear_catalog_cache()
                assert not one.view_cache and not conn.view_cache

    run(main())


def test_find_one_by_json_path_twice(dsn):
    # A path's SQL and bound value depend on the value (JSON text, text or numeric compare):
    # only plain columns are served from the per-key-set SQL cache.
    async def body(repo, pool):
        for _ in range(2):
            assert (await repo.find_one("qm_user", **{"data.age": 31}))["first_name"] == "Ann"
            assert (await repo.find_one("qm_user", **{"data.age": "25"}))[
                "id"
            ] == 2  # compared as text
            assert await repo.find_one("qm_user", **{"data.age": "x"}) is None
            assert (await repo.find_one("qm_user", **{"data.active": False}))["id"] == 2
            assert (await repo.find_one("qm_user", **{"data.first_name": "bob"}))["id"] == 2

    with_repo(dsn, body)


def test_find_equality_lookups_repeat_with_the_same_checks(dsn):
    # The second call of each shape is served from the cached SQL: same rows, same errors.
    async def body(repo, pool):
        for _ in range(2):
            assert len(await repo.find("qm_user", limit=2)) == 2
            assert len(await repo.find("qm_user", limit=2, offset=2)) == 1
            assert ids(await repo.find("tb_item", name="bread")) == [2]
            assert ids(await repo.find("tb_item", name=None)) == [3]
            assert ids(await repo.find("tb_item", name="bread", limit=0)) == []
            for bad in (-1, True, "1"):
                with pytest.raises(FilterError, match="limit must be a non-negative int"):
                    await repo.find("qm_user", limit=bad)
                with pytest.raises(FilterError, match="offset must be a non-negative int"):
                    await repo.find("qm_user", limit=1, offset=bad)

    with_repo(dsn, body)


def test_filtered_finds_of_one_shape_share_a_statement_and_bind_their_own_values(dsn):
    # Alternating shapes and values: each request gets its own rows, its own checks, and a
    # shape's statement is rendered once (the view's cache grows by one per shape).
    async def body(repo, pool):
        await repo.find("qm_user", where={"id": {"eq": 1}})  # reads the catalog
        info = pool.view_cache[("qm_user", "data")]
        before = len(info.statements)
        for _ in range(2):
            for age, expected in ((30, [1]), (20, [1, 2]), (40, [])):
                got = await repo.find("qm_user", where={"data.age": {"gt": age}}, order_by=["id"])
                assert ids(got) == expected
            for names, expected in ((["Ann", "Cid"], [1, 3]), (["bob"], [2])):
                got = await repo.find("qm_user", where={"data.first_name": {"in": names}})
                assert ids(got) == expected
            assert ids(await repo.find("qm_user", where={"data.age": {"eq": None}})) == [3]
            assert ids(await repo.find("qm_user", where={"data.age": {"eq": 25}})) == [2]
            with pytest.raises(FilterError, match="at most 100 values"):
                await repo.find("qm_user", where={"data.first_name": {"in": ["x"] * 101}})
        assert len(info.statements) == before + 4

    with_repo(dsn, body)
