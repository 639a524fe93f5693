"""Mutations backed by a PostgreSQL function (FraiseQL v1's pattern).

    @fraiseql.mutation(function="app.fn_create_user", errors={"U0001": "EMAIL_TAKEN"})
    async def create_user(info, input: CreateUserInput) -> User | None: ...

The declared function's body runs first (checks: what it raises refuses the mutation, a
`fraiseql.requires` below the decorator asks there; what it returns is ignored); then the
mutation calls `app.fn_create_user` in the request's transaction, with the fields of its
one input argument as the function's arguments by name (or, when it takes more, its
arguments themselves; or, v1's convention, the whole input as one json/jsonb parameter,
keys snake_case). Names and types are checked
against pg_proc at start-up (`check_functions`, a SchemaError naming the mutation and the
function) and on first call. The function returns the key of what it wrote (SETOF keys or
an array of them for a list), which is read back from the return type's sql_source; a
return type without one gets the function's value itself. A typed result
(`UserCreated | CreateUserError`) gets the document in the one field of its success member
whose type has a sql_source.

An exception the function raises becomes a CommandError when its SQLSTATE is mapped by
`errors` (to that code) or is P0001, plain `RAISE EXCEPTION` (code REJECTED): its message
is the function's, written for end users, and `field` the camelCase of its COLUMN option.
Constraint violations (class 23), deadlocks and other errors propagate as they are. A typed
result answers the CommandErrors, the violations, deadlocks and serialization failures as its
error member (fraiseql.results), nothing written.
"""

from __future__ import annotations

import enum
import functools
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
)

from fraiseql.command_catalog import FunctionSignature, Parameter, function_signature, quote_name
from fraiseql.command_error import CommandError
from fraiseql.cqrs.declare import DeclarationError, split_qualified
from fraiseql.errors import DatabaseError
from fraiseql.schema import FieldInfo, scalar_of
from fraiseql.sources import SchemaError, relation_columns
from fraiseql.types import ERROR_MARK, TypeDef, marked, to_camel
from fraiseql.values import leaf_text

__all__ = ["FUNCTION_MARK", "FunctionMutation", "check_functions", "function_resolver"]

FUNCTION_MARK = "__fraiseql_function__"
RAISED = "P0001"  # raise_exception: what RAISE EXCEPTION gives without ERRCODE
RAISED_CODE = "REJECTED"
_SQLSTATE = re.compile(r"[0-9A-Z]{5}\Z")
_JSON_TYPES = ("json", "jsonb")
_INTEGERS = ("int2", "int4", "int8")


@dataclass
class _Call:
    """The SQL of one mutation's call and how its arguments become the parameters."""

    sql: str
    values: Callable[[dict[str, Any]], list[Any]]
    target: _Target


@dataclass
class FunctionMutation:
    """A mutation's function, its SQLSTATE map, and what the catalog said of it."""

    schema: str
    name: str
    errors: dict[str, str]
    signature: FunctionSignature | None = None
    # the call built for a schema's field (rebuilt for another schema's)
    call: tuple[GraphQLField, _Call] | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.name}"

    async def call_for(self, db: Any, where: str, fdef: GraphQLField) -> _Call:
        """The call of `fdef`; SchemaError naming both sides when they do not match."""
        if self.call is not None and self.call[0] is fdef:
            return self.call[1]
        problems, call = await self.check(db, where, fdef)
        if call is None:
            raise SchemaError("fraiseql: " + "\n  ".join(problems))
        self.call = (fdef, call)
        return call

    async def check(
        self, db: Any, where: str, fdef: GraphQLField
    ) -> tuple[list[str], _Call | None]:
        """The problems of calling this function for `fdef`, or its call."""
        if self.signature is None:
            found = await function_signature(db, self.schema, self.name)
            if isinstance(found, str):
                return [f"{where}: {found}"], None
            self.signature = found
        sig = self.signature
        here = f"{where} (function {sig.describe()})"
        problems, values = _arguments(fdef, sig, here)
        found, target = _target(fdef, here)
        problems += found or await _result(db, target, sig, here)  # type: ignore[arg-type]
        if problems:
            return problems, None
        return [], _Call(_call_sql(sig, [p for p, _ in values]), _binder(values), target)  # type: ignore[arg-type]

    def typed(self, exc: DatabaseError) -> CommandError | None:
        """The CommandError a raised SQLSTATE maps to, or None (it propagates)."""
        code = self.errors.get(exc.sqlstate or "")
        if code is None and exc.sqlstate == RAISED:
            code = RAISED_CODE
        if code is None:
            return None
        column = exc.column_name
        return CommandError(code, exc.message, field=to_camel(column) if column else None)


