"""SOP 004 end to end: the CLI against the Jira and Slack emulators, time moved with --now.

The figure the issue asks for, channel posts per breach episode, is asserted on every ticket:
one root message (or one shared grouped message) and at most one thread reply per tier.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from emulators.jira import CommentState

JOB = "unassigned_first_response"
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in New York
CHANNEL = "#support-sla"
LEAD = {"people": {"lead": {"name": "Sam Whitaker", "email": "sam.whitaker@goeverbright.example"}}}
MAYA = "maya.patel@goeverbright.example"


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
    """Alert messages that show ``key`` (not the run's one escalation message to the lead), and
    thread replies that name it, counted per tier."""
    alerts = [m for m in roots(stack) if "<@U01SAMWHIT>" not in m.text]
    root_count = sum(f"|{key}>" in json.dumps(m.blocks) for m in alerts)
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
    # Unassigned and no on-duty group configured: the reply is shown in the channel.
    assert reply.reply_broadcast and "<@" not in reply.text

    run(desk, NOW + timedelta(hours=2, minutes=25))  # every ticket passes 4 h
    escalation = stack.slack.thread(CHANNEL, root.ts)[-1]
    assert escalation.text.startswith(":fire: First response overdue, escalated: SS-120")
    assert "<@" not in escalation.text and not escalation.reply_broadcast
    for key in ("SS-121", "SS-122"):
        thread = stack.slack.thread(CHANNEL, root_of_item(stack, key).ts)
        assert [m.text.split(":")[1] for m in thread] == ["fire"]
    # SS-123, quiet until now, gets its own first (breach) root; the lead hears of the three
    # escalations once, in one message.
    told = [m for m in stack.slack.messages if "<@U01SAMWHIT>" in m.text]
    assert len(told) == 1
    assert all(f"|{k}>" in json.dumps(told[0].blocks) for k in ("SS-120", "SS-121", "SS-122"))
    assert len(roots(stack)) == 3 + 1 + 1

    run(desk, NOW + timedelta(hours=2, minutes=40))
    assert len(stack.slack.messages) == 3 + 1 + 3 + 2
    assert_one_root_and_one_reply_per_tier(stack, "SS-120", "SS-121", "SS-122")


def test_an_escalation_the_lead_was_not_told_of_is_told_on_the_next_run(desk) -> None:
    """The tier is recorded with the alert; the lead's message is a step of its own. When that
    message fails (or the run dies before it), the record still owes the lead the news."""
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=LEAD)
    run(desk, NOW)
    stack.slack.inject(
        r"/api/chat\.postMessage$",
        status=200,
        body={"ok": False, "error": "not_in_channel"},
        when=lambda request: b"U01SAMWHIT" in request.body,
    )
    failed = desk.run("run", JOB, "--now", iso(NOW + timedelta(hours=2, minutes=25)))
    assert failed.code == 1
    assert [m for m in stack.slack.messages if "<@U01SAMWHIT>" in m.text] == []
    escalated = {"SS-120", "SS-121", "SS-122"}
    for key in escalated:  # the alerts themselves did go out
        thread = stack.slack.thread(CHANNEL, root_of_item(stack, key).ts)
        assert thread[-1].text.startswith(":fire:")

    run(desk, NOW + timedelta(hours=2, minutes=40))
    [told] = [m for m in stack.slack.messages if "<@U01SAMWHIT>" in m.text]
    assert all(f"|{k}>" in json.dumps(told.blocks) for k in escalated)

    run(desk, NOW + timedelta(hours=2, minutes=55))  # told once: nothing owed any more
    assert len([m for m in stack.slack.messages if "<@U01SAMWHIT>" in m.text]) == 1
    assert_one_root_and_one_reply_per_tier(stack, *escalated)


def root_of_item(stack, key: str):
    """The alert message a ticket is on (not the run's escalation message)."""
    [message] = [
        m
        for m in roots(stack)
        if f"|{key}>" in json.dumps(m.blocks) and "<@U01SAMWHIT>" not in m.text
    ]
    return message


# -- assigned but not answered --------------------------------------------------------------------


def test_an_assigned_ticket_stays_on_the_alert_until_someone_replies(desk, tmp_path: Path) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=LEAD)
    run(desk, NOW)
    root = root_of(stack, "SS-121")
    assign(stack, "SS-121", "acc-maya-patel", NOW + timedelta(minutes=3))

    run(desk, NOW + timedelta(minutes=15))
    assert len(roots(stack)) == 3  # no new alert, the line reads differently
    assert "assigned to Maya Patel, still no reply after 2 h 25 m" in json.dumps(root.blocks)
    [dm] = stack.slack.dms_to(MAYA)
    assert "SS-121" in dm.text and "still waiting for a first reply" in dm.text
    run(desk, NOW + timedelta(minutes=30))
    assert len(stack.slack.dms_to(MAYA)) == 1  # once per tier

    stack.jira.issue("SS-121").comments.append(
        CommentState(
            id="90002",
            author="acc-maya-patel",
            body="Here is the signed contract.",
            created=NOW + timedelta(minutes=35),
            updated=NOW + timedelta(minutes=35),
        )
    )
    report = tmp_path / "report.json"
    run(desk, NOW + timedelta(minutes=45), "--report", str(report))
    assert root.text.startswith(":white_check_mark: Resolved (was: first response overdue): SS-121")
    assert "answered by Maya Patel after 2 h 45 m" in json.dumps(root.blocks)
    update = next(a for a in report_of(report)["actions"] if a["kind"] == "slack_update")
    assert update["items"] == ["SS-121"] and update["status"] == "sent"
    why = desk.run("why", "SS-121")
    assert "unassigned_first_response/resolved" in why.out and "sent via slack_update" in why.out


def test_a_breach_mentions_the_assignee_or_the_on_duty_group(desk) -> None:
    stack = desk(
        "unassigned_first_response.yaml",
        now=NOW,
        settings={**LEAD, "notify": {"on_duty": "S0SUPPORT"}},
    )
    stack.jira.add_issue(
        key="SS-131",
        summary="Portal login loops",
        status="Open",
        created="-1h45m",
        reporter="pat.alvarez@homeowners.example",
    )
    run(desk, NOW)
    assign(stack, "SS-120", "acc-maya-patel", NOW + timedelta(minutes=5))

    run(desk, NOW + timedelta(minutes=25))  # SS-120 (assigned) and SS-131 pass 2 h

    [assigned] = stack.slack.thread(CHANNEL, root_of(stack, "SS-120").ts)
    assert "<@U01MAYAPTL>" in assigned.text and not assigned.reply_broadcast
    [unassigned] = stack.slack.thread(CHANNEL, root_of(stack, "SS-131").ts)
    assert "<!subteam^S0SUPPORT>" in unassigned.text and not unassigned.reply_broadcast
    assert [dm for dm in stack.slack.dms_to(MAYA) if "SS-120" in dm.text]


def test_it_closes_the_episode_when_the_ticket_closes_and_starts_a_new_one_on_reopening(
    desk,
) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=LEAD)
    run(desk, NOW)
    issue = stack.jira.issue("SS-121")
    issue.status, issue.resolved, issue.updated = "Resolved", NOW + timedelta(minutes=5), NOW
    run(desk, NOW + timedelta(minutes=15))
    assert "closed (Resolved) after 2 h 15 m" in json.dumps(root_of(stack, "SS-121").blocks)

    issue.status, issue.resolved = "Open", None  # reopened, still nobody replied
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
    assert group.blocks[0]["text"]["text"] == "3 tickets need a first response"
    assert group.blocks[1]["text"]["text"] == "*2 overdue · 1 due within 30 m*"
    lines = group.blocks[2]["text"]["text"].splitlines()
    assert [line.split("|")[1].split(">")[0] for line in lines] == ["SS-122", "SS-121", "SS-120"]
    *_, legend_block, buttons = group.blocks
    legend = json.dumps(legend_block)
    # What a person can do from Slack: pick one of the tickets, then assign, snooze or ask why.
    assert buttons["type"] == "actions" and buttons["elements"][0]["type"] == "static_select"
    picked = [o["text"]["text"] for o in buttons["elements"][0]["options"]]
    assert sorted(picked) == ["SS-120", "SS-121", "SS-122"]
    assert ":warning: due soon" in legend and ":rotating_light: overdue" in legend
    assert ":star: priority installer" in legend and "Reply publicly" in legend

    run(desk, NOW + timedelta(minutes=25))  # SS-120 breaches
    assert len(group.updates) == 1
    [reply] = stack.slack.thread(CHANNEL, group.ts)
    assert "SS-120" in reply.text and "SS-121" not in reply.text

    stack.jira.issue("SS-121").comments.append(
        CommentState(
            id="90003",
            author="acc-priya-nair",
            body="Sent it again.",
            created=NOW + timedelta(minutes=30),
            updated=NOW + timedelta(minutes=30),
        )
    )
    run(desk, NOW + timedelta(minutes=40))
    assert len(group.updates) == 2
    assert group.blocks[0]["text"]["text"] == "2 tickets need a first response (1 resolved)"
    text = json.dumps(group.blocks)
    assert ":white_check_mark: <" in text and "answered by Priya Nair after 2 h 40 m" in text

    run(desk, NOW + timedelta(hours=2, minutes=25))  # SS-120 and SS-122 escalate
    [breach, escalation] = stack.slack.thread(CHANNEL, group.ts)
    assert escalation.text.startswith(":fire: First response overdue, escalated: ")
    assert "SS-120" in escalation.text and "SS-122" in escalation.text
    [told] = [m for m in stack.slack.messages if "<@U01SAMWHIT>" in m.text]
    assert "SS-120" in told.text and "SS-122" in told.text
    assert_one_root_and_one_reply_per_tier(stack, "SS-120", "SS-122")


