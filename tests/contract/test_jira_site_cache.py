"""The Jira adapter with the site cache (`jobs.sitecache`): what earlier runs read of the site
(its field list, its server info) is not read again, and a field Jira does not know is looked
up afresh at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from emulators.jira import JiraEmulator
from jobs.adapters.http import CallCounter, RetryBudget
from jobs.adapters.jira import JiraAdapter
from jobs.adapters.jira.client import FIELDS_TTL
from jobs.sitecache import SiteCache
from tests.contract.conftest import NOW

SEARCH = r"/rest/api/3/search/jql$"
ONE = 'key = "SS-1"'


def _adapter(emulator: JiraEmulator, cache: SiteCache, wall: datetime) -> JiraAdapter:
    return JiraAdapter(
        emulator.url,
        emulator.email,
        emulator.token,
        counter=CallCounter(),
        budget=RetryBudget(sleep=lambda _s: None),
        cache=cache,
        clock=lambda: wall,
    )


def _paths(emulator: JiraEmulator, since: int = 0) -> list[str]:
    return [c.path for c in emulator.calls[since:]]


def _kept(cache: SiteCache) -> dict[str, Any]:
    """What the adapter asked to keep, by the last word of its name (fields, server_info)."""
    return {name.rsplit(" ", 1)[-1]: entry for name, entry in cache.take_updates().items()}


def test_a_run_with_the_site_in_its_ledger_reads_neither_field_list_nor_server_info(
    jira_emulator: JiraEmulator,
) -> None:
    wall = datetime(2026, 12, 1, tzinfo=UTC)
    first = SiteCache()
    [ticket] = _adapter(jira_emulator, first, wall).search(ONE, ["Organizations"])
    kept = _kept(first)
    assert _paths(jira_emulator) == [
        "/rest/api/2/serverInfo",
        "/rest/api/2/field",
        "/rest/api/3/search/jql",
    ]
    assert set(kept) == {"fields", "server_info"}

    later = SiteCache({f"jira {jira_emulator.url} {k}": v for k, v in kept.items()})
    mark = len(jira_emulator.calls)
    adapter = _adapter(jira_emulator, later, wall + FIELDS_TTL - timedelta(minutes=1))
    [again] = adapter.search(ONE, ["Organizations"])

    assert _paths(jira_emulator, mark) == ["/rest/api/3/search/jql"]
    assert again.organizations == ticket.organizations == ("Sunrise Solar Co",)
    assert later.take_updates() == {}


def test_a_field_list_older_than_its_time_to_live_is_read_again(
    jira_emulator: JiraEmulator,
) -> None:
    wall = datetime(2026, 12, 1, tzinfo=UTC)
    first = SiteCache()
    list(_adapter(jira_emulator, first, wall).search(ONE, ["Organizations"]))
    kept = _kept(first)
    later = SiteCache({f"jira {jira_emulator.url} {k}": v for k, v in kept.items()})
    mark = len(jira_emulator.calls)

    list(_adapter(jira_emulator, later, wall + FIELDS_TTL).search(ONE, ["Organizations"]))

    assert _paths(jira_emulator, mark) == [
        "/rest/api/2/serverInfo",
        "/rest/api/2/field",
        "/rest/api/3/search/jql",
    ]


def test_a_field_the_cached_list_lacks_is_looked_up_afresh(jira_emulator: JiraEmulator) -> None:
    wall = datetime(2026, 12, 1, tzinfo=UTC)
    first = SiteCache()
    list(_adapter(jira_emulator, first, wall).search(ONE, ["summary"]))
    kept = _kept(first)
    fields = [f for f in kept["fields"]["value"] if f.get("name") != "Channel"]
    stale = {**kept, "fields": {**kept["fields"], "value": fields}}
    later = SiteCache({f"jira {jira_emulator.url} {k}": v for k, v in stale.items()})
    mark = len(jira_emulator.calls)

    [ticket] = _adapter(jira_emulator, later, wall).search(ONE, ["Channel"])

    assert _paths(jira_emulator, mark) == ["/rest/api/2/field", "/rest/api/3/search/jql"]
    assert ticket.channel == ("Email",)
    assert "fields" in {k.rsplit(" ", 1)[-1] for k in later.take_updates()}


def test_a_field_id_jira_no_longer_knows_is_asked_for_again_by_its_new_id(
    jira_emulator: JiraEmulator,
) -> None:
    wall = datetime(2026, 12, 1, tzinfo=UTC)
    first = SiteCache()
    list(_adapter(jira_emulator, first, wall).search(ONE, ["summary"]))
    kept = _kept(first)
    fields = [
        {**f, "id": "customfield_99999", "key": "customfield_99999"}
        if f.get("name") == "Organizations"
        else f
        for f in kept["fields"]["value"]
    ]
    stale = {**kept, "fields": {**kept["fields"], "value": fields}}
    later = SiteCache({f"jira {jira_emulator.url} {k}": v for k, v in stale.items()})
    mark = len(jira_emulator.calls)

    [ticket] = _adapter(jira_emulator, later, wall).search(ONE, ["Organizations"])

    assert _paths(jira_emulator, mark) == [
        "/rest/api/3/search/jql",  # asked with the old id: Jira leaves the field out
        "/rest/api/2/field",
        "/rest/api/3/search/jql",
    ]
    searches = [c.body for c in jira_emulator.calls[mark:] if c.path.endswith("/search/jql")]
    assert "customfield_99999" in searches[0]["fields"]
    assert "customfield_99999" not in searches[1]["fields"]
    assert ticket.organizations == ("Sunrise Solar Co",)


def test_a_search_tells_jiras_clock(jira_adapter: JiraAdapter) -> None:
    assert jira_adapter.search_clock is None
    list(jira_adapter.search(ONE, ["summary"]))
    assert jira_adapter.search_clock == NOW
