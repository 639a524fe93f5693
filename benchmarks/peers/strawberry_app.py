"""The seed's "traditional" setup, the baseline of bench_graphql.py: Strawberry + DataLoader.

Reads the normalized tb_user / tb_post tables with asyncpg; a user's posts (the 10 latest,
newest first, ties by id: the read models' order) come through a DataLoader, so a list of
users costs two queries. Serve with:

    FRAISEQL_BENCH_DSN=postgresql://... uvicorn benchmarks.peers.strawberry_app:app
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime
from typing import Any

import asyncpg
import strawberry
from strawberry.asgi import GraphQL
from strawberry.dataloader import DataLoader
from strawberry.types import Info

USER_COLUMNS = "id, first_name, last_name, email, created_at"
POSTS_OF_USERS = """
SELECT id, user_id, title, content, created_at FROM (
    SELECT p.*, row_number() OVER (PARTITION BY user_id ORDER BY created_at DESC, id DESC) AS n
    FROM tb_post p WHERE user_id = ANY($1::int[])
) ranked WHERE n <= 10 ORDER BY user_id, created_at DESC, id DESC
"""


@strawberry.type
class Post:
    id: int
    title: str
    content: str
    created_at: datetime


@strawberry.type
class User:
    id: int
    first_name: str
    last_name: str
    email: str
    created_at: datetime

    @strawberry.field
    async def user_posts(self, info: Info) -> list[Post]:
        return await info.context["posts"].load(self.id)


def _user(row: asyncpg.Record) -> User:
    return User(
        id=row["id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        email=row["email"],
        created_at=row["created_at"],
    )


@strawberry.type
class Query:
    @strawberry.field
    async def user(self, info: Info, id: int) -> User | None:
        return await info.context["users"].load(id)

    @strawberry.field
    async def users(self, info: Info, limit: int = 10) -> list[User]:
        rows = await info.context["pool"].fetch(
            f"SELECT {USER_COLUMNS} FROM tb_user ORDER BY id LIMIT $1", limit
        )
        return [_user(r) for r in rows]


class App(GraphQL):
    """Strawberry's ASGI app with a pool and per-request DataLoaders in the context."""

    pool: asyncpg.Pool | None = None
    lock = asyncio.Lock()

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        if self.pool is None:
            async with self.lock:
                if self.pool is None:
                    self.pool = await asyncpg.create_pool(
                        os.environ["FRAISEQL_BENCH_DSN"], min_size=4, max_size=10
                    )
        pool = self.pool

        async def load_users(ids: list[int]) -> list[User | None]:
            rows = await pool.fetch(
                f"SELECT {USER_COLUMNS} FROM tb_user WHERE id = ANY($1::int[])", ids
            )
            found = {r["id"]: _user(r) for r in rows}
            return [found.get(i) for i in ids]

        async def load_posts(user_ids: list[int]) -> list[list[Post]]:
            by_user: dict[int, list[Post]] = {i: [] for i in user_ids}
            for r in await pool.fetch(POSTS_OF_USERS, user_ids):
                by_user[r["user_id"]].append(
                    Post(
                        id=r["id"],
                        title=r["title"],
                        content=r["content"],
                        created_at=r["created_at"],
                    )
                )
            return [by_user[i] for i in user_ids]

        return {"pool": pool, "users": DataLoader(load_users), "posts": DataLoader(load_posts)}


app = App(strawberry.Schema(query=Query), graphql_ide=None)
