"""Transaction: BEGIN ... COMMIT on one connection, savepoints when nested.

A COMMIT whose connection is lost before its answer arrives may or may not have committed:
the transaction's id, taken just before, is then looked up with txid_status() on a new
connection, so the caller learns the truth (or TransactionOutcomeUnknownError).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from fraiseql.db.constants import MODE_STATUS, MODE_VAL
from fraiseql.errors import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    TransactionOutcomeUnknownError,
)

if TYPE_CHECKING:
    from fraiseql.db.connection import Connection

_ISOLATION = {
    "read committed": "READ COMMITTED",
    "repeatable read": "REPEATABLE READ",
    "serializable": "SERIALIZABLE",
}

_log = logging.getLogger("fraiseql")

# How long a lost COMMIT's outcome is sought (reconnecting while the server restarts).
OUTCOME_TIMEOUT = 5.0
_OUTCOME_RETRY_DELAY = 0.05


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
                if exc_type is None:  # the server rolled back what it never saw committed
                    raise OperationalError(
                        f"connection to {conn.host}:{conn.port} lost before COMMIT: "
                        "the transaction was rolled back"
                    )
                return
            if exc_type is None:
                if self._savepoint:
                    await conn.request(MODE_STATUS, f"RELEASE SAVEPOINT {self._savepoint}", ())
                else:
                    await _commit(conn)
                return
            if self._savepoint:
                await conn.request(MODE_STATUS, f"ROLLBACK TO SAVEPOINT {self._savepoint}", ())
                await conn.request(MODE_STATUS, f"RELEASE SAVEPOINT {self._savepoint}", ())
            else:
                await conn.request(MODE_STATUS, "ROLLBACK", ())
        finally:
            conn.leave_transaction()


async def _commit(conn: Connection) -> None:
    """COMMIT; when the connection is lost on the way, the truth about it or
    TransactionOutcomeUnknownError. The id is taken in a round trip of its own: an answer
    sent with the COMMIT's would be lost with it."""
    xid = await conn.request(MODE_VAL, "SELECT txid_current_if_assigned()", ())
    try:
        await conn.request(MODE_STATUS, "COMMIT", ())
    except OperationalError as exc:
        if not conn.is_closed or xid is None:  # answered (rolled back), or nothing written
            raise
        status = await _outcome(conn, xid)
        _log.warning(
            "connection lost during COMMIT of transaction %s: %s", xid, status or "unknown"
        )
        if status == "committed":
            return
        if status == "aborted":
            raise
        raise TransactionOutcomeUnknownError(
            f"connection to {conn.host}:{conn.port} lost while COMMIT of transaction {xid} "
            f"was in flight, and its outcome could not be learnt within {OUTCOME_TIMEOUT}s: "
            "it may or may not have committed",
            xid=xid,
        ) from exc


async def _outcome(conn: Connection, xid: int) -> str | None:
    """txid_status(xid) asked on new connections until it is decided ("committed",
    "aborted"), or None after OUTCOME_TIMEOUT seconds."""
    deadline = time.monotonic() + OUTCOME_TIMEOUT
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            other = await asyncio.wait_for(conn.sibling(), remaining)
            try:
                while time.monotonic() < deadline:
                    status = await asyncio.wait_for(
                        other.fetchval("SELECT txid_status($1::bigint)", xid),
                        deadline - time.monotonic(),
                    )
                    if status != "in progress":  # NULL: too old to tell (wraparound)
                        return status  # type: ignore[no-any-return]
                    # the lost backend has not finished yet
                    await asyncio.sleep(_OUTCOME_RETRY_DELAY)
                return None
            finally:
                await other.close()
        except (DatabaseError, asyncio.TimeoutError):
            await asyncio.sleep(_OUTCOME_RETRY_DELAY)  # the server may be restarting
