"""Bad declarations fail with a DeclarationError naming the problem, before any SQL runs."""

from __future__ import annotations

import pytest
from support.cqrs import prepared_database, with_conn

from fraiseql.cqrs import DeclarationError, Many, One, ReadModel, Sql, install

TABLES = """
CREATE TABLE tb_user (id int PRIMARY KEY, name text NOT NULL, code text UNIQUE, note text);
CREATE TABLE tb_post (id int PRIMARY KEY, user_id int NOT NULL REFERENCES tb_user, editor_id int REFERENCES tb_user,
                      loose_user_id int, title text NOT NULL);
CREATE TABLE tb_nokey (user_id int REFERENCES tb_user, body text);
"""

POSTS = Many("tb_post", fk="user_id", fields=("id", "title"))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ReadModel("User", table="tb_user", fields=("id",)), "read model name 'User'"),
        (
            lambda: ReadModel("u; drop table x", table="tb_user", fields=("id",)),
            "not a plain identifier",
        ),
        (lambda: ReadModel("u", table='tb_user"; drop table x; --', fields=("id",)), "table"),
        (lambda: ReadModel("u", table="a.b.c", fields=("id",)), "more than one dot"),
        (
            lambda: ReadModel("u", table="tb_user", fields=("first-name",)),
            "document key 'first-name'",
        ),
        (lambda: ReadModel("u", table="tb_user", fields={"n": 'name" || (select 1)'}), "column"),
        (lambda: ReadModel("u", table="tb_user", fields={"it's": "id"}), "document key"),
        (lambda: ReadModel("u", table="tb_user", fields="id"), "not a string"),
        (lambda: ReadModel("u", table="tb_user", fields=()), "no fields"),
        (lambda: ReadModel("u", table="tb_user", fields=("id",), forms=("qm", "xx")), "forms"),
        (lambda: ReadModel("u", table="tb_user", fields=("id",), schema="Public"), "schema"),
        (
            lambda: ReadModel("u", table="tb_user", fields=("id",), forms=("qm",), notify=True),
            'add "mv" to forms',
        ),
        (
            lambda: ReadModel(
                "u",
                table="tb_user",
                fields=("id",),
                embed={"p": Many("tb_post", fields=("id",), order_by="id; DROP TABLE tb_user")},
            ),
            "order term",
        ),
        (
            lambda: ReadModel(
                "u",
                table="tb_user",
                fields=("id",),
                embed={"p": Many("tb_post", fields=("id",), order_by="id sideways")},
            ),
            "order term",
        ),
        (
            lambda: ReadModel(
                "u",
                table="tb_user",
                fields=("id",),
                embed={"p": Many("tb_post", fields=("id",), limit=0)},
            ),
            "limit",
        ),
        (
            lambda: ReadModel("u", table="tb_user", fields=("id",), embed={"id": POSTS}),
            "declared twice",
        ),
        (
            lambda: ReadModel("u", table="tb_user", fields=("id",), embed={"p": "tb_post"}),
            "expected Many",
        ),
        (
            lambda: ReadModel(
                "u", table="tb_user", fields={"n": Sql("{name}; DROP TABLE tb_user")}
            ),
            "may not contain ';'",
        ),
        (
            lambda: ReadModel("u", table="tb_user", fields={"n": Sql("{name} -- x")}),
            "may not contain '--'",
        ),
        (
            lambda: ReadModel("u", table="tb_user", fields={"n": Sql("$$x$$")}),
            "may not contain '$'",
        ),
        (
            lambda: ReadModel("u", table="tb_user", fields={"n": Sql("now()")}),
            "references no {column}",
        ),
        (lambda: ReadModel("u", table="tb_user", fields={"n": Sql("{na me}")}), "placeholder"),
    ],
)
def test_invalid_declarations_fail_without_a_database(make, message):
    with pytest.raises(DeclarationError, match=message.replace("(", r"\(").replace("$", r"\$")):
        make()


def test_cycle_is_refused():
    posts = Many("tb_post", fields=("id",))
    posts.embed = {"again": posts}
    with pytest.raises(DeclarationError, match="cycle"):
        ReadModel("u", table="tb_user", fields=("id",), embed={"posts": posts})


def test_excessive_nesting_is_refused():
    node = Many("tb_post", fields=("id",))
    for _ in range(10):
        node = Many("tb_post", fields=("id",), embed={"x": node})
    with pytest.raises(DeclarationError, match="deeper than"):
        ReadModel("u", table="tb_user", fields=("id",), embed={"x": node})


@pytest.fixture(scope="module")
def dsn(pg_server, pg_dsn):
    return prepared_database(pg_server, pg_dsn, "cqrs_declare", TABLES)


