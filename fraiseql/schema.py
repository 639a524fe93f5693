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
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    Undefined,
    is_abstract_type,
    validate_schema,
)

from fraiseql import results, unions
from fraiseql.arguments import (
    CONNECTION,
    DEFAULT_MAX_LIMIT,
    GENERATED_NAMES,
    LIST,
    FieldArguments,
    Generated,
)
from fraiseql.collect import Uncollectable, collect_fields
from fraiseql.current import Field, current_field
from fraiseql.documents import Document, decode
from fraiseql.filters import FilterTypes
from fraiseql.permissions import Requirement, guard
from fraiseql.relay import ConnectionTypes
from fraiseql.retry import typed_rollbacks
from fraiseql.scalars import (
    BY_HINT,
    JSONScalar,
    Scalar,
    by_name,
    decode_document,
    enum_scalar,
    stored_float,
)
from fraiseql.types import (
    INTERFACE,
    Connection,
    OperationDef,
    Registry,
    TypeDef,
    UnionDef,
    get_registry,
    to_camel,
)
from fraiseql.where import Shape

# ---------------------------------------------------------------- field metadata


@dataclass(frozen=True)
class FieldInfo:
    """What the planner needs to know about a schema field (in `extensions["fraiseql"]`)."""

    src_key: str | None  # key in the stored document, None for computed/root fields
    fn: Callable[..., Any] | None = None  # the user's function: root fields and @field
    # A root field returning a @fraiseql.type: its value can be a rewritten fragment.
    stored_root: bool = False
    # A list or connection root field: the arguments generated for it (fraiseql.arguments).
    generated: Generated | None = None
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
    if isinstance(value, Document):
        return decode(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return decode_document(bytes(value))
    if type(value) is list and value and isinstance(value[0], Document):
        return [decode(item) if isinstance(item, Document) else item for item in value]
    return value


def _stored_resolver(key: str) -> Callable[..., Any]:
    # Documents hold snake_case keys; graphql-core's default resolver would look up camelCase.
    # A constructed result may hold a Document (UserCreated(user=doc)): decoded here.
    def resolve(source: Any, info: Any, **_: Any) -> Any:
        if isinstance(source, dict):
            return source.get(key)
        value = getattr(source, key, None)
        return decode(value) if isinstance(value, Document) else value

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


def _resolver(
    fn: Callable[..., Any],
    bind: Callable[[Any], tuple[Any, ...]],
    generated: Generated | None = None,
) -> Callable[..., Any]:
    """graphql-core's resolver of a user function called as `fn(*bind(source), info, **args)`.

    While it runs, `current_field` names the field's type, so a Repository called without a
    view reads that type's sql_source (as on the fast path), and carries the values of the
    field's generated arguments, which the function does not take.
    """

    if inspect.iscoroutinefunction(fn):

        async def resolve_async(source: Any, info: Any, **args: Any) -> Any:
            token = current_field.set(resolving_field(info, args, generated))
            try:
                return plain_value(await fn(*bind(source), info, **args))
            finally:
                current_field.reset(token)

        return resolve_async

    def resolve(source: Any, info: Any, **args: Any) -> Any:
        token = current_field.set(resolving_field(info, args, generated))
        try:
            return plain_value(fn(*bind(source), info, **args))
        finally:
            current_field.reset(token)

    return resolve


def resolving_field(info: Any, args: dict[str, Any], generated: Generated | None) -> Field:
    """The `current_field` of a user function graphql-core calls: no selection, the field's
    type, and the values of its generated arguments, popped from `args` (the function does
    not take them)."""
    if generated is None:
        return Field(None, _named(info.return_type))
    values = {name: args.pop(name) for name in generated.names if name in args}
    total = generated.kind == CONNECTION and _selects_total(info)
    return Field(None, _named(info.return_type), FieldArguments(generated, values, total))


def _selects_total(info: Any) -> bool:
    """Whether a connection field's selection asks for totalCount (then it is counted)."""
    variables = getattr(info.variable_values, "coerced", info.variable_values)
    sets = [node.selection_set for node in info.field_nodes if node.selection_set]
    try:
        fields = collect_fields(
            info.schema, info.fragments, variables, _named(info.return_type), sets
        )
    except Uncollectable:
        return True
    return any(nodes[0].name.value == "totalCount" for nodes in fields.values())


def _computed_resolver(cls: builtins.type, fn: Callable[..., Any]) -> Callable[..., Any]:
    return _resolver(fn, lambda source: (_as_instance(cls, source),))


def _root_resolver(fn: Callable[..., Any], generated: Generated | None) -> Callable[..., Any]:
    return _resolver(fn, lambda _root: (), generated)


# ---------------------------------------------------------------- the builder


class _Builder:
    def __init__(self, registry: Registry, max_limit: int = DEFAULT_MAX_LIMIT) -> None:
        self.registry = registry
        self.max_limit = max_limit
        self.names = registry.lookup_names()
        self.objects: dict[builtins.type, GraphQLObjectType] = {}
        self.inputs: dict[builtins.type, GraphQLInputObjectType] = {}
        self.enums: dict[builtins.type, _Enum] = {}
        self.interfaces: dict[builtins.type, GraphQLInterfaceType] = {}
        self.unions: dict[str, tuple[tuple[builtins.type, ...], GraphQLUnionType]] = {}
        self.resolve_type = unions.type_resolver()
        self.filters = FilterTypes(scalar_of, _stored_info)
        self.relay = ConnectionTypes(_page_field)

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

    def gql_type(
        self, hint: Any, where: str, *, is_input: bool, mutation: str | None = None
    ) -> Any:
        """The GraphQL type of a hint; `mutation` names the mutation whose result it is
        (a bare union there is named after it)."""
        nullable = False
        named_union = _union_def(hint)
        hint = _without_annotations(hint, where)
        origin = typing.get_origin(hint)
        if named_union is None and origin in (typing.Union, py_types.UnionType):
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            nullable = len(args) < len(typing.get_args(hint))
            if len(args) == 1:
                named_union = _union_def(args[0])
                hint = _without_annotations(args[0], where)
                origin = typing.get_origin(hint)
            else:
                named_union = UnionDef(unions.union_name(args, mutation), tuple(args))
        if named_union is not None:
            inner: Any = self.union_type(named_union, where, is_input=is_input)
        elif origin is Connection:
            inner = self.connection_type(self.source_typedef(hint, where), where)
        elif origin in (list, typing.List) or hint in (list, typing.List):  # noqa: UP006
            args = typing.get_args(hint)
            if not args:
                raise TypeError(f"fraiseql: {where}: write list[T], not a bare list")
            inner = GraphQLList(self.gql_type(args[0], where, is_input=is_input, mutation=mutation))
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
            if is_input:
                return self.input_type(typedef)
            return (
                self.interface_type(typedef)
                if typedef.kind == INTERFACE
                else self.object_type(typedef)
            )
        role = "an argument or input field" if is_input else "an output field"
        raise TypeError(
            f"fraiseql: {where}: cannot map the type hint {hint!r} to GraphQL for {role} "
            f"(supported: int, float, str, bool, datetime, date, UUID, Decimal, dict, "
            f"fraiseql.ID, fraiseql.JSON, enums, list[T], T | None and "
            f"{'@fraiseql.input' if is_input else '@fraiseql.type'} classes)"
        )

    def source_typedef(self, hint: Any, where: str) -> TypeDef:
        """The @fraiseql.type with a sql_source that `Connection[T]` pages through."""
        args = typing.get_args(hint)
        typedef = self.registry.types.get(args[0]) if args else None
        if typedef is None or typedef.is_input or typedef.sql_source is None:
            raise TypeError(
                f"fraiseql: {where}: Connection[T] needs T to be a @fraiseql.type with a "
                f"sql_source, got {args[0] if args else 'no T'!r}"
            )
        return typedef

    def connection_type(self, typedef: TypeDef, where: str) -> GraphQLObjectType:
        return self.relay.connection(self.object_type(typedef), typedef)

    def generated(self, hint: Any, fn: Callable[..., Any]) -> Generated | None:
        """The arguments a root field of this return hint generates, if any."""
        if typing.get_origin(hint) in (typing.Union, py_types.UnionType):
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        origin = typing.get_origin(hint)
        if origin is Connection:
            kind = CONNECTION
        elif origin is list:
            kind = LIST
        else:
            return None
        item = typing.get_args(hint)[0]
        if typing.get_origin(item) in (typing.Union, py_types.UnionType):
            members = [a for a in typing.get_args(item) if a is not type(None)]
            if len(members) != 1:  # a list of a union: no one type's filters
                return None
            item = members[0]
        typedef = self.registry.types.get(item) if isinstance(item, builtins.type) else None
        if typedef is None or typedef.is_input or typedef.sql_source is None:
            return None
        declared = set(list(inspect.signature(fn).parameters)[1:])
        names = tuple(n for n in GENERATED_NAMES[kind] if n not in declared)
        return Generated(kind, names, typedef, self.max_limit) if names else None

    def generated_arguments(self, generated: Generated) -> dict[str, GraphQLArgument]:
        node = self.object_type(generated.typedef)
        kinds: dict[str, Any] = {
            "where": self.filters.where_input(node),
            "order_by": GraphQLList(GraphQLNonNull(self.filters.order_input(node))),
            "limit": GraphQLInt,
            "offset": GraphQLInt,
            "first": GraphQLInt,
            "last": GraphQLInt,
            "after": GraphQLString,
            "before": GraphQLString,
        }
        return {
            to_camel(name): GraphQLArgument(kinds[name], out_name=name) for name in generated.names
        }

    def enum_type(self, cls: builtins.type[py_enum.Enum]) -> _Enum:
        if cls not in self.enums:
            self.enums[cls] = _Enum(cls, self.registry.enums.get(cls, cls.__name__))
        return self.enums[cls]

    def object_type(self, td: TypeDef) -> GraphQLObjectType:
        if td.cls not in self.objects:
            self.objects[td.cls] = GraphQLObjectType(
                td.name,
                lambda: self.object_fields(td),
                interfaces=lambda: self.interfaces_of(td),
                description=td.description,
                extensions={"fraiseql": td},
            )
        return self.objects[td.cls]

    def interface_type(self, td: TypeDef) -> GraphQLInterfaceType:
        if td.cls not in self.interfaces:
            self.interfaces[td.cls] = GraphQLInterfaceType(
                td.name,
                lambda: self.object_fields(td),
                interfaces=lambda: self.interfaces_of(td),
                resolve_type=self.resolve_type,
                description=td.description,
                extensions={"fraiseql": td},
            )
        return self.interfaces[td.cls]

    def interfaces_of(self, td: TypeDef) -> list[GraphQLInterfaceType]:
        """The interfaces a class implements: its @fraiseql.interface bases, all of them."""
        bases = [self.registry.types.get(base) for base in td.cls.__mro__[1:]]
        return [self.interface_type(b) for b in bases if b is not None and b.kind == INTERFACE]

    def union_type(self, union: UnionDef, where: str, *, is_input: bool) -> GraphQLUnionType:
        """The union of `union.members`, each a @fraiseql.type or @fraiseql.error class."""
        members = []
        for cls in union.members:
            typedef = self.registry.types.get(cls) if isinstance(cls, builtins.type) else None
            if is_input or typedef is None or typedef.is_input or typedef.kind == INTERFACE:
                raise TypeError(
                    f"fraiseql: {where}: the union {union.name} has the member {cls!r}, "
                    "which is no @fraiseql.type or @fraiseql.error class (a union's members "
                    "are object types; unions are for output fields)"
                )
            members.append(typedef)
        known = self.unions.get(union.name)
        if known is not None:
            if known[0] != union.members:
                raise TypeError(
                    f"fraiseql: {where}: a union named {union.name} already has the members "
                    f"{', '.join(c.__name__ for c in known[0])}"
                )
            return known[1]
        gql = GraphQLUnionType(
            union.name,
            lambda: [self.object_type(td) for td in members],
            resolve_type=self.resolve_type,
            extensions={"fraiseql": union},
        )
        self.unions[union.name] = (union.members, gql)
        return gql

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
                out_type=td.build or (lambda values, cls=td.cls: _build_input(cls, values)),
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
                mutation = op.name if name == "Mutation" else None
                gql = self.gql_type(hints["return"], where, is_input=False, mutation=mutation)
                named = _named(gql)
                stored = isinstance(
                    named, (GraphQLObjectType, GraphQLUnionType, GraphQLInterfaceType)
                ) and "fraiseql" in (named.extensions or {})
                fn = op.fn
                if mutation is not None:
                    # A deadlock or serialization failure: a CommandError, so typed too.
                    fn = results.typed(typed_rollbacks(fn), _error_member(named, where))
                generated = self.generated(hints["return"], op.fn) if name == "Query" else None
                args = self.arguments(op.fn, hints, where, skip=1)
                if generated is not None:
                    args.update(self.generated_arguments(generated))
                info = FieldInfo(src_key=None, fn=fn, stored_root=stored, generated=generated)
                out[op.name] = GraphQLField(
                    gql,
                    args=args,
                    resolve=_root_resolver(fn, generated),
                    description=op.description,
                    extensions={"fraiseql": info},
                )
            return out

        return GraphQLObjectType(name, fields)


def _named(gql: Any) -> Any:
    while isinstance(gql, (GraphQLNonNull, GraphQLList)):
        gql = gql.of_type
    return gql


def _union_def(hint: Any) -> UnionDef | None:
    """The UnionDef of a `fraiseql.union(...)` hint."""
    if typing.get_origin(hint) is not typing.Annotated:
        return None
    return next((m for m in hint.__metadata__ if isinstance(m, UnionDef)), None)


def _error_member(named: Any, where: str) -> builtins.type | None:
    """The @fraiseql.error member of a mutation's result union, checked to be fillable: a
    refusal fills code, message and field, and the details it carries; every other field
    must take null or have a default."""
    if not isinstance(named, GraphQLUnionType):
        return None
    union: UnionDef = named.extensions["fraiseql"]
    errors = [cls for cls in union.members if getattr(cls, results.ERROR_MARK, False)]
    if len(errors) > 1:
        raise TypeError(
            f"fraiseql: {where}: the result union {union.name} has more than one "
            f"@fraiseql.error member ({', '.join(c.__name__ for c in errors)}): which one a "
            "refusal fills would be a guess"
        )
    return errors[0] if errors else None


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


def build_schema(
    registry: Registry | None = None, *, max_limit: int = DEFAULT_MAX_LIMIT
) -> GraphQLSchema:
    """The graphql-core schema of everything declared; executable by graphql-core alone.

    `max_limit` bounds the `limit`, `first` and `last` arguments generated for list and
    connection fields (a larger value is a GraphQL error naming the bound).
    """
    if isinstance(max_limit, bool) or not isinstance(max_limit, int) or max_limit < 1:
        raise ValueError(f"max_limit must be a positive int, got {max_limit!r}")
    registry = registry or get_registry()
    builder = _Builder(registry, max_limit)
    query = builder.root_type("Query", registry.queries)
    if query is None:
        raise TypeError("fraiseql: no @fraiseql.query is declared; a schema needs at least one")
    mutation = builder.root_type("Mutation", registry.mutations)
    from fraiseql.subscriptions import subscription_root  # it builds on this module

    subscription = subscription_root(builder, registry.subscriptions)
    # Types reachable only through nothing still belong in the schema (and in introspection).
    extra = [
        builder.interface_type(td) if td.kind == INTERFACE else builder.object_type(td)
        for td in registry.types.values()
        if not td.is_input
    ]
    schema = GraphQLSchema(query=query, mutation=mutation, subscription=subscription, types=extra)
    # Resolve every thunk now: a bad hint then fails here, naming the field, not mid-request.
    errors = [str(e) for e in validate_schema(schema)]
    if errors:
        raise TypeError("fraiseql: invalid schema:\n  " + "\n  ".join(errors))
    _check_abstract(schema)
    return schema


def _check_abstract(schema: GraphQLSchema) -> None:
    """Start-up errors of unions and interfaces: a stored field of one (read from a
    document, where no Python class tells the type) needs a discriminator; members' tags
    are distinct; an error member can be filled by any refusal."""
    for gql in schema.type_map.values():
        if is_abstract_type(gql):
            unions.tags(gql, list(schema.get_possible_types(gql)))  # type: ignore[arg-type]
        typedef = (gql.extensions or {}).get("fraiseql")
        if not isinstance(gql, GraphQLObjectType) or not isinstance(typedef, TypeDef):
            continue
        if getattr(typedef.cls, results.ERROR_MARK, False):
            _check_error_type(gql, typedef)
        if typedef.sql_source is None:
            continue
        for name, fdef in gql.fields.items():
            named = _named(fdef.type)
            if (
                _stored_info(fdef)
                and is_abstract_type(named)
                and not unions.discriminator_of(named)
            ):
                kind = "union" if isinstance(named, GraphQLUnionType) else "interface"
                raise TypeError(
                    f"fraiseql: {gql.name}.{name}: the {kind} "
                    f"{named.name} is read from stored documents ({typedef.sql_source}), which "
                    "name no Python class: declare the document key naming each one's type "
                    f"(fraiseql.union({named.name!r}, ..., discriminator='kind') or "
                    "@fraiseql.interface(discriminator='kind'); tags: @fraiseql.type(tag=...))"
                )


def _check_error_type(gql: GraphQLObjectType, typedef: TypeDef) -> None:
    for name in ("code", "message"):
        if _named(gql.fields[name].type) is not GraphQLString:
            raise TypeError(f"fraiseql: error type {gql.name}: {name} must be a str field")
    for name, fdef in gql.fields.items():
        info = _stored_info(fdef)
        if name in ("code", "message", "field") or info is None:
            continue
        if isinstance(fdef.type, GraphQLNonNull) and not hasattr(typedef.cls, info.src_key):  # type: ignore[arg-type]
            raise TypeError(
                f"fraiseql: error type {gql.name}: the field {name} is non-null without a "
                "default, and a refusal fills only code, message, field and its details: "
                f"declare it `{info.src_key}: T | None = None` or give it a default"
            )


def _stored_info(fdef: GraphQLField) -> FieldInfo | None:
    """The FieldInfo of a field read from the stored document; None for computed fields."""
    info = (fdef.extensions or {}).get("fraiseql")
    return info if isinstance(info, FieldInfo) and info.src_key is not None else None


def _page_field(gql: Any, key: str) -> GraphQLField:
    # a field of a connection page document (fraiseql.relay)
    return GraphQLField(gql, resolve=_stored_resolver(key), extensions={"fraiseql": FieldInfo(key)})


def stored_fields(
    object_type: GraphQLObjectType, _seen: dict[str, dict[str, Shape]] | None = None
) -> dict[str, Shape]:
    """The document keys a type's stored fields read -> the shape of each (its scalar, or
    the keys of an embedded object): what a filter on the type's sql_source may name, and
    how it compares. Types that embed each other share their dicts (no endless descent)."""
    seen = {} if _seen is None else _seen
    if object_type.name in seen:
        return seen[object_type.name]
    out: dict[str, Shape] = {}
    seen[object_type.name] = out
    for fdef in object_type.fields.values():
        info = _stored_info(fdef)
        if info is None:
            continue
        gql = fdef.type.of_type if isinstance(fdef.type, GraphQLNonNull) else fdef.type
        many = isinstance(gql, GraphQLList)
        named = _named(gql)
        if isinstance(named, GraphQLObjectType):
            out[info.src_key] = Shape(fields=stored_fields(named, seen), many=many)  # type: ignore[index]
        else:
            out[info.src_key] = Shape(scalar_of(named), many=many)  # type: ignore[index]
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
