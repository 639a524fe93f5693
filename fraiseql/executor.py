"""The executor: cached plans, a fast path for stored JSON, graphql-core for the rest.

Fast path: every root field of a query returns a `@fraiseql.type` whose whole selection is
stored JSON. Its resolver runs with a real `GraphQLResolveInfo`; what it returns (the bytes
the Repository rewrote, or Python data that the C rewriter rewrites) is spliced into the
response by concatenation. When a root resolver raises or a null needs propagation,
graphql-core answers those roots from what their resolvers did (fraiseql.replay: no
resolver runs twice), which gives the exact result the spec asks for. Root fields that
stored JSON does not serve are answered by graphql-core alongside the fast ones.

A mutation whose context["db"] is a pool runs on one connection in one transaction; any
error in its response, or a refusal as its value (fraiseql.results), rolls the transaction
back, and a COMMIT that fails replaces the response with that error
(TRANSACTION_OUTCOME_UNKNOWN when no one can tell whether it held). A mutation of one root
field returning a union (a typed result) takes the fast path: the stored documents its value
carries are rewritten in C, never decoded.

A root of a union or interface type gets Documents from the Repository (fraiseql.documents):
each value is written under the selection of the member it is (its class, the read model
it came from) or, for dicts and documents of no known model, the member its discriminator
key names, in C.
"""

from __future__ import annotations

import asyncio
import enum as py_enum
import json
from collections.abc import Awaitable
from decimal import Decimal
from inspect import isawaitable
from json.encoder import c_make_encoder, encode_basestring
from types import CoroutineType
from typing import Any, NamedTuple

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    OperationType,
)
from graphql import execute as graphql_execute
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.pyutils import Path

from fraiseql import constraints, graphql_compat, permissions, retry, tracing
from fraiseql._native import native as _native
from fraiseql.arguments import DEFAULT_MAX_LIMIT, FieldArguments
from fraiseql.collect import Uncollectable, collect_fields
from fraiseql.current import Field, current_field
from fraiseql.documents import STORED, Document
from fraiseql.errors import (
    DatabaseError,
    PoolOverloadedError,
    TransactionOutcomeUnknownError,
    TransactionRollbackError,
)
from fraiseql.lru import CacheStats, LRUCache
from fraiseql.masking import format_errors, relocation
from fraiseql.plan import (
    Limits,
    Plan,
    RootField,
    Variant,
    build_plan,
    compile_roots,
    restricted_document,
)
from fraiseql.plan_cache import (
    DEFAULT_CACHE_BYTES,
    DEFAULT_CACHE_SIZE,
    Binding,
    ShapeCache,
    plan_bytes,
    traced,
)
from fraiseql.replay import Outcome, RootFailed, merge_errors, middleware
from fraiseql.results import MutationState, current_mutation
from fraiseql.scalars import StoredFloat, leaf_text
from fraiseql.schema import build_schema, plain_value
from fraiseql.types import Registry, field_names, get_registry

_WRAPPED = graphql_compat.WRAPPED_VARIABLES
_make_info = graphql_compat.make_info


class _JSONNumber(str):
    """A Decimal's digits, written into the response as a JSON number (not a string)."""

    __slots__ = ()


class _HasDecimal(Exception):
    """The value holds a Decimal: encode it again with the number-writing encoder."""


def _leaf(value: Any) -> Any:
    # Python values that are not JSON, written as the scalar registry says: ISO 8601 dates,
    # UUID as text, enums by value (the fast path only takes enums whose values are their
    # names), a Decimal as a number with its digits (as a stored JSON number is copied).
    if isinstance(value, py_enum.Enum):
        return value.value
    text = leaf_text(value)
    return str(value) if text is None else text


def _leaf_no_decimal(value: Any) -> Any:
    if isinstance(value, Decimal):
        raise _HasDecimal
    return _leaf(value)


def _leaf_decimal(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _JSONNumber(leaf_text(value))
    return _leaf(value)


def _string(text: str) -> str:
    return text if type(text) is _JSONNumber else encode_basestring(text)


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_leaf_no_decimal)
# The C encoder with a string hook, since no stdlib encoder writes a number's own digits;
# a hook call per string, so only for values holding a Decimal.
_encode_decimals = c_make_encoder(None, _leaf_decimal, _string, None, ":", ",", False, False, True)


def dumps(value: Any) -> bytes:
    """Compact JSON bytes of resolver data (datetime, date, UUID, Decimal, enums included)."""
    try:
        return _ENCODER.encode(value).encode()
    except _HasDecimal:
        return "".join(_encode_decimals(value, 0)).encode()


