"""fraiseql: GraphQL for Python on PostgreSQL, served from JSONB read models through C."""

from fraiseql._native import native as _native

JSONError = _native.JSONError
NonNullError = _native.NonNullError
Selection = _native.Selection
rewrite = _native.rewrite
to_camel = _native.to_camel
# Selection field flags. `fraiseql.ID` is the GraphQL ID type of type hints, so the
# rewriter's ID flag (numbers written as strings) is FIELD_ID here.
FIELD_ID: int = _native.ID
NON_NULL: int = _native.NON_NULL
ITEMS_NON_NULL: int = _native.ITEMS_NON_NULL

from fraiseql import http  # noqa: E402
from fraiseql.db import Connection, Pool, Record, connect, create_pool  # noqa: E402
from fraiseql.errors import (  # noqa: E402
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    PoolOverloadedError,
    PoolTimeoutError,
    ProgrammingError,
    QueryCanceledError,
    TransactionRollbackError,
)
from fraiseql.execute import Executor, execute  # noqa: E402
from fraiseql.http import create_app  # noqa: E402
from fraiseql.plan import Limits  # noqa: E402
from fraiseql.schema import build_schema  # noqa: E402
from fraiseql.types import (  # noqa: E402
    ID,
    JSON,
    Registry,
    enum,
    field,
    get_registry,
    input,
    mutation,
    query,
    reset_registry,
    type,
)

__version__ = "0.1.0.dev0"

__all__ = [
    # the rewriter
    "FIELD_ID",
    "NON_NULL",
    "ITEMS_NON_NULL",
    "JSONError",
    "NonNullError",
    "Selection",
    "rewrite",
    "to_camel",
    # the database
    "Connection",
    "Pool",
    "Record",
    "connect",
    "create_pool",
    "DatabaseError",
    "DataError",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "PoolOverloadedError",
    "PoolTimeoutError",
    "ProgrammingError",
    "QueryCanceledError",
    "TransactionRollbackError",
    # GraphQL
    "ID",
    "JSON",
    "Executor",
    "Limits",
    "Registry",
    "build_schema",
    "create_app",
    "enum",
    "execute",
    "field",
    "get_registry",
    "http",
    "input",
    "mutation",
    "query",
    "reset_registry",
    "type",
    "__version__",
]
