"""A Jira site in another language: names translated, ids and ``untranslatedName`` not.

The emulator serves the contract desk with German names for the custom fields and issue
types (``site.translations``); the adapter must find its fields and create its tasks anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import requests

from emulators.fixtures import PEOPLE_FILE, load_desk
from emulators.jira import JiraEmulator
from jobs.adapters.http import CallCounter, PermanentError, RetryBudget
from jobs.adapters.jira import JiraAdapter
from tests.contract.conftest import JIRA_DESK, NOW

GERMAN = {
    "Organizations": "Organisationen",
    "Request Type": "Anfragetyp",
    "Time to first response": "Zeit bis zur ersten Antwort",
    "Configuration Date": "Konfigurationsdatum",
    "QA Due Date": "QA-Fälligkeitsdatum",
    "QA Assignee": "QA-Bearbeiter",
    "Channel": "Kanal",
    "Task": "Aufgabe",
    "Service Request": "Serviceanfrage",
}
SEARCH = r"/rest/api/3/search/jql$"


@pytest.fixture
def german_site(tmp_path: Any) -> Iterator[JiraEmulator]:
    site = tmp_path / "site.yaml"
    lines = ["site:", "  language: de", "  translations:"]
    lines += [f'    "{en}": "{de}"' for en, de in GERMAN.items()]
    site.write_text("\n".join(lines) + "\n", encoding="utf-8")
    emulator = JiraEmulator(load_desk([PEOPLE_FILE, JIRA_DESK, site], NOW), clock=lambda: NOW)
    emulator.start("127.0.0.1", 0)
    yield emulator
    emulator.stop()


def _adapter(emulator: JiraEmulator, **kwargs: Any) -> JiraAdapter:
    return JiraAdapter(
        emulator.url,
        emulator.email,
        emulator.token,
        counter=CallCounter(),
        budget=RetryBudget(total_seconds=5, sleep=lambda _s: None),
        timeout=5.0,
        **kwargs,
    )


def test_the_site_shows_translated_names_and_keeps_the_english_ones(german_site) -> None:
    fields = requests.get(
        german_site.url + "/rest/api/2/field",
        auth=(german_site.email, german_site.token),
        timeout=5,
    ).json()

    organizations = next(f for f in fields if f["id"] == "customfield_10002")
    assert (organizations["name"], organizations["untranslatedName"]) == (
        "Organisationen",
        "Organizations",
    )


def test_it_finds_custom_fields_by_their_untranslated_names(german_site) -> None:
    adapter = _adapter(german_site)

    (ticket,) = adapter.search(
        'key = "SS-1"', ["Organizations", "Request Type", "Channel", "issuetype"]
    )

    body = german_site.calls_to(SEARCH, "POST")[0].body
    assert {"customfield_10002", "customfield_10010", "customfield_10043"} <= set(body["fields"])
    assert ticket.organizations == ("Sunrise Solar Co",)
    assert ticket.request_type == "Company-specific Data Change"
    assert ticket.channel == ("Email",)
    # Rules compare issue types with "Service Request" / "Task": the English name is kept.
    assert ticket.issue_type == "Service Request"


def test_a_configured_field_id_wins_over_every_name(german_site) -> None:
    # A site where "Configuration Date" was renamed: the configured id is the one asked for.
    adapter = _adapter(german_site, configured_fields={"Configuration Date": "customfield_10041"})

    (ticket,) = adapter.search('key = "CS-1"', ["Configuration Date"])

    assert "customfield_10041" in german_site.calls_to(SEARCH, "POST")[0].body["fields"]
    assert "customfield_10040" not in german_site.calls_to(SEARCH, "POST")[0].body["fields"]
    assert ticket.configuration_date == date(2026, 11, 5)  # the QA Due Date field's value


def test_a_configured_field_id_the_site_lacks_is_named_before_searching(german_site) -> None:
    adapter = _adapter(german_site, configured_fields={"Organizations": "customfield_99999"})

    with pytest.raises(PermanentError, match=r"jira\.fields\.Organizations: customfield_99999"):
        adapter.search('key = "SS-1"', ["Organizations"])

    assert german_site.calls_to(SEARCH) == []


def test_a_create_sends_the_issue_type_id_looked_up_by_its_english_name(german_site) -> None:
    adapter = _adapter(german_site)

    key = adapter.create_issue(
        {
            "project": "CS",
            "issuetype": "Task",
            "summary": "A task",
            "QA Due Date": date(2026, 11, 6),
        }
    )

    (create,) = german_site.calls_to(r"/rest/api/2/issue$", "POST")
    task_id = create.body["fields"]["issuetype"]["id"]
    assert german_site.issue(key).issuetype == "Task"
    assert german_site.issue(key).qa_due_date == date(2026, 11, 6)
    assert len(german_site.calls_to(r"/issue/createmeta/CS/issuetypes$")) == 1
    # The lookup is made once per project and adapter.
    adapter.create_issue({"project": "CS", "issuetype": "Task", "summary": "Another"})
    assert len(german_site.calls_to(r"/issue/createmeta/CS/issuetypes$")) == 1
    assert german_site.calls_to(r"/rest/api/2/issue$", "POST")[-1].body["fields"]["issuetype"] == {
        "id": task_id
    }


def test_an_issue_type_by_its_english_name_alone_is_refused_there(german_site) -> None:
    # What the adapter used to send: Jira knows the type only as "Aufgabe" on this site.
    answer = requests.post(
        german_site.url + "/rest/api/2/issue",
        auth=(german_site.email, german_site.token),
        json={"fields": {"project": {"key": "CS"}, "issuetype": {"name": "Task"}, "summary": "x"}},
        timeout=5,
    )

    assert answer.status_code == 400
    assert "issuetype" in answer.json()["errors"]


def test_a_search_that_saw_the_issue_type_spares_the_lookup(german_site) -> None:
    adapter = _adapter(german_site)
    list(adapter.search('project = "CS"', ["issuetype"]))

    adapter.create_issue({"project": "CS", "issuetype": "Task", "summary": "A task"})

    assert german_site.calls_to(r"/createmeta/") == []


def test_a_configured_issue_type_id_needs_no_lookup(german_site) -> None:
    task_id = german_site._type_id("Task")
    adapter = _adapter(german_site, issue_types={"Task": task_id})

    adapter.create_issue({"project": "CS", "issuetype": "Task", "summary": "A task"})

    assert german_site.calls_to(r"/createmeta/") == []
    body = german_site.calls_to(r"/rest/api/2/issue$", "POST")[0].body
    assert body["fields"]["issuetype"] == {"id": task_id}


def test_an_issue_type_the_project_lacks_names_what_it_offers(german_site) -> None:
    adapter = _adapter(german_site)

    with pytest.raises(PermanentError, match="CS has no issue type 'Bug'.*offers Task"):
        adapter.create_issue({"project": "CS", "issuetype": "Bug", "summary": "x"})

    assert german_site.calls_to(r"/rest/api/2/issue$", "POST") == []
