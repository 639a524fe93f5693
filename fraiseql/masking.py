"""What clients see of errors: unexpected ones are masked and logged, deliberate ones kept.

Every error that reaches a response goes through `format_errors` (execution errors, on the
fast path and through graphql-core alike) or `internal_error` (a failure outside execution,
as the HTTP layer meets it), so both paths answer the same bytes. An error is deliberate
when it is a `GraphQLError` (raised by a resolver on purpose, or graphql-core's own words
for request and field errors) or a `fraiseql.CommandError` (a refused write: its message
and `extensions` with its code, `field` when it names one, and its details); any other
exception is unexpected: its text may carry SQL, constraint names or the database's host,
so clients get "Internal server error" with a request id, and the "fraiseql" logger gets
the traceback with the same id.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from graphql import GraphQLError

from fraiseql.command_error import CommandError

__all__ = ["INTERNAL_MESSAGE", "INTERNAL_CODE", "format_errors", "internal_error", "new_request_id"]

logger = logging.getLogger("fraiseql")

INTERNAL_MESSAGE = "Internal server error"
INTERNAL_CODE = "INTERNAL_SERVER_ERROR"

# Set while a document runs on the plan of its shape (fraiseql.plan_cache): maps a formatted
# error's locations from the document the plan was built from to the one sent.
relocation: ContextVar[Callable[[dict[str, Any]], dict[str, Any]] | None] = ContextVar(
    "relocation", default=None
)


def new_request_id() -> str:
    """A fresh id tying a masked error to its log line."""
    return uuid.uuid4().hex


def _unexpected(error: GraphQLError) -> BaseException | None:
    """The exception behind `error` when no one meant clients to read it, else None."""
    original = error.original_error
    if original is None or isinstance(original, (GraphQLError, CommandError)):
        return None
    tb = original.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    # graphql-core raises TypeError for its own spec'd messages ("Cannot return null ...").
    if tb is not None and tb.tb_frame.f_globals.get("__name__", "").startswith("graphql."):
        return None
    return original


def _extensions(exc: BaseException, request_id: str, debug: bool) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": INTERNAL_CODE, "requestId": request_id}
    if debug:
        extensions["exception"] = {
            "type": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "stacktrace": traceback.format_exception(type(exc), exc, exc.__traceback__),
        }
    return extensions


def _log(exc: BaseException, request_id: str, where: str) -> None:
    logger.error(
        "unexpected error %s (request %s)",
        where,
        request_id,
        exc_info=(type(exc), exc, exc.__traceback__),
    )


def format_errors(
    errors: Iterable[GraphQLError], *, debug: bool = False, request_id: str | None = None
) -> list[dict[str, Any]]:
    """The `errors` entry of a response; `request_id` is made up when one is needed and None."""
    out = []
    relocate = relocation.get()
    for error in errors:
        formatted = error.formatted if relocate is None else relocate(error.formatted)
        refused = error.original_error
        if isinstance(refused, CommandError):  # its code, field and details, however raised
            formatted["extensions"] = {**(formatted.get("extensions") or {}), **refused.extensions}
        exc = _unexpected(error)
        if exc is not None:
            request_id = request_id or new_request_id()
            path = ".".join(str(key) for key in error.path or ()) or "(no path)"
            _log(exc, request_id, f"at {path}")
            # str(): a DatabaseError's DETAIL and HINT too (graphql-core keeps `.message`).
            formatted["message"] = str(exc) if debug else INTERNAL_MESSAGE
            formatted["extensions"] = {
                **(formatted.get("extensions") or {}),
                **_extensions(exc, request_id, debug),
            }
        out.append(formatted)
    return out


def internal_error(
    exc: BaseException, *, debug: bool = False, request_id: str | None = None
) -> dict[str, Any]:
    """The one error of a request that failed outside execution; logged like the others."""
    request_id = request_id or new_request_id()
    _log(exc, request_id, "outside execution")
    return {
        "message": str(exc) if debug else INTERNAL_MESSAGE,
        "extensions": _extensions(exc, request_id, debug),
    }
