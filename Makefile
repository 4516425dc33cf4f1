# DX Tracker — `make run` starts the platform, `make test` runs everything CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck unit integration bench cluster-up demo clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Run the whole platform on the embedded default (SQLite, in-process bus, mail to ./var/mail).
run: $(STAMP)
	$(BIN)/dx run

## Everything CI checks: lint, types, the whole test suite (PostgreSQL and a broker included).
test: $(STAMP)
	bash scripts/ensure-test-services.sh
	bash scripts/install-test-tools.sh
	bash scripts/install-browser.sh
	$(MAKE) lint typecheck
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy libs services tests bench deploy

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest -m integration

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache tests/artifacts

## The cluster without containers: broker, PostgreSQL schemas, every service as a process.
cluster-up: $(STAMP)
	$(BIN)/python -m deploy.local.cluster up

## Opt-in: load a clearly labelled SYNTHETIC per-agency dataset into the platform `make run` started.
demo: $(STAMP)
	$(BIN)/dx demo

## Benchmarks against this machine's raw limits (prints a table, writes bench/results/*.json).
bench: $(STAMP)
	$(BIN)/python -m bench