# -- dry run, failures, Jira's SLA ---------------------------------------------------------------


def test_it_prints_every_message_and_update_in_a_dry_run_and_sends_nothing(desk) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=LEAD)
    dry = run(desk, NOW, "--dry-run")
    assert dry.out.count("[slack_post] -> #support-sla") == 3
    # As Slack shows it: the ticket's own text, not its escaped form.
    assert "First response overdue: SS-122 Dealer fee wrong on <b>quote</b> & contract" in dry.out
    assert "&lt;" not in dry.out and "&amp;" not in dry.out
    assert stack.slack.messages == []

    run(desk, NOW)
    stack.jira.issue("SS-121").status = "Resolved"
    dry = run(desk, NOW + timedelta(minutes=25), "--dry-run")
    assert "[slack_update] -> C" in dry.out and "closed (Resolved)" in dry.out
    assert "[slack_thread_reply]" in dry.out and "SS-120" in dry.out
    assert all(not m.updates for m in stack.slack.messages)
    assert len(stack.slack.messages) == 3

    run(desk, NOW + timedelta(minutes=25))  # the dry run changed nothing: the real run does it all
    assert "closed (Resolved)" in json.dumps(root_of(stack, "SS-121").blocks)
    assert len(stack.slack.thread(CHANNEL, root_of(stack, "SS-120").ts)) == 1


