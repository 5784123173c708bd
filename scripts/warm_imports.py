"""Import everything a job run imports, so Python writes their bytecode (scripts/slim-venv.sh).

Run from the directory holding the ``jobs`` package, with bytecode writing on. Nothing is read
or sent: modules are imported, and one year of the desk's holidays is computed.
"""

from __future__ import annotations

import importlib

RUNTIME_MODULES = (
    "jobs.cli",
    "jobs.adapters.jira",
    "jobs.adapters.slack",
    "jobs.adapters.sheets",
    "jobs.ledger.sqlite",
    "jobs.ledger.postgres",
    "jobs.metrics",
    "jobs.heartbeat",
    "jobs.deploy",
    "jobs.doctor.jira",
    "jobs.doctor.slack",
    "jobs.doctor.sheet",
    "jobs.doctor.local",
    "matplotlib.pyplot",
    "openpyxl",
    "gspread",
    "google.oauth2.service_account",
    "google.auth.transport.requests",
    "croniter",
    "prometheus_client",
    "psycopg",
    "slack_sdk",
    "jira",
)


def main() -> None:
    from jobs.registry import JOB_MODULES

    for name in (*RUNTIME_MODULES, *JOB_MODULES):
        importlib.import_module(name)
    from holidays import country_holidays

    country_holidays("US", years=2026)


if __name__ == "__main__":
    main()
