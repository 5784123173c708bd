from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.calendar import (
    END_OF_DAY,
    BusinessCalendar,
    calendar_from_settings,
    parse_hours,
    years_around,
)
from jobs.durations import Duration, parse_duration

NEW_YORK = ZoneInfo("America/New_York")
THANKSGIVING = date(2026, 11, 26)
DAY_AFTER_THANKSGIVING = date(2026, 11, 27)
NINE_TO_FIVE = {day: (time(9), time(17)) for day in range(5)}

DESK = BusinessCalendar.business(
    NEW_YORK, NINE_TO_FIVE, holidays={THANKSGIVING, DAY_AFTER_THANKSGIVING}
)
ROUND_THE_CLOCK = BusinessCalendar.twenty_four_seven(
    NEW_YORK, holidays={THANKSGIVING, DAY_AFTER_THANKSGIVING}
)


def ny(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NEW_YORK)  # type: ignore[misc]


# 2026: DST starts Sunday 8 March, ends Sunday 1 November; Thanksgiving is Thursday 26 November.


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (ny(2026, 3, 7, 12), ny(2026, 3, 8, 12), timedelta(hours=23)),
        (ny(2026, 10, 31, 12), ny(2026, 11, 1, 12), timedelta(hours=25)),
        (ny(2026, 3, 8, 1, 30), ny(2026, 3, 8, 3, 30), timedelta(hours=1)),
        (ny(2026, 11, 25, 16), ny(2026, 11, 30, 10), timedelta(days=4, hours=18)),
    ],
)
def test_it_measures_true_elapsed_time_on_a_24x7_desk(
    start: datetime, end: datetime, expected: timedelta
) -> None:
    assert ROUND_THE_CLOCK.elapsed(start, end) == expected


def test_it_adds_true_elapsed_time_across_dst_on_a_24x7_desk() -> None:
    assert ROUND_THE_CLOCK.add(ny(2026, 3, 7, 12), parse_duration("24h")) == ny(2026, 3, 8, 13)
    assert ROUND_THE_CLOCK.add(ny(2026, 10, 31, 12), parse_duration("24h")) == ny(2026, 11, 1, 11)


@pytest.mark.parametrize(
    ("case", "start", "end", "expected"),
    [
        ("a full day", ny(2026, 11, 23, 9), ny(2026, 11, 23, 17), timedelta(hours=8)),
        ("closed overnight", ny(2026, 11, 23, 17), ny(2026, 11, 24, 9), timedelta(0)),
        ("weekend skipped", ny(2026, 11, 20, 16), ny(2026, 11, 23, 10), timedelta(hours=2)),
        ("weekend only", ny(2026, 11, 21, 8), ny(2026, 11, 22, 20), timedelta(0)),
        ("before opening", ny(2026, 11, 24, 7), ny(2026, 11, 24, 10), timedelta(hours=1)),
        ("after closing", ny(2026, 11, 24, 18), ny(2026, 11, 25, 9, 30), timedelta(minutes=30)),
        ("holidays skipped", ny(2026, 11, 25, 16), ny(2026, 11, 30, 10), timedelta(hours=2)),
        (
            "start on a holiday",
            ny(2026, 11, 26, 12),
            ny(2026, 11, 30, 9, 15),
            timedelta(minutes=15),
        ),
        ("inside one holiday", ny(2026, 11, 26, 9), ny(2026, 11, 26, 17), timedelta(0)),
        ("a working week", ny(2026, 11, 16, 0), ny(2026, 11, 23, 0), timedelta(hours=40)),
        ("thanksgiving week", ny(2026, 11, 23, 0), ny(2026, 11, 30, 0), timedelta(hours=24)),
        ("spring forward", ny(2026, 3, 6, 9), ny(2026, 3, 9, 17), timedelta(hours=16)),
        ("fall back", ny(2026, 10, 30, 9), ny(2026, 11, 2, 17), timedelta(hours=16)),
        ("day after spring", ny(2026, 3, 9, 0), ny(2026, 3, 10, 0), timedelta(hours=8)),
        ("day after fall", ny(2026, 11, 2, 0), ny(2026, 11, 3, 0), timedelta(hours=8)),
        ("one second", ny(2026, 11, 23, 16, 59, 59), ny(2026, 11, 23, 17), timedelta(seconds=1)),
        ("same instant", ny(2026, 11, 23, 12), ny(2026, 11, 23, 12), timedelta(0)),
        ("backwards", ny(2026, 11, 23, 10), ny(2026, 11, 20, 16), -timedelta(hours=2)),
    ],
)
def test_it_counts_only_working_hours_on_a_business_hours_desk(
    case: str, start: datetime, end: datetime, expected: timedelta
) -> None:
    assert DESK.elapsed(start, end) == expected, case


