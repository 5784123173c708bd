"""Weekly SLA report (SOP 004: "All New and Unassigned tickets must be given a first response
within 2 hours"): how the desk did over one ISO week.

Definitions, so a lead can recompute any number by hand:

- **Week**: ISO week (Monday 00:00 to the next Monday 00:00) in the desk's timezone. A ticket
  belongs to the week it was *created* in; days are the desk's local dates.
- **First response** (``sla_source: computed``): the earliest public comment by an agent: not
  the reporter, not an account Jira marks as a customer, not an automation account
  (``automation_accounts``, matched by email, account id or display name). Internal notes do not
  count: the customer never sees them. The response time is working time from creation to that
  comment on the desk calendar (24x7 by default, so wall-clock time).
  With ``sla_source: jira`` the first completed cycle of Jira Service Management's "Time to first
  response" decides (its ``breached`` flag, its elapsed time, its stop instant); a ticket without
  that SLA falls back to the comments and is listed as a data problem.
- **Met / breached / pending**: answered within the goal (exactly 2 h is met) or later. A ticket
  with no first response yet is *breached* when more than the goal had passed by the end of the
  week (so a report for a past week gives the same numbers whenever it is run), otherwise
  *pending*: created in the last two hours of the week and not answered yet. Pending tickets
  count as created and nowhere else.
- **Compliance** = met / (met + breached), in percent; undefined (``None``) when both are zero.
- **Percentiles** (p50, p90) use the *nearest-rank* method over the response times of answered
  tickets: sort ascending, take the value at rank ``ceil(p/100 * n)`` (1-based). With 10 values
  p50 is the 5th, p90 the 9th. Unanswered tickets have no response time and are left out (their
  breaches are counted in compliance).
- **Breaches by organization / request type**: breached tickets grouped by their first
  Organization and their Request Type; ``(none)`` when the field is empty.
- **Oldest open unassigned**: as of the report's ``now`` (Jira keeps no history of assignment in
  the fields we read), not-done tickets without an assignee, oldest first.

This module is pure: no adapters, no clock, no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from jobs.calendar import BusinessCalendar
from jobs.model import Comment, DataProblem, Evaluation, Finding, Person, Severity, Ticket

JOB = "sla_report"
RULE = "weekly_report"
NONE_LABEL = "(none)"
CUSTOMER_ACCOUNT_TYPES = frozenset({"customer"})
APP_ACCOUNT_TYPES = frozenset({"app"})

SlaSource = Literal["computed", "jira"]
Outcome = Literal["met", "breached", "pending"]

_WEEK = re.compile(r"^\s*(\d{4})-?[Ww](\d{1,2})\s*$")
WEEK_HINT = "use an ISO week like 2026-W47"


# -- the week ----------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    def __post_init__(self) -> None:
        try:
            date.fromisocalendar(self.year, self.week, 1)
        except ValueError:
            raise ValueError(f"{self.year}-W{self.week:02d} does not exist; {WEEK_HINT}") from None

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """``2026-W47`` (also ``2026W47``, ``2026-w47``); ValueError with a hint otherwise."""
        m = _WEEK.match(text or "")
        if not m:
            raise ValueError(f"{text!r} is not an ISO week; {WEEK_HINT}")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def containing(cls, day: date) -> IsoWeek:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    def previous(self) -> IsoWeek:
        return IsoWeek.containing(self.monday - timedelta(days=7))

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def days(self) -> tuple[date, ...]:
        return tuple(self.monday + timedelta(days=n) for n in range(7))

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) as UTC instants: local Monday 00:00 to the next Monday 00:00."""
        start = datetime.combine(self.monday, time(0), tzinfo=tz)
        end = datetime.combine(self.monday + timedelta(days=7), time(0), tzinfo=tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


# -- policy and results ------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaReportPolicy:
    first_response: timedelta = timedelta(hours=2)
    sla_source: SlaSource = "computed"
    oldest_unassigned: int = 5
    automation_accounts: tuple[str, ...] = ()
    """Emails, account ids or display names whose comments are not a first response."""
    job: str = JOB

    def __post_init__(self) -> None:
        if self.first_response <= timedelta(0):
            raise ValueError("first_response must be positive")
        if self.oldest_unassigned < 0:
            raise ValueError("oldest_unassigned must be 0 or more")


@dataclass(frozen=True)
class TicketResponse:
    """One ticket of the week: the per-ticket CSV row."""

    key: str
    summary: str
    created: datetime
    day: date
    organization: str | None
    request_type: str | None
    assignee: str | None
    status: str
    outcome: Outcome
    source: SlaSource
    responded_at: datetime | None = None
    response_time: timedelta | None = None
    responder: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class DayStats:
    day: date
    created: int
    answered: int
    p90: timedelta | None
    breaches: int


@dataclass(frozen=True)
class WaitingTicket:
    key: str
    summary: str
    created: datetime
    age: timedelta
    organization: str | None
    url: str | None = None


@dataclass(frozen=True)
class WeeklySlaReport:
    week: IsoWeek
    start: datetime
    end: datetime
    timezone: str
    goal: timedelta
    source: SlaSource
    now: datetime
    rows: tuple[TicketResponse, ...]
    days: tuple[DayStats, ...]
    breaches_by_organization: tuple[tuple[str, int], ...]
    breaches_by_request_type: tuple[tuple[str, int], ...]
    oldest_unassigned: tuple[WaitingTicket, ...]

    @property
    def created(self) -> int:
        return len(self.rows)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def met(self) -> int:
        return self.count("met")

    @property
    def breached(self) -> int:
        return self.count("breached")

    @property
    def pending(self) -> int:
        return self.count("pending")

    @property
    def answered(self) -> int:
        return len(self.response_times)

    @property
    def response_times(self) -> list[timedelta]:
        return [r.response_time for r in self.rows if r.response_time is not None]

    @property
    def compliance(self) -> float | None:
        """Percent of decided tickets (met + breached) answered within the goal."""
        decided = self.met + self.breached
        return 100.0 * self.met / decided if decided else None

    @property
    def p50(self) -> timedelta | None:
        return percentile(self.response_times, 50)

    @property
    def p90(self) -> timedelta | None:
        return percentile(self.response_times, 90)


# -- arithmetic --------------------------------------------------------------------------------


def percentile(values: Sequence[timedelta], p: int) -> timedelta | None:
    """Nearest-rank percentile: the value at rank ceil(p/100 * n) of the sorted values."""
    if not 0 < p <= 100:
        raise ValueError("p must be in (0, 100]")
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p * len(ordered) / 100))
    return ordered[rank - 1]


