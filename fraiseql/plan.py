"""Execution plans: a document parsed, limited, validated and compiled once, then cached.

A plan is keyed by (document text, operation name). Its compiled root fields depend on the
`@include`/`@skip` variables only, so each plan keeps one compiled variant per tuple of those
booleans (at most 2**n, n the number of such variables; few in practice).

A compiled selection is a tree of plain tuples, testable without running the rewriter:
    (typename, ((out_key, src_key, child, flags), ...))
`src_key` None means "emit typename", `child` is a nested tree or None for leaves; flags are
the rewriter's own: NON_NULL (null propagation), FIELD_ID (a stored JSON number is emitted as
a string: ID, Decimal), ITEMS_NON_NULL (a null element of the list needs null propagation).
A union or interface is a level of variants, `(None, ((tag, discriminator, member tree,
VARIANT), ...))`: the member whose tag the document's discriminator key holds is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    VariableNode,
    is_abstract_type,
    parse,
    specified_rules,
    validate,
)
from graphql.pyutils import Path
from graphql.utilities import coerce_input_value, type_from_ast, value_from_ast
from graphql.validation import NoSchemaIntrospectionCustomRule

from fraiseql import ITEMS_NON_NULL, NON_NULL, graphql_compat, unions
from fraiseql._native import native
from fraiseql.collect import Uncollectable, collect_fields
from fraiseql.cost import DEFAULT_LIST_SIZE, Cost, price
from fraiseql.permissions import Requirement
from fraiseql.scalars import by_name
from fraiseql.schema import FieldInfo

Tree = tuple[str, tuple[tuple[str, "str | None", "Tree | None", int], ...]]


@dataclass(frozen=True)
class Limits:
    """Per-document limits, checked before validation (the cost after: it needs the
    schema's list types, see fraiseql.cost); each None disables that check."""

    max_depth: int | None = 15
    max_aliases: int | None = 30
    max_fields: int | None = 500
    max_tokens: int | None = 10_000
    introspection: bool = True
    max_cost: int | None = 20_000
    default_list_size: int = DEFAULT_LIST_SIZE  # the size of a list without limit/first


# ---------------------------------------------------------------- limits


class _Counter:
    """Depth, alias and field counts of selection sets, fragments expanded once each."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.memo: dict[str, tuple[int, int, int]] = {}
        self.active: set[str] = set()

    def measure(self, selection_set: SelectionSetNode | None) -> tuple[int, int, int]:
        """(depth, aliases, fields) of a selection set; a spread counts its fragment each time."""
        if selection_set is None:
            return 0, 0, 0
        depth = aliases = fields = 0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                d, a, f = self.measure(sel.selection_set)
                depth = max(depth, d + 1)
                aliases += a + (sel.alias is not None)
                fields += f + 1
            elif isinstance(sel, InlineFragmentNode):
                d, a, f = self.measure(sel.selection_set)
                depth, aliases, fields = max(depth, d), aliases + a, fields + f
            elif isinstance(sel, FragmentSpreadNode):
                d, a, f = self.fragment(sel.name.value)
                depth, aliases, fields = max(depth, d), aliases + a, fields + f
        return depth, aliases, fields

    def fragment(self, name: str) -> tuple[int, int, int]:
        if name in self.memo:
            return self.memo[name]
        frag = self.fragments.get(name)
        if frag is None or name in self.active:  # unknown or cyclic: validation reports it
            return 0, 0, 0
        self.active.add(name)
        self.memo[name] = self.measure(frag.selection_set)
        self.active.discard(name)
        return self.memo[name]


def check_limits(document: DocumentNode, limits: Limits) -> list[GraphQLError]:
    """Errors for every operation of `document` that exceeds depth, alias or field limits."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    counter = _Counter(fragments)
    errors: list[GraphQLError] = []
    for op in document.definitions:
        if not isinstance(op, OperationDefinitionNode):
            continue
        depth, aliases, fields = counter.measure(op.selection_set)
        for what, value, limit in (
            ("depth", depth, limits.max_depth),
            ("number of aliases", aliases, limits.max_aliases),
            ("number of fields", fields, limits.max_fields),
        ):
            if limit is not None and value > limit:
                name = f"Operation '{op.name.value}'" if op.name else "The operation"
                errors.append(
                    GraphQLError(f"{name} exceeds the maximum query {what}: {value} > {limit}.", op)
                )
    return errors


# ---------------------------------------------------------------- compiled selections


def _named(gql: Any) -> Any:
    while isinstance(gql, (GraphQLNonNull, GraphQLList)):
        gql = gql.of_type
    return gql


def _flags(gql: Any) -> int:
    flags = NON_NULL if isinstance(gql, GraphQLNonNull) else 0
    inner = gql.of_type if isinstance(gql, GraphQLNonNull) else gql
    if isinstance(inner, GraphQLList) and isinstance(inner.of_type, GraphQLNonNull):
        flags |= ITEMS_NON_NULL
    scalar = by_name(_named(gql).name)
    return flags | scalar.flags if scalar is not None else flags


def compile_tree(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    object_type: GraphQLObjectType,
    field_nodes: list[FieldNode],
    path: Path,
    guards: list[tuple[tuple[Requirement, ...], dict[str, Any]]],
) -> Tree | None:
    """The selection of `field_nodes` on `object_type` (at `path`) as a tuple tree.

    None when some part is not served by stored JSON (a computed field, an enum whose stored
    values differ from its names, introspection): the caller then uses graphql-core. Each
    selected field with requirements adds to `guards` its requirements and the fixed fields
    of its GraphQLResolveInfo (path: its first occurrence, index 0 in lists).
    """
    out = []
    sets = [node.selection_set for node in field_nodes if node.selection_set]
    subfields = collect_fields(schema, fragments, variables, object_type, sets)
    for key, nodes in subfields.items():
        name = nodes[0].name.value
        if name == "__typename":
            out.append((key, None, None, NON_NULL))
            continue
        fdef: GraphQLField | None = object_type.fields.get(name)
        info = (fdef.extensions or {}).get("fraiseql") if fdef else None
        if not isinstance(info, FieldInfo) or info.src_key is None:
            return None
        field_path = path.add_key(key, object_type.name)
        if info.requires:
            fixed = {
                "field_name": name,
                "field_nodes": nodes,
                "return_type": fdef.type,
                "parent_type": object_type,
                "path": field_path,
            }
            guards.append((info.requires, fixed))
        named = _named(fdef.type)
        child = None
        if isinstance(named, GraphQLObjectType) or is_abstract_type(named):
            child_path = _item_path(field_path, fdef.type)
            child = compile_child(schema, fragments, variables, named, nodes, child_path, guards)
            if child is None:
                return None
        elif isinstance(named, GraphQLEnumType) and not getattr(named, "verbatim", False):
            return None
        out.append((key, info.src_key, child, _flags(fdef.type)))
    return object_type.name, tuple(out)


def compile_child(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    named: Any,
    field_nodes: list[FieldNode],
    path: Path,
    guards: list[tuple[tuple[Requirement, ...], dict[str, Any]]],
    discriminator: str | None = None,
) -> Tree | None:
    """compile_tree of an object type, or the variants of a union or interface: each
    member's tree under its tag, chosen by the abstract type's discriminator key (or
    `discriminator`, a root's default); None when there is no key to choose by."""
    if not is_abstract_type(named):
        return compile_tree(schema, fragments, variables, named, field_nodes, path, guards)
    key = unions.discriminator_of(named) or discriminator
    if key is None:
        return None
    variants = []
    for tag, member in unions.tags(named, list(schema.get_possible_types(named))).items():
        tree = compile_tree(schema, fragments, variables, member, field_nodes, path, guards)
        if tree is None:
            return None
        variants.append((tag, key, tree, native.VARIANT))
    return None, tuple(variants)  # type: ignore[return-value]


def _item_path(path: Path, gql: Any) -> Path:
    # The path of a field's objects: index 0 at each list level, as graphql-core adds indices.
    while isinstance(gql, (GraphQLNonNull, GraphQLList)):
        if isinstance(gql, GraphQLList):
            path = path.add_key(0, None)
        gql = gql.of_type
    return path


def directive_variables(document: DocumentNode) -> tuple[str, ...]:
    """Names of the variables that `@include(if:)`/`@skip(if:)` depend on, sorted."""
    names: set[str] = set()

    def walk(selection_set: SelectionSetNode | None) -> None:
        if selection_set is None:
            return
        for sel in selection_set.selections:
            for directive in sel.directives or ():
                if directive.name.value in ("include", "skip"):
                    for arg in directive.arguments or ():
                        if isinstance(arg.value, VariableNode):
                            names.add(arg.value.name.value)
            walk(getattr(sel, "selection_set", None))

    for definition in document.definitions:
        walk(getattr(definition, "selection_set", None))
    return tuple(sorted(names))


# ---------------------------------------------------------------- plans


@dataclass
class RootField:
    """One root field of the fast path."""

    key: str
    prefix: bytes  # the pre-rendered `"key":`
    field_name: str
    field_def: GraphQLField
    nodes: list[FieldNode]
    fn: Callable[..., Any] | None  # None for __typename
    tree: Tree | None
    args: ArgumentPlan | None  # None: arguments too complex, graphql-core coerces them
    selection: Any = None  # the native Selection built from `tree`
    # Its GraphQLResolveInfo's fields around (variable_values, context); built with `selection`
    info_before: tuple[Any, ...] = ()
    info_after: tuple[Any, ...] = ()
    core: bool = False  # answered by graphql-core (with the other such roots)
    object_type: Any = None  # the named type it returns: a Repository without a view reads it
    field: Any = None  # fraiseql.current.Field(selection, object_type), built with `selection`
    generated: Any = None  # fraiseql.arguments.Generated of a list or connection field
    total: bool = False  # a connection whose totalCount is selected
    guards: tuple[Guard, ...] = ()  # the requirements of fields in `tree`, asked per request
    # A union or interface root: each member's name -> its native Selection (a value that
    # knows its type is written with its member's; others through `selection`'s variants).
    members: dict[str, Any] | None = None
    classes: dict[type, str] | None = None  # the members' declared classes -> their names


@dataclass(frozen=True)
class Guard:
    """A field of a root's tree that has requirements, and its GraphQLResolveInfo's fields
    around (variable_values, context)."""

    requires: tuple[Requirement, ...]
    info_before: tuple[Any, ...]
    info_after: tuple[Any, ...]


@dataclass
class Variant:
    """The root fields of one set of @include/@skip values, in selection order."""

    roots: list[RootField]
    # The operation restricted to the roots that graphql-core answers, if there are any.
    core_document: DocumentNode | None
    guarded: bool = False  # some root selects fields with requirements (fraiseql.requires)


@dataclass(frozen=True)
class ArgumentPlan:
    """A root field's arguments: literals coerced once, `arg: $var` looked up per request,
    and literals holding variables (`where: {email: {eq: $e}}`) filled in from templates."""

    const: dict[str, Any]
    # (argument out_name, variable name, argument default or Undefined, argument is non-null)
    from_variables: tuple[tuple[str, str, Any, bool], ...]
    # (argument out_name, its literal as a template: variables -> the coerced value)
    templates: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = ()

    def values(self, variables: dict[str, Any]) -> dict[str, Any] | None:
        """The resolver's keyword arguments; None when graphql-core must report an error."""
        if not self.from_variables and not self.templates:
            return self.const
        out = dict(self.const)
        for out_name, var, default, non_null in self.from_variables:
            if var in variables:
                value = variables[var]
                if value is None and non_null:
                    return None
                out[out_name] = value
            elif default is not Undefined:
                out[out_name] = default
            elif non_null:
                return None
        try:
            for out_name, fill in self.templates:
                out[out_name] = fill(variables)
        except _Unfillable:
            return None
        return out


class _Unfillable(Exception):
    """A template met what only graphql-core words (a missing or null required value)."""


_MISSING = object()  # a variable the request did not give: its input field is left out


def _template(node: Any, type_: Any) -> Callable[[dict[str, Any]], Any] | None:
    """The literal `node` of input type `type_` as a function of the request's coerced
    variables, coercing as graphql-core's value_from_ast does; None when `node` is beyond
    it (graphql-core then coerces the argument each request)."""
    non_null = isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if non_null else type_
    if isinstance(node, VariableNode):
        name = node.name.value

        def variable(variables: dict[str, Any]) -> Any:
            value = variables.get(name, _MISSING)
            if value is None and non_null:
                raise _Unfillable
            return value

        return variable
    if not _uses_variables(node):
        value = value_from_ast(node, type_)
        return None if value is Undefined else (lambda _variables: value)
    if isinstance(inner, GraphQLList):
        item_type = inner.of_type
        if not isinstance(node, ListValueNode):
            one = _template(node, item_type)
            return None if one is None else (lambda variables: [_present(one(variables))])
        items = [_template(item, item_type) for item in node.values]
        if any(item is None for item in items):
            return None
        return lambda variables: [_present(item(variables)) for item in items]  # type: ignore[misc]
    if isinstance(inner, GraphQLInputObjectType) and isinstance(node, ObjectValueNode):
        return _object_template(node, inner)
    return None


def _present(value: Any) -> Any:
    if value is _MISSING:  # an unset variable as a list item: graphql-core's to word
        raise _Unfillable
    return value


def _object_template(node: ObjectValueNode, type_: GraphQLInputObjectType) -> Any:
    given = {field.name.value: field.value for field in node.fields}
    parts = []
    for name, input_field in type_.fields.items():
        out_name = input_field.out_name or name
        required = isinstance(input_field.type, GraphQLNonNull)
        if name in given:
            fill = _template(given[name], input_field.type)
            if fill is None:
                return None
            parts.append((out_name, fill, input_field.default_value, required))
        elif input_field.default_value is not Undefined:
            parts.append((out_name, None, input_field.default_value, False))
        elif required:
            return None  # validation refuses it; graphql-core words that

    def build(variables: dict[str, Any]) -> Any:
        out: dict[str, Any] = {}
        for out_name, fill, default, required in parts:
            value = _MISSING if fill is None else fill(variables)
            if value is _MISSING:
                if default is not Undefined:
                    out[out_name] = default
                elif required:
                    raise _Unfillable
                continue
            out[out_name] = value
        return type_.out_type(out)

    return build


@dataclass(frozen=True)
class VariablePlan:
    """An operation's variable definitions, resolved to types once."""

    # (name, input type, default already coerced or Undefined, non-null, scalar parse_value
    # when the type is a scalar: the common case skips graphql-core's generic coercion)
    specs: tuple[tuple[str, Any, Any, bool, Callable[[Any], Any] | None], ...]
    signatures: dict[str, Any]  # name -> graphql-core 3.3's signature (graphql_compat)

    def coerce(self, inputs: dict[str, Any]) -> Any:
        """Coerced values as graphql-core passes them (graphql_compat.variable_values); None
        on any problem (graphql-core then words the errors)."""
        out: dict[str, Any] = {}
        try:
            for name, type_, default, non_null, parse in self.specs:
                if name not in inputs:
                    if default is not Undefined:
                        out[name] = default
                    elif non_null:
                        return None
                    continue
                value = inputs[name]
                if value is None:
                    if non_null:
                        return None
                    out[name] = None
                elif parse is not None:
                    value = parse(value)
                    if value is Undefined:
                        return None
                    out[name] = value
                else:
                    value = coerce_input_value(value, type_)  # 3.3: Undefined when invalid
                    if value is Undefined:
                        return None
                    out[name] = value
        except Exception:  # noqa: BLE001 - any failure: graphql-core coerces and reports it
            return None
        return graphql_compat.variable_values(self.signatures, inputs, out)


def variable_plan(schema: GraphQLSchema, op: OperationDefinitionNode) -> VariablePlan | None:
    """The variable plan of `op` (validated), or None when a default cannot be coerced."""
    specs = []
    signatures = {}
    for definition in op.variable_definitions or ():
        signature = graphql_compat.variable_signature(schema, definition)
        if graphql_compat.WRAPPED_VARIABLES and signature is None:
            return None
        signatures[definition.variable.name.value] = signature
        type_ = type_from_ast(schema, definition.type)
        default: Any = Undefined
        if definition.default_value is not None:
            default = value_from_ast(definition.default_value, type_)
            if default is Undefined:
                return None
        non_null = isinstance(type_, GraphQLNonNull)
        inner = type_.of_type if non_null else type_
        parse = inner.parse_value if isinstance(inner, GraphQLScalarType) else None
        specs.append((definition.variable.name.value, type_, default, non_null, parse))
    return VariablePlan(tuple(specs), signatures)


def argument_plan(field_def: GraphQLField, node: FieldNode) -> ArgumentPlan | None:
    """How to build a root field's arguments; None when graphql-core has to do it."""
    given = {arg.name.value: arg.value for arg in node.arguments or ()}
    const: dict[str, Any] = {}
    from_variables = []
    templates: list[tuple[str, Callable[[dict[str, Any]], Any]]] = []
    for name, arg_def in field_def.args.items():
        out_name = arg_def.out_name or name
        non_null = isinstance(arg_def.type, GraphQLNonNull)
        value_node = given.get(name)
        if value_node is None:
            if arg_def.default_value is not Undefined:
                const[out_name] = arg_def.default_value
            elif non_null:
                return None
        elif isinstance(value_node, VariableNode):
            from_variables.append(
                (out_name, value_node.name.value, arg_def.default_value, non_null)
            )
        elif _uses_variables(value_node):
            fill = _template(value_node, arg_def.type)
            if fill is None:
                return None
            templates.append((out_name, fill))
        else:
            value = value_from_ast(value_node, arg_def.type)
            if value is Undefined:
                return None
            const[out_name] = value
    return ArgumentPlan(const, tuple(from_variables), tuple(templates))


@dataclass
class Plan:
    """A cached, validated document and its compiled variants."""

    document: DocumentNode | None = None
    operation: OperationDefinitionNode | None = None
    fragments: dict[str, FragmentDefinitionNode] = field(default_factory=dict)
    errors: list[GraphQLError] | None = None  # request errors: parse, limits, validation
    directive_vars: tuple[str, ...] = ()
    variables: VariablePlan | None = None  # None: graphql-core coerces the variables
    cost: Cost | None = None  # checked per request: list sizes from variables
    # directive variable values -> root fields of the fast path, or None: use graphql-core
    variants: dict[tuple[bool, ...], Variant | None] = field(default_factory=dict)
    # of a mutation, per the same values: the re-runs its roots allow (fraiseql.retry)
    retries: dict[tuple[bool, ...], int] = field(default_factory=dict)


def select_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | GraphQLError:
    """The operation to run, or the error graphql-core gives for that case."""
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(ops) == 1:
            return ops[0]
        if not ops:
            return GraphQLError("Must provide an operation.")
        return GraphQLError("Must provide operation name if query contains multiple operations.")
    for op in ops:
        if op.name and op.name.value == operation_name:
            return op
    return GraphQLError(f"Unknown operation named '{operation_name}'.")


def _check_operation_type(
    schema: GraphQLSchema, op: OperationDefinitionNode
) -> GraphQLError | None:
    kind = op.operation.value
    if schema.get_root_type(op.operation) is None:
        return GraphQLError(f"Schema is not configured to execute {kind} operation.", op)
    return None


def build_plan(
    schema: GraphQLSchema, query: str, operation_name: str | None, limits: Limits
) -> Plan:
    """Parse, check limits, validate and select the operation of a document."""
    try:
        document = parse(query, max_tokens=limits.max_tokens)
    except GraphQLError as exc:
        return Plan(errors=[exc])
    return plan_document(schema, document, operation_name, limits)


def plan_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    limits: Limits,
    skip_rules: tuple[Any, ...] = (),
) -> Plan:
    """The plan of a parsed document: limits checked, validated (but for `skip_rules`, which
    the caller knows cannot fail), its operation selected."""
    errors = check_limits(document, limits)
    if errors:
        return Plan(errors=errors)
    rules = [rule for rule in specified_rules if rule not in skip_rules]
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    errors = validate(schema, document, rules)
    if errors:
        return Plan(errors=errors)
    operation = select_operation(document, operation_name)
    if isinstance(operation, GraphQLError):
        return Plan(errors=[operation])
    error = _check_operation_type(schema, operation)
    if error is not None:
        return Plan(errors=[error])
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    cost = None
    if limits.max_cost is not None:
        cost = price(schema, operation, fragments, limits.max_cost, limits.default_list_size)
        if isinstance(cost, GraphQLError):
            return Plan(errors=[cost])
    return Plan(
        document=document,
        operation=operation,
        fragments=fragments,
        directive_vars=directive_variables(document),
        variables=variable_plan(schema, operation),
        cost=cost,
    )


