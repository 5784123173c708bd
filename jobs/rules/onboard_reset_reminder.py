"""Every Monday, "Onboard Reset - Release tonight" to each customer testing on Onboard (SOP 003).

Onboard is reset on Monday nights with the weekly release, so a document waiting for review
disappears from it. Each outstanding Onboard task (`jobs.rules.onboard_testing`: a CS ticket
On Hold for testing, its linked SS ticket not done) is one finding per ISO week of the desk
(the episode), and only on the day Onboard is reset: the reply says "tonight".

This module is pure: no adapters, no clock, no I/O. Every function takes ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from jobs.calendar import BusinessCalendar
from jobs.model import DataProblem, Evaluation, Finding, Severity, Ticket
from jobs.rules.desk import Desk, reference
from jobs.rules.onboard_testing import (
    OnboardTestingConfig,
    TaskDetail,
    iso_week,
    task_fields,
    tasks_for,
)

JOB_NAME = "onboard_reset_reminder"
RULE_RESET = "onboard_reset"
STEP_RESET = "onboard-reset"
"""The step named in the reference line of the reply."""

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class OnboardResetReminderConfig(OnboardTestingConfig):
    """``jobs.onboard_reset_reminder`` in the settings."""

    schedule: str = "0 9 * * 1"
    """Mondays 09:00 in the desk's timezone: Onboard is reset that night."""
    reset_weekday: Weekday | None = "mon"
    """The reply says 'tonight': send only on the day Onboard is reset (desk time); null = any."""


@dataclass(frozen=True)
class ResetDetail(TaskDetail):
    """What an ``onboard_reset`` finding carries for the reply and the decision log."""

    week: str
    """The desk's ISO week (``2026-W48``): the reply goes once a week."""
    marker: str
    """The reference line the reply ends with (``Ref: SS-412 · onboard-reset · 2026-W48``)."""


def evaluate_reset(
    on_hold_cs: Sequence[Ticket],
    ss_tickets: Mapping[str, Ticket],
    now: datetime,
    config: OnboardResetReminderConfig,
    desk: Desk,
    calendar: BusinessCalendar,
) -> Evaluation:
    """One finding per outstanding Onboard task, once per ISO week (the episode)."""
    tasks, problems = tasks_for(on_hold_cs, ss_tickets, config, desk)
    local = now.astimezone(calendar.tz)
    reset_day = None if config.reset_weekday is None else WEEKDAYS.index(config.reset_weekday)
    if reset_day is not None and local.weekday() != reset_day:
        problems.append(
            DataProblem(
                "run",
                f"it is {_DAY_NAMES[local.weekday()]} at the desk, and Onboard is reset on "
                f"{_DAY_NAMES[reset_day]} nights: 'Release tonight' not sent",
            )
        )
        return Evaluation([], problems, examined=len(tasks))
    week = iso_week(now, calendar)
    findings = [
        Finding(
            job=JOB_NAME,
            rule=RULE_RESET,
            item=task.ss.key,
            severity=Severity.INFO,
            summary=f"Onboard Reset reminder for {task.ss.key} ({', '.join(task.cs_keys)} On Hold)",
            detail=ResetDetail(
                **task_fields(task), week=week, marker=reference(task.ss.key, STEP_RESET, week)
            ),
            episode=week,
            url=task.ss.url,
            realert=None,
        )
        for task in tasks
    ]
    return Evaluation(findings, problems, examined=len(tasks))
