"""The seed document's blog, declared with fraiseql.cqrs instead of written by hand.

Tables `tb_user`, `tb_post`, `tb_comment`; read model `user` (the seed's shape: a user with
the 10 latest posts, newest first, ties broken by id) as `qm_user`, `mv_user`, `tv_user`;
read model `post` (a post with its author and its 20 latest comments, each with its author)
as `tv_post`.

    from fraiseql.examples import blog
    await blog.setup(conn)                 # tables, 10,000 users, 200,000 posts, read models
    await conn.fetchval("SELECT data FROM qm_user WHERE id = $1", 1)

The SQL generated for the read models is kept, readable, in the source tree's
`sql/examples/blog/` (`reference_sql`; `make sql-reference` rewrites it).
"""

from __future__ import annotations

from typing import Any

from fraiseql.cqrs import Many, One, ReadModel, install
from fraiseql.cqrs.catalog import resolve
from fraiseql.cqrs.generate import SECTIONS, generate

__all__ = [
    "MODELS",
    "REFERENCE_DIR",
    "SCHEMA_SQL",
    "create_tables",
    "load",
    "post",
    "reference_sql",
    "setup",
    "user",
]

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS tb_user (
    id         serial PRIMARY KEY,
    first_name text NOT NULL,
    last_name  text NOT NULL,
    email      text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- Serves tv_user's indexed created_at (email has its UNIQUE index).
CREATE INDEX IF NOT EXISTS tb_user_created_at ON tb_user (created_at DESC, id);
CREATE TABLE IF NOT EXISTS tb_post (
    id         serial PRIMARY KEY,
    user_id    int NOT NULL REFERENCES tb_user (id) ON DELETE CASCADE,
    title      text NOT NULL,
    content    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Serves "the 10 latest posts of a user" as one index range, in the documents' order.
CREATE INDEX IF NOT EXISTS tb_post_user_latest ON tb_post (user_id, created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS tb_comment (
    id         serial PRIMARY KEY,
    post_id    int NOT NULL REFERENCES tb_post (id) ON DELETE CASCADE,
    user_id    int NOT NULL REFERENCES tb_user (id) ON DELETE CASCADE,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS tb_comment_post_latest ON tb_comment (post_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS tb_comment_user ON tb_comment (user_id);
"""

AUTHOR = One("tb_user", fk="user_id", fields=("id", "first_name", "last_name"))

user = ReadModel(
    "user",
    table="tb_user",
    fields=("id", "first_name", "last_name", "email", "created_at"),
    embed={
        "user_posts": Many(
            "tb_post",
            fk="user_id",
            fields=("id", "title", "content", "created_at"),
            order_by="created_at DESC, id DESC",
            limit=10,
        ),
    },
    forms=("tv", "mv", "qm"),
    notify=True,  # mv_user can be refreshed debounced (fraiseql refresh mv_user --debounce 1)
    indexed=("email", "created_at DESC"),  # the demo's filters and orders: index scans
)

post = ReadModel(
    "post",
    table="tb_post",
    fields=("id", "title", "content", "created_at"),
    embed={
        "author": AUTHOR,
        "comments": Many(
            "tb_comment",
            fk="post_id",
            fields=("id", "body", "created_at"),
            embed={"author": AUTHOR},
            order_by="created_at DESC, id DESC",
            limit=20,
        ),
    },
    forms=("tv",),
)

MODELS = (user, post)

REFERENCE_DIR = "sql/examples/blog"  # where the source tree keeps the files of reference_sql
_REFERENCE_NOTE = (
    "-- Generated from fraiseql/examples/blog.py by `make sql-reference`; do not edit.\n"
    "-- A model's whole script (what `fraiseql makemigrations` writes) runs its parts in order:\n"
    f"-- {', '.join(SECTIONS)}.\n\n"
)

# Set-based loading: one INSERT ... SELECT generate_series per table. Ids are explicit
# (continuing after the current maximum) so posts can point at the users of this call;
# created_at repeats in threes so the id tie-breaker of the documents' order matters.
_LOAD_USERS = """
INSERT INTO tb_user (id, first_name, last_name, email, created_at, updated_at)
SELECT $2 + g, 'First' || ($2 + g), 'Last' || ($2 + g), 'user' || ($2 + g) || '@example.com',
       timestamptz '2024-01-01 00:00:00+00' + (g / 3) * interval '1 minute',
       timestamptz '2024-01-01 00:00:00+00' + (g / 3) * interval '1 minute'
FROM generate_series(1, $1::int) AS g
"""
_LOAD_POSTS = """
INSERT INTO tb_post (id, user_id, title, content, created_at)
SELECT $3 + g, $4 + 1 + (g % $2::int), 'Post ' || ($3 + g), repeat(md5(g::text), 10),
       timestamptz '2024-01-01 00:00:00+00' + (g / 3) * interval '1 minute'
FROM generate_series(1, $1::int) AS g
"""
_LOAD_COMMENTS = """
INSERT INTO tb_comment (id, post_id, user_id, body, created_at)
SELECT $5 + g, $3 + 1 + (g % $2::int), $4 + 1 + (g::bigint * 104729 % $6::int),
       'Comment ' || ($5 + g) || ': ' || md5(g::text),
       timestamptz '2024-06-01 00:00:00+00' + (g / 3) * interval '1 minute'
FROM generate_series(1, $1::int) AS g
"""


async def create_tables(conn: Any) -> None:
    """Create tb_user, tb_post, tb_comment (if missing)."""
    await conn.execute(SCHEMA_SQL)


async def _max_id(conn: Any, table: str) -> int:
    return await conn.fetchval(
        f"SELECT coalesce(max(id), 0) FROM {table}"
    )  # table: a constant of this module


async def load(conn: Any, users: int = 10_000, posts: int = 200_000, comments: int = 0) -> None:
    """Add `users` users, `posts` posts spread over them and `comments` comments, then ANALYZE.

    Installed read models stay right: qm_ triggers rebuild each document once per statement,
    and mv_ models of the example are refreshed at the end.
    """
    if users < 1 or posts < 0 or comments < 0 or (comments and not posts):
        raise ValueError(
            f"load needs users >= 1, posts >= 0, comments >= 0 (and posts for comments); "
            f"got users={users}, posts={posts}, comments={comments}"
        )
    async with conn.transaction():
        base_user, base_post = await _max_id(conn, "tb_user"), await _max_id(conn, "tb_post")
        await conn.execute(_LOAD_USERS, users, base_user)
        if posts:
            await conn.execute(_LOAD_POSTS, posts, users, base_post, base_user)
        if comments:
            await conn.execute(
                _LOAD_COMMENTS,
                comments,
                posts,
                base_post,
                base_user,
                await _max_id(conn, "tb_comment"),
                users,
            )
        for table in ("tb_user", "tb_post", "tb_comment"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
    for model in MODELS:
        if "mv" in model.forms and await conn.fetchval(
            "SELECT to_regclass($1) IS NOT NULL", model.relation("mv")
        ):
            await conn.execute(f"REFRESH MATERIALIZED VIEW {model.relation('mv')}")
    await conn.execute("ANALYZE tb_user, tb_post, tb_comment")


async def setup(conn: Any, users: int = 10_000, posts: int = 200_000, comments: int = 0) -> None:
    """Tables, data, then the read models (created after the data: one backfill)."""
    await create_tables(conn)
    await load(conn, users, posts, comments)
    await install(conn, MODELS)
    await conn.execute("ANALYZE")


async def reference_sql(conn: Any) -> dict[str, str]:
    """The SQL generated for MODELS as reference files: file name -> text.

    One file per model and part of its script: `tv_user.sql`, `mv_user.sql`, `qm_user.sql` for
    the forms, `user_builder.sql` and `user_catalog.sql` for the rest. Creates the tables first
    (the generator checks every name against the catalog of `conn`'s database).
    """
    await create_tables(conn)
    files = {}
    for model in MODELS:
        generated = generate(await resolve(conn, model))
        for section, sql in generated.sections.items():
            name = generated.relations.get(section, f"{model.name}_{section}")
            files[f"{name}.sql"] = _REFERENCE_NOTE + sql + "\n"
    return files
