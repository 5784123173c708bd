"""Onboard testing (SOP 003 part 2): outstanding tasks, the follow-up timeline, the Monday reset."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from jobs.calendar import BusinessCalendar
from jobs.durations import parse_duration
from jobs.model import Comment, IssueLink, Person, StatusCategory, Ticket
from jobs.rules.desk import Desk, has_reference, reference
from jobs.rules.doc_test_followup import (
    RULE_CLOSE_FULFILLED,
    RULE_CUSTOMER_REPLIED,
    RULE_PUBLISH,
    RULE_SECOND_EMAIL,
    RULE_SILENT_FULFILLED,
    STEP_FIRST_EMAIL,
    STEP_PUBLISH,
    STEP_SECOND_EMAIL,
    DocTestFollowupConfig,
    evaluate_followup,
)
from jobs.rules.onboard_reset_reminder import (
    RULE_RESET,
    STEP_RESET,
    OnboardResetReminderConfig,
    evaluate_reset,
)
from jobs.rules.onboard_testing import customer_name, iso_week, outstanding_tasks

NEW_YORK = ZoneInfo("America/New_York")
ROUND_THE_CLOCK = BusinessCalendar.twenty_four_seven(NEW_YORK)
NINE_TO_FIVE = BusinessCalendar.business(NEW_YORK, {day: (time(9), time(17)) for day in range(5)})

AGENT = Person("acc-agent", "Maya Patel", "maya.patel@everbright-support.example")
CUSTOMER = Person("qm:dana", "Dana Whitfield", "dana@sunrise-solar.example")
FIRST_EMAIL_TEXT = "Good news: your document is ready to test on Onboard."
SECOND_EMAIL_TEXT = "Just checking in: your document is still waiting for your review on Onboard."
CONFIG = DocTestFollowupConfig(
    first_email_texts=["ready to test on Onboard"],
    second_email_texts=["is still waiting for your review on Onboard"],
)
RESET = OnboardResetReminderConfig()
DESK = Desk()


def ny(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NEW_YORK)  # type: ignore[arg-type,misc]


# 2026-11-16 is a Monday; Thanksgiving (26th) is well after every timeline below.
MONDAY = ny(2026, 11, 16, 10)
FRIDAY = ny(2026, 11, 20, 15)


@dataclass(frozen=True)
class JsmPerson(Person):
    """A person as an adapter that reads Jira's accountType would give it."""

    account_type: str | None = None


def comment(cid: str, author: Person, at: datetime, body: str, public: bool = True) -> Comment:
    return Comment(id=cid, author=author, body=body, created=at, public=public)


def ss_ticket(
    key: str = "SS-412",
    comments: tuple[Comment, ...] = (),
    status: str = "Waiting for customer",
    category: StatusCategory = StatusCategory.IN_PROGRESS,
    links: tuple[IssueLink, ...] = (),
    resolved: datetime | None = None,
    labels: tuple[str, ...] = (),
) -> Ticket:
    return Ticket(
        key=key,
        summary="Document Survey: Sunrise Solar Co",
        status=status,
        status_category=category,
        created=MONDAY - timedelta(days=10),
        project="SS",
        reporter=CUSTOMER,
        organizations=("Sunrise Solar Co",),
        comments=comments,
        comments_total=len(comments),
        links=links,
        resolved=resolved,
        labels=labels,
        url=f"https://desk.example/browse/{key}",
    )


def link(key: str, type_name: str = "Relates", done: bool = False) -> IssueLink:
    return IssueLink(
        type_name=type_name,
        direction="outward",
        relation="relates to",
        other_key=key,
        other_status_category=StatusCategory.DONE if done else StatusCategory.IN_PROGRESS,
    )


def cs_ticket(
    key: str = "CS-405",
    links: tuple[IssueLink, ...] | None = None,
    comments: tuple[Comment, ...] = (),
) -> Ticket:
    return Ticket(
        key=key,
        summary="Docs: Sunrise Solar Co",
        status="On Hold",
        status_category=StatusCategory.IN_PROGRESS,
        created=MONDAY - timedelta(days=9),
        project="CS",
        links=(link("SS-412"),) if links is None else links,
        comments=comments,
        comments_total=len(comments),
    )


