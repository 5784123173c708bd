"""The emulators refuse what the services refuse, in the services' own error shapes.

Each test sends a request the vendor's spec (or reference) does not accept and checks the
emulator answers as the service does; the spec check in ``conftest.spec_contract`` also holds
the answers to the spec.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from emulators.jira import JiraEmulator
from emulators.slack import SlackEmulator

SEARCH = "/rest/api/3/search/jql"


def _jira(emulator: JiraEmulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method, emulator.url + path, auth=(emulator.email, emulator.token), timeout=5, **kwargs
    )


# -- faults ------------------------------------------------------------------------------------


def test_an_injected_jira_429_says_when_to_retry(jira_emulator: JiraEmulator) -> None:
    jira_emulator.inject(r"/serverInfo$", status=429)
    jira_emulator.inject(r"/serverInfo$", status=429, retry_after=None)

    first = _jira(jira_emulator, "GET", "/rest/api/3/serverInfo")
    second = _jira(jira_emulator, "GET", "/rest/api/3/serverInfo")

    assert first.status_code == 429 and first.headers["Retry-After"] == "1.0"
    assert second.status_code == 429 and "Retry-After" not in second.headers


def test_an_injected_slack_429_says_when_to_retry() -> None:
    with SlackEmulator([], ["#support-sla"]) as slack:
        slack.inject(r"/api/auth.test$", status=429)
        answer = requests.post(
            f"{slack.url}/api/auth.test",
            headers={"Authorization": f"Bearer {slack.token}"},
            timeout=5,
        )

    assert answer.status_code == 429 and answer.headers["Retry-After"] == "1.0"
    assert answer.json() == {"ok": False, "error": "ratelimited"}


# -- Jira platform -----------------------------------------------------------------------------


def test_a_transition_id_is_a_string(jira_emulator: JiraEmulator) -> None:
    answer = _jira(
        jira_emulator, "POST", "/rest/api/2/issue/SS-1/transitions", json={"transition": {"id": 11}}
    )

    assert answer.status_code == 400
    assert jira_emulator.issue("SS-1").status == "Open"


def test_server_info_has_only_the_documented_keys(jira_emulator: JiraEmulator) -> None:
    info = _jira(jira_emulator, "GET", "/rest/api/3/serverInfo").json()

    assert info["deploymentType"] == "Cloud"
    assert "defaultLocale" not in info


@pytest.mark.parametrize("with_priority", [True, False])
def test_a_linked_issue_without_priority_leaves_it_out(
    jira_emulator: JiraEmulator, with_priority: bool
) -> None:
    jira_emulator.add_issue(
        key="SS-60", summary="linked", priority="High" if with_priority else None
    )
    jira_emulator.add_issue(
        key="SS-61", summary="holder", links=[{"type": "Relates", "key": "SS-60"}]
    )

    answer = _jira(
        jira_emulator, "POST", SEARCH, json={"jql": 'key = "SS-61"', "fields": ["issuelinks"]}
    ).json()

    (link,) = answer["issues"][0]["fields"]["issuelinks"]
    assert ("priority" in link["outwardIssue"]["fields"]) is with_priority


@pytest.mark.parametrize(
    "extra",
    [
        {"startAt": 50},
        {"expand": ["names"]},
        {"validateQuery": "strict"},
        {"properties": ["a", "b", "c", "d", "e", "f"]},
        {"fields": "summary,status"},
        {"maxResults": "50"},
    ],
    ids=["startAt", "list-expand", "unknown-key", "six-properties", "fields-string", "max-text"],
)
def test_a_search_body_off_the_spec_is_refused(
    jira_emulator: JiraEmulator, extra: dict[str, Any]
) -> None:
    answer = _jira(jira_emulator, "POST", SEARCH, json={"jql": 'project = "SS"', **extra})

    assert answer.status_code == 400
    assert answer.json()["errorMessages"]


def test_a_search_takes_expand_as_a_comma_separated_string(jira_emulator: JiraEmulator) -> None:
    body = {"jql": 'key = "SS-1"', "fields": ["summary"], "expand": "names,renderedFields"}

    answer = _jira(jira_emulator, "POST", SEARCH, json=body).json()

    assert answer["names"] == {"summary": "Summary"}
    assert set(answer) == {"issues", "isLast", "names"}  # never a total
    assert "startAt" not in answer and "total" not in answer
