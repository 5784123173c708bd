"""The weekly SLA report as people read it: the Slack summary, its chart, the terminal summary
and the two CSV files.

Each is a pure function of a `WeeklySlaReport` (numbers frozen at the week's end, see
`jobs.rules.sla_report`), so the same week renders to the same text and the same bytes whenever
and wherever it is rendered. The job posts the summary (`summary_message`) and uploads the chart
(`chart_file`), which belongs in the summary's thread.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jobs.render.alerts import PRIORITY_MARK, section_blocks
from jobs.render.slack import (
    Block,
    context,
    escape,
    fallback_text,
    field,
    fields,
    header,
    link,
    section,
)
from jobs.render.words import human_duration
from jobs.rules.sla_report import (
    MAX_JQL_KEYS,
    GroupFigures,
    TicketResponse,
    WeeklySlaReport,
    compliance_text,
    headline,
    percentile_text,
)
from jobs.rules.sla_report_figures import Figures, Percentile

GROUP_LINES = 6
"""Lines per breakdown in Slack; the CSV has every group."""
TERMINAL_GROUP_LINES = 15


@dataclass(frozen=True)
class SummaryMessage:
    text: str
    """Notification and screen-reader text."""
    blocks: list[Block]


@dataclass(frozen=True)
class ChartFile:
    content: bytes
    filename: str
    title: str
    comment: str
    """The line posted with the upload."""


# -- shared wording ----------------------------------------------------------------------------


def week_dates(report: WeeklySlaReport) -> str:
    first, last = report.week.days[0], report.week.days[-1]
    return f"{first:%b} {first.day} – {last:%b} {last.day}, {last.year}"


def as_of(report: WeeklySlaReport) -> str:
    end = report.end
    return f"{end:%a} {end:%b} {end.day} {end:%H:%M} {report.timezone}"


def _goal(report: WeeklySlaReport) -> str:
    return human_duration(report.goal)


def _points(delta: float) -> str:
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    return f"{sign}{abs(delta):.1f} pts"


def trend_text(report: WeeklySlaReport) -> str:
    """Compliance last week and over the trend weeks, e.g. '60.0% the week before (−10.0 pts)'."""
    parts = []
    if len(report.trend) >= 2:
        before = report.trend[-2].figures
        now = report.figures
        text = f"{compliance_text(before)} the week before"
        if before.compliance is not None and now.compliance is not None:
            text += f" ({_points(now.compliance - before.compliance)})"
        parts.append(text)
    met = sum(w.figures.met for w in report.trend)
    created = sum(w.figures.created for w in report.trend)
    span = f"{len(report.trend)} weeks"
    if created:
        parts.append(f"{100.0 * met / created:.1f}% over {span} ({met} of {created})")
    else:
        parts.append(f"no tickets over {span}")
    return "; ".join(parts)


def group_line(group: GroupFigures) -> str:
    """'Sunrise Solar Co: 2 of 4 met, 2 breached' (plain text; escape for Slack)."""
    f = group.figures
    text = f"{group.name}: {f.met} of {f.created} met, {f.breached} breached"
    if f.open:
        text += f", {f.open} open"
    return text


def breach_text(row: TicketResponse) -> str:
    if row.response_time is None:
        return f"no answer after {human_duration(row.without_answer)}"
    by = f" by {row.responder}" if row.responder else ""
    return f"answered after {human_duration(row.response_time)}{by}"


def _figures_line(figures: Figures, goal: str) -> str:
    return (
        f"{figures.met} met · {figures.breached} breached "
        f"({figures.answered_late} answered late, {figures.breached_unanswered} no answer) · "
        f"{figures.open} open within {goal}"
    )


def _percentiles(figures: Figures) -> str:
    return f"p50 {percentile_text(figures.p50)} · p90 {percentile_text(figures.p90)}"


def _answered_counts(figures: Figures) -> str:
    return f"{figures.answered} answered, {figures.unanswered} unanswered at the week's end"


# -- Slack -------------------------------------------------------------------------------------


def _ticket_ref(report: WeeklySlaReport, key: str) -> str:
    url = report.ticket_url(key)
    return link(url, key) if url else escape(key)


def _star(priority: bool) -> str:
    return PRIORITY_MARK if priority else ""


def _group_section(
    title: str, groups: Sequence[GroupFigures], limit: int = GROUP_LINES
) -> list[Block]:
    if not groups:
        return []
    lines = [f"*{escape(title)}*"]
    lines += [f"• {_star(g.priority_installer)}{escape(group_line(g))}" for g in groups[:limit]]
    if len(groups) > limit:
        lines.append(f"… and {len(groups) - limit} more in the CSV")
    return section_blocks(lines)


def summary_message(report: WeeklySlaReport) -> SummaryMessage:
    """The Monday summary: the figures first, then where to look, then the definitions."""
    f = report.figures
    goal = _goal(report)
    title = f"SLA report {report.week} ({week_dates(report)})"
    blocks: list[Block] = [
        header(title),
        section(
            f"*{compliance_text(f)}* of *{f.created}* tickets answered within {goal} "
            f"({f.met} of {f.created}) · {escape(trend_text(report))}"
        ),
        fields(
            field(
                "Breached",
                f"{f.breached}: {f.answered_late} answered late, {f.breached_unanswered} no answer",
            ),
            field(f"Open, within {goal}", f"{f.open} (created late in the week, no answer yet)"),
            field("Time to first response", f"{escape(_percentiles(f))}\n{_answered_counts(f)}"),
            field(
                "Created by day", ", ".join(f"{d.day:%a} {d.figures.created}" for d in report.days)
            ),
        ),
    ]
    blocks += _group_section(
        f"By organization ({PRIORITY_MARK.strip()} priority installer)", report.by_organization
    )
    blocks += _group_section("By request type", report.by_request_type)
    blocks += _group_section("By assignee at the week's end", report.by_assignee)
    if report.worst_breaches:
        lines = [f"*Worst {len(report.worst_breaches)} breaches*"]
        for row in report.worst_breaches:
            lines.append(
                f"• {_star(row.priority_installer)}{_ticket_ref(report, row.key)} "
                f"{escape(row.summary)} — {escape(breach_text(row))}"
            )
        url = report.breached_url
        if url:
            shown = min(f.breached, MAX_JQL_KEYS)
            label = f"All {f.breached} breached tickets in Jira"
            if shown < f.breached:
                label = f"The {shown} worst of {f.breached} breached tickets in Jira"
            lines.append(link(url, label))
        blocks += section_blocks(lines)
    if report.oldest_unassigned:
        lines = ["*Open and unassigned when the week ended*"]
        for t in report.oldest_unassigned:
            lines.append(
                f"• {_star(t.priority_installer)}{_ticket_ref(report, t.key)} "
                f"{escape(t.summary)} — waiting {human_duration(t.waited)}"
            )
        blocks += section_blocks(lines)
    blocks.append(
        context(
            [
                escape(
                    f"As of {as_of(report)} (the week's end); {report.calendar} calendar; "
                    f"first response = first public agent comment ({report.source}); compliance "
                    "counts every ticket created; percentiles are nearest-rank over every ticket, "
                    "unanswered ones last ('>' = at least)"
                ),
                f"Files: `python -m jobs report sla --week {report.week} --out DIR`",
            ]
        )
    )
    return SummaryMessage(text=fallback_text(f"SLA report {headline(report)}"), blocks=blocks)


def chart_file(
    report: WeeklySlaReport, draw: Callable[[WeeklySlaReport], bytes] | None = None
) -> ChartFile:
    """The chart for the summary's thread: PNG bytes, file name and title. ``draw``: what
    makes the PNG (the job's `jobs.chart_painter`); `render_chart` in this process if None."""
    if draw is None:
        from jobs.render.sla_report_chart import render_chart

        draw = render_chart
    return ChartFile(
        content=draw(report),
        filename=f"sla_{report.week}.png",
        title=f"First response {report.week}",
        comment=(
            f"{report.week}: tickets per day by outcome, time to first response per ticket, "
            f"and the last {len(report.trend)} weeks"
        ),
    )


# -- terminal ----------------------------------------------------------------------------------


def terminal_summary(report: WeeklySlaReport) -> str:
    """What ``python -m jobs report sla`` prints: the Slack summary's content as plain text."""
    f = report.figures
    goal = _goal(report)
    out = [
        f"SLA report {report.week} ({week_dates(report)})",
        f"as of {as_of(report)} (the week's end), {report.calendar} calendar, "
        f"source {report.source}",
        "",
        f"Tickets created          {f.created} ({_answered_counts(f)})",
        f"Answered within {goal:<8} {compliance_text(f)} ({f.met} of {f.created})",
        f"Outcomes                 {_figures_line(f, goal)}",
        f"Time to first response   {_percentiles(f)}",
        f"Trend                    {trend_text(report)}",
        "",
        "Week        created  within goal  p50          p90",
    ]
    for w in report.trend:
        g = w.figures
        out.append(
            f"{str(w.week):<11} {g.created:>7}  {compliance_text(g):>11}  "
            f"{percentile_text(g.p50):<12} {percentile_text(g.p90)}"
        )
    for title, groups in (
        ("By organization (* priority installer)", report.by_organization),
        ("By request type", report.by_request_type),
        ("By assignee at the week's end", report.by_assignee),
    ):
        if groups:
            out += ["", title]
            shown = groups[:TERMINAL_GROUP_LINES]
            out += [f"  {'*' if g.priority_installer else ' '} {group_line(g)}" for g in shown]
            if len(groups) > len(shown):
                out.append(f"    … and {len(groups) - len(shown)} more in the summary CSV")
    if report.worst_breaches:
        out += ["", "Worst breaches"]
        out += [f"  {r.key:<10} {r.summary} — {breach_text(r)}" for r in report.worst_breaches]
    if report.breached_url:
        out += ["", f"Breached tickets in Jira: {report.breached_url}"]
    if report.oldest_unassigned:
        out += ["", "Open and unassigned when the week ended"]
        out += [
            f"  {t.key:<10} {t.summary} — waiting {human_duration(t.waited)}"
            for t in report.oldest_unassigned
        ]
    return "\n".join(out) + "\n"


# -- CSV ---------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """Text for a CSV cell; ticket text that starts like a formula is quoted for spreadsheets."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _minutes(value: timedelta | None) -> str:
    return "" if value is None else f"{value.total_seconds() / 60:.1f}"


def _when(value: datetime | None) -> str:
    return "" if value is None else value.isoformat()


def _yes(value: bool) -> str:
    return "yes" if value else "no"


TICKET_COLUMNS = (
    "key",
    "created",
    "day",
    "first_response_at",
    "first_response_minutes",
    "waited_minutes",
    "outcome",
    "organization",
    "priority_installer",
    "request_type",
    "assignee",
    "responder",
    "source",
    "summary",
)
"""``first_response_minutes``: working minutes on the desk calendar to a first response within
the week; ``waited_minutes``: for a ticket unanswered at the week's end, the working minutes it
had waited by then; ``assignee``: at the week's end."""


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
                _when(r.responded_at),
                _minutes(r.response_time),
                _minutes(r.waited),
                r.outcome,
                _cell(r.organization),
                _yes(r.priority_installer),
                _cell(r.request_type),
                _cell(r.assignee),
                _cell(r.responder),
                r.source,
                _cell(r.summary),
            ]
        )
    return out.getvalue()


