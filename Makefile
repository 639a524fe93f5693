# The two commands of the README are `make demo` and `make test`; each does all set-up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= test,server,bench
C_SOURCES := $(wildcard src/_fraiseql/*.c src/_fraiseql/*.h)

.PHONY: demo test build test-asan fuzz bench bench-core clean

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

demo: build
	$(PY) -m fraiseql.demo

clean:
	rm -rf build $(VENV) .venv-asan fraiseql/*.so fraiseql/.built tests/c/build

# C-level benchmark of the core, SSE2 and portable scanning side by side.
CORE_SRC := src/_fraiseql/rewrite.c src/_fraiseql/selection.c src/_fraiseql/buf.c
bench-core: $(VENV)/.installed
	mkdir -p benchmarks/out
	$(PY) benchmarks/bench_rewrite.py --dump benchmarks/out
	$(CC) -O3 -std=c11 -Isrc/_fraiseql -DFQ_NO_SIMD_LABEL='"sse2"' benchmarks/bench_core.c $(CORE_SRC) -o benchmarks/out/bench_core_sse2
	$(CC) -O3 -std=c11 -Isrc/_fraiseql -DFQ_NO_SIMD -DFQ_NO_SIMD_LABEL='"portable"' benchmarks/bench_core.c $(CORE_SRC) -o benchmarks/out/bench_core_portable
	benchmarks/out/bench_core_sse2 benchmarks/out
	benchmarks/out/bench_core_portable benchmarks/out
