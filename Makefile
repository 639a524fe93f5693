# The two commands of the README are `make demo` and `make test`; each does all set-up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= test,server,bench,lint
C_SOURCES := $(wildcard src/_fraiseql/*.c src/_fraiseql/*.h)

.PHONY: demo test test-browser build lint sql-reference test-asan test-c test-graphql-core fuzz fuzz-deps fuzz-corpus bench bench-core bench-peers count-core soak soak-faults clean

$(VENV)/.installed: pyproject.toml setup.py scripts/bootstrap.sh
	PYTHON=$(PYTHON) scripts/bootstrap.sh $(VENV) $(EXTRAS)
	touch $@

# Rebuilds the extension in place after a C change (the editable install imports it from here).
fraiseql/.built: $(VENV)/.installed $(C_SOURCES)
	$(PY) setup.py -q build_ext --inplace
	touch $@

build: fraiseql/.built

test: build
	$(PY) -m pytest -q

# The tests that drive a real headless Chromium (GraphiQL's page), which `make test` leaves out.
BROWSER_PACKAGES := chromium
test-browser: build
	@dpkg-query -W $(BROWSER_PACKAGES) >/dev/null 2>&1 || PYTHON=$(PYTHON) scripts/bootstrap.sh $(VENV) $(EXTRAS) $(BROWSER_PACKAGES)
	$(PY) -m pytest -q -m browser

# The suite again under each supported graphql-core minor release that .venv does not have (a
# fresh .venv gets the newest), each in its own venv: .venv-graphql-core-3.2, ...; the
# extension is the one `build` made in place, so .venv is untouched.
GRAPHQL_CORE_MINORS := 3.2 3.3
test-graphql-core: build
	@have=$$($(PY) -c 'import graphql; print("%d.%d" % graphql.version_info[:2])'); \
	for minor in $(GRAPHQL_CORE_MINORS); do \
		[ "$$minor" = "$$have" ] || $(MAKE) --no-print-directory test-graphql-core-$$minor || exit 1; \
	done

.venv-graphql-core-%/.installed: pyproject.toml setup.py
	[ -x .venv-graphql-core-$*/bin/python ] || $(PYTHON) -m venv .venv-graphql-core-$*
	.venv-graphql-core-$*/bin/python -m pip install -q -e ".[test,server]" "graphql-core==$*.*"
	touch $@

.PRECIOUS: .venv-graphql-core-%/.installed
test-graphql-core-%: build .venv-graphql-core-%/.installed
	.venv-graphql-core-$*/bin/python -m pytest -q

# ruff (lint and format) over the Python, clang-format over the C; both configured in the repo.
LINT_PACKAGES := clang-format
lint: $(VENV)/.installed
	@dpkg-query -W $(LINT_PACKAGES) >/dev/null 2>&1 || PYTHON=$(PYTHON) scripts/bootstrap.sh $(VENV) $(EXTRAS) $(LINT_PACKAGES)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

# `make demo PORT=8080 HOST=0.0.0.0` serves elsewhere; a taken port is reported before loading.
HOST ?= 127.0.0.1
PORT ?= 8000
demo: build
	$(PY) -m fraiseql.demo --host $(HOST) --port $(PORT)

# Rewrites sql/examples/blog/ (the blog example's generated SQL); tests/test_sql_reference.py
# fails when those files differ from what the generator emits.
sql-reference: build
	$(PY) scripts/sql_reference.py

# The demo at saturation over HTTP for SOAK_SECONDS; soak-faults the same under faults
# (terminated backends, one PostgreSQL restart); each exits 1 when a check fails.
SOAK_SECONDS ?= 60
soak: build
	$(PY) benchmarks/soak.py --seconds $(SOAK_SECONDS)

# The same load under faults; CI runs both (.ci/run).
soak-faults: build
	$(PY) benchmarks/soak.py --seconds $(SOAK_SECONDS) --faults

