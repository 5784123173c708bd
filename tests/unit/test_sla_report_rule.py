"""Weekly SLA report rule: weeks, first responses, percentiles, breakdowns; injected now."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from jobs.calendar import BusinessCalendar
from jobs.model import Comment, Person, Severity, SlaCycle, SlaField, StatusCategory, Ticket
from jobs.rules.sla_report import (
    IsoWeek,
    SlaReportPolicy,
    build_report,
    evaluate_report,
    first_agent_reply,
    percentile,
)

NY = ZoneInfo("America/New_York")
CAL = BusinessCalendar.twenty_four_seven(NY)
WEEK = IsoWeek(2026, 47)  # Mon 2026-11-16 .. Sun 2026-11-22, New York
START = datetime(2026, 11, 16, 0, 0, tzinfo=NY)
END = datetime(2026, 11, 23, 0, 0, tzinfo=NY)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=NY)
POLICY = SlaReportPolicy(automation_accounts=("automation@everbright-support.example",))

CUSTOMER = Person("qm:pat", "Pat Customer", "pat@sunrise.example")
AGENT = Person("acc-maya", "Maya Patel", "maya.patel@everbright-support.example")
BOT = Person("acc-bot", "Desk Automation", "automation@everbright-support.example")
H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)


def comment(
    at: datetime, author: Person | None = AGENT, public: bool = True, n: int = 1
) -> Comment:
    return Comment(id=str(n), author=author, body="Hello", created=at, public=public)


def ticket(key: str, created: datetime, *comments: Comment, **overrides) -> Ticket:
    base = Ticket(
        key=key,
        summary=f"Request {key}",
        status="Waiting for customer",
        status_category=StatusCategory.IN_PROGRESS,
        created=created,
        project="SS",
        reporter=CUSTOMER,
        assignee=AGENT,
        organizations=("Sunrise Solar Co",),
        request_type="Technical support",
        comments=tuple(comments),
        comments_total=len(comments),
    )
    return replace(base, **overrides)


def report(tickets, unassigned=(), policy=POLICY, calendar=CAL, now=NOW, week=WEEK):
    return build_report(tickets, unassigned, week, now, policy, calendar)


def outcome_of(t: Ticket, **kw) -> tuple[str, timedelta | None]:
    built, _ = report([t], **kw)
    (row,) = built.rows
    return row.outcome, row.response_time


# -- weeks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-W47", IsoWeek(2026, 47)),
        ("2026W47", IsoWeek(2026, 47)),
        ("2026-w05", IsoWeek(2026, 5)),
        ("2026-W53", IsoWeek(2026, 53)),
    ],
)
def test_it_parses_iso_weeks(text, expected):
    assert IsoWeek.parse(text) == expected


@pytest.mark.parametrize(
    "text", ["2026-47", "W47", "2026-W", "", "2026-W47x", "2027-W53", "2026-W00"]
)
def test_it_refuses_what_is_not_an_iso_week_with_a_hint(text):
    with pytest.raises(ValueError, match="2026-W47"):
        IsoWeek.parse(text)


def test_it_finds_the_previous_week_across_a_year_end():
    assert IsoWeek.containing(date(2027, 1, 4)) == IsoWeek(2027, 1)
    assert IsoWeek(2027, 1).previous() == IsoWeek(2026, 53)
    assert str(IsoWeek(2026, 5)) == "2026-W05"


def test_it_bounds_a_week_by_local_midnights_across_a_dst_change():
    start, end = IsoWeek(2026, 44).bounds(NY)  # DST ends Sunday 2026-11-01
    assert start == datetime(2026, 10, 26, 4, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 2, 5, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=169)


# -- percentiles ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], 50, None),
        ([5], 50, 5),
        ([5], 90, 5),
        ([1, 2], 50, 1),
        ([1, 2, 3, 4], 50, 2),
        ([4, 3, 2, 1], 90, 4),
        (list(range(1, 11)), 50, 5),
        (list(range(1, 11)), 90, 9),
        (list(range(1, 12)), 90, 10),
        (list(range(1, 21)), 90, 18),
    ],
)
def test_it_takes_nearest_rank_percentiles(values, p, expected):
    result = percentile([v * M for v in values], p)
    assert result == (None if expected is None else expected * M)


# -- first response ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply_after", "expected"),
    [(2 * H - S, "met"), (2 * H, "met"), (2 * H + S, "breached")],
)
def test_it_counts_a_reply_within_two_hours_as_met(reply_after, expected):
    created = START + 10 * H
    assert outcome_of(ticket("SS-1", created, comment(created + reply_after))) == (
        expected,
        reply_after,
    )


def test_it_ignores_internal_notes_the_reporter_and_automation():
    created = START + 10 * H
    t = ticket(
        "SS-1",
        created,
        comment(created + 1 * M, BOT, n=1),
        comment(created + 2 * M, AGENT, public=False, n=2),
        comment(created + 3 * M, CUSTOMER, n=3),
        comment(created + 4 * M, None, n=4),
        comment(created + 3 * H, AGENT, n=5),
    )
    assert first_agent_reply(t, POLICY.automation_accounts).id == "5"
    assert outcome_of(t) == ("breached", 3 * H)


def test_it_matches_automation_accounts_by_account_id_or_name_too():
    created = START + 10 * H
    t = ticket("SS-1", created, comment(created + M, Person("acc-bot", "Desk Automation")))
    assert first_agent_reply(t, ("ACC-BOT",)) is None
    assert first_agent_reply(t, ("desk automation",)) is None
    assert first_agent_reply(t, ()) is not None


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        (END - 2 * H - S, "breached"),
        (END - 2 * H, "pending"),
        (END - M, "pending"),
        (START, "breached"),
    ],
)
def test_it_decides_unanswered_tickets_at_the_end_of_the_week(created, expected):
    assert outcome_of(ticket("SS-1", created)) == (expected, None)


def test_it_measures_on_a_business_hours_calendar_when_configured():
    business = BusinessCalendar.business(NY, {d: (time(9), time(17)) for d in range(5)})
    friday = datetime(2026, 11, 20, 16, 30, tzinfo=NY)
    monday = datetime(2026, 11, 23, 9, 45, tzinfo=NY)
    assert outcome_of(ticket("SS-1", friday, comment(monday)), calendar=business) == (
        "met",
        75 * M,
    )


# -- the Jira SLA source -------------------------------------------------------------------------


def _sla(completed=(), ongoing=None) -> SlaField:
    return SlaField("Time to first response", ongoing=ongoing, completed=tuple(completed))


def test_it_takes_jiras_completed_cycle_when_the_source_is_jira():
    policy = replace(POLICY, sla_source="jira")
    created = START + 10 * H
    cycle = SlaCycle(
        start=created, breached=True, elapsed=2 * H + 5 * M, stop=created + 2 * H + 5 * M
    )
    t = ticket("SS-1", created, comment(created + 5 * M), first_response_sla=_sla([cycle]))
    built, problems = report([t], policy=policy)
    (row,) = built.rows
    assert (row.outcome, row.response_time, row.source) == ("breached", 2 * H + 5 * M, "jira")
    assert problems == []


@pytest.mark.parametrize(("breached", "expected"), [(True, "breached"), (False, "pending")])
def test_it_reads_an_ongoing_jira_cycle_as_breached_or_pending(breached, expected):
    policy = replace(POLICY, sla_source="jira")
    created = START + 10 * H
    ongoing = SlaCycle(start=created, breached=breached)
    t = ticket("SS-1", created, first_response_sla=_sla(ongoing=ongoing))
    assert outcome_of(t, policy=policy) == (expected, None)


def test_it_falls_back_to_comments_without_a_jira_sla_and_says_so():
    policy = replace(POLICY, sla_source="jira")
    created = START + 10 * H
    built, problems = report([ticket("SS-1", created, comment(created + H))], policy=policy)
    assert (built.rows[0].source, built.rows[0].outcome) == ("computed", "met")
    assert "SS-1" in problems[0].message


# -- the report ----------------------------------------------------------------------------------


def test_it_keeps_only_tickets_created_in_the_week():
    tickets = [
        ticket("SS-0", START - S),
        ticket("SS-1", START),
        ticket("SS-2", END - 3 * H),
        ticket("SS-3", END),
        ticket("SS-1", START),  # the search may return a ticket twice across pages
    ]
    built, _ = report(tickets)
    assert [r.key for r in built.rows] == ["SS-1", "SS-2"]


def test_it_summarizes_a_small_week():
    # SS-1 Mon 09:00, answered 30 m       -> met, 30 m
    # SS-2 Mon 10:00, answered 3 h        -> breached, 180 m (Sunrise Solar Co, Technical support)
    # SS-3 Wed 12:00, answered 1 h        -> met, 60 m
    # SS-4 Fri 12:00, never answered      -> breached (Acme, no request type)
    # SS-5 Sun 23:00, never answered      -> pending (1 h before the week ended)
    # compliance = met 2 / (2 + 2) = 50 %; answered times [30, 60, 180]:
    # p50 rank ceil(1.5)=2 -> 60 m, p90 rank ceil(2.7)=3 -> 180 m
    mon = START
    tickets = [
        ticket("SS-1", mon + 9 * H, comment(mon + 9 * H + 30 * M)),
        ticket("SS-2", mon + 10 * H, comment(mon + 13 * H)),
        ticket("SS-3", mon + 2 * 24 * H + 12 * H, comment(mon + 2 * 24 * H + 13 * H)),
        ticket(
            "SS-4", mon + 4 * 24 * H + 12 * H, organizations=("Acme Roofing",), request_type=None
        ),
        ticket("SS-5", END - H),
    ]
    evaluation, built = evaluate_report(tickets, [], WEEK, NOW, POLICY, CAL)
    assert (built.created, built.met, built.breached, built.pending) == (5, 2, 2, 1)
    assert built.compliance == 50.0
    assert (built.p50, built.p90) == (60 * M, 180 * M)
    assert built.breaches_by_organization == (("Acme Roofing", 1), ("Sunrise Solar Co", 1))
    assert built.breaches_by_request_type == (("(none)", 1), ("Technical support", 1))
    days = {d.day.isoformat(): (d.created, d.p90, d.breaches) for d in built.days}
    assert days["2026-11-16"] == (2, 180 * M, 1)
    assert days["2026-11-18"] == (1, 60 * M, 0)
    assert days["2026-11-20"] == (1, None, 1)
    assert days["2026-11-22"] == (1, None, 0)
    assert days["2026-11-17"] == (0, None, 0)

    (finding,) = evaluation.findings
    assert (finding.item, finding.episode, finding.realert) == ("2026-W47", "2026-W47", None)
    assert finding.severity is Severity.INFO
    assert finding.facts["compliance_percent"] == 50.0
    assert finding.facts["p90_seconds"] == 180 * 60
    assert finding.facts["breached_tickets"] == ["SS-2", "SS-4"]
    assert evaluation.examined == 5


def test_it_has_no_compliance_for_a_week_without_decided_tickets():
    built, _ = report([ticket("SS-5", END - H)])
    assert built.compliance is None
    assert (built.p50, built.p90) == (None, None)
    evaluation, _ = evaluate_report([], [], WEEK, NOW, POLICY, CAL)
    assert "n/a" in evaluation.findings[0].summary


def test_it_lists_the_oldest_open_unassigned_tickets_first():
    waiting = [
        ticket("SS-20", NOW - 2 * H, assignee=None),
        ticket("SS-21", NOW - 30 * H, assignee=None),
        ticket("SS-22", NOW - 50 * H),  # assigned
        ticket("SS-23", NOW - 60 * H, assignee=None, status_category=StatusCategory.DONE),
        ticket("SS-24", NOW - 10 * H, assignee=None),
    ]
    built, _ = report([], waiting, policy=replace(POLICY, oldest_unassigned=2))
    assert [(t.key, t.age) for t in built.oldest_unassigned] == [
        ("SS-21", 30 * H),
        ("SS-24", 10 * H),
    ]


def test_it_warns_when_comments_were_truncated():
    created = START + H
    t = replace(ticket("SS-1", created, comment(created + 3 * H)), comments_total=30)
    _, problems = report([t])
    assert [p.where for p in problems] == ["SS-1"]


def test_it_refuses_a_policy_without_a_goal():
    with pytest.raises(ValueError):
        SlaReportPolicy(first_response=timedelta(0))
