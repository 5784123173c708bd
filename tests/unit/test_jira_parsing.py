"""Jira JSON read into records: the shortcuts the parser takes give what the long way gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from jobs.adapters.jira.parsing import _when, parse_comment, parse_person
from jobs.model import Person


def test_the_same_person_twice_is_one_shared_record() -> None:
    raw = {"accountId": "acc-1", "displayName": "Maya Patel", "emailAddress": "maya@x.example"}
    first, second = parse_person(dict(raw)), parse_person(dict(raw))
    assert first == Person("acc-1", "Maya Patel", "maya@x.example", None)
    assert first is second
    assert parse_person({**raw, "displayName": "Maya P."}) == Person(
        "acc-1", "Maya P.", "maya@x.example", None
    )


def test_odd_values_in_a_person_read_as_absent_and_are_not_shared() -> None:
    assert parse_person({"accountId": ["acc-1"], "emailAddress": "a@x.example"}) == Person(
        None, None, "a@x.example", None
    )
    assert parse_person({"accountId": {"id": 1}, "displayName": "Nobody"}) is None
    assert parse_person({"accountId": "", "emailAddress": ""}) is None
    assert parse_person("acc-1") is None


def _comment(created: object, updated: object) -> dict[str, object]:
    return {"id": "1", "created": created, "updated": updated, "jsdPublic": True}


def test_a_comment_never_edited_is_updated_when_it_was_created() -> None:
    at = "2026-11-02T10:00:00.000+0000"
    comment = parse_comment(_comment(at, at))
    assert comment is not None
    assert comment.created == comment.updated == datetime(2026, 11, 2, 10, tzinfo=UTC)


def test_an_edited_comment_keeps_both_instants() -> None:
    comment = parse_comment(_comment("2026-11-02T10:00:00.000+0000", "2026-11-03T09:30:00Z"))
    assert comment is not None
    assert comment.created == datetime(2026, 11, 2, 10, tzinfo=UTC)
    assert comment.updated == datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


def test_a_comment_without_a_readable_creation_is_dated_1970_and_not_updated() -> None:
    for created, updated in (("garbage", "garbage"), (None, None), ("garbage", None)):
        comment = parse_comment(_comment(created, updated))
        assert comment is not None
        assert comment.created == datetime(1970, 1, 1, tzinfo=UTC)
        assert comment.updated is None


def _reference_when(text: str) -> datetime | None:
    """The long way: "Z" spelled as an offset first."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_OFFSETS = st.sampled_from(["Z", "+0000", "+00:00", "-0500", "+05:30", "", "z", "ZZ", "+25:00"])


@given(
    moment=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)),
    millis=st.booleans(),
    offset=_OFFSETS,
)
def test_jira_timestamps_read_as_the_long_way_reads_them(
    moment: datetime, millis: bool, offset: str
) -> None:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + (".123" if millis else "") + offset
    assert _when(text) == _reference_when(text)


@given(st.text(alphabet="0123456789-:T.+Zz ", max_size=30))
def test_any_text_reads_as_the_long_way_reads_it(text: str) -> None:
    assert _when(text) == _reference_when(text)


def test_an_offset_is_kept() -> None:
    assert _when("2026-11-02T10:00:00.000-0500") == datetime(
        2026, 11, 2, 10, tzinfo=timezone(timedelta(hours=-5))
    )
