"""`python -m fraiseql.demo`: the rewriter at work on the seed's qm_user document.

Starts an embedded PostgreSQL, builds the seed document's `qm_user` read model (a user and
their 10 latest posts as JSONB), reads one row as PostgreSQL prints it, and rewrites it for
a GraphQL selection. Grows into the blog demo of the seed document as the GraphQL layer lands.
"""

from __future__ import annotations

import shutil
import subprocess
import time

from fraiseql import ID, Selection, rewrite
from fraiseql.embedded import EmbeddedPostgres, find_bindir

# The seed's schema and read model, with its LIMIT bug fixed (limit the posts, not the
# aggregate row) and a tie-breaker in the order.
SQL = """
CREATE TABLE tb_user (id int PRIMARY KEY, first_name text, last_name text, email text,
                      created_at timestamptz DEFAULT '2024-01-15 09:30:00+00');
CREATE TABLE tb_post (id int PRIMARY KEY, user_id int REFERENCES tb_user, title text,
                      content text, created_at timestamptz);
CREATE TABLE qm_user (id int PRIMARY KEY, data jsonb NOT NULL);
INSERT INTO tb_user (id, first_name, last_name, email) VALUES (1, 'Alice', 'Martin', 'alice@example.org');
INSERT INTO tb_post
SELECT i, 1, 'Post number ' || i, repeat('Streaming rewrites beat DOMs. ', 10),
       '2024-03-01 12:00:00+00'::timestamptz + i * interval '1 hour'
FROM generate_series(1, 12) AS i;
INSERT INTO qm_user
SELECT u.id, jsonb_build_object(
    'id', u.id, 'first_name', u.first_name, 'last_name', u.last_name, 'email', u.email,
    'created_at', u.created_at,
    'user_posts', COALESCE((
        SELECT jsonb_agg(jsonb_build_object('id', p.id, 'title', p.title, 'content', p.content,
                                            'created_at', p.created_at)
                         ORDER BY p.created_at DESC, p.id DESC)
        FROM (SELECT * FROM tb_post WHERE user_id = u.id
              ORDER BY created_at DESC, id DESC LIMIT 10) p), '[]'::jsonb))
FROM tb_user u;
SELECT data FROM qm_user WHERE id = 1;
"""

QUERY = "{ user(id: 1) { __typename id firstName email posts: userPosts { __typename id title createdAt } } }"

POST = Selection(
    "Post",
    [("__typename", None, None), ("id", "id", None, ID), ("title", "title", None), ("createdAt", "created_at", None)],
)
USER = Selection(
    "User",
    [
        ("__typename", None, None),
        ("id", "id", None, ID),
        ("firstName", "first_name", None),
        ("email", "email", None),
        ("posts", "user_posts", POST),
    ],
)


def fetch_document(pg: EmbeddedPostgres) -> bytes:
    """The qm_user row's JSONB text, as PostgreSQL prints it (read with psql)."""
    psql = shutil.which("psql") or str(find_bindir() / "psql")
    out = subprocess.run(
        [psql, pg.dsn, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-f", "-"],
        input=SQL.encode(),
        capture_output=True,
        check=True,
    )
    return out.stdout.strip()


def main() -> None:
    with EmbeddedPostgres() as pg:
        print(f"fraiseql demo: embedded PostgreSQL at {pg.dsn}\n")
        doc = fetch_document(pg)
    print(f"qm_user.data ({len(doc)} bytes, as PostgreSQL stores and prints it):\n{doc.decode()}\n")
    print(f"GraphQL selection: {QUERY}\n")
    out = rewrite(doc, USER)
    n = 20000
    start = time.perf_counter()
    for _ in range(n):
        rewrite(doc, USER)
    us = (time.perf_counter() - start) / n * 1e6
    print(f"fraiseql.rewrite(doc, selection) -> {len(out)} bytes in {us:.2f} us:\n{out.decode()}")


if __name__ == "__main__":
    main()
