"""Job schedules: the cron dialect that every place we deploy to reads the same way.

A schedule is written once in settings.yaml and ends up in three schedulers: a crontab (Vixie
cron on Debian/Ubuntu, cronie elsewhere), a Kubernetes CronJob (robfig/cron's standard parser)
and a systemd timer (``OnCalendar=``). They disagree at the edges, so only the common part is
accepted:

- exactly five fields: minute, hour, day of month, month, day of week;
- numbers only (no ``MON``/``JAN`` names: Vixie cron refuses them in lists and ranges),
  day of week 0-6 with 0 = Sunday (Kubernetes refuses 7);
- ``*``, ``N``, ``A-B`` (A < B), ``*/S``, ``A-B/S`` and comma lists of them (no ``?``, ``L``,
  ``W``, ``#``, ``N/S`` or ``@daily``);
- ``*`` and ``*/S`` stand alone in a field; a day field that names every day is written ``*``;
- not ``*/S`` in one day field while the other day field is restricted: Vixie cron then
  requires both days to match, Kubernetes either;
- and the schedule must fire at least once in every year (``0 9 30 2 *`` never does,
  ``0 9 29 2 *`` only in leap years).

When both day fields are restricted a run happens on either (cron's rule), which
`to_oncalendar` keeps by writing two ``OnCalendar=`` lines.
"""

from __future__ import annotations

import calendar as _calendar
import re
from dataclasses import dataclass
from datetime import datetime

FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 6),
)
EXAMPLE = "'*/15 * * * *' or '0 9 * * 1-5'"
SYSTEMD_WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_PART = re.compile(r"^(?:(\*)|(\d{1,2})(?:-(\d{1,2}))?)(?:/(\d{1,2}))?$")


class CronError(ValueError):
    """A schedule outside the dialect; the message says what to write instead."""


@dataclass(frozen=True)
class CronSchedule:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    """0 = Sunday, as cron counts."""
    any_day: bool
    """The day-of-month field is ``*``."""
    any_weekday: bool
    """The day-of-week field is ``*``."""

    def matches(self, local: datetime) -> bool:
        """Does the schedule fire at this local wall-clock minute?"""
        weekday = (local.weekday() + 1) % 7
        if local.minute not in self.minutes or local.hour not in self.hours:
            return False
        if local.month not in self.months:
            return False
        day_ok = local.day in self.days
        weekday_ok = weekday in self.weekdays
        if self.any_day or self.any_weekday:
            return day_ok and weekday_ok
        return day_ok or weekday_ok


def _field(text: str, name: str, low: int, high: int) -> tuple[frozenset[int], bool]:
    values: set[int] = set()
    parts = text.split(",")
    if len(parts) > 1 and any(part.startswith("*") for part in parts):
        raise CronError(f"{name} {text!r}: '*' must stand alone, not in a list")
    for part in parts:
        match = _PART.match(part)
        if not match:
            hint = " (use 0 for Sunday)" if name == "day of week" and part == "7" else ""
            raise CronError(
                f"{name} {part!r} is not a number, range (A-B) or step (*/S, A-B/S) "
                f"between {low} and {high}{hint}"
            )
        star, first, last, step = match.groups()
        start = low if star else int(first)
        end = high if star else int(last) if last is not None else start
        if step is not None and not star and last is None:
            raise CronError(
                f"{name} {part!r}: a step needs a range or '*' (write {first}-{high}/{step})"
            )
        stride = int(step) if step is not None else 1
        for value in (start, end):
            if not low <= value <= high:
                hint = " (use 0 for Sunday)" if name == "day of week" and value == 7 else ""
                raise CronError(f"{name} {value} is outside {low}-{high}{hint}")
        if end < start:
            raise CronError(f"{name} {part!r}: the range runs backwards")
        if last is not None and end == start:
            # croniter, which sizes the Kubernetes deadlines, misreads "0-0" as every day.
            raise CronError(f"{name} {part!r}: a range of one value; write {first}")
        if not 1 <= stride <= high:
            raise CronError(f"{name} {part!r}: the step must be between 1 and {high}")
        values.update(range(start, end + 1, stride))
    return frozenset(values), text == "*"


