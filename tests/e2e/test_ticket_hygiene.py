"""ticket_hygiene end to end: the CLI against the Jira and Slack emulators.

The desk (tests/e2e/fixtures/ticket_hygiene.yaml) lists, ticket by ticket, what is expected.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 20, 16, 0, tzinfo=NY)  # Friday 16:00, the digest's scheduled time
NOW_ISO = NOW.isoformat()
NEXT_DAY_ISO = (NOW + timedelta(days=1)).isoformat()
MAYA = "maya.patel@goeverbright.example"
JORDAN = "jordan.reyes@goeverbright.example"
PRIYA = "priya.nair@goeverbright.example"
CHANNEL = "#support-sla"
FIX = {"actions": {"fix_hygiene": True}}


@pytest.fixture
def stack(desk):
    return desk("ticket_hygiene.yaml", now=NOW)


def _text(messages) -> str:
    return "\n".join(m.text + json.dumps(m.blocks or []) for m in messages)


def test_it_sends_each_assignee_one_digest_of_their_tickets(desk, stack):
    result = desk.run("run", "ticket_hygiene", "--now", NOW_ISO)
    assert result.code == 0, result.err

    (maya,) = stack.slack.dms_to(MAYA)
    assert "SS-701" in maya.text and "SS-702" in maya.text
    assert "EB label missing" in maya.text
    assert "priority Medium, not High (priority installer Sunrise Solar Co)" in maya.text
    assert "linked config ticket CS-701 at Medium" in maya.text
    assert "no Organization" in maya.text
    assert "SS-703" not in maya.text and "SS-704" not in maya.text
    # Priority installers first (SOP 004: they take precedence).
    assert maya.text.index("SS-701") < maya.text.index("SS-702")

    (jordan,) = stack.slack.dms_to(JORDAN)
    assert "SS-703" in jordan.text and "resolved with an empty Channel field" in jordan.text
    assert "SS-705" not in jordan.text and "SS-706" not in jordan.text  # clean / before look-back

    assert stack.slack.dms_to(PRIYA) == []  # SS-707 carries the sla-snooze label


def test_it_summarizes_in_the_channel_and_lists_tickets_nobody_can_be_messaged_about(desk, stack):
    desk.run("run", "ticket_hygiene", "--now", NOW_ISO)
    (summary,) = stack.slack.messages_in(CHANNEL)
    assert "7 problems on 5 tickets" in summary.text
    assert "Jordan Reyes 1; Maya Patel 2; no DM possible 2" in summary.text
    assert "SS-704" in summary.text and "(unassigned)" in summary.text
    # An assignee without a Slack account is listed here rather than failing every day.
    assert "SS-708" in summary.text
    assert "(assignee Casey Temp: no Slack account with that email)" in summary.text
    # Ticket text is escaped: the summary's "<!channel>" pings nobody.
    assert "<!channel>" not in _text([summary])
    assert "&lt;!channel&gt;" in _text([summary])


def test_it_splits_long_digests_by_the_alerts_per_message_limit(desk, stack):
    desk.reconfigure({"run": {"max_alerts_per_message": 1}})
    desk.run("run", "ticket_hygiene", "--now", NOW_ISO)
    first, second = stack.slack.dms_to(MAYA)
    assert "(1/2)" in first.text and "SS-701" in first.text and "SS-702" not in first.text
    assert "(2/2)" in second.text and "SS-702" in second.text
    assert len(stack.slack.messages_in(CHANNEL)) == 2  # two tickets nobody can be messaged about


def test_it_changes_nothing_in_jira_unless_fix_hygiene_is_on(desk, stack):
    desk.run("run", "ticket_hygiene", "--now", NOW_ISO)
    ss701 = stack.jira.issue("SS-701")
    assert "EB" not in ss701.labels and ss701.priority == "Medium"
    assert stack.jira.comments_of("SS-701") == []


def test_it_is_silent_on_a_rerun_the_same_day_and_lists_open_problems_again_the_next(desk, stack):
    desk.run("run", "ticket_hygiene", "--now", NOW_ISO)
    before = len(stack.slack.messages)
    again = desk.run("run", "ticket_hygiene", "--now", (NOW + timedelta(hours=2)).isoformat())
    assert again.code == 0
    assert len(stack.slack.messages) == before

    desk.run("run", "ticket_hygiene", "--now", NEXT_DAY_ISO)
    assert len(stack.slack.dms_to(MAYA)) == 2
    assert len(stack.slack.messages_in(CHANNEL)) == 2


def test_it_prints_the_full_digests_in_a_dry_run_and_sends_nothing(desk, stack):
    desk.reconfigure(FIX)
    result = desk.run("run", "ticket_hygiene", "--dry-run", "--now", NOW_ISO)
    assert result.code == 0, result.err
    assert f"[slack_dm] -> {MAYA}" in result.out
    assert f"[slack_post] -> {CHANNEL}" in result.out
    assert "[jira_edit] -> SS-701" in result.out and "add_labels=['EB']" in result.out
    assert "[jira_edit] -> CS-701" in result.out
    assert "Ref: SS-701 · ticket-hygiene · 2026-11-20" in result.out
    assert stack.slack.messages == []
    assert stack.jira.comments_of("SS-701") == []
    assert "EB" not in stack.jira.issue("SS-701").labels


def test_it_fixes_what_is_certain_and_says_so_when_fix_hygiene_is_on(desk, stack):
    desk.reconfigure(FIX)
    result = desk.run("run", "ticket_hygiene", "--now", NOW_ISO)
    assert result.code == 0, result.err

    ss701 = stack.jira.issue("SS-701")
    assert "EB" in ss701.labels and ss701.priority == "High"
    assert stack.jira.issue("CS-701").priority == "High"
    (note,) = stack.jira.comments_of("SS-701")
    assert not note.public
    assert "added the label EB and set the priority to High" in note.body
    assert "Ref: SS-701 · ticket-hygiene · 2026-11-20" in note.body
    (cs_note,) = stack.jira.comments_of("CS-701")
    assert "set the priority to High" in cs_note.body
    # CS is no service desk (jsdPublic is true there by definition): written as internal.
    assert cs_note.properties == {"sd.public.comment": {"internal": True}}
    assert stack.jira.calls_to(r"/servicedeskapi/request/CS-701/") == []
    # What needs a person is left alone.
    assert stack.jira.issue("SS-702").organizations == []
    assert stack.jira.comments_of("SS-702") == []

    (maya,) = stack.slack.dms_to(MAYA)
    assert (
        "fixing: adding label EB; setting priority to High; setting priority to High on CS-701"
        in maya.text
    )

    # The next day only what still needs a person is listed; nothing is commented twice.
    desk.run("run", "ticket_hygiene", "--now", NEXT_DAY_ISO)
    latest = stack.slack.dms_to(MAYA)[-1]
    assert "SS-702" in latest.text and "SS-701" not in latest.text
    assert len(stack.jira.comments_of("SS-701")) == 1


def test_it_does_not_claim_a_fix_that_jira_refused(desk, stack):
    desk.reconfigure(FIX)
    stack.jira.inject(r"/rest/api/2/issue/SS-701$", status=400, times=10, method="PUT")

    result = desk.run("run", "ticket_hygiene", "--now", NOW_ISO)

    assert result.code == 1  # the failed edit is reported
    ss701 = stack.jira.issue("SS-701")
    assert "EB" not in ss701.labels and ss701.priority == "Medium"
    assert stack.jira.comments_of("SS-701") == []  # no "added the label EB" on an unchanged ticket
    (cs_note,) = stack.jira.comments_of("CS-701")  # its own edit went through
    assert "set the priority to High" in cs_note.body
    (maya,) = stack.slack.dms_to(MAYA)
    assert "fixed" not in maya.text
    assert "fixing: adding label EB; setting priority to High" in maya.text

    # Jira takes the change the next day: the edit is retried and only then commented.
    stack.jira.clear_faults()
    assert desk.run("run", "ticket_hygiene", "--now", NEXT_DAY_ISO).code == 0
    ss701 = stack.jira.issue("SS-701")
    assert "EB" in ss701.labels and ss701.priority == "High"
    (note,) = stack.jira.comments_of("SS-701")
    assert "added the label EB and set the priority to High" in note.body
    assert len(stack.jira.comments_of("CS-701")) == 1


def test_it_writes_the_findings_to_the_report_and_why_explains_them(desk, stack, tmp_path):
    report_path = tmp_path / "report.json"
    desk.run("run", "ticket_hygiene", "--now", NOW_ISO, "--report", str(report_path))
    report = json.loads(report_path.read_text())
    assert report["job"] == "ticket_hygiene" and report["exit_code"] == 0
    found = {(f["rule"], f["item"]) for f in report["findings"]}
    assert found >= {
        ("missing_eb_label", "SS-701"),
        ("priority_not_high", "SS-701"),
        ("config_ticket_not_high", "CS-701"),
        ("missing_organization", "SS-702"),
        ("missing_channel", "SS-703"),
        ("missing_organization", "SS-704"),
        ("missing_organization", "SS-707"),
        ("missing_organization", "SS-708"),
    }
    assert ("missing_channel", "SS-706") not in found
    suppressed = {(s["item"], s["outcome"]) for s in report["suppressed"]}
    assert ("SS-707", "suppressed_silenced") in suppressed

    why = desk.run("why", "SS-703")
    assert "ticket_hygiene/missing_channel [2026-11-20]" in why.out
    assert f"slack_dm {JORDAN}" in why.out
