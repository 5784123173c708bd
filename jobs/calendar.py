"""The desk's business calendar: its timezone, working hours per weekday, and holidays.

SLA targets ("All New and Unassigned tickets must be given a first response within
2 hours") are measured in working time on this calendar; the SOP's date rules ("Set the
Due Date 3 business days out") count business days on it.

Every method takes and returns timezone-aware datetimes. Each working day's window is
built from local wall-clock times and converted to UTC before any arithmetic, so a
09:00-17:00 day is 8 real hours on both sides of a DST change, and a 24x7 desk measures
the true elapsed time (23 hours across the spring-forward night, 25 across fall-back).

Two modes:

* business hours — the SLA clock runs only inside each business day's window and stops
  on weekends and holidays;
* 24x7 (``always_open``) — the SLA clock never stops. Business-day arithmetic still
  skips closed weekdays and holidays, because "3 business days out" is a date rule for
  the people who do the work, not a property of the SLA clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Set
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jobs.clock import require_aware
from jobs.durations import Duration

if TYPE_CHECKING:
    from jobs.config import Settings

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
END_OF_DAY = time(0)
"""As a closing time, midnight at the end of the day (written ``24:00`` in settings)."""

Window = tuple[time, time]
_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)
_WINDOW_CACHE_LIMIT = 20_000
_MODES_24X7 = ("24x7",)
_MODES_BUSINESS = ("business", "business_hours")


HolidayLoader = Callable[[str, "str | None", int], frozenset[date]]
"""(country, subdivision, year) -> that year's holidays there (`country_holidays`, or a copy
of its answer kept between runs)."""


class HolidayDates(Set[date]):
    """A desk's closed dates: extra dates, plus a country's holidays for some years, each year
    looked up the first time a date in it is asked about (a 24x7 clock never asks)."""

    def __init__(
        self,
        extra: Iterable[date],
        country: str,
        subdivision: str | None,
        years: Iterable[int],
        loader: HolidayLoader,
    ) -> None:
        self._extra = frozenset(extra)
        self._country, self._subdivision = country, subdivision
        self._years = frozenset(years)
        self._loader = loader
        self._loaded: dict[int, frozenset[date]] = {}

    def year(self, year: int) -> frozenset[date]:
        """The holidays of ``year`` (empty outside the calendar's years)."""
        if year not in self._years:
            return frozenset()
        if year not in self._loaded:
            self._loaded[year] = self._loader(self._country, self._subdivision, year)
        return self._loaded[year]

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        return day in self._extra or day in self.year(day.year)

    def _all(self) -> frozenset[date]:
        return self._extra.union(*(self.year(y) for y in sorted(self._years)))

    def __iter__(self) -> Iterator[date]:
        return iter(sorted(self._all()))

    def __len__(self) -> int:
        return len(self._all())

    def __hash__(self) -> int:
        return hash((self._extra, self._country, self._subdivision, self._years))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HolidayDates):
            return self._all() == other._all()
        return Set.__eq__(self, other)


