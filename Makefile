# Every target works on a fresh clone: the first one that needs Python creates .venv.
#
#   make install   the runtime only, from requirements.lock (hash-checked): what a host runs
#   make dev       the runtime plus the test, lint and benchmark tools (make test/demo use it)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

JOB     ?=
DRY_RUN ?=
NOW     ?=
REPORT  ?=

# make test and make reliability run the PostgreSQL ledger tests against a server of their own
# (scripts/postgres.sh), unless JOBS_TEST_POSTGRES_URL names one; no test may skip.
WITH_POSTGRES = set -o pipefail; \
	url="$${JOBS_TEST_POSTGRES_URL:-$$(bash scripts/postgres.sh | tail -n 1)}" || { \
	  echo "error: could not start PostgreSQL for the ledger tests (scripts/postgres.sh failed); set JOBS_TEST_POSTGRES_URL to a server" >&2; exit 1; }; \
	test -n "$$url" || { echo "error: scripts/postgres.sh printed no URL" >&2; exit 1; }; \
	export JOBS_TEST_POSTGRES_URL="$$url" JOBS_TEST_NO_SKIP=1;

SHELL := /bin/bash

.PHONY: install dev test lint typecheck demo run-job bench reliability check-config doctor deploy lock \
	image-size clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	mkdir -p -m 700 .state
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

install: $(STAMP)

dev: $(DEV_STAMP)

# The whole check CI runs: lint, strict types, then every test.
test: lint typecheck
	@$(WITH_POSTGRES) $(PY) -m pytest -q

lint: $(DEV_STAMP)
	$(PY) -m ruff check jobs emulators tests bench scripts
	$(PY) -m ruff format --check jobs emulators tests bench scripts

typecheck: $(DEV_STAMP)
	$(PY) -m mypy jobs

check-config: $(STAMP)
	$(PY) -m jobs check-config

# Read-only preflight against the configured site (the environment's credentials).
doctor: $(STAMP)
	$(PY) -m jobs doctor

# The embedded default: local Jira/Slack/Sheets emulators with a sample desk, SQLite ledger.
demo: $(DEV_STAMP)
	$(PY) -m emulators.demo

run-job: $(STAMP)
	@test -n "$(JOB)" || (echo "usage: make run-job JOB=name [DRY_RUN=1] [NOW=2026-11-23T09:00:00-05:00] [REPORT=path]" >&2; exit 2)
	$(PY) -m jobs run $(JOB) $(if $(DRY_RUN),--dry-run) $(if $(NOW),--now $(NOW)) $(if $(REPORT),--report $(REPORT))

bench: $(DEV_STAMP)
	$(PY) -m bench

reliability: $(DEV_STAMP)
	@$(WITH_POSTGRES) $(PY) -m bench.reliability

deploy: $(STAMP)
	$(PY) -m jobs deploy k8s
	$(PY) -m jobs deploy systemd
	$(PY) -m jobs deploy crontab --out crontab.example

# Re-pin the runtime dependencies (with hashes) after changing pyproject.toml.
lock: $(DEV_STAMP)
	$(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-find-links --no-emit-index-url --no-emit-trusted-host \
		-o requirements.lock pyproject.toml

# What the runtime image adds to its slim base, from installed sizes (needs PyPI, not Docker).
image-size: $(DEV_STAMP)
	$(PY) scripts/image_size.py

clean:
	rm -rf $(VENV) .state .pytest_cache .mypy_cache .ruff_cache
