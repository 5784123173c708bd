from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from jobs.clock import Clock, FixedClock, SystemClock, parse_instant, require_aware

NEW_YORK = ZoneInfo("America/New_York")


def test_it_gives_the_system_time_as_aware_utc() -> None:
    now = SystemClock().now()

    assert now.tzinfo is UTC


def test_it_keeps_a_fixed_time_until_moved() -> None:
    at = datetime(2026, 11, 23, 9, tzinfo=NEW_YORK)
    clock = FixedClock(at)

    assert clock.now() == at
    assert clock.now() == at


def test_it_moves_a_fixed_clock_forward_and_to_a_new_time() -> None:
    clock = FixedClock(datetime(2026, 11, 23, 9, tzinfo=NEW_YORK))

    assert clock.advance(timedelta(hours=2)) == datetime(2026, 11, 23, 11, tzinfo=NEW_YORK)
    assert clock.now() == datetime(2026, 11, 23, 16, tzinfo=UTC)

    later = datetime(2026, 12, 1, tzinfo=UTC)
    assert clock.set(later) == later
    assert clock.now() == later


def test_it_refuses_naive_times_for_a_fixed_clock() -> None:
    with pytest.raises(ValueError, match="no timezone"):
        FixedClock(datetime(2026, 11, 23, 9))

    clock = FixedClock(datetime(2026, 11, 23, 9, tzinfo=UTC))
    with pytest.raises(ValueError, match="no timezone"):
        clock.set(datetime(2026, 11, 23, 10))
    assert clock.now() == datetime(2026, 11, 23, 9, tzinfo=UTC)


def test_it_satisfies_the_clock_protocol() -> None:
    assert isinstance(SystemClock(), Clock)
    assert isinstance(FixedClock(datetime(2026, 1, 1, tzinfo=UTC)), Clock)


def test_it_passes_aware_times_through_require_aware() -> None:
    at = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-5)))

    assert require_aware(at) is at


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T09:00:00-05:00", datetime(2026, 11, 23, 14, tzinfo=UTC)),
        ("2026-11-23T14:00:00Z", datetime(2026, 11, 23, 14, tzinfo=UTC)),
        ("2026-11-23T14:00:00+00:00", datetime(2026, 11, 23, 14, tzinfo=UTC)),
        ("  2026-11-23T14:00Z ", datetime(2026, 11, 23, 14, tzinfo=UTC)),
        ("2026-11-23T15:30:00.250+01:30", datetime(2026, 11, 23, 14, 0, 0, 250000, tzinfo=UTC)),
    ],
)
def test_it_parses_instants_with_an_offset(text: str, expected: datetime) -> None:
    parsed = parse_instant(text)

    assert parsed == expected
    assert parsed.utcoffset() is not None


@pytest.mark.parametrize("text", ["2026-11-23T09:00:00", "2026-11-23"])
def test_it_refuses_instants_without_an_offset(text: str) -> None:
    with pytest.raises(ValueError, match=r"--now must include a timezone offset, e\.g\."):
        parse_instant(text)


@pytest.mark.parametrize("text", ["", "tomorrow", "2026-13-01T00:00Z", "23/11/2026 09:00"])
def test_it_refuses_text_that_is_not_an_instant(text: str) -> None:
    with pytest.raises(ValueError, match="not an ISO 8601 date and time"):
        parse_instant(text)


def test_it_names_the_option_in_instant_errors() -> None:
    with pytest.raises(ValueError, match="^since must include"):
        parse_instant("2026-11-23T09:00", option="since")
