"""The queries of `make bench-peers`, as each peer's GraphQL API spells them, and the one
shape their answers are compared in.

Two APIs: fraiseql's generated read API (issue 10), which the Strawberry peer copies, and
PostGraphile's (v4 and v5 alike, with postgraphile-plugin-connection-filter), whose v5 names
the key column `rowId` (`id` is its global node id): a dialect is an API and that name. A query's
`params` are the values of one request (a user id, an email, a time range); `request` turns
them into a server's body; `normalise` turns its answer into the rows (user ids and field
values in order, times as datetimes) plus, for connections, hasNextPage and totalCount.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

KEY = "@id"  # in the documents below: the key column's field, as the dialect names it
USER_FIELDS = f"{KEY} firstName lastName email createdAt"
# The blog's users are created three a minute from this instant (fraiseql.examples.blog).
FIRST_CREATED = datetime(2024, 1, 1, tzinfo=timezone.utc)
RANGE = timedelta(hours=1)
PAGE = 20

FRAISEQL, POSTGRAPHILE = "fraiseql", "postgraphile"  # the APIs
DIALECTS = {  # dialect -> (API, the key's field selection, answering as `id`)
    "fraiseql": (FRAISEQL, "id"),
    "postgraphile v4": (POSTGRAPHILE, "id"),
    "postgraphile v5": (POSTGRAPHILE, "id: rowId"),
}

Params = dict[str, Any]


@dataclass(frozen=True)
class Query:
    """One benchmarked query: its GraphQL text per dialect and how to draw its values."""

    name: str
    text: dict[str, str]  # API -> document
    draw: Callable[[random.Random, int], Params]  # (rng, users) -> one request's values
    root: dict[str, str]  # API -> root field of the answer
    connection: bool = False


def _range(rng: random.Random, users: int) -> Params:
    start = FIRST_CREATED + timedelta(minutes=rng.randrange(users // 3))
    return {"from": start.isoformat(), "to": (start + RANGE).isoformat()}


def _page(rng: random.Random, users: int) -> Params:
    return {"after_id": rng.randint(1, users - PAGE)}


_CONNECTION_FIELDS = (
    f"edges {{ cursor node {{ {USER_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }}"
)
_ROOTS = {FRAISEQL: "users", POSTGRAPHILE: "allTbUsers"}
_CONNECTION_ROOTS = {FRAISEQL: "usersConnection", POSTGRAPHILE: "allTbUsers"}

QUERIES = (
    Query(
        "unfiltered users(limit: 10)",
        {
            FRAISEQL: f"{{ users(limit: 10) {{ {USER_FIELDS} }} }}",
            POSTGRAPHILE: f"{{ allTbUsers(first: 10, orderBy: PRIMARY_KEY_ASC) {{ nodes {{ {USER_FIELDS} }} }} }}",
        },
        lambda rng, users: {},
        _ROOTS,
    ),
    Query(
        "where email eq (indexed)",
        {
            FRAISEQL: "query($email: String!) { users(where: {email: {eq: $email}}) "
            f"{{ {USER_FIELDS} }} }}",
            POSTGRAPHILE: "query($email: String!) { allTbUsers(filter: {email: {equalTo: $email}}) "
            f"{{ nodes {{ {USER_FIELDS} }} }} }}",
        },
        lambda rng, users: {"email": f"user{rng.randint(1, users)}@example.com"},
        _ROOTS,
    ),
    Query(
        "createdAt range, orderBy createdAt DESC, limit 20",
        {
            FRAISEQL: "query($from: DateTime!, $to: DateTime!) { users(where: {createdAt: "
            "{gte: $from, lt: $to}}, orderBy: [{createdAt: DESC}], limit: 20) "
            f"{{ {USER_FIELDS} }} }}",
            POSTGRAPHILE: "query($from: Datetime!, $to: Datetime!) { allTbUsers(filter: "
            "{createdAt: {greaterThanOrEqualTo: $from, lessThan: $to}}, "
            "orderBy: [CREATED_AT_DESC, PRIMARY_KEY_ASC], first: 20) "
            f"{{ nodes {{ {USER_FIELDS} }} }} }}",
        },
        _range,
        _ROOTS,
    ),
    Query(
        "connection page (first 20, after)",
        {
            FRAISEQL: f"query($after: String) {{ usersConnection(first: {PAGE}, after: $after) "
            f"{{ {_CONNECTION_FIELDS} }} }}",
            POSTGRAPHILE: f"query($after: Cursor) {{ allTbUsers(first: {PAGE}, after: $after, "
            f"orderBy: PRIMARY_KEY_ASC) {{ {_CONNECTION_FIELDS} }} }}",
        },
        _page,
        _CONNECTION_ROOTS,
        connection=True,
    ),
    Query(
        "connection page with totalCount",
        {
            FRAISEQL: f"query($after: String) {{ usersConnection(first: {PAGE}, after: $after) "
            f"{{ totalCount {_CONNECTION_FIELDS} }} }}",
            POSTGRAPHILE: f"query($after: Cursor) {{ allTbUsers(first: {PAGE}, after: $after, "
            f"orderBy: PRIMARY_KEY_ASC) {{ totalCount {_CONNECTION_FIELDS} }} }}",
        },
        _page,
        _CONNECTION_ROOTS,
        connection=True,
    ),
)

# The cursor walk (`cursors`) reads the connection in pages of this many users, by key.
WALK = {
    FRAISEQL: "query($after: String) { usersConnection(first: 1000, after: $after) "
    f"{{ edges {{ cursor node {{ {KEY} }} }} pageInfo {{ hasNextPage }} }} }}",
    POSTGRAPHILE: "query($after: Cursor) { allTbUsers(first: 1000, after: $after, "
    f"orderBy: PRIMARY_KEY_ASC) {{ edges {{ cursor node {{ {KEY} }} }} pageInfo {{ hasNextPage }} }} }}",
}


def document(text: dict[str, str], dialect: str) -> str:
    """The document of `text` (API -> document) in `dialect`."""
    api, key = DIALECTS[dialect]
    return text[api].replace(KEY, key)


def request(query: Query, dialect: str, params: Params, cursors: dict[int, str]) -> Params:
    """The JSON body asking `query` with `params` of a server whose cursors are `cursors`."""
    variables = dict(params)
    if "after_id" in variables:
        variables = {"after": cursors[variables.pop("after_id")]}
    return {"query": document(query.text, dialect), "variables": variables}


def normalise(query: Query, dialect: str, answer: Any) -> Any:
    """The answer's rows and page facts in one shape; ValueError naming what is wrong."""
    if not isinstance(answer, dict) or answer.get("errors") or "data" not in answer:
        raise ValueError(f"error answer: {str(answer)[:300]}")
    api = DIALECTS[dialect][0]
    root = answer["data"][query.root[api]]
    if query.connection:
        out = {"hasNextPage": root["pageInfo"]["hasNextPage"]}
        if "totalCount" in root:
            out["totalCount"] = root["totalCount"]
        return {**out, "users": [_user(edge["node"]) for edge in root["edges"]]}
    return [_user(u) for u in (root["nodes"] if api == POSTGRAPHILE else root)]


def _user(u: dict[str, Any]) -> tuple[Any, ...]:
    created = datetime.fromisoformat(u["createdAt"])
    return int(u["id"]), u["firstName"], u["lastName"], u["email"], created
