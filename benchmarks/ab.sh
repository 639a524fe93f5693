#!/usr/bin/env bash
# Before/after of a change that must not move the figures: runs each benchmark from two
# checkouts (each with its own .venv) alternately, A B B A per round, on one loaded database.
# Usage: benchmarks/ab.sh BEFORE_DIR AFTER_DIR DSN [ROUNDS] > out.txt
set -euo pipefail
before=$1 after=$2 dsn=$3 rounds=${4:-2}
run() {  # tree, label
    local tree=$1 label=$2
    echo "=== $label rewrite"; (cd "$tree" && .venv/bin/python benchmarks/bench_rewrite.py --quick)
    echo "=== $label graphql"; (cd "$tree" && .venv/bin/python benchmarks/bench_graphql.py --no-http --quick --dsn "$dsn")
    echo "=== $label repository"; (cd "$tree" && .venv/bin/python benchmarks/bench_repository.py --dsn "$dsn" --rounds 2 --requests 2000 --seconds 1)
}
for ((r = 1; r <= rounds; r++)); do
    echo "##### round $r $(date -u +%H:%M:%S)"
    run "$before" before; run "$after" after; run "$after" after; run "$before" before
done
