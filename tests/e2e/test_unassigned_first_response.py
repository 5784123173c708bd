"""SOP 004 end to end: the CLI against the Jira and Slack emulators, time moved with --now.

The figure the issue asks for, channel posts per breach episode, is asserted on every ticket:
one root message (or one shared grouped message) and at most one thread reply per tier.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from emulators.jira import CommentState

JOB = "unassigned_first_response"
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in New York
CHANNEL = "#support-sla"
LEAD = {"people": {"lead": {"name": "Sam Whitaker", "email": "sam.whitaker@goeverbright.example"}}}


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def run(desk, at: datetime, *extra: str):
    result = desk.run("run", JOB, "--now", iso(at), *extra)
    assert result.code == 0, result.err + result.out
    return result


def roots(stack):
    return [m for m in stack.slack.messages_in(CHANNEL) if not m.thread_ts]


def replies(stack):
    return [m for m in stack.slack.messages_in(CHANNEL) if m.thread_ts]


def root_of(stack, key: str):
    [message] = [m for m in roots(stack) if f"|{key}>" in json.dumps(m.blocks)]
    return message


TIER_OF_ICON = {"warning": "warning", "rotating_light": "breach", "fire": "escalation"}


def posts_per_episode(stack, key: str) -> dict[str, object]:
    """Root messages that show ``key``, and thread replies that name it counted per tier."""
    root_count = sum(f"|{key}>" in json.dumps(m.blocks) for m in roots(stack))
    tiers: Counter[str] = Counter()
    for reply in replies(stack):
        if f"|{key}>" in json.dumps(reply.blocks):
            tiers[TIER_OF_ICON[reply.text.split(":")[1]]] += 1
    return {"root": root_count, "replies": dict(tiers)}


def assert_one_root_and_one_reply_per_tier(stack, *keys: str) -> None:
    for key in keys:
        figure = posts_per_episode(stack, key)
        assert figure["root"] == 1, (key, figure)
        assert all(n == 1 for n in figure["replies"].values()), (key, figure)  # type: ignore[union-attr]


def assign(stack, key: str, account_id: str, at: datetime) -> None:
    issue = stack.jira.issue(key)
    issue.assignee = account_id
    issue.updated = at


def report_of(path: Path) -> dict:
    return json.loads(path.read_text())


# -- first run, silence, escalation ----------------------------------------------------------------


def test_it_alerts_each_ticket_once_priority_installer_first(desk, tmp_path: Path) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=LEAD)
    report = tmp_path / "report.json"
    run(desk, NOW, "--report", str(report))

    posted = roots(stack)
    keys = [
        next(k for k in ("SS-120", "SS-121", "SS-122") if f"|{k}>" in json.dumps(m.blocks))
        for m in posted
    ]
    assert keys == ["SS-122", "SS-121", "SS-120"]  # priority installer first, then most urgent
    assert replies(stack) == []

    priority = posted[0]
    section = priority.blocks[0]["text"]["text"]
    assert ":rotating_light: *First response overdue*" in section
    assert ":star: <" in section and "/browse/SS-122|SS-122>" in section
    assert "Dealer fee wrong on &lt;b&gt;quote&lt;/b&gt; &amp; contract" in section
    details = json.dumps(priority.blocks[1])
    assert (
        "Sunrise Solar Co" in details and "no first response after 2 h 5 m (target 2 h)" in details
    )
    assert priority.text.startswith(":rotating_light: First response overdue: SS-122")

    warning = posted[2]
    assert ":warning: *First response due soon*" in warning.blocks[0]["text"]["text"]
    assert "20 m left for a first response (due Tue 10:20)" in json.dumps(warning.blocks)

    data = report_of(report)
    assert sorted((f["item"], f["rule"]) for f in data["findings"]) == [
        ("SS-120", "warning"),
        ("SS-121", "breach"),
        ("SS-122", "breach"),
    ]
    assert {f["facts"]["source"] for f in data["findings"]} == {"computed"}
    assert data["notes"]["sla_source"] == {
        "configured": "computed",
        "decided": {"computed": 3},
    }
    assert data["api_calls"]["jira"] <= 3  # the fields list, the one search (and server info)


def test_it_stays_silent_on_a_second_run_within_the_window(desk) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=LEAD)
    run(desk, NOW)
    before = len(stack.slack.messages)
    run(desk, NOW + timedelta(minutes=5))
    assert len(stack.slack.messages) == before
    assert all(not m.updates for m in stack.slack.messages)


def test_it_edits_the_root_in_place_and_replies_in_thread_as_the_tier_rises(desk) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=LEAD)
    run(desk, NOW)
    root = root_of(stack, "SS-120")
    assert ":warning:" in root.text

    run(desk, NOW + timedelta(minutes=25))  # SS-120 passes 2 h
    assert len(roots(stack)) == 3
    assert len(root.updates) == 1
    assert root.text.startswith(":rotating_light: First response overdue: SS-120")
    [reply] = stack.slack.thread(CHANNEL, root.ts)
    assert reply.text.startswith(":rotating_light: First response overdue: SS-120")
    assert "<@" not in reply.text

    run(desk, NOW + timedelta(hours=2, minutes=25))  # every ticket passes 4 h
    assert len(roots(stack)) == 4  # SS-123, quiet until now, gets its own first (breach) root
    escalation = stack.slack.thread(CHANNEL, root.ts)[-1]
    assert escalation.text.startswith(":fire: First response overdue, escalated: SS-120")
    assert "<@U01SAMWHIT>" in escalation.text and "<@U01SAMWHIT>" in json.dumps(escalation.blocks)
    assert "Escalated to <@U01SAMWHIT>" in json.dumps(root.blocks)
    for key in ("SS-121", "SS-122"):
        thread = stack.slack.thread(CHANNEL, root_of(stack, key).ts)
        assert [m.text.split(":")[1] for m in thread] == ["fire"]

    run(desk, NOW + timedelta(hours=2, minutes=40))
    assert len(stack.slack.messages) == 3 + 1 + 3 + 1
    assert_one_root_and_one_reply_per_tier(stack, "SS-120", "SS-121", "SS-122")
    assert posts_per_episode(stack, "SS-120") == {
        "root": 1,
        "replies": {"breach": 1, "escalation": 1},
    }


# -- clearing ------------------------------------------------------------------------------------


def test_it_marks_the_alert_resolved_when_the_ticket_is_assigned(desk, tmp_path: Path) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=LEAD)
    run(desk, NOW)
    root = root_of(stack, "SS-121")
    assign(stack, "SS-121", "acc-maya-patel", NOW + timedelta(minutes=3))
    posts_before = len(stack.slack.messages)

    report = tmp_path / "report.json"
    run(desk, NOW + timedelta(minutes=15), "--report", str(report))
    assert len(stack.slack.messages) == posts_before  # an edit, no new notification
    assert len(root.updates) == 1
    assert root.text.startswith(":white_check_mark: Resolved (was: first response overdue): SS-121")
    assert "assigned to Maya Patel after 2 h 13 m" in json.dumps(root.blocks)
    update = next(a for a in report_of(report)["actions"] if a["kind"] == "slack_update")
    assert update["items"] == ["SS-121"] and update["status"] == "sent"
    searches = [c for c in stack.jira.calls if "search" in c.path]
    assert len(searches) == 2 + 1  # run 1, run 2, and one lookup of the ticket that left

    run(desk, NOW + timedelta(minutes=30))
    run(desk, NOW + timedelta(hours=3))
    assert len(root.updates) == 1  # resolved once, never repeated
    assert stack.slack.thread(CHANNEL, root.ts) == []

    why = desk.run("why", "SS-121")
    assert "unassigned_first_response/breach" in why.out and "sent via slack_post" in why.out
    assert "unassigned_first_response/resolved" in why.out and "sent via slack_update" in why.out


def test_it_marks_the_alert_resolved_when_an_agent_answers_or_the_ticket_closes(desk) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=LEAD)
    run(desk, NOW)
    answered, closed = root_of(stack, "SS-120"), root_of(stack, "SS-122")
    stack.jira.issue("SS-120").comments.append(
        CommentState(
            id="90001",
            author="acc-jordan-reyes",
            body="Looking into it now.",
            created=NOW + timedelta(minutes=10),
            updated=NOW + timedelta(minutes=10),
        )
    )
    issue = stack.jira.issue("SS-122")
    issue.status, issue.resolved = "Resolved", NOW + timedelta(minutes=12)

    run(desk, NOW + timedelta(minutes=15))
    assert "answered by Jordan Reyes after 1 h 50 m" in json.dumps(answered.blocks)
    assert "closed (Resolved) after 2 h 17 m" in json.dumps(closed.blocks)
    assert ":star:" not in closed.blocks[0]["text"]["text"]
    assert len(roots(stack)) == 3 and replies(stack) == []


def test_it_starts_a_new_episode_when_a_cleared_ticket_is_unassigned_again(desk) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=LEAD)
    run(desk, NOW)
    assign(stack, "SS-121", "acc-maya-patel", NOW + timedelta(minutes=3))
    run(desk, NOW + timedelta(minutes=15))
    assign(stack, "SS-121", None, NOW + timedelta(minutes=20))  # type: ignore[arg-type]

    run(desk, NOW + timedelta(minutes=30))
    fresh = [m for m in roots(stack) if "|SS-121>" in json.dumps(m.blocks)]
    assert len(fresh) == 2
    assert fresh[-1].text.startswith(":rotating_light: First response overdue: SS-121")


# -- grouping ------------------------------------------------------------------------------------


def test_it_groups_a_backlog_into_one_message_and_updates_it_in_place(desk) -> None:
    stack = desk(
        "unassigned_first_response.yaml",
        now=NOW,
        settings={**LEAD, "jobs": {JOB: {"group_threshold": 2}}},
    )
    run(desk, NOW)
    [group] = roots(stack)
    assert group.blocks[0] == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "3 unassigned tickets need a first response",
            "emoji": True,
        },
    }
    lines = group.blocks[1]["text"]["text"].splitlines()
    assert [line.split("|")[1].split(">")[0] for line in lines] == ["SS-122", "SS-121", "SS-120"]

    run(desk, NOW + timedelta(minutes=25))  # SS-120 breaches
    assert len(group.updates) == 1
    [reply] = stack.slack.thread(CHANNEL, group.ts)
    assert "SS-120" in reply.text and "SS-121" not in reply.text

    assign(stack, "SS-121", "acc-priya-nair", NOW + timedelta(minutes=30))
    run(desk, NOW + timedelta(minutes=40))
    assert len(group.updates) == 2
    assert (
        group.blocks[0]["text"]["text"] == "2 unassigned tickets need a first response (1 resolved)"
    )
    text = json.dumps(group.blocks)
    assert ":white_check_mark: <" in text and "assigned to Priya Nair after 2 h 40 m" in text

    run(desk, NOW + timedelta(hours=2, minutes=25))  # SS-120 and SS-122 escalate
    [breach, escalation] = stack.slack.thread(CHANNEL, group.ts)
    assert escalation.text.startswith(":fire: First response overdue, escalated: ")
    assert "SS-120" in escalation.text and "SS-122" in escalation.text
    assert "<@U01SAMWHIT>" in escalation.text
    assert [m.ts for m in roots(stack) if "|SS-123>" not in json.dumps(m.blocks)] == [group.ts]
    assert_one_root_and_one_reply_per_tier(stack, "SS-120", "SS-122")


# -- dry run, failures, Jira's SLA ---------------------------------------------------------------


def test_it_prints_every_message_and_update_in_a_dry_run_and_sends_nothing(desk) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=LEAD)
    dry = run(desk, NOW, "--dry-run")
    assert dry.out.count("[slack_post] -> #support-sla") == 3
    assert "First response overdue: SS-122 Dealer fee wrong on &lt;b&gt;quote&lt;/b&gt;" in dry.out
    assert stack.slack.messages == []

    run(desk, NOW)
    assign(stack, "SS-121", "acc-maya-patel", NOW + timedelta(minutes=3))
    dry = run(desk, NOW + timedelta(minutes=25), "--dry-run")
    assert "[slack_update] -> C" in dry.out and "assigned to Maya Patel after 2 h 13 m" in dry.out
    assert "[slack_thread_reply]" in dry.out and "SS-120" in dry.out
    assert all(not m.updates for m in stack.slack.messages)
    assert len(stack.slack.messages) == 3

    run(desk, NOW + timedelta(minutes=25))  # the dry run changed nothing: the real run does it all
    assert "assigned to Maya Patel" in json.dumps(root_of(stack, "SS-121").blocks)
    assert len(stack.slack.thread(CHANNEL, root_of(stack, "SS-120").ts)) == 1


def test_it_retries_a_failed_post_on_the_next_run(desk) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=LEAD)
    stack.slack.fail_next("chat.postMessage", "not_in_channel", times=3)  # not retried
    failed = desk.run("run", JOB, "--now", iso(NOW))
    assert failed.code == 1
    assert roots(stack) == []

    run(desk, NOW + timedelta(minutes=15))
    assert len(roots(stack)) == 3


def test_it_lets_jiras_sla_decide_when_configured(desk, tmp_path: Path) -> None:
    stack = desk(
        "unassigned_first_response.yaml",
        now=NOW,
        settings={**LEAD, "jobs": {JOB: {"sla_source": "jira"}}},
    )
    stack.jira.add_issue(
        key="SS-127",
        summary="Waiting on the homeowner's utility bill",
        status="Open",
        created="-3h",
        reporter="pat.alvarez@homeowners.example",
        sla={"first_response": {"paused": True, "paused_at": "-2h"}},
    )
    report = tmp_path / "report.json"
    run(desk, NOW, "--report", str(report))
    data = report_of(report)
    assert sorted((f["item"], f["rule"], f["facts"]["source"]) for f in data["findings"]) == [
        ("SS-120", "warning", "jira"),
        ("SS-121", "breach", "jira"),
        ("SS-122", "breach", "jira"),
    ]  # SS-127 is paused in Jira: the computed clock would call it a breach
    assert data["notes"]["sla_source"]["decided"] == {"jira": 3}
    assert len(roots(stack)) == 3