def _percentile_rows(name: str, value: Percentile | None) -> list[tuple[str, str]]:
    return [
        (f"{name}_minutes", "" if value is None else _minutes(value.value)),
        (f"{name}_lower_bound", "" if value is None else _yes(value.lower_bound)),
    ]


def figures_rows(figures: Figures) -> list[tuple[str, str]]:
    compliance = figures.compliance
    return [
        ("created", str(figures.created)),
        ("answered", str(figures.answered)),
        ("unanswered", str(figures.unanswered)),
        ("met", str(figures.met)),
        ("breached", str(figures.breached)),
        ("breached_unanswered", str(figures.breached_unanswered)),
        ("open", str(figures.open)),
        ("compliance_percent", "" if compliance is None else f"{compliance:.1f}"),
        *_percentile_rows("p50", figures.p50),
        *_percentile_rows("p90", figures.p90),
    ]


def summary_rows(report: WeeklySlaReport) -> list[tuple[str, str, str, str]]:
    """(section, name, metric, value) rows: a long table any spreadsheet can pivot."""
    rows: list[tuple[str, str, str, str]] = [
        ("summary", "", "week", str(report.week)),
        ("summary", "", "start", report.start.isoformat()),
        ("summary", "", "end", report.end.isoformat()),
        ("summary", "", "timezone", report.timezone),
        ("summary", "", "calendar", report.calendar),
        ("summary", "", "goal_minutes", _minutes(report.goal)),
        ("summary", "", "source", report.source),
    ]
    rows += [("summary", "", m, v) for m, v in figures_rows(report.figures)]
    for d in report.days:
        rows += [("day", d.day.isoformat(), m, v) for m, v in figures_rows(d.figures)]
    for w in report.trend:
        rows += [("week", str(w.week), m, v) for m, v in figures_rows(w.figures)]
    for section_name, groups in (
        ("organization", report.by_organization),
        ("request_type", report.by_request_type),
        ("assignee", report.by_assignee),
    ):
        for g in groups:
            if section_name == "organization":
                rows.append(
                    (section_name, g.name, "priority_installer", _yes(g.priority_installer))
                )
            rows += [(section_name, g.name, m, v) for m, v in figures_rows(g.figures)]
    for r in report.worst_breaches:
        rows.append(("worst_breach", r.key, "minutes_without_answer", _minutes(r.without_answer)))
        rows.append(("worst_breach", r.key, "answered", _yes(r.response_time is not None)))
    if report.breached_jql:
        rows.append(("breached", "", "jql", report.breached_jql))
    for t in report.oldest_unassigned:
        hours = f"{t.waited.total_seconds() / 3600:.1f}"
        rows.append(("open_unassigned_at_week_end", t.key, "waited_hours", hours))
    return rows


def summary_csv(report: WeeklySlaReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("section", "name", "metric", "value"))
    for section_name, name, metric, value in summary_rows(report):
        writer.writerow((section_name, _cell(name), metric, _cell(value)))
    return out.getvalue()
