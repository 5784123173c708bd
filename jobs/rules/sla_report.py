"""Weekly SLA report (SOP 004: "All New and Unassigned tickets must be given a first response
within 2 hours"): how the desk did over one ISO week, frozen at the week's end.

Definitions, so a lead can recompute any number by hand:

- **Week**: ISO week (Monday 00:00 to the next Monday 00:00) in the desk's timezone. A ticket
  belongs to the week it was *created* in; days are the desk's local dates.
- **As of the week's end**: every figure is computed from the tickets' own timestamps
  (creation, comments, the changelog) as they stood at the week's end, never from the time the
  report runs. A comment posted after the week ended is not a response within the week, and
  nothing done since (a reply, an assignment, a close, another job's comment) changes a past
  week: re-running the report gives the same numbers and the same files.
- **First response** (``sla_source: computed``): the desk's one definition
  (`jobs.rules.desk.first_response`): the earliest public comment by an
  agent, not the reporter, a customer account, an app or an ``automation_accounts`` author.
  The response time is working time from creation to that comment on the desk calendar (24x7
  by default, so wall-clock time; ``calendar.mode: business`` counts only working hours).
  With ``sla_source: jira`` the first completed cycle of Jira Service Management's "Time to
  first response" decides if it stopped before the week's end (its ``breached`` flag, its
  elapsed time); otherwise the ticket was unanswered then, breached if the cycle's breach time
  had passed (the desk calendar decides when Jira gives none, as for a paused cycle). A
  ticket without that SLA falls back to the comments and is listed as a data problem.
- **Met / breached / open**: answered within the goal (exactly 2 h is met), answered later,
  or not answered when the week ended: *breached* if it had waited longer than the goal by
  then, otherwise *open* (within the goal; e.g. created late on Sunday).
- **Compliance** = met ÷ every ticket created in the week, in percent; unanswered tickets
  count. Percentiles: see `jobs.rules.sla_report_figures` (nearest rank over every ticket,
  unanswered ones ranked last and shown as ``> X``).
- **Trend**: the same figures for each of the last ``trend_weeks`` weeks (this one included),
  each as of *its own* end, so a week's trend point equals that week's report.
- **Breakdowns** by organization (the desk's priority installers first,
  `jobs.rules.desk.PriorityInstallers`),
  request type and assignee at the week's end; ``(none)`` / ``(unassigned)`` when empty.
  Organization and request type are read as the ticket has them (a later correction of the
  field is a correction and shows); the assignee is the one at the week's end
  (`jobs.rules.sla_report_history`).
- **Worst breaches**: breached tickets by time without an answer, longest first: the response
  time if answered late, else how long it had waited when the week ended.
- **Open and unassigned at the week's end**: tickets created before the week ended that were
  neither resolved nor assigned at that instant (`jobs.rules.sla_report_history` reads both
  from the changelog), oldest first, with the wall-clock time they had waited by then.

This module is pure: no adapters, no clock, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jobs.calendar import BusinessCalendar
from jobs.config import JobConfig
from jobs.durations import Duration, DurationField, parse_duration
from jobs.model import DataProblem, Evaluation, Finding, Person, Severity, Ticket
from jobs.render.words import human_duration, plural
from jobs.rules.desk import Desk, first_response
from jobs.rules.sla_report_figures import Figures, Outcome, Percentile, figures_by, figures_of
from jobs.rules.sla_report_history import assignee_at, open_unassigned_at
from jobs.sections import Field, field_validator

JOB_NAME = "sla_report"
RULE = "weekly_report"
NONE_LABEL = "(none)"
UNASSIGNED_LABEL = "(unassigned)"
MAX_JQL_KEYS = 100
"""Keys in the breached-tickets link; a longer URL is refused by browsers and Slack."""

SlaSource = Literal["computed", "jira"]

_WEEK = re.compile(r"^\s*(\d{4})-?[Ww](\d{1,2})\s*$")
_PLAIN_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-\d+$")
WEEK_HINT = "use an ISO week like 2026-W47"
ZERO = timedelta(0)


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
        return self.weeks_before(1)

    def weeks_before(self, n: int) -> IsoWeek:
        return IsoWeek.containing(self.monday - timedelta(days=7 * n))

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


# -- settings and results ----------------------------------------------------------------------


class SlaReportConfig(JobConfig):
    """``jobs.sla_report`` in the settings."""

    schedule: str = "0 8 * * 1"
    """Mondays 08:00 desk time, for the ISO week that just ended."""
    first_response: DurationField = parse_duration("2h")
    """SOP 004: 'All New and Unassigned tickets must be given a first response within 2 hours'."""
    sla_source: SlaSource = "computed"
    """computed: first public agent comment on the desk calendar; jira: JSM's SLA field."""
    oldest_unassigned: int = Field(5, ge=0, le=20)
    trend_weeks: int = Field(8, ge=1, le=26)
    """Weeks in the chart's trend panel, this one included (read in the same search)."""
    worst_breaches: int = Field(5, ge=0, le=20)
    automation_accounts: list[str] = Field(default_factory=lambda: ["Automation for Jira"])
    """Emails, account ids or display names whose public comments are not a first response
    (Jira Cloud's rule actor is "Automation for Jira"); the onboarding reporter from
    ``people`` is always one."""

    @field_validator("first_response")
    @classmethod
    def _wall_clock(cls, value: Duration) -> Duration:
        if value.is_business or value.wall <= timedelta(0):
            raise ValueError("use a positive wall-clock duration such as 2h")
        return value


