"""Weekly SLA report (SOP 004: first response within 2 hours), Monday morning, for last week.

One paged search reads the SS tickets created over the last ``trend_weeks`` ISO weeks (with
their comments, their changelog and, when ``sla_source: jira``, Jira's "Time to first
response"), plus every ticket that may have been open and unassigned when the week ended;
comments are paged only for tickets whose truncated page holds no agent reply. The numbers,
frozen at the week's end (`jobs.rules.sla_report` defines each), go to the alert channel as a
Block Kit summary (`jobs.render.sla_report.summary_message`) and a PNG chart
(`jobs.render.sla_report.chart_file`) meant for the summary's thread.

The report is sent once per ISO week (item and episode = ``2026-W47``). Any week can also be
written to disk, without Slack::

    python -m jobs report sla --week 2026-W47 --out reports/

which prints the summary and writes ``sla_2026-W47.csv`` (one row per ticket),
``sla_2026-W47_summary.csv`` (the numbers, one per row) and ``sla_2026-W47.png``. A past week
gives the same bytes whenever it is written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from jobs.job import Job, JobSpec, Work, config_of
from jobs.model import Action, ActionKind, Evaluation, Finding, Ref, Ticket, Upload
from jobs.rules.desk import Desk, first_response
from jobs.rules.sla_report import (
    JOB_NAME,
    IsoWeek,
    SlaReportConfig,
    WeeklySlaReport,
    evaluate_report,
)

if TYPE_CHECKING:
    from jobs.adapters.jira import JiraAdapter
    from jobs.calendar import BusinessCalendar
    from jobs.chart_painter import ChartPainter
    from jobs.config import Settings
    from jobs.context import RunContext

BASE_FIELDS = (
    "summary",
    "status",
    "created",
    "updated",
    "resolutiondate",
    "assignee",
    "reporter",
    "Organizations",
)
SLA_FIELD = "Time to first response"
CHANGELOG = ("changelog",)
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


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
    tickets: Iterable[Ticket]
    """A stream: read while the rule consumes it."""


def report_week(now: datetime, calendar: BusinessCalendar) -> IsoWeek:
    """The ISO week before the one ``now`` falls in, on the desk's local date."""
    return IsoWeek.containing(calendar.local_date(now)).previous()


def automation_accounts(settings: Settings, config: SlaReportConfig) -> tuple[str, ...]:
    """Whose comments are no first response: ``automation_accounts`` and the onboarding
    reporter (SOP 000: onboarding tickets come from this account; its comments answer nobody)."""
    automation = list(config.automation_accounts)
    reporter = settings.person("onboarding_reporter")
    if reporter is not None:
        automation += [v for v in (reporter.email, reporter.jira_account_id) if v]
    return tuple(automation)


def week_jql(week: IsoWeek, config: SlaReportConfig, desk: Desk, calendar: BusinessCalendar) -> str:
    """The trend weeks' tickets and any that may have been open and unassigned at the week's end.

    A ticket open and unassigned when the week ended is either still so, or was assigned or
    resolved since, which updated it after the week's end: the second clause finds both
    without reading every open ticket. Jira reads date literals in the API user's timezone,
    which we do not know: the dates are padded by a day on each side and the rule keeps
    exactly what it needs.
    """
    from jobs.adapters.jira import jql_quote

    def day(at: datetime) -> str:
        return jql_quote(at.astimezone(calendar.tz).strftime("%Y/%m/%d"))

    pad = timedelta(days=1)
    first, _ = week.weeks_before(config.trend_weeks - 1).bounds(calendar.tz)
    _, end = week.bounds(calendar.tz)
    project = jql_quote(desk.service_desk_project)
    return (
        f"project = {project} AND created < {day(end + pad)} AND (created >= {day(first - pad)} "
        f"OR (assignee is EMPTY AND statusCategory != Done) OR updated >= {day(end - pad)}) "
        "ORDER BY created ASC, key ASC"
    )


def fields_for(config: SlaReportConfig) -> list[str]:
    # Comments even with the Jira source: a ticket without the SLA field falls back to them.
    wanted = [*BASE_FIELDS, "Request Type", "comment"]
    if config.sla_source == "jira":
        wanted.append(SLA_FIELD)
    return wanted


def read_week(
    jira: JiraAdapter,
    week: IsoWeek,
    config: SlaReportConfig,
    desk: Desk,
    calendar: BusinessCalendar,
    automation: Sequence[str],
) -> Iterator[Ticket]:
    """The search's tickets as a stream (the rule reduces each to a row as it arrives).

    Search results carry the oldest comments only; the rest are read only when the first
    agent reply could be among them, a few threads at a time while the search goes on paging
    (`JiraAdapter.with_all_comments_as_read`).
    """
    search = jira.search(
        week_jql(week, config, desk, calendar),
        fields_for(config),
        expand=CHANGELOG,
        # The report reads who replied and when, never what was said.
        comment_text=False,
        # The rows do not depend on the order: a long week is read from both ends at once (on
        # the 10k bench desk 5.9-6.0 s rather than 7.0 s, for one more page and 0.2 s of CPU).
        any_order=True,
    )

    def reply_may_be_unread(ticket: Ticket) -> bool:
        return (
            config.sla_source == "computed" or ticket.first_response_sla is None
        ) and first_response(ticket, automation) is None

    return jira.with_all_comments_as_read(search, text=False, needed=reply_may_be_unread)


