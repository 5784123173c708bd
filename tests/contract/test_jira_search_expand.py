"""The search passes Jira's ``expand`` (the weekly SLA report asks for the changelog)."""

from __future__ import annotations

from typing import Any

ALL_SS = "project = SS ORDER BY key ASC"


def _search_bodies(emulator: Any) -> list[dict[str, Any]]:
    return [c.body for c in emulator.calls if c.path.endswith("/search/jql")]


def test_it_sends_expand_on_every_page(jira_adapter, jira_emulator) -> None:
    tickets = list(jira_adapter.search(ALL_SS, ["summary"], page_size=3, expand=("changelog",)))

    bodies = _search_bodies(jira_emulator)
    assert len(tickets) > 3 and len(bodies) >= 2
    assert all(b["expand"] == "changelog" for b in bodies)


def test_it_sends_no_expand_unless_asked(jira_adapter, jira_emulator) -> None:
    list(jira_adapter.search(ALL_SS, ["summary"], page_size=3))

    assert all("expand" not in b for b in _search_bodies(jira_emulator))