# Values `dumps` writes as they are: a dict of only these is one encoder call.
_PLAIN = frozenset((str, int, float, bool, type(None)))


def result_json(value: Any) -> bytes:
    """JSON of a resolver's value for the rewriter: objects of declared classes as their
    fields (Python names, as stored keys are), Documents spliced in as stored."""
    if isinstance(value, Document):
        return bytes(value)
    if isinstance(value, dict):
        if all(type(v) in _PLAIN for v in value.values()):
            return dumps(value)
        return _object_json(value.items())
    if isinstance(value, (list, tuple)):
        return b"[" + b",".join(result_json(v) for v in value) + b"]"
    if hasattr(value, "__dict__") and not isinstance(value, type):
        names = field_names(type(value))
        return _object_json((name, getattr(value, name, None)) for name in names)
    return dumps(value)


def _object_json(items: Any) -> bytes:
    pairs = (encode_basestring(str(k)).encode() + b":" + result_json(v) for k, v in items)
    return b"{" + b",".join(pairs) + b"}"


def exact_numbers(data: Any) -> Any:
    """graphql-core's result data with each stored Float as its digits (a Decimal, which
    `dumps` writes as a number): what the rewriter writes for the same document."""
    kind = type(data)
    if kind is dict:
        return {k: exact_numbers(v) for k, v in data.items()}
    if kind is list:
        return [exact_numbers(v) for v in data]
    if kind is StoredFloat:
        return Decimal(data.text)
    return data


def format_response(
    data: Any,
    errors: list[GraphQLError] | None,
    *,
    with_data: bool = True,
    debug: bool = False,
    request_id: str | None = None,
) -> bytes:
    """The response document: `errors` first when present (unexpected ones masked unless
    `debug`, see fraiseql.masking), then `data` (if executed)."""
    out: dict[str, Any] = {}
    if errors:
        out["errors"] = format_errors(errors, debug=debug, request_id=request_id)
    if with_data:
        out["data"] = exact_numbers(data)
    return dumps(out)


class Response(NamedTuple):
    """A response body; whether it has errors, and whether those are request errors (no `data`)."""

    body: bytes
    has_errors: bool = False
    request_error: bool = False


def _refuse_if_overloaded(errors: list[GraphQLError] | None) -> None:
    """A field the pool refused for overload refuses the whole request (an HTTP 503): it
    is retried as a whole, never answered in part."""
    for error in errors or ():
        if isinstance(error.original_error, PoolOverloadedError):
            raise error.original_error


def _directive_key(plan: Plan, coerced: dict[str, Any]) -> tuple[Any, ...]:
    # The values themselves: a null one must not reuse what was found for false.
    return tuple(coerced.get(name) for name in plan.directive_vars) if plan.directive_vars else ()


def _error_response(error: GraphQLError, masking: _Masking) -> Response:
    """A response of one error and no data, worded as `masking` says."""
    return Response(format_response(None, [error], **masking._asdict()), True)


def _failed(exc: Exception, masking: _Masking) -> Response:
    return _error_response(GraphQLError(str(exc), original_error=exc), masking)


def _request_error(errors: list[GraphQLError]) -> Response:
    return Response(format_response(None, errors, with_data=False), True, True)


class _Masking(NamedTuple):
    """How one request words its unexpected errors (see fraiseql.masking)."""

    debug: bool
    request_id: str | None


_NOT_COMPILED = object()

OUTCOME_UNKNOWN_CODE = "TRANSACTION_OUTCOME_UNKNOWN"
OUTCOME_UNKNOWN_MESSAGE = (
    "The connection to the database was lost while the mutation was being committed, and "
    "whether it was applied could not be learnt; check before sending it again."
)

SUBSCRIPTION_NOT_STREAMED = (
    "A subscription is a stream of responses: subscribe over WebSocket (graphql-transport-ws) "
    "at the GraphQL path."
)

# Compiled @include/@skip variants kept per plan; further combinations are compiled per request.
MAX_VARIANTS = 16


class _Rollback(Exception):
    """Leaves a mutation's transaction block so that it rolls back; carries the response."""

    def __init__(self, response: Response) -> None:
        super().__init__("rollback")
        self.response = response


def _is_pool(context: Any) -> bool:
    """A context whose "db" is a pool: mutations then get a connection and a transaction."""
    return isinstance(context, dict) and hasattr(context.get("db"), "acquire")


