"""Weekly SLA report rule: weeks, first responses, figures frozen at the week's end, breakdowns.

Every expected number is computed by hand in the test's comment. Nothing here reads a clock:
the report takes no ``now`` at all, only the week.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest

from jobs.calendar import BusinessCalendar
from jobs.model import (
    Comment,
    FieldChange,
    Person,
    Severity,
    SlaCycle,
    SlaField,
    StatusCategory,
    Ticket,
)
from jobs.rules.desk import Desk, PriorityInstallers, first_response
from jobs.rules.sla_report import (
    MAX_JQL_KEYS,
    IsoWeek,
    SlaReportConfig,
    build_report,
    evaluate_report,
    percentile_text,
)
from jobs.rules.sla_report_figures import Percentile

NY = ZoneInfo("America/New_York")
CAL = BusinessCalendar.twenty_four_seven(NY)
WEEK = IsoWeek(2026, 47)  # Mon 2026-11-16 .. Sun 2026-11-22, New York
START = datetime(2026, 11, 16, 0, 0, tzinfo=NY)
END = datetime(2026, 11, 23, 0, 0, tzinfo=NY)


def configured(**changes: object) -> SlaReportConfig:
    return SlaReportConfig.model_validate(
        {"automation_accounts": ["automation@everbright-support.example"], **changes}
    )


CONFIG = configured()
BROWSE = "https://everbright.atlassian.net"
UNLINKED = Desk(
    priority_installers=PriorityInstallers(("Sunrise Solar Co", "Bright Path Energy LLC"))
)
DESK = replace(UNLINKED, browse_url=BROWSE)

CUSTOMER = Person("qm:pat", "Pat Customer", "pat@sunrise.example")
AGENT = Person("acc-maya", "Maya Patel", "maya.patel@everbright-support.example")
OTHER = Person("acc-jordan", "Jordan Reyes", "jordan.reyes@everbright-support.example")
BOT = Person("acc-bot", "Desk Automation", "automation@everbright-support.example")
H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
D = timedelta(days=1)


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


def report(tickets, config=CONFIG, calendar=CAL, week=WEEK):
    return build_report(tickets, week, config, DESK, calendar)


def outcome_of(t: Ticket, **kw) -> tuple[str, timedelta | None]:
    built, _ = report([t], **kw)
    (row,) = built.rows
    return row.outcome, row.response_time


def assigned(at: datetime, to: Person | None, before: Person | None = None) -> FieldChange:
    return FieldChange(
        at=at,
        field="assignee",
        from_value=before.display_name if before else None,
        to_value=to.display_name if to else None,
        from_id=before.account_id if before else None,
        to_id=to.account_id if to else None,
    )


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


def test_it_finds_the_previous_weeks_across_a_year_end():
    assert IsoWeek.containing(date(2027, 1, 4)) == IsoWeek(2027, 1)
    assert IsoWeek(2027, 1).previous() == IsoWeek(2026, 53)
    assert IsoWeek(2027, 2).weeks_before(7) == IsoWeek(2026, 48)
    assert str(IsoWeek(2026, 5)) == "2026-W05"


def test_it_bounds_a_week_by_local_midnights_across_a_dst_change():
    start, end = IsoWeek(2026, 44).bounds(NY)  # DST ends Sunday 2026-11-01
    assert start == datetime(2026, 10, 26, 4, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 2, 5, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=169)


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


def test_it_uses_the_desks_one_first_response_definition():
    # Not the automation account, an internal note, the customer or an anonymous comment.
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
    assert first_response(t, CONFIG.automation_accounts).id == "5"
    built, _ = report([t])
    assert (built.rows[0].outcome, built.rows[0].response_time) == ("breached", 3 * H)
    assert built.rows[0].responder == "Maya Patel"


@pytest.mark.parametrize(
    ("created", "expected", "waited"),
    [
        (END - 2 * H - S, "breached", 2 * H + S),
        (END - 2 * H, "open", 2 * H),
        (END - M, "open", M),
        (START, "breached", 7 * D),
    ],
)
def test_it_decides_unanswered_tickets_at_the_end_of_the_week(created, expected, waited):
    built, _ = report([ticket("SS-1", created)])
    (row,) = built.rows
    assert (row.outcome, row.response_time, row.waited) == (expected, None, waited)


def test_a_reply_after_the_week_ended_is_not_a_response_within_it():
    # Created Sun 23:00, answered Mon 00:30 (90 m, within the goal): open at the week's end.
    # Created Fri 12:00, answered the next Tuesday: breached, with no answer, at the week's end.
    late_sunday = ticket("SS-1", END - H, comment(END + 30 * M))
    friday = ticket("SS-2", END - 2 * D - 12 * H, comment(END + D + 9 * H))
    built, _ = report([late_sunday, friday])
    rows = {r.key: r for r in built.rows}
    assert (rows["SS-1"].outcome, rows["SS-1"].response_time, rows["SS-1"].waited) == (
        "open",
        None,
        H,
    )
    assert (rows["SS-2"].outcome, rows["SS-2"].responded_at) == ("breached", None)
    assert built.figures.breached_unanswered == 1


def test_it_measures_on_a_business_hours_calendar_when_configured():
    business = BusinessCalendar.business(NY, {d: (time(9), time(17)) for d in range(5)})
    friday = datetime(2026, 11, 20, 16, 30, tzinfo=NY)
    monday = datetime(2026, 11, 23, 9, 45, tzinfo=NY)
    # Answered on Monday: after the week's end, so unanswered then; 30 working minutes had
    # passed by Friday's close, so it is open (within the goal), not breached.
    built, _ = report([ticket("SS-1", friday, comment(monday))], calendar=business)
    (row,) = built.rows
    assert (row.outcome, row.waited) == ("open", 30 * M)
    assert built.calendar == "business hours"


# -- the Jira SLA source -------------------------------------------------------------------------


def _sla(completed=(), ongoing=None) -> SlaField:
    return SlaField("Time to first response", ongoing=ongoing, completed=tuple(completed))


JIRA = configured(sla_source="jira")


def test_it_takes_jiras_completed_cycle_when_the_source_is_jira():
    created = START + 10 * H
    cycle = SlaCycle(
        start=created, breached=True, elapsed=2 * H + 5 * M, stop=created + 2 * H + 5 * M
    )
    t = ticket("SS-1", created, comment(created + 5 * M), first_response_sla=_sla([cycle]))
    built, problems = report([t], config=JIRA)
    (row,) = built.rows
    assert (row.outcome, row.response_time, row.source) == ("breached", 2 * H + 5 * M, "jira")
    assert problems == []


@pytest.mark.parametrize(
    ("breach_at", "expected"),
    [(END - S, "breached"), (END, "open"), (END + H, "open")],
)
def test_it_reads_an_ongoing_jira_cycle_at_the_weeks_end(breach_at, expected):
    # Jira says "breached" now for all three; what counts is whether it had breached by the end.
    created = END - 3 * H
    ongoing = SlaCycle(start=created, breached=True, breach_time=breach_at)
    t = ticket("SS-1", created, first_response_sla=_sla(ongoing=ongoing))
    assert outcome_of(t, config=JIRA) == (expected, None)


def test_a_jira_cycle_completed_after_the_week_ended_was_unanswered_then():
    created = END - 5 * H
    cycle = SlaCycle(
        start=created, breached=True, elapsed=8 * H, stop=END + 3 * H, breach_time=created + 2 * H
    )
    built, _ = report([ticket("SS-1", created, first_response_sla=_sla([cycle]))], config=JIRA)
    (row,) = built.rows
    assert (row.outcome, row.response_time, row.waited) == ("breached", None, 5 * H)


def test_a_paused_jira_cycle_without_a_breach_time_is_decided_on_the_desk_calendar():
    created = END - 3 * H
    paused = SlaCycle(start=created, breached=False, paused=True)
    t = ticket("SS-1", created, first_response_sla=_sla(ongoing=paused))
    assert outcome_of(t, config=JIRA) == ("breached", None)


def test_it_falls_back_to_comments_without_a_jira_sla_and_says_so():
    created = START + 10 * H
    built, problems = report([ticket("SS-1", created, comment(created + H))], config=JIRA)
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
    # SS-1 Mon 09:00, answered 30 m        -> met, 30 m
    # SS-2 Mon 10:00, answered 3 h         -> breached (late), 180 m
    # SS-3 Wed 12:00, answered 1 h         -> met, 60 m            (Acme Roofing)
    # SS-4 Fri 12:00, never answered       -> breached, no answer; waited 60 h by the end
    # SS-5 Sun 23:00, never answered       -> open; waited 1 h by the end
    # compliance = met 2 / created 5 = 40 %
    # answered [30, 60, 180] m, then unanswered by wait [60 m, 60 h]; n = 5:
    #   p50 rank ceil(2.5) = 3 -> 180 m;  p90 rank ceil(4.5) = 5 -> SS-4: "> 60 h" (2 d 12 h)
    mon = START
    tickets = [
        ticket("SS-1", mon + 9 * H, comment(mon + 9 * H + 30 * M)),
        ticket("SS-2", mon + 10 * H, comment(mon + 13 * H)),
        ticket(
            "SS-3",
            mon + 2 * D + 12 * H,
            comment(mon + 2 * D + 13 * H),
            organizations=("Acme Roofing",),
        ),
        ticket("SS-4", mon + 4 * D + 12 * H, organizations=(), request_type=None, assignee=None),
        ticket("SS-5", END - H, assignee=None),
    ]
    evaluation, built = evaluate_report(tickets, WEEK, CONFIG, DESK, CAL)
    f = built.figures
    assert (f.created, f.met, f.breached, f.breached_unanswered, f.open) == (5, 2, 2, 1, 1)
    assert (f.answered, f.unanswered, f.answered_late) == (3, 2, 1)
    assert f.compliance == 40.0
    assert f.p50 == Percentile(180 * M)
    assert f.p90 == Percentile(60 * H, lower_bound=True)
    assert (percentile_text(f.p50), percentile_text(f.p90)) == ("3 h", "> 2 d 12 h")

    days = {d.day.isoformat(): d.figures for d in built.days}
    assert (days["2026-11-16"].created, days["2026-11-16"].met, days["2026-11-16"].breached) == (
        2,
        1,
        1,
    )
    assert (days["2026-11-20"].breached_unanswered, days["2026-11-22"].open) == (1, 1)
    assert days["2026-11-17"].created == 0 and days["2026-11-17"].compliance is None

    (finding,) = evaluation.findings
    assert (finding.item, finding.episode, finding.realert) == ("2026-W47", "2026-W47", None)
    assert finding.severity is Severity.INFO
    assert finding.summary == (
        "2026-W47: 5 tickets created, 40.0% answered within 2 h, 2 breached (1 unanswered), "
        "1 open within 2 h; p50 3 h, p90 > 2 d 12 h"
    )
    assert finding.facts["compliance_percent"] == 40.0
    assert (finding.facts["p90_seconds"], finding.facts["p90_lower_bound"]) == (60 * 3600, True)
    assert finding.facts["breached_tickets"] == ["SS-2", "SS-4"]
    json.dumps(finding.facts)  # the run report and the ledger store it
    assert evaluation.examined == 5


def test_unanswered_tickets_count_in_compliance():
    built, _ = report([ticket("SS-5", END - H)])
    assert built.figures.compliance == 0.0
    assert built.figures.p50 == Percentile(H, lower_bound=True)
    empty, _ = report([])
    assert empty.figures.compliance is None
    assert (empty.figures.p50, empty.figures.p90) == (None, None)
    evaluation, _ = evaluate_report([], WEEK, CONFIG, UNLINKED, CAL)
    assert "n/a" in evaluation.findings[0].summary


# -- hand-computed weeks -------------------------------------------------------------------------


def test_a_week_across_the_end_of_daylight_saving_time():
    # 2026-W44: Mon Oct 26 00:00 EDT (04:00Z) to Mon Nov 2 00:00 EST (05:00Z), 169 hours; clocks
    # go back from 02:00 EDT to 01:00 EST on Sunday Nov 1. Every time below is a true duration.
    #   A Mon Oct 26 09:00 EDT, reply 09:40            -> 40 m      met
    #   B Sat Oct 31 23:00 EDT (03:00Z), reply 00:50 EDT (04:50Z)   -> 110 m  met
    #   C Sun 00:30 EDT (04:30Z), reply 02:15 EST (07:15Z): the wall clocks are 1 h 45 m
    #     apart but 2 h 45 m passed                     -> 165 m     breached (late)
    #   F Sun 01:30 EST (06:30Z, the second 01:30), reply 03:00 EST (08:00Z) -> 90 m met
    #   G Sun 21:30 EST (02:30Z), no answer; 2 h 30 m to the end   -> breached (no answer)
    #   K Sun 22:30 EST (03:30Z), no answer by the end (answered Mon 00:30): 1 h 30 m -> open
    # compliance 3 / 6 = 50 %; answered 40 90 110 165; unanswered waits 90 (K), 150 (G)
    #   p50 rank 3 -> 110 m;  p90 rank ceil(5.4) = 6 -> G: "> max(150, 165)" = "> 2 h 45 m"
    week = IsoWeek(2026, 44)
    utc = UTC

    def at(*args):
        return datetime(*args, tzinfo=utc)

    tickets = [
        ticket("SS-A", at(2026, 10, 26, 13, 0), comment(at(2026, 10, 26, 13, 40))),
        ticket("SS-B", at(2026, 11, 1, 3, 0), comment(at(2026, 11, 1, 4, 50))),
        ticket("SS-C", at(2026, 11, 1, 4, 30), comment(at(2026, 11, 1, 7, 15))),
        ticket("SS-F", at(2026, 11, 1, 6, 30), comment(at(2026, 11, 1, 8, 0))),
        ticket("SS-G", at(2026, 11, 2, 2, 30)),
        ticket("SS-K", at(2026, 11, 2, 3, 30), comment(at(2026, 11, 2, 5, 30))),
    ]
    built, _ = report(tickets, week=week)
    rows = {r.key: r for r in built.rows}
    assert rows["SS-C"].created.strftime("%H:%M %Z") == "00:30 EDT"
    assert (rows["SS-C"].outcome, rows["SS-C"].response_time) == ("breached", 165 * M)
    assert (rows["SS-F"].outcome, rows["SS-F"].response_time) == ("met", 90 * M)
    assert rows["SS-F"].created.strftime("%H:%M %Z") == "01:30 EST"
    assert (rows["SS-G"].outcome, rows["SS-G"].waited) == ("breached", 150 * M)
    assert (rows["SS-K"].outcome, rows["SS-K"].waited) == ("open", 90 * M)
    assert rows["SS-B"].day == date(2026, 10, 31)
    f = built.figures
    assert (f.created, f.met, f.breached, f.open, f.compliance) == (6, 3, 2, 1, 50.0)
    assert f.p50 == Percentile(110 * M)
    assert f.p90 == Percentile(165 * M, lower_bound=True)
    assert [d.figures.created for d in built.days] == [1, 0, 0, 0, 0, 1, 4]
    assert built.end.astimezone(UTC) - built.start.astimezone(UTC) == timedelta(hours=169)


def test_a_week_on_business_hours_with_a_holiday():
    # 2026-W48, Mon-Fri 09:00-17:00 New York, Thanksgiving (Thu Nov 26) closed.
    #   K Mon 08:00, reply 11:30        -> 09:00-11:30 = 150 m       breached (late)
    #   L Tue 16:00, reply Wed 10:05    -> 60 + 65 = 125 m           breached (late)
    #   G Wed 16:30, reply Fri 10:00    -> 30 + 0 (holiday) + 60 = 90 m   met
    #   I Fri 14:00, no answer          -> 14:00-17:00 = 180 m by the end   breached
    #   H Fri 16:00, no answer          -> 60 m by the end (the desk is closed all weekend) open
    #   J Sat 10:00, reply Sun 12:00    -> 0 working minutes          met
    # compliance 2 / 6 = 33.3 %; answered 0 90 125 150; unanswered waits 60 (H), 180 (I)
    #   p50 rank 3 -> 125 m;  p90 rank ceil(5.4) = 6 -> I: "> max(180, 150)" = "> 3 h"
    week = IsoWeek(2026, 48)
    business = BusinessCalendar.business(
        NY, {d: (time(9), time(17)) for d in range(5)}, holidays=[date(2026, 11, 26)]
    )

    def at(day, hour, minute=0):
        return datetime(2026, 11, day, hour, minute, tzinfo=NY)

    tickets = [
        ticket("SS-K", at(23, 8), comment(at(23, 11, 30))),
        ticket("SS-L", at(24, 16), comment(at(25, 10, 5))),
        ticket("SS-G", at(25, 16, 30), comment(at(27, 10))),
        ticket("SS-I", at(27, 14)),
        ticket("SS-H", at(27, 16)),
        ticket("SS-J", at(28, 10), comment(at(29, 12))),
    ]
    built, _ = report(tickets, calendar=business, week=week)
    rows = {r.key: (r.outcome, r.without_answer) for r in built.rows}
    assert rows == {
        "SS-K": ("breached", 150 * M),
        "SS-L": ("breached", 125 * M),
        "SS-G": ("met", 90 * M),
        "SS-I": ("breached", 180 * M),
        "SS-H": ("open", 60 * M),
        "SS-J": ("met", timedelta(0)),
    }
    f = built.figures
    assert (f.created, f.met, f.breached, f.open) == (6, 2, 3, 1)
    assert f.compliance == pytest.approx(100 / 3)
    assert f.p50 == Percentile(125 * M)
    assert f.p90 == Percentile(180 * M, lower_bound=True)


# -- frozen at the week's end --------------------------------------------------------------------


def _week_as_reported() -> list[Ticket]:
    return [
        ticket("SS-1", START + 9 * H, comment(START + 9 * H + 20 * M)),
        ticket("SS-2", END - 30 * H, assignee=None),
        ticket("SS-3", END - H, assignee=None),
        ticket("SS-9", START - 3 * D, assignee=None, organizations=()),  # older, still waiting
    ]


def test_what_happens_after_the_week_does_not_change_its_report():
    before, _ = report(_week_as_reported())
    # The next days: replies (one by another job's account), SS-2 assigned, SS-9 resolved.
    job_account = Person("acc-support-automation", "Support Automation", "jobs@example.test")
    later = [
        replace(
            _week_as_reported()[0],
            comments=(comment(START + 9 * H + 20 * M), comment(END + 2 * H, job_account, n=2)),
            comments_total=2,
        ),
        replace(
            _week_as_reported()[1],
            assignee=OTHER,
            comments=(comment(END + D, OTHER),),
            comments_total=1,
            changes=(assigned(END + D, OTHER),),
            updated=END + D,
        ),
        replace(_week_as_reported()[2], comments=(comment(END + 30 * M),), comments_total=1),
        replace(
            _week_as_reported()[3],
            status="Resolved",
            status_category=StatusCategory.DONE,
            resolved=END + 2 * D,
            updated=END + 2 * D,
        ),
    ]
    after, _ = report(later)
    assert after == before
    assert [t.key for t in after.oldest_unassigned] == ["SS-9", "SS-2", "SS-3"]


def test_it_lists_what_was_open_and_unassigned_when_the_week_ended():
    waiting = [
        ticket("SS-20", END - 2 * H, assignee=None),
        ticket("SS-21", END - 30 * H, assignee=None),
        ticket("SS-22", END - 50 * H),  # assigned all along
        ticket(  # resolved during the week
            "SS-23",
            END - 60 * H,
            assignee=None,
            status_category=StatusCategory.DONE,
            resolved=END - 10 * H,
        ),
        ticket("SS-24", END - 10 * H, assignee=None),
        ticket("SS-25", END + H, assignee=None),  # created after the week ended
        ticket(  # assigned during the week, unassigned again on Tuesday
            "SS-26",
            END - 70 * H,
            assignee=None,
            changes=(assigned(END - 69 * H, AGENT), assigned(END + D, None, AGENT)),
        ),
        ticket(  # unassigned when the week ended, assigned on Monday
            "SS-27",
            END - 80 * H,
            assignee=AGENT,
            changes=(assigned(END + 9 * H, AGENT),),
        ),
    ]
    built, _ = report(waiting, config=configured(oldest_unassigned=3))
    assert [(t.key, t.waited) for t in built.oldest_unassigned] == [
        ("SS-27", 80 * H),
        ("SS-21", 30 * H),
        ("SS-24", 10 * H),
    ]
    rows = {r.key: r.assignee for r in built.rows}
    assert (rows["SS-26"], rows["SS-27"], rows["SS-22"]) == ("Maya Patel", None, "Maya Patel")


def test_each_trend_week_is_frozen_at_its_own_end():
    # SS-7 was created on Sunday 23:30 of W46 and answered at 00:30 on Monday (W47): in W46's
    # point it is open (30 m waited); it is not one of W47's tickets.
    previous_end = START
    tickets = [
        ticket("SS-7", previous_end - 30 * M, comment(previous_end + 30 * M)),
        ticket("SS-8", previous_end - 2 * D, comment(previous_end - 2 * D + 10 * M)),
        ticket("SS-1", START + H, comment(START + 4 * H)),
        ticket("SS-old", START - 8 * 7 * D),  # before the 8 weeks
    ]
    built, _ = report(tickets)
    assert [str(w.week) for w in built.trend] == [f"2026-W{n}" for n in range(40, 48)]
    w46 = built.trend[-2].figures
    assert (w46.created, w46.met, w46.open, w46.compliance) == (2, 1, 1, 50.0)
    # rank 2 of 2 is SS-7, unanswered: more than its 30 m wait (longer than SS-8's 10 m answer)
    assert w46.p90 == Percentile(30 * M, lower_bound=True)
    assert built.trend[-1].figures == built.figures
    assert (built.figures.created, built.figures.breached) == (1, 1)
    assert all(w.figures.created == 0 for w in built.trend[:-2])
    short, _ = report(tickets, config=configured(trend_weeks=1))
    assert [str(w.week) for w in short.trend] == ["2026-W47"]


# -- breakdowns and links ------------------------------------------------------------------------


def test_it_breaks_the_week_down_with_priority_installers_first():
    day = START + 10 * H
    tickets = [
        ticket("SS-1", day, comment(day + 3 * H), organizations=("Acme Roofing",)),
        ticket("SS-2", day, comment(day + 3 * H), organizations=("Acme Roofing",)),
        ticket("SS-3", day, comment(day + H), organizations=("bright path energy llc",)),
        ticket("SS-4", day, comment(day + 5 * H), organizations=(), request_type="Billing"),
        ticket("SS-5", day, assignee=None, request_type="Billing"),
    ]
    built, _ = report(tickets)
    orgs = [(g.name, g.priority_installer, g.figures.breached) for g in built.by_organization]
    assert orgs == [
        ("Sunrise Solar Co", True, 1),
        ("bright path energy llc", True, 0),
        ("Acme Roofing", False, 2),
        ("(none)", False, 1),
    ]
    types = [(g.name, g.figures.created, g.figures.breached) for g in built.by_request_type]
    assert types == [("Technical support", 3, 2), ("Billing", 2, 2)]
    people = [(g.name, g.figures.created) for g in built.by_assignee]
    assert people == [("Maya Patel", 4), ("(unassigned)", 1)]
    assert [r.priority_installer for r in built.rows] == [False, False, True, False, True]


def test_it_lists_the_worst_breaches_and_links_them_all_in_jira():
    day = START + 10 * H
    tickets = [
        ticket("SS-1", day, comment(day + 3 * H)),
        ticket("SS-2", day, comment(day + 9 * H)),
        ticket("SS-3", day),  # no answer: 5 d 14 h by the end
        ticket("SS-4", day, comment(day + 30 * M)),
        ticket("SS-5", day, comment(day + 2 * H + M)),
    ]
    built, _ = report(tickets, config=configured(worst_breaches=2))
    assert [r.key for r in built.worst_breaches] == ["SS-3", "SS-2"]
    assert built.breached_jql == "key in (SS-3, SS-2, SS-1, SS-5) ORDER BY created ASC"
    url = built.breached_url
    assert url.startswith(f"{BROWSE}/issues/?jql=key%20in%20%28SS-3%2C%20SS-2")
    assert unquote(url.split("jql=")[1]) == built.breached_jql
    assert built.ticket_url("SS-3") == f"{BROWSE}/browse/SS-3"
    unlinked, _ = build_report(tickets, WEEK, CONFIG, UNLINKED, CAL)
    assert unlinked.breached_url is None


def test_the_jira_link_lists_at_most_the_worst_hundred():
    day = START + 10 * H
    tickets = [ticket(f"SS-{n}", day, comment(day + 3 * H + n * M)) for n in range(150)]
    built, _ = report(tickets)
    keys = built.breached_jql.removeprefix("key in (").split(")")[0].split(", ")
    assert len(keys) == MAX_JQL_KEYS and keys[0] == "SS-149"
    assert len(built.breached_url) < 3000  # Slack's limit for a link


def test_it_warns_when_comments_were_truncated_before_any_agent_reply():
    created = START + H
    unanswered = replace(ticket("SS-1", created, comment(created + H, CUSTOMER)), comments_total=30)
    # The search returns the oldest comments: a reply among them is the first one.
    answered = replace(ticket("SS-2", created, comment(created + 3 * H)), comments_total=30)
    _, problems = report([unanswered, answered])
    assert [p.where for p in problems] == ["SS-1"]


def test_it_refuses_a_policy_without_a_goal_or_a_week_of_trend():
    with pytest.raises(ValueError):
        SlaReportConfig(first_response=timedelta(0))
    with pytest.raises(ValueError):
        SlaReportConfig(trend_weeks=0)