# -- first response ----------------------------------------------------------------------------


def _identifiers(person: Person) -> set[str]:
    return {
        v.strip().casefold() for v in (person.account_id, person.email, person.display_name) if v
    }


def is_agent_reply(comment: Comment, ticket: Ticket, automation: Iterable[str]) -> bool:
    """A public comment by someone who is neither the customer nor an automation account."""
    author = comment.author
    if not comment.public or author is None:
        return False
    if ticket.reporter is not None and author.matches(ticket.reporter):
        return False
    account_type = getattr(author, "account_type", None)
    if account_type in CUSTOMER_ACCOUNT_TYPES or account_type in APP_ACCOUNT_TYPES:
        return False
    wanted = {a.strip().casefold() for a in automation if a.strip()}
    return not (_identifiers(author) & wanted)


def first_agent_reply(ticket: Ticket, automation: Iterable[str]) -> Comment | None:
    accounts = tuple(automation)
    replies = [c for c in ticket.comments if is_agent_reply(c, ticket, accounts)]
    return min(replies, key=lambda c: c.created, default=None)


def _person(person: Person | None) -> str | None:
    if person is None:
        return None
    return person.display_name or person.email or person.account_id


def _computed(
    ticket: Ticket, week_end: datetime, policy: SlaReportPolicy, calendar: BusinessCalendar
) -> tuple[Outcome, datetime | None, timedelta | None, str | None]:
    reply = first_agent_reply(ticket, policy.automation_accounts)
    if reply is not None:
        took = max(calendar.elapsed(ticket.created, reply.created), timedelta(0))
        outcome: Outcome = "met" if took <= policy.first_response else "breached"
        return outcome, reply.created, took, _person(reply.author)
    waited = calendar.elapsed(ticket.created, week_end)
    return ("breached" if waited > policy.first_response else "pending"), None, None, None