def followup(
    ss: Ticket, now: datetime, *, cs: tuple[Ticket, ...] | None = None, config=CONFIG, cal=None
):
    return evaluate_followup(
        list(cs if cs is not None else (cs_ticket(),)),
        {ss.key: ss},
        now,
        config,
        DESK,
        cal or ROUND_THE_CLOCK,
    )


def rules(evaluation) -> list[str]:
    return [f.rule for f in evaluation.findings]


FIRST = comment("1001", AGENT, MONDAY, f"Hi Dana,\n\n{FIRST_EMAIL_TEXT}\n")
NUDGE_BY_JOB = comment(
    "1002",
    AGENT,
    MONDAY + timedelta(days=3),
    f"{SECOND_EMAIL_TEXT}\n\n{reference('SS-412', STEP_SECOND_EMAIL, '1001')}",
)


# -- the follow-up timeline ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "comments", "now", "expected"),
    [
        ("nothing is due before the first email", (), MONDAY + timedelta(days=9), []),
        ("silent 3 days less a second: wait", (FIRST,), MONDAY + timedelta(days=3, seconds=-1), []),
        ("silent exactly 3 days: nudge", (FIRST,), MONDAY + timedelta(days=3), [RULE_SECOND_EMAIL]),
        (
            "silent 3 days and a second: nudge",
            (FIRST,),
            MONDAY + timedelta(days=3, seconds=1),
            [RULE_SECOND_EMAIL],
        ),
        (
            "confirm on day 2: relay, no nudge",
            (FIRST, comment("1003", CUSTOMER, MONDAY + timedelta(days=2), "Looks good, go live")),
            MONDAY + timedelta(days=3),
            [RULE_CUSTOMER_REPLIED],
        ),
        (
            "nudged, 1 day less a second: wait",
            (FIRST, NUDGE_BY_JOB),
            MONDAY + timedelta(days=4, seconds=-1),
            [],
        ),
        (
            "nudged, silent 1 more day: publish on Engine",
            (FIRST, NUDGE_BY_JOB),
            MONDAY + timedelta(days=4),
            [RULE_PUBLISH],
        ),
        (
            "reply after the nudge: relay, no publish",
            (
                FIRST,
                NUDGE_BY_JOB,
                comment("1004", CUSTOMER, MONDAY + timedelta(days=3, hours=5), "Sorry, one typo"),
            ),
            MONDAY + timedelta(days=5),
            [RULE_CUSTOMER_REPLIED],
        ),
        (
            "a reply before the first email is not an answer to it",
            (comment("0999", CUSTOMER, MONDAY - timedelta(hours=1), "When is it ready?"), FIRST),
            MONDAY + timedelta(days=3),
            [RULE_SECOND_EMAIL],
        ),
        (
            "an internal note is not a reply",
            (FIRST, comment("1005", AGENT, MONDAY + timedelta(days=1), "called her", public=False)),
            MONDAY + timedelta(days=3),
            [RULE_SECOND_EMAIL],
        ),
        (
            "an agent's public comment is not the customer's reply",
            (
                FIRST,
                comment("1006", AGENT, MONDAY + timedelta(days=1), "Any questions, let us know"),
            ),
            MONDAY + timedelta(days=3),
            [RULE_SECOND_EMAIL],
        ),
        (
            "a nudge sent by hand from the canned response counts",
            (FIRST, comment("1007", AGENT, MONDAY + timedelta(days=3, hours=2), SECOND_EMAIL_TEXT)),
            MONDAY + timedelta(days=4, hours=2),
            [RULE_PUBLISH],
        ),
        (
            "a first email sent by this desk's template (marker) counts",
            (comment("1008", AGENT, MONDAY, f"Hi\n\n{reference('SS-412', STEP_FIRST_EMAIL)}"),),
            MONDAY + timedelta(days=3),
            [RULE_SECOND_EMAIL],
        ),
        (
            "a first email as an internal note was never sent to the customer",
            (comment("1009", AGENT, MONDAY, FIRST_EMAIL_TEXT, public=False),),
            MONDAY + timedelta(days=3),
            [],
        ),
    ],
)
@pytest.mark.parametrize("cal", [ROUND_THE_CLOCK, NINE_TO_FIVE], ids=["24x7", "business"])
def test_it_follows_the_sop_timeline(case, comments, now, expected, cal) -> None:
    # The SOP's days are calendar days on a business-hours desk too, not working hours.
    assert rules(followup(ss_ticket(comments=comments), now, cal=cal)) == expected, case