def test_it_measures_the_same_span_whatever_the_input_timezone() -> None:
    start_utc = datetime(2026, 11, 20, 21, tzinfo=UTC)  # Friday 16:00 in New York
    end_utc = datetime(2026, 11, 23, 15, tzinfo=UTC)  # Monday 10:00

    assert DESK.elapsed(start_utc, end_utc) == timedelta(hours=2)


def test_it_counts_the_short_and_long_days_on_a_round_the_clock_business_calendar() -> None:
    every_hour = BusinessCalendar.business(NEW_YORK, {d: (time(0), END_OF_DAY) for d in range(7)})

    assert every_hour.elapsed(ny(2026, 3, 8), ny(2026, 3, 9)) == timedelta(hours=23)
    assert every_hour.elapsed(ny(2026, 11, 1), ny(2026, 11, 2)) == timedelta(hours=25)


@pytest.mark.parametrize(
    ("case", "start", "duration", "expected"),
    [
        ("within the day", ny(2026, 11, 23, 9), "2h", ny(2026, 11, 23, 11)),
        ("ends at closing", ny(2026, 11, 20, 15), "2h", ny(2026, 11, 20, 17)),
        ("over the weekend", ny(2026, 11, 20, 16), "2h", ny(2026, 11, 23, 10)),
        ("from saturday", ny(2026, 11, 21, 10), "2h", ny(2026, 11, 23, 11)),
        ("from the evening", ny(2026, 11, 24, 18), "30m", ny(2026, 11, 25, 9, 30)),
        ("before opening", ny(2026, 11, 24, 6), "1h", ny(2026, 11, 24, 10)),
        ("over holidays", ny(2026, 11, 25, 16), "2h", ny(2026, 11, 30, 10)),
        ("from a holiday", ny(2026, 11, 26, 12), "15m", ny(2026, 11, 30, 9, 15)),
        ("a working day", ny(2026, 11, 23, 9), "8h", ny(2026, 11, 23, 17)),
        ("across spring forward", ny(2026, 3, 6, 16), "2h", ny(2026, 3, 9, 10)),
        ("across fall back", ny(2026, 10, 30, 16), "2h", ny(2026, 11, 2, 10)),
        ("zero from closed", ny(2026, 11, 21, 10), "0m", ny(2026, 11, 21, 10)),
    ],
)
def test_it_adds_working_time_on_a_business_hours_desk(
    case: str, start: datetime, duration: str, expected: datetime
) -> None:
    assert DESK.add(start, parse_duration(duration)) == expected, case


def test_it_accepts_a_plain_timedelta_to_add() -> None:
    assert DESK.add(ny(2026, 11, 20, 16), timedelta(hours=2)) == ny(2026, 11, 23, 10)


def test_it_returns_instants_in_the_desk_timezone() -> None:
    due = DESK.add(datetime(2026, 11, 20, 21, tzinfo=UTC), parse_duration("2h"))

    assert due.tzinfo == NEW_YORK
    assert due.isoformat() == "2026-11-23T10:00:00-05:00"


