"""The create, update and delete mutations `fraiseql.expose` generates for a read model's
command table.

    fraiseql.expose(User, create="createUser", update="updateUser", delete="deleteUser")

declares, once `load_commands(db)` has read the table from the catalog (the app does it
when it opens its pool), typed results named as FraiseQL v1 names them:

    createUser(input: CreateUserInput!): CreateUserResult
    updateUser(id: Int!, input: UpdateUserInput!, expectedVersion: Int): UpdateUserResult
    deleteUser(id: Int!, expectedVersion: Int): DeleteUserResult
    union CreateUserResult = CreateUserSuccess | CreateUserError
    type CreateUserSuccess { user: User!, message: String! }   (delete's: { id: Int!, ... })
    type CreateUserError { code: String!, message: String!, field: String }
                                               (+ currentVersion: Int where a version is kept)

`CreateUserInput` has a field per writable column (camelCase; NOT NULL without a default
required, the others optional; generated and ALWAYS identity columns left out), typed by
the scalar registry; `UpdateUserInput` the same fields, all optional, the key aside: a field
given is written (null writes NULL), a field left out is untouched. Each writes in the
request's transaction and reads the document back from the read model into the success
member, under the type's own name in camelCase (delete: the key). `expectedVersion` (qm_
read models, whose `version` the sync triggers bump on every change of a document) makes
update and delete refuse with CONFLICT and the current version, writing nothing, when the
document is at another version; a missing key is NOT_FOUND, a value the column refuses
INVALID_INPUT. Those refusals, constraint violations, deadlocks and serialization failures
are answered as the error member, and the transaction is rolled back (fraiseql.results).
The command table's row is locked before the read model's, the order the sync triggers
take them in, so commands and plain writers never deadlock on each other.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fraiseql.command_catalog import Column, CommandTable, command_table, quote_name
from fraiseql.command_error import CommandError
from fraiseql.db.connection import TRANS_IDLE
from fraiseql.errors import DataError
from fraiseql.scalars import for_column
from fraiseql.types import (
    ERROR,
    RETRY_MARK,
    TYPE,
    Registry,
    TypeDef,
    declare_output,
    get_registry,
    to_camel,
)
from fraiseql.values import leaf_text

__all__ = ["CommandSpec", "load_commands", "pending"]

# Column types no other scalar represents exactly (GraphQL's Int is 32-bit, Float a double).
_EXACT = {"int8": Decimal, "numeric": Decimal}
_INT8_RANGE = range(-(1 << 63), 1 << 63)
_JSON_TYPES = ("json", "jsonb")
_VERSION_ARG = "expected_version"
_CURRENT_VERSION = "current_version"  # the CONFLICT refusal's detail, an error field
# Where a class name's words meet: `MemberView` -> `member_view`, `HTTPLog` -> `http_log`.
_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass
class CommandSpec:
    """What `fraiseql.expose` asked for; declared once the table is read."""

    cls: type
    create: str | None
    update: str | None
    delete: str | None
    retry: int
    loaded: bool = False


def pending(registry: Registry | None = None) -> bool:
    """Whether some exposed commands wait for `load_commands`."""
    return any(not spec.loaded for spec in (registry or get_registry()).commands)


async def load_commands(db: Any, registry: Registry | None = None) -> bool:
    """Read the command tables of the exposed commands not declared yet, and declare their
    input types and mutations; True when it declared any (schemas built before lack them).
    Raises fraiseql.SchemaError when a type has no table to write."""
    registry = registry or get_registry()
    loaded = False
    for spec in registry.commands:
        if spec.loaded:
            continue
        typedef = registry.types[spec.cls]
        assert typedef.sql_source is not None  # expose checked it
        table = await command_table(db, typedef.name, typedef.sql_source, typedef.key)
        _declare_all(registry, spec, typedef, table)
        spec.loaded = loaded = True
    return loaded


# ---------------------------------------------------------------- the GraphQL side


def _hint(column: Column) -> Any:
    """The Python hint of a column's values: the scalar registry's, text when it has none."""
    element = column.element if column.element is not None else column.type
    found = _EXACT.get(element)
    if found is None:
        scalar = for_column(element)
        found = scalar.python[0] if scalar is not None else str
    return list[found | None] if column.element is not None else found  # type: ignore[operator, valid-type]


def _input_type(registry: Registry, name: str, columns: list[Column], optional: bool) -> type:
    hints = {c.name: (_hint(c) | None) if optional or not c.required else _hint(c) for c in columns}
    doc = "Fields left out are not written." if optional else "Fields left out get defaults."
    cls = type(name, (), {"__annotations__": hints, "__module__": __name__, "__doc__": doc})
    # The resolver gets the dict of the fields given: absent and null stay apart.
    registry.add_type(TypeDef(cls=cls, name=name, is_input=True, build=dict, description=doc))
    return cls


def _declare_all(
    registry: Registry, spec: CommandSpec, typedef: TypeDef, table: CommandTable
) -> None:
    from fraiseql.expose import declare  # expose declares the read fields the same way

    cls, type_name = spec.cls, typedef.name
    key_hint = getattr(cls, "__annotations__", {}).get(typedef.key, int)
    entity = _WORD_BREAK.sub("_", cls.__name__).lower()
    commands = _Commands(typedef, table)
    versioned = {_VERSION_ARG: int | None} if table.versioned else {}
    if spec.create:
        columns = list(table.columns)
        hint = _input_type(registry, _input_name(spec.create), columns, optional=False)
        returns, fn = _typed(registry, spec.create, cls, entity, cls, "created", False)
        declare(
            spec.create,
            _resolver(commands.create, fn, spec.retry),
            cls,
            {"input": hint, "return": returns},
            f"Create a {type_name}.",
            kind="mutation",
            registry=registry,
        )
    if spec.update:
        columns = [c for c in table.columns if c.name != table.key.name]
        hint = _input_type(registry, _input_name(spec.update), columns, optional=True)
        returns, fn = _typed(registry, spec.update, cls, entity, cls, "updated", bool(versioned))
        annotations = {typedef.key: key_hint, "input": hint, **versioned, "return": returns}
        declare(
            spec.update,
            _resolver(commands.update, fn, spec.retry),
            cls,
            annotations,
            f"Update a {type_name} by {typedef.key}: the fields given.",
            kind="mutation",
            registry=registry,
        )
    if spec.delete:
        returns, fn = _typed(
            registry, spec.delete, cls, typedef.key, key_hint, "deleted", bool(versioned)
        )
        declare(
            spec.delete,
            _resolver(commands.delete, fn, spec.retry),
            cls,
            {typedef.key: key_hint, **versioned, "return": returns},
            f"Delete a {type_name} by {typedef.key}; answers the key.",
            kind="mutation",
            registry=registry,
        )


def _typed(
    registry: Registry,
    mutation: str,
    cls: type,
    field: str,
    hint: Any,
    done: str,
    versioned: bool,
) -> tuple[Any, Callable[[Any], Any]]:
    """The result hint of one command, `<Mutation>Success | <Mutation>Error`, and how its
    answer (the document, or the deleted key) becomes the success member."""
    stem = _capitalized(mutation)
    success = declare_output(
        type(
            f"{stem}Success",
            (),
            {
                "__annotations__": {field: hint, "message": str},
                "__module__": cls.__module__,  # hints written as text resolve there
                "__doc__": f"The {cls.__name__} {done}.",
                "message": f"{cls.__name__} {done}.",
            },
        ),
        TYPE,
        registry,
    )
    fields: dict[str, Any] = {"code": str, "message": str, "field": str | None}
    if versioned:
        fields[_CURRENT_VERSION] = int | None
    error = declare_output(
        type(
            f"{stem}Error",
            (),
            {
                "__annotations__": fields,
                "__module__": __name__,
                "__doc__": f"Why {mutation} wrote nothing: `code`, a `message` for end users, "
                "the input `field` it concerns.",
            },
        ),
        ERROR,
        registry,
    )
    return success | error, lambda answer: success(**{field: answer})


def _capitalized(mutation: str) -> str:
    return mutation[:1].upper() + mutation[1:]


def _input_name(mutation: str) -> str:
    return _capitalized(mutation) + "Input"


def _resolver(
    method: Callable[..., Any], answer: Callable[[Any], Any], retry: int
) -> Callable[..., Any]:
    async def resolve(info: Any, **args: Any) -> Any:
        return answer(await method(info, **args))

    if retry:
        setattr(resolve, RETRY_MARK, retry)
    return resolve


# ---------------------------------------------------------------- the SQL side


class _Commands:
    """The SQL of one type's commands, and their runs."""

    def __init__(self, typedef: TypeDef, table: CommandTable) -> None:
        self.typedef = typedef
        self.table = table
        self.columns = {to_camel(c.name): c for c in table.columns}
        self.by_name = {c.name: c for c in table.columns}
        key = quote_name(table.key.name)
        where = f"{key} = $1::{table.key.sql_type}"
        self.where = where
        self.returning = f" RETURNING {key}"
        self.delete_sql = f"DELETE FROM {table.table} WHERE {where}{self.returning}"
        self.exists_sql = f"SELECT EXISTS (SELECT FROM {table.table} WHERE {where})"
        # The command table's row first, then the document: the sync triggers' order. Only
        # expectedVersion takes it (offered where a version is kept); a plain write needs no
        # more than its own row lock.
        self.lock_sql = (
            None
            if table.versioned is None
            else f"WITH t AS (SELECT {key} AS k FROM {table.table} WHERE {where} "
            f"FOR UPDATE) SELECT q.version FROM {table.versioned} AS q "
            "WHERE q.id = (SELECT k FROM t) FOR UPDATE OF q"
        )

    # -- the three commands

    async def create(self, info: Any, input: dict[str, Any]) -> Any:
        db = info.context["db"]
        names, params = self._values(input)
        if names:
            cols = ", ".join(map(quote_name, names))
            values = ", ".join(f"${i}::{self.by_name[n].sql_type}" for i, n in enumerate(names, 1))
            sql = f"INSERT INTO {self.table.table} ({cols}) VALUES ({values}){self.returning}"
        else:
            sql = f"INSERT INTO {self.table.table} DEFAULT VALUES{self.returning}"
        async with _atomic(db):
            key = await self._write(db, sql, params)
            return await self._read_back(info, key)

    async def update(self, info: Any, input: dict[str, Any], **args: Any) -> Any:
        db = info.context["db"]
        key, expected = args[self.typedef.key], args.get(_VERSION_ARG)
        names, params = self._values(input)
        async with _atomic(db):
            if expected is not None:
                await self._check_version(db, key, expected)
            if names:
                sets = ", ".join(
                    f"{quote_name(n)} = ${i}::{self.by_name[n].sql_type}"
                    for i, n in enumerate(names, 2)
                )
                sql = f"UPDATE {self.table.table} SET {sets} WHERE {self.where}{self.returning}"
                if await self._write(db, sql, [key, *params]) is None:
                    raise self._not_found(key)
            elif expected is None and not await db.fetchval(self.exists_sql, key):
                raise self._not_found(key)
            return await self._read_back(info, key)

    async def delete(self, info: Any, **args: Any) -> Any:
        db = info.context["db"]
        key, expected = args[self.typedef.key], args.get(_VERSION_ARG)
        async with _atomic(db):
            if expected is not None:
                await self._check_version(db, key, expected)
            deleted = await self._write(db, self.delete_sql, [key])
            if deleted is None:
                raise self._not_found(key)
            return deleted

    # -- their parts

    def _values(self, given: dict[str, Any]) -> tuple[list[str], list[Any]]:
        """The columns of the fields given, in table order, and their parameters."""
        names, params = [], []
        for column in self.table.columns:
            if column.name in given:
                names.append(column.name)
                params.append(_parameter(column, given[column.name]))
        return names, params

    async def _write(self, db: Any, sql: str, params: list[Any]) -> Any:
        try:
            return await db.fetchval(sql, *params)
        except DataError as exc:  # a value the column's type refuses (an enum label, a range)
            raise CommandError(
                "INVALID_INPUT",
                "A value of the input is not valid for the column it is written to.",
            ) from exc

    async def _check_version(self, db: Any, key: Any, expected: int) -> None:
        """CONFLICT unless the document is at `expected`, its rows locked until the end of
        the transaction (NOT_FOUND without one)."""
        current = await db.fetchval(self.lock_sql, key)
        if current is None:
            raise self._not_found(key)
        if expected is not None and current != expected:
            raise CommandError(
                "CONFLICT",
                f"The {self.typedef.name} was changed by someone else (it is at version "
                f"{current}, not {expected}); read it again and retry.",
                field=to_camel(_VERSION_ARG),
                currentVersion=current,
            )

    def _not_found(self, key: Any) -> CommandError:
        return CommandError(
            "NOT_FOUND",
            f"No {self.typedef.name} has {to_camel(self.typedef.key)} {key}.",
            field=to_camel(self.typedef.key),
        )

    async def _read_back(self, info: Any, key: Any) -> Any:
        from fraiseql.repository import Repository  # the GraphQL layer, loaded on first use

        repository = Repository(info.context["db"], info.context)
        return await repository.find_one(self.typedef.sql_source, **{self.typedef.key: key})


def _parameter(column: Column, value: Any) -> Any:
    """A field's value as the parameter of its column."""
    if value is None:
        return None
    if column.type in _JSON_TYPES:  # any JSON value, a string or list included
        return json.dumps(value, default=leaf_text)
    if column.type == "int8" and isinstance(value, Decimal):
        if value != value.to_integral_value() or int(value) not in _INT8_RANGE:
            raise CommandError(
                "INVALID_INPUT",
                f"{to_camel(column.name)} must be a whole number within 64 bits, got {value}.",
                field=to_camel(column.name),
            )
        return int(value)
    return value


def _atomic(db: Any) -> Any:
    """A transaction of its own unless the connection is in one (the mutation's): a
    command's lock, write and read back happen together."""
    idle = getattr(db, "transaction_status", None) == TRANS_IDLE
    return db.transaction() if idle else contextlib.nullcontext()
