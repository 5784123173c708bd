"""SOP 003 2.1.3 through the CLI: "Onboard Reset - Release tonight", once per ticket per week."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import TEMPLATES

# Monday 23 November 2026, 09:00 in New York (the desk's timezone): ISO week 2026-W48.
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
FIXTURE = "onboard_testing.yaml"
JOB = "onboard_reset_reminder"
TESTING = ("SS-401", "SS-402", "SS-403", "SS-404")
NOT_TESTING = ("SS-405", "SS-406", "SS-407", "SS-408")


def run(desk, at: datetime = NOW, *extra: str):
    return desk.run("run", JOB, "--now", at.isoformat(), *extra)


def resets(stack, key: str, week: str = "") -> list:
    mark = f"Ref: {key} · onboard-reset · {week}"
    return [c for c in stack.jira.comments_of(key) if mark in c.body]


def search_calls(stack) -> list:
    return [c for c in stack.jira.calls if "search" in c.path]


def test_it_replies_once_to_each_customer_testing_on_onboard(desk, tmp_path: Path) -> None:
    stack = desk(FIXTURE, now=NOW)
    report_path = tmp_path / "report.json"

    result = run(desk, NOW, "--report", str(report_path))

    assert result.code == 0, result.err
    for key in TESTING:
        [reply] = resets(stack, key, "2026-W48")
        assert reply.public
        assert "Onboard is reset" in reply.body
        assert reply.body.rstrip().endswith(f"Ref: {key} · onboard-reset · 2026-W48")
    [dana] = resets(stack, "SS-401")
    assert dana.body.startswith("Hi Dana,")
    assert "Sunrise Solar Co" in dana.body
    for key in NOT_TESTING:
        assert resets(stack, key) == []
    report = json.loads(report_path.read_text())
    assert sorted(f["item"] for f in report["findings"]) == [*TESTING, "SS-408"]
    assert [s["item"] for s in report["suppressed"]] == ["SS-408"]  # sla-snooze label
    assert sorted(p["where"] for p in report["data_problems"]) == ["CS-406", "CS-407"]
    # One search for the On Hold CS tickets and one `key in (...)` for their SS tickets with
    # their comments, in which each reply's reference line is looked for before it is sent
    # (no re-read, no per-ticket reads).
    assert len(search_calls(stack)) == 2
    assert [c for c in stack.jira.calls if c.method == "GET" and c.path.endswith("/comment")] == []


def test_a_second_monday_run_in_the_same_week_posts_nothing(desk, tmp_path: Path) -> None:
    stack = desk(FIXTURE, now=NOW)
    assert run(desk).code == 0
    report_path = tmp_path / "again.json"

    again = run(desk, NOW + timedelta(hours=3), "--report", str(report_path))

    assert again.code == 0, again.err
    for key in TESTING:
        assert len(resets(stack, key)) == 1
    report = json.loads(report_path.read_text())
    assert report["actions"] == []
    assert {s["outcome"] for s in report["suppressed"]} == {
        "suppressed_duplicate",
        "suppressed_silenced",
    }


def test_the_next_week_posts_again(desk) -> None:
    stack = desk(FIXTURE, now=NOW)
    assert run(desk).code == 0

    assert run(desk, NOW + timedelta(days=7)).code == 0

    for key in TESTING:
        assert len(resets(stack, key, "2026-W48")) == 1
        assert len(resets(stack, key, "2026-W49")) == 1


def test_it_does_not_say_release_tonight_on_another_day(desk, tmp_path: Path) -> None:
    stack = desk(FIXTURE, now=NOW)
    report_path = tmp_path / "tuesday.json"

    result = run(desk, NOW + timedelta(days=1), "--report", str(report_path))

    assert result.code == 0, result.err
    assert all(resets(stack, key) == [] for key in TESTING)
    problems = json.loads(report_path.read_text())["data_problems"]
    assert any("Tuesday" in p["message"] for p in problems)


def test_a_dry_run_prints_each_reply_and_sends_nothing(desk) -> None:
    stack = desk(FIXTURE, now=NOW)
    comments_before = {key: len(stack.jira.comments_of(key)) for key in TESTING}

    result = run(desk, NOW, "--dry-run")

    assert result.code == 0, result.err
    for key in TESTING:
        assert f"[jira_public_comment] -> {key}" in result.out
        assert f"| Ref: {key} · onboard-reset · 2026-W48" in result.out
        assert len(stack.jira.comments_of(key)) == comments_before[key]
    assert "| Hi Omar," in result.out
    # Nothing was recorded either: the real run afterwards still sends.
    assert run(desk).code == 0
    assert all(len(resets(stack, key)) == 1 for key in TESTING)


def test_a_desk_template_without_the_reference_line_still_gets_it(desk, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    (templates / "onboard_reset_release_tonight.j2").write_text(
        "Hello {{ customer_name }}, Onboard resets tonight. Please review today.\n"
    )
    stack = desk(FIXTURE, now=NOW, settings={"templates_dir": str(templates)})

    assert run(desk).code == 0
    assert run(desk, NOW + timedelta(hours=1)).code == 0

    [reply] = resets(stack, "SS-402", "2026-W48")
    assert reply.body.startswith("Hello Omar, Onboard resets tonight.")


def test_why_tells_what_was_decided_for_a_ticket(desk) -> None:
    desk(FIXTURE, now=NOW)
    assert run(desk).code == 0
    assert run(desk, NOW + timedelta(hours=1)).code == 0

    why = desk.run("why", "SS-402")

    assert why.code == 0, why.err
    assert "onboard_reset_reminder/onboard_reset [2026-W48]  sent" in why.out
    assert "suppressed_duplicate" in why.out