def test_it_counts_the_sops_days_in_real_time_on_a_business_hours_desk() -> None:
    ss = ss_ticket(comments=(FIRST,))
    [nudge] = followup(ss, MONDAY + timedelta(days=3), cal=NINE_TO_FIVE).findings
    assert nudge.facts["due_at"] == ny(2026, 11, 19, 10).isoformat()
    nudged = ss_ticket(comments=(FIRST, NUDGE_BY_JOB))
    [publish] = followup(nudged, MONDAY + timedelta(days=4), cal=NINE_TO_FIVE).findings
    assert publish.facts["due_at"] == ny(2026, 11, 20, 10).isoformat()


def test_it_nudges_on_monday_when_the_first_email_went_out_on_friday() -> None:
    ss = ss_ticket(comments=(comment("1001", AGENT, FRIDAY, FIRST_EMAIL_TEXT),))
    assert rules(followup(ss, ny(2026, 11, 23, 14, 59))) == []
    assert rules(followup(ss, ny(2026, 11, 23, 15))) == [RULE_SECOND_EMAIL]


def test_it_counts_business_days_over_the_weekend_when_configured_so() -> None:
    ss = ss_ticket(comments=(comment("1001", AGENT, FRIDAY, FIRST_EMAIL_TEXT),))
    config = CONFIG.model_copy(update={"nudge_after": parse_duration("3bd")})
    assert rules(followup(ss, ny(2026, 11, 25, 14, 59), config=config, cal=NINE_TO_FIVE)) == []
    assert rules(followup(ss, ny(2026, 11, 25, 15), config=config, cal=NINE_TO_FIVE)) == [
        RULE_SECOND_EMAIL
    ]


def test_it_keeps_the_nudge_due_when_the_monday_reset_went_out_meanwhile() -> None:
    first = comment("1001", AGENT, FRIDAY, FIRST_EMAIL_TEXT)
    reset = comment(
        "1010",
        AGENT,
        ny(2026, 11, 23, 9),
        "Onboard is reset tonight; your document is still on Onboard.\n\n"
        + reference("SS-412", STEP_RESET, "2026-W48"),
    )
    ss = ss_ticket(comments=(first, reset))
    monday_morning = ny(2026, 11, 23, 9, 30)
    monday_afternoon = ny(2026, 11, 23, 15)

    assert rules(followup(ss, monday_morning)) == []
    nudge = followup(ss, monday_afternoon).findings
    assert [f.rule for f in nudge] == [RULE_SECOND_EMAIL]
    assert nudge[0].facts["first_email_id"] == "1001"  # the reset did not start a new cycle
    reset_run = evaluate_reset(
        [cs_ticket()], {"SS-412": ss}, monday_morning, RESET, DESK, ROUND_THE_CLOCK
    )
    assert rules(reset_run) == [RULE_RESET]


def test_it_starts_a_new_sequence_when_support_sends_a_new_first_email() -> None:
    second_first = comment("2001", AGENT, MONDAY + timedelta(days=5), FIRST_EMAIL_TEXT)
    reply = comment("1003", CUSTOMER, MONDAY + timedelta(days=1), "Typo in section 2")
    ss = ss_ticket(comments=(FIRST, reply, second_first))

    assert rules(followup(ss, MONDAY + timedelta(days=7))) == []
    [nudge] = followup(ss, MONDAY + timedelta(days=8)).findings
    assert nudge.rule == RULE_SECOND_EMAIL
    assert nudge.episode == "2001"
    assert nudge.facts["marker"] == "Ref: SS-412 · doc-test-second-email · 2001"


def test_it_ignores_a_customer_reply_that_quotes_the_first_email() -> None:
    quoted = comment(
        "1003", CUSTOMER, MONDAY + timedelta(days=1), f"All good!\n\n> {FIRST_EMAIL_TEXT}"
    )
    [finding] = followup(ss_ticket(comments=(FIRST, quoted)), MONDAY + timedelta(days=3)).findings
    assert finding.rule == RULE_CUSTOMER_REPLIED
    assert finding.facts["first_email_id"] == "1001"


