"""Builds the graphql-core schema from the registry.

Mapping decisions (the issue left them open):
- A hint `T` is non-null (`T!`), `T | None` / `Optional[T]` is nullable; `list[T]` is
  `[T!]!`, `list[T | None] | None` is `[T]`.
- `int` maps to `Int`, also for a field named `id`: the read models store ids as JSON
  numbers, so `Int` lets the rewriter copy them verbatim and lets resolvers receive `int`
  arguments they can bind straight to integer columns. Write `id: fraiseql.ID` to get the
  GraphQL `ID` convention (numbers are then emitted as strings).
- `datetime`, `date`, `UUID`, `Decimal` map to the custom scalars `DateTime`, `Date`,
  `UUID`, `Decimal` (ISO 8601 / canonical strings; `Decimal` as a string, to keep its
  precision); `dict` and `fraiseql.JSON` map to `JSON` (emitted as stored).
- Python snake_case names become camelCase; the stored document keeps snake_case keys,
  which is what `src_key` of a compiled selection refers to.

Every field built here carries `extensions["fraiseql"]` (a `FieldInfo`) that the planner
reads to decide whether a selection can be served from stored JSON.
"""

from __future__ import annotations

import builtins
import enum as py_enum
import inspect
import types as py_types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLError,
    GraphQLField,
    GraphQLFloat,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    validate_schema,
)

from fraiseql.current import Field, current_field
from fraiseql.permissions import Requirement, guard
from fraiseql.scalars import (
    BY_HINT,
    JSONScalar,
    Scalar,
    by_name,
    decode_document,
    enum_scalar,
    stored_float,
)
from fraiseql.types import OperationDef, Registry, TypeDef, get_registry, to_camel

# ---------------------------------------------------------------- field metadata


@dataclass(frozen=True)
class FieldInfo:
    """What the planner needs to know about a schema field (in `extensions["fraiseql"]`)."""

    src_key: str | None  # key in the stored document, None for computed/root fields
    fn: Callable[..., Any] | None = None  # the user's function: root fields and @field
    # A root field returning a @fraiseql.type: its value can be a rewritten fragment.
    stored_root: bool = False
    # fraiseql.requires of the field (Annotated on its hint): the fast path asks them too.
    requires: tuple[Requirement, ...] = ()


class _Enum(GraphQLEnumType):
    """An enum that also serializes the stored member values (read models hold values)."""

    def __init__(self, cls: builtins.type[py_enum.Enum], name: str) -> None:
        super().__init__(
            name,
            {m.name: GraphQLEnumValue(m) for m in cls},
            description=inspect.getdoc(cls) if cls.__doc__ else None,
        )
        self.py_enum = cls
        # Stored JSON holding exactly the GraphQL names can be copied verbatim.
        self.verbatim = all(m.name == m.value for m in cls)

    def serialize(self, output_value: Any) -> str:
        if isinstance(output_value, self.py_enum):
            return output_value.name
        try:
            return self.py_enum(output_value).name
        except ValueError:
            raise GraphQLError(
                f"Enum '{self.name}' cannot represent value: {output_value!r}"
            ) from None

    coerce_output_value = serialize  # graphql-core 3.3's name for it


# ---------------------------------------------------------------- resolvers