class Executor:
    """Runs GraphQL documents against one schema, with a plan cache and limits."""

    def __init__(
        self,
        schema: GraphQLSchema | None = None,
        *,
        registry: Registry | None = None,
        limits: Limits | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        cache_bytes: int | None = DEFAULT_CACHE_BYTES,
        debug: bool = False,
        max_limit: int | None = None,
    ) -> None:
        # What built the schema, to build it again once the exposed commands are declared.
        self.registry: Registry | None = None
        self._max_limit = DEFAULT_MAX_LIMIT if max_limit is None else max_limit
        if schema is None:
            self.registry = registry or get_registry()
            schema = build_schema(self.registry, max_limit=self._max_limit)
        elif max_limit is not None or registry is not None:
            raise ValueError(
                "registry and max_limit build the schema: with a schema given, pass them to "
                "build_schema(registry, max_limit=...)"
            )
        self.schema = schema
        self._built = self.registry.version if self.registry is not None else None
        # Unexpected errors: masked with a request id (False) or shown in full (True).
        self.debug = debug
        self.limits = limits or Limits()
        self._new_caches(cache_size, cache_bytes)
        # How many requests each path answered (observability, and the tests' evidence).
        self.fast_runs = 0
        self.graphql_core_runs = 0
        self._text_misses = 0
        # Some mutation can answer a constraint violation as its error member: the catalog
        # of constraints is read before such a mutation's transaction (fraiseql.constraints).
        self.refusable = _refusable(schema)

    async def load_commands(self, db: Any) -> None:
        """Declare the commands `fraiseql.expose` generates from their tables (read on `db`)
        and rebuild the schema with them; nothing to do when it was given a schema."""
        from fraiseql.generated_commands import load_commands

        if self.registry is None or not self.registry.commands:
            return
        await load_commands(db, self.registry)
        if self._built != self.registry.version:  # declared now, or for another executor
            self._built = self.registry.version
            self.schema = build_schema(self.registry, max_limit=self._max_limit)
            self.refusable = _refusable(self.schema)
            self._new_caches(self.plans.maxsize, self.plans.max_bytes)

    def _new_caches(self, cache_size: int, cache_bytes: int | None) -> None:
        # Plans by document text, and by shape for documents with literals (the bounds
        # are each cache's: entries, and bytes as fraiseql.plan_cache estimates them).
        self.plans = LRUCache(cache_size, cache_bytes)
        self.shapes = ShapeCache(self.schema, self.limits, cache_size, cache_bytes)
        self._last_plan: tuple[Any, Any, Any, Any] = (_NOT_COMPILED, _NOT_COMPILED, None, None)

    @property
    def plan_misses(self) -> int:
        """Plans built, by text or by shape: cache misses (fraiseql.metrics)."""
        return self._text_misses + self.shapes.compiled

    def cache_stats(self) -> dict[str, CacheStats]:
        """Hits, misses, evictions, entries and estimated bytes of the plan caches: by
        document text ("plans") and by shape ("shapes"; a document its shape answers counts
        a miss by text first)."""
        return {"plans": self.plans.stats(), "shapes": self.shapes.entries.stats()}

    def plan(self, query: str, operation_name: str | None) -> Plan:
        """The cached plan of a document's own text, built on first use."""
        last = self._last_plan  # a server under load mostly repeats its previous document
        if last[0] == query and last[1] == operation_name and last[3] is None:
            return last[2]  # type: ignore[no-any-return]
        plan = self.plans.get((query, operation_name)) or self._build(query, operation_name)
        self._last_plan = (query, operation_name, plan, None)
        return plan

    def _build(self, query: str, operation_name: str | None) -> Plan:
        self._text_misses += 1
        plan = traced(build_plan, self.schema, query, operation_name, self.limits)
        self.plans.put((query, operation_name), plan, plan_bytes(query))
        return plan  # type: ignore[no-any-return]

    def bind(self, query: str, operation_name: str | None) -> tuple[Plan, Binding | None]:
        """The plan a request runs: its document's own, or for a document with literals
        that of its shape, with the binding of its literals (see fraiseql.plan_cache)."""
        last = self._last_plan
        if last[0] == query and last[1] == operation_name:
            return last[2], last[3]
        plan = self.plans.get((query, operation_name))
        if plan is None:
            binding = self.shapes.bind(query, operation_name)
            if binding is not None:
                self._last_plan = (query, operation_name, binding.plan, binding)
                return binding.plan, binding
            plan = self._build(query, operation_name)
        self._last_plan = (query, operation_name, plan, None)
        return plan, None

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
        context: Any = None,
        *,
        debug: bool | None = None,
        request_id: str | None = None,
    ) -> bytes:
        """The response JSON of one GraphQL request.

        `debug` (default: the executor's) shows unexpected errors in full instead of masking
        them; `request_id` is the id masked errors and their log lines carry (made up if None).
        Raises PoolOverloadedError when the pool refused a field for overload.
        """
        out = await self._run(query, variables, operation_name, context, debug, request_id)
        return out if type(out) is bytes else out.body  # type: ignore[union-attr]

    async def run(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
        context: Any = None,
        *,
        debug: bool | None = None,
        request_id: str | None = None,
    ) -> Response:
        """Like `execute`, also telling whether the request itself was rejected."""
        out = await self._run(query, variables, operation_name, context, debug, request_id)
        return Response(out) if type(out) is bytes else out  # type: ignore[return-value]

    async def _run(
        self,
        query: str,
        variables: Any,
        operation_name: str | None,
        context: Any,
        debug: bool | None,
        request_id: str | None,
    ) -> Response | bytes:
        # bytes: the fast path's body without errors (no Response built on the hot path).
        plan, binding = self.bind(query, operation_name)
        if binding is None:
            return await self._run_plan(plan, variables, operation_name, context, debug, request_id)
        token = relocation.set(binding.relocate)  # its errors point into the document as sent
        try:
            variables = binding.variables(variables)
            return await self._run_plan(plan, variables, operation_name, context, debug, request_id)
        finally:
            relocation.reset(token)

    async def _run_plan(
        self,
        plan: Plan,
        variables: Any,
        operation_name: str | None,
        context: Any,
        debug: bool | None,
        request_id: str | None,
    ) -> Response | bytes:
        if plan.errors:
            return _request_error(plan.errors)
        assert plan.operation is not None
        if plan.operation.operation == OperationType.SUBSCRIPTION:  # see fraiseql.subscriptions
            return _request_error([GraphQLError(SUBSCRIPTION_NOT_STREAMED, plan.operation)])
        values = self.variable_values(plan, variables)
        if type(values) is list:
            return _request_error(values)
        coerced = values.coerced if _WRAPPED else values
        if plan.cost is not None:  # list sizes from variables: priced before anything runs
            error = plan.cost.check(coerced)
            if error is not None:
                return _request_error([error])
        if plan.operation.operation == OperationType.MUTATION and _is_pool(context):
            masking = self._masking(debug, request_id)
            variant = self._variant(plan, coerced)
            if variant is not None and variant.guarded:
                if not await _allowed(variant, values, context):
                    variant = None
            attempts = 1 + self._retries(plan, coerced)
            return await self._run_mutation(
                plan,
                variant,
                (coerced, values, variables),
                operation_name,
                context,
                masking,
                attempts,
            )
        variant = self._variant(plan, coerced)
        if variant is not None and variant.guarded:
            # A refused field: graphql-core answers the whole request, asking per field, so
            # the rewriter never writes its value; asked before any resolver runs.
            if not await _allowed(variant, values, context):
                variant = None
        if variant is not None:
            roots = variant.roots
            if len(roots) == 1 and variant.core_document is None:  # inlined: the common case
                root = roots[0]
                try:
                    fragment = await self._root(root, coerced, values, context)
                except Exception as exc:
                    return await self._replay(
                        plan, variant, [exc], None, variables, context, debug, request_id
                    )
                self.fast_runs += 1
                # One join: the fragment (tens of KB for lists) is copied once.
                return b"".join((b'{"data":{', root.prefix, fragment, b"}}"))
            return await self._run_fast(
                plan, variant, coerced, values, variables, context, debug, request_id
            )
        return await self._run_graphql_core(
            plan.document, variables, operation_name, context, self._masking(debug, request_id)
        )

    def variable_values(self, plan: Plan, variables: Any) -> Any:
        """The operation's variables as graphql-core passes them to resolvers (3.3 wraps
        them with their sources: `.coerced` is the plain dict), or the request errors that
        coercing them gives. One coercion for queries, mutations and subscriptions alike."""
        if variables is not None and not isinstance(variables, dict):
            return [GraphQLError("Variables must be an object.")]
        definitions = plan.operation.variable_definitions  # type: ignore[union-attr]
        if not definitions:
            return graphql_compat.empty_variables() if _WRAPPED else {}
        if plan.variables is not None:  # 3.3's sources included (graphql_compat)
            values = plan.variables.coerce(variables or {})
            if values is not None:
                return values
        # graphql-core coerces (again), and words any error
        return get_variable_values(self.schema, definitions, variables or {})

    def _masking(self, debug: bool | None, request_id: str | None) -> _Masking:
        # Built off the inlined fast path, which has no errors to word.
        return _Masking(self.debug if debug is None else debug, request_id)

    # ------------------------------------------------------------ graphql-core path

    async def _graphql_core(
        self,
        document: DocumentNode,
        variables: Any,
        operation_name: str | None,
        context: Any,
        replaying: list[Any] | None = None,
    ) -> ExecutionResult:
        # replaying: the fast path's failed roots, already traced there
        tracer = tracing.current.get()
        result: Any = graphql_execute(
            self.schema,
            document,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
            middleware=replaying
            if replaying or tracer is None
            else [tracing.root_field_middleware(tracer)],
        )
        if isawaitable(result):
            result = await result
        return result  # type: ignore[no-any-return]

    async def _run_mutation(
        self,
        plan: Plan,
        variant: Variant | None,
        inputs: tuple[dict[str, Any], Any, Any],
        operation_name: str | None,
        context: dict[str, Any],
        masking: _Masking,
        attempts: int,
    ) -> Response:
        # One connection and one transaction for the whole mutation: it reads back its own
        # writes, and any error in the response, or a refusal, rolls everything back. A
        # deadlock or serialization failure re-runs the whole transaction while attempts remain.
        coerced, values, variables = inputs
        pool = context["db"]
        if self.refusable:  # read before a violation could abort the transaction
            await constraints.ensure(pool)
        state = MutationState(pool)
        token = current_mutation.set(state)
        try:
            async with pool.acquire() as conn:
                scoped = {**context, "db": conn}
                attempt = 0
                while True:
                    attempt += 1
                    state.refused = state.rolled_back = False
                    try:
                        async with conn.transaction():
                            if variant is not None:
                                response = await self._typed_root(
                                    plan, variant, coerced, values, variables, scoped, masking
                                )
                            else:
                                response = await self._run_graphql_core(
                                    plan.document, variables, operation_name, scoped, masking
                                )
                            if response.has_errors or state.refused:
                                raise _Rollback(response)
                        return response
                    except _Rollback as rollback:
                        if not (state.rolled_back and attempt < attempts):
                            return rollback.response
                    except TransactionRollbackError as exc:  # COMMIT failed: nothing was written
                        typed = retry.typed(exc)
                        if typed is None or attempt >= attempts:
                            return _failed(typed or exc, masking)  # masked unless typed
                    except TransactionOutcomeUnknownError as exc:
                        error = GraphQLError(
                            OUTCOME_UNKNOWN_MESSAGE, extensions={"code": OUTCOME_UNKNOWN_CODE}
                        )
                        error.__cause__ = exc
                        return _error_response(error, masking)
                    except DatabaseError as exc:  # BEGIN or COMMIT failed: nothing was written
                        return _failed(exc, masking)  # masked unless debug
                    await retry.backoff(attempt)  # a deadlock or serialization failure
        finally:
            current_mutation.reset(token)

    def _retries(self, plan: Plan, coerced: dict[str, Any]) -> int:
        """The re-runs a mutation document allows (fraiseql.retry): its roots' fewest,
        found once per plan and directive values."""
        key = _directive_key(plan, coerced)
        found = plan.retries.get(key)
        if found is None:
            found = self._count_retries(plan, coerced)
            if len(plan.retries) < MAX_VARIANTS:  # bounded as the variants are
                plan.retries[key] = found
        return found

    def _count_retries(self, plan: Plan, coerced: dict[str, Any]) -> int:
        mutation_type = self.schema.mutation_type
        if mutation_type is None or plan.operation is None:
            return 0
        try:
            roots = collect_fields(
                self.schema, plan.fragments, coerced, mutation_type, [plan.operation.selection_set]
            )
        except Uncollectable:
            return 0
        fns = []
        for nodes in roots.values():
            fdef = mutation_type.fields.get(nodes[0].name.value)
            info = (fdef.extensions or {}).get("fraiseql") if fdef else None
            fns.append(getattr(info, "fn", None))
        return retry.retries(fns)

    async def _typed_root(
        self,
        plan: Plan,
        variant: Variant,
        coerced: dict[str, Any],
        values: Any,
        variables: Any,
        context: Any,
        masking: _Masking,
    ) -> Response:
        """A mutation's lone typed root on the fast path (graphql-core answers it from what
        its resolver did when the value does not fit the selection)."""
        root = variant.roots[0]
        try:
            fragment = await self._root(root, coerced, values, context)
        except Exception as exc:
            return await self._replay(plan, variant, [exc], None, variables, context, *masking)
        self.fast_runs += 1
        return Response(b"".join((b'{"data":{', root.prefix, fragment, b"}}")))

    async def _run_graphql_core(
        self,
        document: Any,
        variables: Any,
        operation_name: str | None,
        context: Any,
        masking: _Masking,
    ) -> Response:
        self.graphql_core_runs += 1
        result = await self._graphql_core(document, variables, operation_name, context)
        _refuse_if_overloaded(result.errors)
        body = format_response(result.data, result.errors, **masking._asdict())
        return Response(body, bool(result.errors))

    # ------------------------------------------------------------ fast path

    def _variant(self, plan: Plan, coerced: dict[str, Any]) -> Variant | None:
        key = _directive_key(plan, coerced)
        found = plan.variants.get(key, _NOT_COMPILED)
        if found is not _NOT_COMPILED:
            return found  # type: ignore[return-value]
        variant = compile_roots(self.schema, plan, coerced)
        root_type = self.schema.get_root_type(plan.operation.operation)  # type: ignore[union-attr]
        for root in variant.roots if variant else ():
            if root.tree is not None:
                root.selection = to_native(root.tree)
                root.field = Field(root.selection, root.object_type)
                if root.tree[0] is None:  # a union or interface: its members' own
                    root.members = {m[0]: to_native(m) for _, _, m, _ in root.tree[1]}
                    possible = self.schema.get_possible_types(root.object_type)
                    root.classes = {t.extensions["fraiseql"].cls: t.name for t in possible}
                    root.field = Field(STORED, root.object_type)
                # The request-independent part of the GraphQLResolveInfo this root gets.
                root.info_before, root.info_after = graphql_compat.info_parts(
                    field_name=root.field_name,
                    field_nodes=root.nodes,
                    return_type=root.field_def.type,
                    parent_type=root_type,
                    path=Path(None, root.key, root_type.name),  # type: ignore[union-attr]
                    schema=self.schema,
                    fragments=plan.fragments,
                    root_value=None,
                    operation=plan.operation,
                )
        if variant is not None:
            variant.guarded = any(root.guards for root in variant.roots)
        if len(plan.variants) < MAX_VARIANTS:  # 2**n combinations must not grow memory unbounded
            plan.variants[key] = variant
        return variant

    async def _run_fast(
        self,
        plan: Plan,
        variant: Variant,
        coerced: dict[str, Any],
        values: Any,
        variables: Any,
        context: Any,
        debug: bool | None,
        request_id: str | None,
    ) -> Response:
        roots = variant.roots
        jobs = [self._root(r, coerced, values, context) for r in roots if not r.core]
        if variant.core_document is not None:
            jobs.append(self._graphql_core(variant.core_document, variables, _name(plan), context))
        results = await asyncio.gather(*jobs, return_exceptions=True)
        for item in results:
            if isinstance(item, BaseException) and not isinstance(item, Exception):
                raise item
        core: ExecutionResult | None = results.pop() if variant.core_document is not None else None  # type: ignore[assignment]
        if isinstance(core, Exception):
            raise core
        if any(isinstance(item, Exception) for item in results) or (
            core is not None and core.data is None
        ):
            return await self._replay(
                plan, variant, results, core, variables, context, debug, request_id
            )
        self.fast_runs += 1
        errors = core.errors if core is not None else None
        _refuse_if_overloaded(errors)
        body = _assemble(roots, results, core, errors, self._masking(debug, request_id))
        return Response(body, bool(errors))

    async def _replay(
        self,
        plan: Plan,
        variant: Variant,
        results: list[Any],
        core: ExecutionResult | None,
        variables: Any,
        context: Any,
        debug: bool | None,
        request_id: str | None,
    ) -> Response:
        """The answer when fast roots failed (`results`: each fast root's fragment or
        exception) or graphql-core's roots nulled the data: the failed roots are answered by
        graphql-core from their recorded outcomes (see fraiseql.replay), never run again."""
        self.graphql_core_runs += 1
        fast = [r for r in variant.roots if not r.core]
        outcomes = {
            r.key: item.outcome if isinstance(item, RootFailed) else Outcome.now(item, None, True)
            for r, item in zip(fast, results, strict=True)
            if isinstance(item, Exception)
        }
        replayed = None
        if outcomes:
            document = restricted_document(
                plan, [node for r in fast if r.key in outcomes for node in r.nodes]
            )
            replayed = await self._graphql_core(
                document, variables, _name(plan), context, [middleware(outcomes)]
            )
        errors, nulled = merge_errors([r.key for r in variant.roots], replayed, core)
        _refuse_if_overloaded(errors)
        masking = self._masking(debug, request_id)
        if nulled:
            return Response(format_response(None, errors, **masking._asdict()), True)
        pieces = [  # the failed roots' data as graphql-core completed it
            replayed.data[r.key] if isinstance(item, Exception) else item  # type: ignore[union-attr]
            for r, item in zip(fast, results, strict=True)
        ]
        return Response(_assemble(variant.roots, pieces, core, errors, masking), True)

    def _root(
        self, root: RootField, coerced: dict[str, Any], values: Any, context: Any
    ) -> Awaitable[bytes]:
        """The fragment of one fast root field; in a span of its own when traced."""
        resolving = self._resolve(root, coerced, values, context)
        tracer = tracing.current.get()
        if tracer is None:
            return resolving
        return tracing.field_span(tracer, root.key, root.field_name, resolving)

    async def _resolve(
        self, root: RootField, coerced: dict[str, Any], values: Any, context: Any
    ) -> bytes:
        if root.fn is None:
            return b'"' + self.schema.query_type.name.encode() + b'"'  # type: ignore[union-attr]
        info, args, field = bind_root(root, coerced, values, context)
        # While set, Repository.find_one/find return this field's fragment, rewritten in C,
        # from the sql_source of the field's type unless they name a view.
        token = current_field.set(field)
        at_call = True  # whether what it did happened at the call (see fraiseql.replay)
        try:
            value = root.fn(info, **args)  # type: ignore[misc]
            if type(value) is CoroutineType or isawaitable(value):
                at_call = False
                value = await value
        except Exception as exc:
            raise RootFailed(Outcome.now(exc, None, at_call)) from exc
        finally:
            current_field.reset(token)
        if type(value) is bytes and value != b"null":  # the Repository's fragment, as is
            return value
        try:
            return self.fragment(root, value)
        except Exception as exc:  # graphql-core completes the value (null propagation),
            # as its resolver hands it over (a fragment can only fail as b"null": None)
            raise RootFailed(Outcome.now(None, plain_value(value), at_call)) from exc

    def stream_root(self, plan: Plan, coerced: dict[str, Any]) -> RootField | None:
        """The root field of a subscription when the fast path serves it (one root, stored
        JSON), compiled for these @include/@skip values; None: graphql-core streams it."""
        variant = self._variant(plan, coerced)
        if variant is None or len(variant.roots) != 1 or variant.roots[0].core:
            return None
        return variant.roots[0]

    def fragment(self, root: RootField, value: Any) -> bytes:
        """The response fragment of what a fast root's function gave: a Repository's bytes
        as they are, Python data rewritten in C; raises when graphql-core must complete it
        (a null in a non-null root, a value the selection cannot take)."""
        if root.members is not None:
            fragment = _abstract_fragment(root, value, root.field_def.type)
        elif isinstance(value, (bytes, bytearray, memoryview)):
            fragment = bytes(value)
        elif value is None:
            fragment = b"null"
        else:
            fragment = _native.rewrite(dumps(value), root.selection)
        if fragment == b"null" and isinstance(root.field_def.type, GraphQLNonNull):
            raise _NullInNonNull
        return fragment