def function_resolver(
    stub: Callable[..., Any], function: str, errors: dict[str, str]
) -> Callable[..., Any]:
    """The resolver of `@fraiseql.mutation(function=...)` over `stub`, whose signature and
    hints it keeps (the schema reads them)."""
    where = f"fraiseql.mutation {getattr(stub, '__name__', stub)!r}"
    try:
        schema, name = split_qualified(function, "public", f"{where}: function")
    except DeclarationError as exc:
        raise TypeError(str(exc)) from None
    for sqlstate, code in errors.items():
        if not (isinstance(sqlstate, str) and _SQLSTATE.match(sqlstate)):
            raise TypeError(f"{where}: errors key {sqlstate!r} is not a SQLSTATE (5 of 0-9A-Z)")
        if not (isinstance(code, str) and code):
            raise TypeError(f"{where}: errors[{sqlstate!r}] must be a code, got {code!r}")
    spec = FunctionMutation(schema, name, dict(errors))

    @functools.wraps(stub)
    async def resolve(info: Any, **args: Any) -> Any:
        before = stub(info, **args)  # a check of its own, or fraiseql.requires' below
        if inspect.isawaitable(before):
            await before
        db = info.context["db"]
        fdef = info.parent_type.fields[info.field_name]
        call = await spec.call_for(db, f"mutation {info.field_name}", fdef)
        try:
            rows = await db.fetch(call.sql, *call.values(args))
        except DatabaseError as exc:
            typed = spec.typed(exc)
            if typed is None:
                raise
            raise typed from exc
        return await _read_back(info, call.target, spec.signature, rows)  # type: ignore[arg-type]

    setattr(resolve, FUNCTION_MARK, spec)
    return resolve


async def check_functions(schema: GraphQLSchema, db: Any) -> list[str]:
    """The problems of every function-backed mutation of `schema` (the start-up check)."""
    problems: list[str] = []
    mutation = schema.mutation_type
    for name, fdef in (mutation.fields if mutation else {}).items():
        info = (fdef.extensions or {}).get("fraiseql")
        spec = marked(getattr(info, "fn", None), FUNCTION_MARK)
        if isinstance(info, FieldInfo) and isinstance(spec, FunctionMutation):
            found, call = await spec.check(db, f"mutation {name}", fdef)
            problems += found
            if call is not None:
                spec.call = (fdef, call)
    return problems


# ---------------------------------------------------------------- matching the signature


def _unwrap(gql: Any) -> Any:
    return gql.of_type if isinstance(gql, GraphQLNonNull) else gql


