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
    BooleanValueNode,
    DocumentNode,
    EnumValueNode,
    FieldNode,
    FloatValueNode,
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
    InlineFragmentNode,
    IntValueNode,
    ListTypeNode,
    ListValueNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    ObjectValueNode,
    OperationDefinitionNode,
    Source,
    StringValueNode,
    Undefined,
    VariableDefinitionNode,
    VariableNode,
    get_location,
    get_named_type,
    get_nullable_type,
    is_input_object_type,
    is_list_type,
    parse,
)
from graphql.language import Lexer
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef
from graphql.type.scalars import GRAPHQL_MAX_INT, GRAPHQL_MIN_INT
from graphql.validation import (
    NoUndefinedVariablesRule,
    NoUnusedVariablesRule,
    UniqueVariableNamesRule,
    VariablesAreInputTypesRule,
    VariablesInAllowedPositionRule,
)

from fraiseql import tracing
from fraiseql._native import native
from fraiseql.lru import LRUCache
from fraiseql.plan import Limits, Plan, plan_document
from fraiseql.scalars import DateScalar, DateTimeScalar, DecimalScalar, JSONScalar, UUIDScalar

# The validation rules about variables: the hoisted ones are defined once each, with an
# input type, used once where that type is expected. For a document without variables of
# its own these rules pass on the original and on the hoisted document alike (the
# differential tests of tests/test_plan_shapes.py run them both ways).
_VARIABLE_RULES = (
    NoUndefinedVariablesRule,
    NoUnusedVariablesRule,
    UniqueVariableNamesRule,
    VariablesAreInputTypesRule,
    VariablesInAllowedPositionRule,
)

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


_LEAF_KINDS = {
    IntValueNode: native.GQL_INT,
    FloatValueNode: native.GQL_FLOAT,
    BooleanValueNode: native.GQL_BOOLEAN,
    EnumValueNode: native.GQL_ENUM,
}
_META_FIELDS = {
    "__schema": SchemaMetaFieldDef,
    "__type": TypeMetaFieldDef,
    "__typename": TypeNameMetaFieldDef,
}


def _replace(node: Any, **changes: Any) -> Any:
    # nodes are frozen in graphql-core 3.3: a changed one is a new one
    return type(node)(**{**{key: getattr(node, key) for key in node.keys}, **changes})


