"""Weekly SLA report (SOP 004: first response within 2 hours), Monday morning, for last week.

One search reads the week's SS tickets (with their comments and, when ``sla_source: jira``,
Jira's "Time to first response") and the open unassigned ones; comments are paged only for
tickets whose truncated page holds no agent reply. The numbers (`jobs.rules.sla_report` defines
each) go to the alert channel as a short Block Kit summary plus a PNG chart: daily p90 time to
first response against the goal line, with the day's breaches as bars.

The report is sent once per ISO week (item and episode = ``2026-W47``). Any week can also be
written to disk, without Slack::

    python -m jobs report sla --week 2026-W47 --out reports/

which writes ``sla_2026-W47.csv`` (one row per ticket), ``sla_2026-W47_summary.csv`` (the
numbers, one per row) and ``sla_2026-W47.png``.
"""

from __future__ import annotations

import csv
import io
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from pydantic import Field, field_validator

from jobs.config import JobConfig
from jobs.durations import Duration, DurationField, parse_duration
from jobs.job import Job, JobSpec, Work
from jobs.model import Action, ActionKind, Evaluation, Ref, Ticket, Upload
from jobs.render.alerts import human_duration
from jobs.render.slack import context, escape, field, fields, header, link, section
from jobs.rules.sla_report import JOB as JOB_NAME
from jobs.rules.sla_report import (
    IsoWeek,
    SlaReportPolicy,
    WeeklySlaReport,
    evaluate_report,
    first_agent_reply,
)

if TYPE_CHECKING:
    from jobs.adapters.jira import JiraAdapter
    from jobs.calendar import BusinessCalendar
    from jobs.config import Settings
    from jobs.context import RunContext

BASE_FIELDS = ("summary", "status", "created", "assignee", "reporter", "Organizations")
SLA_FIELD = "Time to first response"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class SlaReportConfig(JobConfig):
    schedule: str = "0 8 * * 1"
    """Mondays 08:00 desk time, for the ISO week that just ended."""
    first_response: DurationField = parse_duration("2h")
    """SOP 004: 'All New and Unassigned tickets must be given a first response within 2 hours'."""
    sla_source: Literal["computed", "jira"] = "computed"
    """computed: first public agent comment on the desk calendar; jira: JSM's SLA field."""
    oldest_unassigned: int = Field(5, ge=0, le=20)
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


SPEC = JobSpec(
    name=JOB_NAME,
    description="Mondays: last week's first-response compliance, p50/p90 and breaches, with chart",
    config_model=SlaReportConfig,
    systems=frozenset({"jira", "slack"}),
)


# -- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekData:
    week: IsoWeek
    tickets: list[Ticket]


def report_week(now: datetime, calendar: BusinessCalendar) -> IsoWeek:
    """The ISO week before the one ``now`` falls in, on the desk's local date."""
    return IsoWeek.containing(calendar.local_date(now)).previous()


def policy_of(settings: Settings, config: SlaReportConfig) -> SlaReportPolicy:
    automation = list(config.automation_accounts)
    reporter = settings.person("onboarding_reporter")
    if reporter is not None:
        # SOP 000: onboarding tickets come from this account; its comments answer nobody.
        automation += [v for v in (reporter.email, reporter.jira_account_id) if v]
    return SlaReportPolicy(
        first_response=config.first_response.wall,
        sla_source=config.sla_source,
        oldest_unassigned=config.oldest_unassigned,
        automation_accounts=tuple(automation),
    )


def week_jql(settings: Settings, week: IsoWeek, calendar: BusinessCalendar) -> str:
    """The week's tickets and the open unassigned ones, in one search.

    Jira reads date literals in the API user's timezone, which we do not know: the dates are
    padded by a day on each side and the rule keeps exactly the week's tickets.
    """
    from jobs.adapters.jira import jql_quote

    start, end = week.bounds(calendar.tz)
    since = (start - timedelta(days=1)).astimezone(calendar.tz).strftime("%Y/%m/%d")
    until = (end + timedelta(days=1)).astimezone(calendar.tz).strftime("%Y/%m/%d")
    project = jql_quote(settings.desk.service_desk_project)
    return (
        f"project = {project} AND ((created >= {jql_quote(since)} AND created < "
        f"{jql_quote(until)}) OR (assignee is EMPTY AND statusCategory != Done)) "
        "ORDER BY created ASC, key ASC"
    )


def fields_for(policy: SlaReportPolicy) -> list[str]:
    # Comments even with the Jira source: a ticket without the SLA field falls back to them.
    wanted = [*BASE_FIELDS, "Request Type", "comment"]
    if policy.sla_source == "jira":
        wanted.append(SLA_FIELD)
    return wanted


