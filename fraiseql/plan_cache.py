"""Plans keyed by shape: documents that differ only in their literals share one plan.

A document's shape (`gql_shape`, the C tokenizer) is its tokens with every literal replaced
by the byte of its kind. The first document of a shape is planned with its literals hoisted
into variables `$__fq0, $__fq1, ...` typed as their positions (argument, input field, list
item, `@include`/`@skip` condition); every later document of the shape only tokenizes,
looks the shape up and binds its literals to those variables, which the executor then runs
like any variables (fast path, replay, graphql-core: one path). The plan with variables is
the document's own exactly when its literals are valid where they stand, which is checked
per literal as graphql-core's ValuesOfCorrectType rule would; the rest of validation does
not depend on literal values, except field merging, which the hoisted document makes
stricter. So whatever could differ goes the full way on the original text, and graphql-core
words it: a literal that does not coerce (an Int beyond 32 bits, an unknown enum value), a
kind its position does not take (an enum value where a string is expected), a shape whose
hoisted document does not validate, variable defaults, several operations, scalars whose
literals this module does not know how to bind.

Error locations point into the first document of the shape; `relocate` maps them, token
for token, into the document as sent (`fraiseql.masking.relocation`). Resolvers see the
hoisted variables in `info.variable_values` and in their field nodes' arguments.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Callable
from typing import Any, NamedTuple

from graphql import (
    DocumentNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    GraphQLString,
    ListTypeNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    Source,
    TypeInfo,
    TypeInfoVisitor,
    Undefined,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    get_location,
    get_nullable_type,
    is_input_object_type,
    is_list_type,
    parse,
    visit,
)
from graphql.language import Lexer
from graphql.type.scalars import GRAPHQL_MAX_INT, GRAPHQL_MIN_INT

from fraiseql import tracing
from fraiseql._native import native
from fraiseql.lru import LRUCache
from fraiseql.plan import Limits, Plan, plan_document
from fraiseql.scalars import DateScalar, DateTimeScalar, DecimalScalar, JSONScalar, UUIDScalar

# The names of hoisted variables: PREFIX and the literal's index in the document.
PREFIX = "__fq"

# The size of a cached plan, estimated from its document's length: above what tracemalloc
# sees a new document's plan keep (parsed nodes, compiled variants), 9 to 22 KB for 26 to
# 210 characters (tests/test_plan_shapes.py).
PLAN_BASE_BYTES = 10240
PLAN_BYTES_PER_CHAR = 160

# Default bounds of each plan cache (by text, by shape): together a worker's plans stay
# within a few tens of MB.
DEFAULT_CACHE_SIZE = 1000
DEFAULT_CACHE_BYTES = 16 << 20

_INVALID = object()  # a literal graphql-core would refuse where it stands
_NEVER = object()  # a shape whose documents go the full way


def plan_bytes(query: str) -> int:
    """The estimated size in memory of the plan of `query`."""
    return PLAN_BASE_BYTES + PLAN_BYTES_PER_CHAR * len(query)


def traced(build: Callable[..., Any], *args: Any) -> Any:
    """`build(*args)`, in a plan span when the request is traced."""
    tracer = tracing.current.get()
    if tracer is None:
        return build(*args)
    with tracing.plan_span(tracer):
        return build(*args)


# ---------------------------------------------------------------- literal values

# fraiseql's scalars: parse_literal is parse_value of the untyped literal (scalars._literal).
_UNTYPED_SCALARS = (DateTimeScalar, DateScalar, UUIDScalar, DecimalScalar, JSONScalar)


def _same(text: str) -> str:
    return text


def _int(text: str) -> Any:
    value = int(text)
    return value if GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT else _INVALID


def _float(text: str) -> Any:
    value = float(text)  # a literal beyond a double is inf, which no variable takes
    return value if math.isfinite(value) else _INVALID


def _boolean(text: str) -> bool:
    return text == "true"


def _block_string(text: str) -> Any:
    # The block string token as written: graphql-core's lexer applies its indentation rules.
    try:
        return Lexer(Source(text)).advance().value
    except GraphQLError:
        return _INVALID


def _enum(enum_type: GraphQLEnumType) -> Callable[[str], Any]:
    values = enum_type.values
    return lambda text: text if text in values else _INVALID


_UNTYPED = {
    native.GQL_INT: int,
    native.GQL_FLOAT: float,
    native.GQL_STRING: _same,
    native.GQL_BLOCK_STRING: _block_string,
    native.GQL_BOOLEAN: _boolean,
    native.GQL_ENUM: _same,
}


def _untyped(kind: int, scalar: Any) -> Callable[[str], Any]:
    read = _UNTYPED[kind]

    def convert(text: str) -> Any:
        value = read(text)
        try:
            ok = value is not _INVALID and scalar.parse_value(value) is not Undefined
        except (GraphQLError, TypeError, ValueError, ArithmeticError):
            ok = False
        return value if ok else _INVALID

    return convert


# (kind, scalar) -> the variable value of a literal of that kind, as graphql-core coerces
# it: parse_value(value) is parse_literal(literal), and _INVALID where parse_literal refuses.
_BUILTIN = {
    (native.GQL_INT, GraphQLInt): _int,
    (native.GQL_INT, GraphQLFloat): _float,
    (native.GQL_FLOAT, GraphQLFloat): _float,
    (native.GQL_STRING, GraphQLString): _same,
    (native.GQL_BLOCK_STRING, GraphQLString): _block_string,
    (native.GQL_BOOLEAN, GraphQLBoolean): _boolean,
    (native.GQL_STRING, GraphQLID): _same,
    (native.GQL_BLOCK_STRING, GraphQLID): _block_string,
    (native.GQL_INT, GraphQLID): _same,
}


def _converter(kind: int, type_: Any) -> Callable[[str], Any] | None:
    """How a literal of `kind` at a position of `type_` becomes its variable's value; None
    when no literal of that kind is valid there, or when this module cannot tell."""
    named = type_
    while isinstance(named, (GraphQLNonNull, GraphQLList)):
        named = named.of_type
    if isinstance(named, GraphQLEnumType):
        return _enum(named) if kind == native.GQL_ENUM else None
    if any(named is scalar for scalar in _UNTYPED_SCALARS):
        return _untyped(kind, named)
    return _BUILTIN.get((kind, named))


# ---------------------------------------------------------------- hoisting


class _Hoister(Visitor):
    """Replaces each literal of the tokenizer's list by its variable, noting its type."""

    def __init__(self, type_info: TypeInfo, literals: tuple[Any, ...], to_byte: Any) -> None:
        super().__init__()
        self.type_info = type_info
        self.index = {start: i for i, (_kind, start, _end) in enumerate(literals)}
        self.kinds = [kind for kind, _start, _end in literals]
        self.types: list[Any] = [None] * len(literals)
        self.to_byte = to_byte
        self.failed = False

    def _hoist(self, node: Any, kind: int) -> Any:
        i = self.index.get(self.to_byte(node.loc.start))
        type_ = self.type_info.get_input_type()
        if i is None or self.kinds[i] != kind or self.types[i] is not None or type_ is None:
            self.failed = True
            return None
        self.types[i] = type_
        return VariableNode(name=NameNode(value=f"{PREFIX}{i}"))

    def enter_int_value(self, node: Any, *_: Any) -> Any:
        return self._hoist(node, native.GQL_INT)

    def enter_float_value(self, node: Any, *_: Any) -> Any:
        return self._hoist(node, native.GQL_FLOAT)

    def enter_boolean_value(self, node: Any, *_: Any) -> Any:
        return self._hoist(node, native.GQL_BOOLEAN)

    def enter_enum_value(self, node: Any, *_: Any) -> Any:
        return self._hoist(node, native.GQL_ENUM)

    def enter_string_value(self, node: Any, *_: Any) -> Any:
        return self._hoist(node, native.GQL_BLOCK_STRING if node.block else native.GQL_STRING)

    def enter_list_value(self, node: Any, *_: Any) -> None:
        # inside a scalar's literal (JSON) no position has a type of its own
        if not is_list_type(get_nullable_type(self.type_info.get_input_type())):
            self.failed = True

    def enter_object_value(self, node: Any, *_: Any) -> None:
        if not is_input_object_type(get_nullable_type(self.type_info.get_input_type())):
            self.failed = True