class _Hoister:
    """Replaces each literal of the tokenizer's list by its variable, noting the type of its
    position; a walk of the document with the schema's types (graphql-core's TypeInfo
    visitor takes several times as long). `failed` where a position has no type of its own
    (an unknown field or argument, inside a scalar's literal: validation refuses the first)."""

    def __init__(self, schema: GraphQLSchema, literals: tuple[Any, ...], to_byte: Any) -> None:
        self.schema = schema
        self.index = {start: i for i, (_kind, start, _end) in enumerate(literals)}
        self.kinds = [kind for kind, _start, _end in literals]
        self.types: list[Any] = [None] * len(literals)
        self.to_byte = to_byte
        self.failed = False

    def definition(self, node: Any) -> Any:
        if isinstance(node, OperationDefinitionNode):
            parent = self.schema.get_root_type(node.operation)
        else:  # a fragment
            parent = self.schema.get_type(node.type_condition.name.value)
        if parent is None:
            self.failed = True
            return node
        return self._changed(
            node,
            directives=self.directives(node.directives),
            selection_set=self.selection_set(node.selection_set, parent),
        )

    def selection_set(self, node: Any, parent: Any) -> Any:
        if node is None:
            return None
        return self._changed(
            node, selections=tuple(self.selection(sel, parent) for sel in node.selections)
        )

    def selection(self, node: Any, parent: Any) -> Any:
        directives = self.directives(node.directives)
        if isinstance(node, FieldNode):
            name = node.name.value
            fields = getattr(parent, "fields", {})
            field = fields.get(name) or _META_FIELDS.get(name)
            if field is None:
                self.failed = True
                return node
            return self._changed(
                node,
                directives=directives,
                arguments=self.arguments(node.arguments, field.args),
                selection_set=self.selection_set(node.selection_set, get_named_type(field.type)),
            )
        if isinstance(node, InlineFragmentNode):
            if node.type_condition is not None:
                parent = self.schema.get_type(node.type_condition.name.value)
            return self._changed(
                node,
                directives=directives,
                selection_set=self.selection_set(node.selection_set, parent),
            )
        return self._changed(node, directives=directives)  # a fragment spread

    def directives(self, nodes: Any) -> Any:
        out = []
        for node in nodes or ():
            directive = self.schema.get_directive(node.name.value)
            if directive is None:
                self.failed = True
                out.append(node)
            else:
                out.append(
                    self._changed(node, arguments=self.arguments(node.arguments, directive.args))
                )
        return tuple(out)

    def arguments(self, nodes: Any, definitions: dict[str, Any]) -> Any:
        out = []
        for node in nodes or ():
            definition = definitions.get(node.name.value)
            if definition is None:
                self.failed = True
                out.append(node)
            else:
                out.append(self._changed(node, value=self.value(node.value, definition.type)))
        return tuple(out)

    def value(self, node: Any, type_: Any) -> Any:
        kind = _LEAF_KINDS.get(type(node))
        if kind is None and isinstance(node, StringValueNode):
            kind = native.GQL_BLOCK_STRING if node.block else native.GQL_STRING
        if kind is not None:
            i = self.index.get(self.to_byte(node.loc.start))
            if i is None or self.kinds[i] != kind or self.types[i] is not None:
                self.failed = True
                return node
            self.types[i] = type_
            return VariableNode(name=NameNode(value=f"{PREFIX}{i}"))
        nullable = get_nullable_type(type_)
        if isinstance(node, ListValueNode):
            if not is_list_type(nullable):
                self.failed = True
                return node
            return self._changed(
                node, values=tuple(self.value(item, nullable.of_type) for item in node.values)
            )
        if isinstance(node, ObjectValueNode):
            if not is_input_object_type(nullable):
                self.failed = True
                return node
            fields = []
            for field in node.fields:
                definition = nullable.fields.get(field.name.value)
                if definition is None:
                    self.failed = True
                    return node
                fields.append(self._changed(field, value=self.value(field.value, definition.type)))
            return self._changed(node, fields=tuple(fields))
        return node  # null, a variable

    @staticmethod
    def _changed(node: Any, **parts: Any) -> Any:
        """`node` with `parts` where any part is another object, else `node` itself."""
        for key, part in parts.items():
            old = getattr(node, key)
            if isinstance(part, tuple):
                old = tuple(old or ())
                if len(part) != len(old) or any(a is not b for a, b in zip(part, old, strict=True)):
                    return _replace(node, **parts)
            elif part is not old:
                return _replace(node, **parts)
        return node


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
    schema: GraphQLSchema, query: str, shape: bytes, operation_name: str | None, limits: Limits
) -> Shape | None:
    """The plan of `shape`, the shape of `query`; None when its documents go the full way."""
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
    hoister = _Hoister(schema, literals, _byte_offsets(query))
    definitions_in = [hoister.definition(d) for d in document.definitions]
    if hoister.failed or any(t is None for t in hoister.types):
        return None
    converters = tuple(
        _converter(kind, type_)
        for (kind, _start, _end), type_ in zip(literals, hoister.types, strict=True)
    )
    if any(c is None for c in converters):
        return None
    definitions = []
    for definition in definitions_in:
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
    # no `$` in the original: only hoisted variables, right by construction
    skip = _VARIABLE_RULES if b"$" not in shape else ()
    plan = plan_document(schema, hoisted, operation_name, limits, skip)
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
            entry = traced(compile_shape, self.schema, query, shape, operation_name, self.limits)
            if entry is None:
                self.entries.put(key, _NEVER, len(shape))
                return None
            self.compiled += 1
            self.entries.put(key, entry, plan_bytes(query))
        elif entry is _NEVER:
            return None
        literals = entry.bind(values)
        return None if literals is None else Binding(entry.plan, literals, entry, query)