clean:
	rm -rf build $(VENV) .venv-asan .venv-graphql-core-* fraiseql/*.so fraiseql/.built tests/c/build benchmarks/out

# C-level benchmark of the core, SSE2 and portable scanning side by side.
CORE_SRC := src/_fraiseql/rewrite.c src/_fraiseql/selection.c src/_fraiseql/shape.c src/_fraiseql/buf.c src/_fraiseql/ring.c src/_fraiseql/page.c
GQLTOKEN_SRC := src/_fraiseql/gqltoken.c src/_fraiseql/buf.c
bench-core: $(VENV)/.installed
	mkdir -p benchmarks/out
	$(PY) benchmarks/bench_rewrite.py --dump benchmarks/out
	$(CC) -O3 -std=c11 -Isrc/_fraiseql -DFQ_NO_SIMD_LABEL='"sse2+avx2"' benchmarks/bench_core.c $(CORE_SRC) -o benchmarks/out/bench_core_sse2
	$(CC) -O3 -std=c11 -Isrc/_fraiseql -DFQ_NO_SIMD -DFQ_NO_SIMD_LABEL='"portable"' benchmarks/bench_core.c $(CORE_SRC) -o benchmarks/out/bench_core_portable
	benchmarks/out/bench_core_sse2 benchmarks/out
	benchmarks/out/bench_core_portable benchmarks/out

# fraiseql against PostGraphile v5, v4 and Strawberry over HTTP on 100,000 users (issue 10):
# loads the data set into PEERS_DATABASE on PEERS_DSN's server unless there, checks that every
# server gives the same answers, then wrk per query and server (PEERS_SECONDS each) in
# PEERS_ROUNDS interleaved rounds; writes its section of benchmarks/RESULTS.md and
# benchmarks/peers_filters.png. The Node peers install from benchmarks/peers/ (npm ci).
PEERS_DSN ?= postgresql://postgres@127.0.0.1:5432
PEERS_DATABASE ?= fq_filters
PEERS_SECONDS ?= 10
PEERS_ROUNDS ?= 3
PEERS_COMMANDS := wrk npm
benchmarks/peers/node_modules/.installed: benchmarks/peers/package-lock.json benchmarks/peers/v4/package-lock.json
	@for c in $(PEERS_COMMANDS); do command -v $$c >/dev/null || \
		PYTHON=$(PYTHON) scripts/bootstrap.sh $(VENV) $(EXTRAS) $$c || exit 1; done
	cd benchmarks/peers && npm ci --no-audit --no-fund
	cd benchmarks/peers/v4 && npm ci --no-audit --no-fund
	touch $@

bench-peers: build benchmarks/peers/node_modules/.installed
	$(PY) benchmarks/peers/run.py --dsn $(PEERS_DSN) --database $(PEERS_DATABASE) \
		--seconds $(PEERS_SECONDS) --rounds $(PEERS_ROUNDS)

# Instructions per rewrite (callgrind), learned shapes on and off.
count-core: bench-core
	$(PY) benchmarks/count_core.py

# C unit tests of the pure core under ASan+UBSan (leak detection on), exact-size growth.
CORE_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Wno-unused-parameter -Isrc/_fraiseql -DFQ_DEBUG=1 \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
test-c:
	mkdir -p tests/c/build
	$(CC) $(CORE_CFLAGS) tests/c/test_core.c $(CORE_SRC) -o tests/c/build/test_core
	tests/c/build/test_core
	$(CC) $(CORE_CFLAGS) tests/c/test_pgtext.c src/_fraiseql/pgtext.c -o tests/c/build/test_pgtext
	tests/c/build/test_pgtext
	$(CC) $(CORE_CFLAGS) tests/c/test_gqltoken.c $(GQLTOKEN_SRC) -o tests/c/build/test_gqltoken
	tests/c/build/test_gqltoken

# libFuzzer harnesses of the core, each seeded from its committed corpus tests/c/corpus/NAME:
# fuzz_rewrite (the rewriter against a jansson DOM oracle), fuzz_pgtext (the decoders of
# PostgreSQL text values) and fuzz_gqltoken (the GraphQL tokenizer: offsets, and shapes stable
# when rebuilt). `make fuzz` runs them all within FUZZ_SECONDS in total; new inputs go to
# tests/c/build/corpus/NAME, never to the committed corpus (see fuzz-corpus).
# FUZZ_SEED=N makes the run reproducible (CI sets it); unset, every run explores afresh.
FUZZ_SECONDS ?= 60
FUZZ_SEED ?=
FUZZ_PACKAGES := clang libclang-rt-14-dev libjansson-dev
FUZZ_HARNESSES := rewrite pgtext gqltoken
FUZZ_CFLAGS := -g -O1 -std=c11 -Isrc/_fraiseql -DFQ_DEBUG=1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_OPTS = $(if $(FUZZ_SEED),-seed=$(FUZZ_SEED)) -max_len=4096 -timeout=10 -print_final_stats=1 \
	-artifact_prefix=tests/c/build/
FUZZ_SRC_rewrite := $(CORE_SRC)
FUZZ_LIBS_rewrite := -ljansson
FUZZ_SRC_pgtext := src/_fraiseql/pgtext.c
FUZZ_LIBS_pgtext :=
FUZZ_SRC_gqltoken := $(GQLTOKEN_SRC)
FUZZ_LIBS_gqltoken :=

fuzz-deps:
	@dpkg-query -W $(FUZZ_PACKAGES) >/dev/null 2>&1 || PYTHON=$(PYTHON) scripts/bootstrap.sh $(VENV) $(EXTRAS) $(FUZZ_PACKAGES)

tests/c/build/fuzz_%: tests/c/fuzz_%.c $(C_SOURCES) | fuzz-deps
	mkdir -p tests/c/build/corpus/$*
	clang $(FUZZ_CFLAGS) $< $(FUZZ_SRC_$*) $(FUZZ_LIBS_$*) -o $@

fuzz: $(FUZZ_HARNESSES:%=tests/c/build/fuzz_%)
	for h in $(FUZZ_HARNESSES); do \
		tests/c/build/fuzz_$$h -max_total_time=$$(( $(FUZZ_SECONDS) / $(words $(FUZZ_HARNESSES)) )) \
			$(FUZZ_OPTS) tests/c/build/corpus/$$h tests/c/corpus/$$h || exit 1; \
	done

# A longer run of one harness (FUZZ_CORPUS_HARNESS, FUZZ_CORPUS_SECONDS; one core), then a
# minimizing merge (-merge=1) of what it found into the committed corpus: only inputs that add
# coverage to tests/c/corpus/NAME are copied there, to be reviewed and committed.
FUZZ_CORPUS_HARNESS ?= rewrite
FUZZ_CORPUS_SECONDS ?= 900
fuzz-corpus: tests/c/build/fuzz_$(FUZZ_CORPUS_HARNESS)
	tests/c/build/fuzz_$(FUZZ_CORPUS_HARNESS) -max_total_time=$(FUZZ_CORPUS_SECONDS) $(FUZZ_OPTS) \
		tests/c/build/corpus/$(FUZZ_CORPUS_HARNESS) tests/c/corpus/$(FUZZ_CORPUS_HARNESS)
	tests/c/build/fuzz_$(FUZZ_CORPUS_HARNESS) -merge=1 $(FUZZ_OPTS) \
		tests/c/corpus/$(FUZZ_CORPUS_HARNESS) tests/c/build/corpus/$(FUZZ_CORPUS_HARNESS)

# The pytest suite against an ASan+UBSan build of the extension, installed (not in place)
# into its own venv so the normal build is untouched. CPython itself is not instrumented:
# libasan is preloaded and leak detection is off (the C tests check leaks of the core).
ASAN_VENV := .venv-asan
ASAN_ENV := FRAISEQL_SANITIZE=address,undefined FRAISEQL_DEBUG=1
$(ASAN_VENV)/.installed: pyproject.toml setup.py
	[ -x $(ASAN_VENV)/bin/python ] || $(PYTHON) -m venv $(ASAN_VENV)
	$(ASAN_ENV) $(ASAN_VENV)/bin/python -m pip install -q ".[$(EXTRAS)]"
	touch $@

test-asan: $(VENV)/.installed $(ASAN_VENV)/.installed test-c
	$(ASAN_ENV) $(ASAN_VENV)/bin/python -m pip install -q --force-reinstall --no-deps .
	# from tests/, so that fraiseql is imported from the ASan venv, not the source tree
	cd tests && LD_PRELOAD=$$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 PYTHONMALLOC=malloc \
		../$(ASAN_VENV)/bin/python ../scripts/asan_pytest.py --rootdir=.. .
