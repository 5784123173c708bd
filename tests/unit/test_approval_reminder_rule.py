"""SOP 001 step 5: who was asked, who answered, and when the approver gets a reminder."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.calendar import BusinessCalendar
from jobs.config import ActionsConfig
from jobs.durations import Duration
from jobs.model import Comment, IssueLink, Person, StatusCategory, Ticket
from jobs.render.words import human_duration
from jobs.rules.approval_reminder import (
    ANSWER_APPROVAL_TICKET,
    ANSWER_COMMENT,
    ANSWER_COMMENT_ON_LINKED,
    ANSWER_LINKED_TICKET,
    ANSWER_POSSIBLE_APPROVAL_TICKET,
    DEFAULT_ASK_PHRASES,
    RULE_CLOSE,
    RULE_LINK,
    RULE_OVERDUE,
    RULE_RECEIVED,
    RULE_UNLINKED,
    ApprovalData,
    ApprovalReminderConfig,
    Approver,
    OverdueDetail,
    approval_ticket_marker,
    evaluate,
    find_asks,
    reminder_marker,
    split_onboarding,
)
from jobs.rules.desk import Desk, PriorityInstallers

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # a Wednesday
DAVID_ID = "5b10ac8d82e05b22cc7d4e01"
DAVID = Person(DAVID_ID, "David Ellis", "david.ellis@goeverbright.example")
AGENT = Person("agent-1", "Alex Agent", "alex@everbright-support.example")
APPROVER = Approver(
    name="David Ellis", email="david.ellis@goeverbright.example", account_id=DAVID_ID
)
CONFIG = ApprovalReminderConfig()
DESK = Desk(priority_installers=PriorityInstallers(("Sunrise Solar Co",)))
NO_ACTIONS = ActionsConfig()
ALWAYS = BusinessCalendar.twenty_four_seven(NEW_YORK)
NINE_TO_FIVE = BusinessCalendar.business(NEW_YORK, {d: (time(9), time(17)) for d in range(5)})
ASK_TEXT = f"[~accountid:{DAVID_ID}] config is done for Sunrise Solar Co: approved to push live?"

_ids = iter(range(10_000, 99_999))


def hours_ago(hours: float, at: datetime = NOW) -> datetime:
    return at - timedelta(hours=hours)


def comment(
    hours: float,
    body: str = ASK_TEXT,
    *,
    author: Person | None = AGENT,
    public: bool = False,
    edited_hours: float | None = None,
    cid: str | None = None,
) -> Comment:
    created = hours_ago(hours)
    updated = hours_ago(edited_hours) if edited_hours is not None else created
    return Comment(
        id=cid or str(next(_ids)),
        author=author,
        body=body,
        created=created,
        updated=updated,
        public=public,
    )


def ask(hours: float, **kw: object) -> Comment:
    return comment(hours, ASK_TEXT, **kw)  # type: ignore[arg-type]


def reply(hours: float, body: str = "Approved, go ahead.", **kw: object) -> Comment:
    kw = {"author": DAVID, "public": True} | kw
    return comment(hours, body, **kw)  # type: ignore[arg-type]


def onboarding(
    key: str = "SS-301",
    comments: tuple[Comment, ...] = (),
    *,
    org: str | None = "Sunrise Solar Co",
    links: tuple[IssueLink, ...] = (),
    labels: tuple[str, ...] = (),
    comments_total: int | None = None,
    reporter: Person | None = None,
    summary: str = "EverBright Partner Onboarding",
    description: str = "",
    created_hours: float = 24 * 10,
) -> Ticket:
    return Ticket(
        key=key,
        summary=summary,
        description=description,
        reporter=reporter,
        status="Waiting on support",
        status_category=StatusCategory.IN_PROGRESS,
        created=hours_ago(created_hours),
        project="SS",
        organizations=(org,) if org else (),
        comments=comments,
        comments_total=len(comments) if comments_total is None else comments_total,
        links=links,
        labels=labels,
        url=f"https://jira.example/browse/{key}",
    )


def cs_link(
    key: str = "CS-301", category: StatusCategory = StatusCategory.IN_PROGRESS
) -> IssueLink:
    return IssueLink(
        type_name="Relates",
        direction="outward",
        relation="relates to",
        other_key=key,
        other_status="On Hold" if category is StatusCategory.IN_PROGRESS else "To Do",
        other_status_category=category,
    )


def dup_link(other: str, direction: str = "inward") -> IssueLink:
    relation = "is duplicated by" if direction == "inward" else "duplicates"
    return IssueLink("Duplicate", direction, relation, other)


def approver_ticket(
    key: str = "SS-340",
    hours: float = 2,
    summary: str = "Re: Sunrise Solar Co",
    description: str = "Approved to go live.",
    *,
    reporter: Person | None = DAVID,
    done: bool = False,
    links: tuple[IssueLink, ...] = (),
    comments: tuple[Comment, ...] = (),
) -> Ticket:
    return Ticket(
        key=key,
        summary=summary,
        description=description,
        status="Closed" if done else "Waiting for support",
        status_category=StatusCategory.DONE if done else StatusCategory.NEW,
        created=hours_ago(hours),
        project="SS",
        reporter=reporter,
        links=links,
        comments=comments,
        comments_total=len(comments),
        url=f"https://jira.example/browse/{key}",
    )


def run(
    *tickets: Ticket,
    approver_tickets: tuple[Ticket, ...] = (),
    now: datetime = NOW,
    config: ApprovalReminderConfig = CONFIG,
    actions: ActionsConfig = NO_ACTIONS,
    approver: Approver = APPROVER,
    calendar: BusinessCalendar = ALWAYS,
):
    data = ApprovalData(tickets, approver_tickets)
    return evaluate(data, approver, now, config, DESK, calendar, actions=actions)


def by_rule(evaluation, rule: str):
    return [f for f in evaluation.findings if f.rule == rule]


# -- comment timelines -----------------------------------------------------------------------

TIMELINES = [
    # (name, comments, expected rule or None)
    ("ask then reply", (ask(30), reply(20)), RULE_RECEIVED),
    ("reply before ask", (reply(40), ask(30)), RULE_OVERDUE),
    ("ask, reply, second ask unanswered", (ask(60), reply(50), ask(30)), RULE_OVERDUE),
    ("ask, second ask, reply", (ask(60), ask(30), reply(5)), RULE_RECEIVED),
    ("two asks, the latest still fresh", (ask(60), ask(3)), None),
    (
        "approver mentioned by name only",
        (comment(30, "David Ellis - approved to push live for Sunrise?"),),
        RULE_OVERDUE,
    ),
    (
        "approver mentioned by lower-case name across a line break",
        (comment(30, "hi david\nellis, ok to push live?"),),
        RULE_OVERDUE,
    ),
    (
        "approver mentioned by email",
        (comment(30, "cc david.ellis@goeverbright.example: ok to push live?"),),
        RULE_OVERDUE,
    ),
    ("a longer name is somebody else", (comment(30, "David Ellison, ok to push live?"),), None),
    ("public comment is not the internal ask", (ask(30, public=True),), None),
    ("approver's own internal note is not an ask", (ask(30, author=DAVID),), None),
    ("ask by an unknown author still counts", (ask(30, author=None),), RULE_OVERDUE),
    ("ask edited later still counts from its creation", (ask(30, edited_hours=1),), RULE_OVERDUE),
    (
        "approver's old comment edited after the ask is no answer",
        (reply(40, edited_hours=10), ask(30)),
        RULE_OVERDUE,
    ),
    (
        "approver's internal reply is an answer too",
        (ask(30), comment(29, "yes", author=DAVID)),
        RULE_RECEIVED,
    ),
    (
        "a colleague's reply is no answer",
        (ask(30), comment(29, "David is out today", public=True)),
        RULE_OVERDUE,
    ),
    (
        "our own reminder comment is never the new ask",
        (
            ask(30),
            comment(2, f"Reminder sent to David Ellis.\n{reminder_marker('SS-301', NOW.date())}"),
        ),
        RULE_OVERDUE,
    ),
    ("no ask at all", (comment(30, "config done", public=False),), None),
    (
        "a mention without an approval question is no ask",
        (comment(30, "[~accountid:" + DAVID_ID + "] FYI, config started on CS-301."),),
        None,
    ),
    (
        "the step 6 'complete and live' note does not replace the answered ask",
        (
            ask(60),
            reply(50),
            comment(
                30, f"James, [~accountid:{DAVID_ID}]: CS-301 is complete and products are live."
            ),
        ),
        RULE_RECEIVED,
    ),
    (
        "a customer communication note does not replace the answered ask",
        (
            ask(60),
            reply(50),
            comment(
                30,
                "Account manager and David Ellis: Sunrise Solar Co is not ready to launch in "
                "their state; please let the customer know.",
            ),
        ),
        RULE_RECEIVED,
    ),
    (
        "the approval phrase in any case",
        (comment(30, "DAVID ELLIS: APPROVAL to PUSH\nLIVE?"),),
        RULE_OVERDUE,
    ),
]


@pytest.mark.parametrize(("name", "comments", "expected"), TIMELINES, ids=[t[0] for t in TIMELINES])
def test_it_reads_the_comment_timeline(name, comments, expected) -> None:
    evaluation = run(onboarding(comments=comments, links=(cs_link(),)))
    rules = [f.rule for f in evaluation.findings]
    assert rules == ([expected] if expected else [])


def test_it_counts_the_wait_from_the_latest_ask_and_keys_the_episode_on_it() -> None:
    second = ask(30, cid="20002")
    evaluation = run(onboarding(comments=(ask(60, cid="20001"), reply(50), second)))
    (finding,) = by_rule(evaluation, RULE_OVERDUE)
    assert finding.episode == "ask-20002"
    assert finding.facts["ask_comment_id"] == "20002"
    assert finding.facts["asks"] == 2
    assert finding.facts["waiting_seconds"] == 30 * 3600


def test_it_records_an_edited_ask_with_its_creation_time() -> None:
    evaluation = run(onboarding(comments=(ask(30, edited_hours=1),)))
    (finding,) = evaluation.findings
    assert finding.facts["ask_edited"] is True
    assert finding.facts["asked_at"] == hours_ago(30).isoformat()


def test_it_takes_only_notes_with_a_configured_ask_phrase_for_asks() -> None:
    ticket = onboarding(comments=(comment(30, "David Ellis: OK to launch Sunrise?"),))
    assert run(ticket).findings == []
    launch = ApprovalReminderConfig(ask_phrases=["ok to launch"])
    assert [f.rule for f in run(ticket, config=launch).findings] == [RULE_OVERDUE]
    assert find_asks(ticket, APPROVER, ("OK TO LAUNCH",)) == ticket.comments


def test_it_accepts_configured_aliases_for_the_approver() -> None:
    aliased = replace(APPROVER, mention_names=("Dave E.",))
    ticket = onboarding(comments=(comment(30, "Dave E. - ok to push live?"),))
    assert run(ticket).findings == []
    assert [f.rule for f in run(ticket, approver=aliased).findings] == [RULE_OVERDUE]


@pytest.mark.parametrize(
    "body",
    [
        "@David - config is done for Sunrise Solar Co, approved to push live?",
        "Da\u200bvid Ellis: approved to push live?",  # a zero-width space inside the name
        "David\u00a0Ellis, ap\u00adproved to push live?",  # no-break space, soft hyphen
        "Ｄａｖｉｄ Ｅｌｌｉｓ: approved to push live?",  # full-width letters (NFKC)
        "No rush on the docs. David, are the products approved to push live?",
        "david can you confirm these are approved to push live",
    ],
    ids=[
        "first-name",
        "zero-width",
        "nbsp-soft-hyphen",
        "full-width",
        "negation-elsewhere",
        "lower-case-first-name",
    ],
)
def test_it_reads_an_ask_as_a_person_reads_it(body: str) -> None:
    ticket = onboarding(comments=(comment(30, body),))
    assert [f.rule for f in run(ticket).findings] == [RULE_OVERDUE]


@pytest.mark.parametrize(
    "body",
    [
        "FYI David Ellis: no need to approve this one, it is a reconfiguration.",
        "David - approval not needed here, same products as before.",
        "David, this doesn't need your approval; going live with the old setup.",
        "Pushing live without approval per David Ellis's standing OK.",
        "David Ellis: no approval needed.",
    ],
)
def test_a_note_saying_no_approval_is_needed_is_not_an_ask(body: str) -> None:
    ticket = onboarding(comments=(comment(30, body),))
    assert run(ticket).findings == []


def test_the_first_name_alone_is_a_mention_only_as_a_whole_word() -> None:
    assert APPROVER.first_name == "David"
    assert not APPROVER.is_mentioned_in("Davidson Solar: approved to push live?")
    assert not APPROVER.is_mentioned_in("David Park asked: approved to push live?")
    assert APPROVER.is_mentioned_in("David Ellis's note")
    assert not replace(APPROVER, name="Cher").first_name  # a one-word name has no first name


def test_it_matches_the_approver_by_email_when_jira_hides_the_account_id() -> None:
    no_id = replace(APPROVER, account_id=None)
    by_email = Person(None, "D. Ellis", "David.Ellis@goeverbright.example")
    named = comment(30, "David Ellis: ok to push live?")
    evaluation = run(onboarding(comments=(named, reply(20, author=by_email))), approver=no_id)
    assert [f.rule for f in evaluation.findings] == [RULE_RECEIVED]


def test_it_does_not_take_a_different_account_with_the_same_name_for_the_approver() -> None:
    impostor = Person("someone-else", "David Ellis", None)
    evaluation = run(onboarding(comments=(ask(30), reply(20, author=impostor))))
    assert [f.rule for f in evaluation.findings] == [RULE_OVERDUE]


# -- thresholds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "overdue"),
    [
        (timedelta(hours=24) - timedelta(seconds=1), False),
        (timedelta(hours=24), True),
        (timedelta(hours=24) + timedelta(seconds=1), True),
    ],
    ids=["1s before", "exactly at", "1s after"],
)
def test_it_reminds_at_exactly_remind_after(age: timedelta, overdue: bool) -> None:
    asked = Comment("1", AGENT, ASK_TEXT, NOW - age, NOW - age, public=False)
    evaluation = run(onboarding(comments=(asked,)))
    assert bool(by_rule(evaluation, RULE_OVERDUE)) is overdue


def test_it_measures_wall_clock_hours_across_the_dst_change() -> None:
    # Saturday 12:00 to Sunday 12:00 local across spring-forward is only 23 real hours.
    asked_at = datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK)
    now = datetime(2026, 3, 8, 12, 0, tzinfo=NEW_YORK)
    asked = Comment("1", AGENT, ASK_TEXT, asked_at, asked_at, public=False)
    assert run(onboarding(comments=(asked,)), now=now).findings == []
    later = run(onboarding(comments=(asked,)), now=now + timedelta(hours=1))
    assert [f.rule for f in later.findings] == [RULE_OVERDUE]


def test_it_counts_only_working_hours_on_a_business_calendar() -> None:
    # Friday 16:00 to Monday 16:00: 72 wall hours, 8 working hours.
    asked_at = datetime(2026, 3, 6, 16, 0, tzinfo=NEW_YORK)
    now = datetime(2026, 3, 9, 16, 0, tzinfo=NEW_YORK)
    asked = Comment("1", AGENT, ASK_TEXT, asked_at, asked_at, public=False)
    business = ApprovalReminderConfig(
        use_business_calendar=True, remind_after=Duration(timedelta(hours=8))
    )
    assert [f.rule for f in run(onboarding(comments=(asked,)), now=now).findings] == [RULE_OVERDUE]
    evaluation = run(
        onboarding(comments=(asked,)),
        now=now - timedelta(seconds=1),
        config=business,
        calendar=NINE_TO_FIVE,
    )
    assert evaluation.findings == []
    (finding,) = run(
        onboarding(comments=(asked,)), now=now, config=business, calendar=NINE_TO_FIVE
    ).findings
    assert finding.facts["waiting_seconds"] == 8 * 3600
    assert finding.facts["business_calendar"] is True


def test_it_reminds_after_a_business_day_whatever_the_calendar_mode() -> None:
    asked_at = datetime(2026, 3, 6, 10, 0, tzinfo=NEW_YORK)  # Friday
    asked = Comment("1", AGENT, ASK_TEXT, asked_at, asked_at, public=False)
    one_bd = ApprovalReminderConfig(remind_after=Duration(business_days=1))
    sunday = datetime(2026, 3, 8, 10, 0, tzinfo=NEW_YORK)
    monday = datetime(2026, 3, 9, 10, 0, tzinfo=NEW_YORK)
    assert run(onboarding(comments=(asked,)), now=sunday, config=one_bd).findings == []
    assert run(onboarding(comments=(asked,)), now=monday, config=one_bd).findings


def test_it_carries_the_facts_a_reminder_needs() -> None:
    evaluation = run(onboarding(comments=(ask(26),), links=(cs_link(),), labels=("vip",)))
    (finding,) = evaluation.findings
    assert finding.item == "SS-301"
    assert finding.realert == timedelta(hours=24)
    assert finding.priority is True  # Sunrise Solar Co is a priority installer
    assert finding.url == "https://jira.example/browse/SS-301"
    assert finding.facts["organization"] == "Sunrise Solar Co"
    assert finding.facts["asked_by"] == "Alex Agent"
    assert human_duration(finding.detail_as(OverdueDetail).waiting) == "1 d 2 h"
    assert finding.facts["waiting_seconds"] == 26 * 3600
    assert finding.facts["cs_tickets"] == ["CS-301"]
    assert finding.facts["labels"] == ["vip"]
    assert finding.facts["due_at"] == hours_ago(2).isoformat()


def test_it_survives_a_ticket_without_organization_and_reports_truncated_comments() -> None:
    ticket = onboarding(comments=(ask(30),), org=None, comments_total=5)
    evaluation = run(ticket)
    (finding,) = evaluation.findings
    assert finding.facts["organization"] is None
    assert finding.summary.startswith("(no organization)")
    assert [p.where for p in evaluation.problems] == ["SS-301"]
    assert evaluation.examined == 1


# -- approval received ---------------------------------------------------------------------


def test_it_tells_support_the_cs_ticket_can_go_back_to_to_do_once() -> None:
    evaluation = run(onboarding(comments=(ask(30), reply(20, "Approved!")), links=(cs_link(),)))
    (finding,) = evaluation.findings
    assert finding.rule == RULE_RECEIVED
    assert finding.realert is None and finding.episode == ""
    assert finding.facts["answer_kind"] == ANSWER_COMMENT
    assert finding.facts["answer_excerpt"] == "Approved!"
    assert finding.facts["cs_to_move"] == ["CS-301"]
    assert "CS-301 can go back to To Do" in finding.summary


@pytest.mark.parametrize("category", [StatusCategory.NEW, StatusCategory.DONE])
def test_it_stays_quiet_when_the_cs_ticket_has_already_moved(category: StatusCategory) -> None:
    ticket = onboarding(comments=(ask(30), reply(20)), links=(cs_link(category=category),))
    assert run(ticket).findings == []


def test_it_still_reports_an_answer_when_no_cs_ticket_is_linked() -> None:
    (finding,) = run(onboarding(comments=(ask(30), reply(20)))).findings
    assert finding.facts["cs_to_move"] == []
    assert "none linked" in finding.summary


# -- answers on other tickets --------------------------------------------------------------


def test_it_takes_a_linked_ticket_from_the_approver_as_the_answer() -> None:
    ticket = onboarding(comments=(ask(30),), links=(dup_link("SS-340"), cs_link()))
    approval = approver_ticket(hours=5, summary="Go live", description="")
    evaluation = run(ticket, approver_tickets=(approval,))
    (finding,) = evaluation.findings
    assert finding.rule == RULE_RECEIVED
    assert finding.facts["answer_kind"] == ANSWER_LINKED_TICKET
    assert finding.facts["answer_ticket"] == "SS-340"


def test_it_takes_the_approvers_comment_on_the_linked_ticket_as_the_answer() -> None:
    old = approver_ticket(
        hours=100,
        summary="Go live",
        description="",
        links=(dup_link("SS-301", "outward"),),
        comments=(reply(4, "Yes, push it live"),),
    )
    evaluation = run(onboarding(comments=(ask(30),), links=(cs_link(),)), approver_tickets=(old,))
    (finding,) = evaluation.findings
    assert finding.facts["answer_kind"] == ANSWER_COMMENT_ON_LINKED
    assert finding.facts["answer_excerpt"] == "Yes, push it live"


def test_it_ignores_a_linked_ticket_from_before_the_ask() -> None:
    old = approver_ticket(hours=100, summary="Go live", description="")
    ticket = onboarding(comments=(ask(30),), links=(dup_link("SS-340"),))
    assert [f.rule for f in run(ticket, approver_tickets=(old,)).findings] == [RULE_OVERDUE]


def test_it_ignores_a_linked_ticket_somebody_else_reported() -> None:
    other = approver_ticket(hours=5, reporter=AGENT, summary="Go live", description="")
    ticket = onboarding(comments=(ask(30),), links=(dup_link("SS-340"),))
    assert [f.rule for f in run(ticket, approver_tickets=(other,)).findings] == [RULE_OVERDUE]


# -- approval tickets ----------------------------------------------------------------------

MATCHES = [
    # (name, summary, description, matched by, answer kind or None: still overdue)
    (
        "organization in the summary, no approval phrase",
        "Re: Sunrise Solar Co onboarding",
        "",
        "organization",
        None,
    ),
    (
        "organization in the description, with an approval phrase",
        "Go live?",
        "yes for SUNRISE SOLAR CO",
        "organization",
        ANSWER_POSSIBLE_APPROVAL_TICKET,
    ),
    ("onboarding key", "Approval", "ok for SS-301", "key", ANSWER_APPROVAL_TICKET),
    ("CS key", "Re: CS-301", "ok", "key", ANSWER_APPROVAL_TICKET),
]


@pytest.mark.parametrize(
    ("name", "summary", "description", "how", "answer"), MATCHES, ids=[m[0] for m in MATCHES]
)
def test_it_finds_the_unlinked_approval_ticket(name, summary, description, how, answer) -> None:
    approval = approver_ticket(summary=summary, description=description)
    evaluation = run(
        onboarding(comments=(ask(30),), links=(cs_link(),)), approver_tickets=(approval,)
    )
    (unlinked,) = by_rule(evaluation, RULE_UNLINKED)
    assert unlinked.item == "SS-340"
    assert unlinked.episode == "SS-301"
    assert unlinked.realert is None
    assert unlinked.facts["matched_by"] == how
    assert unlinked.facts["onboarding_ticket"] == "SS-301"
    if answer is None:
        assert by_rule(evaluation, RULE_OVERDUE) and not by_rule(evaluation, RULE_RECEIVED)
    else:
        (received,) = by_rule(evaluation, RULE_RECEIVED)
        assert received.facts["answer_kind"] == answer
    assert not by_rule(evaluation, RULE_LINK) and not by_rule(evaluation, RULE_CLOSE)


LINKING = ActionsConfig(link_approval_tickets=True)


def test_it_never_links_or_closes_a_ticket_that_only_names_the_organization() -> None:
    billing = approver_ticket(
        summary="Sunrise Solar Co wants a new billing contact",
        description="Please update the billing contact to Pat.",
    )
    evaluation = run(onboarding(comments=(ask(30),)), approver_tickets=(billing,), actions=LINKING)
    assert sorted(f.rule for f in evaluation.findings) == sorted([RULE_OVERDUE, RULE_UNLINKED])
    (unlinked,) = by_rule(evaluation, RULE_UNLINKED)
    assert unlinked.facts["matched_by"] == "organization"
    assert unlinked.facts["possible_answer"] is False
    assert "SS-340" in unlinked.summary and "SS-301" in unlinked.summary
    assert "by hand" in unlinked.summary


def test_an_organization_match_with_an_approval_phrase_is_only_a_possible_answer() -> None:
    approval = approver_ticket(summary="Re: Sunrise Solar Co", description="Approved to go live.")
    evaluation = run(onboarding(comments=(ask(30),)), approver_tickets=(approval,), actions=LINKING)
    assert sorted(f.rule for f in evaluation.findings) == sorted([RULE_RECEIVED, RULE_UNLINKED])
    (received,) = by_rule(evaluation, RULE_RECEIVED)
    assert received.facts["answer_kind"] == ANSWER_POSSIBLE_APPROVAL_TICKET
    assert by_rule(evaluation, RULE_UNLINKED)[0].facts["possible_answer"] is True


def test_it_does_not_close_a_ticket_matched_by_organization_even_with_its_comment() -> None:
    marker = comment(1, f"x\n{approval_ticket_marker('SS-340', 'SS-301')}")
    approval = approver_ticket(links=(dup_link("SS-301", "outward"),), comments=(marker,))
    evaluation = run(onboarding(comments=(ask(30),)), approver_tickets=(approval,), actions=LINKING)
    assert [f.rule for f in evaluation.findings] == [RULE_RECEIVED]
    assert evaluation.findings[0].facts["answer_kind"] == ANSWER_LINKED_TICKET


NON_MATCHES = [
    ("created before the ask", approver_ticket(hours=40)),
    ("reported by someone else", approver_ticket(reporter=AGENT)),
    ("names another organization", approver_ticket(summary="Bright Path", description="")),
    ("a longer key", approver_ticket(summary="SS-3010", description="")),
    ("the key inside another project's key", approver_ticket(summary="XSS-301", description="")),
]


@pytest.mark.parametrize(("name", "approval"), NON_MATCHES, ids=[m[0] for m in NON_MATCHES])
def test_it_does_not_take_any_approver_ticket_for_an_approval(name, approval) -> None:
    evaluation = run(onboarding(comments=(ask(30),)), approver_tickets=(approval,))
    assert [f.rule for f in evaluation.findings] == [RULE_OVERDUE]


def test_it_refuses_to_guess_between_two_tickets_of_the_same_organization() -> None:
    first = onboarding("SS-301", (ask(30),))
    second = onboarding("SS-302", (ask(30),))
    evaluation = run(first, second, approver_tickets=(approver_ticket(),))
    assert [f.rule for f in evaluation.findings] == [RULE_OVERDUE, RULE_OVERDUE]
    (problem,) = evaluation.problems
    assert problem.where == "SS-340" and "SS-301, SS-302" in problem.message


def test_a_key_settles_which_ticket_of_a_shared_organization_was_approved() -> None:
    first = onboarding("SS-301", (ask(30),))
    second = onboarding("SS-302", (ask(30),))
    approval = approver_ticket(description="SS-302 is approved")
    evaluation = run(first, second, approver_tickets=(approval,))
    assert [(f.rule, f.item) for f in evaluation.findings] == [
        (RULE_OVERDUE, "SS-301"),
        (RULE_RECEIVED, "SS-302"),
        (RULE_UNLINKED, "SS-340"),
    ]
    assert evaluation.problems == []


def test_it_matches_after_the_first_ask_even_when_support_asked_again() -> None:
    # Support asked twice because nobody noticed the approval ticket in between.
    ticket = onboarding(comments=(ask(60), ask(10)))
    evaluation = run(ticket, approver_tickets=(approver_ticket(hours=30),))
    assert [f.rule for f in evaluation.findings] == [RULE_UNLINKED]


def test_it_plans_one_link_when_the_desk_opts_in_and_the_key_is_named() -> None:
    # The link is the first step of the job's chain (link, comment, close, notice): no alert
    # before it, and no separate close.
    evaluation = run(
        onboarding(comments=(ask(30),), labels=("sla-snooze",)),
        approver_tickets=(approver_ticket(description="SS-301: approved to go live."),),
        actions=LINKING,
    )
    assert sorted(f.rule for f in evaluation.findings) == sorted([RULE_RECEIVED, RULE_LINK])
    (link,) = by_rule(evaluation, RULE_LINK)
    assert link.item == "SS-340" and link.episode == "SS-301" and link.realert is None
    assert link.facts["onboarding_ticket"] == "SS-301"
    # The snooze label on the onboarding ticket reaches the approval ticket's finding.
    assert "sla-snooze" in link.facts["labels"]


def test_an_existing_link_in_either_direction_means_nothing_to_do() -> None:
    linking = ActionsConfig(link_approval_tickets=True)
    from_onboarding = onboarding(comments=(ask(30),), links=(dup_link("SS-340"),))
    from_approval = approver_ticket(links=(dup_link("SS-301", "outward"),))
    for ticket, approval in [
        (from_onboarding, approver_ticket()),
        (onboarding(comments=(ask(30),)), from_approval),
    ]:
        evaluation = run(ticket, approver_tickets=(approval,), actions=linking)
        assert [f.rule for f in evaluation.findings] == [RULE_RECEIVED]


def test_it_links_a_done_approval_ticket_too() -> None:
    evaluation = run(
        onboarding(comments=(ask(30),)),
        approver_tickets=(approver_ticket(description="SS-301 approved", done=True),),
        actions=LINKING,
    )
    assert sorted(f.rule for f in evaluation.findings) == sorted([RULE_LINK, RULE_RECEIVED])


# (done, the job's comment on the ticket) -> close finding expected
DONE_TICKETS = [
    ("open with its comment: the chain gave up before closing", False, True, True),
    ("closed with its comment", True, True, False),
    ("open, linked by a person", False, False, False),
    ("closed, linked by a person", True, False, False),
]


@pytest.mark.parametrize(
    ("name", "done", "marked", "expected"), DONE_TICKETS, ids=[t[0] for t in DONE_TICKETS]
)
def test_a_linked_ticket_carrying_its_comment_is_closed_and_never_moved_twice(
    name: str, done: bool, marked: bool, expected: bool
) -> None:
    comments = (comment(1, f"x\n{approval_ticket_marker('SS-340', 'SS-301')}"),) if marked else ()
    approval = approver_ticket(
        description="SS-301 approved",
        done=done,
        links=(dup_link("SS-301", "outward"),),
        comments=comments,
    )
    evaluation = run(onboarding(comments=(ask(30),)), approver_tickets=(approval,), actions=LINKING)
    closes = by_rule(evaluation, RULE_CLOSE)
    assert bool(closes) is expected
    if closes:
        (close,) = closes
        assert close.item == "SS-340"
        assert close.realert == timedelta(0)
        assert close.facts["onboarding_tickets"] == ["SS-301"]
    assert not by_rule(evaluation, RULE_LINK)


def test_it_never_closes_without_the_switch() -> None:
    marked = comment(1, f"x\n{approval_ticket_marker('SS-340', 'SS-301')}")
    approval = approver_ticket(
        description="SS-301 approved", links=(dup_link("SS-301", "outward"),), comments=(marked,)
    )
    evaluation = run(onboarding(comments=(ask(30),)), approver_tickets=(approval,))
    assert by_rule(evaluation, RULE_CLOSE) == []


# -- the approver's email on the onboarding subject -------------------------------------------

THREADED = dict(
    key="SS-340",
    summary="Re: EverBright Partner Onboarding - Sunrise Solar Co",
    description="Sunrise Solar Co is approved, push the products live.",
    reporter=DAVID,
)


def test_his_email_on_the_onboarding_subject_answers_instead_of_being_skipped() -> None:
    # The onboarding search returns his reply too (same subject); so does his own search.
    as_onboarding = onboarding(org=None, created_hours=2, **THREADED)  # type: ignore[arg-type]
    as_his = approver_ticket(
        "SS-340", summary=THREADED["summary"], description=THREADED["description"]
    )
    asked = onboarding("SS-301", (ask(30),), links=(cs_link(),))
    for his_tickets in [(as_his,), ()]:
        evaluation = run(asked, as_onboarding, approver_tickets=his_tickets, actions=LINKING)
        rules = sorted((f.rule, f.item) for f in evaluation.findings)
        assert (RULE_OVERDUE, "SS-301") not in rules
        assert (RULE_RECEIVED, "SS-301") in rules and (RULE_UNLINKED, "SS-340") in rules
        assert evaluation.examined == 1


def test_a_ticket_he_reported_that_carries_an_ask_is_still_an_onboarding_ticket() -> None:
    forwarded = onboarding("SS-301", (ask(30),), reporter=DAVID)
    assert [f.rule for f in run(forwarded).findings] == [RULE_OVERDUE]


def test_split_onboarding_sets_his_unasked_tickets_apart() -> None:
    asked = onboarding("SS-301", (ask(30),))
    his = onboarding("SS-340", reporter=DAVID)
    other = onboarding("SS-302", reporter=AGENT)
    assert split_onboarding([asked, his, other], APPROVER) == ([asked, other], [his])


def test_find_asks_orders_asks_oldest_first() -> None:
    ticket = onboarding(comments=(ask(5, cid="b"), ask(50, cid="a"), reply(4)))
    assert [c.id for c in find_asks(ticket, APPROVER)] == ["a", "b"]


# -- configuration ---------------------------------------------------------------------------


def test_the_config_defaults_are_the_sops() -> None:
    from jobs.scheduled.approval_reminder import ApprovalReminderConfig

    config = ApprovalReminderConfig()
    assert config.schedule == "0 * * * *"
    assert config.remind_after == Duration(wall=timedelta(hours=24))
    assert config.realert == Duration(wall=timedelta(hours=24))
    assert config.use_business_calendar is False
    assert config.jql is None
    assert config.approver_lookback == Duration(wall=timedelta(days=14))
    assert config.approval_ticket_done_status == "Closed"
    assert config.ask_phrases == list(DEFAULT_ASK_PHRASES)
    assert "approv" in config.ask_phrases and "push live" in config.ask_phrases


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("approver_lookback", "3bd", "use days"),
        ("approver_lookback", "0m", "use days"),
        ("mention_names", ["David", "  "], "must not be blank"),
        ("ask_phrases", [], "at least one phrase"),
        ("ask_phrases", ["approv", " "], "must not be blank"),
        ("remind_after", "24", "no unit"),
        ("remind_afterr", "24h", "Extra inputs"),
    ],
)
def test_the_config_refuses_values_that_cannot_work(key: str, value: object, message: str) -> None:
    from jobs.scheduled.approval_reminder import ApprovalReminderConfig
    from jobs.sections import SectionError

    with pytest.raises(SectionError, match=message):
        ApprovalReminderConfig.model_validate({key: value})


def test_an_unasked_ticket_of_the_same_organization_leaves_no_doubt() -> None:
    asked = onboarding("SS-301", (ask(30),))
    not_asked = onboarding("SS-302", ())
    evaluation = run(asked, not_asked, approver_tickets=(approver_ticket(),))
    assert [(f.rule, f.item) for f in evaluation.findings] == [
        (RULE_RECEIVED, "SS-301"),
        (RULE_UNLINKED, "SS-340"),
    ]
    assert evaluation.problems == []


@settings(max_examples=200, deadline=None)
@given(
    ask_age=st.integers(min_value=0, max_value=30 * 24 * 60),
    reply_age=st.integers(min_value=0, max_value=30 * 24 * 60),
)
def test_a_reply_after_the_ask_always_stops_the_reminder(ask_age: int, reply_age: int) -> None:
    asked = Comment("1", AGENT, ASK_TEXT, NOW - timedelta(minutes=ask_age), None, public=False)
    answered_at = NOW - timedelta(minutes=reply_age)
    replied = Comment("2", DAVID, "ok", answered_at, None, public=True)
    rules = {f.rule for f in run(onboarding(comments=(asked, replied))).findings}
    if reply_age < ask_age:
        assert RULE_OVERDUE not in rules
    else:
        assert (RULE_OVERDUE in rules) is (ask_age >= 24 * 60)


_WORDS = st.text(alphabet="aAbBkKsS ,.&-\u017f\u212a\u00e9", min_size=0, max_size=12)


@settings(max_examples=400, deadline=None)
@given(text=_WORDS, phrase=_WORDS, before=st.sampled_from(["", "x", " ", "Re: "]))
def test_an_organization_is_named_exactly_when_its_pattern_finds_it(
    text: str, phrase: str, before: str
) -> None:
    """The quick look for the name's words (ASCII texts) never decides otherwise than the
    name's pattern: letters that fold to ASCII ones (the long s, the Kelvin sign) included."""
    from jobs.rules.approval_reminder import _contains_words, _words_pattern

    written = before + text
    pattern = _words_pattern(phrase)
    assert _contains_words(written, phrase) is bool(pattern and pattern.search(written))
    # A name the text carries is found, written as it is or in capitals.
    if pattern is not None:
        assert _contains_words(f"{before} {phrase} onboarding", phrase)
        shouted = f"{before} {phrase.upper()} onboarding"
        assert _contains_words(shouted, phrase) is bool(pattern.search(shouted))
