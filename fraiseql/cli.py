"""The `fraiseql` command: argparse with one registration function per group of subcommands.

A group adds its subcommands in a `register(subparsers)` function and sets `handler` on each
(a callable taking the parsed arguments and returning the exit status); add it to GROUPS.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from fraiseql import demo, schema_export, serve
from fraiseql.cqrs import commands as cqrs_commands

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

GROUPS: list[Register] = [
    cqrs_commands.register,
    serve.register,
    schema_export.register,
    demo.register,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fraiseql", description="GraphQL for Python on PostgreSQL read models."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in GROUPS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
