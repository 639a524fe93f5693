"""Database exceptions, catchable by kind; server errors keep PostgreSQL's SQLSTATE.

They are plain Python classes (the C driver builds them through `make_error`), so users
can subclass, pickle and extend the SQLSTATE map without touching C.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DatabaseError",
    "InterfaceError",
    "OperationalError",
    "PoolTimeoutError",
    "PoolOverloadedError",
    "QueryCanceledError",
    "TransactionRollbackError",
    "TransactionOutcomeUnknownError",
    "ProgrammingError",
    "InsufficientPrivilegeError",
    "IntegrityError",
    "DataError",
    "NotSupportedError",
    "InternalError",
    "make_error",
]


class DatabaseError(Exception):
    """Base of every database error. `.sqlstate` is PostgreSQL's code (None for client errors)."""

    def __init__(
        self,
        message: str,
        *,
        sqlstate: str | None = None,
        detail: str | None = None,
        hint: str | None = None,
        fields: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate
        self.detail = detail
        self.hint = hint
        self.fields = fields or {}

    def __str__(self) -> str:
        text = self.message
        if self.detail:
            text += f"\nDETAIL: {self.detail}"
        if self.hint:
            text += f"\nHINT: {self.hint}"
        return text

    def __reduce__(self) -> Any:
        return (
            _rebuild,
            (type(self), self.message, self.sqlstate, self.detail, self.hint, self.fields),
        )

    @property
    def constraint_name(self) -> str | None:
        return self.fields.get("constraint_name")

    @property
    def table_name(self) -> str | None:
        return self.fields.get("table_name")

    @property
    def column_name(self) -> str | None:
        return self.fields.get("column_name")


def _rebuild(
    cls: type,
    message: str,
    sqlstate: str | None,
    detail: str | None,
    hint: str | None,
    fields: dict[str, str],
) -> DatabaseError:
    return cls(message, sqlstate=sqlstate, detail=detail, hint=hint, fields=fields)


class InterfaceError(DatabaseError):
    """The driver was misused (closed connection, wrong result shape, bad parameter)."""


class OperationalError(DatabaseError):
    """The connection could not be made or was lost, or the server is shutting down."""


class PoolTimeoutError(OperationalError, TimeoutError):
    """No pooled connection became free within the acquire timeout."""


class PoolOverloadedError(OperationalError):
    """max_waiting requests already wait for room in the pool: this one fails at once."""


class QueryCanceledError(OperationalError):
    """57014: cancelled on request or by statement_timeout."""


class TransactionRollbackError(OperationalError):
    """Class 40: serialization failure or deadlock; the transaction can be retried."""


class TransactionOutcomeUnknownError(OperationalError):
    """The connection was lost while COMMIT was in flight and no other connection could
    learn whether the transaction committed: it may or may not have. `.xid` is its id."""

    def __init__(self, message: str, *, xid: int | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.xid = xid


class ProgrammingError(DatabaseError):
    """Bad SQL: syntax error, unknown table or column, wrong parameter count."""


class InsufficientPrivilegeError(ProgrammingError):
    """42501, also raised when a row-level security policy rejects a write."""


class IntegrityError(DatabaseError):
    """Class 23: unique, foreign key, not-null or check constraint violated."""


class DataError(DatabaseError):
    """Class 22 or a value that could not be converted: bad input syntax, out of range."""


class NotSupportedError(DatabaseError):
    """Class 0A: feature not supported."""


class InternalError(DatabaseError):
    """Class XX and other server-internal conditions."""


# Exact codes first, then the two-character class.
_BY_CODE: dict[str, type[DatabaseError]] = {
    "57014": QueryCanceledError,
    "42501": InsufficientPrivilegeError,
    "08P01": ProgrammingError,  # protocol violation: e.g. wrong number of bind parameters
}
_BY_CLASS: dict[str, type[DatabaseError]] = {
    "08": OperationalError,
    "53": OperationalError,
    "57": OperationalError,
    "58": OperationalError,
    "40": TransactionRollbackError,
    "23": IntegrityError,
    "22": DataError,
    "42": ProgrammingError,
    "26": ProgrammingError,
    "34": ProgrammingError,
    "3D": ProgrammingError,
    "3F": ProgrammingError,
    "0A": NotSupportedError,
    "25": InternalError,
    "2D": InternalError,
    "XX": InternalError,
    "P0": InternalError,
}
_BY_KIND: dict[str, type[DatabaseError]] = {
    "connection": OperationalError,
    "interface": InterfaceError,
    "data": DataError,
}


def error_class(sqlstate: str | None) -> type[DatabaseError]:
    """The exception class for a SQLSTATE."""
    if not sqlstate:
        return DatabaseError
    return _BY_CODE.get(sqlstate) or _BY_CLASS.get(sqlstate[:2], DatabaseError)


def make_error(
    kind: str,
    sqlstate: str | None,
    message: str,
    detail: str | None = None,
    hint: str | None = None,
    fields: dict[str, str] | None = None,
) -> DatabaseError:
    """Build the exception for a failed request (called by the C driver)."""
    cls = error_class(sqlstate) if kind == "server" else _BY_KIND.get(kind, DatabaseError)
    return cls(message, sqlstate=sqlstate, detail=detail, hint=hint, fields=fields)
