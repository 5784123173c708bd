"""doc_test_followup (SOP 003 part 2): the follow-up timeline, and fulfilled tickets gone silent."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from jobs.durations import parse_duration
from jobs.model import Comment, IssueLink, StatusCategory, Ticket
from jobs.rules.desk import reference
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
from tests.unit.onboard_testing_tickets import (
    AGENT,
    CUSTOMER,
    DESK,
    FRIDAY,
    MONDAY,
    NINE_TO_FIVE,
    ROUND_THE_CLOCK,
    JsmPerson,
    comment,
    cs_ticket,
    link,
    ny,
    rules,
    ss_ticket,
)

FIRST_EMAIL_TEXT = "Good news: your document is ready to test on Onboard."
SECOND_EMAIL_TEXT = "Just checking in: your document is still waiting for your review on Onboard."
CONFIG = DocTestFollowupConfig(
    first_email_texts=["ready to test on Onboard"],
    second_email_texts=["is still waiting for your review on Onboard"],
)
RESET = OnboardResetReminderConfig()


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