COMMENT_READERS = 4
"""Concurrent comment reads: far below Jira Cloud's rate limits, enough to hide latency."""


def read_week(
    jira: JiraAdapter,
    settings: Settings,
    week: IsoWeek,
    policy: SlaReportPolicy,
    calendar: BusinessCalendar,
) -> list[Ticket]:
    tickets: list[Ticket] = []
    # Truncated threads are read a few at a time while the search goes on paging, so they
    # cost a fraction of their latency and overlap with it.
    with ThreadPoolExecutor(max_workers=COMMENT_READERS, thread_name_prefix="comments") as pool:
        pending: list[tuple[int, Future[Ticket]]] = []
        for ticket in jira.search(week_jql(settings, week, calendar), fields_for(policy)):
            # Search results carry the oldest comments only; page the rest only when the
            # first agent reply could be among them.
            if (
                (policy.sla_source == "computed" or ticket.first_response_sla is None)
                and not ticket.comments_complete
                and first_agent_reply(ticket, policy.automation_accounts) is None
            ):
                pending.append((len(tickets), pool.submit(jira.with_all_comments, ticket)))
            tickets.append(ticket)
        for index, future in pending:
            tickets[index] = future.result()
    return tickets


def split(tickets: Iterable[Ticket]) -> tuple[list[Ticket], list[Ticket]]:
    """(every ticket, the open unassigned ones); the rule keeps the week's by creation time."""
    everything = list(tickets)
    return everything, [t for t in everything if t.assignee is None and not t.is_done]


# -- rendering ---------------------------------------------------------------------------------


def _percent(report: WeeklySlaReport) -> str:
    return "n/a" if report.compliance is None else f"{report.compliance:.1f}%"


def _duration(value: timedelta | None) -> str:
    return "n/a" if value is None else human_duration(value)


def _dates(report: WeeklySlaReport) -> str:
    first, last = report.week.days[0], report.week.days[-1]
    return f"{first:%b} {first.day} – {last:%b} {last.day}, {last.year}"


def _counts(pairs: Sequence[tuple[str, int]], limit: int = 8) -> str:
    if not pairs:
        return "none"
    shown = [f"{escape(name)} {count}" for name, count in pairs[:limit]]
    if len(pairs) > limit:
        shown.append(f"and {len(pairs) - limit} more")
    return ", ".join(shown)


