"""Subcommands of `fraiseql` for read models: makemigrations, migrate, refresh, verify, advise,
live.

Each takes --dsn (default: $DATABASE_URL). Exit status: 0 success, 1 drift found by verify,
2 error (the message says what was wrong).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fraiseql.cqrs.connect import connect
from fraiseql.cqrs.declare import ReadModel

__all__ = ["register"]

EXIT_DRIFT, EXIT_ERROR = 1, 2


def _run(
    body: Callable[[argparse.Namespace, Any], Awaitable[int]],
) -> Callable[[argparse.Namespace], int]:
    """Handler running `body(args, conn)` on a fresh connection; errors become a message and exit 2."""

    def handler(args: argparse.Namespace) -> int:
        async def go() -> int:
            conn = await connect(args.dsn)
            try:
                return await body(args, conn)
            finally:
                await conn.close()

        try:
            return asyncio.run(go())
        except KeyboardInterrupt:
            return 0
        except Exception as exc:  # every failure gets one line naming it, not a traceback
            print(f"fraiseql {args.command}: error: {exc}", file=sys.stderr)
            return EXIT_ERROR

    return handler


def _load_models(spec: str) -> list[ReadModel]:
    """'package.module:NAME' -> the ReadModel(s) it names (one model or an iterable of them)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(
            f"--models wants 'module:attribute' (e.g. fraiseql.examples.blog:MODELS), got {spec!r}"
        )
    sys.path.insert(0, str(Path.cwd()))  # the user's project, like `python -m` would
    value = getattr(importlib.import_module(module_name), attr)
    models = [value] if isinstance(value, ReadModel) else list(value)
    if not all(isinstance(m, ReadModel) for m in models):
        raise ValueError(f"{spec} is neither a ReadModel nor an iterable of ReadModel")
    return models


async def _makemigrations(args: argparse.Namespace, conn: Any) -> int:
    from fraiseql.cqrs.migrations import make_migration

    path = await make_migration(conn, _load_models(args.models), args.dir)
    if path:
        for line in path.read_text().splitlines():
            if line.startswith("-- WARNING: "):
                print(f"warning: {line[12:]}", file=sys.stderr)
    print(
        f"wrote {path}" if path else "no changes: the migrations already describe these read models"
    )
    return 0


async def _migrate(args: argparse.Namespace, conn: Any) -> int:
    from fraiseql.cqrs.migrations import migrate

    directory = args.dir
    if directory is None:
        directory = "migrations" if Path("migrations").is_dir() else None
    applied = await migrate(conn, directory)
    for name in applied:
        print(f"applied {name}")
    if not applied:
        print("nothing to apply")
    return 0


async def _refresh(args: argparse.Namespace, conn: Any) -> int:
    from fraiseql.cqrs.refresh import Refresher, refresh, schedule_cron, unschedule_cron

    if args.cron:
        job = await schedule_cron(conn, args.relation, args.cron)
        print(f"scheduled pg_cron job {job}: refresh {args.relation} at '{args.cron}'")
        return 0
    if args.unschedule:
        found = await unschedule_cron(conn, args.relation)
        print(
            f"removed the pg_cron job of {args.relation}"
            if found
            else f"no pg_cron job for {args.relation}"
        )
        return 0
    if args.every is None and args.debounce is None:
        seconds = await refresh(conn, args.relation, concurrently=not args.blocking)
        print(f"refreshed {args.relation} in {seconds * 1000:.0f} ms")
        return 0
    every = {args.relation: args.every} if args.every else None
    debounce = {args.relation: args.debounce} if args.debounce else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Refresher(args.dsn, every=every, debounce=debounce) as refresher:
        mode = (
            f"every {args.every} s"
            if args.every
            else f"at most every {args.debounce} s after writes"
        )
        print(f"refreshing {args.relation} {mode}; Ctrl-C stops", flush=True)
        await stop.wait()
    print(f"stopped after {refresher.refreshes.get(args.relation, 0)} refreshes")
    return 0


