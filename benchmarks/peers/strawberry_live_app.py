"""A Strawberry subscription that polls the read model: what a Python server without change
notification does for live data (and, at 1 s, Hasura's default live-query interval).

`subscription { user(id) { id firstName userPosts { id title } } }` reads qm_user every
FRAISEQL_BENCH_POLL seconds (default 1) per subscriber and sends the document when it changed.
Serve with:

    FRAISEQL_BENCH_DSN=postgresql://... uvicorn benchmarks.peers.strawberry_live_app:app
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncGenerator
from typing import Any

import asyncpg
import strawberry
from strawberry.asgi import GraphQL
from strawberry.types import Info

POLL = float(os.environ.get("FRAISEQL_BENCH_POLL", "1"))


@strawberry.type
class Post:
    id: int
    title: str


@strawberry.type
class User:
    id: int
    first_name: str
    user_posts: list[Post]


def _user(doc: dict[str, Any]) -> User:
    posts = [Post(id=p["id"], title=p["title"]) for p in doc.get("user_posts") or ()]
    return User(id=doc["id"], first_name=doc["first_name"], user_posts=posts)


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> bool:
        return True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def user(self, info: Info, id: int) -> AsyncGenerator[User | None, None]:
        pool = await info.context["pool"]()
        last = None
        while True:
            raw = await pool.fetchval("SELECT data::text FROM qm_user WHERE id = $1", id)
            if raw != last:
                last = raw
                yield None if raw is None else _user(json.loads(raw))
            await asyncio.sleep(POLL)


class App(GraphQL):
    _pool: asyncpg.Pool | None = None
    _lock = asyncio.Lock()

    async def pool(self) -> asyncpg.Pool:
        async with self._lock:
            if App._pool is None:
                App._pool = await asyncpg.create_pool(
                    os.environ["FRAISEQL_BENCH_DSN"], min_size=2, max_size=8
                )
        return App._pool

    async def get_context(self, request: Any, response: Any = None) -> dict[str, Any]:
        return {"pool": self.pool}


app = App(strawberry.Schema(query=Query, subscription=Subscription))
