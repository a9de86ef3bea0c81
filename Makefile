# newsflow: `make run` and `make test` set everything up from a fresh clone (Python 3.11 + pip only).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WAREHOUSE ?= lake
PAGES ?= examples/pages
# pytest-xdist processes for `make test`; a test file stays on one (its module fixtures are built once)
TEST_PROCESSES ?= 2

.DEFAULT_GOAL := help
.PHONY: help install run test lint format clean model

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install newsflow with its dev tools

run: $(STAMP) ## Run the ingest flow on the bundled example pages into ./lake
	$(BIN)/newsflow run $(PAGES) --warehouse $(WAREHOUSE)

test: $(STAMP) ## Run the whole test suite (TEST_PROCESSES=0: in this one process)
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist loadfile

model: $(STAMP) ## Train the entity tagger on ../shared/data/klue-ner into newsflow/profiles/model
	$(BIN)/python training/entities.py

lint: $(STAMP) ## ruff lint and format check, and the import-layer contract (pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP) ## Format the code with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: ## Remove the virtual environment and generated warehouse data
	rm -rf $(VENV) .pytest_cache .ruff_cache
	rm -rf $(WAREHOUSE)
