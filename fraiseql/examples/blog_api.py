"""The seed document's GraphQL API of the blog ("FraiseQL Integration"), as the seed wrote it.

Importing this module declares `User`, `Post`, the queries `user(id)` and `users(limit)`,
the mutation `createUser` and the subscription `user(id)` in the default registry. The data
is fraiseql.examples.blog's. Below the marker is the seed's code, unmodified but for its
hand-written `createUser`, which fraiseql generates typed instead (FraiseQL v1's shape, once
the app has read tb_user's columns):

    mutation { createUser(input: {firstName: "Ada", lastName: "L", email: "ada@x.org"}) {
      ... on CreateUserSuccess { user { id email } }
      ... on CreateUserError { code message field } } }

a duplicate email answering CreateUserError UNIQUE_VIOLATION on `email`, nothing written.
Above the marker only what the seed's snippet takes for granted: postponed annotations (its
`User` names `Post` before `Post` is declared) and the import of `datetime`. After the
seed's code: the live query that fraiseql adds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

# ---- the seed's code, unmodified ----------------------------------------------------------
import fraiseql
from fraiseql.repositories import Repository


# GraphQL types
@fraiseql.type(sql_source="qm_user", jsonb_column="data")
class User:
    id: int
    first_name: str
    last_name: str
    email: str
    created_at: datetime
    user_posts: list[Post] | None


@fraiseql.type(sql_source="tb_post")
class Post:
    id: int
    title: str
    content: str
    created_at: datetime


# QUERIES (read from query model)
@fraiseql.query
async def user(info, id: int) -> User:
    """
    Read from query side (qm_user)
    - Real-time (no staleness)
    - 0.05ms DB + 0.5ms Rust = 0.55ms total
    """
    repo = Repository(info.context["db"], info.context)
    return await repo.find_one("qm_user", id=id)


@fraiseql.query
async def users(info, limit: int = 10) -> list[User]:
    """Read from query side"""
    repo = Repository(info.context["db"], info.context)
    return await repo.find("qm_user", limit=limit)


# MUTATIONS (write to command side): the seed's createUser, generated with a typed result
fraiseql.expose(User, create="createUser")


# ---- live queries (fraiseql's addition to the seed) -----------------------------------------
@fraiseql.subscription
async def user(info, id: int) -> AsyncIterator[User | None]:  # noqa: F811 - Subscription.user
    """The user's document now, then again after every change of it (None once deleted)."""
    async for doc in Repository(info.context["db"], info.context).watch("qm_user", id=id):
        yield doc
