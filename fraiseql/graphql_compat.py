"""What differs between graphql-core 3.2 and 3.3, detected once at import, in one place.

The fast path hands resolvers the `GraphQLResolveInfo` graphql-core itself would build, and
reads variables the way the installed version represents them: 3.2 passes the coerced
dict, 3.3 a `VariableValues(sources, coerced)` and, in the info, an abort signal and async
helpers. Only public names are used; the info's field order is read from the class.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any

import graphql
from graphql import GraphQLResolveInfo
from graphql.execution import values as _values
from graphql.pyutils import is_awaitable

# True from 3.3 on: variables travel as VariableValues(sources, coerced).
WRAPPED_VARIABLES: bool = hasattr(_values, "VariableValues")

# True from 3.3 on: the error of a non-null root that nulls the data comes after the errors
# of the roots settled meanwhile; 3.2 collects it in root order with the others.
NULLING_ERROR_LAST: bool = WRAPPED_VARIABLES

INFO_FIELDS: tuple[str, ...] = GraphQLResolveInfo._fields
# The two fields a request decides, side by side in 3.2 and 3.3; every other field is fixed
# per compiled root field, so the info is built positionally around them.
_REQUEST_AT = INFO_FIELDS.index("variable_values")
if INFO_FIELDS[_REQUEST_AT + 1] != "context":
    raise ImportError(f"fraiseql: unsupported GraphQLResolveInfo layout {INFO_FIELDS}")


def empty_variables() -> Any:
    """The variables of an operation that defines none, as graphql-core passes them."""
    return _values.VariableValues({}, {}) if WRAPPED_VARIABLES else {}


def variable_signature(schema: graphql.GraphQLSchema, definition: Any) -> Any:
    """What 3.3 records of a variable definition beside its value (None on 3.2, or when
    graphql-core cannot make it: then graphql-core coerces the variables itself)."""
    if not WRAPPED_VARIABLES:
        return None
    from graphql.execution.get_variable_signature import get_variable_signature

    signature = get_variable_signature(schema, definition)
    return None if isinstance(signature, graphql.GraphQLError) else signature


def variable_values(signatures: dict[str, Any], inputs: dict[str, Any], coerced: Any) -> Any:
    """Coerced variables as graphql-core passes them: 3.2 the dict, 3.3 the dict with each
    variable's source (its input value when given, else none: a default or unset)."""
    if not WRAPPED_VARIABLES:
        return coerced
    source = _values.VariableValueSource
    sources = {
        name: source(signature, inputs[name]) if name in inputs else source(signature)
        for name, signature in signatures.items()
    }
    return _values.VariableValues(sources, coerced)


# ---------------------------------------------------------------- 3.3's async helpers

_background: set[asyncio.Future[Any]] = set()


def _track(items: Sequence[Any]) -> None:
    # As graphql-core's track_async_work: settle awaitables in the background, errors observed.
    awaitables = [item for item in items if is_awaitable(item)]
    if awaitables:
        future = asyncio.gather(*awaitables, return_exceptions=True)
        _background.add(future)
        future.add_done_callback(_background.discard)


def _gather(items: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
    return graphql.pyutils.gather_with_cancel(*items)  # type: ignore[no-any-return]


# Fields graphql-core 3.3 adds, as its executor fills them when no abort signal is given.
_DEFAULTS: dict[str, Any] = {"is_awaitable": is_awaitable, "abort_signal": None}
if "async_helpers" in INFO_FIELDS:
    _DEFAULTS["async_helpers"] = graphql.GraphQLResolveInfoHelpers(gather=_gather, track=_track)


# namedtuple's public constructor from one iterable: (*before, variable_values, context, *after)
make_info = GraphQLResolveInfo._make


def info_parts(**fixed: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The fields of a root field's info before and after (variable_values, context).

    `fixed` names the request-independent fields (field_name ... operation); the fields 3.3
    adds get what its executor gives them without an abort signal.
    """
    fields = {**_DEFAULTS, **fixed}
    before = tuple(fields[name] for name in INFO_FIELDS[:_REQUEST_AT])
    after = tuple(fields[name] for name in INFO_FIELDS[_REQUEST_AT + 2 :])
    return before, after


# ---------------------------------------------------------------- subscribe()

_NOT_A_STREAM = "Subscription field must return AsyncIterable."


async def subscribe(schema: graphql.GraphQLSchema, document: Any, **arguments: Any) -> Any:
    """graphql-core's `subscribe()`, awaited. A field that returns no stream is answered as
    3.3 answers it (a result with that error); 3.2 raises TypeError instead."""
    try:
        result = graphql.subscribe(schema, document, **arguments)
        return await result if is_awaitable(result) else result
    except TypeError as exc:
        if not str(exc).startswith(_NOT_A_STREAM):
            raise
        return graphql.ExecutionResult(None, [graphql.GraphQLError(str(exc))])
