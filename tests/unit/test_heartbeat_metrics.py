"""Heartbeats in healthchecks.io's and Cronitor's formats; metrics per job, read back by
Prometheus' own parser; a dead receiver never fails the job."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from emulators.base import Emulator, Response
from jobs import secrets
from jobs.heartbeat import Heartbeat
from jobs.metrics import render_metrics, textfile_path, write_textfile
from jobs.model import Finding, Severity
from jobs.report import ActionRecord, RunReport

NOW = datetime(2026, 11, 23, 14, tzinfo=UTC)
JOB = "unassigned_first_response"


def receiver() -> Emulator:
    emulator = Emulator()
    ok = lambda req, m: Response(200, {"ok": True})  # noqa: E731
    emulator.route("GET", r"/ping/[\w-]+(/start|/\d+)?", ok)
    emulator.route("POST", r"/ping/[\w-]+(/start|/\d+)?", ok)
    emulator.route("GET", r"/p/key/[\w-]+", ok)
    emulator.route("POST", r"/metrics/job/[\w-]+", ok)
    emulator.start()
    return emulator


@pytest.fixture
def rx() -> Emulator:
    emulator = receiver()
    yield emulator
    emulator.stop()


def test_it_pings_start_then_the_exit_code_with_one_run_id(rx: Emulator) -> None:
    beat = Heartbeat(f"{rx.url}/ping/abc")
    beat.start()
    beat.finish(1, "read failed: jira: HTTP 503")
    start, end = rx.calls
    assert (start.method, start.path) == ("GET", "/ping/abc/start")
    assert (end.method, end.path) == ("POST", "/ping/abc/1")
    uuid.UUID(beat.run_id)  # healthchecks.io takes only a UUID as rid
    assert start.query == end.query == {"rid": [beat.run_id]}
    assert end.body == "read failed: jira: HTTP 503"


def test_a_success_posts_exit_code_zero_with_the_summary(rx: Emulator) -> None:
    Heartbeat(f"{rx.url}/ping/abc").finish(0, "job: examined=3 findings=1")
    [call] = rx.calls
    assert call.path == "/ping/abc/0" and call.body == "job: examined=3 findings=1"


def test_the_failure_reason_is_one_redacted_line(rx: Emulator) -> None:
    secrets.install({"SLACK_BOT_TOKEN": "xoxb-secret-DO-NOT-LEAK"})
    try:
        Heartbeat(f"{rx.url}/ping/abc").finish(2, "refused\nxoxb-secret-DO-NOT-LEAK\n")
    finally:
        secrets.install({})
    [call] = rx.calls
    assert "DO-NOT-LEAK" not in call.body and "\n" not in call.body
    assert call.body.startswith("refused [REDACTED]")


def test_cronitor_gets_run_then_complete_or_fail_with_a_series(rx: Emulator) -> None:
    ok = Heartbeat(f"{rx.url}/p/key/sla-hourly", fmt="cronitor")
    ok.start()
    ok.finish(0, "fine")
    failed = Heartbeat(f"{rx.url}/p/key/sla-hourly", fmt="cronitor")
    failed.finish(1, "read failed")
    queries = [c.query for c in rx.calls]
    assert [q["state"] for q in queries] == [["run"], ["complete"], ["fail"]]
    assert queries[0]["series"] == queries[1]["series"] == [ok.run_id]
    assert queries[2]["status_code"] == ["1"] and queries[2]["message"] == ["read failed"]
    assert all(c.method == "GET" and c.path == "/p/key/sla-hourly" for c in rx.calls)


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="heartbeat format"):
        Heartbeat("https://hc.example/ping/x", fmt="statuscake")


def test_a_dead_receiver_never_fails_the_job() -> None:
    rx = receiver()
    url = rx.url
    rx.stop()
    beat = Heartbeat(f"{url}/ping/abc", timeout=0.5)
    beat.start()
    beat.finish(0)  # no exception


def test_a_dry_run_does_not_ping(rx: Emulator) -> None:
    beat = Heartbeat(f"{rx.url}/ping/abc", dry_run=True)
    beat.start()
    beat.finish(0)
    assert rx.calls == []


# -- metrics ---------------------------------------------------------------------------------------


def _report(exit_code: int = 0, job: str = JOB) -> RunReport:
    report = RunReport(job, "r1", NOW - timedelta(seconds=3), NOW, False)
    report.findings = [Finding(job, "breach", "SS-1", Severity.BREACH, "x")]
    report.actions = [ActionRecord("slack_post", "#c", ["SS-1"], "sent")]
    report.api_calls = {"jira": 2, "slack": 1, "sheets": 0}
    report.finished_at = NOW
    report.exit_code = exit_code
    return report


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_cover_exit_code_duration_findings_actions_calls_and_last_success() -> None:
    got = samples(render_metrics([_report()], NOW))
    job = (("job", JOB),)
    assert got[("sla_job_findings", (("job", JOB), ("severity", "breach")))] == 1
    assert got[("sla_job_actions", (("job", JOB), ("status", "sent")))] == 1
    assert got[("sla_job_api_calls", (("job", JOB), ("system", "jira")))] == 2
    assert got[("sla_job_duration_seconds", job)] == 3.0
    assert got[("sla_job_exit_code", job)] == 0
    assert got[("sla_job_last_run_timestamp_seconds", job)] == NOW.timestamp()
    assert got[("sla_job_last_success_timestamp_seconds", job)] == NOW.timestamp()


def test_each_job_has_its_own_textfile_written_whole(tmp_path: Path) -> None:
    write_textfile(tmp_path, _report(job=JOB), NOW)
    write_textfile(tmp_path, _report(job="sla_report"), NOW)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["sla_monitor_sla_report.prom", f"sla_monitor_{JOB}.prom"]
    path = textfile_path(tmp_path, JOB)
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)  # node-exporter reads it
    got = samples(path.read_text())
    assert {labels for _, labels in got} == {
        (("job", JOB),),
        (("job", JOB), ("severity", "breach")),
        (("job", JOB), ("status", "sent")),
        *((("job", JOB), ("system", s)) for s in ("jira", "slack", "sheets")),
    }


def test_last_success_survives_a_failed_run(tmp_path: Path) -> None:
    write_textfile(tmp_path, _report(exit_code=0), NOW)
    later = NOW + timedelta(hours=1)
    failed = _report(exit_code=1)
    failed.started_at, failed.finished_at = later - timedelta(seconds=2), later
    write_textfile(tmp_path, failed, later)

    got = samples(textfile_path(tmp_path, JOB).read_text())
    job = (("job", JOB),)
    assert got[("sla_job_exit_code", job)] == 1
    assert got[("sla_job_last_run_timestamp_seconds", job)] == later.timestamp()
    assert got[("sla_job_last_success_timestamp_seconds", job)] == NOW.timestamp()


def test_a_first_run_that_fails_has_no_last_success(tmp_path: Path) -> None:
    write_textfile(tmp_path, _report(exit_code=1), NOW)
    names = {name for name, _ in samples(textfile_path(tmp_path, JOB).read_text())}
    assert "sla_job_last_success_timestamp_seconds" not in names
    assert "sla_job_exit_code" in names


def test_a_textfile_is_replaced_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_textfile(tmp_path, _report(), NOW)
    before = textfile_path(tmp_path, JOB).read_text()

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_textfile(tmp_path, _report(exit_code=1), NOW + timedelta(hours=1))
    assert textfile_path(tmp_path, JOB).read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"sla_monitor_{JOB}.prom"]


def test_the_pushgateway_gets_one_group_per_job_and_keeps_last_success(rx: Emulator) -> None:
    from jobs.metrics import push

    push(rx.url, _report(job=JOB), NOW)
    push(rx.url, _report(exit_code=1, job="sla_report"), NOW)
    ok, failed = rx.calls
    assert (ok.method, ok.path) == ("POST", f"/metrics/job/{JOB}")
    assert (failed.method, failed.path) == ("POST", "/metrics/job/sla_report")
    # POST replaces only the metrics it carries: a failed run leaves last_success as it was.
    assert "sla_job_last_success_timestamp_seconds" in ok.body
    assert "sla_job_last_success_timestamp_seconds" not in failed.body
    assert samples(failed.body)[("sla_job_exit_code", (("job", "sla_report"),))] == 1
