"""Schedules: the cron dialect cron, Kubernetes and systemd read alike, and its OnCalendar form."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.cron import CronError, parse_cron, to_oncalendar

TZ = "America/New_York"


@pytest.mark.parametrize(
    "text",
    [
        "*/15 * * * *",
        "0 9 * * 1",
        "0 9-17 * * 1-5",
        "0 16 * * 1-5",
        "5,35 8-18/2 1,15 * *",
        "0 0 1 1 *",
        "0 9 31 1-12 *",  # fires in the months that have a 31st
        "30 23 * 2 0,6",
        "0 12 1 * 1",  # either the 1st or a Monday, as cron has it
    ],
)
def test_it_accepts_the_common_dialect(text: str) -> None:
    assert parse_cron(text).text == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 0 * * * *", "6 fields"),
        ("* * * *", "4 fields"),
        ("@daily", "@-shortcut"),
        ("0 9 30 2 *", "never fires"),
        ("0 9 31 4,6,9,11 *", "never fires"),
        ("0 9 29 2 *", "leap years"),
        ("0 9 * * 7", "use 0 for Sunday"),
        ("0 9 * * MON", "not a number"),
        ("0 9 * JAN *", "not a number"),
        ("0 9 ? * 1", "not a number"),
        ("0 9 L * *", "not a number"),
        ("0 9 * * 1#2", "not a number"),
        ("60 * * * *", "outside 0-59"),
        ("0 24 * * *", "outside 0-23"),
        ("0 0 0 * *", "outside 1-31"),
        ("0 0 1 13 *", "outside 1-12"),
        ("0 17-9 * * *", "backwards"),
        ("* * * * 0-0", "a range of one value"),
        ("* * 1,*/2 * *", "must stand alone"),
        ("0 9 1-31 * 1", "is every day"),
        ("0 9 1 * 0-6", "is every day"),
        ("*/0 * * * *", "step"),
        ("5/15 * * * *", "a step needs a range"),
        ("0 9 */2 * 1", "Vixie cron and Kubernetes"),
        ("0 9 1 * */2", "Vixie cron and Kubernetes"),
        ("every monday", "fields"),
    ],
)
def test_it_refuses_what_one_scheduler_would_read_differently_or_never_run(
    text: str, message: str
) -> None:
    with pytest.raises(CronError, match=re.escape(message)):
        parse_cron(text)


ONCALENDAR = [
    ("*/15 * * * *", ["*-*-* *:00,15,30,45:00 America/New_York"]),
    ("0 9 * * 1", ["Mon *-*-* 09:00:00 America/New_York"]),
    ("0 9-17 * * 1-5", ["Mon,Tue,Wed,Thu,Fri *-*-* 09,10,11,12,13,14,15,16,17:00:00 America/New_York"]),  # noqa: E501
    ("0 8-18/4 * * *", ["*-*-* 08,12,16:00:00 America/New_York"]),
    ("30 6 1,15 * *", ["*-*-01,15 06:30:00 America/New_York"]),
    ("0 0 1 1-3 *", ["*-01,02,03-01 00:00:00 America/New_York"]),
    ("0 7 * * 0,6", ["Sun,Sat *-*-* 07:00:00 America/New_York"]),
    ("0 12 1 * 1", ["Mon *-*-* 12:00:00 America/New_York", "*-*-01 12:00:00 America/New_York"]),
    ("* 3 * * *", ["*-*-* 03:*:00 America/New_York"]),
]  # fmt: skip


@pytest.mark.parametrize(("cron", "expected"), ONCALENDAR, ids=[c for c, _ in ONCALENDAR])
def test_it_writes_each_schedule_as_oncalendar_lines(cron: str, expected: list[str]) -> None:
    assert to_oncalendar(cron, TZ) == expected


# -- OnCalendar means what cron means --------------------------------------------------------------

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _values(text: str) -> set[int] | None:
    return None if text == "*" else {int(v) for v in text.split(",")}


def _oncalendar_matches(spec: str, local: datetime) -> bool:
    """What systemd does with the subset `to_oncalendar` writes: weekday list, date, time."""
    parts = spec.split()
    weekdays = None
    if parts[0][0].isalpha():
        weekdays = {_WEEKDAYS.index(d) for d in parts.pop(0).split(",")}
    date_part, time_part = parts[0], parts[1]
    _, months, days = date_part.split("-")
    hours, minutes, _seconds = time_part.split(":")
    checks = [
        (weekdays, local.weekday()),
        (_values(months), local.month),
        (_values(days), local.day),
        (_values(hours), local.hour),
        (_values(minutes), local.minute),
    ]
    return all(allowed is None or value in allowed for allowed, value in checks)


def _field(low: int, high: int) -> st.SearchStrategy[str]:
    single = st.integers(low, high).map(str)
    span = st.tuples(st.integers(low, high), st.integers(low, high)).map(
        lambda ab: f"{min(ab)}-{max(ab)}"
    )
    stepped = st.tuples(span, st.integers(1, 5)).map(lambda s: f"{s[0]}/{s[1]}")
    star_step = st.integers(1, 12).map(lambda n: f"*/{n}")
    item = st.one_of(single, span, stepped, star_step)
    return st.one_of(st.just("*"), st.lists(item, min_size=1, max_size=3).map(",".join))


CRONS = st.tuples(_field(0, 59), _field(0, 23), _field(1, 31), _field(1, 12), _field(0, 6)).map(
    " ".join
)


@settings(max_examples=200, deadline=None)
@given(
    text=CRONS,
    probes=st.lists(
        st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)),
        min_size=50,
        max_size=50,
    ),
)
def test_oncalendar_fires_at_exactly_the_minutes_cron_fires(
    text: str, probes: list[datetime]
) -> None:
    """Judged by croniter (a third implementation): at the minutes cron fires, next to them,
    and at arbitrary minutes, OnCalendar and cron agree; so does `CronSchedule.matches`."""
    try:
        schedule = parse_cron(text)
    except CronError:
        return  # outside the dialect: refused, nothing to translate
    specs = [spec.rsplit(" ", 1)[0] for spec in to_oncalendar(text, TZ)]
    fires = croniter(text, datetime(2026, 1, 1))
    instants = [p.replace(second=0, microsecond=0) for p in probes]
    for _ in range(30):
        fired = fires.get_next(datetime)
        instants += [fired, fired - timedelta(minutes=1), fired + timedelta(days=1)]
    for local in instants:
        cron = croniter.match(text, local)
        assert any(_oncalendar_matches(spec, local) for spec in specs) == cron, (local, specs)
        assert schedule.matches(local) == cron, local