@dataclass(frozen=True, slots=True)
class TicketResponse:
    """One ticket as of the end of the week it was created in: the per-ticket CSV row."""

    key: str
    summary: str
    created: datetime
    day: date
    week: IsoWeek
    organization: str | None
    request_type: str | None
    assignee: str | None
    """At the week's end."""
    outcome: Outcome
    source: SlaSource
    response_time: timedelta | None = None
    """Working time on the desk calendar (or Jira's) to a first response within the week."""
    waited: timedelta | None = None
    """Unanswered at the week's end: working time it had waited by then."""
    responded_at: datetime | None = None
    responder: str | None = None
    priority_installer: bool = False

    @property
    def without_answer(self) -> timedelta:
        """How long the ticket went without an answer: response time, or the wait so far."""
        return self.response_time if self.response_time is not None else self.waited or ZERO


@dataclass(frozen=True, slots=True)
class TrendRow:
    """A ticket of an earlier week of the trend: only what its week's figures read. A report
    over many weeks keeps tens of thousands of these, and none is listed or linked."""

    week: IsoWeek
    outcome: Outcome
    response_time: timedelta | None
    waited: timedelta | None


@dataclass(frozen=True)
class GroupFigures:
    name: str
    figures: Figures
    priority_installer: bool = False


@dataclass(frozen=True)
class DayFigures:
    day: date
    figures: Figures


@dataclass(frozen=True)
class WeekFigures:
    week: IsoWeek
    figures: Figures


@dataclass(frozen=True, slots=True)
class WaitingTicket:
    key: str
    summary: str
    created: datetime
    waited: timedelta
    """Wall-clock time from creation to the week's end."""
    organization: str | None
    priority_installer: bool = False


@dataclass(frozen=True)
class WeeklySlaReport:
    week: IsoWeek
    start: datetime
    end: datetime
    timezone: str
    calendar: str
    """``24x7`` or ``business hours``: how working time was counted."""
    goal: timedelta
    source: SlaSource
    rows: tuple[TicketResponse, ...]
    """The week's tickets, by creation."""
    figures: Figures
    days: tuple[DayFigures, ...]
    trend: tuple[WeekFigures, ...]
    """Oldest week first; the last one is this week."""
    by_organization: tuple[GroupFigures, ...]
    by_request_type: tuple[GroupFigures, ...]
    by_assignee: tuple[GroupFigures, ...]
    worst_breaches: tuple[TicketResponse, ...]
    oldest_unassigned: tuple[WaitingTicket, ...]
    browse_base: str | None = None
    """Jira's base URL for links (``desk.browse_url`` or ``JIRA_URL``); None: no links."""

    @property
    def breached_rows(self) -> list[TicketResponse]:
        return worst_first(self.rows)

    @property
    def breached_jql(self) -> str:
        """JQL listing the week's breached tickets (the worst ``MAX_JQL_KEYS`` if more)."""
        keys = [r.key for r in self.breached_rows[:MAX_JQL_KEYS]]
        listed = ", ".join(k if _PLAIN_KEY.match(k) else _jql_string(k) for k in keys)
        return f"key in ({listed}) ORDER BY created ASC" if keys else ""

    def ticket_url(self, key: str) -> str | None:
        return f"{self.browse_base.rstrip('/')}/browse/{key}" if self.browse_base else None

    @property
    def breached_url(self) -> str | None:
        """A Jira issue search listing the breached tickets (``issues/?jql=``, URL-encoded)."""
        if not self.browse_base or not self.breached_jql:
            return None
        return f"{self.browse_base.rstrip('/')}/issues/?jql={quote(self.breached_jql, safe='')}"


