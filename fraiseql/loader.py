"""The user's `module[:attr]` for the commands, and the one line that says why it failed.

`fraiseql schema` and `fraiseql serve` import the user's project. A module that does not
import becomes a `LoadError` whose message names the module, the exception and where it was
raised; `report` prints that line, and the traceback only when `--debug` asks for it.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["EXIT_ERROR", "LoadError", "import_module", "load", "report"]

EXIT_ERROR = 2  # as the read-model commands: 2 is an error the message explains


class LoadError(Exception):
    """The user's module or attribute could not be loaded; the message is the one line."""


def import_module(name: str) -> ModuleType:
    """Import `name` from the current directory's project, as `python -m` would."""
    if not name or not all(part.isidentifier() for part in name.split(".")):
        raise LoadError(f"{name!r} is not a module name (expected e.g. myproject.api)")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(name)
    except Exception as exc:  # the user's code may raise anything at import
        raise LoadError(f"importing {name} failed: {_one_line(exc)}") from exc


def load(spec: str) -> tuple[ModuleType, Any]:
    """'module[:attr]' -> (the module, the attribute or None when no attr is given)."""
    module_name, colon, attr = spec.partition(":")
    if colon and not attr.isidentifier():
        raise LoadError(f"expected module[:attribute], got {spec!r}")
    module = import_module(module_name)
    if not colon:
        return module, None
    try:
        return module, getattr(module, attr)
    except AttributeError:
        raise LoadError(f"module {module_name} has no attribute {attr!r}") from None


def report(command: str, exc: Exception, debug: bool) -> int:
    """Print why `command` failed (the traceback first with --debug); the exit status."""
    cause = exc.__cause__ if isinstance(exc, LoadError) else exc  # None: nothing to trace
    if debug and cause is not None:
        traceback.print_exception(cause)
    hint = " (--debug shows the traceback)" if cause is not None and not debug else ""
    print(f"fraiseql {command}: error: {exc}{hint}", file=sys.stderr)
    return EXIT_ERROR


def _machinery(filename: str) -> bool:
    # Frames of the import itself (this file, importlib), not of the code being imported.
    return filename.startswith(("<", _IMPORTLIB)) or filename == __file__


_IMPORTLIB = str(Path(importlib.__file__).parent)


def _one_line(exc: BaseException) -> str:
    # The exception and the innermost line of the imported code that raised it.
    if isinstance(exc, SyntaxError):
        where = f" ({exc.filename}:{exc.lineno})" if exc.filename else ""
        message = str(exc.msg)
    else:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if not _machinery(f.filename)]
        where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
        message = str(exc)
    first = message.splitlines()[0] if message else ""
    return f"{type(exc).__name__}: {first}{where}"
