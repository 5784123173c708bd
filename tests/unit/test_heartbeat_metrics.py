"""Heartbeat pings reach a receiver; a dead receiver never fails the job; metrics render."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from emulators.base import Emulator, Response
from jobs.heartbeat import Heartbeat
from jobs.metrics import render_metrics
from jobs.model import Finding, Severity
from jobs.report import ActionRecord, RunReport


def receiver() -> Emulator:
    emulator = Emulator()
    emulator.route("GET", r"/ping/[\w-]+(/start|/\d+)?", lambda req, m: Response(200, {"ok": True}))
    emulator.start()
    return emulator


def test_it_pings_start_then_the_exit_code() -> None:
    rx = receiver()
    try:
        beat = Heartbeat(f"{rx.url}/ping/abc")
        beat.start()
        beat.finish(1)
        assert [c.path for c in rx.calls] == ["/ping/abc/start", "/ping/abc/1"]
    finally:
        rx.stop()


def test_a_dead_receiver_never_fails_the_job() -> None:
    rx = receiver()
    url = rx.url
    rx.stop()
    beat = Heartbeat(f"{url}/ping/abc", timeout=0.5)
    beat.start()
    beat.finish(0)  # no exception


def test_a_dry_run_does_not_ping() -> None:
    rx = receiver()
    try:
        Heartbeat(f"{rx.url}/ping/abc", dry_run=True).start()
        assert rx.calls == []
    finally:
        rx.stop()


def test_metrics_cover_findings_actions_calls_duration_and_last_success() -> None:
    now = datetime(2026, 11, 23, 14, tzinfo=UTC)
    report = RunReport("unassigned_first_response", "r1", now - timedelta(seconds=3), now, False)
    report.findings = [Finding("unassigned_first_response", "breach", "SS-1", Severity.BREACH, "x")]
    report.actions = [ActionRecord("slack_post", "#c", ["SS-1"], "sent")]
    report.api_calls = {"jira": 2, "slack": 1, "sheets": 0}
    report.finished_at = now
    text = render_metrics([report], now)
    assert 'sla_job_findings{job="unassigned_first_response",severity="breach"} 1' in text
    assert 'sla_job_actions{job="unassigned_first_response",status="sent"} 1' in text
    assert 'sla_job_api_calls{job="unassigned_first_response",system="jira"} 2' in text
    assert 'sla_job_duration_seconds{job="unassigned_first_response"} 3.000' in text
    assert (
        'sla_job_last_success_timestamp_seconds{job="unassigned_first_response"} '
        f"{now.timestamp():.0f}" in text
    )