def bind_root(
    root: RootField, coerced: dict[str, Any], values: Any, context: Any
) -> tuple[Any, dict[str, Any], Field]:
    """What a fast root's function is called with, `root.fn(info, **args)`, and the Field
    to set in `current_field` meanwhile (its generated where/orderBy/... for the Repository).
    Raises the error graphql-core gives for arguments it must coerce itself."""
    args = root.args.values(coerced) if root.args is not None else None
    if args is None:
        args = get_argument_values(root.field_def, root.nodes[0], values)
    info = _make_info((*root.info_before, values, context, *root.info_after))
    field = root.field
    if root.generated is not None:  # its generated arguments go to the Repository
        args = dict(args)
        picked = {name: args.pop(name) for name in root.generated.names if name in args}
        field = field._replace(arguments=FieldArguments(root.generated, picked, root.total))
    return info, args, field


def _refusable(schema: GraphQLSchema) -> bool:
    mutation = schema.mutation_type
    for fdef in mutation.fields.values() if mutation is not None else ():
        info = (fdef.extensions or {}).get("fraiseql")
        if getattr(getattr(info, "fn", None), "error_member", None) is not None:
            return True
    return False


async def _allowed(variant: Variant, values: Any, context: Any) -> bool:
    """Whether every requirement of the fields the roots select allows (one that refuses or
    fails is graphql-core's to word, where it is asked again)."""
    try:
        for root in variant.roots:
            for guard in root.guards:
                info = _make_info((*guard.info_before, values, context, *guard.info_after))
                pending = permissions.check(guard.requires, info)
                if pending is not None:
                    await pending
    except Exception:  # noqa: BLE001 - a refusal or a failing predicate
        return False
    return True


