"""fraiseql: GraphQL for Python on PostgreSQL, served from JSONB read models through C."""

from fraiseql._native import native as _native

JSONError = _native.JSONError
NonNullError = _native.NonNullError
Selection = _native.Selection
rewrite = _native.rewrite
to_camel = _native.to_camel
ID: int = _native.ID
NON_NULL: int = _native.NON_NULL

from fraiseql.db import Connection, Pool, Record, connect, create_pool  # noqa: E402
from fraiseql.errors import (  # noqa: E402
    DatabaseError, DataError, IntegrityError, InterfaceError, InternalError,
    NotSupportedError, OperationalError, PoolTimeoutError, ProgrammingError,
    QueryCanceledError, TransactionRollbackError)

__version__ = "0.1.0.dev0"

__all__ = [
    "ID", "NON_NULL", "JSONError", "NonNullError", "Selection", "__version__", "rewrite", "to_camel",
    "Connection", "Pool", "Record", "connect", "create_pool",
    "DatabaseError", "DataError", "IntegrityError", "InterfaceError", "InternalError",
    "NotSupportedError", "OperationalError", "PoolTimeoutError", "ProgrammingError",
    "QueryCanceledError", "TransactionRollbackError",
]
