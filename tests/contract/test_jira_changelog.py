"""A ticket's changelog: the adapter asks for it (expand=changelog) and parses it oldest first;
the emulator records every change it applies and serves fixture-given history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from emulators.jira import JiraEmulator
from jobs.adapters.jira import JiraAdapter
from tests.contract.conftest import NOW

SEARCH = r"/rest/api/3/search/jql$"
ALL_SS = 'project = "SS" ORDER BY key'
CREATED = "2026-11-02T10:00:00.000+0000"


def _issue(key: str = "SS-1", **fields: Any) -> dict[str, Any]:
    return {"id": "1", "key": key, "fields": {"summary": "x", "created": CREATED, **fields}}


# -- the changelog (expand=changelog) ----------------------------------------------------------


def test_it_asks_for_the_changelog_as_a_string_and_parses_it_oldest_first(
    jira_adapter: JiraAdapter, jira_emulator: JiraEmulator
) -> None:
    histories = [
        {
            "id": "102",
            "author": {"accountId": "acc-maya-patel", "displayName": "Maya Patel"},
            "created": "2026-11-02T12:00:00.000+0000",
            "items": [
                {
                    "field": "status",
                    "fieldtype": "jira",
                    "fieldId": "status",
                    "from": "1",
                    "fromString": "Open",
                    "to": "3",
                    "toString": "In Progress",
                }
            ],
        },
        {
            "id": "101",
            "created": "2026-11-02T11:00:00.000+0000",
            "items": [
                {
                    "field": "assignee",
                    "fieldtype": "jira",
                    "fieldId": "assignee",
                    "from": None,
                    "fromString": None,
                    "to": "acc-maya-patel",
                    "toString": "Maya Patel",
                },
                {
                    "field": "Organisationen",
                    "fieldtype": "custom",
                    "fieldId": "customfield_10002",
                    "fromString": "",
                    "toString": "Sunrise Solar Co",
                },
            ],
        },
    ]
    issue = _issue()
    issue["changelog"] = {"startAt": 0, "maxResults": 2, "total": 2, "histories": histories}
    jira_emulator.inject(SEARCH, status=200, body={"issues": [issue], "isLast": True})

    (ticket,) = jira_adapter.search(ALL_SS, ["summary"], expand=["changelog", "changelog"])

    assert jira_emulator.calls_to(SEARCH)[0].body["expand"] == "changelog"
    assert [(c.field, c.from_value, c.to_value, c.to_id) for c in ticket.changes] == [
        ("assignee", None, "Maya Patel", "acc-maya-patel"),
        ("Organizations", None, "Sunrise Solar Co", None),
        ("status", "Open", "In Progress", "3"),
    ]
    assert ticket.changes[2].author is not None
    assert ticket.changes[2].author.display_name == "Maya Patel"
    assert ticket.changes[0].at == datetime.fromisoformat("2026-11-02T11:00:00+00:00")


def test_without_expand_there_is_no_changelog(jira_adapter: JiraAdapter, jira_emulator) -> None:
    (ticket,) = jira_adapter.search('key = "SS-1"', ["summary"])

    assert "expand" not in jira_emulator.calls_to(SEARCH)[0].body
    assert ticket.changes == ()


def test_a_changelog_the_search_cut_short_is_read_whole(
    jira_adapter: JiraAdapter, jira_emulator: JiraEmulator
) -> None:
    for n in range(150):
        jira_emulator.advance(timedelta(minutes=1))
        jira_adapter.add_labels("SS-5", [f"step-{n}"])
    jira_emulator.calls.clear()

    (ticket,) = jira_adapter.search('key = "SS-5"', ["summary"], expand=["changelog"])

    labels = [c for c in ticket.changes if c.field == "labels"]
    assert len(labels) == 150
    assert labels[0].to_value == "step-0" and labels[-1].to_value.endswith("step-149")
    assert len(jira_emulator.calls_to(r"/issue/SS-5/changelog$", "GET")) == 2
    assert [c.at for c in ticket.changes] == sorted(c.at for c in ticket.changes)
    assert ticket.changes[-1].at == NOW + timedelta(minutes=150)


# -- the emulator keeps a changelog ------------------------------------------------------------


@pytest.fixture
def history_desk(tmp_path: Any) -> Any:
    from emulators.fixtures import PEOPLE_FILE, load_desk
    from tests.contract.conftest import JIRA_DESK

    extra = tmp_path / "history.yaml"
    extra.write_text(
        """
tickets:
  - key: SS-60
    summary: Billing question
    status: In Progress
    created: -2d
    reporter: omar.haddad@brightpath.example
    assignee: Maya Patel
    priority: High
    history:
      - {at: -1d, field: status, from: Open, to: In Progress, by: Maya Patel}
      - {at: -2d 1h, field: assignee, to: Priya Nair}
      - {at: -1d 2h, field: assignee, to: Maya Patel, by: Priya Nair}
      - {at: -1d 3h, field: Organizations, to: [Sunrise Solar Co]}
