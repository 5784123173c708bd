"""Answers of the wrong shape through the CLI: the run fails (exit 1) and clears nothing.

Read as "no tickets", a malformed search answer would have every open alert marked resolved:
a false all-clear. And a comment nested thousands of levels deep must not fail every run.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

JOB = "unassigned_first_response"
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in New York
CHANNEL = "#support-sla"
SEARCH = r"/rest/api/3/search/jql$"
LEAD = {"people": {"lead": {"name": "Sam Whitaker", "email": "sam.whitaker@goeverbright.example"}}}


def run(desk: Any, at: datetime, *extra: str) -> Any:
    return desk.run("run", JOB, "--now", at.isoformat(), *extra)


def open_alerts(stack: Any) -> list[Any]:
    return [m for m in stack.slack.messages_in(CHANNEL) if not m.thread_ts]


@pytest.mark.parametrize(
    "answer",
    [
        {"issues": "nope", "isLast": True},
        None,
        {"isLast": True},
        {"issues": [{"key": "SS-121", "fields": None}], "isLast": True},
    ],
    ids=["issues-a-string", "null", "no-issues", "fields-null"],
)
def test_a_malformed_search_fails_the_run_and_resolves_no_alert(
    desk: Any, tmp_path: Path, answer: Any
) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=LEAD)
    assert run(desk, NOW).code == 0
    alerts = open_alerts(stack)
    assert alerts
    stack.jira.inject(SEARCH, status=200, raw=json.dumps(answer).encode(), times=5)

    report = tmp_path / "report.json"
    failed = run(desk, NOW + timedelta(minutes=15), "--report", str(report))

    assert failed.code == 1, failed.out + failed.err
    assert "Traceback" not in failed.err
    assert "search" in failed.err
    assert all(not m.updates for m in alerts)  # nothing rewritten to "resolved"
    assert json.loads(report.read_text())["errors"]
    # The next good run still sees every open episode as open: no resolution was recorded.
    stack.jira.clear_faults()
    assert run(desk, NOW + timedelta(minutes=30)).code == 0
    assert all(not m.text.startswith(":white_check_mark:") for m in open_alerts(stack))


def _deep_adf(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": "lost below the cap"}
    for _ in range(depth):
        node = {"type": "blockquote", "content": [node]}
    top = {"type": "paragraph", "content": [{"type": "text", "text": "Any update?"}]}
    return {"type": "doc", "version": 1, "content": [top, node]}


def test_a_comment_nested_2000_levels_deep_fails_no_run_and_still_counts_as_a_comment(
    desk: Any, tmp_path: Path
) -> None:
    """First response reads who wrote each comment and when, never what it says: a comment
    whose body nests 2,000 levels deep is read (author, date) and the run goes on. Nothing
    it reads was left out, so it is no data problem here; a reader of the text reports it
    (`tests/contract/test_jira_answers.py`)."""
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=LEAD)
    first = run(desk, NOW)
    assert first.code == 0
    # The answer Jira would give with one customer comment nested 2,000 levels deep: built as
    # text, since json itself recurses and gives up far sooner.
    answer = stack.jira.calls_to(SEARCH)[0]
    marker = '"MARKER"'
    page = json.loads(_search_page(stack, answer.body))
    issue = next(i for i in page["issues"] if i["key"] == "SS-121")
    issue["fields"]["comment"] = {
        "comments": [
            {
                "id": "777",
                "author": {
                    "accountId": "qm:customer",
                    "displayName": "Customer",
                    "accountType": "customer",
                },
                "body": "MARKER",
                "created": "2026-11-24T14:00:00.000+0000",
                "jsdPublic": True,
            }
        ],
        "total": 1,
        "startAt": 0,
        "maxResults": 20,
    }
    deep = (
        json.dumps(_deep_adf(50))
        .replace(
            '{"type": "blockquote", "content": [' * 50, '{"type": "blockquote", "content": [' * 2000
        )
        .replace("]}" * 50, "]}" * 2000)
    )
    raw = json.dumps(page).replace(json.dumps("MARKER"), deep, 1)
    assert marker not in raw
    stack.jira.inject(SEARCH, status=200, raw=raw.encode(), times=2)

    report = tmp_path / "report.json"
    second = run(desk, NOW + timedelta(minutes=15), "--report", str(report))

    assert second.code == 0, second.err
    written = json.loads(report.read_text())
    assert not any(p["where"] == "SS-121" for p in written["data_problems"])
    # The deep comment is the customer's: it answers nothing, and the ticket still alerts.
    assert "SS-121" in {f["item"] for f in written["findings"]}


def _search_page(stack: Any, body: dict[str, Any]) -> str:
    import requests

    answer = requests.post(
        stack.jira.url + "/rest/api/3/search/jql",
        auth=(stack.jira.email, stack.jira.token),
        json={k: v for k, v in body.items() if k != "nextPageToken"},
        timeout=5,
    )
    assert answer.status_code == 200
    return answer.text
