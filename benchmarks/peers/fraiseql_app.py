"""fraiseql's contender in `make bench-peers`: a read model through the generated read API
(issue 10): `users` with where/orderBy/limit/offset and `usersConnection`.

Serve with:

    FRAISEQL_BENCH_DSN=postgresql://... uvicorn benchmarks.peers.fraiseql_app:app

FRAISEQL_BENCH_SOURCE names the read model: `qm_user_summary` (dataset.py's USER_SUMMARY, the
fields the queries select, as the peers read them from tb_user) by default, or the blog's
`qm_user` (each user with their 10 latest posts embedded).
"""

from __future__ import annotations

import os
from datetime import datetime

import fraiseql
from fraiseql.repositories import Repository

SOURCE = os.environ.get("FRAISEQL_BENCH_SOURCE", "qm_user_summary")


@fraiseql.type(sql_source=SOURCE)
class User:
    id: int
    first_name: str
    last_name: str
    email: str
    created_at: datetime


@fraiseql.query
async def users(info) -> list[User]:
    """The filter, order and page arguments are generated; find() applies them."""
    return await Repository(info.context["db"], info.context).find()


@fraiseql.query
async def users_connection(info) -> fraiseql.Connection[User]:
    """A Relay connection: first/after/last/before/where/orderBy, keyset cursors."""
    return await Repository(info.context["db"], info.context).paginate()


app = fraiseql.create_app(database_url=os.environ["FRAISEQL_BENCH_DSN"])
