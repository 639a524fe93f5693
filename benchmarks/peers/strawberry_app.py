"""The seed's "traditional" setup, the baseline of bench_graphql.py: Strawberry + DataLoader.

Reads the normalized tb_user / tb_post tables with asyncpg; a user's posts (the 10 latest,
newest first, ties by id: the read models' order) come through a DataLoader, so a list of
users costs two queries. `users` and `usersConnection` take the arguments of fraiseql's
generated read API (issue 10), the peer of `make bench-peers`: `where` (per column eq, neq,
in, gt, gte, lt, lte; text startswith, endswith, contains; AND, OR, NOT), `orderBy` (ties
broken by id ascending), `limit`/`offset`, and a Relay connection paged by a keyset cursor on
id. Serve with:

    FRAISEQL_BENCH_DSN=postgresql://... uvicorn benchmarks.peers.strawberry_app:app
"""

from __future__ import annotations

import asyncio
import base64
import enum
import os
from datetime import datetime
from typing import Any

import asyncpg
import strawberry
from strawberry.asgi import GraphQL
from strawberry.dataloader import DataLoader
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import Info

USER_COLUMNS = "id, first_name, last_name, email, created_at"
POSTS_OF_USERS = """
SELECT id, user_id, title, content, created_at FROM (
    SELECT p.*, row_number() OVER (PARTITION BY user_id ORDER BY created_at DESC, id DESC) AS n
    FROM tb_post p WHERE user_id = ANY($1::int[])
) ranked WHERE n <= 10 ORDER BY user_id, created_at DESC, id DESC
"""
MAX_LIMIT = 1000  # as fraiseql's default max_limit


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


# ---------------------------------------------------------------- where, orderBy


COMPARISONS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
PATTERNS = {"startswith": "{}%", "endswith": "%{}", "contains": "%{}%"}


def _filter_input(name: str, scalar: type, *operators: str) -> type:
    """A filter input on `scalar`: the COMPARISONS, `in`, and `operators` (text patterns)."""
    ops = [*COMPARISONS, *operators]
    namespace: dict[str, Any] = dict.fromkeys(ops)
    namespace["__annotations__"] = {**dict.fromkeys(ops, scalar | None), "in_": list[scalar] | None}
    namespace["in_"] = strawberry.field(name="in", default=None)
    return strawberry.input(type(name, (), namespace))


IntFilter = _filter_input("IntFilter", int)
StringFilter = _filter_input("StringFilter", str, *PATTERNS)
DateTimeFilter = _filter_input("DateTimeFilter", datetime)


@strawberry.input
class UserWhereInput:
    id: IntFilter | None = None
    first_name: StringFilter | None = None
    last_name: StringFilter | None = None
    email: StringFilter | None = None
    created_at: DateTimeFilter | None = None
    and_: list[UserWhereInput] | None = strawberry.field(name="AND", default=None)
    or_: list[UserWhereInput] | None = strawberry.field(name="OR", default=None)
    not_: UserWhereInput | None = strawberry.field(name="NOT", default=None)


@strawberry.enum
class OrderDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


COLUMNS = ("id", "first_name", "last_name", "email", "created_at")  # identifiers come from here
UserOrderByInput = strawberry.input(
    type(
        "UserOrderByInput",
        (),
        {
            "__annotations__": dict.fromkeys(COLUMNS, OrderDirection | None),
            **dict.fromkeys(COLUMNS),
        },
    )
)


def _literal(text: str) -> str:
    """`text` matched literally by LIKE: its wildcards and the escape character escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def where_sql(where: UserWhereInput | None, params: list[Any]) -> str:
    """The condition of `where` with its values appended to `params` ($n placeholders)."""
    if where is None:
        return "true"

    def bind(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    terms = []
    for column in COLUMNS:
        condition = getattr(where, column)
        if condition is None:
            continue
        for op, value in vars(condition).items():
            if value is None:
                continue
            if op in COMPARISONS:
                terms.append(f"{column} {COMPARISONS[op]} {bind(value)}")
            elif op == "in_":
                terms.append(f"{column} = ANY({bind(value)})")
            else:
                terms.append(f"{column} LIKE {bind(PATTERNS[op].format(_literal(value)))}")
    if where.and_:
        terms += [f"({where_sql(w, params)})" for w in where.and_]
    if where.or_:
        terms.append("(" + " OR ".join(f"({where_sql(w, params)})" for w in where.or_) + ")")
    if where.not_ is not None:
        terms.append(f"NOT coalesce(({where_sql(where.not_, params)}), false)")
    return " AND ".join(terms) or "true"


def order_sql(order_by: list[UserOrderByInput] | None) -> str:
    """ORDER BY of `order_by`, each entry's fields in turn, then id ascending (stable pages)."""
    keys = []
    for entry in order_by or ():
        for column in COLUMNS:
            direction = getattr(entry, column)
            if direction is not None and not any(k.startswith(column + " ") for k in keys):
                keys.append(f"{column} {direction.value}")
    if not any(k.startswith("id ") for k in keys):
        keys.append("id ASC")
    return ", ".join(keys)