def _type_node(type_: Any) -> Any:
    if isinstance(type_, GraphQLNonNull):
        return NonNullTypeNode(type=_type_node(type_.of_type))
    if isinstance(type_, GraphQLList):
        return ListTypeNode(type=_type_node(type_.of_type))
    return NamedTypeNode(name=NameNode(value=type_.name))


def _byte_offsets(text: str) -> Callable[[int], int]:
    """Character offset -> byte offset in the UTF-8 of `text`."""
    if text.isascii():
        return _same  # type: ignore[return-value]
    return lambda offset: len(text[:offset].encode())


class Shape:
    """The plan of a shape and how a document of it binds its literals."""

    __slots__ = ("plan", "names", "converters", "first", "tokens", "lines")

    def __init__(
        self,
        plan: Plan,
        converters: tuple[Callable[[str], Any], ...],
        first: str,
        tokens: tuple[int, ...],
    ) -> None:
        self.plan = plan
        self.names = tuple(f"{PREFIX}{i}" for i in range(len(converters)))
        self.converters = converters
        self.first = first  # the document it was planned from, where error locations point
        self.tokens = tokens  # the byte offset of each of its tokens
        self.lines: list[int] | None = None  # character offset of each line of `first`

    def bind(self, values: tuple[str, ...]) -> dict[str, Any] | None:
        """The hoisted variables of a document of this shape; None if a literal is refused."""
        out = {}
        for name, convert, text in zip(self.names, self.converters, values, strict=True):
            value = convert(text)
            if value is _INVALID:
                return None
            out[name] = value
        return out


