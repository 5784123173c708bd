"""The CLI contract, end to end through the shared pipeline, with a trivial job.

The job posts one grouped Slack message for the items in its config; everything else
(exit codes, dry run, report, dedup, silences, decision log) is the real machinery.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.slack import SlackEmulator
from jobs import registry
from jobs.config import JobConfig
from jobs.job import Job, JobSpec, Work
from jobs.model import Evaluation, Finding, Severity
from jobs.render.alerts import grouped_alerts
from tests.conftest import run_cli, write_settings

NOW = "2026-11-23T14:00:00+00:00"
LATER = "2026-11-24T15:00:00+00:00"
CHANNEL = "#support-sla"


class EchoConfig(JobConfig):
    schedule: str = "*/5 * * * *"
    items: list[str] = ["SS-1", "SS-2"]
    labels: dict[str, list[str]] = {}


class EchoJob(Job):
    spec = JobSpec("echo", "Alerts once per configured item", EchoConfig, frozenset({"slack"}))

    def fetch(self, ctx: Any) -> list[str]:
        return list(ctx.job_config.items)

    def evaluate(self, data: list[str], ctx: Any) -> Evaluation:
        findings = [
            Finding(
                job="echo",
                rule="present",
                item=item,
                severity=Severity.WARNING,
                summary=f"{item} <!channel> is present",
                facts={"labels": ctx.job_config.labels.get(item, [])},
                url=ctx.browse_url(item),
                realert=ctx.job_config.realert.wall,
            )
            for item in data
        ]
        return Evaluation(findings=findings, examined=len(data))

    def plan(self, work: Work[list[str]], ctx: Any) -> list[Any]:
        return grouped_alerts(
            work.fresh, channel=ctx.alert_channel, title=lambda s, n: f"{n} echo item(s)"
        )


class BrokenJob(EchoJob):
    spec = JobSpec("broken", "Always crashes", EchoConfig, frozenset({"slack"}))

    def fetch(self, ctx: Any) -> list[str]:
        raise RuntimeError("boom")


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    emulator = SlackEmulator(
        [{"id": "U0AGENT01", "email": "a@example.test", "name": "a"}], [CHANNEL]
    )
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def env(tmp_path: Path, slack: SlackEmulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    jobs = {"echo": EchoJob, "broken": BrokenJob}
    monkeypatch.setattr(registry, "all_jobs", lambda: jobs)
    monkeypatch.setattr(
        registry, "catalog", lambda: {n: registry.JobEntry.of(j) for n, j in jobs.items()}
    )
    return {
        "JOBS_CONFIG": str(write_settings(tmp_path, only_jobs=())),
        "JOBS_LEDGER_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        "SLACK_BOT_TOKEN": slack.token,
        "SLACK_API_URL": slack.api_url,
        "JIRA_URL": "https://desk.example.test",
    }


def test_list_shows_each_job_with_schedule_and_description(env: dict[str, str]) -> None:
    result = run_cli(["list"], env)
    assert result.code == 0
    assert "echo" in result.out and "*/5 * * * *" in result.out
    assert "Alerts once per configured item" in result.out


def test_run_sends_once_and_a_rerun_inside_the_window_is_silent(
    env: dict[str, str], slack: SlackEmulator, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    first = run_cli(["run", "echo", "--now", NOW, "--report", str(report)], env)
    assert first.code == 0, first.err
    messages = slack.messages_in(CHANNEL)
    assert len(messages) == 1
    assert "&lt;!channel&gt;" in messages[0].text  # ticket text is escaped
    data = json.loads(report.read_text())
    assert data["job"] == "echo" and data["dry_run"] is False
    assert {f["item"] for f in data["findings"]} == {"SS-1", "SS-2"}
    assert data["actions"][0]["status"] == "sent"
    assert data["api_calls"]["slack"] >= 1
    for key in ("started_at", "finished_at", "errors"):
        assert key in data

    second = run_cli(["run", "echo", "--now", NOW, "--report", str(report)], env)
    assert second.code == 0
    assert len(slack.messages_in(CHANNEL)) == 1
    assert all(
        s["outcome"] == "suppressed_duplicate" for s in json.loads(report.read_text())["suppressed"]
    )

    after_window = run_cli(["run", "echo", "--now", LATER], env)
    assert after_window.code == 0
    assert len(slack.messages_in(CHANNEL)) == 2


def test_dry_run_prints_the_full_text_sends_nothing_and_records_nothing(
    env: dict[str, str], slack: SlackEmulator
) -> None:
    dry = run_cli(["run", "echo", "--dry-run", "--now", NOW], env)
    assert dry.code == 0
    assert f"-> {CHANNEL}" in dry.out and "SS-1" in dry.out and "is present" in dry.out
    assert slack.calls_to("chat.postMessage") == []
    real = run_cli(["run", "echo", "--now", NOW], env)
    assert real.code == 0
    assert len(slack.messages_in(CHANNEL)) == 1  # the dry run left no trace in the ledger


def test_naive_now_is_a_usage_error(env: dict[str, str], slack: SlackEmulator) -> None:
    result = run_cli(["run", "echo", "--now", "2026-11-23T09:00:00"], env)
    assert result.code == 2
    assert "timezone" in result.err and len(result.err.strip().splitlines()) == 1
    assert slack.calls == []


def test_unknown_job_is_a_usage_error_naming_the_known_jobs(env: dict[str, str]) -> None:
    result = run_cli(["run", "nope"], env)
    assert result.code == 2
    assert "unknown job 'nope'" in result.err and "echo" in result.err


def test_missing_credentials_stop_before_anything_is_read_or_sent(
    env: dict[str, str], slack: SlackEmulator
) -> None:
    env = {k: v for k, v in env.items() if k != "SLACK_BOT_TOKEN"}
    result = run_cli(["run", "echo", "--now", NOW], env)
    assert result.code == 2
    assert "SLACK_BOT_TOKEN" in result.err
    assert slack.calls == []


def test_a_calendar_that_cannot_be_built_stops_the_run_before_anything_is_read_or_sent(
    env: dict[str, str], slack: SlackEmulator, tmp_path: Path
) -> None:
    overrides = {"calendar": {"holidays": {"country": "XX"}}}
    env = {**env, "JOBS_CONFIG": str(write_settings(tmp_path, overrides, only_jobs=()))}
    result = run_cli(["run", "echo", "--now", NOW], env)
    assert result.code == 2
    assert "calendar: holidays: 'XX' is not known to the holidays package" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert slack.calls == []


def test_a_failed_send_exits_1_and_is_retried_next_run(
    env: dict[str, str], slack: SlackEmulator
) -> None:
    slack.fail_next("chat.postMessage", "channel_not_found")
    failed = run_cli(["run", "echo", "--now", NOW], env)
    assert failed.code == 1
    assert slack.messages_in(CHANNEL) == []
    retried = run_cli(["run", "echo", "--now", NOW], env)
    assert retried.code == 0
    assert len(slack.messages_in(CHANNEL)) == 1


def test_run_all_runs_every_job_even_if_one_crashes(
    env: dict[str, str], slack: SlackEmulator
) -> None:
    result = run_cli(["run", "all", "--now", NOW], env)
    assert result.code == 1
    assert len(slack.messages_in(CHANNEL)) == 1


def test_why_tells_what_was_sent_and_what_was_suppressed(env: dict[str, str]) -> None:
    run_cli(["run", "echo", "--now", NOW], env)
    run_cli(["run", "echo", "--now", NOW], env)
    why = run_cli(["why", "SS-1"], env)
    assert why.code == 0
    # One line per decision, newest first, each followed by its facts (indented).
    lines = [ln for ln in why.out.strip().splitlines() if not ln.startswith(" ")]
    assert len(lines) == 2
    assert "suppressed_duplicate" in lines[0] and "sent" in lines[1]
    # The desk's clock (New York), not UTC; no microseconds.
    assert all(ln.startswith("2026-11-23 09:00 EST  echo/") for ln in lines), lines


def test_a_silenced_item_is_not_alerted_and_the_log_says_why(
    env: dict[str, str], slack: SlackEmulator
) -> None:
    silenced = run_cli(["silence", "SS-1", "--for", "4h", "--reason", "customer on holiday"], env)
    assert silenced.code == 0
    listing = run_cli(["silences"], env)
    assert "SS-1" in listing.out and "customer on holiday" in listing.out
    from datetime import UTC, datetime

    now = datetime.now(UTC).isoformat()
    run_cli(["run", "echo", "--now", now], env)
    text = slack.messages_in(CHANNEL)[0].text
    assert "SS-2" in text and "SS-1" not in text
    assert "suppressed_silenced" in run_cli(["why", "SS-1"], env).out
    header, row, note = listing.out.strip().splitlines()
    assert header.split() == ["ID", "ITEM", "JOB", "UNTIL", "STATE", "BY", "REASON"]
    # No Jira credentials here: the tickets the snooze label quiets cannot be listed, said so.
    assert note.startswith("(tickets silenced by the snooze label are listed where Jira")
    silence_id = row.split()[0]
    assert run_cli(["silences", "--expire", silence_id], env).code == 0
    assert "no active silences" in run_cli(["silences"], env).out


def test_the_snooze_label_silences_a_ticket(
    env: dict[str, str], slack: SlackEmulator, tmp_path: Path
) -> None:
    env["JOBS_CONFIG"] = str(
        write_settings(
            tmp_path, {"jobs": {"echo": {"labels": {"SS-2": ["sla-snooze"]}}}}, only_jobs=()
        )
    )
    run_cli(["run", "echo", "--now", NOW], env)
    text = slack.messages_in(CHANNEL)[0].text
    assert "SS-1" in text and "SS-2" not in text


def test_check_config_is_ok_for_the_shipped_settings(env: dict[str, str]) -> None:
    result = run_cli(["check-config"], env)
    assert result.code == 0 and result.out.startswith("OK")


def test_check_config_lists_every_problem_and_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    bad = write_settings(
        tmp_path,
        {"desk": {"timezone": "Nowhere"}, "jobs": {"echo": {"realert": "soon"}}},
        only_jobs=(),
    )
    result = run_cli(["check-config", "--config", str(bad)], env)
    assert result.code == 2
    assert "desk.timezone" in result.err and "jobs.echo.realert" in result.err


def test_a_run_prunes_decisions_older_than_the_retention(
    env: dict[str, str], tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from jobs.ledger import open_ledger
    from jobs.ledger.base import Decision

    ledger = open_ledger(env["JOBS_LEDGER_URL"])
    now = datetime.now(UTC)
    for age in (timedelta(days=401), timedelta(days=399)):
        ledger.record_decisions(
            [Decision(now - age, "old", "echo", "present", "SS-9", "", "sent", "sent", {}, None)]
        )
    ledger.close()

    assert run_cli(["run", "echo", "--now", NOW], env).code == 0

    history = open_ledger(env["JOBS_LEDGER_URL"]).history("SS-9")
    assert [round((now - d.at).days) for d in history] == [399]  # 400d retention by default


def test_why_and_silence_take_a_key_in_any_case_and_refuse_a_near_miss(
    env: dict[str, str],
) -> None:
    run_cli(["run", "echo", "--now", NOW], env)

    assert "echo/" in run_cli(["why", "ss-1"], env).out
    # SS-I (a letter I): no such item, and one the ledger has is close: refused, never stored.
    typo = run_cli(["silence", "SS-I", "--for", "1h", "--reason", "x"], env)
    assert typo.code == 2
    assert "no item SS-I; did you mean SS-1" in typo.err
    assert "no active silences" in run_cli(["silences"], env).out
    assert run_cli(["why", "SS-I"], env).code == 2
    # A ticket nothing has alerted on yet, unlike any known: silenced ahead, and said so.
    ahead = run_cli(["silence", "OPS-4242", "--for", "1h", "--reason", "maintenance"], env)
    assert ahead.code == 0, ahead.err
    assert "nothing about OPS-4242 yet" in ahead.out
