"""fraiseql: GraphQL for Python on PostgreSQL, served from JSONB read models through C.

The rewriter, the driver and the declarations import without graphql-core: the GraphQL layer
(`build_schema`, `execute`, `create_app`, ...) is loaded on first use (PEP 562), so
`import fraiseql` stays cheap and works whatever graphql-core version is installed.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

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
# The JSON kind a leaf must have to be written as stored (else JSONError): the scalars'.
FIELD_STRING: int = _native.STRING
FIELD_INT: int = _native.INT
FIELD_NUMBER: int = _native.NUMBER
FIELD_BOOL: int = _native.BOOL

from fraiseql.command_error import CommandError  # noqa: E402
from fraiseql.db import Pool, Record, connect, create_pool  # noqa: E402
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
    TransactionOutcomeUnknownError,
    TransactionRollbackError,
)
from fraiseql.expose import expose  # noqa: E402
from fraiseql.permissions import requires  # noqa: E402
from fraiseql.types import (  # noqa: E402
    ID,
    JSON,
    Connection,
    Registry,
    enum,
    error,
    field,
    get_registry,
    input,
    interface,
    mutation,
    query,
    reset_registry,
    subscription,
    type,
    union,
)

if TYPE_CHECKING:
    from fraiseql import http
    from fraiseql.executor import Executor, execute
    from fraiseql.generated_commands import load_commands
    from fraiseql.http import create_app
    from fraiseql.plan import Limits
    from fraiseql.schema import build_schema
    from fraiseql.sources import SchemaError

# The GraphQL layer's public names -> the module that defines them (None: the module itself).
_GRAPHQL_LAYER: dict[str, tuple[str, str | None]] = {
    "Executor": ("fraiseql.executor", "Executor"),
    "execute": ("fraiseql.executor", "execute"),
    "create_app": ("fraiseql.http", "create_app"),
    "http": ("fraiseql.http", None),
    "Limits": ("fraiseql.plan", "Limits"),
    "build_schema": ("fraiseql.schema", "build_schema"),
    "load_commands": ("fraiseql.generated_commands", "load_commands"),
    "SchemaError": ("fraiseql.sources", "SchemaError"),
}


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _GRAPHQL_LAYER[name]
    except KeyError:
        raise AttributeError(f"module 'fraiseql' has no attribute {name!r}") from None
    try:
        module = import_module(module_name)
    except ImportError as exc:
        if not (exc.name or "").startswith("graphql"):
            raise
        raise ImportError(
            f"fraiseql.{name} needs graphql-core, which could not be imported ({exc}); "
            "installing fraiseql (pip install fraiseql) brings the versions it supports"
        ) from exc
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_GRAPHQL_LAYER})


__version__ = "0.1.0.dev0"

__all__ = [
    # the rewriter
    "FIELD_ID",
    "NON_NULL",
    "ITEMS_NON_NULL",
    "FIELD_STRING",
    "FIELD_INT",
    "FIELD_NUMBER",
    "FIELD_BOOL",
    "JSONError",
    "NonNullError",
    "Selection",
    "rewrite",
    "to_camel",
    # the database (its connections: fraiseql.db.Connection)
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
    "TransactionOutcomeUnknownError",
    # GraphQL
    "CommandError",
    "Connection",
    "ID",
    "JSON",
    "Executor",
    "Limits",
    "Registry",
    "SchemaError",
    "build_schema",
    "create_app",
    "enum",
    "error",
    "execute",
    "expose",
    "field",
    "get_registry",
    "http",
    "input",
    "interface",
    "load_commands",
    "mutation",
    "query",
    "requires",
    "reset_registry",
    "subscription",
    "type",
    "union",
    "__version__",
]