def compile_shape(
    schema: GraphQLSchema, query: str, operation_name: str | None, limits: Limits
) -> Shape | None:
    """The shape plan of `query`'s shape, or None when its documents go the full way."""
    try:
        document = parse(query, max_tokens=limits.max_tokens)
    except GraphQLError:
        return None
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(ops) != 1 or any(
        d.default_value is not None or d.variable.name.value.startswith(PREFIX)
        for d in ops[0].variable_definitions or ()
    ):
        return None
    tokens, literals = native.gql_tokens(query)
    type_info = TypeInfo(schema)
    hoister = _Hoister(type_info, literals, _byte_offsets(query))
    hoisted: DocumentNode = visit(document, TypeInfoVisitor(type_info, hoister))
    if hoister.failed or any(t is None for t in hoister.types):
        return None
    converters = tuple(
        _converter(kind, type_)
        for (kind, _start, _end), type_ in zip(literals, hoister.types, strict=True)
    )
    if any(c is None for c in converters):
        return None
    definitions = []
    for definition in hoisted.definitions:
        if isinstance(definition, OperationDefinitionNode):
            fields = {key: getattr(definition, key) for key in definition.keys}
            fields["variable_definitions"] = (
                *(definition.variable_definitions or ()),
                *(
                    VariableDefinitionNode(
                        variable=VariableNode(name=NameNode(value=f"{PREFIX}{i}")),
                        type=_type_node(type_),
                        directives=(),
                    )
                    for i, type_ in enumerate(hoister.types)
                ),
            )
            definition = OperationDefinitionNode(**fields)
        definitions.append(definition)
    hoisted = DocumentNode(definitions=tuple(definitions), loc=document.loc)
    plan = plan_document(schema, hoisted, operation_name, limits)
    # a request error would come after the errors of the client's own variables
    if plan.errors or (plan.cost is not None and ops[0].variable_definitions):
        return None
    return Shape(plan, converters, query, tokens)  # type: ignore[arg-type]


# ---------------------------------------------------------------- error locations

_LINE = re.compile(r"\r\n|[\n\r]")  # graphql-core's line terminators (get_location)


class Binding(NamedTuple):
    """A document bound to the plan of its shape."""

    plan: Plan
    literals: dict[str, Any]
    shape: Shape
    query: str

    def variables(self, given: Any) -> Any:
        """The request's variables with the hoisted ones (a non-object is left for the
        executor to refuse)."""
        if given is None:
            return self.literals
        if isinstance(given, dict):
            return {**given, **self.literals}
        return given

    def relocate(self, formatted: dict[str, Any]) -> dict[str, Any]:
        """A formatted error whose locations point into the first document of the shape,
        pointing into this one instead (the same token)."""
        shape = self.shape
        locations = formatted.get("locations")
        if not locations or self.query == shape.first:
            return formatted
        if shape.lines is None:
            shape.lines = [0, *(m.end() for m in _LINE.finditer(shape.first))]
        to_byte = _byte_offsets(shape.first)
        tokens = native.gql_tokens(self.query)[0]
        source = Source(self.query)
        encoded = None if self.query.isascii() else self.query.encode()
        moved = []
        for location in locations:
            offset = to_byte(shape.lines[location["line"] - 1] + location["column"] - 1)
            i = bisect_left(shape.tokens, offset)
            if i == len(shape.tokens) or shape.tokens[i] != offset:
                moved.append(location)  # not at a token: cannot be (nodes start at tokens)
                continue
            at = tokens[i] if encoded is None else len(encoded[: tokens[i]].decode())
            where = get_location(source, at)
            moved.append({"line": where.line, "column": where.column})
        return {**formatted, "locations": moved}


# ---------------------------------------------------------------- the cache


class ShapeCache:
    """Shape plans of one schema, bounded by count and bytes (the first document's length
    estimates a plan's size)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        limits: Limits,
        maxsize: int = DEFAULT_CACHE_SIZE,
        max_bytes: int | None = DEFAULT_CACHE_BYTES,
    ) -> None:
        self.schema = schema
        self.limits = limits
        self.entries = LRUCache(maxsize, max_bytes)
        self.compiled = 0  # shape plans built (fraiseql.metrics counts them as plan misses)

    def bind(self, query: str, operation_name: str | None) -> Binding | None:
        """`query` bound to the plan of its shape; None when it goes the full way."""
        try:
            shape, values = native.gql_shape(query)
        except ValueError:  # graphql-core parses it, and words any error
            return None
        if not values:
            return None
        key = (shape, operation_name)
        entry = self.entries.get(key)
        if entry is None:
            entry = traced(compile_shape, self.schema, query, operation_name, self.limits)
            if entry is None:
                self.entries.put(key, _NEVER, len(shape))
                return None
            self.compiled += 1
            self.entries.put(key, entry, plan_bytes(query))
        elif entry is _NEVER:
            return None
        literals = entry.bind(values)
        return None if literals is None else Binding(entry.plan, literals, entry, query)
