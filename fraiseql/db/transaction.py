"""Transaction: BEGIN ... COMMIT on one connection, savepoints when nested."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fraiseql.db.constants import MODE_STATUS
from fraiseql.errors import InterfaceError

if TYPE_CHECKING:
    from fraiseql.db.connection import Connection

_ISOLATION = {
    "read committed": "READ COMMITTED",
    "repeatable read": "REPEATABLE READ",
    "serializable": "SERIALIZABLE",
}


class Transaction:
    """Async context manager: BEGIN/COMMIT/ROLLBACK, or SAVEPOINT when nested."""

    def __init__(self, conn: Connection, isolation: str | None, readonly: bool) -> None:
        if isolation is not None and isolation.lower() not in _ISOLATION:
            raise InterfaceError(
                f"unknown isolation level {isolation!r}; use one of {sorted(_ISOLATION)}"
            )
        self._conn = conn
        self._isolation = isolation
        self._readonly = readonly
        self._savepoint: str | None = None

    async def __aenter__(self) -> Connection:
        conn = self._conn
        if conn.transaction_depth == 0:
            sql = "BEGIN"
            if self._isolation:
                sql += f" ISOLATION LEVEL {_ISOLATION[self._isolation.lower()]}"
            if self._readonly:
                sql += " READ ONLY"
            await conn.request(MODE_STATUS, sql, ())
        else:
            self._savepoint = conn.new_savepoint()
            await conn.request(MODE_STATUS, f"SAVEPOINT {self._savepoint}", ())
        conn.enter_transaction()
        return conn

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        conn = self._conn
        try:  # still inside while they are sent: no per-transaction settings ahead of them
            if conn.is_closed:
                return
            if exc_type is None:
                sql = f"RELEASE SAVEPOINT {self._savepoint}" if self._savepoint else "COMMIT"
                await conn.request(MODE_STATUS, sql, ())
                return
            if self._savepoint:
                await conn.request(MODE_STATUS, f"ROLLBACK TO SAVEPOINT {self._savepoint}", ())
                await conn.request(MODE_STATUS, f"RELEASE SAVEPOINT {self._savepoint}", ())
            else:
                await conn.request(MODE_STATUS, "ROLLBACK", ())
        finally:
            conn.leave_transaction()
