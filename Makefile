# Sinergi: `make run` starts the whole stack on a bare machine, `make test` checks it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
SERVICES := gateway registry opportunities matching reporting
export PYTHONPATH := $(CURDIR)

.PHONY: install run migrate seed test test-fast lint format bench bench-quick demo clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

migrate: install
	@mkdir -p var
	@for s in $(SERVICES); do \
		echo "migrating $$s"; \
		$(BIN)/alembic -c services/$$s/alembic.ini upgrade head || exit 1; \
	done

# The Procfile's seed process waits for the gateway, seeds the pilot when the programme is
# empty (deploy/pilot) and then idles, since honcho stops everything when one process exits.
run: migrate
	@$(PY) -m deploy.devstack banner
	$(BIN)/honcho start -f Procfile

# The pilot against a stack that is already running (`make run` in another terminal).
seed: install
	$(PY) -m deploy.pilot.seed

demo: install
	$(PY) -m deploy.pilot.demo

lint: install
	$(BIN)/ruff check shared services tests bench deploy
	$(BIN)/ruff format --check shared services tests bench deploy
	$(BIN)/mypy shared services
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix shared services tests bench deploy
	$(BIN)/ruff format shared services tests bench deploy

test: lint
	$(BIN)/pytest

test-fast: install
	$(BIN)/pytest -x -q

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

# Benchmarks (bench/README.md): wrk is the load generator, installed from Debian when missing.
bench: install
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) -m bench

bench-quick: install
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) -m bench --quick

# Issue 9: pip-audit over the installed environment, then the security and fault tests.
.PHONY: check-security
check-security: install
	$(PY) -m tests.security.audit
	$(BIN)/pytest tests/security tests/faults -q
