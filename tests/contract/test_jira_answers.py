"""Answers Jira should never give, read as failures rather than as "no tickets"; comment
bodies nested deeper than any reader recurses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulators.jira import JiraEmulator
from jobs.adapters.http import PermanentError
from jobs.adapters.jira import JiraAdapter
from jobs.adapters.jira.adf import MAX_DEPTH, adf_text
from jobs.adapters.jira.decode import decode_bounded, decode_json

SEARCH = r"/rest/api/3/search/jql$"
ALL_SS = 'project = "SS" ORDER BY key'
CREATED = "2026-11-02T10:00:00.000+0000"


def _issue(key: str = "SS-1", **fields: Any) -> dict[str, Any]:
    return {"id": "1", "key": key, "fields": {"summary": "x", "created": CREATED, **fields}}


# -- search envelopes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, message",
    [
        ({"issues": "nope", "isLast": True}, "str where its issues list goes"),
        (None, "the answer is NoneType"),
        ({"isLast": True}, "no issues where its issues list goes"),
        ({"issues": [{"key": "SS-1", "fields": None}], "isLast": True}, "SS-1 came with fields"),
        ({"issues": [{"key": "SS-1"}], "isLast": True}, "SS-1 came with fields NoneType"),
        ({"issues": [], "isLast": False}, "not the last page but gives no nextPageToken"),
        ({"issues": [], "isLast": "yes"}, "isLast is 'yes'"),
        ({"issues": [], "isLast": False, "nextPageToken": 7}, "nextPageToken is 7"),
    ],
    ids=[
        "issues-a-string",
        "null",
        "no-issues",
        "fields-null",
        "fields-missing",
        "not-last-without-token",
        "isLast-text",
        "token-a-number",
    ],
)
def test_a_malformed_search_answer_is_a_read_failure_not_no_tickets(
    jira_adapter: JiraAdapter, jira_emulator: JiraEmulator, answer: Any, message: str
) -> None:
    jira_emulator.inject(SEARCH, status=200, raw=json.dumps(answer).encode())

    with pytest.raises(PermanentError, match=message):
        list(jira_adapter.search(ALL_SS, ["summary"]))


def test_a_malformed_second_page_fails_the_search_after_the_first(
    jira_adapter: JiraAdapter, jira_emulator: JiraEmulator
) -> None:
    tickets = jira_adapter.search(ALL_SS, ["summary"], page_size=3)
    first = [next(tickets) for _ in range(3)]
    jira_emulator.clear_faults()
    jira_emulator.inject(SEARCH, status=200, body={"issues": None, "isLast": True}, times=5)

    with pytest.raises(PermanentError, match="issues list"):
        list(tickets)
    assert [t.key for t in first] == ["SS-1", "SS-2", "SS-3"]


def test_an_issue_missing_only_optional_fields_is_still_a_ticket(
    jira_adapter: JiraAdapter, jira_emulator: JiraEmulator
) -> None:
    jira_emulator.inject(
        SEARCH, status=200, body={"issues": [_issue(status=None, labels=None)], "isLast": True}
    )

    (ticket,) = jira_adapter.search(ALL_SS, ["summary", "status", "labels", "assignee"])

    assert ticket.key == "SS-1" and ticket.assignee is None and ticket.labels == ()
    assert jira_adapter.problems == []


# -- deep comment bodies -----------------------------------------------------------------------


def _deep_body(depth: int, text: str = "bottom") -> str:
    node = f'{{"type": "text", "text": "{text}"}}'
    opening = '{"type": "paragraph", "content": [' * depth
    return (
        '{"type": "doc", "version": 1, "content": ['
        '{"type": "paragraph", "content": [{"type": "text", "text": "Top line"}]}, '
        f"{opening}{node}{']}' * depth}]}}"
    )


def _page_with_comment(body_json: str) -> bytes:
    comment = (
        '{"id": "900", "jsdPublic": true, "created": "2026-11-02T11:00:00.000+0000", '
        f'"author": {{"accountId": "acc-maya-patel", "displayName": "Maya"}}, "body": {body_json}}}'
    )
    issue = (
        '{"id": "1", "key": "SS-1", "fields": {"summary": "x", '
        f'"created": "{CREATED}", "comment": {{"comments": [{comment}], "total": 1}}}}}}'
    )
    return f'{{"issues": [{issue}], "isLast": true}}'.encode()


def test_a_comment_nested_2000_levels_deep_keeps_its_text_above_the_cap_and_is_reported(
    jira_adapter: JiraAdapter, jira_emulator: JiraEmulator
) -> None:
    jira_emulator.inject(SEARCH, status=200, raw=_page_with_comment(_deep_body(2000)))

    (ticket,) = jira_adapter.search(ALL_SS, ["comment"])

    (comment,) = ticket.comments
    assert comment.body == "Top line"  # what lies below the cap is left out
    assert [(p.where, "nests deeper than" in p.message) for p in jira_adapter.problems] == [
        ("SS-1", True)
    ]


def test_a_deep_comment_read_without_its_text_is_read_whole_and_no_problem(
    jira_adapter: JiraAdapter, jira_emulator: JiraEmulator
) -> None:
    """A reader of who wrote a comment and when (``comment_text=False``) loses nothing to a
    body nested too deep: the comment is there, and no problem is reported."""
    jira_emulator.inject(SEARCH, status=200, raw=_page_with_comment(_deep_body(2000)))

    (ticket,) = jira_adapter.search(ALL_SS, ["comment"], comment_text=False)

    (comment,) = ticket.comments
    assert (comment.id, comment.author and comment.author.account_id) == ("900", "acc-maya-patel")
    assert comment.body == "" and comment.public
    assert jira_adapter.problems == []


def test_a_comment_just_inside_the_cap_is_read_whole(
    jira_adapter: JiraAdapter, jira_emulator: JiraEmulator
) -> None:
    jira_emulator.inject(SEARCH, status=200, raw=_page_with_comment(_deep_body(MAX_DEPTH - 2)))

    (ticket,) = jira_adapter.search(ALL_SS, ["comment"])

    assert ticket.comments[0].body == "Top line\n\nbottom"
    assert jira_adapter.problems == []


def test_a_deep_comment_read_on_its_own_is_reported_too(
    jira_adapter: JiraAdapter, jira_emulator: JiraEmulator
) -> None:
    comment = json.loads(_page_with_comment('"x"'))["issues"][0]["fields"]["comment"]
    raw = json.dumps({"startAt": 0, "maxResults": 100, "total": 1, **comment})
    deep = raw.replace('"body": "x"', f'"body": {_deep_body(3000)}').encode()
    jira_emulator.inject(r"/issue/SS-1/comment$", status=200, raw=deep)

    (comment_read,) = jira_adapter.comments("SS-1")

    assert comment_read.body == "Top line"
    assert [p.where for p in jira_adapter.problems] == ["SS-1"]


def test_adf_deeper_than_python_recursion_flattens_without_error() -> None:
    node: dict[str, Any] = {"type": "text", "text": "deep"}
    for _ in range(50_000):
        node = {"type": "bulletList", "content": [{"type": "listItem", "content": [node]}]}
    cut: list[int] = []

    text = adf_text({"type": "doc", "version": 1, "content": [node]}, cut)

    assert "deep" not in text and set(text) <= {"-", " ", "\n"}  # list marks above the cap
    assert cut == [MAX_DEPTH]


@pytest.mark.parametrize(
    "doc, text",
    [
        (
            {
                "type": "doc",
                "content": [
                    {
                        "type": "paragraph",
                        "content": [
                            {"type": "text", "text": "Hi "},
                            {"type": "mention", "attrs": {"id": "acc-1"}},
                            {"type": "hardBreak"},
                            {"type": "emoji", "attrs": {"shortName": ":wave:"}},
                        ],
                    },
                    {"type": "paragraph", "content": []},
                    {
                        "type": "orderedList",
                        "content": [
                            {"type": "listItem", "content": [{"type": "text", "text": "one"}]},
                            {"type": "listItem", "content": [{"type": "text", "text": "two"}]},
                        ],
                    },
                ],
            },
            "Hi [~accountid:acc-1]\n:wave:\n\n1. one\n2. two",
        ),
        ("wiki *text*", "wiki *text*"),
        (None, ""),
        ({"type": "doc", "content": "oops"}, ""),
    ],
)
def test_adf_flattens_to_the_text_rules_read(doc: Any, text: str) -> None:
    assert adf_text(doc) == text


# -- the bounded JSON reader -------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@given(json_values)
def test_the_bounded_reader_reads_what_json_loads_reads(value: Any) -> None:
    text = json.dumps(value)

    assert decode_bounded(text) == json.loads(text)


def test_the_bounded_reader_drops_only_what_is_too_deep() -> None:
    text = '{"a": [1, {"b": [[["deep"]]], "c": "kept"}], "d": true}'

    # Three levels kept: the object, "a"'s list, the object in it; "b"'s list is the fourth.
    assert decode_bounded(text, max_depth=3) == {"a": [1, {"b": None, "c": "kept"}], "d": True}


@pytest.mark.parametrize("text", ["", "{", '{"a" 1}', "[1,]", "[1] x", "tru", '{"a": 1,}'])
def test_the_bounded_reader_refuses_what_is_not_json(text: str) -> None:
    with pytest.raises(ValueError):
        decode_bounded(text)


def test_an_answer_too_deep_for_json_loads_is_still_read() -> None:
    raw = ("[" * 5000 + "]" * 5000).encode()

    value = decode_json(raw)

    depth = 0
    while isinstance(value, list) and value:
        value, depth = value[0], depth + 1
    assert depth == 500 and value is None  # 500 levels kept, the rest left out
