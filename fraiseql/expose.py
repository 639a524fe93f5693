"""`fraiseql.expose`: root fields generated for a type with a sql_source, no resolver
written.

    fraiseql.expose(User, one="user", many="users", connection="usersConnection",
                    create="createUser", update="updateUser", delete="deleteUser")

declares `user(id: Int!): User` (by the type's key), `users(where, orderBy, limit, offset):
[User!]!` and `usersConnection(first, after, last, before, where, orderBy): UserConnection!`,
each served on the fast path by the Repository from `context["db"]`; and the mutations
`createUser`, `updateUser`, `deleteUser` over the read model's command table, declared once
its columns are read (see fraiseql.generated_commands).
"""

from __future__ import annotations

import inspect
from typing import Any

from fraiseql.types import Connection, OperationDef, Registry, get_registry, retry_count

__all__ = ["expose"]


def _repository(info: Any) -> Any:
    from fraiseql.repository import Repository  # the GraphQL layer, loaded on first use

    return Repository(info.context["db"], info.context)


def declare(
    name: str,
    fn: Any,
    cls: type,
    annotations: dict[str, Any],
    doc: str,
    *,
    kind: str = "query",
    registry: Registry | None = None,
) -> None:
    """Register `fn` as the root field `name` of `kind` (in `registry`, the default one
    unless given), its arguments and result typed by `annotations` (text resolved where
    `cls` lives)."""
    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = cls.__module__  # hints written as text resolve where the type lives
    fn.__annotations__ = annotations
    params = [inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [
        inspect.Parameter(arg, inspect.Parameter.KEYWORD_ONLY)
        for arg in annotations
        if arg != "return"
    ]
    fn.__signature__ = inspect.Signature(params)
    (registry or get_registry()).add_operation(
        kind, OperationDef(fn=fn, name=name, description=doc)
    )


def expose(
    cls: type,
    *,
    one: str | None = None,
    many: str | None = None,
    connection: str | None = None,
    create: str | None = None,
    update: str | None = None,
    delete: str | None = None,
    retry: int | bool = 0,
) -> None:
    """Declare the root fields `one` (by key), `many` (a filtered list) and `connection`
    (a Relay connection) of a `@fraiseql.type` with a `sql_source`, and the mutations
    `create`, `update` and `delete` of its command table; give the names you want.
    `retry` is fraiseql.mutation's, for the three mutations."""
    typedef = get_registry().types.get(cls) if isinstance(cls, type) else None
    if typedef is None or typedef.is_input or typedef.sql_source is None:
        raise TypeError(f"fraiseql.expose needs a @fraiseql.type with a sql_source, got {cls!r}")
    if not (one or many or connection or create or update or delete):
        raise TypeError(
            "fraiseql.expose: name at least one of one=, many=, connection=, create=, "
            "update=, delete="
        )
    key = typedef.key
    if one:
        hint = getattr(cls, "__annotations__", {}).get(key)
        if hint is None:
            raise TypeError(
                f"fraiseql.expose: {cls.__name__} has no field {key!r} (its key) to look up by"
            )

        async def by_key(info: Any, **args: Any) -> Any:
            return await _repository(info).find_one(**{key: args[key]})

        declare(
            one,
            by_key,
            cls,
            {key: hint, "return": f"{cls.__name__} | None"},
            f"One {cls.__name__} by {key}.",
        )
    if many:

        async def listing(info: Any) -> Any:
            return await _repository(info).find()

        declare(many, listing, cls, {"return": list[cls]}, f"{cls.__name__} documents.")  # type: ignore[valid-type]
    if connection:

        async def paging(info: Any) -> Any:
            return await _repository(info).paginate()

        declare(
            connection,
            paging,
            cls,
            {"return": Connection[cls]},  # type: ignore[valid-type]
            f"{cls.__name__} documents, a page at a time.",
        )
    if create or update or delete:
        retries = retry_count(retry, "fraiseql.expose")
        from fraiseql.generated_commands import CommandSpec

        get_registry().commands.append(CommandSpec(cls, create, update, delete, retries))