def plain_value(value: Any) -> Any:
    """A resolver result as Python data: JSON bytes (a stored document) are decoded."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return decode_document(bytes(value))
    return value


def _stored_resolver(key: str) -> Callable[..., Any]:
    # Documents hold snake_case keys; graphql-core's default resolver would look up camelCase.
    def resolve(source: Any, info: Any, **_: Any) -> Any:
        if isinstance(source, dict):
            return source.get(key)
        return getattr(source, key, None)

    return resolve


def _stored_float_resolver(key: str) -> Callable[..., Any]:
    # A Float (or list of Floats) keeps the stored number's digits: see scalars.StoredFloat.
    get = _stored_resolver(key)

    def resolve(source: Any, info: Any, **_: Any) -> Any:
        value = get(source, info)
        if isinstance(value, list):
            return [stored_float(v) for v in value]
        return stored_float(value)

    return resolve


def _as_instance(cls: builtins.type, source: Any) -> Any:
    if isinstance(source, dict):
        obj = object.__new__(cls)
        obj.__dict__.update(source)
        return obj
    return source


def _resolver(fn: Callable[..., Any], bind: Callable[[Any], tuple[Any, ...]]) -> Callable[..., Any]:
    """graphql-core's resolver of a user function called as `fn(*bind(source), info, **args)`.

    While it runs, `current_field` names the field's type, so a Repository called without a
    view reads that type's sql_source (as on the fast path).
    """
    if inspect.iscoroutinefunction(fn):

        async def resolve_async(source: Any, info: Any, **args: Any) -> Any:
            token = current_field.set(Field(None, _named(info.return_type)))
            try:
                return plain_value(await fn(*bind(source), info, **args))
            finally:
                current_field.reset(token)

        return resolve_async

    def resolve(source: Any, info: Any, **args: Any) -> Any:
        token = current_field.set(Field(None, _named(info.return_type)))
        try:
            return plain_value(fn(*bind(source), info, **args))
        finally:
            current_field.reset(token)

    return resolve


def _computed_resolver(cls: builtins.type, fn: Callable[..., Any]) -> Callable[..., Any]:
    return _resolver(fn, lambda source: (_as_instance(cls, source),))


def _root_resolver(fn: Callable[..., Any]) -> Callable[..., Any]:
    return _resolver(fn, lambda _root: ())


# ---------------------------------------------------------------- the builder


class _Builder:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.names = registry.lookup_names()
        self.objects: dict[builtins.type, GraphQLObjectType] = {}
        self.inputs: dict[builtins.type, GraphQLInputObjectType] = {}
        self.enums: dict[builtins.type, _Enum] = {}

    # Hints are resolved lazily (inside the field thunks) so forward references work.
    def hints(self, obj: Any, where: str) -> dict[str, Any]:
        module = inspect.getmodule(obj)
        globalns = dict(vars(module)) if module else {}
        try:
            return typing.get_type_hints(
                obj, globalns=globalns, localns=self.names, include_extras=True
            )
        except NameError as exc:
            raise TypeError(
                f"fraiseql: cannot resolve the type hints of {where}: {exc} "
                "(declare that class with @fraiseql.type/@fraiseql.input/@fraiseql.enum)"
            ) from None

    def gql_type(self, hint: Any, where: str, *, is_input: bool) -> Any:
        nullable = False
        hint = _without_annotations(hint, where)
        origin = typing.get_origin(hint)
        if origin in (typing.Union, py_types.UnionType):
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            if len(args) != 1:
                raise TypeError(
                    f"fraiseql: {where}: unions other than `T | None` are not supported"
                )
            hint = _without_annotations(args[0], where)
            nullable, origin = True, typing.get_origin(hint)
        if origin in (list, typing.List) or hint in (list, typing.List):  # noqa: UP006
            args = typing.get_args(hint)
            if not args:
                raise TypeError(f"fraiseql: {where}: write list[T], not a bare list")
            inner: Any = GraphQLList(self.gql_type(args[0], where, is_input=is_input))
        elif origin is dict:
            inner = JSONScalar
        else:
            inner = self.named_type(hint, where, is_input=is_input)
        return inner if nullable else GraphQLNonNull(inner)

    def named_type(self, hint: Any, where: str, *, is_input: bool) -> Any:
        scalar = BY_HINT.get(hint)
        if scalar is not None:
            return scalar.graphql
        if isinstance(hint, builtins.type) and issubclass(hint, py_enum.Enum):
            return self.enum_type(hint)
        typedef = self.registry.types.get(hint) if isinstance(hint, builtins.type) else None
        if typedef is not None and typedef.is_input == is_input:
            return self.input_type(typedef) if is_input else self.object_type(typedef)
        role = "an argument or input field" if is_input else "an output field"
        raise TypeError(
            f"fraiseql: {where}: cannot map the type hint {hint!r} to GraphQL for {role} "
            f"(supported: int, float, str, bool, datetime, date, UUID, Decimal, dict, "
            f"fraiseql.ID, fraiseql.JSON, enums, list[T], T | None and "
            f"{'@fraiseql.input' if is_input else '@fraiseql.type'} classes)"
        )

    def enum_type(self, cls: builtins.type[py_enum.Enum]) -> _Enum:
        if cls not in self.enums:
            self.enums[cls] = _Enum(cls, self.registry.enums.get(cls, cls.__name__))
        return self.enums[cls]

    def object_type(self, td: TypeDef) -> GraphQLObjectType:
        if td.cls not in self.objects:
            self.objects[td.cls] = GraphQLObjectType(
                td.name,
                lambda: self.object_fields(td),
                description=td.description,
                extensions={"fraiseql": td},
            )
        return self.objects[td.cls]

    def object_fields(self, td: TypeDef) -> dict[str, GraphQLField]:
        fields: dict[str, GraphQLField] = {}
        for py_name, hint in self.hints(td.cls, td.name).items():
            if py_name.startswith("_") or typing.get_origin(hint) is typing.ClassVar:
                continue
            hint, requires = split_requirements(hint)
            gql = self.gql_type(hint, f"{td.name}.{py_name}", is_input=False)
            stored = _stored_float_resolver if _named(gql) is GraphQLFloat else _stored_resolver
            fields[to_camel(py_name)] = GraphQLField(
                gql,
                resolve=guard(stored(py_name), requires),
                extensions={"fraiseql": FieldInfo(src_key=py_name, requires=requires)},
            )
        for py_name, fn in td.resolvers.items():
            where = f"{td.name}.{py_name}"
            hints = self.hints(fn, where)
            if "return" not in hints:
                raise TypeError(f"fraiseql: {where} needs a return type hint")
            returns, requires = split_requirements(hints["return"])
            fields[to_camel(py_name)] = GraphQLField(
                self.gql_type(returns, where, is_input=False),
                args=self.arguments(fn, hints, where, skip=2),
                resolve=guard(_computed_resolver(td.cls, fn), requires),
                description=inspect.getdoc(fn),
                extensions={"fraiseql": FieldInfo(src_key=None, fn=fn, requires=requires)},
            )
        return fields

    def input_type(self, td: TypeDef) -> GraphQLInputObjectType:
        if td.cls not in self.inputs:
            self.inputs[td.cls] = GraphQLInputObjectType(
                td.name,
                lambda: self.input_fields(td),
                description=td.description,
                out_type=lambda values, cls=td.cls: _build_input(cls, values),
            )
        return self.inputs[td.cls]

    def input_fields(self, td: TypeDef) -> dict[str, GraphQLInputField]:
        fields: dict[str, GraphQLInputField] = {}
        for py_name, hint in self.hints(td.cls, td.name).items():
            if py_name.startswith("_") or typing.get_origin(hint) is typing.ClassVar:
                continue
            default = getattr(td.cls, py_name, Undefined)
            fields[to_camel(py_name)] = GraphQLInputField(
                self.gql_type(hint, f"{td.name}.{py_name}", is_input=True),
                default_value=default,
                out_name=py_name,
            )
        return fields

    def arguments(
        self, fn: Callable[..., Any], hints: dict[str, Any], where: str, *, skip: int
    ) -> dict[str, GraphQLArgument]:
        args: dict[str, GraphQLArgument] = {}
        params = list(inspect.signature(fn).parameters.values())[skip:]
        for param in params:
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if param.name not in hints:
                raise TypeError(f"fraiseql: {where}: argument {param.name!r} needs a type hint")
            # `x: T | None = None` needs no GraphQL default: omitted, Python's default applies.
            default = (
                Undefined
                if param.default is param.empty or param.default is None
                else param.default
            )
            args[to_camel(param.name)] = GraphQLArgument(
                self.gql_type(hints[param.name], f"{where}({param.name})", is_input=True),
                default_value=default,
                out_name=param.name,
            )
        return args

    def root_type(self, name: str, ops: dict[str, OperationDef]) -> GraphQLObjectType | None:
        if not ops:
            return None

        def fields() -> dict[str, GraphQLField]:
            out: dict[str, GraphQLField] = {}
            for op in ops.values():
                where = f"{name}.{op.name}"
                hints = self.hints(op.fn, where)
                if "return" not in hints:
                    raise TypeError(f"fraiseql: {where} needs a return type hint")
                gql = self.gql_type(hints["return"], where, is_input=False)
                named = _named(gql)
                stored = isinstance(named, GraphQLObjectType) and "fraiseql" in (
                    named.extensions or {}
                )
                out[op.name] = GraphQLField(
                    gql,
                    args=self.arguments(op.fn, hints, where, skip=1),
                    resolve=_root_resolver(op.fn),
                    description=op.description,
                    extensions={"fraiseql": FieldInfo(src_key=None, fn=op.fn, stored_root=stored)},
                )
            return out

        return GraphQLObjectType(name, fields)


def _named(gql: Any) -> Any:
    while isinstance(gql, (GraphQLNonNull, GraphQLList)):
        gql = gql.of_type
    return gql


def _requirements_of(hint: Any) -> tuple[Any, tuple[Requirement, ...]]:
    if typing.get_origin(hint) is not typing.Annotated:
        return hint, ()
    requires = tuple(m for m in hint.__metadata__ if isinstance(m, Requirement))
    return (typing.get_args(hint)[0] if requires else hint), requires


def split_requirements(hint: Any) -> tuple[Any, tuple[Requirement, ...]]:
    """An output field's hint without its `fraiseql.requires`, and those requirements:
    `Annotated[T, requires(p)]`, also written `Annotated[T, requires(p)] | None`."""
    hint, requires = _requirements_of(hint)
    if typing.get_origin(hint) in (typing.Union, py_types.UnionType):
        args = [_requirements_of(arg) for arg in typing.get_args(hint)]
        inner = tuple(r for _, arg_requires in args for r in arg_requires)
        if inner:
            hint = typing.Union[tuple(arg for arg, _ in args)]  # noqa: UP007 - built from parts
            requires += inner
    return hint, requires


def _without_annotations(hint: Any, where: str) -> Any:
    if typing.get_origin(hint) is not typing.Annotated:
        return hint
    if any(isinstance(m, Requirement) for m in hint.__metadata__):
        raise TypeError(
            f"fraiseql: {where}: fraiseql.requires in a type hint applies to a field of a "
            "@fraiseql.type as a whole (`name: Annotated[T, fraiseql.requires(p)]`); "
            "on a query, mutation or subscription, decorate the function"
        )
    return typing.get_args(hint)[0]


def _build_input(cls: builtins.type, values: dict[str, Any]) -> Any:
    # Fields the client left out get the class default, or None.
    obj = object.__new__(cls)
    for name in getattr(cls, "__annotations__", {}):
        if not name.startswith("_"):
            obj.__dict__[name] = getattr(cls, name, None)
    obj.__dict__.update(values)
    return obj


def build_schema(registry: Registry | None = None) -> GraphQLSchema:
    """The graphql-core schema of everything declared; executable by graphql-core alone."""
    registry = registry or get_registry()
    builder = _Builder(registry)
    query = builder.root_type("Query", registry.queries)
    if query is None:
        raise TypeError("fraiseql: no @fraiseql.query is declared; a schema needs at least one")
    mutation = builder.root_type("Mutation", registry.mutations)
    # Types reachable only through nothing still belong in the schema (and in introspection).
    extra = [builder.object_type(td) for td in registry.types.values() if not td.is_input]
    schema = GraphQLSchema(query=query, mutation=mutation, types=extra)
    # Resolve every thunk now: a bad hint then fails here, naming the field, not mid-request.
    errors = [str(e) for e in validate_schema(schema)]
    if errors:
        raise TypeError("fraiseql: invalid schema:\n  " + "\n  ".join(errors))
    return schema


def stored_fields(object_type: GraphQLObjectType) -> dict[str, Scalar | None]:
    """The document keys a type's stored fields read -> the scalar of each (None for objects
    and lists): what a filter on the type's sql_source may name, and how it compares."""
    out: dict[str, Scalar | None] = {}
    for fdef in object_type.fields.values():
        info = (fdef.extensions or {}).get("fraiseql")
        if not isinstance(info, FieldInfo) or info.src_key is None:
            continue
        gql = fdef.type.of_type if isinstance(fdef.type, GraphQLNonNull) else fdef.type
        out[info.src_key] = None if isinstance(gql, GraphQLList) else scalar_of(gql)
    return out


def scalar_of(gql: Any) -> Scalar | None:
    """The registry entry of a named GraphQL type (None for object types)."""
    if isinstance(gql, GraphQLEnumType):
        return enum_scalar(gql)
    return by_name(gql.name) if isinstance(gql, GraphQLScalarType) else None


def object_type_of(cls: builtins.type, registry: Registry | None = None) -> GraphQLObjectType:
    """The graphql-core object type of a `@fraiseql.type` class (outside any schema)."""
    registry = registry or get_registry()
    typedef = registry.types.get(cls) if isinstance(cls, builtins.type) else None
    if typedef is None or typedef.is_input:
        raise TypeError(f"fraiseql: {cls!r} is not a @fraiseql.type class")
    return _Builder(registry).object_type(typedef)