def parse_cron(text: str) -> CronSchedule:
    """Parse and check a schedule; raises CronError saying what is wrong."""
    if not isinstance(text, str):
        raise CronError(f"{text!r} is not a cron expression (five fields, e.g. {EXAMPLE})")
    fields = text.split()
    if text.strip().startswith("@"):
        raise CronError(f"{text!r}: write the five fields instead of a @-shortcut, e.g. {EXAMPLE}")
    if len(fields) != 5:
        extra = " (a seconds field is not supported)" if len(fields) == 6 else ""
        raise CronError(
            f"{text!r} has {len(fields)} fields; a schedule has five: minute hour "
            f"day-of-month month day-of-week, e.g. {EXAMPLE}{extra}"
        )
    parsed = [
        _field(part, name, low, high)
        for part, (name, low, high) in zip(fields, FIELDS, strict=True)
    ]
    (minutes, _), (hours, _), (days, any_day), (months, _), (weekdays, any_weekday) = parsed
    day_text, weekday_text = fields[2], fields[4]
    for text_of, values, (name, low, high) in (
        (day_text, days, FIELDS[2]),
        (weekday_text, weekdays, FIELDS[4]),
    ):
        if text_of != "*" and not text_of.startswith("*/") and len(values) == high - low + 1:
            # Cron tells a restricted day field from '*' by its spelling, not its values.
            raise CronError(f"{name} {text_of!r} is every day; write '*'")
    if (day_text.startswith("*/") and not any_weekday) or (
        weekday_text.startswith("*/") and not any_day
    ):
        raise CronError(
            f"{text!r}: a '*/S' day field next to a restricted one means different days to "
            "Vixie cron and Kubernetes; list the days instead"
        )
    schedule = CronSchedule(text, minutes, hours, days, months, weekdays, any_day, any_weekday)
    _check_fires_every_year(schedule)
    return schedule


def _check_fires_every_year(schedule: CronSchedule) -> None:
    if not schedule.any_weekday:
        return  # some weekday in a month it runs in: at least every few weeks
    # Days of the month only: the day must exist in one of its months in a common year.
    for month in schedule.months:
        length = _calendar.monthrange(2025, month)[1]  # 2025: not a leap year
        if any(day <= length for day in schedule.days):
            return
    leap_only = 2 in schedule.months and 29 in schedule.days
    raise CronError(
        f"{schedule.text!r} "
        + ("fires only in leap years" if leap_only else "never fires: no such day in those months")
    )


# -- systemd ------------------------------------------------------------------------------------


def _listing(values: frozenset[int], width: int = 2) -> str:
    return ",".join(f"{v:0{width}d}" for v in sorted(values))


def to_oncalendar(text: str, timezone: str) -> list[str]:
    """The ``OnCalendar=`` values (one, or two when both day fields are restricted) that fire
    exactly when cron would, at wall-clock time in ``timezone``.

    Every field is written as an explicit comma list (no ``..`` ranges or ``/`` repetitions):
    the same meaning on every systemd that reads a timezone suffix (v235 and later).
    """
    schedule = parse_cron(text)
    minute, hour, _, month, _ = text.split()
    time_part = (
        f"{'*' if hour == '*' else _listing(schedule.hours)}:"
        f"{'*' if minute == '*' else _listing(schedule.minutes)}:00"
    )
    months = "*" if month == "*" else _listing(schedule.months)
    days = "*" if schedule.any_day else _listing(schedule.days)
    weekdays = ",".join(SYSTEMD_WEEKDAYS[d] for d in sorted(schedule.weekdays))

    def line(weekday_part: str, day_part: str) -> str:
        head = f"{weekday_part} " if weekday_part else ""
        return f"{head}*-{months}-{day_part} {time_part} {timezone}"

    if schedule.any_weekday:
        return [line("", days)]
    if schedule.any_day:
        return [line(weekdays, "*")]
    # Both restricted: cron runs on either, systemd would want both. Two lines, one each.
    return [line(weekdays, "*"), line("", days)]
