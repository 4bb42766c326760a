# Two commands for a fresh machine (Python >= 3.11 and git):
#   make run    install pystd into .venv and check the example project
#   make test   install pystd with its test tools and run every check and test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint install bench docs clean browser-deps db-deps

# setuptools tells every editable install, as a warning, that a folder named like the package
# may shadow it; pystd has none (bot/ and rules/ install as pystd.bot and pystd.rules).
$(BIN)/pystd: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/pystd

# pystd exits 1 when it finds problems, which is the point of the example. It runs from the
# project's root, as on your own project (from here the path would say examples/, and
# example folders are held to the test-file standard for secrets).
run: install
	cd examples/shop && $(abspath $(BIN))/pystd check || test $$? -eq 1

# mypy keeps its cache in .mypy_cache: a run after a small change takes seconds. It reads
# bot/ and rules/ through .typing/pystd/, links named as the code imports them (pystd.bot,
# pystd.rules), since it cannot follow the editable install's import hook.
lint: install
	@mkdir -p .typing/pystd && ln -sfn ../../bot .typing/pystd/bot && ln -sfn ../../rules .typing/pystd/rules
	$(BIN)/ruff check .
	$(BIN)/pystd check bot rules bench
	$(BIN)/mypy

test: lint browser-deps db-deps
	$(BIN)/python -m pytest

# PostgreSQL's server binaries for the job queue's contract tests on PostgreSQL (they start a
# throw-away cluster; installed as root when missing, else those tests are skipped).
db-deps:
	@if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	  else \
	    echo "make: no PostgreSQL server binaries: its queue tests will be skipped (apt-get install postgresql)"; \
	  fi; \
	fi

# Headless Chromium for the browser test of /setup (Debian packages; installed as root when
# missing, else the test is skipped with a message saying so).
BROWSER_PACKAGES := chromium chromium-driver fonts-dejavu-core
browser-deps:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES) >/dev/null; \
	  else \
	    echo "make: no chromium/chromedriver: the browser test will be skipped (apt-get install $(BROWSER_PACKAGES))"; \
	  fi; \
	fi

bench: install
	bash bench/corpus.sh
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python bench/engine.py .bench/corpus

docs: install
	$(BIN)/pystd rule --markdown > docs/rules.md

clean:
	rm -rf $(VENV) .bench .pytest_cache .ruff_cache .mypy_cache .typing
