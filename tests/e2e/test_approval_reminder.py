"""SOP 001 step 5 through the CLI: reminder DMs, approval tickets, "CS can go back to To Do"."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from emulators.jira import CommentState

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
NOW_ISO = NOW.isoformat()
DAVID = "david.ellis@goeverbright.example"
CHANNEL = "#support-sla"
FIXTURE = "approval_reminder.yaml"
JOB = "approval_reminder"
# The shared people file gives David Ellis this Jira account id.
APPROVER = {"people": {"approver": {"jira_account_id": "acc-david-ellis", "email": DAVID}}}
LINKING = {**APPROVER, "actions": {"link_approval_tickets": True}}


def iso(at: datetime) -> str:
    return at.isoformat()


def run(desk, *extra: str, at: datetime = NOW, report: Path | None = None):
    args = ["run", JOB, "--now", iso(at), *extra]
    if report is not None:
        args += ["--report", str(report)]
    return desk.run(*args)


def texts(messages) -> str:
    return "\n".join(m.text for m in messages)


def internal_comments(stack, key: str) -> list:
    return [c for c in stack.jira.comments_of(key) if not getattr(c, "public", True)]


def body(comment) -> str:
    return str(getattr(comment, "body", comment))


def search_calls(stack) -> list:
    return [c for c in stack.jira.calls if "search" in c.path]


# -- the reminder ----------------------------------------------------------------------------


def test_it_dms_the_approver_once_and_a_rerun_is_silent(desk, tmp_path: Path) -> None:
    stack = desk(FIXTURE, now=NOW, settings=APPROVER)
    report_path = tmp_path / "report.json"

    first = run(desk, report=report_path)

    assert first.code == 0, first.err
    (dm,) = stack.slack.dms_to(DAVID)
    assert "2 onboarding tickets waiting for your approval" in dm.text
    assert "SS-301" in dm.text and "Sunrise Solar Co" in dm.text and "1 d 6 h" in dm.text
    assert "SS-305" in dm.text and "Harbor Electric" in dm.text
    for quiet in ("SS-302", "SS-303", "SS-304", "SS-306"):
        assert quiet not in dm.text
    channel = texts(stack.slack.messages_in(CHANNEL))
    assert "Reminded David Ellis by Slack DM" in channel
    assert "SS-301" in channel and "SS-305" in channel
    report = json.loads(report_path.read_text())
    overdue = sorted(f["item"] for f in report["findings"] if f["rule"] == "approval_overdue")
    assert overdue == ["SS-301", "SS-305"]
    assert report["exit_code"] == 0
    # Two searches: the onboarding tickets and the approver's tickets; no per-ticket queries.
    assert len(search_calls(stack)) == 2

    sent_before = len(stack.slack.messages)
    second = run(desk, at=NOW + timedelta(minutes=60))

    assert second.code == 0, second.err
    assert len(stack.slack.messages) == sent_before
    assert len(stack.slack.dms_to(DAVID)) == 1


def test_it_reminds_again_after_the_realert_window(desk) -> None:
    stack = desk(FIXTURE, now=NOW, settings=APPROVER)
    assert run(desk).code == 0

    later = NOW + timedelta(hours=24)
    stack.jira.advance(timedelta(hours=24))
    assert run(desk, at=later).code == 0

    dms = stack.slack.dms_to(DAVID)
    assert len(dms) == 2
    # SS-302 (asked 5 h before the first run) is now overdue too.
    assert "SS-301" in dms[1].text and "SS-302" in dms[1].text and "SS-305" in dms[1].text
    # Answered: SS-303 on the ticket, SS-304 by his email on the onboarding subject.
    assert "SS-303" not in dms[1].text and "SS-304" not in dms[1].text


def test_a_note_tagging_him_without_an_approval_question_does_not_remind_him_again(desk) -> None:
    # SS-303: answered 20 h ago, then tagged 19 h ago in a customer-communication note.
    stack = desk(FIXTURE, now=NOW, settings=APPROVER)

    assert run(desk).code == 0
    for day in (1, 2):
        stack.jira.advance(timedelta(hours=24))
        assert run(desk, at=NOW + timedelta(days=day)).code == 0

    assert all("SS-303" not in dm.text for dm in stack.slack.dms_to(DAVID))
    answered = [m.text for m in stack.slack.messages_in(CHANNEL) if "answered by" in m.text]
    assert any("SS-303" in t and "Approved - push it live." in t for t in answered)


def test_his_email_threaded_on_the_onboarding_subject_is_his_answer(desk, tmp_path) -> None:
    # SS-340 "Re: EverBright Partner Onboarding - Lakeside Solar" is found by the onboarding
    # search too; it answers SS-304 and is never itself a ticket waiting for him.
    stack = desk(FIXTURE, now=NOW, settings=APPROVER)

    assert run(desk, report=tmp_path / "r.json").code == 0
    stack.jira.advance(timedelta(hours=24))
    assert run(desk, at=NOW + timedelta(hours=24)).code == 0

    for dm in stack.slack.dms_to(DAVID):
        assert "SS-304" not in dm.text and "SS-340" not in dm.text
    report = json.loads((tmp_path / "r.json").read_text())
    fired = {(f["rule"], f["item"]) for f in report["findings"]}
    assert ("approval_received", "SS-304") in fired
    assert not {f["item"] for f in report["findings"] if f["rule"] == "approval_overdue"} & {
        "SS-304",
        "SS-340",
    }
    channel = texts(stack.slack.messages_in(CHANNEL))
    assert "SS-304" in channel and "SS-340" in channel and "by email, as" in channel


def test_an_answer_on_the_ticket_stops_the_reminders(desk) -> None:
    stack = desk(FIXTURE, now=NOW, settings=APPROVER)
    assert run(desk).code == 0

    # David answers on SS-301 (an email reply lands as his comment), a day later.
    answered_at = NOW + timedelta(hours=2)
    stack.jira.issue("SS-301").comments.append(
        CommentState("90001", "acc-david-ellis", "Approved.", answered_at, answered_at, True)
    )
    later = NOW + timedelta(hours=25)
    stack.jira.advance(timedelta(hours=25))
    assert run(desk, at=later).code == 0

    second_dm = stack.slack.dms_to(DAVID)[-1]
    assert "SS-301" not in second_dm.text
    assert "SS-302" in second_dm.text and "SS-305" in second_dm.text
    answered = [m.text for m in stack.slack.messages_in(CHANNEL) if "answered by" in m.text]
    assert any("SS-301" in t and "CS-301" in t and "Approved." in t for t in answered)


def test_it_records_the_reminder_on_the_ticket_when_asked_to(desk) -> None:
    settings = {**APPROVER, "actions": {"comment_on_reminder": True}}
    stack = desk(FIXTURE, now=NOW, settings=settings)

    assert run(desk).code == 0
    assert run(desk, at=NOW + timedelta(minutes=5)).code == 0

    notes = [body(c) for c in internal_comments(stack, "SS-301") if "approval-reminder" in body(c)]
    assert len(notes) == 1
    assert "Approval reminder sent to David Ellis on Slack" in notes[0]
    assert "Ref: SS-301 · approval-reminder · 2026-03-04" in notes[0]
    # The note names the approver but is not a new ask: the wait still counts from the ask.
    assert len(stack.slack.dms_to(DAVID)) == 1


def test_a_failed_dm_is_reported_and_retried(desk, tmp_path: Path) -> None:
    settings = {
        "people": {"approver": {"jira_account_id": "acc-david-ellis", "email": "nobody@x.example"}}
    }
    stack = desk(FIXTURE, now=NOW, settings=settings)

    first = run(desk, report=tmp_path / "r.json")

    assert first.code == 1
    channel = texts(stack.slack.messages_in(CHANNEL))
    assert "Could not DM David Ellis" in channel and "SS-301" in channel
    report = json.loads((tmp_path / "r.json").read_text())
    assert any(a["kind"] == "slack_dm" and a["status"] == "failed" for a in report["actions"])

    second = run(desk, at=NOW + timedelta(minutes=60), report=tmp_path / "r2.json")
    assert second.code == 1  # not marked as sent: tried again
    retried = json.loads((tmp_path / "r2.json").read_text())
    assert any(a["kind"] == "slack_dm" for a in retried["actions"])


def test_a_desk_can_narrow_the_onboarding_tickets_with_its_own_jql(desk) -> None:
    settings = {**APPROVER, "jobs": {JOB: {"jql": 'project = SS AND key = "SS-305"'}}}
    stack = desk(FIXTURE, now=NOW, settings=settings)

    assert run(desk).code == 0

    (dm,) = stack.slack.dms_to(DAVID)
    assert "1 onboarding ticket waiting for your approval" in dm.text
    assert "SS-305" in dm.text and "SS-301" not in dm.text


# -- approval received -----------------------------------------------------------------------


def test_it_tells_support_once_that_the_cs_ticket_can_go_back_to_to_do(desk) -> None:
    stack = desk(FIXTURE, now=NOW, settings=APPROVER)

    assert run(desk).code == 0
    assert run(desk, at=NOW + timedelta(hours=2)).code == 0

    answered = [m for m in stack.slack.messages_in(CHANNEL) if "answered by David Ellis" in m.text]
    assert len(answered) == 1
    text = answered[0].text
    assert "SS-303" in text and "CS-303" in text and "back to To Do" in text
    assert "Approved - push it live." in text
    # SS-304 was answered by the separate approval ticket SS-340.
    assert "SS-304" in text and "CS-304" in text


# -- approval tickets ------------------------------------------------------------------------


def test_it_alerts_support_about_an_unlinked_approval_ticket_without_touching_it(desk) -> None:
    stack = desk(FIXTURE, now=NOW, settings=APPROVER)

    assert run(desk).code == 0
    assert run(desk, at=NOW + timedelta(hours=1)).code == 0

    alerts = [m for m in stack.slack.messages_in(CHANNEL) if "not linked" in m.text]
    assert len(alerts) == 1
    assert "SS-340" in alerts[0].text and "SS-304" in alerts[0].text
    assert "link it as a duplicate and close it" in alerts[0].text
    assert "SS-341" not in alerts[0].text
    assert stack.jira.links_of("SS-340") == []
    assert stack.jira.issue("SS-340").status == "Waiting for support"


def test_a_ticket_naming_only_the_organization_is_left_for_a_person_to_link(
    desk, tmp_path: Path
) -> None:
    # SS-343 "Sunrise Solar Co wants a new billing contact": names SS-301's organization only.
    stack = desk(FIXTURE, now=NOW, settings=LINKING)

    assert run(desk, report=tmp_path / "r.json").code == 0

    assert stack.jira.links_of("SS-343") == []
    assert stack.jira.comments_of("SS-343") == []
    assert stack.jira.issue("SS-343").status == "Waiting for support"
    (alert,) = [m.text for m in stack.slack.messages_in(CHANNEL) if "not linked" in m.text]
    line = next(line for line in alert.splitlines() if "SS-343" in line)
    assert "SS-301" in line and "by organization" in line and "by hand" in line
    report = json.loads((tmp_path / "r.json").read_text())
    fired = {(f["rule"], f["item"]) for f in report["findings"]}
    assert ("approval_overdue", "SS-301") in fired
    assert ("approval_received", "SS-301") not in fired
    assert not {("link_approval_ticket", "SS-343"), ("close_approval_ticket", "SS-343")} & fired
    (dm,) = stack.slack.dms_to(DAVID)
    assert "SS-301" in dm.text


def test_a_ticket_naming_the_organization_with_an_approval_phrase_is_a_possible_answer(
    desk,
) -> None:
    stack = desk(FIXTURE, now=NOW, settings=LINKING)
    stack.jira.add_issue(
        key="SS-344",
        summary="Harbor Electric",
        description="Harbor Electric is approved to go live.",
        status="Waiting for support",
        created="-1h",
        reporter="David Ellis",
    )

    assert run(desk).code == 0

    (dm,) = stack.slack.dms_to(DAVID)
    assert "SS-305" not in dm.text
    channel = texts(stack.slack.messages_in(CHANNEL))
    assert "possibly by email, as" in channel and "SS-344" in channel
    assert stack.jira.links_of("SS-344") == []
    assert stack.jira.issue("SS-344").status == "Waiting for support"


def test_it_links_and_closes_the_approval_ticket_exactly_once_when_enabled(desk) -> None:
    stack = desk(FIXTURE, now=NOW, settings=LINKING)

    first = run(desk)
    second = run(desk, at=NOW + timedelta(hours=1))

    assert first.code == 0, first.err
    assert second.code == 0, second.err
    assert stack.jira.links_of("SS-340") == [
        {"type": "Duplicate", "direction": "outward", "key": "SS-304"}
    ]
    notes = [body(c) for c in internal_comments(stack, "SS-340")]
    assert len(notes) == 1
    assert "Ref: SS-340 · approval-ticket · SS-304" in notes[0]
    assert stack.jira.issue("SS-340").status == "Closed"
    link_posts = [
        c for c in stack.jira.calls if c.method == "POST" and c.path.endswith("/issueLink")
    ]
    assert len(link_posts) == 1
    # Told once, after the link, the comment and the close went through (the chain's notice).
    unlinked = [m for m in stack.slack.messages_in(CHANNEL) if "not linked" in m.text]
    assert not any("SS-340" in m.text for m in unlinked)
    notices = [m for m in stack.slack.messages_in(CHANNEL) if "linked and closed" in m.text]
    assert len(notices) == 1 and "linked it as a duplicate and closed it" in notices[0].text
    assert "SS-340" in notices[0].text and "SS-304" in notices[0].text
    assert stack.jira.links_of("SS-341") == []
    # Named by organization only: reported, never linked or closed by the job.
    assert stack.jira.links_of("SS-343") == []
    assert stack.jira.issue("SS-343").status == "Waiting for support"


def test_a_link_made_by_a_person_means_nothing_to_do(desk) -> None:
    stack = desk(FIXTURE, now=NOW, settings=LINKING)
    # David answered SS-302 by email and an agent already linked it, the other way round.
    stack.jira.add_issue(
        key="SS-342",
        summary="Re: Bright Path Energy LLC",
        description="Approved to go live.",
        status="Waiting for support",
        created="-1h",
        reporter="David Ellis",
        links=[{"type": "Duplicate", "direction": "inward", "key": "SS-302"}],
    )

    assert run(desk).code == 0

    assert stack.jira.links_of("SS-342") == [
        {"type": "Duplicate", "direction": "inward", "key": "SS-302"}
    ]
    assert stack.jira.comments_of("SS-342") == []
    assert stack.jira.issue("SS-342").status == "Waiting for support"
    messages = [m.text for m in stack.slack.messages_in(CHANNEL)]
    # SS-342 is SS-302's answer, not an unlinked approval ticket.
    assert any("SS-302" in t and "SS-342" in t and "answered by" in t for t in messages)
    assert not any("SS-342" in t and "not linked" in t for t in messages)


# -- dry run and why -------------------------------------------------------------------------


def test_dry_run_prints_everything_and_sends_nothing(desk) -> None:
    stack = desk(
        FIXTURE,
        now=NOW,
        settings={
            **LINKING,
            "actions": {"link_approval_tickets": True, "comment_on_reminder": True},
        },
    )

    dry = run(desk, "--dry-run")

    assert dry.code == 0, dry.err
    assert stack.slack.messages == []
    assert stack.jira.links_of("SS-340") == []
    assert [
        c for c in stack.jira.calls if c.method in ("POST", "PUT") and "search" not in c.path
    ] == []
    assert f"[slack_dm] -> {DAVID}" in dry.out
    assert "2 onboarding tickets waiting for your approval" in dry.out
    assert "Reminded David Ellis by Slack DM" in dry.out
    assert "[jira_link] -> SS-340" in dry.out
    assert "[jira_transition] -> SS-340" in dry.out
    assert "Ref: SS-301 · approval-reminder · 2026-03-04" in dry.out

    real = run(desk)
    assert real.code == 0
    assert len(stack.slack.dms_to(DAVID)) == 1


def test_why_shows_the_decision(desk) -> None:
    desk(FIXTURE, now=NOW, settings=APPROVER)
    assert run(desk).code == 0
    assert run(desk, at=NOW + timedelta(minutes=30)).code == 0

    why = desk.run("why", "SS-301")

    assert why.code == 0
    assert "approval_reminder/approval_overdue" in why.out
    assert "sent" in why.out and "suppressed_duplicate" in why.out


# -- crash safety: steps that wait for an earlier send ----------------------------------------

INTERNAL_COMMENT = r"/rest/servicedeskapi/request/{key}/comment$"  # SS is a service desk
TRANSITIONS = r"/rest/api/2/issue/{key}/transitions$"
LINKING_LATER = NOW + timedelta(minutes=15)


def transition_posts(stack, key: str) -> list:
    return [c for c in stack.jira.calls_to(TRANSITIONS.format(key=key), "POST") if c.status < 300]


def test_the_approval_ticket_is_closed_only_after_its_comment_and_the_next_run_finishes(
    desk,
) -> None:
    stack = desk(FIXTURE, now=NOW, settings=LINKING)
    stack.jira.inject(INTERNAL_COMMENT.format(key="SS-340"), method="POST", status=503, times=1)

    first = run(desk)

    assert first.code == 1
    assert stack.jira.links_of("SS-340") == [
        {"type": "Duplicate", "direction": "outward", "key": "SS-304"}
    ]
    assert internal_comments(stack, "SS-340") == []
    # Closed without the comment, it would never be explained: it waits for the comment.
    assert stack.jira.issue("SS-340").status == "Waiting for support"
    assert transition_posts(stack, "SS-340") == []

    assert run(desk, at=LINKING_LATER).code == 0
    assert run(desk, at=LINKING_LATER + timedelta(minutes=15)).code == 0

    (note,) = [body(c) for c in internal_comments(stack, "SS-340")]
    assert "Ref: SS-340 · approval-ticket · SS-304" in note
    assert stack.jira.issue("SS-340").status == "Closed"
    assert len(transition_posts(stack, "SS-340")) == 1
    link_posts = [c for c in stack.jira.calls_to(r"/issueLink$", "POST") if c.status < 300]
    assert len(link_posts) == 1


def test_a_ticket_it_linked_that_someone_closed_before_its_comment_still_gets_the_comment(
    desk,
) -> None:
    stack = desk(FIXTURE, now=NOW, settings=LINKING)
    stack.jira.inject(INTERNAL_COMMENT.format(key="SS-340"), method="POST", status=503, times=1)
    assert run(desk).code == 1
    stack.jira.issue("SS-340").status = "Closed"  # an agent closed it by hand meanwhile

    assert run(desk, at=LINKING_LATER).code == 0
    assert run(desk, at=LINKING_LATER + timedelta(hours=1)).code == 0

    (note,) = [body(c) for c in internal_comments(stack, "SS-340")]
    assert "Ref: SS-340 · approval-ticket · SS-304" in note
    assert stack.jira.issue("SS-340").status == "Closed"
    assert transition_posts(stack, "SS-340") == []


def test_a_reminder_note_that_could_not_be_posted_comes_with_the_next_run_once(desk) -> None:
    nowhere = {**APPROVER, "desk": {"alert_channel": "#nowhere"}}
    stack = desk(FIXTURE, now=NOW, settings=nowhere)

    assert run(desk).code == 1
    assert len(stack.slack.dms_to(DAVID)) == 1 and stack.slack.messages_in(CHANNEL) == []

    desk.reconfigure(APPROVER)
    # After the failed run's claim on the note (ledger.claim_ttl, 10 min) has lapsed.
    assert run(desk, at=NOW + timedelta(minutes=15)).code == 0
    assert run(desk, at=NOW + timedelta(minutes=30)).code == 0

    notes = [m.text for m in stack.slack.messages_in(CHANNEL) if "Reminded David Ellis" in m.text]
    assert len(notes) == 1
    assert "SS-301" in notes[0] and "SS-305" in notes[0]
    assert len(stack.slack.dms_to(DAVID)) == 1


class _Killed(BaseException):
    """The process dying at a failpoint (SIGKILL in production): nothing after it runs."""


def test_a_run_that_dies_after_the_dm_leaves_its_note_and_comments_to_the_next_run(
    desk, monkeypatch
) -> None:
    import jobs.pipeline.run

    settings = {**APPROVER, "actions": {"comment_on_reminder": True}}
    stack = desk(FIXTURE, now=NOW, settings=settings)

    def die_after_record(name: str) -> None:
        if name == "after_record":
            raise _Killed(name)

    with monkeypatch.context() as patch:
        patch.setattr(jobs.pipeline.run, "failpoint", die_after_record)
        try:
            run(desk)
        except _Killed:
            pass
    assert len(stack.slack.dms_to(DAVID)) == 1
    assert stack.slack.messages_in(CHANNEL) == []

    assert run(desk, at=NOW + timedelta(minutes=15)).code == 0
    assert run(desk, at=NOW + timedelta(minutes=30)).code == 0

    assert len(stack.slack.dms_to(DAVID)) == 1
    notes = [m.text for m in stack.slack.messages_in(CHANNEL) if "Reminded David Ellis" in m.text]
    assert len(notes) == 1 and "SS-301" in notes[0] and "SS-305" in notes[0]
    for key in ("SS-301", "SS-305"):
        (recorded,) = [
            body(c) for c in internal_comments(stack, key) if "approval-reminder" in body(c)
        ]
        # The day of the reminder, not of the run that caught up.
        assert f"Ref: {key} · approval-reminder · 2026-03-04" in recorded


def test_a_reminder_comment_that_failed_is_posted_by_the_next_run(desk) -> None:
    settings = {**APPROVER, "actions": {"comment_on_reminder": True}}
    stack = desk(FIXTURE, now=NOW, settings=settings)
    stack.jira.inject(INTERNAL_COMMENT.format(key="SS-305"), method="POST", status=503, times=1)

    assert run(desk).code == 1
    assert not [c for c in internal_comments(stack, "SS-305") if "approval-reminder" in body(c)]

    # The next run, once the failed run's claim on it has lapsed; the one after does nothing.
    for minutes in (15, 30):
        assert run(desk, at=NOW + timedelta(minutes=minutes)).code == 0

    for key in ("SS-301", "SS-305"):
        recorded = [
            body(c) for c in internal_comments(stack, key) if "approval-reminder" in body(c)
        ]
        assert len(recorded) == 1 and "2026-03-04" in recorded[0]
    notes = [m.text for m in stack.slack.messages_in(CHANNEL) if "Reminded David Ellis" in m.text]
    assert len(notes) == 1
