# The one task runner. `make demo` and `make test` work on a fresh machine with
# only Python 3.11 and make: the first target they need builds .venv by itself.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
export GX_ANALYTICS_ENABLED := False
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: install demo test coverage lint fmt bench down clean mutation chromium

install: $(STAMP)

# Bytecode is compiled once at install: where PYTHONDONTWRITEBYTECODE is set (as here),
# every `hub` process, worker and API started by the tests would otherwise compile each
# module it imports again (about half of a process's start-up).
$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c constraints.txt -e '.[dev]'
	$(BIN)/python -m compileall -q -j 0 hub streams warehouse pipelines contracts schemas producers
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hub demo

test: $(STAMP) lint chromium
	$(BIN)/python -m pytest -p no:cacheprovider --durations=20 tests

# The same tests with a line-coverage report: tracing costs about a quarter more time, so it
# is kept out of `make test` (which CI runs, within its 15 minutes).
coverage: $(STAMP) chromium
	$(BIN)/python -m pytest -p no:cacheprovider --cov --cov-report=term:skip-covered tests

# The browser tier (tests/browser/) drives Debian's Chromium (decision 0024): installed here
# when it is missing and apt-get may run (as root, or by sudo without a password); otherwise
# `make test` stops and says how to install it.
CHROMIUM := /usr/bin/chromium

chromium:
	@test -x $(CHROMIUM) && exit 0; \
	if [ "$$(id -u)" = 0 ]; then as_root=""; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then as_root="sudo -n"; \
	else echo "The browser tests need Debian's Chromium at $(CHROMIUM), and apt-get cannot run" \
	  "here. Install it, then run make test again:" \
	  "sudo apt-get update && sudo apt-get install --no-install-recommends chromium" >&2; exit 1; fi; \
	command -v apt-get >/dev/null || { echo "The browser tests need Chromium at $(CHROMIUM)," \
	  "and this machine has no apt-get: install Debian's (or your system's) chromium there." >&2; exit 1; }; \
	echo "Installing Debian's chromium for the browser tests (a few minutes, once)"; \
	$$as_root apt-get update -qq && \
	$$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	  chromium >/dev/null && test -x $(CHROMIUM)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Mutation testing of the KPI rules and engine, the contract decision, pseudonyms and the
# cohort fold against the unit tier ([tool.mutmut] in pyproject.toml); 15-25 minutes, so
# not part of `make test`. Each run starts afresh, because mutmut keeps a mutant's verdict
# in ./mutants even after the tests change; ./mutants (git-ignored) stays for `mutmut show`.
MUTATION_CHILDREN ?= 2

mutation: $(STAMP)
	rm -rf mutants
	$(BIN)/mutmut run --max-children $(MUTATION_CHILDREN) && $(BIN)/mutmut results

bench: $(STAMP)
	$(BIN)/hub bench produce

down: $(STAMP)
	$(BIN)/hub down

clean:
	rm -rf $(VENV) .hub .mypy_cache .ruff_cache .pytest_cache
