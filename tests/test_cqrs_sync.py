"""qm_ sync triggers on every path: roots, children, grandchildren, to-one parents, moves,
no-op updates, last-child deletes, rollbacks, TRUNCATE; each test ends with zero drift."""

from __future__ import annotations

import json

import pytest
from support.cqrs import assert_no_drift, prepared_database, with_conn

from fraiseql.cqrs import Many, One, ReadModel

TABLES = """
CREATE TABLE tb_user (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE tb_post (id int PRIMARY KEY, user_id int NOT NULL REFERENCES tb_user ON DELETE CASCADE,
                      title text NOT NULL, created_at timestamptz NOT NULL DEFAULT '2024-01-01');
CREATE TABLE tb_comment (id int PRIMARY KEY, post_id int NOT NULL REFERENCES tb_post ON DELETE CASCADE,
                         user_id int NOT NULL REFERENCES tb_user ON DELETE CASCADE, body text NOT NULL);
"""

AUTHOR = One("tb_user", fields=("id", "name"))
USER = ReadModel(
    "user",
    table="tb_user",
    fields=("id", "name"),
    embed={
        "posts": Many(
            "tb_post",
            fields=("id", "title", "created_at"),
            order_by="created_at DESC",
            limit=3,
            embed={
                "comments": Many(
                    "tb_comment",
                    fk="post_id",
                    fields=("id", "body"),
                    order_by="id",
                    embed={"author": AUTHOR},
                )
            },
        )
    },
    forms=("qm", "tv"),
)
POST = ReadModel(
    "post",
    table="tb_post",
    fields=("id", "title"),
    embed={"author": One("tb_user", fields=("name",))},
    forms=("qm",),
)
# A to-one parent embedding a list: each post shows its author's two latest posts.
FEED = ReadModel(
    "feed",
    table="tb_post",
    fields=("id",),
    embed={
        "author": One(
            "tb_user",
            fields=("name",),
            embed={"recent": Many("tb_post", fields=("id",), order_by="id DESC", limit=2)},
        )
    },
    forms=("qm",),
)
RELATIONS = ("qm_user", "qm_post", "qm_feed")


@pytest.fixture(scope="module")
def dsn(pg_server, pg_dsn):
    return prepared_database(pg_server, pg_dsn, "cqrs_sync", TABLES, [USER, POST, FEED])


@pytest.fixture
def db(dsn):
    """Run `body(conn)` on fresh data: users 1-3, user 1 has posts 10, 11; post 10 has a comment by user 2."""

    def runner(test):
        async def body(conn):
            await conn.execute("TRUNCATE tb_user, tb_post, tb_comment")
            await conn.execute("""
                INSERT INTO tb_user VALUES (1, 'ann'), (2, 'bob'), (3, 'cid');
                INSERT INTO tb_post VALUES (10, 1, 'p10', '2024-01-02'), (11, 1, 'p11', '2024-01-03');
                INSERT INTO tb_comment VALUES (100, 10, 2, 'hi');""")
            await test(conn)
            await assert_no_drift(conn, *RELATIONS)

        with_conn(dsn, body)

    return runner


async def doc(conn, relation: str, key: int):
    text = await conn.fetchval(f"SELECT data FROM {relation} WHERE id = $1", key)
    return None if text is None else json.loads(text)


async def version(conn, relation: str, key: int):
    return await conn.fetchval(f"SELECT version FROM {relation} WHERE id = $1", key)


async def post_ids(conn, user: int):
    return [p["id"] for p in (await doc(conn, "qm_user", user))["posts"]]


def test_root_insert_update_delete(db):
    async def body(conn):
        await conn.execute("INSERT INTO tb_user VALUES (4, 'dan')")
        assert await doc(conn, "qm_user", 4) == {"id": 4, "name": "dan", "posts": []}
        assert await version(conn, "qm_user", 4) == 1
        await conn.execute("UPDATE tb_user SET name = 'dana' WHERE id = 4")
        assert (await doc(conn, "qm_user", 4))["name"] == "dana"
        assert await version(conn, "qm_user", 4) == 2
        await conn.execute("DELETE FROM tb_user WHERE id = 4")
        assert await doc(conn, "qm_user", 4) is None

    db(body)


def test_root_delete_cascades_out_of_every_model(db):
    async def body(conn):
        await conn.execute("DELETE FROM tb_user WHERE id = 1")
        assert await doc(conn, "qm_user", 1) is None
        assert await doc(conn, "qm_post", 10) is None and await doc(conn, "qm_post", 11) is None
        assert await conn.fetchval("SELECT count(*) FROM qm_user") == 2

    db(body)


def test_root_key_change_moves_the_document(db):
    async def body(conn):
        await conn.execute("UPDATE tb_user SET id = 30 WHERE id = 3")
        assert await doc(conn, "qm_user", 3) is None
        assert (await doc(conn, "qm_user", 30))["name"] == "cid"

    db(body)


def test_noop_update_changes_nothing(db):
    async def body(conn):
        before = await conn.fetch("SELECT id, version, updated_at FROM qm_user ORDER BY id")
        await conn.execute("UPDATE tb_user SET name = name")
        await conn.execute("UPDATE tb_post SET title = title")
        await conn.execute("UPDATE tb_comment SET body = body")
        assert await conn.fetch("SELECT id, version, updated_at FROM qm_user ORDER BY id") == before

    db(body)


