"""`fraiseql serve module:app`: run an ASGI app (a `fraiseql.create_app()`) under uvicorn."""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

__all__ = ["register", "uvicorn_module"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `fraiseql serve` to the command."""
    p = subparsers.add_parser("serve", help="serve an ASGI app (module:app) with uvicorn")
    p.add_argument("app", help="import path of the app, e.g. myproject.api:app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.set_defaults(handler=serve)


def uvicorn_module() -> ModuleType:
    """uvicorn, or an exit that says how to install it."""
    try:
        import uvicorn
    except ImportError:
        sys.exit("fraiseql: serving needs uvicorn: pip install 'fraiseql[server]'")
    return uvicorn


def serve(args: argparse.Namespace) -> int:
    """Run `args.app` under uvicorn until interrupted."""
    if ":" not in args.app:
        sys.exit(f"fraiseql serve: expected module:attribute, got {args.app!r}")
    if args.workers < 1:
        sys.exit(f"fraiseql serve: --workers must be at least 1, got {args.workers}")
    sys.path.insert(0, ".")  # the user's project, as `python -m` would
    uvicorn_module().run(
        args.app, host=args.host, port=args.port, workers=args.workers, log_level="info"
    )
    return 0
