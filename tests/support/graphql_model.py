"""A blog schema whose resolvers serve in-memory documents, for the GraphQL-layer tests.

Documents look like what the read models store: snake_case keys, JSON values only.
`declare()` registers the types in the default registry (reset it first) and returns the
store the resolvers read and write.
"""

from __future__ import annotations

import asyncio
import copy
import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from graphql import GraphQLError

import fraiseql
from fraiseql.current import current_field
from fraiseql.executor import dumps


class Store:
    """Users with embedded posts and comments; `reset()` restores the initial documents."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.users = copy.deepcopy(USERS)
        self.calls = 0
        ASKED.clear()

    def user(self, id: int) -> dict | None:
        return next((u for u in self.users if u["id"] == id), None)

    def document(self, id: int) -> bytes:
        """A user as the JSON text a read model stores: numeric(10,2) balances keep their
        scale (20.50), a float8 score of 3 is written 3."""
        user = self.user(id)
        if user is None:
            return b"null"
        doc = dict(user, balance=Decimal(f"{user['balance']:.2f}"))
        if doc["score"] is not None and doc["score"] == int(doc["score"]):
            doc["score"] = int(doc["score"])
        return dumps(doc)


def _posts(user_id: int, n: int) -> list[dict]:
    return [
        {
            "id": user_id * 100 + i,
            "title": f"Post {i} of {user_id}",
            "content": 'Body \u00e9\u4e2d "quoted"\n' * (i % 2 + 1),
            "created_at": f"2025-10-{10 + i:02d}T12:00:00+00:00",
            "draft_notes": f"draft {i} of {user_id}",
            "comments": [
                {"id": user_id * 1000 + i * 10 + c, "body": f"c{c}", "likes": None if c % 2 else c}
                for c in range(i % 3)
            ],
        }
        for i in range(n)
    ]


USERS: list[dict[str, Any]] = [
    {
        "id": i,
        "first_name": f"First{i}",
        "last_name": f"Last{i}",
        "email": f"user{i}@example.com",
        "created_at": f"2025-01-{i:02d}T08:30:00+00:00",
        "birthday": None if i % 2 else f"1990-02-{i:02d}",
        "status": ["ACTIVE", "BANNED"][i % 2],
        "role": ["admin", "reader"][i % 2],
        "score": None if i == 3 else i * 1.5,
        "tags": [f"t{j}" for j in range(i % 3)],
        "profile": {"theme_name": "dark", "sizes": [1, 2, {"a_b": None}]},
        "external_id": f"00000000-0000-0000-0000-00000000000{i}",
        "balance": i * 10.25,
        "code": 7000 + i,
        "user_posts": _posts(i, i % 4) if i != 4 else None,
        "best_post": _posts(i, 1)[0] if i % 2 else None,
        # read only by those fraiseql.requires lets through (see STAFF, SIGNED_IN below)
        "phone": f"+33 1 00 00 00 0{i}",
        "salary": None if i == 2 else i * 1000,
        "audit": f"audit {i}",
    }
    for i in range(1, 6)
]


# Request contexts the permission cases run with: the predicates below read them.
ANONYMOUS = None
SIGNED_IN = {"user": 2}
STAFF = {"user": 1, "role": "staff"}
ASKED: list[Any] = []  # the GraphQLResolveInfo of each predicate call since Store.reset()


# Module-level, as the annotations that name them are resolved in the module's namespace.
def is_staff(info: Any) -> bool:
    ASKED.append(info)
    return (info.context or {}).get("role") == "staff"


async def signed_in(info: Any) -> bool:
    ASKED.append(info)
    await asyncio.sleep(0)  # a real suspension, as a predicate that reads a session does
    return (info.context or {}).get("user") is not None


def policy_down(info: Any) -> bool:
    ASKED.append(info)
    raise RuntimeError("the policy service is unreachable")


def declare(store: Store) -> None:
    """Declare the types, queries and mutations of the test schema."""

    @fraiseql.enum
    class Status(enum.Enum):
        """Account state; stored as the names themselves."""

        ACTIVE = "ACTIVE"
        BANNED = "BANNED"

    @fraiseql.enum
    class Role(enum.Enum):
        ADMIN = "admin"
        READER = "reader"

    @fraiseql.type(sql_source="qm_user", jsonb_column="data")
    class User:
        id: int
        first_name: str
        last_name: str
        email: str
        created_at: datetime
        birthday: date | None
        status: Status
        role: Role
        score: float | None
        tags: list[str]
        profile: dict
        external_id: UUID
        balance: Decimal
        code: fraiseql.ID
        user_posts: list[Post] | None
        best_post: Post | None
        phone: Annotated[str, fraiseql.requires(is_staff)]  # non-null: a refusal nulls the user
        salary: Annotated[int | None, fraiseql.requires(signed_in)]
        audit: Annotated[str | None, fraiseql.requires(policy_down)]

        @fraiseql.field
        def full_name(self, info, separator: str = " ") -> str:
            return f"{self.first_name}{separator}{self.last_name}"

        @fraiseql.field
        @fraiseql.requires(is_staff)
        def initials(self, info) -> str:
            return self.first_name[0] + self.last_name[0]

    @fraiseql.type(sql_source="tb_post")
    class Post:
        id: int
        title: str
        content: str
        created_at: datetime
        comments: list[Comment]
        draft_notes: Annotated[str, fraiseql.requires(signed_in)] | None

    @fraiseql.type
    class Comment:
        id: int
        body: str
        likes: int | None

    @fraiseql.input
    class CreateUserInput:
        first_name: str
        last_name: str
        email: str
        tags: list[str] | None = None

    @fraiseql.input
    class UserFilter:
        status: Status | None = None
        min_id: int = 0

    @fraiseql.query
    async def user(info, id: int) -> User:
        store.calls += 1
        return store.user(id)

    @fraiseql.query
    async def stored_user(info, id: int) -> User | None:
        # What the Repository does: the stored text, rewritten in C on the fast path.
        store.calls += 1
        field = current_field.get()
        selection = None if field is None else field.selection
        doc = store.document(id)
        return doc if selection is None else fraiseql.rewrite(doc, selection)

    @fraiseql.query
    async def maybe_user(info, id: int) -> User | None:
        return store.user(id)

    @fraiseql.query
    async def users(info, limit: int = 10, offset: int = 0) -> list[User]:
        return store.users[offset : offset + limit]

    @fraiseql.query
    async def search(info, filter: UserFilter | None = None) -> list[User]:
        found = store.users
        if filter is not None:
            found = [u for u in found if u["id"] >= filter.min_id]
            if filter.status is not None:
                found = [u for u in found if u["status"] == filter.status.value]
        return found

    @fraiseql.query
    async def posts_of(info, user_id: int) -> list[Post] | None:
        u = store.user(user_id)
        return None if u is None else u["user_posts"]

    @fraiseql.query
    def greeting(info, name: str = "world") -> str:
        return f"hello {name}"

    @fraiseql.query
    async def failing(info, id: int) -> User | None:
        raise ValueError(f"no luck with user {id}")

    @fraiseql.query
    async def failing_required(info) -> User:
        raise RuntimeError("required field failed")

    @fraiseql.query
    async def refused(info, id: int) -> User | None:
        # Raised on purpose: clients read this message.
        raise GraphQLError(f"user {id} is not yours", extensions={"code": "FORBIDDEN"})

    @fraiseql.query
    async def conflicting(info) -> User | None:
        # What the driver raises for a unique violation: internals clients must not see.
        raise fraiseql.IntegrityError(
            'duplicate key value violates unique constraint "tb_user_email_key"',
            sqlstate="23505",
            detail="Key (email)=(a@x) already exists.",
            fields={"constraint_name": "tb_user_email_key"},
        )

    @fraiseql.query
    async def broken_user(info) -> User | None:
        # A stored document missing a non-null field: needs null propagation.
        return {
            "id": 99,
            "first_name": None,
            "user_posts": [{"id": 1, "title": None}],
            "tags": ["a", None],
        }

    @fraiseql.query
    async def users_by_status(info, status: Status) -> list[User]:
        return [u for u in store.users if u["status"] == status.value]

    @fraiseql.query
    @fraiseql.requires(is_staff)
    async def staff_user(info, id: int) -> User | None:
        return store.user(id)

    @fraiseql.query
    @fraiseql.requires(signed_in)
    async def me(info) -> User:
        return store.user(info.context["user"])

    @fraiseql.mutation
    @fraiseql.requires(is_staff)
    async def ban_user(info, id: int) -> User | None:
        user = store.user(id)
        if user is not None:
            user["status"] = "BANNED"
        return user

    @fraiseql.mutation
    async def create_user(info, input: CreateUserInput) -> User:
        new = dict(store.users[0])
        new.update(
            id=max(u["id"] for u in store.users) + 1,
            first_name=input.first_name,
            last_name=input.last_name,
            email=input.email,
            tags=input.tags or [],
            user_posts=[],
        )
        store.users.append(new)
        return new

    @fraiseql.mutation
    async def delete_user(info, id: int) -> bool:
        before = len(store.users)
        store.users = [u for u in store.users if u["id"] != id]
        return len(store.users) < before

    @fraiseql.mutation
    async def failing_mutation(info, id: int) -> User | None:
        raise ValueError("mutation failed")
