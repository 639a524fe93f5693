"""Instructions per rewrite of each benchmark document under the "all" selection, learned
shapes on and off: callgrind counts of `bench_core DIR D N` minus `bench_core DIR D 0`
(repeatable where timings are not). Run: `make count-core` (needs valgrind)."""

from __future__ import annotations

import re
import subprocess
import sys

BINARY = "benchmarks/out/bench_core_sse2"
DIR = "benchmarks/out"
NAMES = ["flat user", "qm_user", "32 KB user", "1,000 users"]


def instructions(doc: int, calls: int, shapes: bool) -> int:
    args = [BINARY, DIR, str(doc), str(calls)] + ([] if shapes else ["noshapes"])
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(re.search(r"refs:\s+([\d,]+)", run.stderr).group(1).replace(",", ""))


def main() -> None:
    print(f"{'document':<14}{'shapes off':>14}{'shapes on':>14}")
    for doc, name in enumerate(NAMES):
        calls = 20 if doc == 3 else 1000
        base = {s: instructions(doc, 0, s) for s in (False, True)}
        per = {s: (instructions(doc, calls, s) - base[s]) // calls for s in (False, True)}
        print(f"{name:<14}{per[False]:>14,}{per[True]:>14,}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
