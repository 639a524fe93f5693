"""The seed document's GraphQL API of the blog ("FraiseQL Integration"), as the seed wrote it.

Importing this module declares `User`, `Post`, the queries `user(id)` and `users(limit)`,
the mutations `createUser` and `signUp` and the subscription `user(id)` in the default
registry. The data is fraiseql.examples.blog's. Below the marker is the seed's code
unmodified; above it only what the seed's snippet takes for granted: postponed annotations
(its `User` names `Post` before `Post` is declared) and the import of `datetime`. After the
seed's code: the live query and the typed `signUp` that fraiseql adds.
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


# MUTATIONS (write to command side)
@fraiseql.mutation
async def create_user(info, first_name: str, last_name: str, email: str) -> User:
    """
    Write to command side (tb_user)
    - Triggers automatically sync to query side (qm_user)
    - Returns updated query model
    """
    db = info.context["db"]

    # Insert into command model
    result = await db.fetchrow(
        """
        INSERT INTO tb_user (first_name, last_name, email)
        VALUES ($1, $2, $3)
        RETURNING id
        """,
        first_name,
        last_name,
        email,
    )

    user_id = result["id"]

    # Trigger automatically synced qm_user
    # Now read from query model
    repo = Repository(db, info.context)
    return await repo.find_one("qm_user", id=user_id)


# ---- live queries (fraiseql's addition to the seed) -----------------------------------------
@fraiseql.subscription
async def user(info, id: int) -> AsyncIterator[User | None]:  # noqa: F811 - Subscription.user
    """The user's document now, then again after every change of it (None once deleted)."""
    async for doc in Repository(info.context["db"], info.context).watch("qm_user", id=id):
        yield doc


# ---- typed mutation results (fraiseql's addition to the seed) -------------------------------
@fraiseql.type
class UserCreated:
    """The user signed up: their document, read back in the same transaction."""

    user: User


@fraiseql.error
class SignUpError:
    """Why the sign-up was refused: `code` (UNIQUE_VIOLATION, ...), `field` the input field."""

    code: str
    message: str
    field: str | None = None


@fraiseql.mutation
async def sign_up(info, first_name: str, last_name: str, email: str) -> UserCreated | SignUpError:
    """The seed's createUser with a typed result: a duplicate email is a SignUpError
    (UNIQUE_VIOLATION on `email`), and nothing is written."""
    db = info.context["db"]
    user_id = await db.fetchval(
        "INSERT INTO tb_user (first_name, last_name, email) VALUES ($1, $2, $3) RETURNING id",
        first_name,
        last_name,
        email,
    )
    return UserCreated(user=await Repository(db, info.context).find_one("qm_user", id=user_id))
