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
NonNullError = _native.NonNullError
Selection = _native.Selection
rewrite = _native.rewrite
to_camel = _native.to_camel
# Selection field flags. `fraiseql.ID` is the GraphQL ID type of type hints, so the
# rewriter's ID flag (numbers written as strings) is FIELD_ID here.
FIELD_ID: int = _native.ID
NON_NULL: int = _native.NON_NULL

__version__ = "0.1.0.dev0"

__all__ = [
    "FIELD_ID",
    "ID",
    "JSON",
    "NON_NULL",
    "Executor",
    "JSONError",
    "Limits",
    "NonNullError",
    "Registry",
    "Selection",
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
    "rewrite",
    "to_camel",
    "type",
]
