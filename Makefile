# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
export MIMAMORI_HOME ?= $(CURDIR)/var

.PHONY: venv demo test test-postgres check bench-venv clean

$(BIN)/.installed: pyproject.toml demo/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -e ./demo
	touch $@

venv: $(BIN)/.installed

demo: venv
	$(BIN)/mimamori demo --residents 2000 --days 21 --seed 7 --force --through-airflow

test: venv
	$(BIN)/python -m pytest
	$(MAKE) --no-print-directory test-postgres

# The integration tests again with each data home's warehouse in a fresh PostgreSQL database; where
# PostgreSQL is unreachable they are skipped with one reason (in CI, with CI=true, that is a failure).
test-postgres: venv
	MIMAMORI_TEST_DATABASE=postgresql $(BIN)/python -m pytest tests/integration

check: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Splink (and its DuckDB and pyarrow) for the linkage benchmark only, kept out of the product's environment.
bench-venv: venv
	$(PYTHON) -m venv .venv-bench
	.venv-bench/bin/pip install --quiet "splink==5.0.0" pandas

clean:
	rm -rf $(VENV) .venv-bench var var.truth.json var.consents test-artifacts
