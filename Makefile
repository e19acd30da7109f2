# `make run` serves the API on http://127.0.0.1:8000, `make test` runs every
# test. Both create .venv with python3 (3.11 or newer) when it is missing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Extra options: `make run SERVE_ARGS="--port 9000"`, `make test PYTEST_ARGS="-x -k feed"`.
SERVE_ARGS ?=
PYTEST_ARGS ?=

# newman installed by scripts/ensure-newman.sh lives here.
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(PATH)

.PHONY: run test services

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "livify needs Python 3.11 or newer, but $(PYTHON) is $$($(PYTHON) --version 2>&1)." >&2; \
		echo "Run make with PYTHON=/path/to/python3.11 or newer." >&2; \
		exit 1; }
	$(PYTHON) -m venv $(VENV)

# The stamp files reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --editable '.[postgres,redis,loadtest]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --editable '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/livify seed --if-empty
	$(BIN)/livify serve $(SERVE_ARGS)

services:
	bash scripts/ensure-newman.sh
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-redis.sh
	bash scripts/ensure-prometheus.sh
	bash scripts/ensure-varnish.sh

# pytest exits with 5 when it collected no tests, which here means a wrong
# PYTEST_ARGS or a broken test tree, so that fails too, with a hint.
test: $(VENV)/.installed-dev services
	@status=0; $(BIN)/python -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then \
		echo "make test: pytest collected no tests; check PYTEST_ARGS ('$(PYTEST_ARGS)')" >&2; \
	fi; \
	exit $$status