class _NullInNonNull(Exception):
    """A non-null root's value is null: graphql-core words the error."""


def _abstract_fragment(root: RootField, value: Any, gql: Any) -> bytes:
    """The fragment of a union or interface root's value (of GraphQL type `gql`): each
    object under its member's selection; anything else graphql-core's to complete."""
    inner = gql.of_type if isinstance(gql, GraphQLNonNull) else gql
    if value is None:
        if inner is not gql:
            raise _NullInNonNull
        return b"null"
    if isinstance(value, Document):
        members = root.members or {}
        selection = root.selection if value.typename is None else members[value.typename]
        fragment = _native.rewrite(value, selection)
        if fragment == b"null" and inner is not gql:
            raise _NullInNonNull
        return fragment
    if isinstance(inner, GraphQLList):
        if not isinstance(value, (list, tuple)):
            raise _NullInNonNull  # graphql-core words what a list cannot be
        items = [_abstract_fragment(root, item, inner.of_type) for item in value]
        return b"[" + b",".join(items) + b"]"
    if isinstance(value, dict):
        return _native.rewrite(result_json(value), root.selection)
    name = root.classes[type(value)]  # type: ignore[index]
    return _native.rewrite(result_json(value), root.members[name])  # type: ignore[index]


def _name(plan: Plan) -> str | None:
    return plan.operation.name.value if plan.operation.name else None  # type: ignore[union-attr]


