from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.durations import MAX_DAYS, Duration, DurationField, parse_duration
from jobs.sections import Section, SectionError


@pytest.mark.parametrize(
    ("text", "expected", "canonical"),
    [
        ("2h", Duration(wall=timedelta(hours=2)), "2h"),
        ("30m", Duration(wall=timedelta(minutes=30)), "30m"),
        ("45s", Duration(wall=timedelta(seconds=45)), "45s"),
        ("1h30m", Duration(wall=timedelta(minutes=90)), "1h30m"),
        ("90m", Duration(wall=timedelta(minutes=90)), "1h30m"),
        ("3d", Duration(wall=timedelta(days=3)), "3d"),
        ("1w", Duration(wall=timedelta(days=7)), "7d"),
        ("1w2d3h4m5s", Duration(wall=timedelta(days=9, hours=3, minutes=4, seconds=5)), "9d3h4m5s"),
        ("30m1h", Duration(wall=timedelta(minutes=90)), "1h30m"),
        ("0m", Duration(), "0m"),
        ("0s", Duration(), "0m"),
        ("3bd", Duration(business_days=3), "3bd"),
        ("3BD", Duration(business_days=3), "3bd"),
        ("2H", Duration(wall=timedelta(hours=2)), "2h"),
        ("  1 h 30 m  ", Duration(wall=timedelta(minutes=90)), "1h30m"),
        ("\t3 bd\n", Duration(business_days=3), "3bd"),
        ("400d", Duration(wall=timedelta(days=400)), "400d"),
        ("24h", Duration(wall=timedelta(days=1)), "1d"),
    ],
)
def test_it_parses_durations_and_prints_them_canonically(
    text: str, expected: Duration, canonical: str
) -> None:
    parsed = parse_duration(text)

    assert parsed == expected
    assert str(parsed) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty value"),
        ("   ", "empty value"),
        ("30", "has no unit"),
        ("2x", "unknown unit 'x'"),
        ("2 hours", "unknown unit 'hours'"),
        ("-2h", "negative"),
        ("h", "is not a duration"),
        ("1.5h", "is not a duration"),
        ("2h-", "is not a duration"),
        ("+2h", "is not a duration"),
        ("1h1h", "gives 'h' twice"),
        ("3bd2h", "mixes business days"),
        ("2h3bd", "mixes business days"),
        (f"{MAX_DAYS + 1}d", "longer than"),
        (f"{MAX_DAYS + 1}bd", "longer than"),
        ("99999999999999999999h", "longer than"),
        ("٣h", "is not a duration"),
    ],
)
def test_it_refuses_text_that_is_not_a_duration(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


def test_it_tells_the_operator_which_units_are_accepted() -> None:
    with pytest.raises(ValueError) as raised:
        parse_duration("2x")

    assert str(raised.value) == (
        "'2x' has an unknown unit 'x': use a number and a unit: s, m, h, d, w, or bd "
        "(business days), e.g. 2h, 30m, 1h30m, 3bd"
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"wall": timedelta(hours=-1)},
        {"business_days": -1},
        {"wall": timedelta(hours=1), "business_days": 1},
        {"wall": timedelta(milliseconds=1)},
    ],
)
def test_it_refuses_durations_that_cannot_be_written_down(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Duration(**kwargs)  # type: ignore[arg-type]


def test_it_tells_business_days_from_wall_time() -> None:
    assert parse_duration("3bd").is_business
    assert not parse_duration("3d").is_business
    assert not parse_duration("0bd").is_business


class _Thresholds(Section):
    first_response: DurationField = parse_duration("2h")
    due: DurationField = parse_duration("3bd")


def test_it_validates_durations_in_settings_models() -> None:
    model = _Thresholds.model_validate(
        {"first_response": "1h30m", "due": Duration(business_days=2)}
    )

    assert model.first_response == Duration(wall=timedelta(minutes=90))
    assert model.due == Duration(business_days=2)
    written = {"first_response": str(model.first_response), "due": str(model.due)}
    assert written == {"first_response": "1h30m", "due": "2bd"}
    assert _Thresholds.model_validate(written) == model


def test_it_accepts_a_timedelta_in_settings_models() -> None:
    assert _Thresholds(first_response=timedelta(minutes=5)).first_response == parse_duration("5m")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2x", "unknown unit"),
        (30, "30 has no unit"),
        (None, "is not a duration"),
        (True, "not a duration"),
    ],
)
def test_it_reports_bad_durations_as_validation_errors_on_the_key(
    value: object, message: str
) -> None:
    with pytest.raises(SectionError) as raised:
        _Thresholds.model_validate({"first_response": value})

    error = raised.value.errors()[0]
    assert error["loc"] == ("first_response",)
    assert message in error["msg"]


def test_a_duration_setting_is_read_as_a_duration_field() -> None:
    """The settings' field type is the `Duration` itself: the checks that walk the settings
    (every duration has a range) find it by that type."""
    field = _Thresholds.model_fields["first_response"]

    assert field.annotation is Duration
    assert field.default == parse_duration("2h")


wall_durations = st.integers(min_value=0, max_value=MAX_DAYS * 86400).map(
    lambda seconds: Duration(wall=timedelta(seconds=seconds))
)
business_durations = st.integers(min_value=0, max_value=MAX_DAYS).map(
    lambda days: Duration(business_days=days)
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(wall_durations, business_durations))
def test_it_reads_back_what_it_prints(duration: Duration) -> None:
    assert parse_duration(str(duration)) == duration


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["w", "d", "h", "m", "s"]),
        st.integers(min_value=0, max_value=50),
        min_size=1,
    ),
    st.sampled_from(["", " "]),
    st.booleans(),
)
def test_it_adds_up_the_units_it_is_given(
    counts: dict[str, int], separator: str, upper: bool
) -> None:
    text = separator.join(f"{count}{unit}" for unit, count in counts.items())
    seconds = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}

    parsed = parse_duration(text.upper() if upper else text)

    assert parsed.wall == timedelta(seconds=sum(seconds[u] * c for u, c in counts.items()))


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.text(alphabet="0123456789smhdwbSMHDWB -+.x\t"),
    )
)
def test_it_raises_only_value_errors_on_arbitrary_text(text: str) -> None:
    try:
        parsed = parse_duration(text)
    except ValueError:
        return
    assert isinstance(parsed, Duration)
    assert parse_duration(str(parsed)) == parsed
