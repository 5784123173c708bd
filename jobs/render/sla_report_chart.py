"""The weekly SLA report's chart: one PNG a support lead reads at Slack's preview size.

Left, this week: tickets created per day, stacked by outcome (met, answered late, no answer,
open within the goal) with the day's total on top; below it, every ticket's time to first
response on a log axis, with the goal line and a "no answer" row for tickets still waiting at
the week's end. Right, the last weeks: compliance, and p50/p90 against the goal (a "more
than" percentile is drawn as an up-pointing triangle at its lower bound).

Rendering is deterministic: same report, same bytes (no timestamps in the PNG, a fixed jitter).
Matplotlib is imported here only, with the Agg backend (no display on a server).
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from jobs.render.words import human_duration
from jobs.rules.sla_report import WeeklySlaReport, compliance_text, percentile_text
from jobs.rules.sla_report_figures import Percentile

MET = "#2e8b57"
LATE = "#f39c12"
NO_ANSWER = "#c0392b"
OPEN = "#a6acaf"
GOAL = "#c0392b"
P50 = "#2471a3"
P90 = "#7d3c98"
INK = "#1c2833"
GRID = "#d5d8dc"
SUBTLE = "#566573"

FLOOR = timedelta(minutes=1)
"""The log axis starts here; a reply in under a minute is drawn on it."""
TICKS = (
    (timedelta(minutes=5), "5 m"),
    (timedelta(minutes=30), "30 m"),
    (timedelta(hours=2), "2 h"),
    (timedelta(days=1), "1 d"),
    (timedelta(weeks=1), "1 w"),
    (timedelta(weeks=4), "4 w"),
)
"""Labels at least 3x apart on the log axis, so none overlap at preview size."""
SPACING = 4.5
NO_ANSWER_LABEL = "no answer"


def _hours(value: timedelta) -> float:
    return max(value, FLOOR).total_seconds() / 3600


def _top(values: list[timedelta], goal: timedelta) -> timedelta:
    """The axis top: the first tick at or above the largest value and twice the goal."""
    highest = max([*values, goal * 2])
    for tick, _ in TICKS:
        if tick >= highest:
            return tick
    return TICKS[-1][0]


def _log_axis(axis: Any, top: timedelta, goal: timedelta, extra: list[tuple[float, str]]) -> None:
    """Log scale with sparse labels, the goal among them, and a dashed goal line."""
    goal_label = human_duration(goal)
    shown = [
        (t, label)
        for t, label in TICKS
        if t <= top and not (1 / SPACING < t / goal < SPACING and t != goal)
    ]
    if all(t != goal for t, _ in shown):
        shown.append((goal, goal_label))
    shown.sort()
    positions = [_hours(t) for t, _ in shown] + [pos for pos, _ in extra]
    labels = [label for _, label in shown] + [label for _, label in extra]
    axis.set_yscale("log")
    axis.set_yticks(positions, labels)
    axis.minorticks_off()
    axis.axhline(_hours(goal), color=GOAL, linestyle="--", linewidth=1.6, zorder=1)


def render_chart(report: WeeklySlaReport) -> bytes:
    import matplotlib

    matplotlib.use("Agg")  # no display on a server; must precede pyplot
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    goal = report.goal
    goal_label = human_duration(goal)
    goal_text = f"goal {goal_label}"
    f = report.figures

    figure = Figure(figsize=(10, 6.25), dpi=120, facecolor="white")
    grid = figure.add_gridspec(
        2,
        2,
        width_ratios=(1.25, 1),
        height_ratios=(1, 1),
        hspace=0.8,
        wspace=0.22,
        left=0.1,
        right=0.985,
        top=0.77,
        bottom=0.13,
    )
    figure.text(
        0.02,
        0.977,
        f"{report.week}: {compliance_text(f)} answered within {goal_label}"
        f"  ({f.met} of {f.created} tickets)",
        fontsize=20,
        fontweight="bold",
        color=INK,
        va="top",
    )
    figure.text(
        0.02,
        0.905,
        f"p50 {percentile_text(f.p50)} · p90 {percentile_text(f.p90)} · {f.breached} breached, "
        f"{f.breached_unanswered} with no answer · {f.open} open within {goal_label}",
        fontsize=13,
        color=SUBTLE,
        va="top",
    )
    end = report.end
    figure.text(
        0.02,
        0.015,
        f"As of the week's end, {end:%a} {end:%b} {end.day} {end:%H:%M} {report.timezone}; "
        f"{report.calendar} calendar; first response = first public agent comment",
        fontsize=9.5,
        color=SUBTLE,
        va="bottom",
    )

    days = report.days
    x = list(range(len(days)))
    day_labels = [f"{d.day:%a}\n{d.day.day}" for d in days]

    # -- this week: outcomes per day ----------------------------------------------------------
    bars = figure.add_subplot(grid[0, 0])
    stacks = (
        ("met", MET, [d.figures.met for d in days]),
        ("answered late", LATE, [d.figures.answered_late for d in days]),
        ("no answer", NO_ANSWER, [d.figures.breached_unanswered for d in days]),
        (f"open, within {goal_label}", OPEN, [d.figures.open for d in days]),
    )
    bottom = [0] * len(days)
    for label, color, counts in stacks:
        bars.bar(x, counts, bottom=bottom, color=color, width=0.7, label=label, zorder=2)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    most = max([*bottom, 1])
    for pos, total in zip(x, bottom, strict=True):
        bars.text(
            pos,
            total + most * 0.04,
            str(total),
            ha="center",
            va="bottom",
            fontsize=13,
            fontweight="bold",
            color=INK,
        )
    bars.set_xticks(x, day_labels)
    bars.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    bars.set_title(
        "Tickets created per day, by outcome", loc="left", fontsize=14, color=INK, pad=24
    )
    bars.legend(
        loc="lower left",
        ncols=4,
        fontsize=10,
        frameon=False,
        bbox_to_anchor=(0, 1.0),
        borderaxespad=0,
        handlelength=1.2,
        columnspacing=1.0,
    )
    bars.set_ylim(0, most * 1.25)

    # -- this week: each ticket's time to first response ---------------------------------------
    dots = figure.add_subplot(grid[1, 0], sharex=bars)
    answered = [r.response_time for r in report.rows if r.response_time is not None]
    top = _top([t for t in answered if t is not None], goal)
    no_answer_row = _hours(top) * 3.5
    # One scatter per outcome (a call per ticket would cost seconds on a busy week); points
    # spread over the day's width by a golden-ratio jitter: fixed, so the bytes are too.
    busiest = max([d.figures.created for d in days] + [1])
    size = 46 if busiest <= 25 else max(8, 46 * 25 // busiest)
    spots: dict[str, tuple[list[float], list[float]]] = {}
    per_day: dict[Any, int] = {}
    for row in report.rows:
        nth = per_day.get(row.day, 0)
        per_day[row.day] = nth + 1
        x_at = report.week.days.index(row.day) + ((nth * 0.6180339887) % 1 - 0.5) * 0.6
        kind: str = row.outcome
        if row.response_time is not None:
            y_at = _hours(min(row.response_time, top))
        else:
            kind, y_at = ("no answer" if row.outcome == "breached" else "open"), no_answer_row
        spots.setdefault(kind, ([], []))[0].append(x_at)
        spots[kind][1].append(y_at)
    for kind, color, marker, scale in (
        ("met", MET, "o", 1.0),
        ("breached", LATE, "o", 1.0),
        ("no answer", NO_ANSWER, "X", 1.3),
        ("open", OPEN, "X", 1.3),
    ):
        xs, ys = spots.get(kind, ([], []))
        if xs:
            dots.scatter(
                xs,
                ys,
                s=size * scale,
                marker=marker,
                color=color,
                edgecolors="white" if marker == "o" else "none",
                linewidths=0.6,
                zorder=3,
            )
    _log_axis(dots, top, goal, [(no_answer_row, NO_ANSWER_LABEL)])
    dots.set_ylim(_hours(FLOOR) * 0.8, no_answer_row * 1.6)
    dots.text(
        len(days) - 0.55,
        _hours(goal) * 1.12,
        goal_text,
        color=GOAL,
        fontsize=11,
        ha="right",
        va="bottom",
    )
    dots.set_title(
        "Time to first response, each ticket", loc="left", fontsize=14, color=INK, pad=24
    )
    dots.tick_params(axis="x", labelbottom=True)

    # -- the last weeks ---------------------------------------------------------------------------
    trend = report.trend
    wx = list(range(len(trend)))
    week_labels = [f"W{w.week.week:02d}" for w in trend]
    rate = figure.add_subplot(grid[0, 1])
    values = [w.figures.compliance for w in trend]
    rate.plot(
        [i for i, v in zip(wx, values, strict=True) if v is not None],
        [v for v in values if v is not None],
        color=MET,
        marker="o",
        markersize=7,
        linewidth=2.4,
        zorder=3,
    )
    for i, v in zip(wx, values, strict=True):
        if v is not None:
            rate.text(
                i,
                v + 6,
                f"{v:.0f}%",
                ha="center",
                va="bottom",
                fontsize=10.5,
                color=INK,
                fontweight="bold" if i == wx[-1] else "normal",
            )
    rate.set_ylim(0, 118)
    rate.set_yticks([0, 50, 100], ["0%", "50%", "100%"])
    rate.set_xticks(wx, week_labels)
    rate.set_xlim(-0.5, len(trend) - 0.5)
    rate.set_title(
        f"Answered within {goal_label}, last {len(trend)} weeks",
        loc="left",
        fontsize=14,
        color=INK,
        pad=24,
    )

    speed = figure.add_subplot(grid[1, 1], sharex=rate)
    bounds: list[timedelta] = []
    for name, color in (("p50", P50), ("p90", P90)):
        points: list[tuple[int, Percentile]] = [
            (i, p)
            for i, w in zip(wx, trend, strict=True)
            if (p := getattr(w.figures, name)) is not None
        ]
        bounds += [p.value for _, p in points]
        speed.plot(
            [i for i, _ in points],
            [_hours(p.value) for _, p in points],
            color=color,
            linewidth=2.2,
            zorder=2,
        )
        exact = [(i, p) for i, p in points if not p.lower_bound]
        more = [(i, p) for i, p in points if p.lower_bound]
        speed.scatter(
            [i for i, _ in exact], [_hours(p.value) for _, p in exact], color=color, s=42, zorder=3
        )
        speed.scatter(
            [i for i, _ in more],
            [_hours(p.value) for _, p in more],
            color=color,
            marker="^",
            s=90,
            zorder=3,
        )
    speed_top = _top(bounds, goal)
    _log_axis(speed, speed_top, goal, [])
    speed.set_ylim(_hours(FLOOR) * 0.8, _hours(speed_top) * 2)
    speed.tick_params(axis="x", labelbottom=True)
    speed.set_title("Time to first response, weekly", loc="left", fontsize=14, color=INK, pad=24)
    speed.legend(
        handles=[
            Line2D([], [], color=P50, marker="o", linewidth=2.2, label="p50"),
            Line2D([], [], color=P90, marker="o", linewidth=2.2, label="p90"),
            Line2D([], [], color=INK, marker="^", linewidth=0, label="more than"),
            Line2D([], [], color=GOAL, linestyle="--", label=goal_text),
        ],
        loc="lower left",
        ncols=4,
        fontsize=10,
        frameon=False,
        bbox_to_anchor=(0, 1.0),
        borderaxespad=0,
        handlelength=1.4,
        columnspacing=0.9,
    )

    for axis in (bars, dots, rate, speed):
        axis.tick_params(labelsize=12, colors=INK)
        axis.grid(axis="y", color=GRID, linewidth=0.8, zorder=0)
        axis.set_axisbelow(True)
        for side in ("top", "right"):
            axis.spines[side].set_visible(False)

    buffer = io.BytesIO()
    # No "Software" or date chunk: the bytes depend on the report only.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
