"""pytest under `make test-asan`: the extension is built with ASan+UBSan and libasan is
preloaded into this interpreter (and into the Python processes tests start). PostgreSQL's
binaries hang with libasan preloaded, so the embedded cluster is pointed (through
FRAISEQL_PG_BINDIR) at wrappers that drop LD_PRELOAD before running the real ones."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

import fraiseql
from fraiseql.embedded import find_bindir


def main() -> int:
    if "venv-asan" not in fraiseql.__file__:
        sys.exit(f"asan_pytest: fraiseql imported from {fraiseql.__file__}, not the ASan venv")
    real = find_bindir()
    root = tempfile.mkdtemp(prefix="fraiseql-asan-pg-")
    # the same layout as the real installation (VERSION/bin next to VERSION/lib), so that
    # code looking beside the bindir (extension libraries) finds what it would have found
    bindir = Path(root) / real.parent.name / "bin"
    bindir.mkdir(parents=True)
    for sibling in real.parent.iterdir():
        if sibling.name != "bin":
            (bindir.parent / sibling.name).symlink_to(sibling)
    for directory in (Path(root), bindir.parent, bindir):
        directory.chmod(0o755)  # the cluster may run as the postgres user
    try:
        for program in real.iterdir():
            wrapper = bindir / program.name
            wrapper.write_text(f'#!/bin/sh\nunset LD_PRELOAD\nexec "{program}" "$@"\n')
            wrapper.chmod(0o755)
        os.environ["FRAISEQL_PG_BINDIR"] = str(bindir)
        return pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[1:]])
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
