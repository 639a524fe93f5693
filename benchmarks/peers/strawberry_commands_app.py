"""The write side of the "traditional" setup, the peer of bench_commands.py: Strawberry with
asyncpg, `createUser` and `renameUser` doing what fraiseql's commands do (the write to
tb_user, whose triggers keep qm_user, then the user read back, here from tb_user's columns).
Serve with:

    FRAISEQL_BENCH_DSN=postgresql://... uvicorn benchmarks.peers.strawberry_commands_app:app
"""

from __future__ import annotations

from typing import Any

import asyncpg
import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import Info

from benchmarks.peers.strawberry_app import USER_COLUMNS, User, _user
from benchmarks.peers.strawberry_app import App as ReadApp

USER = f"SELECT {USER_COLUMNS} FROM tb_user WHERE id = $1"


async def _read_back(pool: asyncpg.Pool, key: int | None) -> User | None:
    row = None if key is None else await pool.fetchrow(USER, key)
    return None if row is None else _user(row)


@strawberry.type
class Query:
    @strawberry.field
    def ping(self) -> str:
        return "pong"


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_user(
        self, info: Info, first_name: str, last_name: str, email: str
    ) -> User | None:
        pool = info.context["pool"]
        async with pool.acquire() as conn, conn.transaction():
            key = await conn.fetchval(
                "INSERT INTO tb_user (first_name, last_name, email) VALUES ($1, $2, $3) RETURNING id",
                first_name,
                last_name,
                email,
            )
            return await _read_back(conn, key)

    @strawberry.mutation
    async def rename_user(self, info: Info, id: int, last_name: str) -> User | None:
        pool = info.context["pool"]
        async with pool.acquire() as conn, conn.transaction():
            key = await conn.fetchval(
                "UPDATE tb_user SET last_name = $2 WHERE id = $1 RETURNING id", id, last_name
            )
            return await _read_back(conn, key)


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    extensions=[ParserCache(maxsize=100), ValidationCache(maxsize=100)],
)


class App(ReadApp):
    """The read peer's app (its pool opened by the first request), writes in the context."""

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {"pool": await self.shared_pool()}


app = App(schema)
