"""The blog example (declared, not hand-written) and `fraiseql advise` on it."""

from __future__ import annotations

import json

import pytest
from support.cqrs import assert_no_drift, fresh_database, with_conn

from fraiseql.cli import main
from fraiseql.cqrs.advise import advise, render
from fraiseql.examples import blog


@pytest.fixture(scope="module")
def dsn(pg_server, pg_dsn):
    dsn = fresh_database(pg_server, pg_dsn, "cqrs_example")
    with_conn(dsn, lambda conn: blog.setup(conn, users=200, posts=4000, comments=2000))
    return dsn


def test_blog_documents(dsn):
    async def body(conn):
        assert await conn.fetchval("SELECT count(*) FROM qm_user") == 200
        for row in await conn.fetch("SELECT id, data FROM qm_user ORDER BY id LIMIT 20"):
            doc = json.loads(row["data"])
            posts = doc["user_posts"]
            expected = await conn.fetch(
                "SELECT id FROM tb_post WHERE user_id = $1 "
                "ORDER BY created_at DESC, id DESC LIMIT 10",
                row["id"],
            )
            assert [p["id"] for p in posts] == [r["id"] for r in expected] and len(posts) == 10
            assert set(doc) == {
                "id",
                "first_name",
                "last_name",
                "email",
                "created_at",
                "user_posts",
            }
        assert (
            await conn.fetchval("""SELECT count(*) FROM qm_user q JOIN mv_user m USING (id) JOIN tv_user t USING (id)
                                      WHERE q.data = m.data AND m.data = t.data""")
            == 200
        )
        post = json.loads(await conn.fetchval("SELECT data FROM tv_post WHERE id = 2"))
        assert post["author"]["id"] == await conn.fetchval(
            "SELECT user_id FROM tb_post WHERE id = 2"
        )
        assert 0 < len(post["comments"]) <= 20 and {"id", "body", "created_at", "author"} == set(
            post["comments"][0]
        )
        # Loading more keeps every model right: qm_ by triggers, mv_ refreshed by the loader.
        await blog.load(conn, users=10, posts=100)
        assert await conn.fetchval("SELECT count(*) FROM qm_user") == 210
        await assert_no_drift(conn, "qm_user", "mv_user", "tv_user")
        with pytest.raises(ValueError, match="users >= 1"):
            await blog.load(conn, users=0)

    with_conn(dsn, body)


def test_advise_measures_every_form(dsn, capsys):
    async def body(conn):
        advice = await advise(conn, "user", samples=20)
        assert set(advice.reads_us) == {"tv", "mv", "qm"} and all(
            v > 0 for v in advice.reads_us.values()
        )
        assert advice.refresh_s is not None and advice.sizes["qm"] > 0
        assert set(advice.writes_us) == {"public.tb_user.first_name", "public.tb_post.title"}
        assert all(w > 0 and wo > 0 for w, wo in advice.writes_us.values())
        text = render(advice)
        assert "| qm_ (synced table) |" in text and "sync adds" in text and "Seed's rule" in text

    with_conn(dsn, body)
    status = main(["advise", "--dsn", dsn, "qm_user", "--samples", "10", "--no-refresh"])
    out = capsys.readouterr().out
    assert status == 0 and "Read model public.user" in out and "refresh not measured" in out
