# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
export MIMAMORI_HOME ?= $(CURDIR)/var

.PHONY: venv demo test test-postgres check lock lock-upgrade bench-venv clean

# The environment is exactly requirements/dev.lock (uv pip sync removes anything else), then the project
# and the synthetic town (mimamori-demo) are installed over it without dependencies.
$(BIN)/.installed: pyproject.toml demo/pyproject.toml requirements/dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "$$(grep '^uv==' requirements/dev.lock)"
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements/dev.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e . -e ./demo
	touch $@

venv: $(BIN)/.installed

demo: venv
	$(BIN)/mimamori demo --residents 2000 --days 21 --seed 7 --force --through-airflow

# Both cores (pytest-xdist, one worker per test file so a file's shared town is built once); set
# PYTEST_WORKERS=0 to run in this process, e.g. under a debugger.
PYTEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

test: venv
	$(PYTEST)
	$(MAKE) --no-print-directory test-postgres

# The integration tests again with each data home's warehouse in a fresh PostgreSQL database; where
# PostgreSQL is unreachable they are skipped with one reason (in CI, with CI=true, that is a failure).
test-postgres: venv
	MIMAMORI_TEST_DATABASE=postgresql $(PYTEST) tests/integration

# Pin what pyproject.toml declares: the development environment (requirements/dev.lock, used by make venv
# and .ci/run) and, with the same versions, the product alone (requirements/runtime.lock, for the
# Dockerfile). `make lock` keeps every existing pin and pins what is new; `make lock-upgrade` moves every
# dependency to its newest allowed version. Review the diff, run make test, commit both files.
LOCK_FLAGS := --quiet --python-version 3.11 --no-emit-package mimamori --no-emit-package mimamori-demo
LOCK_DIR ?= requirements
lock: venv
	$(BIN)/uv pip compile $(LOCK_FLAGS) $(UPGRADE) requirements/dev.in -o $(LOCK_DIR)/dev.lock
	$(BIN)/uv pip compile $(LOCK_FLAGS) requirements/runtime.in -c $(LOCK_DIR)/dev.lock -o $(LOCK_DIR)/runtime.lock

lock-upgrade:
	$(MAKE) --no-print-directory lock UPGRADE=--upgrade

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
