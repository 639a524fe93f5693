# The two commands of the README are `make demo` and `make test`; each does all set-up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= test,server,bench
C_SOURCES := $(wildcard src/_fraiseql/*.c src/_fraiseql/*.h)

.PHONY: demo test build test-asan fuzz bench clean

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
