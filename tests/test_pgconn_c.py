"""The pure-C libpq state machine tested from C (tests/c/test_pgconn.c), built with
ASan and UBSan, against the real server: the core works without Python."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pg_includedir() -> str:
    return subprocess.run(
        ["pg_config", "--includedir"], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_pgconn_core_from_c(tmp_path, pg_dsn):
    assert shutil.which("gcc"), "gcc is needed to build the C test"
    binary = tmp_path / "test_pgconn"
    build = subprocess.run(
        [
            "gcc",
            "-std=c11",
            "-g",
            "-O1",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=undefined",
            f"-I{ROOT / 'src/_fraiseql'}",
            f"-I{_pg_includedir()}",
            str(ROOT / "tests/c/test_pgconn.c"),
            str(ROOT / "src/_fraiseql/pgconn.c"),
            str(ROOT / "src/_fraiseql/ring.c"),
            "-lpq",
            "-o",
            str(binary),
        ],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    env = {"PATH": "/usr/bin:/bin", "ASAN_OPTIONS": "detect_leaks=1"}
    result = subprocess.run(
        [str(binary), pg_dsn], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all passed" in result.stdout