def worst_first(rows: Iterable[TicketResponse]) -> list[TicketResponse]:
    """Breached tickets, longest without an answer first (then by key)."""
    return sorted(
        (r for r in rows if r.outcome == "breached"), key=lambda r: (-r.without_answer, r.key)
    )


def _jql_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- one ticket --------------------------------------------------------------------------------


def _person(person: Person | None) -> str | None:
    if person is None:
        return None
    return person.display_name or person.email or person.account_id


@dataclass(frozen=True)
class _Measure:
    outcome: Outcome
    source: SlaSource
    response_time: timedelta | None = None
    waited: timedelta | None = None
    responded_at: datetime | None = None
    responder: str | None = None


def _unanswered(waited: timedelta, breached: bool, source: SlaSource) -> _Measure:
    return _Measure("breached" if breached else "open", source, waited=max(waited, ZERO))


def _computed(
    ticket: Ticket,
    end: datetime,
    goal: timedelta,
    calendar: BusinessCalendar,
    automation_accounts: Sequence[str],
) -> _Measure:
    reply = first_response(ticket, automation_accounts)
    if reply is not None and reply.created < end:
        took = max(calendar.elapsed(ticket.created, reply.created), ZERO)
        return _Measure(
            "met" if took <= goal else "breached",
            "computed",
            response_time=took,
            responded_at=reply.created,
            responder=_person(reply.author),
        )
    waited = calendar.elapsed(ticket.created, end)
    return _unanswered(waited, waited > goal, "computed")


def _from_jira(
    ticket: Ticket, end: datetime, goal: timedelta, calendar: BusinessCalendar
) -> _Measure | None:
    sla = ticket.first_response_sla
    if sla is None or (not sla.completed and sla.ongoing is None):
        return None
    first = sla.completed[0] if sla.completed else None
    if first is not None and first.stop is not None and first.stop < end:
        took = first.elapsed
        if took is None:
            took = max(calendar.elapsed(first.start or ticket.created, first.stop), ZERO)
        return _Measure(
            "breached" if first.breached else "met",
            "jira",
            response_time=took,
            responded_at=first.stop,
        )
    cycle = first if first is not None else sla.ongoing
    waited = calendar.elapsed(ticket.created, end)
    if cycle is not None and cycle.breach_time is not None:
        breached = cycle.breach_time < end
    else:
        breached = waited > goal
    return _unanswered(waited, breached, "jira")


def _priority_installer(desk: Desk, organization: str | None) -> bool:
    return desk.priority_installers.listed(organization) is not None