def test_it_counts_a_colleague_of_the_reporter_when_jira_says_they_are_a_customer() -> None:
    colleague = JsmPerson("qm:lee", "Lee Park", None, account_type="customer")
    app = JsmPerson("app:automation", "Automation for Jira", None, account_type="app")
    answered = ss_ticket(
        comments=(FIRST, comment("1003", colleague, MONDAY + timedelta(days=1), "ok"))
    )
    automated = ss_ticket(comments=(FIRST, comment("1003", app, MONDAY + timedelta(days=1), "ok")))
    assert rules(followup(answered, MONDAY + timedelta(days=3))) == [RULE_CUSTOMER_REPLIED]
    assert rules(followup(automated, MONDAY + timedelta(days=3))) == [RULE_SECOND_EMAIL]


def test_it_says_what_the_customer_replied_and_where_to_relay_it() -> None:
    reply = comment(
        "1003", CUSTOMER, MONDAY + timedelta(days=2), "Looks good,\n  go live " + "x" * 300
    )
    [finding] = followup(
        ss_ticket(comments=(FIRST, reply)), MONDAY + timedelta(days=2, hours=1)
    ).findings
    assert finding.episode == "1003"
    assert finding.facts["cs_keys"] == ["CS-405"]
    assert finding.facts["reply_excerpt"].startswith("Looks good, go live xxx")
    assert len(finding.facts["reply_excerpt"]) == 200
    assert "CS-405" in finding.summary


def test_it_asks_every_linked_cs_ticket_to_publish_unless_already_asked() -> None:
    asked = comment(
        "c1",
        AGENT,
        MONDAY + timedelta(days=4),
        reference("SS-412", STEP_PUBLISH, "1001"),
        public=False,
    )
    cs_done = cs_ticket("CS-405", comments=(asked,))
    cs_open = cs_ticket("CS-406")
    ss = ss_ticket(comments=(FIRST, NUDGE_BY_JOB))
    findings = followup(ss, MONDAY + timedelta(days=5), cs=(cs_done, cs_open)).findings
    assert [(f.rule, f.item) for f in findings] == [(RULE_PUBLISH, "CS-406")]
    assert findings[0].facts["marker"] == "Ref: SS-412 · doc-test-publish · 1001"
    assert findings[0].facts["ss_key"] == "SS-412"


def test_it_skips_a_ticket_whose_comments_were_not_all_read() -> None:
    ss = replace(ss_ticket(comments=(FIRST,)), comments_total=40)
    evaluation = followup(ss, MONDAY + timedelta(days=3))
    assert evaluation.findings == []
    assert [p.where for p in evaluation.problems] == ["SS-412"]


# -- outstanding Onboard tasks ---------------------------------------------------------------


def test_it_pairs_on_hold_cs_tickets_with_their_open_ss_tickets() -> None:
    ss = {"SS-412": ss_ticket("SS-412"), "SS-413": ss_ticket("SS-413")}
    cs = [
        cs_ticket("CS-405", links=(link("SS-412"),)),
        cs_ticket("CS-406", links=(link("SS-412", type_name="Cloners"), link("CS-1"))),
        cs_ticket("CS-407", links=(link("SS-413"),)),
    ]
    tasks, problems = outstanding_tasks(cs, ss, service_desk_project="SS")
    assert [(t.ss.key, t.cs_keys) for t in tasks] == [
        ("SS-412", ["CS-405", "CS-406"]),
        ("SS-413", ["CS-407"]),
    ]
    assert problems == []


def test_it_leaves_out_done_ss_tickets_and_reports_unlinked_or_missing_ones() -> None:
    done = ss_ticket("SS-414", status="Closed", category=StatusCategory.DONE)
    cs = [
        cs_ticket("CS-408", links=(link("SS-414"),)),
        cs_ticket("CS-409", links=(link("SS-415", done=True),)),
        cs_ticket("CS-410", links=()),
        cs_ticket("CS-411", links=(link("SS-416"),)),
    ]
    tasks, problems = outstanding_tasks(cs, {"SS-414": done}, service_desk_project="SS")
    assert tasks == []
    assert sorted(p.where for p in problems) == ["CS-409", "CS-410", "SS-416"]