def test_a_dry_run_prints_the_exact_payloads_as_json(desk) -> None:
    desk("unassigned_first_response.yaml", now=NOW, settings=LEAD)
    dry = run(desk, NOW, "--dry-run", "--json")
    payloads = [json.loads(line) for line in dry.out.splitlines() if line.startswith("{")]
    assert [p["method"] for p in payloads] == ["chat.postMessage"] * 3
    first = payloads[0]
    assert first["channel"] == CHANNEL and first["blocks"][0]["type"] == "section"
    assert "&lt;b&gt;" in first["text"]  # exactly what would be sent, escaped


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


# -- quiet hours ---------------------------------------------------------------------------------

EARLY = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)  # Tuesday 06:00 in New York: before hours


def mentions_in(messages) -> list[str]:
    return [m.text for m in messages if "<@" in m.text or "<!subteam" in m.text]


def test_quiet_hours_hold_the_pings_and_one_summary_delivers_them_when_hours_start(desk) -> None:
    stack = desk("unassigned_first_response.yaml", now=EARLY, settings=LEAD)
    run(desk, EARLY)
    run(desk, EARLY + timedelta(hours=2, minutes=10))  # 08:10: two escalate, two overdue
    night = list(stack.slack.messages)
    assert len(roots(stack)) == 4 and len(replies(stack)) == 3  # SS-123's first alert
    assert mentions_in(night) == [] and stack.slack.dms_to(MAYA) == []
    assert not any(m.reply_broadcast for m in night)

    run(desk, EARLY + timedelta(hours=3, minutes=5))  # 09:05: the desk opens; SS-120 escalates
    morning = stack.slack.messages[len(night) :]
    [summary] = [m for m in morning if not m.thread_ts]
    assert summary.text.startswith(":sunrise: While nobody was pinged: 3 escalated · 1 overdue")
    assert len(mentions_in(morning)) == 1 and "<@U01SAMWHIT>" in summary.text
    held = ("SS-120", "SS-121", "SS-122", "SS-123")
    assert all(f"|{k}>" in json.dumps(summary.blocks) for k in held)

    run(desk, EARLY + timedelta(hours=3, minutes=20))
    assert len(stack.slack.messages) == len(night) + len(morning)  # delivered once


