# Two entry points for a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint screenshots clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## Install, load the demo blog and serve it with the reference frontend at http://127.0.0.1:8000
run: $(VENV)/.installed
	$(BIN)/inkwell serve --demo

## Install and run the whole test suite (PostgreSQL too when INKWELL_TEST_DATABASE_URL is set)
test: $(VENV)/.installed
	$(BIN)/python -m pytest

## Browser tests, saving the pages' screenshots to docs/screenshots (needs the chromium package)
screenshots: $(VENV)/.installed
	INKWELL_SCREENSHOT_DIR=docs/screenshots $(BIN)/python -m pytest -q tests/e2e

lint: $(VENV)/.installed
	$(BIN)/ruff check api search tests bench
	$(BIN)/mypy api search

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