@pytest.mark.parametrize(
    ("case", "day", "n", "expected"),
    [
        ("SOP: friday request, due 3 business days out", date(2026, 11, 13), 3, date(2026, 11, 18)),
        ("holidays inside the window", date(2026, 11, 20), 3, date(2026, 11, 25)),
        ("holidays pushed past", date(2026, 11, 24), 3, date(2026, 12, 1)),
        ("from a holiday", date(2026, 11, 26), 1, date(2026, 11, 30)),
        ("from saturday", date(2026, 11, 21), 1, date(2026, 11, 23)),
        ("zero stays put", date(2026, 11, 21), 0, date(2026, 11, 21)),
        ("backwards", date(2026, 11, 30), -1, date(2026, 11, 25)),
        ("backwards over a weekend", date(2026, 11, 23), -3, date(2026, 11, 18)),
    ],
)
def test_it_counts_business_days_forward_and_back(
    case: str, day: date, n: int, expected: date
) -> None:
    assert DESK.add_business_days(day, n) == expected, case


@pytest.mark.parametrize(
    ("case", "due", "today", "expected"),
    [
        ("on the day", date(2026, 11, 18), date(2026, 11, 18), 0),
        ("two days late", date(2026, 11, 18), date(2026, 11, 20), 2),
        ("weekend adds nothing", date(2026, 11, 20), date(2026, 11, 22), 0),
        ("monday after friday", date(2026, 11, 20), date(2026, 11, 23), 1),
        ("holidays add nothing", date(2026, 11, 25), date(2026, 11, 30), 1),
        ("not yet due", date(2026, 11, 25), date(2026, 11, 23), -2),
    ],
)
def test_it_counts_business_days_late(case: str, due: date, today: date, expected: int) -> None:
    assert DESK.business_days_between(due, today) == expected, case


def test_it_keeps_the_local_time_when_adding_business_days() -> None:
    assert DESK.add(ny(2026, 11, 13, 10, 15), parse_duration("3bd")) == ny(2026, 11, 18, 10, 15)
    assert DESK.add(ny(2026, 11, 20, 20), parse_duration("3bd")) == ny(2026, 11, 25, 20)


def test_it_keeps_the_local_time_when_business_days_cross_dst() -> None:
    due = DESK.add(ny(2026, 10, 30, 10), parse_duration("1bd"))

    assert due == ny(2026, 11, 2, 10)
    # Same-tzinfo subtraction compares wall clocks; the real gap includes the extra hour.
    assert due.astimezone(UTC) - ny(2026, 10, 30, 10).astimezone(UTC) == timedelta(hours=73)


def test_it_counts_business_days_on_a_24x7_desk_too() -> None:
    assert ROUND_THE_CLOCK.add_business_days(date(2026, 11, 25), 1) == date(2026, 11, 30)
    assert ROUND_THE_CLOCK.is_business_day(date(2026, 11, 23))
    assert not ROUND_THE_CLOCK.is_business_day(date(2026, 11, 21))
    assert ROUND_THE_CLOCK.is_open(ny(2026, 11, 26, 3))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (ny(2026, 11, 23, 9), True),
        (ny(2026, 11, 23, 8, 59, 59), False),
        (ny(2026, 11, 23, 16, 59, 59), True),
        (ny(2026, 11, 23, 17), False),
        (ny(2026, 11, 21, 12), False),
        (ny(2026, 11, 26, 12), False),
        (datetime(2026, 11, 23, 14, tzinfo=UTC), True),
    ],
)
def test_it_knows_when_the_desk_is_open(at: datetime, expected: bool) -> None:
    assert DESK.is_open(at) is expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (ny(2026, 11, 24, 12), ny(2026, 11, 24, 12)),
        (ny(2026, 11, 24, 7), ny(2026, 11, 24, 9)),
        (ny(2026, 11, 21, 12), ny(2026, 11, 23, 9)),
        (ny(2026, 11, 25, 17), ny(2026, 11, 30, 9)),
        (ny(2026, 3, 7, 12), ny(2026, 3, 9, 9)),
    ],
)
def test_it_finds_the_next_opening(at: datetime, expected: datetime) -> None:
    assert DESK.next_open(at) == expected