""",
        encoding="utf-8",
    )
    emulator = JiraEmulator(load_desk([PEOPLE_FILE, JIRA_DESK, extra], NOW), clock=lambda: NOW)
    emulator.start()
    yield emulator
    emulator.stop()


def _history_adapter(emulator: JiraEmulator) -> JiraAdapter:
    from jobs.adapters.http import CallCounter, RetryBudget

    return JiraAdapter(
        emulator.url,
        emulator.email,
        emulator.token,
        counter=CallCounter(),
        budget=RetryBudget(total_seconds=5, sleep=lambda _s: None),
        timeout=5.0,
    )


def test_a_fixture_history_is_served_as_the_changelog(history_desk: JiraEmulator) -> None:
    adapter = _history_adapter(history_desk)

    (ticket,) = adapter.search('key = "SS-60"', ["summary"], expand=["changelog"])

    assert [(c.field, c.from_value, c.to_value, c.to_id) for c in ticket.changes] == [
        ("assignee", None, "Priya Nair", "acc-priya-nair"),
        ("Organizations", None, "Sunrise Solar Co", history_desk._orgs["Sunrise Solar Co"]),
        ("assignee", "Priya Nair", "Maya Patel", "acc-maya-patel"),
        ("status", "Open", "In Progress", history_desk._status_id("In Progress")),
    ]
    assert ticket.changes[0].at == NOW - timedelta(days=2, hours=1)
    assert ticket.changes[0].author is None
    assert ticket.changes[2].author is not None
    assert ticket.changes[2].author.account_id == "acc-priya-nair"
    page = history_desk.calls_to(SEARCH)[0]
    assert page.body["expand"] == "changelog"


def test_edits_transitions_and_links_are_recorded_as_they_happen(
    history_desk: JiraEmulator,
) -> None:
    adapter = _history_adapter(history_desk)
    history_desk.advance(timedelta(minutes=5))
    adapter.edit("SS-60", {"assignee": "acc-jordan-reyes"})
    history_desk.advance(timedelta(minutes=5))
    adapter.add_labels("SS-60", ["EB"])
    adapter.set_priority("SS-60", "Highest")
    history_desk.advance(timedelta(minutes=5))
    adapter.transition("SS-60", "Resolved")
    adapter.link(inward_key="SS-60", outward_key="SS-1", link_type="Duplicate")

    (ticket,) = adapter.search('key = "SS-60"', ["summary"], expand=["changelog"])

    recent = [
        (c.field, c.from_value, c.to_value) for c in ticket.changes if c.at > NOW - timedelta(1)
    ]
    assert (
        recent[-7:]
        == [
            ("assignee", "Maya Patel", "Jordan Reyes"),
            ("labels", None, "EB"),
            ("priority", "High", "Highest"),
            ("status", "In Progress", "Resolved"),
            ("resolution", None, "Done"),
            ("Link", None, "This issue duplicates SS-1"),
        ][-7:]
    )
    automation = history_desk.email
    assert all(c.author is not None and c.author.email == automation for c in ticket.changes[-6:])
    other_end = adapter.changes("SS-1")
    assert [(c.field, c.to_value) for c in other_end] == [
        ("Link", "This issue is duplicated by SS-60")
    ]


def test_a_new_issue_has_no_history_and_a_search_without_expand_no_changelog(
    history_desk: JiraEmulator,
) -> None:
    adapter = _history_adapter(history_desk)
    key = adapter.create_issue({"project": "CS", "issuetype": "Task", "summary": "x"})

    assert adapter.changes(key) == ()
    raw = history_desk.calls_to(SEARCH)
    assert raw == []
    (ticket,) = adapter.search(f'key = "{key}"', ["summary"])
    assert ticket.changes == ()


def test_a_fixture_history_may_name_people_by_first_name(tmp_path: Any) -> None:
    from emulators.fixtures import PEOPLE_FILE, FixtureError, load_desk
    from tests.contract.conftest import JIRA_DESK

    extra = tmp_path / "history.yaml"
    extra.write_text(
        "tickets:\n"
        "  - key: SS-61\n"
        "    summary: x\n"
        "    created: -1d\n"
        "    history: [{at: -3h, field: assignee, to: maya}]\n",
        encoding="utf-8",
    )
    desk = load_desk([PEOPLE_FILE, JIRA_DESK, extra], NOW)
    (ticket,) = [t for t in desk["tickets"] if t["key"] == "SS-61"]
    assert ticket["history"][0]["to"] == "acc-maya-patel"
    assert ticket["history"][0]["at"] == NOW - timedelta(hours=3)

    extra.write_text(extra.read_text().replace("to: maya", "to: nobody"), encoding="utf-8")
    with pytest.raises(FixtureError, match=r"history\[0\]\.to: unknown user 'nobody'"):
        load_desk([PEOPLE_FILE, JIRA_DESK, extra], NOW)


@pytest.mark.parametrize(
    "entry, message",
    [
        ("{at: -1h, field: color, to: red}", "'color' is not a field with a history"),
        ("{at: -1h, field: status, to: Nowhere}", "'Nowhere' is not a SS status"),
        ("{at: yesterday, field: status, to: Open}", "is not a time"),
        ("{at: -1h, field: status, to: Open, when: now}", "unknown key"),
    ],
)
def test_a_bad_history_entry_names_its_place(tmp_path: Any, entry: str, message: str) -> None:
    from emulators.fixtures import PEOPLE_FILE, FixtureError, load_desk
    from tests.contract.conftest import JIRA_DESK

    extra = tmp_path / "history.yaml"
    extra.write_text(
        f"tickets:\n  - key: SS-62\n    summary: x\n    history: [{entry}]\n", encoding="utf-8"
    )

    with pytest.raises(FixtureError, match=message):
        load_desk([PEOPLE_FILE, JIRA_DESK, extra], NOW)