def test_quiet_hours_can_hold_the_lines_too_until_the_hours_start(desk) -> None:
    stack = desk(
        "unassigned_first_response.yaml",
        now=EARLY,
        settings={**LEAD, "notify": {"outside_hours": "hold"}},
    )
    run(desk, EARLY)
    run(desk, EARLY + timedelta(hours=2, minutes=10))
    assert stack.slack.messages == []

    run(desk, EARLY + timedelta(hours=3, minutes=5))
    alerts = [m for m in roots(stack) if "<@U01SAMWHIT>" not in m.text]
    assert len(alerts) == 4 and replies(stack) == []  # each at the tier it is in by then
    assert len([m for m in stack.slack.messages if "<@U01SAMWHIT>" in m.text]) == 1


# -- inhibition across jobs -------------------------------------------------------------------

ONLY_TWO_JOBS = {
    "jobs": {
        name: {"enabled": False}
        for name in (
            "onboarding_missing_ticket",
            "approval_reminder",
            "onboard_reset_reminder",
            "doc_test_followup",
            "channel_partner_request",
            "config_due_dates",
            "sla_report",
        )
    }
}


def test_an_overdue_ticket_is_not_also_a_hygiene_to_do_in_the_same_run_all(desk) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings={**LEAD, **ONLY_TWO_JOBS})
    stack.jira.add_issue(
        key="SS-132",
        summary="Cannot find the financing tab",
        status="Open",
        created="-2h30m",
        reporter="pat.alvarez@homeowners.example",
    )
    result = desk.run("run", "all", "--now", iso(NOW))
    assert result.code == 0, result.err

    hygiene = [m for m in stack.slack.messages if "Ticket hygiene" in m.text]
    assert hygiene, "the hygiene digest went out"
    assert not any("SS-132" in m.text for m in hygiene)
    assert any("SS-123" in m.text for m in hygiene)  # not overdue: still a to-do
    assert any("|SS-132>" in json.dumps(m.blocks) for m in roots(stack))
    why = desk.run("why", "SS-132").out
    assert "ticket_hygiene" in why and "suppressed_inhibited" in why


def test_the_snooze_label_with_an_end_date_quiets_a_ticket_and_silences_lists_it(desk) -> None:
    # `silences` lists what is silenced now (the wall clock): an end date three days ahead.
    until = datetime.now(ZoneInfo("America/New_York")).date() + timedelta(days=3)
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=LEAD)
    stack.jira.issue("SS-121").labels.append(f"sla-snooze-until-{until.isoformat()}")
    stack.jira.issue("SS-122").labels.append("sla-snooze")

    run(desk, NOW)

    shown = json.dumps([m.blocks for m in stack.slack.messages_in(CHANNEL)])
    assert "|SS-120>" in shown and "|SS-121>" not in shown and "|SS-122>" not in shown
    listing = desk.run("silences")
    assert listing.code == 0, listing.err
    rows = {line.split()[1]: line for line in listing.out.splitlines()[1:] if line.strip()}
    assert rows["SS-121"].startswith("label") and f"{until} (desk date)" in rows["SS-121"]
    assert "no end" in rows["SS-122"] and "sla-snooze label" in rows["SS-122"]