# -- the job -----------------------------------------------------------------------------------


def report_actions(
    report: WeeklySlaReport,
    channel: str,
    findings: Iterable[Finding],
    draw: Callable[[WeeklySlaReport], bytes] | None = None,
) -> list[Action]:
    """The summary post; the chart follows it, in its thread (Slack's answer to the post gives
    the channel id and the ts the upload needs)."""
    from jobs.render.sla_report import chart_file, summary_message

    message = summary_message(report)
    chart = chart_file(report, draw)
    upload = Action(
        kind=ActionKind.SLACK_FILE,
        target=Ref(0, "channel"),
        thread_ts=Ref(0, "ts"),
        findings=list(findings),
        text=chart.comment,
        upload=Upload(chart.content, chart.filename, chart.title),
    )
    return [
        Action(
            kind=ActionKind.SLACK_POST,
            target=channel,
            findings=list(findings),
            text=message.text,
            blocks=message.blocks,
            then=(upload,),
        )
    ]


class SlaReportJob(Job[WeekData]):
    spec = SPEC

    def __init__(self) -> None:
        self.report: WeeklySlaReport | None = None
        self.painter: ChartPainter | None = None

    def fetch(self, ctx: RunContext) -> WeekData:
        from jobs.chart_painter import ChartPainter

        # The chart library takes about half a second to import: a child process loads it on
        # another core while the searches read the week, and draws the chart in plan().
        self.painter = ChartPainter()
        self.painter.start()
        week = report_week(ctx.now, ctx.calendar)
        config = config_of(ctx, SlaReportConfig)
        automation = automation_accounts(ctx.settings, config)
        tickets = read_week(ctx.jira, week, config, ctx.desk, ctx.calendar, automation)
        return WeekData(week, tickets)

    def evaluate(self, data: WeekData, ctx: RunContext) -> Evaluation:
        config = config_of(ctx, SlaReportConfig)
        evaluation, self.report = evaluate_report(
            data.tickets,
            data.week,
            config,
            ctx.desk,
            ctx.calendar,
            automation_accounts(ctx.settings, config),
        )
        return evaluation

    def plan(self, work: Work[WeekData], ctx: RunContext) -> list[Action]:
        if not work.fresh or self.report is None:
            return []
        draw = self.painter.paint if self.painter is not None else None
        return report_actions(self.report, ctx.alert_channel, work.fresh, draw)

    def close(self) -> None:
        if self.painter is not None:
            self.painter.close()  # a week already posted: its chart was never asked for
            self.painter = None


# -- offline report ----------------------------------------------------------------------------


def write_files(report: WeeklySlaReport, out_dir: Path) -> list[Path]:
    from jobs.render.sla_report import chart_file, summary_csv, tickets_csv

    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"sla_{report.week}"
    written = []
    for name, content in (
        (f"{stem}.csv", tickets_csv(report).encode("utf-8")),
        (f"{stem}_summary.csv", summary_csv(report).encode("utf-8")),
        (f"{stem}.png", chart_file(report).content),
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
) -> int:
    """``python -m jobs report sla --week 2026-W47 --out DIR``: summary, CSV + PNG, nothing sent.

    The week's figures do not depend on when this runs. Exit codes as the CLI's: 0 written,
    1 Jira failed, 2 bad week, config or credentials.
    """
    from jobs.adapters.http import AdapterError, CallCounter, CredentialError, RetryBudget
    from jobs.calendar import desk_calendar
    from jobs.context import REQUIRED_ENV, desk_of
    from jobs.render.sla_report import terminal_summary

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
    desk = desk_of(settings, env)
    automation = automation_accounts(settings, config)
    # Holidays of the years the trend and the week touch: the same whatever today is.
    first = iso_week.weeks_before(config.trend_weeks - 1)
    calendar = desk_calendar(settings, range(first.year - 1, iso_week.year + 2))
    from jobs.adapters.jira import JiraAdapter

    budget = RetryBudget(total_seconds=settings.run.retry_budget.wall.total_seconds())
    try:
        jira = JiraAdapter.from_env(env, counter=CallCounter(), budget=budget)
        tickets = read_week(jira, iso_week, config, desk, calendar, automation)
        evaluation, report = evaluate_report(tickets, iso_week, config, desk, calendar, automation)
    except CredentialError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AdapterError as exc:
        print(f"error: reading Jira failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for problem in evaluation.problems:
        print(f"warning: {problem.where}: {problem.message}", file=sys.stderr)
    try:
        written = write_files(report, out_dir)
    except OSError as exc:
        print(f"error: cannot write to {out_dir}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    out.write(terminal_summary(report))
    out.write("\n")
    for path in written:
        print(f"wrote {path}", file=out)
    return EXIT_OK


JOB = SlaReportJob

__all__ = [
    "JOB",
    "SPEC",
    "SlaReportConfig",
    "WeekData",
    "report_actions",
    "write_offline_report",
]
