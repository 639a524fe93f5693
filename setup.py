"""Build of the C extension fraiseql._fraiseql (metadata lives in pyproject.toml).

Knobs (environment variables):
  FRAISEQL_DEBUG=1                      -O0 -g, assertions, exact-size buffer growth
  FRAISEQL_SANITIZE=address,undefined   compile and link with those sanitizers
"""

import glob
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup

# Debian package that provides each header the build needs.
REQUIRED_HEADERS = {"libpq-fe.h": "libpq-dev"}


def _command_output(*argv: str) -> str | None:
    if shutil.which(argv[0]) is None:
        return None
    try:
        return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()
    except subprocess.CalledProcessError:
        return None


def _dependency_dirs() -> tuple[list[str], list[str]]:
    include_dirs, library_dirs = [], []
    pg_include = _command_output("pg_config", "--includedir")
    pg_lib = _command_output("pg_config", "--libdir")
    if pg_include:
        include_dirs.append(pg_include)
    if pg_lib:
        library_dirs.append(pg_lib)
    return include_dirs, library_dirs


def _check_headers(include_dirs: list[str]) -> None:
    search = include_dirs + ["/usr/include", "/usr/local/include", "/usr/include/postgresql"]
    missing = [
        f"{header} (Debian/Ubuntu: apt-get install {package})"
        for header, package in REQUIRED_HEADERS.items()
        if not any(os.path.exists(os.path.join(d, header)) for d in search)
    ]
    if missing:
        sys.exit(
            "fraiseql: cannot build the C extension, missing headers:\n  " + "\n  ".join(missing)
        )


def _flags() -> tuple[list[str], list[str], list[tuple[str, str]]]:
    compile_args = ["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"]
    link_args: list[str] = []
    macros: list[tuple[str, str]] = []
    if os.environ.get("FRAISEQL_DEBUG") == "1":
        compile_args += ["-O0", "-g3", "-UNDEBUG"]
        macros.append(("FQ_DEBUG", "1"))
    else:
        compile_args += ["-O3"]
    sanitize = os.environ.get("FRAISEQL_SANITIZE", "").strip()
    if sanitize:
        compile_args += [
            f"-fsanitize={sanitize}",
            "-fno-omit-frame-pointer",
            "-fno-sanitize-recover=undefined",
            "-g",
        ]
        link_args += [f"-fsanitize={sanitize}"]
    return compile_args, link_args, macros


def _build_options() -> dict:
    """A separate build directory per knob set, so that objects compiled with other flags
    (e.g. the in-place normal build) are never reused for a debug or sanitizer build."""
    variant = "-".join(
        part
        for part in (
            "debug" if os.environ.get("FRAISEQL_DEBUG") == "1" else "",
            os.environ.get("FRAISEQL_SANITIZE", "").strip().replace(",", "-"),
        )
        if part
    )
    return {"build": {"build_base": f"build/{variant}"}} if variant else {}


include_dirs, library_dirs = _dependency_dirs()
_check_headers(include_dirs)
compile_args, link_args, macros = _flags()

setup(
    options=_build_options(),
    ext_modules=[
        Extension(
            "fraiseql._fraiseql",
            sources=sorted(glob.glob("src/_fraiseql/*.c")),
            depends=sorted(glob.glob("src/_fraiseql/*.h")),
            include_dirs=["src/_fraiseql", *include_dirs],
            library_dirs=library_dirs,
            libraries=["pq"],
            extra_compile_args=compile_args,
            extra_link_args=link_args,
            define_macros=macros,
        )
    ],
)