@pytest.mark.parametrize(
    "call",
    [
        lambda: DESK.elapsed(datetime(2026, 11, 23, 9), ny(2026, 11, 23, 10)),
        lambda: DESK.elapsed(ny(2026, 11, 23, 9), datetime(2026, 11, 23, 10)),
        lambda: DESK.add(datetime(2026, 11, 23, 9), Duration()),
        lambda: DESK.is_open(datetime(2026, 11, 23, 9)),
        lambda: DESK.next_open(datetime(2026, 11, 23, 9)),
        lambda: ROUND_THE_CLOCK.elapsed(datetime(2026, 11, 23, 9), ny(2026, 11, 23, 10)),
        lambda: DESK.local_date(datetime(2026, 11, 23, 9)),
    ],
)
def test_it_refuses_naive_datetimes(call: object) -> None:
    with pytest.raises(ValueError, match="no timezone"):
        call()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({}, "at least one open weekday"),
        ({0: (time(17), time(9))}, "overnight"),
        ({7: (time(9), time(17))}, "not 0"),
        ({0: (time(9, tzinfo=UTC), time(17))}, "local wall-clock"),
    ],
)
def test_it_refuses_hours_it_cannot_honour(hours: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.business(NEW_YORK, hours)


def test_it_cannot_be_changed_through_the_hours_it_was_given() -> None:
    hours = dict(NINE_TO_FIVE)
    calendar = BusinessCalendar.business(NEW_YORK, hours)
    hours[5] = (time(9), time(17))

    assert not calendar.is_business_day(date(2026, 11, 21))


# -- from settings ------------------------------------------------------------------------

WEEKDAY_HOURS = {
    "mon": "09:00-17:00",
    "tue": "09:00-17:00",
    "wed": "09:00-17:00",
    "thu": "09:00-17:00",
    "fri": "09:00-17:00",
    "sat": None,
    "sun": None,
}


def test_it_builds_the_desk_calendar_from_settings() -> None:
    calendar = calendar_from_settings(
        tz_name="America/New_York",
        mode="business",
        hours=WEEKDAY_HOURS,
        holiday_country="US",
        holiday_subdivision=None,
        extra_holidays=[DAY_AFTER_THANKSGIVING],
        years=years_around(2026),
    )

    assert not calendar.always_open
    assert calendar.tz == NEW_YORK
    assert not calendar.is_business_day(THANKSGIVING)
    assert not calendar.is_business_day(DAY_AFTER_THANKSGIVING)
    assert not calendar.is_business_day(date(2026, 7, 3))  # Independence Day (observed)
    assert not calendar.is_business_day(date(2027, 1, 1))
    assert calendar.is_business_day(date(2026, 11, 25))
    assert calendar.elapsed(ny(2026, 11, 25, 16), ny(2026, 11, 30, 10)) == timedelta(hours=2)


def test_it_takes_business_days_from_the_hours_on_a_24x7_desk() -> None:
    calendar = calendar_from_settings(
        tz_name="America/New_York",
        mode="24x7",
        hours={**WEEKDAY_HOURS, "sat": "10:00-14:00"},
        holiday_country="US",
        holiday_subdivision="NY",
        extra_holidays=[],
        years=range(2026, 2027),
    )

    assert calendar.always_open
    assert calendar.elapsed(ny(2026, 3, 7, 12), ny(2026, 3, 8, 12)) == timedelta(hours=23)
    assert calendar.is_business_day(date(2026, 11, 21))
    assert not calendar.is_business_day(date(2026, 11, 22))
    assert not calendar.is_business_day(THANKSGIVING)


def test_it_defaults_to_weekdays_as_business_days_on_a_24x7_desk() -> None:
    calendar = calendar_from_settings("UTC", "24x7", {}, None, None, [], range(2026, 2027))

    assert [calendar.is_business_day(date(2026, 11, d)) for d in range(23, 30)] == [
        True, True, True, True, True, False, False,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tz_name": "America/Nowhere"}, "not an IANA timezone"),
        ({"tz_name": "../etc/passwd"}, "not an IANA timezone"),
        ({"mode": "office"}, "use '24x7' or 'business'"),
        ({"holiday_country": "XX"}, "not known to the holidays package"),
        ({"holiday_subdivision": "ZZ"}, "not known to the holidays package"),
        ({"hours": {"mon": "9-5"}}, r"hours\.mon: '9-5' is not a span"),
        ({"hours": {"mon": "17:00-09:00"}}, "closes before it opens"),
        ({"hours": {"mon": "09:00-25:00"}}, "not on the clock"),
        ({"hours": {"funday": "09:00-17:00"}}, "hours.funday: not a weekday"),
        ({"hours": {"sat": None}}, "at least one open weekday"),
    ],
)
def test_it_explains_settings_it_cannot_use(overrides: dict, message: str) -> None:
    arguments = {
        "tz_name": "America/New_York",
        "mode": "business",
        "hours": WEEKDAY_HOURS,
        "holiday_country": "US",
        "holiday_subdivision": None,
        "extra_holidays": [],
        "years": range(2026, 2027),
    } | overrides

    with pytest.raises(ValueError, match=message):
        calendar_from_settings(**arguments)


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ({"mon": "09:00-17:00"}, {0: (time(9), time(17))}),
        ({"Tuesday": " 8:30 - 12:00 "}, {1: (time(8, 30), time(12))}),
        ({"sat": "closed", "sun": ""}, {5: None, 6: None}),
        ({"fri": "00:00-24:00"}, {4: (time(0), END_OF_DAY)}),
    ],
)
def test_it_reads_working_hours_as_written_in_settings(hours: dict, expected: dict) -> None:
    assert parse_hours(hours) == expected