def _arguments(
    fdef: GraphQLField, sig: FunctionSignature, here: str
) -> tuple[list[str], list[tuple[Parameter, Callable[[dict[str, Any]], Any]]]]:
    """Problems, and each parameter given with how to take its value from the arguments."""
    args = list(fdef.args.items())
    params = {p.name: p for p in sig.parameters}
    single = _unwrap(args[0][1].type) if len(args) == 1 else None
    if isinstance(single, GraphQLInputObjectType):
        arg_name = args[0][1].out_name or args[0][0]
        if len(sig.parameters) == 1 and sig.parameters[0].type in _JSON_TYPES:
            return [], [(sig.parameters[0], lambda a: _json(a.get(arg_name)))]
        sources = [
            (
                f.out_name or n,
                f.type,
                f"input field {n!r}",
                _input_getter(arg_name, f.out_name or n),
            )
            for n, f in single.fields.items()
        ]
    else:
        sources = [
            (a.out_name or n, a.type, f"argument {n!r}", _arg_getter(a.out_name or n))
            for n, a in args
        ]
    problems, values = [], []
    for py_name, gql, what, get in sources:
        param = params.get(py_name)
        if param is None:
            problems.append(f"{here}: {what} has no parameter {py_name!r} to go to")
            continue
        mismatch = _mismatch(gql, param)
        if mismatch:
            problems.append(f"{here}: {what} is {gql} but parameter {py_name} is {mismatch}")
        values.append((param, get))
    given = {p.name for p, _ in values}
    for param in sig.parameters:
        if param.name not in given and not sig.optional(param):
            problems.append(
                f"{here}: parameter {param.name or '(unnamed)'} ({param.type}) has no default "
                "and no argument or input field of that name"
            )
    return problems, values


