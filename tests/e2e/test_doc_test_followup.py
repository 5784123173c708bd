"""SOP 003 through the CLI: the "Doc ready to test" follow-up and silent fulfilled tickets."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from emulators.jira import CommentState

# Monday 23 November 2026, 09:00 in New York. Fixture times are relative to it.
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
FIXTURE = "onboard_testing.yaml"
JOB = "doc_test_followup"
CHANNEL = "#support-sla"
CLOSING = {"actions": {"close_silent_fulfilled": True}}


def run(desk, at: datetime = NOW, *extra: str):
    return desk.run("run", JOB, "--now", at.isoformat(), *extra)


def with_step(stack, key: str, step: str) -> list:
    return [c for c in stack.jira.comments_of(key) if f"Ref: {key} · {step}" in c.body]


def step_on_cs(stack, cs_key: str, ss_key: str) -> list:
    return [
        c for c in stack.jira.comments_of(cs_key) if f"Ref: {ss_key} · doc-test-publish" in c.body
    ]


def texts(stack) -> str:
    return "\n".join(m.text for m in stack.slack.messages_in(CHANNEL))


def listing(stack, key: str) -> list:
    return [m for m in stack.slack.messages_in(CHANNEL) if f"|{key}>" in m.text]


def first_email_id(stack, key: str) -> str:
    return next(c.id for c in stack.jira.comments_of(key) if "ready to test on Onboard" in c.body)


def test_it_takes_each_due_step_once(desk, tmp_path: Path) -> None:
    stack = desk(FIXTURE, now=NOW)
    report_path = tmp_path / "report.json"

    result = run(desk, NOW, "--report", str(report_path))

    assert result.code == 0, result.err
    # SS-402: silent 3 days after the first email -> the second email, public.
    [nudge] = with_step(stack, "SS-402", "doc-test-second-email")
    assert nudge.public
    assert nudge.body.startswith("Hi Omar,")
    assert "Friday, November 20" in nudge.body  # the first email, in desk time
    assert nudge.body.rstrip().endswith(
        f"Ref: SS-402 · doc-test-second-email · {first_email_id(stack, 'SS-402')}"
    )
    # SS-403: nudged by hand a day ago -> internal comment on CS-403, nothing to the customer.
    [publish] = step_on_cs(stack, "CS-403", "SS-403")
    # CS is no service desk: Jira shows every comment there as jsdPublic; the note was
    # written as internal, and no customer-facing API was used.
    assert publish.properties == {"sd.public.comment": {"internal": True}}
    assert stack.jira.calls_to(r"/servicedeskapi/request/CS-403/") == []
    assert "publish the document on Engine" in publish.body
    assert with_step(stack, "SS-403", "doc-test-second-email") == []
    # SS-401 is within its 3 days; SS-404's customer answered.
    for key in ("SS-401", "SS-404"):
        assert with_step(stack, key, "doc-test") == []
    # Relay alert and the silent fulfilled list: one Slack message each, ticket text escaped.
    slack = texts(stack)
    assert "SS-404" in slack and "CS-404" in slack and "&lt;b&gt;5.9%&lt;/b&gt;" in slack
    assert "SS-405" in slack and "Oak Valley Solar" in slack
    assert "SS-406" not in slack  # the customer spoke last
    assert len(stack.slack.messages_in(CHANNEL)) == 2
    assert stack.jira.issue("SS-405").status == "Resolved"  # closing is switched off
    report = json.loads(report_path.read_text())
    assert sorted((f["rule"], f["item"]) for f in report["findings"]) == [
        ("customer_replied", "SS-404"),
        ("publish_on_engine", "CS-403"),
        ("second_email", "SS-402"),
        ("silent_fulfilled", "SS-405"),
    ]
    # Two searches to decide, with every comment of the tickets about to get a marked
    # comment (its reference line is looked for there), and no per-ticket comment reads.
    assert len([c for c in stack.jira.calls if "search" in c.path]) == 2
    assert [c for c in stack.jira.calls if c.method == "GET" and c.path.endswith("/comment")] == []

    messages = len(stack.slack.messages)
    again = run(desk, NOW + timedelta(hours=1))

    assert again.code == 0, again.err
    assert len(with_step(stack, "SS-402", "doc-test-second-email")) == 1
    assert len(step_on_cs(stack, "CS-403", "SS-403")) == 1
    assert len(stack.slack.messages) == messages


def test_it_counts_the_sops_days_in_real_time_on_a_business_hours_desk(
    desk, tmp_path: Path
) -> None:
    # Monday 09:00: the weekend counts towards "3 days", "one more day" and "24 hours".
    stack = desk(FIXTURE, now=NOW, settings={"calendar": {"mode": "business"}})
    report_path = tmp_path / "report.json"

    result = run(desk, NOW, "--report", str(report_path))

    assert result.code == 0, result.err
    assert len(with_step(stack, "SS-402", "doc-test-second-email")) == 1
    assert len(step_on_cs(stack, "CS-403", "SS-403")) == 1
    report = json.loads(report_path.read_text())
    assert sorted((f["rule"], f["item"]) for f in report["findings"]) == [
        ("customer_replied", "SS-404"),
        ("publish_on_engine", "CS-403"),
        ("second_email", "SS-402"),
        ("silent_fulfilled", "SS-405"),
    ]


def test_it_asks_cs_to_publish_one_day_after_its_own_nudge(desk) -> None:
    stack = desk(FIXTURE, now=NOW)
    assert run(desk).code == 0  # the emulator dates our nudge on SS-402 at NOW

    assert run(desk, NOW + timedelta(days=1, minutes=-1)).code == 0
    assert step_on_cs(stack, "CS-402", "SS-402") == []

    assert run(desk, NOW + timedelta(days=1)).code == 0
    [publish] = step_on_cs(stack, "CS-402", "SS-402")
    assert "SS-402 (Bright Path Energy LLC)" in publish.body


def test_a_reply_after_the_nudge_stops_the_sequence_and_is_relayed(desk) -> None:
    stack = desk(FIXTURE, now=NOW)
    assert run(desk).code == 0
    ticket = stack.jira.issue("SS-402")
    ticket.comments.append(
        CommentState(
            id="90001",
            author=ticket.reporter,
            body="Sorry for the delay - the signature block is wrong.",
            created=NOW + timedelta(hours=5),
            updated=NOW + timedelta(hours=5),
        )
    )

    assert run(desk, NOW + timedelta(days=2)).code == 0

    assert step_on_cs(stack, "CS-402", "SS-402") == []
    [relay] = [m.text for m in stack.slack.messages_in(CHANNEL) if "SS-402" in m.text]
    assert "signature block is wrong" in relay and "CS-402" in relay


def test_it_closes_silent_fulfilled_tickets_when_the_desk_switches_it_on(desk) -> None:
    stack = desk(FIXTURE, now=NOW)
    assert run(desk).code == 0  # listed in Slack first
    desk.reconfigure(CLOSING)

    assert run(desk, NOW + timedelta(hours=1)).code == 0

    assert stack.jira.issue("SS-405").status == "Closed"
    assert stack.jira.issue("SS-406").status == "Resolved"
    assert len(listing(stack, "SS-405")) == 1


def test_it_lists_silent_fulfilled_tickets_again_the_next_day(desk) -> None:
    stack = desk(FIXTURE, now=NOW)
    assert run(desk).code == 0
    assert run(desk, NOW + timedelta(hours=23)).code == 0
    assert len(listing(stack, "SS-405")) == 1

    assert run(desk, NOW + timedelta(hours=24)).code == 0

    assert len(listing(stack, "SS-405")) == 2


def test_a_dry_run_prints_what_it_would_send_and_sends_nothing(desk) -> None:
    stack = desk(FIXTURE, now=NOW, settings=CLOSING)
    before = {key: len(stack.jira.comments_of(key)) for key in ("SS-402", "CS-403")}

    result = run(desk, NOW, "--dry-run")

    assert result.code == 0, result.err
    assert "[jira_public_comment] -> SS-402" in result.out
    assert "| Hi Omar," in result.out
    assert "| Ref: SS-402 · doc-test-second-email · " in result.out
    assert "[jira_internal_comment] -> CS-403" in result.out
    assert "[jira_transition] -> SS-405" in result.out and "to_status=Closed" in result.out
    assert "[slack_post] -> #support-sla" in result.out
    assert {key: len(stack.jira.comments_of(key)) for key in before} == before
    assert stack.jira.issue("SS-405").status == "Resolved"
    assert stack.slack.messages_in(CHANNEL) == []


def test_why_tells_which_step_was_taken(desk) -> None:
    desk(FIXTURE, now=NOW)
    assert run(desk).code == 0

    why = desk.run("why", "SS-402")

    assert why.code == 0, why.err
    assert "doc_test_followup/second_email" in why.out
    assert "sent via jira_public_comment SS-402" in why.out