# -- invariants ---------------------------------------------------------------------------

# Instants from late February to mid-December 2026: both DST changes, weekends, Thanksgiving.
instants = st.datetimes(
    min_value=datetime(2026, 2, 25),
    max_value=datetime(2026, 12, 15),
    timezones=st.just(UTC),
)
ODD_HOURS = BusinessCalendar.business(
    NEW_YORK,
    {0: (time(1), time(3)), 2: (time(0), END_OF_DAY), 6: (time(1, 30), time(2, 30))},
    holidays={THANKSGIVING},
)
calendars = st.sampled_from([DESK, ROUND_THE_CLOCK, ODD_HOURS])
wall_durations = st.integers(min_value=0, max_value=30 * 86400).map(
    lambda seconds: Duration(wall=timedelta(seconds=seconds))
)


@settings(max_examples=200, deadline=None)
@given(calendars, instants, instants, instants)
def test_it_measures_consecutive_spans_additively(
    calendar: BusinessCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    assert calendar.elapsed(a, b) + calendar.elapsed(b, c) == calendar.elapsed(a, c)


@settings(max_examples=200, deadline=None)
@given(calendars, instants, instants)
def test_it_never_counts_more_than_the_real_elapsed_time(
    calendar: BusinessCalendar, a: datetime, b: datetime
) -> None:
    start, end = min(a, b), max(a, b)

    assert timedelta(0) <= calendar.elapsed(start, end) <= end - start


@settings(max_examples=200, deadline=None)
@given(calendars, instants, wall_durations)
def test_it_adds_exactly_the_working_time_it_was_asked_for(
    calendar: BusinessCalendar, start: datetime, duration: Duration
) -> None:
    due = calendar.add(start, duration)

    assert due >= start
    assert calendar.elapsed(start, due) == duration.wall


@settings(max_examples=200, deadline=None)
@given(calendars, instants)
def test_it_opens_next_without_any_working_time_in_between(
    calendar: BusinessCalendar, at: datetime
) -> None:
    opening = calendar.next_open(at)

    assert opening >= at
    assert calendar.is_open(opening)
    assert calendar.elapsed(at, opening) == timedelta(0)


@settings(max_examples=200, deadline=None)
@given(
    calendars,
    st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
    st.integers(min_value=0, max_value=40),
)
def test_it_lands_business_days_on_business_days_and_counts_them_back(
    calendar: BusinessCalendar, day: date, n: int
) -> None:
    landed = calendar.add_business_days(day, n)

    assert calendar.business_days_between(day, landed) == n
    if n:
        assert calendar.is_business_day(landed)
        assert landed > day


def test_a_calendar_with_no_business_weekday_is_refused_in_either_mode() -> None:
    tz = ZoneInfo("America/New_York")
    with pytest.raises(ValueError, match="at least one business weekday"):
        BusinessCalendar.twenty_four_seven(tz, workdays=())
    with pytest.raises(ValueError, match="at least one open weekday"):
        BusinessCalendar.business(tz, {day: None for day in range(7)})