CATALOG_CASES = [
    (ReadModel("a", table="tb_missing", fields=("id",)), "table public.tb_missing does not exist"),
    (
        ReadModel("b", table="tb_user", fields=("id", "nope")),
        "column 'nope' does not exist in table tb_user",
    ),
    (
        ReadModel("c", table="tb_user", fields=("id",), key="note"),
        "not a primary key or unique column",
    ),
    (
        ReadModel(
            "d", table="tb_user", fields=("id",), embed={"p": Many("tb_post", fields=("id",))}
        ),
        "2 \\(editor_id, user_id\\) single-column foreign keys",
    ),
    (
        ReadModel(
            "e",
            table="tb_user",
            fields=("id",),
            embed={"p": Many("tb_post", fk="loose_user_id", fields=("id",))},
        ),
        "tb_post.loose_user_id has no FOREIGN KEY to public.tb_user",
    ),
    (
        ReadModel(
            "f",
            table="tb_user",
            fields=("id",),
            embed={"p": Many("tb_post", fk="user_id", fields=("id",), order_by="created_at DESC")},
        ),
        "column 'created_at' does not exist",
    ),
    (
        ReadModel(
            "g", table="tb_post", fields=("id",), embed={"u": One("tb_user", fields=("id",))}
        ),
        "2 \\(editor_id, user_id\\)",
    ),
    (
        ReadModel(
            "h",
            table="tb_user",
            fields=("id",),
            embed={"n": Many("tb_nokey", fk="user_id", fields=("body",))},
        ),
        "no single-column primary key",
    ),
    (
        ReadModel(
            "i", table="tb_user", fields=("id",), embed={"p": Many("tb_user", fields=("id",))}
        ),
        "no single-column foreign keys to public.tb_user",
    ),
    (
        ReadModel("j", table="tb_user", fields={"n": Sql("{name} + 1")}),
        "Sql field 'n' on tb_user is invalid",
    ),
]


@pytest.mark.parametrize("model, message", CATALOG_CASES, ids=[m.name for m, _ in CATALOG_CASES])
def test_catalog_checks_run_before_any_sql(dsn, model, message):
    good = ReadModel(
        "good", table="tb_user", fields=("id", "name"), embed={"posts": POSTS}, forms=("qm", "tv")
    )

    async def body(conn):
        with pytest.raises(DeclarationError, match=message):
            await install(conn, [good, model])
        # The good model listed first was not created either: every check passes before any DDL.
        assert await conn.fetchval(
            "SELECT to_regclass('qm_good') IS NULL AND to_regclass('tv_good') IS NULL"
        )
        assert await conn.fetchval("SELECT count(*) FROM fraiseql.read_model") == 0

    with_conn(dsn, body)


def test_sql_expression_field_and_explicit_fk(dsn):
    model = ReadModel(
        "x",
        table="tb_user",
        fields={"id": "id", "label": Sql("upper({name}) || '#' || {id}")},
        embed={"edited": Many("tb_post", fk="editor_id", fields=("id",), order_by="id DESC")},
        forms=("tv",),
    )

    async def body(conn):
        try:
            await conn.execute("INSERT INTO tb_user (id, name) VALUES (7, 'o''brien')")
            await conn.execute(
                "INSERT INTO tb_post (id, user_id, editor_id, title) VALUES (1, 7, 7, 't'), (2, 7, 7, 't')"
            )
            assert await install(conn, [model]) == ["public.x"]
            assert await install(conn, [model]) == []  # unchanged declaration: nothing to do
            assert (
                await conn.fetchval("SELECT data->>'label' FROM tv_x WHERE id = 7") == "O'BRIEN#7"
            )
            assert (
                await conn.fetchval("SELECT data->'edited' FROM tv_x WHERE id = 7")
                == '[{"id": 2}, {"id": 1}]'
            )
        finally:
            await conn.execute(
                "DELETE FROM tb_post; DELETE FROM tb_user; SELECT fraiseql.drop_read_model('public', 'x')"
            )

    with_conn(dsn, body)


def test_missing_child_index_is_a_warning_in_the_generated_sql(dsn):
    from fraiseql.cqrs.catalog import resolve
    from fraiseql.cqrs.generate import generate

    async def body(conn):
        model = ReadModel(
            "w", table="tb_user", fields=("id",), embed={"p": POSTS}, gin=False, forms=("qm", "mv")
        )
        generated = generate(await resolve(conn, model))
        sql = generated.create
        assert generated.relations == {"mv": "mv_w", "qm": "qm_w"}
        assert generated.functions == [
            "fq_w_doc",
            "fq_w_docs",
            "fq_w_sync",
            "fq_w_sync_all",
            "fq_w_on_tb_user",
            "fq_w_on_tb_post",
        ]
        assert "-- WARNING: no index on public.tb_post (user_id)" in sql
        assert "USING gin" not in sql  # gin=False: no GIN index on qm_w or mv_w

    with_conn(dsn, body)


def test_model_in_another_schema_over_tables_of_two_schemas(dsn):
    from fraiseql.cqrs import verify

    model = ReadModel(
        "author",
        schema="app",
        table="tb_author",
        fields=("id", "name"),
        embed={"notes": Many("public.tb_note", fields=("id", "body"), order_by="id")},
        forms=("qm", "tv"),
    )

    async def body(conn):
        await conn.execute("""CREATE SCHEMA app;
            CREATE TABLE app.tb_author (id int PRIMARY KEY, name text);
            CREATE TABLE public.tb_note (id int PRIMARY KEY, author_id int REFERENCES app.tb_author, body text);
            CREATE INDEX ON public.tb_note (author_id);
            INSERT INTO app.tb_author VALUES (1, 'a'), (2, 'b');""")
        assert await install(conn, [model]) == ["app.author"]
        await conn.execute(
            "INSERT INTO public.tb_note VALUES (1, 1, 'x'), (2, 1, 'y'), (3, 2, 'z')"
        )
        await conn.execute("UPDATE public.tb_note SET author_id = 2 WHERE id = 2")
        assert (
            await conn.fetchval("SELECT data->'notes' FROM app.qm_author WHERE id = 2")
            == '[{"id": 2, "body": "y"}, {"id": 3, "body": "z"}]'
        )
        assert await conn.fetchval("SELECT to_regclass('public.qm_author') IS NULL")
        assert not await verify(conn, "app.qm_author") and not await verify(conn, "qm_author")

    with_conn(dsn, body)
