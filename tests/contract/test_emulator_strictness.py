"""The emulators refuse what the services refuse, in the services' own error shapes.

Each test sends a request the vendor's spec (or reference) does not accept and checks the
emulator answers as the service does; the spec check (``tests/conftest.py`` ``spec_contract``)
also holds the answers to the spec.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from emulators.jira import JiraEmulator
from emulators.sheets import SheetsEmulator
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


@pytest.mark.parametrize(
    "body",
    [{"accountId": None}, {"name": "maya"}, {}, {"accountId": "acc-maya-patel", "key": "maya"}],
)
def test_an_assignee_is_an_account_id(jira_emulator: JiraEmulator, body: dict[str, Any]) -> None:
    before = jira_emulator.issue("SS-1").assignee

    answer = _jira(jira_emulator, "PUT", "/rest/api/3/issue/SS-1/assignee", json=body)

    assert answer.status_code == 400 and set(answer.json()) == {"errorMessages", "errors"}
    assert jira_emulator.issue("SS-1").assignee == before


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


# -- comments ----------------------------------------------------------------------------------

ADF = {
    "type": "doc",
    "version": 1,
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Hello"}]}],
}
INTERNAL = [{"key": "sd.public.comment", "value": {"internal": True}}]


def test_a_platform_comment_on_a_project_that_is_not_a_service_desk_is_public(
    jira_emulator: JiraEmulator,
) -> None:
    answer = _jira(
        jira_emulator,
        "POST",
        "/rest/api/2/issue/CS-1/comment",
        json={"body": "note", "properties": INTERNAL},
    )

    assert answer.status_code == 201
    assert answer.json()["jsdPublic"] is True
    assert answer.json()["properties"] == INTERNAL


def test_a_platform_comment_with_the_internal_property_on_a_service_desk_is_internal(
    jira_emulator: JiraEmulator,
) -> None:
    answer = _jira(
        jira_emulator,
        "POST",
        "/rest/api/2/issue/SS-1/comment",
        json={"body": "note", "properties": INTERNAL},
    )

    assert answer.status_code == 201 and answer.json()["jsdPublic"] is False


@pytest.mark.parametrize(
    "version, body",
    [("3", "plain text"), ("3", {"type": "paragraph", "content": []}), ("2", ADF)],
    ids=["v3-string", "v3-not-a-doc", "v2-adf"],
)
def test_a_comment_body_must_have_its_versions_shape(
    jira_emulator: JiraEmulator, version: str, body: Any
) -> None:
    answer = _jira(
        jira_emulator, "POST", f"/rest/api/{version}/issue/SS-1/comment", json={"body": body}
    )

    assert answer.status_code == 400
    assert answer.json()["errors"]["comment"]
    assert jira_emulator.comments_of("SS-1") == []


def test_a_v3_comment_takes_an_adf_document(jira_emulator: JiraEmulator) -> None:
    answer = _jira(jira_emulator, "POST", "/rest/api/3/issue/SS-1/comment", json={"body": ADF})

    assert answer.status_code == 201
    assert answer.json()["body"]["type"] == "doc"
    assert jira_emulator.comments_of("SS-1")[-1].body == "Hello"


def test_a_v3_description_must_be_adf_and_a_v2_one_a_string(jira_emulator: JiraEmulator) -> None:
    v3_text = _jira(
        jira_emulator, "PUT", "/rest/api/3/issue/SS-1", json={"fields": {"description": "x"}}
    )
    v2_adf = _jira(
        jira_emulator, "PUT", "/rest/api/2/issue/SS-1", json={"fields": {"description": ADF}}
    )
    v3_adf = _jira(
        jira_emulator, "PUT", "/rest/api/3/issue/SS-1", json={"fields": {"description": ADF}}
    )

    assert (
        v3_text.status_code == 400
        and "Atlassian Document" in v3_text.json()["errors"]["description"]
    )
    assert v2_adf.status_code == 400
    assert v3_adf.status_code == 204 and jira_emulator.issue("SS-1").description == "Hello"


def _nested_doc_json(depth: int) -> bytes:
    # Built as text: json.dumps itself recurses and gives up near 1,000 levels.
    opening = '{"type": "paragraph", "content": [' * depth
    closing = "]}" * depth
    leaf = '{"type": "text", "text": "deep"}'
    doc = f'{{"type": "doc", "version": 1, "content": [{opening}{leaf}{closing}]}}'
    return f'{{"body": {doc}}}'.encode()


def test_a_deeply_nested_adf_comment_is_stored_as_its_text(jira_emulator: JiraEmulator) -> None:
    answer = _jira(
        jira_emulator,
        "POST",
        "/rest/api/3/issue/SS-1/comment",
        data=_nested_doc_json(300),
        headers={"Content-Type": "application/json"},
    )

    assert answer.status_code == 201
    assert jira_emulator.comments_of("SS-1")[-1].body == "deep"


def test_a_body_nested_deeper_than_jira_reads_is_a_400_not_a_500(
    jira_emulator: JiraEmulator,
) -> None:
    answer = _jira(
        jira_emulator,
        "POST",
        "/rest/api/3/issue/SS-1/comment",
        data=_nested_doc_json(2000),
        headers={"Content-Type": "application/json"},
    )

    assert answer.status_code == 400
    assert answer.json()["errorMessages"]


# -- Jira Service Management -------------------------------------------------------------------

SD_COMMENT = "/rest/servicedeskapi/request/{key}/comment"


@pytest.mark.parametrize(
    "body, key",
    [
        ({"body": "hi"}, "sd.comment.public.invalid"),
        ({"body": "hi", "public": "yes"}, "sd.comment.public.invalid"),
        ({"body": "hi", "public": True, "visibility": {"type": "role"}}, None),
        ({"body": "", "public": True}, "sd.comment.body.empty"),
    ],
    ids=["public-missing", "public-text", "unknown-key", "empty-body"],
)
def test_a_service_desk_comment_off_the_spec_is_refused_in_the_jsm_error_shape(
    jira_emulator: JiraEmulator, body: dict[str, Any], key: str | None
) -> None:
    answer = _jira(jira_emulator, "POST", SD_COMMENT.format(key="SS-1"), json=body)

    assert answer.status_code == 400
    error = answer.json()
    assert set(error) == {"errorMessage", "i18nErrorMessage"}
    assert key is None or error["i18nErrorMessage"]["i18nKey"] == key
    assert jira_emulator.comments_of("SS-1") == []


def test_a_ticket_outside_a_service_desk_is_no_customer_request(
    jira_emulator: JiraEmulator,
) -> None:
    answer = _jira(
        jira_emulator, "POST", SD_COMMENT.format(key="CS-1"), json={"body": "x", "public": False}
    )

    assert answer.status_code == 404
    assert set(answer.json()) == {"errorMessage", "i18nErrorMessage"}


def test_service_management_answers_401_in_its_own_shape(jira_emulator: JiraEmulator) -> None:
    answer = requests.get(
        jira_emulator.url + "/rest/servicedeskapi/organization", auth=("x", "y"), timeout=5
    )

    assert answer.status_code == 401
    assert set(answer.json()) == {"errorMessage", "i18nErrorMessage"}


def test_service_management_query_parameters_are_typed(jira_emulator: JiraEmulator) -> None:
    answer = _jira(jira_emulator, "GET", SD_COMMENT.format(key="SS-2"), params={"public": "maybe"})

    assert answer.status_code == 400
    assert set(answer.json()) == {"errorMessage", "i18nErrorMessage"}


# -- Slack -------------------------------------------------------------------------------------


@pytest.fixture
def slack() -> Any:
    emulator = SlackEmulator(
        [{"id": "U0MAYA001", "name": "maya", "email": "maya@example.test"}], ["#support-sla"]
    )
    emulator.start()
    yield emulator
    emulator.stop()


def _slack(slack: SlackEmulator, method: str, **kwargs: Any) -> dict[str, Any]:
    answer = requests.post(
        f"{slack.url}/api/{method}",
        headers={"Authorization": f"Bearer {slack.token}"},
        timeout=5,
        **kwargs,
    )
    assert answer.status_code == 200
    return answer.json()


def test_chat_update_takes_the_channel_id_not_its_name(slack: SlackEmulator) -> None:
    posted = _slack(slack, "chat.postMessage", json={"channel": "#support-sla", "text": "hi"})

    by_name = _slack(
        slack, "chat.update", json={"channel": "#support-sla", "ts": posted["ts"], "text": "x"}
    )
    by_id = _slack(
        slack, "chat.update", json={"channel": posted["channel"], "ts": posted["ts"], "text": "y"}
    )

    assert by_name == {"ok": False, "error": "channel_not_found"}
    assert by_id["ok"] is True and slack.messages[0].text == "y"


@pytest.mark.parametrize(
    "blocks, problem",
    [
        ([{"type": "section", "text": {"type": "mrkdwn", "text": ""}}], "more than 0 characters"),
        ([{"type": "section"}], "must provide text or fields"),
        (
            [
                {"type": "divider", "block_id": "a"},
                {"type": "section", "block_id": "a", "text": {"type": "mrkdwn", "text": "x"}},
            ],
            "duplicate block_id",
        ),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}], "must be plain_text"),
        ([{"type": "context", "elements": []}], "1 to 10 items"),
    ],
    ids=["empty-section-text", "no-text-no-fields", "duplicate-block-id", "mrkdwn-header", "empty"],
)
def test_blocks_slack_refuses_are_invalid_blocks(
    slack: SlackEmulator, blocks: list[dict[str, Any]], problem: str
) -> None:
    answer = _slack(
        slack, "chat.postMessage", json={"channel": "#support-sla", "text": "t", "blocks": blocks}
    )

    assert answer["ok"] is False and answer["error"] == "invalid_blocks"
    assert any(problem in e for e in answer["errors"])
    assert slack.messages == []


def test_users_lookup_by_email_does_not_read_a_json_body(slack: SlackEmulator) -> None:
    as_json = _slack(slack, "users.lookupByEmail", json={"email": "maya@example.test"})
    as_form = _slack(slack, "users.lookupByEmail", data={"email": "maya@example.test"})
    as_query = _slack(slack, "users.lookupByEmail", params={"email": "maya@example.test"})

    assert as_json == {"ok": False, "error": "invalid_arguments"}
    assert as_form["user"]["id"] == as_query["user"]["id"] == "U0MAYA001"


# -- Google Sheets -----------------------------------------------------------------------------


@pytest.fixture
def sheets(tmp_path: Any) -> Any:
    from google.auth.transport.requests import Request as GoogleRequest
    from google.oauth2.service_account import Credentials

    emulator = SheetsEmulator({"k": [{"title": "Tab", "rows": [["a", "b"], ["c", "d"]]}]})
    emulator.start()
    credentials = Credentials.from_service_account_file(
        str(emulator.service_account_file(tmp_path)),
        scopes=["https://www.googleapis.com/auth/spreadsheets.readonly"],
    )
    credentials.refresh(GoogleRequest())
    yield emulator, {"Authorization": f"Bearer {credentials.token}"}
    emulator.stop()


@pytest.mark.parametrize(
    "params",
    [{"valueRenderOption": "PRETTY"}, {"majorDimension": "rows"}, {"startRow": "2"}],
    ids=["render-option", "lower-case-dimension", "unknown-parameter"],
)
def test_a_values_read_with_a_parameter_google_refuses_is_a_400(
    sheets: Any, params: dict[str, str]
) -> None:
    emulator, auth = sheets

    answer = requests.get(
        f"{emulator.url}/v4/spreadsheets/k/values/Tab", params=params, headers=auth, timeout=5
    )

    assert answer.status_code == 400
    assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_a_values_read_with_the_documented_parameters_is_answered(sheets: Any) -> None:
    emulator, auth = sheets

    answer = requests.get(
        f"{emulator.url}/v4/spreadsheets/k/values/Tab",
        params={"majorDimension": "COLUMNS", "valueRenderOption": "FORMATTED_VALUE"},
        headers=auth,
        timeout=5,
    )

    assert answer.status_code == 200
    assert answer.json()["values"] == [["a", "c"], ["b", "d"]]


def test_comments_are_ordered_only_by_creation(jira_emulator: JiraEmulator) -> None:
    path = "/rest/api/2/issue/SS-2/comment"

    by_author = _jira(jira_emulator, "GET", path, params={"orderBy": "author"})
    newest = _jira(jira_emulator, "GET", path, params={"orderBy": "-created"}).json()
    oldest = _jira(jira_emulator, "GET", path, params={"orderBy": "+created"}).json()

    assert by_author.status_code == 400
    assert [c["id"] for c in newest["comments"]] == [c["id"] for c in oldest["comments"]][::-1]
