"""fraiseql: GraphQL for Python on PostgreSQL, served from JSONB read models through C."""

from fraiseql._native import native as _native
from fraiseql import http
from fraiseql.execute import Executor, execute
from fraiseql.http import create_app
from fraiseql.plan import Limits
from fraiseql.schema import build_schema
from fraiseql.types import (
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

JSONError = _native.JSONError

__version__ = "0.1.0.dev0"

__all__ = [
    "Executor",
    "ID",
    "JSON",
    "JSONError",
    "Limits",
    "Registry",
    "__version__",
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
]
