"""Operating the jobs through the CLI: heartbeats and metrics of a real run, the ledger
commands, generated systemd units, and a secret that reaches the process's own stderr."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from prometheus_client.parser import text_string_to_metric_families

from emulators.base import Emulator, Response
from jobs import deploy
from jobs.config import load_settings
from jobs.ledger import SCHEMA_VERSION
from jobs.registry import all_jobs
from tests.conftest import ROOT, run_cli, write_settings

JOB = "unassigned_first_response"
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in New York


@pytest.fixture
def receiver() -> Iterator[Emulator]:
    emulator = Emulator()
    ok = lambda req, m: Response(200, {"ok": True})  # noqa: E731
    emulator.route("GET", r"/ping/[\w-]+(/start|/\d+)?", ok)
    emulator.route("POST", r"/ping/[\w-]+(/start|/\d+)?", ok)
    emulator.start()
    yield emulator
    emulator.stop()


def _settings(receiver: Emulator, metrics: Path) -> dict:
    return {
        "run": {"retry_budget": "0s", "http_timeout": "2s"},
        "metrics": {"textfile_dir": str(metrics)},
        "jobs": {JOB: {"heartbeat_url": f"{receiver.url}/ping/check-1"}},
    }


def _samples(path: Path) -> dict[str, float]:
    return {
        s.name: s.value
        for family in text_string_to_metric_families(path.read_text())
        for s in family.samples
        if not s.labels.keys() - {"job"}
    }


def test_a_run_pings_its_check_and_writes_its_metrics(
    desk, receiver: Emulator, tmp_path: Path
) -> None:
    metrics = tmp_path / "textfiles"
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=_settings(receiver, metrics))

    ok = desk.run("run", JOB, "--now", NOW.isoformat())
    after_ok = _samples(metrics / f"sla_monitor_{JOB}.prom")
    stack.slack.fail_next("chat.postMessage", "channel_not_found", times=50)
    stack.slack.fail_next("chat.update", "channel_not_found", times=50)
    failed = desk.run("run", JOB, "--now", (NOW + timedelta(hours=3)).isoformat())

    assert ok.code == 0 and failed.code == 1, failed.err
    start, success, start_again, failure = receiver.calls
    assert (start.path, success.path, failure.path) == (
        "/ping/check-1/start",
        "/ping/check-1/0",
        "/ping/check-1/1",
    )
    assert start.query == success.query != start_again.query == failure.query
    uuid.UUID(start.query["rid"][0])
    assert success.body.startswith(f"{JOB}: examined=")
    assert failure.body.startswith("slack_") and "channel_not_found" in failure.body
    assert "\n" not in failure.body
    got = _samples(metrics / f"sla_monitor_{JOB}.prom")
    assert after_ok["sla_job_exit_code"] == 0 and got["sla_job_exit_code"] == 1
    success = "sla_job_last_success_timestamp_seconds"
    assert got[success] == after_ok[success] == after_ok["sla_job_last_run_timestamp_seconds"]


def test_a_dry_run_pings_nothing_and_writes_no_metrics(
    desk, receiver: Emulator, tmp_path: Path
) -> None:
    metrics = tmp_path / "textfiles"
    desk("unassigned_first_response.yaml", now=NOW, settings=_settings(receiver, metrics))

    assert desk.run("run", JOB, "--now", NOW.isoformat(), "--dry-run").code == 0
    assert receiver.calls == [] and not metrics.exists()


# -- the ledger commands ---------------------------------------------------------------------------


def test_ledger_migrate_creates_a_private_sqlite_ledger_and_status_describes_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state" / "ledger.db"
    env = {"JOBS_CONFIG": str(write_settings(tmp_path)), "JOBS_LEDGER_URL": f"sqlite:///{path}"}

    migrated = run_cli(["ledger", "migrate"], env)
    run_cli(["silence", "SS-1", "--for", "4h", "--reason", "on holiday"], env)
    status = run_cli(["ledger", "status"], env)

    assert migrated.code == 0 and f"SQLite file {path}" in migrated.out
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    assert status.code == 0, status.err
    lines = status.out.splitlines()
    assert lines[:3] == [
        f"ledger: SQLite file {path}",
        "reachable: yes",
        f"schema version: {SCHEMA_VERSION} (this release: {SCHEMA_VERSION})",
    ]
    assert "rows in silences: 1" in lines


@pytest.mark.postgres
def test_ledger_status_reaches_postgresql_and_never_shows_its_password(tmp_path: Path) -> None:
    import psycopg

    from tests.ledger.conftest import postgres_base_url

    base = postgres_base_url()
    schema = f"cli_status_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    scheme, rest = base.split("://", 1)
    user, host = rest.split("@", 1)
    password = "pg:Pass/word@DO-NOT-LEAK"
    separator = "&" if "?" in host else "?"
    url = (
        f"{scheme}://{user}:{quote(password, safe='')}@{host}"
        f"{separator}options={quote(f'-csearch_path={schema}', safe='')}"
    )
    env = {"JOBS_CONFIG": str(write_settings(tmp_path)), "JOBS_LEDGER_URL": url}
    try:
        migrated = run_cli(["ledger", "migrate"], env)
        status = run_cli(["ledger", "status"], env)
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")

    assert migrated.code == 0 and status.code == 0, migrated.err + status.err
    assert status.out.startswith(f"ledger: {scheme}://{user}:[REDACTED]@{host.split('/')[0]}/")
    assert "reachable: yes" in status.out
    assert f"schema version: {SCHEMA_VERSION} (this release: {SCHEMA_VERSION})" in status.out
    assert "rows in decisions: 0" in status.out
    assert "DO-NOT-LEAK" not in migrated.out + status.out + status.err


def test_ledger_status_of_an_unreachable_database_is_one_line_exit_2(tmp_path: Path) -> None:
    env = {
        "JOBS_CONFIG": str(write_settings(tmp_path)),
        "JOBS_LEDGER_URL": "postgresql://sla:hunter2-DO-NOT-LEAK@127.0.0.1:1/sla?connect_timeout=2",
    }
    status = run_cli(["ledger", "status"], env)
    assert status.code == 2
    assert status.err.startswith("error: ledger: cannot open") and status.err.count("\n") == 1
    assert "DO-NOT-LEAK" not in status.err


# -- systemd units ------------------------------------------------------------------------------


def test_deploy_systemd_writes_a_service_and_a_timer_per_enabled_job(tmp_path: Path) -> None:
    settings_path = write_settings(tmp_path, {"jobs": {"sla_report": {"enabled": False}}})
    result = run_cli(
        ["deploy", "systemd", "--out", str(tmp_path / "units")], {"JOBS_CONFIG": str(settings_path)}
    )

    settings = load_settings(settings_path, {n: j.spec.config_model for n, j in all_jobs().items()})
    written = {p.name: p.read_text() for p in (tmp_path / "units").iterdir()}
    assert result.code == 0, result.err
    assert written == deploy.render_systemd(settings)
    # A service and a timer per enabled job, and the Slack listener's long-running service.
    assert len(written) == 2 * (len(settings.jobs) - 1) + 1
    assert "sla-monitor-slack.service" in written
    assert not any("sla-report" in name for name in written)


# -- the process's own streams ---------------------------------------------------------------------


def test_the_process_redacts_its_own_stderr(tmp_path: Path) -> None:
    token = "proc-token-DO-NOT-LEAK-123"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBS_", "JIRA_", "SLACK_"))}
    env.update(
        {
            "JIRA_API_TOKEN": token,
            "JOBS_LOG_LEVEL": token,
            "JOBS_CONFIG": str(write_settings(tmp_path)),
        }
    )
    result = subprocess.run(
        [sys.executable, "-m", "jobs", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: JOBS_LOG_LEVEL='[REDACTED]' is not a log level")
    assert result.stderr.count("\n") == 1 and token not in result.stderr