def _bounded(name: str, value: int | None) -> int | None:
    if value is not None and not 0 <= value <= MAX_LIMIT:
        raise ValueError(f"{name} must be between 0 and {MAX_LIMIT}, got {value}")
    return value


# ---------------------------------------------------------------- connection


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class UserEdge:
    cursor: str
    node: User


def _cursor(user_id: int) -> str:
    return base64.urlsafe_b64encode(f"user:{user_id}".encode()).decode()


def _after_id(cursor: str) -> int:
    try:
        kind, _, key = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "user":
            return int(key)
    except ValueError:
        pass
    raise ValueError(f"after: not a cursor of usersConnection: {cursor!r}")


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo
    count_sql: strawberry.Private[str]
    count_params: strawberry.Private[list[Any]]

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        """Counted only when selected: the filtered set, whatever page this is."""
        return await info.context["pool"].fetchval(self.count_sql, *self.count_params)


@strawberry.type
class Query:
    @strawberry.field
    async def user(self, info: Info, id: int) -> User | None:
        return await info.context["users"].load(id)

    @strawberry.field
    async def users(
        self,
        info: Info,
        where: UserWhereInput | None = None,
        order_by: list[UserOrderByInput] | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[User]:
        params: list[Any] = []
        sql = (
            f"SELECT {USER_COLUMNS} FROM tb_user WHERE {where_sql(where, params)} "
            f"ORDER BY {order_sql(order_by)}"
        )
        if _bounded("limit", limit) is not None:
            params.append(limit)
            sql += f" LIMIT ${len(params)}"
        if offset:
            if offset < 0:
                raise ValueError(f"offset must not be negative, got {offset}")
            params.append(offset)
            sql += f" OFFSET ${len(params)}"
        return [_user(r) for r in await info.context["pool"].fetch(sql, *params)]

    @strawberry.field
    async def users_connection(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        where: UserWhereInput | None = None,
    ) -> UserConnection:
        first = MAX_LIMIT if _bounded("first", first) is None else first
        params: list[Any] = []
        condition = where_sql(where, params)
        count_params = list(params)
        page = condition
        if after is not None:
            params.append(_after_id(after))
            page = f"({condition}) AND id > ${len(params)}"
        params.append(first + 1)  # one more than asked: is there a next page
        rows = await info.context["pool"].fetch(
            f"SELECT {USER_COLUMNS} FROM tb_user WHERE {page} ORDER BY id LIMIT ${len(params)}",
            *params,
        )
        edges = [UserEdge(cursor=_cursor(r["id"]), node=_user(r)) for r in rows[:first]]
        return UserConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > first,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            count_sql=f"SELECT count(*) FROM tb_user WHERE {condition}",
            count_params=count_params,
        )


class App(GraphQL):
    """Strawberry's ASGI app with a pool and per-request DataLoaders in the context."""

    pool: asyncpg.Pool | None = None
    lock = asyncio.Lock()

    async def shared_pool(self) -> asyncpg.Pool:
        """The app's pool, opened by the first request."""
        if self.pool is None:
            async with self.lock:
                if self.pool is None:
                    self.pool = await asyncpg.create_pool(
                        os.environ["FRAISEQL_BENCH_DSN"], min_size=4, max_size=10
                    )
        return self.pool

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        pool = await self.shared_pool()

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


# Parsed and validated once per document, as fraiseql's plan cache does (validation alone is
# most of a request's CPU without it).
app = App(
    strawberry.Schema(query=Query, extensions=[ParserCache(), ValidationCache()]), graphql_ide=None
)