def compile_roots(schema: GraphQLSchema, plan: Plan, variables: dict[str, Any]) -> Variant | None:
    """The root fields of a query or subscription, each compiled when stored JSON serves it;
    of a mutation, its one root field (mutations run serially: several go to graphql-core).

    None when no root field is served that way (graphql-core then runs the whole operation).
    """
    op = plan.operation
    if op is None:
        return None
    root_type = schema.get_root_type(op.operation)
    try:
        variant = _compile_roots(schema, plan, variables, op, root_type)
    except Uncollectable:
        return None
    if op.operation == OperationType.MUTATION and variant is not None:
        # Mutations run serially, each its own step: only a lone field of theirs is fast
        # (a lone __typename is graphql-core's: the fast path writes the Query type's name).
        roots = variant.roots
        if len(roots) != 1 or roots[0].core or roots[0].field_name == "__typename":
            return None
    return variant


def _compile_roots(
    schema: GraphQLSchema,
    plan: Plan,
    variables: dict[str, Any],
    op: OperationDefinitionNode,
    root_type: GraphQLObjectType,
) -> Variant | None:
    roots = collect_fields(schema, plan.fragments, variables, root_type, [op.selection_set])
    out: list[RootField] = []
    for key, nodes in roots.items():
        name = nodes[0].name.value
        prefix = json.dumps(key).encode() + b":"
        if name == "__typename":
            out.append(RootField(key, prefix, name, None, nodes, None, None, ArgumentPlan({}, ())))  # type: ignore[arg-type]
            continue
        fdef = root_type.fields.get(name)  # None for __schema and __type
        info = (fdef.extensions or {}).get("fraiseql") if fdef else None
        tree = None
        guards: list[tuple[tuple[Requirement, ...], dict[str, Any]]] = []
        if isinstance(info, FieldInfo) and info.stored_root:
            path = _item_path(Path(None, key, root_type.name), fdef.type)
            tree = compile_child(
                schema,
                plan.fragments,
                variables,
                _named(fdef.type),
                nodes,
                path,
                guards,
                unions.TYPENAME,
            )
        if tree is None:
            out.append(RootField(key, prefix, name, fdef, nodes, None, None, None, core=True))  # type: ignore[arg-type]
        else:
            out.append(
                RootField(
                    key,
                    prefix,
                    name,
                    fdef,
                    nodes,
                    info.fn,
                    tree,
                    argument_plan(fdef, nodes[0]),
                    object_type=_named(fdef.type),
                    generated=info.generated,
                    total=any(src == "total_count" for _, src, _, _ in tree[1]),
                    guards=tuple(_guard(schema, plan, *guard) for guard in guards),
                )
            )
    core = [node for root in out if root.core for node in root.nodes]
    if core and len(core) == sum(
        len(root.nodes) for root in out if root.fn is not None or root.core
    ):
        return None
    return Variant(out, restricted_document(plan, core) if core else None)


def restricted_document(plan: Plan, nodes: list[FieldNode]) -> DocumentNode:
    """The plan's operation with only these root field nodes (and every fragment)."""
    op = plan.operation
    assert op is not None
    operation = OperationDefinitionNode(
        operation=op.operation,
        name=op.name,
        variable_definitions=op.variable_definitions,
        directives=op.directives,
        selection_set=SelectionSetNode(selections=tuple(nodes)),
    )
    return DocumentNode(definitions=(operation, *plan.fragments.values()))


def _guard(
    schema: GraphQLSchema, plan: Plan, requires: tuple[Requirement, ...], fixed: dict[str, Any]
) -> Guard:
    before, after = graphql_compat.info_parts(
        **fixed,
        schema=schema,
        fragments=plan.fragments,
        root_value=None,
        operation=plan.operation,
    )
    return Guard(requires, before, after)


def _uses_variables(value: Any) -> bool:
    if isinstance(value, VariableNode):
        return True
    for attr in ("values", "fields"):
        for item in getattr(value, attr, None) or ():
            if _uses_variables(getattr(item, "value", item)):
                return True
    return False