@dataclass(frozen=True)
class BusinessCalendar:
    tz: ZoneInfo
    hours: Mapping[int, Window | None] = field(default_factory=dict, hash=False)
    """Weekday (0 = Monday) to local opening and closing time; None or absent = closed.
    A closing time of 00:00 means midnight at the end of the day. Overnight windows
    (22:00-06:00) are not supported: split them over two days."""
    holidays: Set[date] = frozenset()
    """Local dates on which the desk is closed (a frozenset, or `HolidayDates`)."""
    always_open: bool = False
    _windows: dict[date, tuple[datetime, datetime] | None] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        normalized: dict[int, Window | None] = {}
        for weekday, window in self.hours.items():
            if weekday not in range(7):
                raise ValueError(f"weekday {weekday!r} is not 0 (Monday) to 6 (Sunday)")
            if window is not None:
                opens, closes = window
                if opens.tzinfo is not None or closes.tzinfo is not None:
                    raise ValueError("working hours are local wall-clock times: drop the tzinfo")
                if closes != END_OF_DAY and closes <= opens:
                    raise ValueError(
                        f"{WEEKDAY_NAMES[weekday]}: opens at {opens:%H:%M} but closes at "
                        f"{closes:%H:%M}; overnight windows must be split over two days"
                    )
            normalized[weekday] = window
        # Frozen means frozen: a caller's dict must not change the calendar afterwards.
        object.__setattr__(self, "hours", MappingProxyType(normalized))
        if not isinstance(self.holidays, HolidayDates):
            object.__setattr__(self, "holidays", frozenset(self.holidays))
        if not any(normalized.values()):
            # Either mode counts business days from these: without one, add_business_days
            # would look for the next business day forever.
            raise ValueError(
                "a calendar needs at least one business weekday"
                if self.always_open
                else "a business-hours calendar needs at least one open weekday"
            )

    # -- constructors -------------------------------------------------------------------

    @classmethod
    def twenty_four_seven(
        cls,
        tz: ZoneInfo,
        holidays: Iterable[date] = (),
        workdays: Iterable[int] = range(5),
    ) -> BusinessCalendar:
        """An SLA clock that never stops; `workdays` and `holidays` only define business days."""
        hours: dict[int, Window | None] = {day: (time(0), END_OF_DAY) for day in workdays}
        return cls(tz=tz, hours=hours, holidays=_closed(holidays), always_open=True)

    @classmethod
    def business(
        cls,
        tz: ZoneInfo,
        hours: Mapping[int, Window | None],
        holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        return cls(tz=tz, hours=hours, holidays=_closed(holidays), always_open=False)

    # -- days ---------------------------------------------------------------------------

    def local_date(self, at: datetime) -> date:
        """The desk's calendar date at instant `at`."""
        return require_aware(at, "instant").astimezone(self.tz).date()

    def is_business_day(self, day: date) -> bool:
        return day not in self.holidays and self.hours.get(day.weekday()) is not None

    def add_business_days(self, day: date, n: int) -> date:
        """The date `n` business days after `day` (before it, for negative `n`).

        SOP: "Set the Due Date 3 business days out" — Friday + 3 is Wednesday, and a
        holiday in between pushes it a day further. Counting starts on the day after
        `day`, so from a Saturday 1 business day is Monday. ``n == 0`` returns `day`
        unchanged, even if it is not a business day.
        """
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        remaining = abs(n)
        current = day
        while remaining:
            current += step
            if self.is_business_day(current):
                remaining -= 1
        return current

    def business_days_between(self, a: date, b: date) -> int:
        """Business days in ``(a, b]``; negative when `b` is before `a`.

        "N business days late": due Wednesday, today Friday is 2 late; today Saturday is
        still 2. For `n` >= 0, ``business_days_between(a, add_business_days(a, n)) == n``.
        """
        if b < a:
            return -self.business_days_between(b, a)
        return sum(1 for day in _dates(a + _ONE_DAY, b) if self.is_business_day(day))

    # -- instants -----------------------------------------------------------------------

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The UTC instants at which local date `day` opens and closes; None if closed.

        A local time skipped by a DST change (02:30 on the spring-forward night) lands
        after the gap; a repeated one (01:30 on fall-back night) means its first occurrence.
        """
        if day in self._windows:
            return self._windows[day]
        span = self.hours.get(day.weekday())
        result: tuple[datetime, datetime] | None = None
        if span is not None and day not in self.holidays:
            opens, closes = span
            closing_day = day + _ONE_DAY if closes == END_OF_DAY else day
            result = (
                datetime.combine(day, opens, tzinfo=self.tz).astimezone(UTC),
                datetime.combine(closing_day, closes, tzinfo=self.tz).astimezone(UTC),
            )
        if len(self._windows) >= _WINDOW_CACHE_LIMIT:
            self._windows.clear()
        self._windows[day] = result
        return result

    def is_open(self, at: datetime) -> bool:
        """Inside working hours; a window includes its opening instant but not its closing one."""
        instant = _utc(at)
        if self.always_open:
            return True
        return any(
            window[0] <= instant < window[1]
            for window in map(self.window, self._candidate_days(instant, instant))
            if window is not None
        )

    def next_open(self, at: datetime) -> datetime:
        """`at` itself if open, else the next opening instant (in the desk's timezone)."""
        instant = _utc(at)
        if self.always_open:
            return instant.astimezone(self.tz)
        for window in self._windows_from(instant):
            if instant < window[1]:
                return max(window[0], instant).astimezone(self.tz)
        raise AssertionError("unreachable: _windows_from never ends")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants; negative when `end` is before `start`.

        On a 24x7 calendar this is the true elapsed time; on a business-hours calendar,
        only the time inside open windows counts. Loops once per local day in the span.
        """
        begin, finish = _utc(start), _utc(end)
        if finish < begin:
            return -self.elapsed(end, start)
        if self.always_open:
            return finish - begin
        total = _ZERO
        for day in self._candidate_days(begin, finish):
            window = self.window(day)
            if window is None:
                continue
            low, high = max(window[0], begin), min(window[1], finish)
            if high > low:
                total += high - low
        return total

    def add(self, start: datetime, duration: Duration | timedelta) -> datetime:
        """The instant at which `duration` has passed after `start` (in the desk's timezone).

        Wall-clock durations count working time: on a business-hours calendar a start
        outside hours (evening, weekend, holiday) starts counting at the next opening,
        and the result is the earliest such instant, so Friday 15:00 + 2h is Friday
        17:00, not Monday 09:00. ``elapsed(start, add(start, d)) == d`` always holds.

        Business days keep the local time of day: Friday 10:15 + 3bd is Wednesday 10:15,
        whether or not `start` was inside working hours (see `add_business_days`). If that
        wall time does not exist on the target day (DST gap) it moves forward by the gap.
        """
        if isinstance(duration, timedelta):
            duration = Duration(wall=duration)
        instant = _utc(start)
        if duration.is_business:
            local = instant.astimezone(self.tz)
            target = self.add_business_days(local.date(), duration.business_days)
            naive_target = datetime.combine(target, local.time(), tzinfo=self.tz)
            return naive_target.astimezone(UTC).astimezone(self.tz)
        remaining = duration.wall
        if self.always_open or not remaining:
            return (instant + remaining).astimezone(self.tz)
        for window in self._windows_from(instant):
            low = max(window[0], instant)
            available = window[1] - low
            if available <= _ZERO:
                continue
            if remaining <= available:
                return (low + remaining).astimezone(self.tz)
            remaining -= available
        raise AssertionError("unreachable: _windows_from never ends")

    # -- internals ----------------------------------------------------------------------

    def _candidate_days(self, begin: datetime, finish: datetime) -> Iterator[date]:
        # A day's window stays within its local date, give or take a DST shift at
        # midnight in some zones; starting one day early costs one lookup and removes doubt.
        first = begin.astimezone(self.tz).date() - _ONE_DAY
        last = finish.astimezone(self.tz).date()
        return _dates(first, last)

    def _windows_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        # Terminates: __post_init__ guarantees an open weekday, and holidays are finite.
        day = instant.astimezone(self.tz).date() - _ONE_DAY
        while True:
            window = self.window(day)
            if window is not None:
                yield window
            day += _ONE_DAY


def _utc(at: datetime) -> datetime:
    # Subtracting two datetimes that share a ZoneInfo compares wall clocks, ignoring DST;
    # converting to UTC first is what makes every difference here a real elapsed time.
    return require_aware(at, "instant").astimezone(UTC)


def _dates(first: date, last: date) -> Iterator[date]:
    for ordinal in range(first.toordinal(), last.toordinal() + 1):
        yield date.fromordinal(ordinal)


# -- from settings ------------------------------------------------------------------------


def years_around(year: int, before: int = 1, after: int = 1) -> range:
    """Years whose holidays a run needs: tickets from last year, due dates into next year."""
    return range(year - before, year + after + 1)


def parse_hours(hours: Mapping[str, str | None]) -> dict[int, Window | None]:
    """``{"mon": "09:00-17:00", "sat": None}`` to weekday numbers; absent days are closed.

    ``24:00`` (or ``00:00`` as a closing time) closes at midnight at the end of the day;
    ``None``, ``""`` and ``"closed"`` mean closed all day.
    """
    parsed: dict[int, Window | None] = {}
    for key, span in hours.items():
        name = key.strip().lower()
        if name in WEEKDAY_NAMES:
            weekday = WEEKDAY_NAMES.index(name)
        elif name in _FULL_WEEKDAY_NAMES:
            weekday = _FULL_WEEKDAY_NAMES.index(name)
        else:
            raise ValueError(f"hours.{key}: not a weekday; use {', '.join(WEEKDAY_NAMES)}")
        if span is None or span.strip().lower() in ("", "closed"):
            parsed[weekday] = None
            continue
        pieces = span.split("-")
        if len(pieces) != 2:
            raise ValueError(f"hours.{key}: {span!r} is not a span like '09:00-17:00'")
        opens = _parse_clock_time(pieces[0], key, span, closing=False)
        closes = _parse_clock_time(pieces[1], key, span, closing=True)
        if closes != END_OF_DAY and closes <= opens:
            raise ValueError(
                f"hours.{key}: {span!r} closes before it opens; overnight spans are not "
                "supported, split them over two days"
            )
        parsed[weekday] = (opens, closes)
    return parsed


def _parse_clock_time(text: str, key: str, span: str, *, closing: bool) -> time:
    cleaned = text.strip()
    if closing and cleaned == "24:00":
        return END_OF_DAY
    hour, _, minute = cleaned.partition(":")
    if not (cleaned.isascii() and hour.isdigit() and minute.isdigit()) or (
        len(minute) != 2 or len(hour) > 2
    ):
        raise ValueError(f"hours.{key}: {span!r} is not a span like '09:00-17:00'")
    if int(hour) > 23 or int(minute) > 59:
        raise ValueError(f"hours.{key}: {span!r} has a time that is not on the clock")
    return time(int(hour), int(minute))


def _closed(holidays: Iterable[date]) -> Set[date]:
    return holidays if isinstance(holidays, HolidayDates) else frozenset(holidays)


@lru_cache(maxsize=64)
def country_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """A country's (or subdivision's) holidays in ``year``, observed days included, from the
    ``holidays`` package; ValueError naming the country when the package does not know it."""
    import holidays as holiday_data  # imported here: loading it costs more than the rest of startup

    try:
        table = holiday_data.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError as error:
        where = f"{country}/{subdivision}" if subdivision else country
        raise ValueError(
            f"holidays: {where!r} is not known to the holidays package ({error}); "
            "use an ISO country code such as US and, optionally, a subdivision such as NY"
        ) from None
    return frozenset(table.keys())


def desk_calendar(
    settings: Settings, years: range | None = None, loader: HolidayLoader | None = None
) -> BusinessCalendar:
    """The desk's calendar as the settings describe it: ``calendar`` on ``desk.timezone``,
    with the holidays of ``years`` (2020-2040 when not given); see `calendar_from_settings`."""
    cal = settings.calendar
    return calendar_from_settings(
        tz_name=settings.desk.timezone,
        mode=cal.mode,
        hours=cal.hours,
        holiday_country=cal.holidays.country,
        holiday_subdivision=cal.holidays.subdivision,
        extra_holidays=cal.holidays.extra,
        years=years or range(2020, 2041),
        loader=loader,
    )


def calendar_from_settings(
    tz_name: str,
    mode: str,
    hours: Mapping[str, str | None],
    holiday_country: str | None,
    holiday_subdivision: str | None,
    extra_holidays: Iterable[date],
    years: range,
    loader: HolidayLoader | None = None,
) -> BusinessCalendar:
    """Build the calendar described by settings.yaml.

    `mode` is ``24x7`` or ``business`` (alias ``business_hours``). In 24x7 mode, `hours`
    only says which weekdays are business days (Monday-Friday when empty). Country
    holidays (from the ``holidays`` package, observed days included) are computed for
    `years` only — pass ``years_around(now.year)`` with the run's `now`; dates outside
    `years` are treated as ordinary days. Each year's are looked up (with ``loader``, by
    default `country_holidays`) when a date in it is first asked about, except the middle
    year of `years`, looked up now: a country or subdivision the package does not know is a
    ValueError here, not in the middle of a run.
    """
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"timezone {tz_name!r} is not an IANA timezone (e.g. America/New_York)"
        ) from None

    mode_key = mode.strip().lower()
    if mode_key not in _MODES_24X7 + _MODES_BUSINESS:
        raise ValueError(f"calendar mode {mode!r} is not known: use '24x7' or 'business'")

    closed: Set[date] = frozenset(extra_holidays)
    if holiday_country and len(years):
        dates = HolidayDates(
            closed,
            holiday_country.strip().upper(),
            holiday_subdivision or None,
            years,
            loader or country_holidays,
        )
        dates.year(years[len(years) // 2])
        closed = dates

    weekly = parse_hours(hours)
    if mode_key in _MODES_24X7:
        workdays = [day for day, span in weekly.items() if span is not None] if hours else range(5)
        return BusinessCalendar.twenty_four_seven(tz, holidays=closed, workdays=workdays)
    if not any(weekly.values()):
        raise ValueError("hours: a business-hours desk needs at least one open weekday")
    return BusinessCalendar.business(tz, weekly, holidays=closed)