def _from_jira(
    ticket: Ticket, calendar: BusinessCalendar
) -> tuple[Outcome, datetime | None, timedelta | None] | None:
    sla = ticket.first_response_sla
    if sla is None:
        return None
    if sla.completed:
        cycle = sla.completed[0]
        took = cycle.elapsed
        if took is None and cycle.stop is not None:
            took = max(calendar.elapsed(cycle.start or ticket.created, cycle.stop), timedelta(0))
        return ("breached" if cycle.breached else "met"), cycle.stop, took
    if sla.ongoing is not None:
        return ("breached" if sla.ongoing.breached else "pending"), None, None
    return None


def assess(
    ticket: Ticket,
    week_end: datetime,
    policy: SlaReportPolicy,
    calendar: BusinessCalendar,
) -> TicketResponse:
    source: SlaSource = "computed"
    responder = None
    decided = _from_jira(ticket, calendar) if policy.sla_source == "jira" else None
    if decided is not None:
        source = "jira"
        outcome, responded_at, took = decided
    else:
        outcome, responded_at, took, responder = _computed(ticket, week_end, policy, calendar)
    created_local = ticket.created.astimezone(calendar.tz)
    return TicketResponse(
        key=ticket.key,
        summary=ticket.summary,
        created=created_local,
        day=created_local.date(),
        organization=ticket.organization,
        request_type=ticket.request_type,
        assignee=_person(ticket.assignee),
        status=ticket.status,
        outcome=outcome,
        source=source,
        responded_at=responded_at.astimezone(calendar.tz) if responded_at else None,
        response_time=took,
        responder=responder,
        url=ticket.url,
    )


# -- the report --------------------------------------------------------------------------------


def _breaches_by(rows: Iterable[TicketResponse], attr: str) -> tuple[tuple[str, int], ...]:
    counts: dict[str, int] = {}
    for row in rows:
        if row.outcome == "breached":
            name = (getattr(row, attr) or "").strip() or NONE_LABEL
            counts[name] = counts.get(name, 0) + 1
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].casefold())))