def test_child_insert_order_limit_and_tie_breaker(db):
    async def body(conn):
        # 12 and 13 share created_at with each other: the id tie-breaker puts 13 first.
        v1, v2 = await version(conn, "qm_user", 1), await version(conn, "qm_user", 2)
        await conn.execute("""INSERT INTO tb_post VALUES (12, 1, 'p12', '2024-01-05'), (13, 1, 'p13', '2024-01-05'),
                                                         (14, 1, 'p14', '2024-01-01')""")
        assert await post_ids(conn, 1) == [13, 12, 11]  # limit 3, newest first
        assert await version(conn, "qm_user", 1) == v1 + 1  # one statement, one rebuild
        assert await version(conn, "qm_user", 2) == v2

    db(body)


def test_child_update_and_delete_last_child(db):
    async def body(conn):
        await conn.execute("UPDATE tb_post SET title = 'renamed' WHERE id = 10")
        assert [p["title"] for p in (await doc(conn, "qm_user", 1))["posts"]] == ["p11", "renamed"]
        assert (await doc(conn, "qm_post", 10))["title"] == "renamed"
        await conn.execute("DELETE FROM tb_post WHERE user_id = 1")
        assert (await doc(conn, "qm_user", 1))["posts"] == []

    db(body)


def test_fk_move_rebuilds_old_and_new_parent(db):
    async def body(conn):
        await conn.execute("UPDATE tb_post SET user_id = 3 WHERE id = 10")
        assert await post_ids(conn, 1) == [11]
        assert await post_ids(conn, 3) == [10]
        assert (await doc(conn, "qm_post", 10))["author"] == {"name": "cid"}

    db(body)


def test_grandchild_change_rebuilds_the_root(db):
    async def body(conn):
        v1, v2 = await version(conn, "qm_user", 1), await version(conn, "qm_user", 2)
        await conn.execute("INSERT INTO tb_comment VALUES (101, 11, 3, 'yo')")
        posts = (await doc(conn, "qm_user", 1))["posts"]
        assert posts[0]["comments"] == [
            {"id": 101, "body": "yo", "author": {"id": 3, "name": "cid"}}
        ]
        assert await version(conn, "qm_user", 1) == v1 + 1
        assert (
            await version(conn, "qm_user", 2) == v2
        )  # the comment's author's own document holds no comments
        await conn.execute(
            "UPDATE tb_comment SET post_id = 10 WHERE id = 101"
        )  # a grandchild moves between posts
        posts = (await doc(conn, "qm_user", 1))["posts"]
        assert [c["id"] for c in posts[1]["comments"]] == [100, 101] and posts[0]["comments"] == []

    db(body)


def test_to_one_parent_change_rebuilds_embedding_documents(db):
    async def body(conn):
        # bob (2) wrote comment 100 on ann's post 10: his rename must reach ann's document.
        await conn.execute("UPDATE tb_user SET name = 'robert' WHERE id = 2")
        comment = (await doc(conn, "qm_user", 1))["posts"][1]["comments"][0]
        assert comment["author"] == {"id": 2, "name": "robert"}
        await conn.execute("UPDATE tb_user SET name = 'anna' WHERE id = 1")
        assert (await doc(conn, "qm_post", 11))["author"] == {"name": "anna"}

    db(body)


def test_rollback_changes_nothing(db):
    async def body(conn):
        before = await conn.fetch("SELECT * FROM qm_user ORDER BY id")
        tr = conn.transaction()
        await tr.start()
        await conn.execute("INSERT INTO tb_post VALUES (20, 2, 'p20', '2024-02-01')")
        await conn.execute("UPDATE tb_user SET name = 'x' WHERE id = 1")
        await conn.execute("DELETE FROM tb_user WHERE id = 3")
        assert await post_ids(conn, 2) == [20]  # visible inside the transaction
        await tr.rollback()
        assert await conn.fetch("SELECT * FROM qm_user ORDER BY id") == before

    db(body)


def test_upsert_fires_insert_and_update_paths(db):
    async def body(conn):
        await conn.execute("""INSERT INTO tb_post VALUES (10, 2, 'moved', '2024-01-02'), (21, 2, 'new', '2024-01-09')
                              ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, title = EXCLUDED.title""")
        assert await post_ids(conn, 2) == [21, 10]
        assert await post_ids(conn, 1) == [11]

    db(body)


def test_truncate_of_children_and_roots(db):
    async def body(conn):
        await conn.execute("TRUNCATE tb_comment")
        assert (await doc(conn, "qm_user", 1))["posts"][1]["comments"] == []
        await conn.execute("TRUNCATE tb_post CASCADE")
        assert (await doc(conn, "qm_user", 1))["posts"] == []
        assert await conn.fetchval("SELECT count(*) FROM qm_post") == 0
        await conn.execute("TRUNCATE tb_user CASCADE")
        assert await conn.fetchval("SELECT count(*) FROM qm_user") == 0

    db(body)


def test_tv_view_serves_the_same_documents(db):
    async def body(conn):
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM tv_user t JOIN qm_user q USING (id) WHERE t.data = q.data"
            )
            == 3
        )

    db(body)


def test_list_inside_a_to_one_parent(db):
    async def body(conn):
        assert (await doc(conn, "qm_feed", 10))["author"] == {
            "name": "ann",
            "recent": [{"id": 11}, {"id": 10}],
        }
        await conn.execute("INSERT INTO tb_post VALUES (12, 1, 'p12', '2024-01-04')")
        assert [p["id"] for p in (await doc(conn, "qm_feed", 10))["author"]["recent"]] == [12, 11]
        await conn.execute("UPDATE tb_post SET user_id = 3 WHERE id = 11")
        assert [p["id"] for p in (await doc(conn, "qm_feed", 10))["author"]["recent"]] == [12, 10]
        assert (await doc(conn, "qm_feed", 11))["author"] == {"name": "cid", "recent": [{"id": 11}]}

    db(body)