def test_it_narrows_links_to_the_configured_types() -> None:
    cs = [cs_ticket(links=(link("SS-412", type_name="Blocks"),))]
    tasks, _ = outstanding_tasks(
        cs, {"SS-412": ss_ticket()}, service_desk_project="SS", link_types=("relates",)
    )
    assert tasks == []


def test_an_onboarding_waiting_for_approval_is_not_an_onboard_test() -> None:
    # SOP 001 also puts the config ticket On Hold (waiting for the approver); its SS ticket is
    # an EverBright onboarding with no customer copied: it must never get an Onboard email.
    onboarding = replace(ss_ticket("SS-310"), summary="EverBright Partner Onboarding")
    cs = [cs_ticket("CS-310", links=(link("SS-310"),)), cs_ticket("CS-405")]
    tasks, problems = outstanding_tasks(
        cs,
        {"SS-310": onboarding, "SS-412": ss_ticket()},
        service_desk_project="SS",
        document_subjects=("Document Survey",),
    )
    assert [t.ss.key for t in tasks] == ["SS-412"]
    assert problems == []
    evaluation = evaluate_reset(
        cs,
        {"SS-310": onboarding, "SS-412": ss_ticket()},
        ny(2026, 11, 23, 9),
        RESET,
        DESK,
        ROUND_THE_CLOCK,
    )
    assert [f.item for f in evaluation.findings] == ["SS-412"]


# -- the Monday reset ------------------------------------------------------------------------


def test_it_reminds_each_outstanding_task_once_per_iso_week() -> None:
    cs = [cs_ticket("CS-405"), cs_ticket("CS-406")]
    evaluation = evaluate_reset(
        cs, {"SS-412": ss_ticket()}, ny(2026, 11, 23, 9), RESET, DESK, ROUND_THE_CLOCK
    )
    [finding] = evaluation.findings
    assert (finding.rule, finding.item, finding.episode, finding.realert) == (
        RULE_RESET,
        "SS-412",
        "2026-W48",
        None,
    )
    assert finding.facts["marker"] == "Ref: SS-412 · onboard-reset · 2026-W48"
    assert finding.facts["cs_keys"] == ["CS-405", "CS-406"]
    assert finding.facts["customer"] == "Dana"


@pytest.mark.parametrize(
    ("now", "sent"),
    [
        (ny(2026, 11, 23, 0, 0), True),
        (ny(2026, 11, 23, 23, 59), True),
        (ny(2026, 11, 22, 23, 59), False),  # Sunday in New York, already Monday in UTC
        (ny(2026, 11, 24, 9), False),
    ],
)
def test_it_only_says_release_tonight_on_the_reset_day_at_the_desk(now, sent) -> None:
    evaluation = evaluate_reset(
        [cs_ticket()], {"SS-412": ss_ticket()}, now, RESET, DESK, ROUND_THE_CLOCK
    )
    assert bool(evaluation.findings) is sent
    assert bool(evaluation.problems) is not sent


def test_it_sends_on_any_day_when_the_reset_day_is_unset() -> None:
    evaluation = evaluate_reset(
        [cs_ticket()],
        {"SS-412": ss_ticket()},
        ny(2026, 11, 25, 9),
        OnboardResetReminderConfig(reset_weekday=None),
        DESK,
        ROUND_THE_CLOCK,
    )
    assert rules(evaluation) == [RULE_RESET]


@pytest.mark.parametrize(
    ("now", "week"),
    [
        (ny(2026, 11, 23, 0, 30), "2026-W48"),
        (ny(2026, 11, 22, 23, 30), "2026-W47"),
        (ny(2026, 12, 28, 9), "2026-W53"),
        (ny(2027, 1, 4, 9), "2027-W01"),
    ],
)
def test_it_names_the_iso_week_in_the_desk_timezone(now, week) -> None:
    assert iso_week(now, ROUND_THE_CLOCK) == week


# -- fulfilled and silent --------------------------------------------------------------------

RESOLVED_AT = MONDAY
NOTICE = comment("3001", AGENT, RESOLVED_AT, "Your request has been fulfilled.")