def build_report(
    week_tickets: Iterable[Ticket],
    open_unassigned: Iterable[Ticket],
    week: IsoWeek,
    now: datetime,
    policy: SlaReportPolicy,
    calendar: BusinessCalendar,
) -> tuple[WeeklySlaReport, list[DataProblem]]:
    """The week's numbers; tickets created outside the week are ignored (the search may overlap)."""
    start, end = week.bounds(calendar.tz)
    problems: list[DataProblem] = []
    rows: list[TicketResponse] = []
    fallback: list[str] = []
    seen: set[str] = set()
    for ticket in week_tickets:
        if ticket.key in seen or not start <= ticket.created.astimezone(UTC) < end:
            continue
        seen.add(ticket.key)
        if not ticket.comments_complete:
            problems.append(
                DataProblem(
                    ticket.key,
                    f"only {len(ticket.comments)} of {ticket.comments_total} comments were read; "
                    "an earlier agent reply may be missing",
                )
            )
        row = assess(ticket, end, policy, calendar)
        if policy.sla_source == "jira" and row.source == "computed":
            fallback.append(ticket.key)
        rows.append(row)
    if fallback:
        problems.append(
            DataProblem(
                "Time to first response",
                f"{len(fallback)} ticket(s) without Jira's first-response SLA were measured from "
                f"their comments: {', '.join(sorted(fallback))}",
            )
        )
    rows.sort(key=lambda r: (r.created, r.key))

    days = []
    for day in week.days:
        of_day = [r for r in rows if r.day == day]
        times = [r.response_time for r in of_day if r.response_time is not None]
        days.append(
            DayStats(
                day=day,
                created=len(of_day),
                answered=len(times),
                p90=percentile(times, 90),
                breaches=sum(1 for r in of_day if r.outcome == "breached"),
            )
        )

    waiting = sorted(
        (t for t in open_unassigned if t.assignee is None and not t.is_done),
        key=lambda t: (t.created.astimezone(UTC), t.key),
    )
    unique: dict[str, Ticket] = {}
    for t in waiting:
        unique.setdefault(t.key, t)
    oldest = tuple(
        WaitingTicket(
            key=t.key,
            summary=t.summary,
            created=t.created.astimezone(calendar.tz),
            age=max(now - t.created, timedelta(0)),
            organization=t.organization,
            url=t.url,
        )
        for t in list(unique.values())[: policy.oldest_unassigned]
    )

    report = WeeklySlaReport(
        week=week,
        start=start.astimezone(calendar.tz),
        end=end.astimezone(calendar.tz),
        timezone=str(calendar.tz.key),
        goal=policy.first_response,
        source=policy.sla_source,
        now=now,
        rows=tuple(rows),
        days=tuple(days),
        breaches_by_organization=_breaches_by(rows, "organization"),
        breaches_by_request_type=_breaches_by(rows, "request_type"),
        oldest_unassigned=oldest,
    )
    return report, problems


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def summary_facts(report: WeeklySlaReport) -> dict[str, Any]:
    """The report's numbers, JSON-safe, for the run report and ``jobs why 2026-W47``."""
    compliance = report.compliance
    return {
        "week": str(report.week),
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "timezone": report.timezone,
        "goal_seconds": _seconds(report.goal),
        "source": report.source,
        "created": report.created,
        "answered": report.answered,
        "met": report.met,
        "breached": report.breached,
        "pending": report.pending,
        "compliance_percent": None if compliance is None else round(compliance, 1),
        "p50_seconds": _seconds(report.p50),
        "p90_seconds": _seconds(report.p90),
        "percentile_method": "nearest-rank",
        "breaches_by_organization": [
            {"name": n, "count": c} for n, c in report.breaches_by_organization
        ],
        "breaches_by_request_type": [
            {"name": n, "count": c} for n, c in report.breaches_by_request_type
        ],
        "days": [
            {
                "date": d.day.isoformat(),
                "created": d.created,
                "answered": d.answered,
                "p90_seconds": _seconds(d.p90),
                "breaches": d.breaches,
            }
            for d in report.days
        ],
        "breached_tickets": [r.key for r in report.rows if r.outcome == "breached"],
        "oldest_unassigned": [
            {"key": t.key, "created": t.created.isoformat(), "age_seconds": _seconds(t.age)}
            for t in report.oldest_unassigned
        ],
    }


def evaluate_report(
    week_tickets: Iterable[Ticket],
    open_unassigned: Iterable[Ticket],
    week: IsoWeek,
    now: datetime,
    policy: SlaReportPolicy,
    calendar: BusinessCalendar,
) -> tuple[Evaluation, WeeklySlaReport]:
    """One finding per week (item and episode = the ISO week: the report is sent once)."""
    tickets = list(week_tickets)
    report, problems = build_report(tickets, open_unassigned, week, now, policy, calendar)
    compliance = report.compliance
    shown = "n/a" if compliance is None else f"{compliance:.1f}%"
    finding = Finding(
        job=policy.job,
        rule=RULE,
        item=str(week),
        severity=Severity.INFO,
        summary=(
            f"{report.created} tickets created, first response within the goal: {shown}, "
            f"{report.breached} breached"
        ),
        facts=summary_facts(report),
        episode=str(week),
        realert=None,
    )
    return Evaluation(findings=[finding], problems=problems, examined=report.created), report
