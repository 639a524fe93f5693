"""fraiseql: GraphQL for Python on PostgreSQL, served from JSONB read models through C."""

from fraiseql._native import native as _native

JSONError = _native.JSONError

__version__ = "0.1.0.dev0"

__all__ = ["JSONError", "__version__"]
