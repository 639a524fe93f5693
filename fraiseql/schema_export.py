"""`fraiseql schema module[:attr]`: an app's schema as SDL, or `--json` as introspection.

For a frontend's code generation. `attr` names an app from `fraiseql.create_app()`, a
`GraphQLSchema`, an `Executor` or a `Registry`; without it, the module is imported for its
declarations and the default registry's schema is printed (what `create_app()` would serve).
The SDL is graphql-core's `print_schema`; the JSON is graphql-core's introspection result
(`introspection_from_schema`: the data of its full introspection query, `{"__schema": ...}`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from fraiseql.loader import LoadError, load, report

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `fraiseql schema` to the command."""
    p = subparsers.add_parser("schema", help="print an app's GraphQL schema (SDL, or --json)")
    p.add_argument(
        "target",
        metavar="module[:attr]",
        help="e.g. myproject.api:app (an app, GraphQLSchema, Executor or Registry), or "
        "myproject.api (its declarations)",
    )
    p.add_argument(
        "--json", action="store_true", help="print the introspection result as JSON instead"
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    p.set_defaults(handler=export)


def _schema_of(spec: str, value: Any) -> Any:
    """The GraphQLSchema of an app, schema, executor or registry; None: the default registry."""
    from graphql import GraphQLSchema

    from fraiseql.executor import Executor
    from fraiseql.http import GraphQLApp
    from fraiseql.schema import build_schema
    from fraiseql.types import Registry

    if value is None or isinstance(value, Registry):
        return build_schema(value)
    if isinstance(value, GraphQLSchema):
        return value
    if isinstance(value, GraphQLApp):
        return value.executor.schema
    if isinstance(value, Executor):
        return value.schema
    raise LoadError(
        f"{spec} is of type {type(value).__name__}; expected an app from fraiseql.create_app(), "
        "a GraphQLSchema, an Executor or a Registry"
    )


def export(args: argparse.Namespace) -> int:
    """Print the schema of `args.target`; errors are one line (a traceback with --debug)."""
    from graphql import introspection_from_schema, print_schema

    try:
        _, value = load(args.target)
        schema = _schema_of(args.target, value)
        text = (
            json.dumps(introspection_from_schema(schema), indent=2)
            if args.json
            else print_schema(schema)
        )
    except Exception as exc:  # the user's module or declarations: say what, exit 2
        return report("schema", exc, args.debug)
    sys.stdout.write(text + "\n")
    return 0