CS_LINK = (link("CS-405"),)


def fulfilled(*comments: Comment, links: tuple[IssueLink, ...] = CS_LINK) -> Ticket:
    return ss_ticket(
        "SS-420",
        comments=comments,
        status="Resolved",
        category=StatusCategory.DONE,
        links=links,
        resolved=RESOLVED_AT,
        labels=("EB",),
    )


@pytest.mark.parametrize(
    ("case", "ticket", "now", "expected"),
    [
        (
            "silent 24 h less a second",
            fulfilled(NOTICE),
            RESOLVED_AT + timedelta(hours=24, seconds=-1),
            [],
        ),
        (
            "silent exactly 24 h",
            fulfilled(NOTICE),
            RESOLVED_AT + timedelta(hours=24),
            [RULE_SILENT_FULFILLED],
        ),
        (
            "the customer spoke last",
            fulfilled(
                NOTICE,
                comment("3002", CUSTOMER, RESOLVED_AT + timedelta(hours=1), "Thanks, one more"),
            ),
            RESOLVED_AT + timedelta(days=3),
            [],
        ),
        (
            "the customer said thanks, then we answered",
            fulfilled(
                NOTICE,
                comment("3002", CUSTOMER, RESOLVED_AT + timedelta(hours=1), "Thanks"),
                comment("3003", AGENT, RESOLVED_AT + timedelta(hours=2), "You're welcome"),
            ),
            RESOLVED_AT + timedelta(hours=25),
            [],
        ),
        (
            "not a document request (no CS link)",
            fulfilled(NOTICE, links=()),
            RESOLVED_AT + timedelta(days=3),
            [],
        ),
        (
            "no comment at all: from the resolution",
            fulfilled(),
            RESOLVED_AT + timedelta(hours=24),
            [RULE_SILENT_FULFILLED],
        ),
    ],
)
@pytest.mark.parametrize("cal", [ROUND_THE_CLOCK, NINE_TO_FIVE], ids=["24x7", "business"])
def test_it_finds_fulfilled_tickets_where_the_customer_stayed_silent(
    case, ticket, now, expected, cal
) -> None:
    evaluation = evaluate_followup([], {ticket.key: ticket}, now, CONFIG, DESK, cal)
    assert rules(evaluation) == expected, case


@pytest.mark.parametrize("closing", [False, True], ids=["listing", "closing"])
def test_it_leaves_fulfilled_requests_other_than_documents_to_their_own_sops(closing) -> None:
    ticket = replace(fulfilled(NOTICE), summary="A New Channel Partner Request for Acme Solar")
    evaluation = evaluate_followup(
        [],
        {ticket.key: ticket},
        RESOLVED_AT + timedelta(days=3),
        CONFIG,
        DESK,
        ROUND_THE_CLOCK,
        close_silent_fulfilled=closing,
    )
    assert evaluation.findings == []


def test_it_lists_silent_fulfilled_tickets_daily_or_closes_them_once() -> None:
    ticket = fulfilled(NOTICE)
    now = RESOLVED_AT + timedelta(days=2)
    [listed] = evaluate_followup(
        [], {ticket.key: ticket}, now, CONFIG, DESK, ROUND_THE_CLOCK
    ).findings
    [closed] = evaluate_followup(
        [], {ticket.key: ticket}, now, CONFIG, DESK, ROUND_THE_CLOCK, close_silent_fulfilled=True
    ).findings
    assert (listed.rule, listed.realert) == (RULE_SILENT_FULFILLED, timedelta(hours=24))
    assert (closed.rule, closed.realert) == (RULE_CLOSE_FULFILLED, None)
    assert listed.facts["labels"] == ["EB"]
    assert listed.episode == RESOLVED_AT.isoformat()


def test_it_ignores_tickets_in_other_statuses_when_looking_for_fulfilled_ones() -> None:
    ticket = replace(fulfilled(NOTICE), status="Closed")
    evaluation = evaluate_followup(
        [], {ticket.key: ticket}, MONDAY + timedelta(days=3), CONFIG, DESK, ROUND_THE_CLOCK
    )
    assert evaluation.findings == []


# -- markers and names -----------------------------------------------------------------------


