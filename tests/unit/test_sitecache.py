"""The site cache: entries trusted for their time to live by the wall clock, forgotten on
request, handed to the ledger as updates; and the desk's holidays kept in it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from jobs import context
from jobs.calendar import country_holidays
from jobs.sitecache import SiteCache

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_an_entry_is_trusted_for_its_time_to_live_only() -> None:
    cache = SiteCache()
    cache.put("jira x fields", [1, 2], now=T0)

    assert cache.get("jira x fields", now=T0 + HOUR - timedelta(seconds=1), ttl=HOUR) == [1, 2]
    assert cache.get("jira x fields", now=T0 + HOUR, ttl=HOUR) is None
    assert cache.get("jira x fields", now=T0 - timedelta(seconds=1), ttl=HOUR) is None  # clock back
    assert cache.get("jira y fields", now=T0, ttl=HOUR) is None


def test_what_changed_goes_to_the_ledger_once_and_a_forgotten_entry_as_none() -> None:
    cache = SiteCache({"old": {"value": 1, "read_at": T0.isoformat()}, "odd": "not an entry"})
    cache.put("new", {"a": 1}, now=T0)
    cache.forget("old")

    assert cache.take_updates() == {
        "new": {"value": {"a": 1}, "read_at": T0.isoformat()},
        "old": None,
    }
    assert cache.take_updates() == {}
    assert cache.get("old", now=T0, ttl=HOUR) is None
    assert cache.get("odd", now=T0, ttl=HOUR) is None


def test_an_entry_without_a_readable_instant_is_not_trusted() -> None:
    cache = SiteCache({"a": {"value": 1, "read_at": "yesterday"}, "b": {"value": 2}})
    assert cache.get("a", now=T0, ttl=HOUR) is None
    assert cache.get("b", now=T0, ttl=HOUR) is None


def test_a_years_holidays_are_computed_once_and_then_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    computed: list[tuple[str, str | None, int]] = []

    def compute(country: str, subdivision: str | None, year: int) -> frozenset[date]:
        computed.append((country, subdivision, year))
        return country_holidays(country, subdivision, year)

    monkeypatch.setattr(context, "country_holidays", compute)
    cache = SiteCache()
    first = context.kept_holidays(cache)("US", None, 2026)
    kept = SiteCache(cache.take_updates())  # as the next run reads them from the ledger
    again = context.kept_holidays(kept)("US", None, 2026)

    assert computed == [("US", None, 2026)]
    assert again == first and date(2026, 11, 26) in again  # Thanksgiving
    assert kept.take_updates() == {}


def test_another_version_of_the_holidays_package_computes_them_afresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = SiteCache()
    context.kept_holidays(cache)("US", "NY", 2026)
    kept = SiteCache(cache.take_updates())
    monkeypatch.setattr(context, "_holidays_version", lambda: "99.0")

    context.kept_holidays(kept)("US", "NY", 2026)

    [(name, entry)] = kept.take_updates().items()
    assert name == "holidays US NY 2026" and entry is not None
    assert entry["value"]["package"] == "99.0"


def test_an_unknown_country_is_an_error_when_the_calendar_is_built() -> None:
    from jobs.calendar import calendar_from_settings

    with pytest.raises(ValueError, match="not known to the holidays package"):
        calendar_from_settings(
            "UTC", "24x7", {}, "XX", None, [], range(2025, 2028), context.kept_holidays(SiteCache())
        )