def _automation(config: SlaReportConfig, accounts: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(config.automation_accounts if accounts is None else accounts)


def assess(
    ticket: Ticket,
    week_end: datetime,
    config: SlaReportConfig,
    desk: Desk,
    calendar: BusinessCalendar,
    automation_accounts: Sequence[str] | None = None,
) -> TicketResponse:
    """One ticket as it stood at ``week_end`` (the end of the week it was created in).

    ``automation_accounts``: whose comments are no first response; None: the settings'."""
    goal = config.first_response.wall
    measure = _from_jira(ticket, week_end, goal, calendar) if config.sla_source == "jira" else None
    if measure is None:
        ignore = _automation(config, automation_accounts)
        measure = _computed(ticket, week_end, goal, calendar, ignore)
    created_local = ticket.created.astimezone(calendar.tz)
    return TicketResponse(
        key=ticket.key,
        summary=ticket.summary,
        created=created_local,
        day=created_local.date(),
        week=IsoWeek.containing(created_local.date()),
        organization=ticket.organization,
        request_type=ticket.request_type,
        assignee=assignee_at(ticket, week_end),
        outcome=measure.outcome,
        source=measure.source,
        response_time=measure.response_time,
        waited=measure.waited,
        responded_at=measure.responded_at.astimezone(calendar.tz) if measure.responded_at else None,
        responder=measure.responder,
        priority_installer=_priority_installer(desk, ticket.organization),
    )


# -- the report --------------------------------------------------------------------------------


def _label(value: str | None, empty: str = NONE_LABEL) -> str:
    return (value or "").strip() or empty


def _groups(
    rows: Sequence[TicketResponse],
    name_of: Callable[[TicketResponse], str],
    desk: Desk,
    priority_first: bool = False,
) -> tuple[GroupFigures, ...]:
    tallies = figures_by(rows, name_of)
    groups = [
        GroupFigures(name, figures, priority_first and _priority_installer(desk, name))
        for name, figures in tallies.items()
    ]
    groups.sort(
        key=lambda g: (
            not g.priority_installer,
            -g.figures.breached,
            -g.figures.created,
            g.name.casefold(),
            g.name,
        )
    )
    return tuple(groups)


def build_report(
    tickets: Iterable[Ticket],
    week: IsoWeek,
    config: SlaReportConfig,
    desk: Desk,
    calendar: BusinessCalendar,
    automation_accounts: Sequence[str] | None = None,
) -> tuple[WeeklySlaReport, list[DataProblem]]:
    """The week's report from every ticket the search returned (it may return more).

    ``automation_accounts``: whose comments are no first response; None: the settings' (the
    job adds the onboarding reporter). Ticket links point at ``desk.browse_url``."""
    tz = calendar.tz
    start, end = week.bounds(tz)
    first_week = week.weeks_before(config.trend_weeks - 1)
    trend_start, _ = first_week.bounds(tz)
    ignore = _automation(config, automation_accounts)
    problems: list[DataProblem] = []
    week_rows: list[TicketResponse] = []
    trend_rows: list[TrendRow] = []
    weeks: dict[IsoWeek, IsoWeek] = {}  # one object per week, however many rows share it
    waiting: list[WaitingTicket] = []
    fallback: list[str] = []
    seen: set[str] = set()
    # One pass over a stream: each ticket is reduced to its row as it arrives, so a search
    # over many weeks never holds every ticket (and its comments) at once.
    for ticket in tickets:
        if ticket.key in seen:  # the search may return a ticket twice across pages
            continue
        seen.add(ticket.key)
        created = ticket.created.astimezone(UTC)
        if open_unassigned_at(ticket, end):
            waiting.append(
                WaitingTicket(
                    key=ticket.key,
                    summary=ticket.summary,
                    created=created.astimezone(tz),
                    waited=end - created,
                    organization=ticket.organization,
                    priority_installer=_priority_installer(desk, ticket.organization),
                )
            )
        if not trend_start <= created < end:
            continue
        ticket_week = IsoWeek.containing(calendar.local_date(created))
        _, ticket_week_end = ticket_week.bounds(tz)
        # The comments read are the oldest: if an agent reply is among them, it is the first.
        if not ticket.comments_complete and first_response(ticket, ignore) is None:
            problems.append(
                DataProblem(
                    ticket.key,
                    f"only {len(ticket.comments)} of {ticket.comments_total} comments were read "
                    "and none of them is an agent reply; the first one may be among the others",
                )
            )
        row = assess(ticket, ticket_week_end, config, desk, calendar, ignore)
        if config.sla_source == "jira" and row.source == "computed":
            fallback.append(ticket.key)
        if row.week == week:
            week_rows.append(row)
        else:
            shared = weeks.setdefault(row.week, row.week)
            trend_rows.append(TrendRow(shared, row.outcome, row.response_time, row.waited))
    if fallback:
        problems.append(
            DataProblem(
                "Time to first response",
                f"{plural(len(fallback), 'ticket')} without Jira's first-response SLA "
                f"{'was' if len(fallback) == 1 else 'were'} measured from "
                f"their comments: {', '.join(sorted(fallback))}",
            )
        )
    week_rows.sort(key=lambda r: (r.created, r.key))

    trend_weeks = [week.weeks_before(n) for n in range(config.trend_weeks - 1, -1, -1)]
    every_row: list[TicketResponse | TrendRow] = [*trend_rows, *week_rows]
    by_week = figures_by(every_row, lambda r: r.week, trend_weeks)
    by_day = figures_by(week_rows, lambda r: r.day, week.days)
    waiting.sort(key=lambda t: (t.created, t.key))
    oldest = tuple(waiting[: config.oldest_unassigned])

    report = WeeklySlaReport(
        week=week,
        start=start.astimezone(tz),
        end=end.astimezone(tz),
        timezone=str(tz.key),
        calendar="24x7" if calendar.always_open else "business hours",
        goal=config.first_response.wall,
        source=config.sla_source,
        rows=tuple(week_rows),
        figures=figures_of(week_rows),
        days=tuple(DayFigures(d, by_day[d]) for d in week.days),
        trend=tuple(WeekFigures(w, by_week[w]) for w in trend_weeks),
        by_organization=_groups(
            week_rows, lambda r: _label(r.organization), desk, priority_first=True
        ),
        by_request_type=_groups(week_rows, lambda r: _label(r.request_type), desk),
        by_assignee=_groups(week_rows, lambda r: _label(r.assignee, UNASSIGNED_LABEL), desk),
        worst_breaches=tuple(worst_first(week_rows)[: config.worst_breaches]),
        oldest_unassigned=oldest,
        browse_base=desk.browse_url or None,
    )
    return report, problems


# -- the finding's detail ----------------------------------------------------------------------
# The decision log keeps the report's numbers, not its rows: each figure is a fact of its own
# (``why 2026-W47`` lists them), and a day, a trend week or a group names itself first.


@dataclass(frozen=True)
class FigureFacts:
    """A `Figures` as the decision log keeps it: counts, compliance in percent (one decimal),
    each percentile in seconds and whether it is a lower bound (None: no tickets)."""

    created: int
    answered: int
    unanswered: int
    met: int
    breached: int
    breached_unanswered: int
    open: int
    compliance_percent: float | None
    p50_seconds: int | None
    p50_lower_bound: bool | None
    p90_seconds: int | None
    p90_lower_bound: bool | None


def _figure_facts(figures: Figures) -> dict[str, Any]:
    """`FigureFacts`' fields for ``figures`` (a day's, a week's, a group's or the report's)."""

    def seconds(value: Percentile | None) -> int | None:
        return None if value is None else int(value.value.total_seconds())

    def lower_bound(value: Percentile | None) -> bool | None:
        return None if value is None else value.lower_bound

    compliance = figures.compliance
    return {
        "created": figures.created,
        "answered": figures.answered,
        "unanswered": figures.unanswered,
        "met": figures.met,
        "breached": figures.breached,
        "breached_unanswered": figures.breached_unanswered,
        "open": figures.open,
        "compliance_percent": None if compliance is None else round(compliance, 1),
        "p50_seconds": seconds(figures.p50),
        "p50_lower_bound": lower_bound(figures.p50),
        "p90_seconds": seconds(figures.p90),
        "p90_lower_bound": lower_bound(figures.p90),
    }


@dataclass(frozen=True)
class _Day:
    date: date


@dataclass(frozen=True)
class DayFacts(FigureFacts, _Day):
    """One day of the week: its date, then its figures."""


@dataclass(frozen=True)
class _Week:
    week: str


@dataclass(frozen=True)
class WeekFacts(FigureFacts, _Week):
    """One week of the trend: ``2026-W47``, then its figures."""


@dataclass(frozen=True)
class _Group:
    name: str
    priority_installer: bool


@dataclass(frozen=True)
class GroupFacts(FigureFacts, _Group):
    """One organization, request type or assignee: its name, then its figures."""


@dataclass(frozen=True)
class BreachFacts:
    key: str
    answered: bool
    without_answer: timedelta


@dataclass(frozen=True)
class WaitingFacts:
    key: str
    created: datetime
    waited: timedelta


@dataclass(frozen=True)
class _Heading:
    week: str
    start: datetime
    end: datetime
    timezone: str
    calendar: str
    goal: timedelta
    source: SlaSource


@dataclass(frozen=True)
class ReportDetail(FigureFacts, _Heading):
    """What the weekly finding carries: the report's numbers, for the run report and
    ``jobs why 2026-W47`` (the rows are in the CSV, not in the decision log)."""

    percentile_method: str
    days: tuple[DayFacts, ...]
    trend: tuple[WeekFacts, ...]
    by_organization: tuple[GroupFacts, ...]
    by_request_type: tuple[GroupFacts, ...]
    by_assignee: tuple[GroupFacts, ...]
    worst_breaches: tuple[BreachFacts, ...]
    breached_tickets: tuple[str, ...]
    breached_jql: str
    oldest_unassigned: tuple[WaitingFacts, ...]


PERCENTILE_METHOD = "nearest-rank over all tickets, unanswered ranked last"


def _group_facts(groups: Sequence[GroupFigures]) -> tuple[GroupFacts, ...]:
    return tuple(
        GroupFacts(name=g.name, priority_installer=g.priority_installer, **_figure_facts(g.figures))
        for g in groups
    )


def report_detail(report: WeeklySlaReport) -> ReportDetail:
    """The report's numbers, as the weekly finding carries them."""
    return ReportDetail(
        week=str(report.week),
        start=report.start,
        end=report.end,
        timezone=report.timezone,
        calendar=report.calendar,
        goal=report.goal,
        source=report.source,
        **_figure_facts(report.figures),
        percentile_method=PERCENTILE_METHOD,
        days=tuple(DayFacts(date=d.day, **_figure_facts(d.figures)) for d in report.days),
        trend=tuple(WeekFacts(week=str(w.week), **_figure_facts(w.figures)) for w in report.trend),
        by_organization=_group_facts(report.by_organization),
        by_request_type=_group_facts(report.by_request_type),
        by_assignee=_group_facts(report.by_assignee),
        worst_breaches=tuple(
            BreachFacts(r.key, r.response_time is not None, r.without_answer)
            for r in report.worst_breaches
        ),
        breached_tickets=tuple(sorted(r.key for r in report.rows if r.outcome == "breached")),
        breached_jql=report.breached_jql,
        oldest_unassigned=tuple(
            WaitingFacts(t.key, t.created, t.waited) for t in report.oldest_unassigned
        ),
    )


# -- words and the finding ---------------------------------------------------------------------


def percentile_text(value: Percentile | None) -> str:
    """``2 h``, ``> 4 h 30 m`` (the rank fell on an unanswered ticket), or ``n/a``."""
    if value is None:
        return "n/a"
    return ("> " if value.lower_bound else "") + human_duration(value.value)


def compliance_text(figures: Figures) -> str:
    return "n/a" if figures.compliance is None else f"{figures.compliance:.1f}%"


def headline(report: WeeklySlaReport) -> str:
    """One line: what the finding says and what ``report sla`` prints last."""
    f = report.figures
    goal = human_duration(report.goal)
    return (
        f"{report.week}: {f.created} tickets created, {compliance_text(f)} answered within "
        f"{goal}, {f.breached} breached ({f.breached_unanswered} unanswered), {f.open} open "
        f"within {goal}; p50 {percentile_text(f.p50)}, p90 {percentile_text(f.p90)}"
    )


def evaluate_report(
    tickets: Iterable[Ticket],
    week: IsoWeek,
    config: SlaReportConfig,
    desk: Desk,
    calendar: BusinessCalendar,
    automation_accounts: Sequence[str] | None = None,
) -> tuple[Evaluation, WeeklySlaReport]:
    """One finding per week (item and episode = the ISO week: the report is sent once)."""
    report, problems = build_report(tickets, week, config, desk, calendar, automation_accounts)
    finding = Finding(
        job=JOB_NAME,
        rule=RULE,
        item=str(week),
        severity=Severity.INFO,
        summary=headline(report),
        detail=report_detail(report),
        episode=str(week),
        realert=None,
    )
    return Evaluation(findings=[finding], problems=problems, examined=len(report.rows)), report