def summary_blocks(report: WeeklySlaReport) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks): the numbers a lead reads on Monday morning."""
    goal = human_duration(report.goal)
    title = f"SLA report {report.week} ({_dates(report)})"
    decided = report.met + report.breached
    unanswered = sum(1 for r in report.rows if r.outcome == "breached" and r.response_time is None)
    breached = f"{report.breached}"
    if unanswered:
        breached += f" ({unanswered} never answered)"
    blocks: list[dict[str, Any]] = [
        header(title),
        fields(
            field("Tickets created", str(report.created)),
            field(
                f"First response within {goal}", f"{_percent(report)} ({report.met} of {decided})"
            ),
            field(
                "Time to first response",
                f"p50 {_duration(report.p50)} · p90 {_duration(report.p90)}",
            ),
            field("Breached", breached),
        ),
        section(
            f"*Breaches by organization:* {_counts(report.breaches_by_organization)}\n"
            f"*Breaches by request type:* {_counts(report.breaches_by_request_type)}"
        ),
    ]
    if report.oldest_unassigned:
        lines = []
        for t in report.oldest_unassigned:
            ref = link(t.url, t.key) if t.url else escape(t.key)
            lines.append(f"• {ref} {escape(t.summary)} — waiting {human_duration(t.age)}")
        blocks.append(section("*Oldest open unassigned:*\n" + "\n".join(lines)))
    notes = [
        f"First response = first public agent comment ({report.source}); "
        f"{report.timezone} week; percentiles nearest-rank over answered tickets",
    ]
    if report.pending:
        notes.append(f"{report.pending} created in the last {goal} of the week, not answered yet")
    notes.append(f"CSV: `python -m jobs report sla --week {report.week} --out DIR`")
    blocks.append(context([escape(n) for n in notes]))
    text = (
        f"{title}: {report.created} tickets, {_percent(report)} answered within {goal}, "
        f"p50 {_duration(report.p50)}, p90 {_duration(report.p90)}, {report.breached} breached"
    )
    return text, blocks


def _load_chart_library() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.figure  # noqa: F401  (the import is the point)


def render_chart(report: WeeklySlaReport) -> bytes:
    """PNG: daily p90 time to first response (line, hours) against the goal, breaches as bars."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a server; must precede pyplot
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    labels = [f"{d:%a}\n{d:%b} {d.day}" for d in report.week.days]
    p90 = [d.p90.total_seconds() / 3600 if d.p90 is not None else float("nan") for d in report.days]
    breaches = [d.breaches for d in report.days]
    goal_hours = report.goal.total_seconds() / 3600

    figure = Figure(figsize=(8, 4.2), dpi=100)
    bars_axis = figure.add_subplot(111)
    positions = list(range(len(labels)))
    bars_axis.bar(positions, breaches, color="#f4a6a6", label="breaches")
    bars_axis.set_ylabel("breaches (tickets)")
    bars_axis.set_ylim(0, max([*breaches, 1]) * 1.25)
    bars_axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    bars_axis.set_xticks(positions, labels)
    line_axis = bars_axis.twinx()
    line_axis.plot(positions, p90, marker="o", color="#1f5fa8", label="p90 first response")
    line_axis.axhline(goal_hours, color="#c0392b", linestyle="--", label=f"goal {goal_hours:g} h")
    finite = [v for v in p90 if v == v]
    line_axis.set_ylim(0, max([*finite, goal_hours]) * 1.25)
    line_axis.set_ylabel("p90 time to first response (h)")
    handles = bars_axis.get_legend_handles_labels()
    more = line_axis.get_legend_handles_labels()
    line_axis.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left", fontsize=8)
    figure.suptitle(f"First response, {report.week} ({report.timezone})")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """Text for a CSV cell; ticket text that starts like a formula is quoted for spreadsheets."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _minutes(value: timedelta | None) -> str:
    return "" if value is None else f"{value.total_seconds() / 60:.1f}"


TICKET_COLUMNS = (
    "key",
    "created",
    "day",
    "organization",
    "request_type",
    "assignee",
    "status",
    "outcome",
    "source",
    "first_response_at",
    "first_response_minutes",
    "responder",
    "summary",
)


def tickets_csv(report: WeeklySlaReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TICKET_COLUMNS)
    for r in report.rows:
        writer.writerow(
            [
                _cell(r.key),
                r.created.isoformat(),
                r.day.isoformat(),
                _cell(r.organization),
                _cell(r.request_type),
                _cell(r.assignee),
                _cell(r.status),
                r.outcome,
                r.source,
                r.responded_at.isoformat() if r.responded_at else "",
                _minutes(r.response_time),
                _cell(r.responder),
                _cell(r.summary),
            ]
        )
    return out.getvalue()


def summary_rows(report: WeeklySlaReport) -> list[tuple[str, str, str, str]]:
    """(section, name, metric, value) rows: a long table any spreadsheet can pivot."""
    compliance = report.compliance
    rows: list[tuple[str, str, str, str]] = [
        ("summary", "", "week", str(report.week)),
        ("summary", "", "start", report.start.isoformat()),
        ("summary", "", "end", report.end.isoformat()),
        ("summary", "", "goal_minutes", _minutes(report.goal)),
        ("summary", "", "source", report.source),
        ("summary", "", "tickets_created", str(report.created)),
        ("summary", "", "answered", str(report.answered)),
        ("summary", "", "met", str(report.met)),
        ("summary", "", "breached", str(report.breached)),
        ("summary", "", "pending", str(report.pending)),
        ("summary", "", "compliance_percent", "" if compliance is None else f"{compliance:.1f}"),
        ("summary", "", "p50_minutes", _minutes(report.p50)),
        ("summary", "", "p90_minutes", _minutes(report.p90)),
    ]
    for d in report.days:
        day = d.day.isoformat()
        rows += [
            ("day", day, "created", str(d.created)),
            ("day", day, "answered", str(d.answered)),
            ("day", day, "p90_minutes", _minutes(d.p90)),
            ("day", day, "breaches", str(d.breaches)),
        ]
    rows += [
        ("breaches_by_organization", n, "breaches", str(c))
        for n, c in report.breaches_by_organization
    ]
    rows += [
        ("breaches_by_request_type", n, "breaches", str(c))
        for n, c in report.breaches_by_request_type
    ]
    for t in report.oldest_unassigned:
        rows.append(
            ("oldest_unassigned", t.key, "waiting_hours", f"{t.age.total_seconds() / 3600:.1f}")
        )
    return rows


def summary_csv(report: WeeklySlaReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("section", "name", "metric", "value"))
    for section_name, name, metric, value in summary_rows(report):
        writer.writerow((section_name, _cell(name), metric, value))
    return out.getvalue()


# -- the job -----------------------------------------------------------------------------------


class SlaReportJob(Job[WeekData]):
    spec = SPEC

    def __init__(self) -> None:
        self.report: WeeklySlaReport | None = None

    def _config(self, ctx: RunContext) -> SlaReportConfig:
        config = ctx.job_config
        assert isinstance(config, SlaReportConfig)
        return config

    def fetch(self, ctx: RunContext) -> WeekData:
        # The chart library takes about a second to import: load it while the searches wait on
        # the network instead of after them (the import lock makes plan() wait if it is early).
        # Not a daemon: the interpreter waits for it before finalizing, whereas a daemon thread
        # still importing C extensions at exit aborts the process.
        threading.Thread(target=_load_chart_library, name="chart-import").start()
        week = report_week(ctx.now, ctx.calendar)
        policy = policy_of(ctx.settings, self._config(ctx))
        return WeekData(week, read_week(ctx.jira, ctx.settings, week, policy, ctx.calendar))

    def evaluate(self, data: WeekData, ctx: RunContext) -> Evaluation:
        policy = policy_of(ctx.settings, self._config(ctx))
        week_tickets, unassigned = split(data.tickets)
        evaluation, self.report = evaluate_report(
            week_tickets, unassigned, data.week, ctx.now, policy, ctx.calendar
        )
        return evaluation

    def plan(self, work: Work[WeekData], ctx: RunContext) -> list[Action]:
        if not work.fresh or self.report is None:
            return []
        report = self.report
        text, blocks = summary_blocks(report)
        chart = Action(
            kind=ActionKind.SLACK_FILE,
            # In the summary's thread: Slack answers the post with the channel's id and ts.
            target=Ref(0, "channel"),
            thread_ts=Ref(0, "ts"),
            findings=list(work.fresh),
            text=f"Daily p90 time to first response and breaches, {report.week}",
            upload=Upload(
                render_chart(report), f"sla_{report.week}.png", f"First response {report.week}"
            ),
        )
        return [
            Action(
                kind=ActionKind.SLACK_POST,
                target=ctx.alert_channel,
                findings=list(work.fresh),
                text=text,
                blocks=blocks,
                then=(chart,),
            )
        ]


# -- offline report ----------------------------------------------------------------------------


def write_files(report: WeeklySlaReport, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"sla_{report.week}"
    written = []
    for name, content in (
        (f"{stem}.csv", tickets_csv(report).encode("utf-8")),
        (f"{stem}_summary.csv", summary_csv(report).encode("utf-8")),
        (f"{stem}.png", render_chart(report)),
    ):
        path = out_dir / name
        tmp = path.with_name(f".{name}.tmp")
        tmp.write_bytes(content)
        tmp.replace(path)  # a reader never sees half a file
        written.append(path)
    return written


def write_offline_report(
    settings: Settings,
    env: Mapping[str, str],
    week: str,
    out_dir: Path,
    out: TextIO,
    now: datetime | None = None,
) -> int:
    """``python -m jobs report sla --week 2026-W47 --out DIR``: CSV + PNG, nothing sent.

    Exit codes as the CLI's: 0 written, 1 Jira failed, 2 bad week, config or credentials.
    """
    from jobs.adapters.http import AdapterError, CallCounter, CredentialError, RetryBudget
    from jobs.clock import SystemClock
    from jobs.context import REQUIRED_ENV, desk_calendar

    try:
        iso_week = IsoWeek.parse(week)
    except ValueError as exc:
        print(f"error: --week: {exc}", file=sys.stderr)
        return EXIT_USAGE
    missing = [var for var in REQUIRED_ENV["jira"] if not env.get(var)]
    if missing:
        print(
            f"error: missing environment variable(s): {', '.join(missing)} (see .env.example)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    config = settings.jobs[JOB_NAME]
    assert isinstance(config, SlaReportConfig)
    now = now or SystemClock().now()
    calendar = desk_calendar(settings, range(iso_week.year - 1, max(iso_week.year, now.year) + 2))
    policy = policy_of(settings, config)
    from jobs.adapters.jira import JiraAdapter

    budget = RetryBudget(total_seconds=settings.run.retry_budget.wall.total_seconds())
    try:
        jira = JiraAdapter.from_env(env, counter=CallCounter(), budget=budget)
        tickets = read_week(jira, settings, iso_week, policy, calendar)
    except CredentialError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AdapterError as exc:
        print(f"error: reading Jira failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    week_tickets, unassigned = split(tickets)
    evaluation, report = evaluate_report(week_tickets, unassigned, iso_week, now, policy, calendar)
    for problem in evaluation.problems:
        print(f"warning: {problem.where}: {problem.message}", file=sys.stderr)
    try:
        written = write_files(report, out_dir)
    except OSError as exc:
        print(f"error: cannot write to {out_dir}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    for path in written:
        print(f"wrote {path}", file=out)
    print(evaluation.findings[0].summary, file=out)
    return EXIT_OK


JOB = SlaReportJob

__all__ = [
    "JOB",
    "SPEC",
    "SlaReportConfig",
    "WeekData",
    "render_chart",
    "summary_blocks",
    "write_offline_report",
]
