"""The demo's app for bench_commands.py's wrk runs (uvicorn benchmarks.bench_commands_app:app):
the seed's API, the blog's generated commands, and the hand-written resolvers doing what
the generated ones do: `createUserByHand` (the seed's own createUser: INSERT INTO tb_user,
then the qm_user document) and `renameUser` (UPDATE tb_user, then the document)."""

import os

import fraiseql
from fraiseql.examples import blog_expose  # noqa: F401 - declares the seed's API and commands
from fraiseql.examples.blog_api import User
from fraiseql.repositories import Repository


@fraiseql.mutation
async def create_user_by_hand(info, first_name: str, last_name: str, email: str) -> User:
    """The seed's hand-written createUser: the generated createUser's SQL, written by hand."""
    db = info.context["db"]
    key = await db.fetchval(
        "INSERT INTO tb_user (first_name, last_name, email) VALUES ($1, $2, $3) RETURNING id",
        first_name,
        last_name,
        email,
    )
    return await Repository(db, info.context).find_one("qm_user", id=key)


@fraiseql.mutation
async def rename_user(info, id: int, last_name: str) -> User | None:
    """Set a user's last name: the generated updateUser's SQL, written by hand."""
    db = info.context["db"]
    key = await db.fetchval(
        "UPDATE tb_user SET last_name = $2 WHERE id = $1 RETURNING id", id, last_name
    )
    return None if key is None else await Repository(db, info.context).find_one("qm_user", id=key)


app = fraiseql.create_app(database_url=os.environ["FRAISEQL_BENCH_DSN"])
