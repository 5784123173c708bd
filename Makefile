# Every target works on a fresh clone: the first one that needs Python creates .venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

JOB     ?=
DRY_RUN ?=
NOW     ?=
REPORT  ?=

.PHONY: install test lint typecheck demo run-job bench reliability check-config deploy clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check jobs emulators tests bench
	$(PY) -m ruff format --check jobs emulators tests bench

typecheck: $(STAMP)
	$(PY) -m mypy jobs

check-config: $(STAMP)
	$(PY) -m jobs check-config

# The embedded default: local Jira/Slack/Sheets emulators with a sample desk, SQLite ledger.
demo: $(STAMP)
	$(PY) -m emulators.demo

run-job: $(STAMP)
	@test -n "$(JOB)" || (echo "usage: make run-job JOB=name [DRY_RUN=1] [NOW=2026-11-23T09:00:00-05:00] [REPORT=path]" >&2; exit 2)
	$(PY) -m jobs run $(JOB) $(if $(DRY_RUN),--dry-run) $(if $(NOW),--now $(NOW)) $(if $(REPORT),--report $(REPORT))

bench: $(STAMP)
	$(PY) -m bench

reliability: $(STAMP)
	$(PY) -m bench.reliability

deploy: $(STAMP)
	$(PY) -m jobs deploy k8s
	$(PY) -m jobs deploy crontab --out crontab.example

clean:
	rm -rf $(VENV) .state .pytest_cache .mypy_cache .ruff_cache
