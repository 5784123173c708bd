"""Jobs against a Jira site whose automation account reads it in German.

Jira translates custom field and issue type names to the account's language. Each test runs a
job on the same desk in English and in German (``fixtures/site_de.yaml``) and expects the same
searches to find the same tickets, and the same creates to make the same tasks.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.conftest import deep_merge
from tests.e2e.conftest import Desk

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
GERMAN = "site_de.yaml"
QA = {
    "people": {
        "qa_assignee": {
            "name": "Cherish Sharma",
            "email": "cherish.sharma@goeverbright.example",
            "jira_account_id": "acc-cherish-sharma",
        }
    }
}
CREATE = deep_merge(QA, {"actions": {"create_cs_tasks": True}})


def _run(tmp_path: Path, fixtures: tuple[str, ...], job: str, settings: dict[str, Any]) -> Any:
    tmp_path.mkdir(parents=True)
    desk = Desk(tmp_path)
    try:
        stack = desk(*fixtures, now=NOW, settings=settings)
        stack.keys_before = set(stack.jira._issues)
        result = desk.run("run", job, "--now", NOW.isoformat())
        assert result.code == 0, result.err
        return stack
    finally:
        desk.stop()


def _texts(stack: Any) -> list[str]:
    # Links differ only by the emulator's port; the tasks are created side by side, so which
    # request gets which new CS key is Jira's order of arrival (`_created_tasks` compares them).
    return [
        re.sub(r"CS-\d+", "CS-new", re.sub(r"http://127\.0\.0\.1:\d+", "JIRA", m.text))
        for m in stack.slack.messages
    ]


def _created_tasks(stack: Any) -> list[dict[str, Any]]:
    created = [
        c
        for c in stack.jira.calls
        if c.method == "POST" and c.path.endswith("/rest/api/2/issue") and c.status == 201
    ]
    tasks = [stack.jira.issue(k) for k in sorted(set(stack.jira._issues) - stack.keys_before)]
    assert len(tasks) == len(created)
    return sorted(
        (
            {
                "summary": t.summary,
                "issuetype": t.issuetype,
                "priority": t.priority,
                "parent": t.parent,
                "qa_assignee": t.qa_assignee,
                "dates": (t.due_date, t.configuration_date, t.qa_due_date),
                "labels": t.labels,
            }
            for t in tasks
        ),
        key=lambda t: t["summary"],
    )


def test_channel_partner_tasks_are_created_alike_in_german(tmp_path: Path) -> None:
    english = _run(tmp_path / "en", ("channel_partner.yaml",), "channel_partner_request", CREATE)
    german = _run(
        tmp_path / "de", ("channel_partner.yaml", GERMAN), "channel_partner_request", CREATE
    )

    assert _created_tasks(english)
    assert _created_tasks(german) == _created_tasks(english)
    # Sent by id: Jira knows no issue type called "Task" on the German site.
    bodies = [c.body for c in german.jira.calls_to(r"/rest/api/2/issue$", "POST")]
    assert bodies and all(set(b["fields"]["issuetype"]) == {"id"} for b in bodies)
    assert _texts(german) == _texts(english)


def test_config_dates_are_found_alike_in_german(tmp_path: Path) -> None:
    english = _run(tmp_path / "en", ("config_due_dates.yaml",), "config_due_dates", {})
    german = _run(tmp_path / "de", ("config_due_dates.yaml", GERMAN), "config_due_dates", {})

    assert english.slack.messages
    assert _texts(german) == _texts(english)


def test_unassigned_tickets_are_timed_alike_from_the_jira_sla_in_german(tmp_path: Path) -> None:
    settings = {"jobs": {"unassigned_first_response": {"sla_source": "jira"}}}
    english = _run(
        tmp_path / "en", ("unassigned_first_response.yaml",), "unassigned_first_response", settings
    )
    german = _run(
        tmp_path / "de",
        ("unassigned_first_response.yaml", GERMAN),
        "unassigned_first_response",
        settings,
    )

    assert english.slack.messages
    assert _texts(german) == _texts(english)
