# Oversight: `make demo` and `make test` are the quick start; both set everything up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One worker by default: on two workers (`make test PYTEST_ARGS="-n 2 --dist loadfile"`,
# 25 min instead of 36 here) the pool's kill -9 tests miss their timing on a loaded host.
PYTEST_ARGS ?= --durations=25

.PHONY: setup system-deps demo test lint typecheck pytest bench docs clean

setup: system-deps $(VENV)/.installed

system-deps:
	@scripts/system-deps.sh

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

demo: setup
	@scripts/demo.sh

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed
	$(BIN)/mypy

pytest: setup
	scripts/with-postgres.sh $(BIN)/pytest $(PYTEST_ARGS)

test: setup lint typecheck pytest

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

docs: $(VENV)/.installed
	$(BIN)/python -m oversight.cli.docs > docs/cli.md

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