async def _verify(args: argparse.Namespace, conn: Any) -> int:
    from fraiseql.cqrs.verify import repair, verify

    drift = await verify(conn, args.relation)
    if not drift:
        print(f"{drift.relation}: {drift.checked} documents, no drift")
        return 0
    print(f"{drift.relation}: {drift.drifted} drifted of {drift.checked}")
    for problem in ("missing", "orphaned", "changed"):
        keys = getattr(drift, problem)
        if keys:
            shown = ", ".join(map(str, keys[: args.show])) + (
                " ..." if len(keys) > args.show else ""
            )
            print(f"  {problem} ({len(keys)}): {shown}")
    if args.repair:
        print(f"repaired {await repair(conn, args.relation, drift)} documents")
        return 0 if not await verify(conn, args.relation) else EXIT_DRIFT
    return EXIT_DRIFT


async def _advise(args: argparse.Namespace, conn: Any) -> int:
    from fraiseql.cqrs.advise import advise, render

    print(
        render(await advise(conn, args.model, samples=args.samples, refresh=not args.no_refresh)),
        end="",
    )
    return 0


async def _live(args: argparse.Namespace, conn: Any) -> int:
    from fraiseql.cqrs.live import enable_live

    await enable_live(conn, args.relation, args.key)
    print(f"{args.relation} now notifies live queries of the keys ({args.key}) it changes")
    return 0


def _with_dsn(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--dsn", help="PostgreSQL connection string (default: $DATABASE_URL)")
    return parser


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the read model subcommands."""
    p = _with_dsn(
        subparsers.add_parser(
            "makemigrations",
            help="write the next migration file for changed read model declarations",
        )
    )
    p.add_argument(
        "--models",
        required=True,
        help="module:attribute holding ReadModel(s), e.g. app.models:MODELS",
    )
    p.add_argument(
        "--dir", default="migrations", help="migrations directory (default: ./migrations)"
    )
    p.set_defaults(handler=_run(_makemigrations))

    p = _with_dsn(
        subparsers.add_parser("migrate", help="apply pending migrations, each in a transaction")
    )
    p.add_argument("--dir", help="migrations directory (default: ./migrations if it exists)")
    p.set_defaults(handler=_run(_migrate))

    p = _with_dsn(
        subparsers.add_parser(
            "refresh", help="refresh an mv_ read model now, periodically, or via pg_cron"
        )
    )
    p.add_argument("relation", help="mv_ relation, e.g. mv_user")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--every", type=float, metavar="SECONDS", help="keep refreshing every SECONDS (foreground)"
    )
    mode.add_argument(
        "--debounce",
        type=float,
        metavar="SECONDS",
        help="refresh after writes, at most once per SECONDS (foreground)",
    )
    mode.add_argument(
        "--cron", metavar="SCHEDULE", help="schedule with pg_cron, e.g. '*/5 * * * *'"
    )
    mode.add_argument("--unschedule", action="store_true", help="remove the pg_cron job")
    mode.add_argument(
        "--blocking",
        action="store_true",
        help="plain REFRESH (locks readers out; not CONCURRENTLY)",
    )
    p.set_defaults(handler=_run(_refresh))

    p = _with_dsn(
        subparsers.add_parser(
            "verify", help="compare stored documents with the builder; exit 1 on drift"
        )
    )
    p.add_argument("relation", help="read model relation, e.g. qm_user")
    p.add_argument(
        "--show", type=int, default=20, help="drifted keys to list per kind (default 20)"
    )
    p.add_argument(
        "--repair",
        action="store_true",
        help="qm_ only: rebuild the drifted documents (exit 0 if then clean)",
    )
    p.set_defaults(handler=_run(_verify))

    p = _with_dsn(
        subparsers.add_parser(
            "advise", help="measure tv_/mv_/qm_ on this database, print the decision table"
        )
    )
    p.add_argument("model", help="read model name or relation, e.g. user or qm_user")
    p.add_argument("--samples", type=int, default=300, help="reads per form (default 300)")
    p.add_argument("--no-refresh", action="store_true", help="do not time a REFRESH of the mv_")
    p.set_defaults(handler=_run(_advise))

    p = _with_dsn(
        subparsers.add_parser(
            "live", help="make a hand-written table notify live queries (Repository.watch)"
        )
    )
    p.add_argument("relation", help="table of documents, e.g. qm_profile")
    p.add_argument("--key", default="id", help="its key column (default: id)")
    p.set_defaults(handler=_run(_live))
