# Two commands for a fresh machine (Python >= 3.11 and git):
#   make run    install pystd into .venv and check the example project
#   make test   install pystd with its test tools and run every check and test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint install bench docs clean

$(BIN)/pystd: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/pystd

# pystd exits 1 when it finds problems, which is the point of the example. It runs from the
# project's root, as on your own project (from here the path would say examples/, and
# example folders are held to the test-file standard for secrets).
run: install
	cd examples/shop && $(abspath $(BIN))/pystd check || test $$? -eq 1

lint: install
	$(BIN)/ruff check .
	$(BIN)/pystd check bot rules bench

test: lint
	$(BIN)/python -m pytest

bench: install
	bash bench/corpus.sh
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python bench/engine.py .bench/corpus

docs: install
	$(BIN)/pystd rule --markdown > docs/rules.md

clean:
	rm -rf $(VENV) .bench .pytest_cache .ruff_cache
