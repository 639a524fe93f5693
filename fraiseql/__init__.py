"""fraiseql: GraphQL for Python on PostgreSQL, served from JSONB read models through C."""

from fraiseql._native import native as _native

JSONError = _native.JSONError

from fraiseql.db import Connection, Pool, Record, connect, create_pool  # noqa: E402
from fraiseql.errors import (  # noqa: E402
    DatabaseError, DataError, IntegrityError, InterfaceError, InternalError,
    NotSupportedError, OperationalError, PoolTimeoutError, ProgrammingError,
    QueryCanceledError, TransactionRollbackError)

__version__ = "0.1.0.dev0"

__all__ = [
    "JSONError", "__version__",
    "Connection", "Pool", "Record", "connect", "create_pool",
    "DatabaseError", "DataError", "IntegrityError", "InterfaceError", "InternalError",
    "NotSupportedError", "OperationalError", "PoolTimeoutError", "ProgrammingError",
    "QueryCanceledError", "TransactionRollbackError",
]
