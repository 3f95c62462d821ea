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

run: migrate
	@$(PY) -m deploy.devstack banner
	$(BIN)/honcho start -f Procfile

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
