"""Configuration dates on CS tasks through the CLI: one digest per business day."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
CHANNEL = "#support-sla"
FIXTURE = "config_due_dates.yaml"
JOB = "config_due_dates"


def run(desk, *extra: str, at: datetime = NOW, report: Path | None = None):
    args = ["run", JOB, "--now", at.isoformat(), *extra]
    if report is not None:
        args += ["--report", str(report)]
    return desk.run(*args)


def line_of(text: str, key: str) -> str:
    return next(line for line in text.splitlines() if key in line)


def test_it_sends_one_digest_with_dates_lateness_and_mentions(desk, tmp_path: Path) -> None:
    stack = desk(FIXTURE, now=NOW)
    report_path = tmp_path / "report.json"

    result = run(desk, report=report_path)

    assert result.code == 0, result.err
    (message,) = stack.slack.messages_in(CHANNEL)
    text = message.text
    assert "CS dates due 2026-11-23: 4 tasks, 3 late" in text
    cs520 = line_of(text, "CS-520")
    assert "Green Light Solar" in cs520
    assert "Configuration Date 2026-11-20 (1 business day late)" in cs520
    assert "assignee <@U01LUISMOR>" in cs520 and "QA <@U01CHERISH>" in cs520
    cs521 = line_of(text, "CS-521")
    assert "Sunrise Solar Co" in cs521 and "QA Due Date today, Due Date today" in cs521
    cs522 = line_of(text, "CS-522")
    assert "Configuration Date 2026-11-17 (4 business days late)" in cs522
    assert "QA Due Date 2026-11-18 (3 business days late)" in cs522
    # Not on Slack: the name, escaped, instead of a mention.
    assert "assignee Taylor &lt;Contractor&gt;" in cs522
    assert "assignee _unassigned_" in line_of(text, "CS-525")
    for quiet in ("CS-523", "CS-524", "CS-526"):
        assert quiet not in text
    # Sunrise Solar Co is a priority installer (settings.yaml): first and starred; then most late.
    assert cs521.startswith("• :star: ")
    assert text.index("CS-521") < text.index("CS-522") < text.index("CS-520")
    report = json.loads(report_path.read_text())
    assert sorted(f["item"] for f in report["findings"]) == ["CS-520", "CS-521", "CS-522", "CS-525"]
    (search,) = [c for c in stack.jira.calls if "search" in c.path]
    # The search itself asks for exactly the due tasks: CS-523's Configuration Date is
    # tomorrow, so it is not read at all (date pickers hold a day, so no timezone enters).
    assert _keys_found(stack, search.body["jql"]) == ["CS-520", "CS-521", "CS-522", "CS-525"]


def _keys_found(stack, jql: str) -> list[str]:
    import requests

    answer = requests.post(
        stack.jira.url + "/rest/api/3/search/jql",
        auth=(stack.jira.email, stack.jira.token),
        json={"jql": jql, "fields": ["summary"], "maxResults": 100},
        timeout=5,
    )
    assert answer.status_code == 200
    return sorted(issue["key"] for issue in answer.json()["issues"])


def test_it_lists_each_task_once_per_business_day(desk) -> None:
    stack = desk(FIXTURE, now=NOW)
    assert run(desk).code == 0

    assert run(desk, at=NOW + timedelta(hours=1)).code == 0
    assert len(stack.slack.messages_in(CHANNEL)) == 1

    tuesday = NOW + timedelta(days=1)
    assert run(desk, at=tuesday).code == 0
    messages = stack.slack.messages_in(CHANNEL)
    assert len(messages) == 2
    assert "CS dates due 2026-11-24" in messages[1].text
    assert "Configuration Date 2026-11-20 (2 business days late)" in messages[1].text


def test_it_is_quiet_on_a_holiday(desk) -> None:
    stack = desk(FIXTURE, now=NOW)
    thanksgiving = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)

    result = run(desk, at=thanksgiving)

    assert result.code == 0, result.err
    assert stack.slack.messages_in(CHANNEL) == []


def test_a_dry_run_prints_the_digest_and_sends_nothing(desk) -> None:
    stack = desk(FIXTURE, now=NOW)

    result = run(desk, "--dry-run")

    assert result.code == 0, result.err
    assert "[slack_post] -> #support-sla" in result.out
    assert "CS-522" in result.out and "4 business days late" in result.out
    assert stack.slack.messages == []
    # Nothing recorded: a real run afterwards still sends.
    assert run(desk).code == 0
    assert len(stack.slack.messages_in(CHANNEL)) == 1
