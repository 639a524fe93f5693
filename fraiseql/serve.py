"""The `fraiseql serve` and `fraiseql demo` subcommands (registered by fraiseql.cli).

`serve module:app` runs any ASGI app under uvicorn. `demo` loads the seed's blog (tables,
10,000 users, 200,000 posts, qm_/mv_/tv_user) into an embedded PostgreSQL or `--dsn`, declares
the seed's GraphQL API and serves it at http://HOST:PORT/graphql.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Iterator

DEMO_DATABASE = "fraiseql_demo"


def add_serve_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `fraiseql serve`."""
    p = subparsers.add_parser("serve", help="serve an ASGI app (module:app) with uvicorn")
    p.add_argument("app", help="import path of the app, e.g. myproject.api:app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.set_defaults(func=serve_command)


def add_demo_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `fraiseql demo`."""
    p = subparsers.add_parser("demo", help="serve the seed's blog example")
    p.add_argument("--dsn", help="PostgreSQL to load the example into (default: an embedded one)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--users", type=int, default=10_000)
    p.add_argument("--posts", type=int, default=200_000)
    p.add_argument("--setup-only", action="store_true", help="load schema and data, then exit")
    p.set_defaults(func=demo_command)


def _uvicorn():  # type: ignore[no-untyped-def]
    try:
        import uvicorn
    except ImportError:
        sys.exit("fraiseql: serving needs uvicorn: pip install 'fraiseql[server]'")
    return uvicorn


def serve_command(args: argparse.Namespace) -> int:
    """Run `args.app` under uvicorn."""
    if ":" not in args.app:
        sys.exit(f"fraiseql serve: expected module:attribute, got {args.app!r}")
    if args.workers < 1:
        sys.exit(f"fraiseql serve: --workers must be at least 1, got {args.workers}")
    _uvicorn().run(args.app, host=args.host, port=args.port, workers=args.workers, log_level="info")
    return 0


@contextlib.contextmanager
def _database(dsn: str | None) -> Iterator[str]:
    """`dsn`, or a database in a throwaway embedded cluster for as long as the block runs."""
    if dsn:
        yield dsn
        return
    from fraiseql.embedded import EmbeddedPostgres

    with EmbeddedPostgres() as pg:
        yield pg.create_database(DEMO_DATABASE)


async def setup_demo(dsn: str, users: int, posts: int) -> bool:
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


def demo_command(args: argparse.Namespace) -> int:
    """Load the blog, then serve its GraphQL API (or stop after loading with --setup-only)."""
    with _database(args.dsn) as dsn:
        print(f"fraiseql demo: loading the blog ({args.users} users, {args.posts} posts)...", flush=True)
        loaded = asyncio.run(setup_demo(dsn, args.users, args.posts))
        print("fraiseql demo: " + ("loaded." if loaded else "already loaded, kept as is."), flush=True)
        if args.setup_only:
            return 0
        import fraiseql
        from fraiseql.examples import blog_api  # noqa: F401 - declares the seed's GraphQL API

        app = fraiseql.create_app(database_url=dsn)
        url = f"http://{args.host}:{args.port}/graphql"
        print(
            f"fraiseql demo: GraphQL at {url} (GraphiQL in a browser). Try:\n"
            f"  curl -s {url} -H 'content-type: application/json' "
            "-d '{\"query\": \"{ user(id: 1) { id firstName userPosts { title } } }\"}'",
            flush=True,
        )
        _uvicorn().run(app, host=args.host, port=args.port, log_level="warning")
    return 0
