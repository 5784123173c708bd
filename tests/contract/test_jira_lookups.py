"""Lookups the adapter makes on the way to a write: people, organizations, request types,
and issue properties."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from emulators.fixtures import PEOPLE_FILE, load_desk
from emulators.jira import JiraEmulator
from jobs.adapters.http import CallCounter, PermanentError, RetryBudget
from jobs.adapters.jira import JiraAdapter
from tests.contract.conftest import JIRA_DESK, NOW

USER_SEARCH = r"/rest/api/2/user/search$"


def _adapter(emulator: JiraEmulator) -> JiraAdapter:
    return JiraAdapter(
        emulator.url,
        emulator.email,
        emulator.token,
        counter=CallCounter(),
        budget=RetryBudget(total_seconds=5, sleep=lambda _s: None),
        timeout=5.0,
    )


@pytest.fixture
def private_desk(tmp_path: Any) -> Iterator[JiraEmulator]:
    """Two agents whose profiles hide their email addresses, and a customer whose display
    name is an address (customers' often are)."""
    extra = tmp_path / "private.yaml"
    extra.write_text(
        "users:\n"
        "  - {account_id: acc-sam-ortiz, display_name: Sam Ortiz,"
        " email: sam.ortiz@goeverbright.example, hide_email: true}\n"
        "  - {account_id: acc-sam-lee, display_name: Sam Lee,"
        " email: sam.lee@goeverbright.example, hide_email: true}\n"
        "  - {account_id: acc-ops, display_name: Operations,"
        " email: ops@goeverbright.example, hide_email: true}\n"
        "  - {account_id: qm-ops, display_name: ops@goeverbright.example,"
        " email: ops-desk@partner.example, kind: customer}\n",
        encoding="utf-8",
    )
    emulator = JiraEmulator(load_desk([PEOPLE_FILE, JIRA_DESK, extra], NOW), clock=lambda: NOW)
    emulator.start()
    yield emulator
    emulator.stop()


# -- people ------------------------------------------------------------------------------------


def test_a_hidden_email_is_no_match_not_the_first_person_found(private_desk) -> None:
    adapter = _adapter(private_desk)

    found = adapter.find_user("sam.ortiz@goeverbright.example")

    # The search found Sam Ortiz (the address still matches), but Jira did not show it.
    (call,) = private_desk.calls_to(USER_SEARCH)
    assert call.query["query"] == ["sam.ortiz@goeverbright.example"]
    assert found is None


def test_a_display_name_that_reads_like_the_email_is_not_that_person(private_desk) -> None:
    # Searching the agents' shared address finds a customer named after it: not them.
    assert _adapter(private_desk).find_user("ops@goeverbright.example") is None


def test_a_visible_email_is_matched_exactly(jira_adapter) -> None:
    person = jira_adapter.find_user("David.Ellis@goeverbright.example ")

    assert person is not None and person.account_id == "acc-david-ellis"


def test_a_name_matches_a_display_name_or_the_only_person_found(private_desk) -> None:
    adapter = _adapter(private_desk)

    exact = adapter.find_user("sam ortiz")
    unique = adapter.find_user("Ortiz")
    ambiguous = adapter.find_user("Sam")

    assert exact is not None and exact.account_id == "acc-sam-ortiz"
    assert exact.email is None  # hidden: the answer does not carry it
    assert unique is not None and unique.account_id == "acc-sam-ortiz"
    assert ambiguous is None


def test_a_user_field_given_a_hidden_email_is_refused_not_guessed(private_desk) -> None:
    adapter = _adapter(private_desk)

    with pytest.raises(PermanentError, match="no Jira account for 'sam.lee@goeverbright"):
        adapter.edit("CS-1", {"QA Assignee": "sam.lee@goeverbright.example"})

    assert private_desk.calls_to(r"/issue/CS-1$", "PUT") == []


# -- organizations -----------------------------------------------------------------------------


@pytest.fixture
def many_orgs(tmp_path: Any) -> Iterator[JiraEmulator]:
    extra = tmp_path / "orgs.yaml"
    extra.write_text(
        "organizations:\n" + "".join(f"  - Installer {n:03d}\n" for n in range(1, 121)),
        encoding="utf-8",
    )
    emulator = JiraEmulator(load_desk([PEOPLE_FILE, JIRA_DESK, extra], NOW), clock=lambda: NOW)
    emulator.start()
    yield emulator
    emulator.stop()


def test_organizations_are_listed_page_by_page_once(many_orgs) -> None:
    adapter = _adapter(many_orgs)

    adapter.edit("SS-8", {"Organizations": ["installer 117"]})
    adapter.edit("SS-7", {"Organizations": ["Installer 002", "Sunrise Solar Co"]})

    pages = many_orgs.calls_to(r"/rest/servicedeskapi/organization$", "GET")
    assert [p.query["start"] for p in pages] == [["0"], ["50"], ["100"]]
    assert many_orgs.issue("SS-8").organizations == ["Installer 117"]
    assert many_orgs.issue("SS-7").organizations == ["Installer 002", "Sunrise Solar Co"]


def test_an_organization_jsm_does_not_have_is_named(jira_adapter, jira_emulator) -> None:
    with pytest.raises(PermanentError, match="no Service Management organization named 'Acme'"):
        jira_adapter.edit("SS-8", {"Organizations": ["Acme"]})

    assert jira_emulator.calls_to(r"/issue/SS-8$", "PUT") == []


def test_an_organization_page_without_values_is_a_failure_not_no_organization(
    jira_adapter, jira_emulator
) -> None:
    jira_emulator.inject(r"/servicedeskapi/organization$", status=200, body={"size": 0})

    with pytest.raises(PermanentError, match="list organizations"):
        jira_adapter.edit("SS-8", {"Organizations": ["Cedar Ridge Roofing"]})


# -- request types -----------------------------------------------------------------------------


def test_a_request_type_is_written_by_its_id_found_by_name(jira_adapter, jira_emulator) -> None:
    jira_adapter.edit("SS-8", {"Request Type": "Training"})
    jira_adapter.edit("SS-7", {"Request Type": "training"})

    assert jira_emulator.issue("SS-8").request_type == "Training"
    assert jira_emulator.issue("SS-7").request_type == "Training"
    (lookup,) = jira_emulator.calls_to(r"/rest/servicedeskapi/requesttype$")
    assert lookup.query["searchQuery"] == ["Training"]
    put = jira_emulator.calls_to(r"/issue/SS-8$", "PUT")[-1]
    assert put.body["fields"]["customfield_10010"] == jira_emulator._request_type_id("Training")


def test_a_request_type_id_is_written_as_is(jira_adapter, jira_emulator) -> None:
    rid = jira_emulator._request_type_id("Billing")

    jira_adapter.edit("SS-8", {"Request Type": rid})

    assert jira_emulator.issue("SS-8").request_type == "Billing"
    assert jira_emulator.calls_to(r"/requesttype") == []


def test_an_unknown_request_type_is_named_before_writing(jira_adapter, jira_emulator) -> None:
    with pytest.raises(PermanentError, match="request type 'Refund': none is called that"):
        jira_adapter.edit("SS-8", {"Request Type": "Refund"})

    assert jira_emulator.calls_to(r"/issue/SS-8$", "PUT") == []


def test_jira_takes_a_request_type_by_id_only(jira_emulator) -> None:
    answer = requests.put(
        jira_emulator.url + "/rest/api/2/issue/SS-8",
        auth=(jira_emulator.email, jira_emulator.token),
        json={"fields": {"customfield_10010": "Training"}},
        timeout=5,
    )

    assert answer.status_code == 400
    assert "customfield_10010" in answer.json()["errors"]


# -- issue properties --------------------------------------------------------------------------


def test_a_search_asks_for_at_most_five_properties(jira_adapter, jira_emulator) -> None:
    with pytest.raises(PermanentError, match="at most 5"):
        jira_adapter.search('key = "SS-1"', ["summary"], properties=[f"p{n}" for n in range(6)])

    assert jira_emulator.calls_to(r"/search/jql$") == []


def test_properties_round_trip_through_search_and_get(jira_adapter, jira_emulator) -> None:
    value = {"alerted": ["unassigned_first_response"], "at": datetime(2026, 11, 2, tzinfo=UTC)}
    jira_adapter.set_property("SS-3", "sla-monitor", {**value, "at": value["at"].isoformat()})

    (ticket,) = jira_adapter.search('key = "SS-3"', ["summary"], properties=["sla-monitor"])

    assert ticket.properties == {
        "sla-monitor": {"alerted": ["unassigned_first_response"], "at": "2026-11-02T00:00:00+00:00"}
    }
    assert jira_adapter.get_property("SS-3", "sla-monitor") == ticket.properties["sla-monitor"]


def test_a_property_value_over_jiras_limit_is_refused_and_not_retried(
    jira_adapter, jira_emulator
) -> None:
    with pytest.raises(PermanentError, match="HTTP 400"):
        jira_adapter.set_property("SS-3", "big", {"blob": "x" * 40_000})

    assert len(jira_emulator.calls_to(r"/properties/big$", "PUT")) == 1
    assert "big" not in jira_emulator.issue("SS-3").properties