def _assemble(
    roots: list[RootField],
    results: list[Any],
    core: ExecutionResult | None,
    errors: list[GraphQLError] | None,
    masking: _Masking,
) -> bytes:
    """The response of the roots in order: each fast root's piece (`results`: its fragment,
    or for a replayed one the data graphql-core gave it) or graphql-core's data for the
    roots it answered; `errors` first when present."""
    parts: list[bytes] = []
    if errors:
        parts += (b'{"errors":', dumps(format_errors(errors, **masking._asdict())), b',"data":{')
    else:
        parts.append(b'{"data":{')
    fast = iter(results)
    for i, r in enumerate(roots):
        if r.core:
            piece = dumps(exact_numbers(core.data[r.key]))  # type: ignore[union-attr]
        else:
            item = next(fast)
            piece = item if type(item) is bytes else dumps(exact_numbers(item))
        parts += (b"," if i else b"", r.prefix, piece)
    parts.append(b"}}")
    return b"".join(parts)


def to_native(tree: Any) -> Any:
    """A tuple tree (see fraiseql.plan) as the C rewriter's `Selection`."""
    typename, fields = tree
    return _native.Selection(
        typename,
        [
            (
                out,
                src,
                None if child is None else to_native(child),
                0 if src is None else flags,
            )
            for out, src, child, flags in fields
        ],
    )


# ---------------------------------------------------------------- module-level API

_default: tuple[int, Registry, Executor] | None = None


def default_executor() -> Executor:
    """The executor of the default registry, rebuilt whenever the registry changes."""
    global _default
    registry = get_registry()
    if _default is None or _default[1] is not registry or _default[0] != registry.version:
        _default = (registry.version, registry, Executor(build_schema(registry)))
    return _default[2]


async def execute(
    query: str,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
    context: Any = None,
    *,
    debug: bool = False,
    request_id: str | None = None,
) -> bytes:
    """Run one GraphQL request against the declared schema; returns the response JSON.

    Unexpected errors are masked ("Internal server error" and a request id, the traceback
    logged by the "fraiseql" logger) unless `debug`; see `Executor.execute`.
    """
    return await default_executor().execute(
        query, variables, operation_name, context, debug=debug, request_id=request_id
    )
