"""`fraiseql demo` (and `python -m fraiseql.demo`, which `make demo` runs): the seed's blog.

Loads the blog example (tb_user, tb_post, qm_user synced by triggers, mv_user, tv_user;
10,000 users and 200,000 posts) into an embedded PostgreSQL or `--dsn`, declares the seed's
GraphQL API (fraiseql.examples.blog_api) and serves it at http://HOST:PORT/graphql.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["main", "register"]

DEMO_DATABASE = "fraiseql_demo"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `fraiseql demo` to the command."""
    _add_arguments(subparsers.add_parser("demo", help="serve the seed's blog example"))


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dsn", help="PostgreSQL to load the example into (default: an embedded one)")
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port to serve on (default 8000)")
    p.add_argument("--users", type=int, default=10_000)
    p.add_argument("--posts", type=int, default=200_000)
    p.add_argument("--setup-only", action="store_true", help="load schema and data, then exit")
    p.set_defaults(handler=demo)


def _port(text: str) -> int:
    """A TCP port number, for argparse."""
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}")
    return int(text)


@contextlib.contextmanager
def _database(dsn: str | None) -> Iterator[str]:
    """`dsn`, or a database in a throwaway embedded cluster for as long as the block runs."""
    if dsn:
        yield dsn
        return
    from fraiseql.embedded import EmbeddedPostgres

    with EmbeddedPostgres() as pg:
        yield pg.create_database(DEMO_DATABASE)


async def setup(dsn: str, users: int = 10_000, posts: int = 200_000) -> bool:
    """Load the blog into `dsn` unless it is already there; True when it loaded it."""
    from fraiseql.cqrs.connect import connect
    from fraiseql.examples import blog

    conn = await connect(dsn)
    try:
        if await conn.fetchval("SELECT to_regclass('qm_user') IS NOT NULL"):
            return False
        await blog.setup(conn, users=users, posts=posts)
        return True
    finally:
        await conn.close()


def _bind(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, taken before the minutes of loading (uvicorn listens on it).

    Raises OSError with a one-line message naming the port and how to choose another.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(
            f"cannot serve on {host}:{port}: {exc.strerror or exc}; "
            "choose another port with --port N (make demo PORT=N) or host with --host"
        ) from None
    return sock


def demo(args: argparse.Namespace) -> int:
    """Load the blog, then serve its GraphQL API (or stop after loading with --setup-only)."""
    from fraiseql.serve import uvicorn_module

    uvicorn = None if args.setup_only else uvicorn_module()
    try:
        sock = None if uvicorn is None else _bind(args.host, args.port)
    except OSError as exc:
        print(f"fraiseql demo: error: {exc}", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        if sock is not None:
            stack.callback(sock.close)
        return _load_and_serve(args, uvicorn, sock, stack.enter_context(_database(args.dsn)))


def _load_and_serve(
    args: argparse.Namespace, uvicorn: Any, sock: socket.socket | None, dsn: str
) -> int:
    """Load the blog into `dsn`; then, unless --setup-only, serve it on `sock`."""
    print(
        f"fraiseql demo: loading the blog ({args.users} users, {args.posts} posts)...",
        flush=True,
    )
    try:
        loaded = asyncio.run(setup(dsn, args.users, args.posts))
    except Exception as exc:
        print(f"fraiseql demo: error: cannot load the example into {dsn}: {exc}", file=sys.stderr)
        return 2
    print("fraiseql demo: " + ("loaded." if loaded else "already loaded, kept as is."), flush=True)
    if uvicorn is None:
        return 0
    import fraiseql
    from fraiseql.examples import blog_api, blog_expose  # noqa: F401 - declare the API

    app = fraiseql.create_app(database_url=dsn)
    url = f"http://{args.host}:{args.port}/graphql"
    print(
        f"fraiseql demo: GraphQL at {url} (GraphiQL in a browser); Ctrl-C stops. Try:\n"
        f"  curl -s {url} -H 'content-type: application/json' "
        '-d \'{"query": "{ user(id: 1) { id firstName userPosts { title } } }"}\'\n'
        f"  curl -s {url} -H 'content-type: application/json' "
        '-d \'{"query": "{ allUsers(where: {firstName: {startswith: \\"A\\"}}, '
        "orderBy: [{createdAt: DESC}], limit: 3) { id firstName createdAt } }\"}'\n"
        f"  curl -s {url} -H 'content-type: application/json' "
        '-d \'{"query": "mutation { createUser(input: {firstName: \\"Ada\\", lastName: '
        '\\"L\\", email: \\"ada@example.org\\"}) { ... on CreateUserSuccess { user { id } } '
        "... on CreateUserError { code message field } } }\"}'\n"
        f"  curl -s {url} -H 'content-type: application/json' "
        '-d \'{"query": "mutation { updateUser(id: 1, input: {lastName: \\"Lovelace\\"}, '
        "expectedVersion: 1) { ... on UpdateUserSuccess { user { id lastName } } "
        "... on UpdateUserError { code message currentVersion } } }\"}'",
        flush=True,
    )
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m fraiseql.demo [options]`: the same as `fraiseql demo`."""
    parser = argparse.ArgumentParser(prog="python -m fraiseql.demo", description=__doc__)
    _add_arguments(parser)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