def _arg_getter(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda args: args.get(name)


def _input_getter(arg: str, name: str) -> Callable[[dict[str, Any]], Any]:
    def get(args: dict[str, Any]) -> Any:
        value = args.get(arg)
        if value is None:
            return None
        return value.get(name) if isinstance(value, dict) else getattr(value, name, None)

    return get


def _mismatch(gql: Any, param: Parameter) -> str | None:
    """The parameter's type when a value of `gql` cannot be bound to it, else None."""
    inner = _unwrap(gql)
    if param.type in _JSON_TYPES:
        return None  # any value, sent as JSON
    if isinstance(inner, GraphQLList):
        if not param.type.startswith("_"):
            return f"{param.type}, not an array"
        element = Parameter(param.name, param.type[1:], param.sql_type)
        found = _mismatch(inner.of_type, element)
        return None if found is None else param.type
    if isinstance(inner, GraphQLInputObjectType):
        return f"{param.type}, not json/jsonb"
    scalar = scalar_of(inner)
    if scalar is None or scalar.pg_types is None or param.type in scalar.pg_types:
        return None
    if isinstance(inner, GraphQLEnumType) and param.type == "enum":
        return None
    return param.type


@dataclass
class _Target:
    """What the function's value is read back as: a list or one value, of `named`, and for
    a typed result the success member's class and the field its document goes in."""

    many: bool
    named: Any
    success: type | None = None
    field: str | None = None

    def answer(self, value: Any) -> Any:
        return value if self.success is None else self.success(**{self.field: value})  # type: ignore[misc]


def _target(fdef: GraphQLField, here: str) -> tuple[list[str], _Target | None]:
    """Problems, or what the field's result is read back as: a typed result (`Success |
    Error`) reads the document into the one field of its success member whose type has a
    sql_source, the member's other fields taking their defaults (or null)."""
    gql = _unwrap(fdef.type)
    many = isinstance(gql, GraphQLList)
    named = _unwrap(gql.of_type) if many else gql
    if isinstance(named, GraphQLInterfaceType):
        return [f"{here}: it returns the interface {named.name}; return a union"], None
    if not isinstance(named, GraphQLUnionType):
        return [], _Target(many, named)
    if many:
        return [f"{here}: it returns a list of {named.name}; a typed result is one value"], None
    members = [
        m for m in named.types if not getattr(m.extensions["fraiseql"].cls, ERROR_MARK, False)
    ]
    if len(members) != 1:
        return [
            f"{here}: its result {named.name} has {len(members)} members besides the "
            "@fraiseql.error one; the function's key is read back into one success member"
        ], None
    success = members[0]
    cls = success.extensions["fraiseql"].cls
    documents = [
        (name, _unwrap(f.type))
        for name, f in success.fields.items()
        if getattr((_unwrap(f.type).extensions or {}).get("fraiseql"), "sql_source", None)
    ]
    if len(documents) != 1 or isinstance(documents[0][1], GraphQLList):
        return [
            f"{here}: its success member {success.name} needs one field of a type with a "
            f"sql_source (the document the function's key is read back as), it has "
            f"{len(documents)}"
        ], None
    name, document = documents[0]
    src_key = success.fields[name].extensions["fraiseql"].src_key
    unfilled = [
        n
        for n, f in success.fields.items()
        if n != name
        and isinstance(f.type, GraphQLNonNull)
        and not hasattr(cls, f.extensions["fraiseql"].src_key)
    ]
    if unfilled:
        return [
            f"{here}: the field(s) {', '.join(unfilled)} of its success member "
            f"{success.name} are non-null without a default; nothing fills them"
        ], None
    return [], _Target(False, document, cls, src_key)


async def _result(db: Any, target: _Target, sig: FunctionSignature, here: str) -> list[str]:
    """Problems of reading back what the function returns as the field's result."""
    many, named = target.many, target.named
    returned = sig.returns_element if sig.returns_element is not None else sig.returns
    if many != (sig.returns_set or sig.returns_element is not None):
        shape = "a list" if many else "one value"
        return [f"{here}: the mutation returns {shape}, the function {sig.returns}"]
    typedef = (
        (named.extensions or {}).get("fraiseql") if isinstance(named, GraphQLObjectType) else None
    )
    if not isinstance(typedef, TypeDef) or typedef.sql_source is None:
        if isinstance(named, GraphQLObjectType):
            return [f"{here}: {named.name} has no sql_source to read the result back from"]
        return (
            []
            if _mismatch(named, Parameter("", returned, returned)) is None
            else [f"{here}: the mutation returns {named} but the function returns {returned}"]
        )
    key_type = (await relation_columns(db, typedef.sql_source)).get(typedef.key)
    if key_type is None or key_type == returned or {key_type, returned} <= set(_INTEGERS):
        return []
    return [
        f"{here}: it returns {returned} but the key {typedef.key!r} of {typedef.sql_source} "
        f"is {key_type}; return the key of what it wrote"
    ]


def _call_sql(sig: FunctionSignature, params: list[Parameter]) -> str:
    named = ", ".join(
        f"{quote_name(p.name)} => ${i}::{p.sql_type}" for i, p in enumerate(params, 1)
    )
    return f"SELECT {sig.qualified}({named})"


def _binder(
    values: list[tuple[Parameter, Callable[[dict[str, Any]], Any]]],
) -> Callable[[dict[str, Any]], list[Any]]:
    def bind(args: dict[str, Any]) -> list[Any]:
        out = []
        for param, get in values:
            value = get(args)
            if param.type in _JSON_TYPES and value is not None and not isinstance(value, str):
                value = _json(value)
            out.append(value)
        return out

    return bind


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    text = leaf_text(value)
    return text if text is not None else vars(value)


def _json(value: Any) -> str | None:
    """An argument as JSON text: input objects as objects with their snake_case names."""
    return None if value is None else json.dumps(value, default=_plain)


async def _read_back(info: Any, target: _Target, sig: FunctionSignature, rows: list[Any]) -> Any:
    values = [r[0] for r in rows]
    if sig.returns_element is not None:
        values = (values[0] or []) if values else []
    elif not sig.returns_set:
        values = values[:1]
    many, named = target.many, target.named
    typedef = (
        (named.extensions or {}).get("fraiseql") if isinstance(named, GraphQLObjectType) else None
    )
    if not isinstance(typedef, TypeDef):
        return values if many else (values[0] if values else None)
    from fraiseql.repository import Repository  # the GraphQL layer, loaded on first use

    repository = Repository(info.context["db"], info.context)
    if many:
        return await repository.find(typedef.sql_source, where={typedef.key: {"in": values}})
    if not values or values[0] is None:
        return target.answer(None)
    return target.answer(await repository.find_one(typedef.sql_source, **{typedef.key: values[0]}))
