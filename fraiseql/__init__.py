"""fraiseql: GraphQL for Python on PostgreSQL, served from JSONB read models through C."""

from fraiseql._native import native as _native

JSONError = _native.JSONError
NonNullError = _native.NonNullError
Selection = _native.Selection
rewrite = _native.rewrite
to_camel = _native.to_camel
ID: int = _native.ID
NON_NULL: int = _native.NON_NULL

__version__ = "0.1.0.dev0"

__all__ = ["ID", "NON_NULL", "JSONError", "NonNullError", "Selection", "__version__", "rewrite", "to_camel"]