def test_it_finds_a_marker_that_an_editor_reflowed() -> None:
    mark = reference("SS-412", STEP_RESET, "2026-W48")
    assert has_reference("Thanks\n\nref:  SS-412 ·\nonboard-reset · 2026-W48", mark)
    assert not has_reference(reference("SS-412", STEP_RESET, "2026-W47"), mark)
    assert not has_reference(reference("SS-4120", STEP_RESET, "2026-W48"), mark)


@pytest.mark.parametrize(
    ("display_name", "expected"),
    [("Dana Whitfield", "Dana"), ("dana@sunrise.example", ""), (None, ""), ("  ", "")],
)
def test_it_greets_the_customer_by_first_name_when_known(display_name, expected) -> None:
    ticket = replace(ss_ticket(), reporter=Person("x", display_name))
    assert customer_name(ticket) == expected


# -- the desk's default templates ------------------------------------------------------------


def _render_defaults() -> dict[str, str]:
    from jobs.render.templates import Templates
    from jobs.scheduled.doc_test_followup import (
        FIRST_EMAIL_TEMPLATE,
        PUBLISH_TEMPLATE,
        SECOND_EMAIL_TEMPLATE,
    )
    from jobs.scheduled.onboard_reset_reminder import RESET_TEMPLATE
    from tests.conftest import TEMPLATES

    templates = Templates(TEMPLATES)
    common = {
        "customer_name": "Dana",
        "organization": "Sunrise Solar Co",
        "ticket_key": "SS-412",
        "request_summary": "Document Survey: Sunrise Solar Co",
    }
    return {
        STEP_FIRST_EMAIL: templates.render(
            FIRST_EMAIL_TEMPLATE, common | {"marker": reference("SS-412", STEP_FIRST_EMAIL)}
        ),
        STEP_SECOND_EMAIL: templates.render(
            SECOND_EMAIL_TEMPLATE,
            common
            | {
                "first_email_date": "Monday, November 16",
                "marker": reference("SS-412", STEP_SECOND_EMAIL, "1001"),
            },
        ),
        STEP_RESET: templates.render(
            RESET_TEMPLATE, common | {"marker": reference("SS-412", STEP_RESET, "2026-W48")}
        ),
        STEP_PUBLISH: templates.render(
            PUBLISH_TEMPLATE,
            {
                "cs_key": "CS-405",
                "ss_key": "SS-412",
                "ss_url": "https://desk.example/browse/SS-412",
                "customer_name": "Dana",
                "organization": "Sunrise Solar Co",
                "first_email_date": "Monday, November 16",
                "second_email_date": "Thursday, November 19",
                "marker": reference("SS-412", STEP_PUBLISH, "1001"),
            },
        ),
    }


def test_it_ends_every_default_template_with_its_reference_line() -> None:
    for step, text in _render_defaults().items():
        assert text.rstrip().splitlines()[-1].startswith("Ref: SS-412 · " + step), step
        assert "{" not in text, step


def test_it_greets_by_name_and_names_the_organization_in_customer_replies() -> None:
    for step, text in _render_defaults().items():
        if step != STEP_PUBLISH:
            assert text.startswith("Hi Dana,"), step
            assert "Sunrise Solar Co" in text, step


def test_it_recognises_each_default_reply_as_its_own_step_only() -> None:
    from jobs.rules.doc_test_followup import mentions_any

    config = DocTestFollowupConfig()
    texts = _render_defaults()
    first_matches = {s for s, t in texts.items() if mentions_any(t, config.first_email_texts)}
    second_matches = {s for s, t in texts.items() if mentions_any(t, config.second_email_texts)}
    assert first_matches == {STEP_FIRST_EMAIL}
    assert second_matches == {STEP_SECOND_EMAIL}


def test_it_defaults_to_the_sop_timings() -> None:
    followup_config = DocTestFollowupConfig()
    reset_config = OnboardResetReminderConfig()
    assert (reset_config.schedule, reset_config.on_hold_status) == ("0 9 * * 1", "On Hold")
    assert str(followup_config.nudge_after) == "3d"
    assert str(followup_config.publish_after) == "1d"
    assert str(followup_config.silent_close_after) == "1d"
    assert followup_config.schedule == "0 * * * *"
