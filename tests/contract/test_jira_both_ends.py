"""A search in any order (``JiraAdapter.search(..., any_order=True)``) is read from both ends.

Long enough (`BOTH_ENDS_AFTER` pages from its first end), it is read by key from its first
ticket up and from its last ticket down at once, and stops where the two ends meet. What
must hold, whatever end answers first: every ticket once, at most two calls more than one
end would make, and back to one end when Jira's pages are not in the key order the meeting
relies on.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import pytest

import jobs.adapters.jira.client as client_module
from emulators.jira import JiraEmulator
from jobs.adapters.jira import JiraAdapter

SEARCH = r"/rest/api/3/search/jql$"
LABEL = "both-ends"
JQL = f'project = "SS" AND labels = "{LABEL}" ORDER BY created DESC'
AFTER = 5
"""`BOTH_ENDS_AFTER` in these tests: a few pages, so a search of tens of tickets is long."""


@pytest.fixture(autouse=True)
def _short_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "BOTH_ENDS_AFTER", AFTER)


def _add(emulator: JiraEmulator, numbers: list[int]) -> list[str]:
    keys = []
    for n in numbers:
        keys.append(
            emulator.add_issue(
                key=f"SS-{n}",
                summary=f"Ticket {n}",
                created=f"-{n % 50 + 1}h",
                reporter="dana.whitfield@sunrise-solar.example",
                labels=[LABEL],
            )
        )
    return keys


def _searches(emulator: JiraEmulator) -> list[str]:
    return [c.body["jql"] for c in emulator.calls_to(SEARCH, "POST")]


def _read(adapter: JiraAdapter, page_size: int) -> list[str]:
    return [t.key for t in adapter.search(JQL, ["summary"], page_size=page_size, any_order=True)]


Rewrite = Callable[[Any, dict[str, Any]], Any]


def _answers(
    emulator: JiraEmulator,
    rewrite: Rewrite = lambda _request, answer: answer,
    *,
    end: str | None = None,
    delay: float = 0.0,
) -> None:
    """Every search answer from now on, or only one end's (``end``: "ASC" or "DESC"), goes
    through ``rewrite`` (after ``delay``)."""
    emulator.inject(
        SEARCH,
        status=200,
        times=1000,
        delay=delay,
        when=lambda request: end is None or f"key {end}" in str(request.json().get("jql")),
        rewrite=rewrite,
    )


def _descending(request: Any) -> bool:
    return "key DESC" in str(request.json().get("jql"))


@pytest.mark.parametrize("slow_end", [None, "ASC", "DESC"])
@pytest.mark.parametrize(("count", "page_size"), [(60, 4), (61, 3), (97, 5), (44, 2)])
def test_a_long_search_is_read_from_both_ends_and_every_ticket_once(
    jira_adapter, jira_emulator, slow_end, count, page_size
) -> None:
    # Numbers with gaps, as a real project's are once tickets move or are deleted.
    expected = _add(jira_emulator, [1000 + 3 * n + n % 2 for n in range(count)])
    if slow_end is not None:
        _answers(jira_emulator, end=slow_end, delay=0.01)

    read = _read(jira_adapter, page_size)

    assert sorted(read) == sorted(expected) and len(read) == len(set(read))
    jqls = _searches(jira_emulator)
    assert any(q.endswith("ORDER BY key ASC") for q in jqls)
    assert any(q.endswith("ORDER BY key DESC") for q in jqls)
    assert all("created DESC" not in q for q in jqls)  # the caller's order is replaced
    assert len(jqls) <= math.ceil(count / page_size) + 2
    assert jira_adapter.problems == []


def test_a_search_shorter_than_the_threshold_is_read_from_one_end(
    jira_adapter, jira_emulator
) -> None:
    expected = _add(jira_emulator, list(range(2000, 2000 + 4 * AFTER)))

    read = _read(jira_adapter, 4)

    assert read == expected  # one end, in key order
    jqls = _searches(jira_emulator)
    assert len(jqls) == AFTER and all(q.endswith("ORDER BY key ASC") for q in jqls)


def test_a_search_not_in_any_order_keeps_its_own_order_and_one_end(
    jira_adapter, jira_emulator
) -> None:
    _add(jira_emulator, list(range(3000, 3060)))

    read = [t.key for t in jira_adapter.search(JQL, ["summary"], page_size=4)]

    assert len(read) == 60
    assert {q for q in _searches(jira_emulator)} == {JQL}


def _reversed_page(_request: Any, answer: dict[str, Any]) -> dict[str, Any]:
    return {**answer, "issues": list(reversed(answer["issues"]))}


def test_pages_out_of_key_order_are_read_from_one_end(jira_adapter, jira_emulator, caplog) -> None:
    """A site that does not sort the way the meeting relies on (here: the descending end's
    pages come back the wrong way round): the first end reads the search to its end, and
    every ticket is still read once."""
    expected = _add(jira_emulator, list(range(4000, 4080)))
    _answers(jira_emulator, _reversed_page, end="DESC")

    with caplog.at_level(logging.WARNING, logger="jobs.adapters.jira.client"):
        read = _read(jira_adapter, 4)

    assert sorted(read) == sorted(expected) and len(read) == len(set(read))
    ascending = [q for q in _searches(jira_emulator) if q.endswith("key ASC")]
    assert len(ascending) == 80 // 4  # the first end went all the way
    assert "not in key order" in caplog.text
    assert jira_adapter.problems == []


def test_a_ticket_that_leaves_the_search_unread_is_not_missed_by_the_others(
    jira_adapter, jira_emulator
) -> None:
    """Jira's pages are not a snapshot: a ticket between the two ends that stops matching
    while they read is simply not there; every other ticket is read once."""
    expected = _add(jira_emulator, list(range(5000, 5080)))
    leaving = "SS-5041"
    seen = {"searches": 0}

    def leave_once_both_ends_read(_request: Any, answer: dict[str, Any]) -> dict[str, Any]:
        seen["searches"] += 1
        if seen["searches"] == AFTER + 2:
            jira_emulator.issue(leaving).labels.remove(LABEL)
        return answer

    _answers(jira_emulator, leave_once_both_ends_read)

    read = _read(jira_adapter, 4)

    assert sorted(read) == sorted(k for k in expected if k != leaving)
    assert len(read) == len(set(read))


def test_a_ticket_repeated_by_one_end_is_reported_once(jira_adapter, jira_emulator) -> None:
    """The same end listing a ticket twice is Jira's doing and is said; the two ends
    reading the same tickets where they meet is not."""
    expected = _add(jira_emulator, list(range(6000, 6060)))
    repeated = {"done": False}

    def repeat_first_issue(_request: Any, answer: dict[str, Any]) -> dict[str, Any]:
        if repeated["done"] or not answer["issues"]:
            return answer
        repeated["done"] = True
        return {**answer, "issues": [*answer["issues"], answer["issues"][-1]]}

    _answers(jira_emulator, repeat_first_issue, end="ASC")

    read = _read(jira_adapter, 4)

    assert sorted(read) == sorted(expected) and len(read) == len(set(read))
    assert [p.where for p in jira_adapter.problems] == ["SS-6003"]


def test_a_last_end_that_ends_without_meeting_the_first_is_not_the_whole_search(
    jira_adapter, jira_emulator
) -> None:
    """The first end has read pages already: a correct site cannot let the other end read to
    its end without meeting them. An answer that says so anyway (empty, last) is not taken
    as the whole search; the first end reads on."""
    expected = _add(jira_emulator, list(range(7000, 7080)))
    _answers(jira_emulator, lambda _request, _answer: {"issues": [], "isLast": True}, end="DESC")

    read = _read(jira_adapter, 4)

    assert sorted(read) == sorted(expected) and len(read) == len(set(read))


def test_an_end_sorted_only_within_each_page_does_not_meet_the_other(
    jira_adapter, jira_emulator
) -> None:
    """A site that sorts the descending search only inside each page (its page N is the
    ascending page N backwards): the numbers go down on every page, yet its first page
    touches what the first end read long before its latest page. Not a meeting."""
    expected = _add(jira_emulator, list(range(8000, 8080)))
    ascending: dict[str | None, list[Any]] = {}
    offsets: dict[str | None, int] = {None: 0}

    def backwards(request: Any, answer: dict[str, Any]) -> dict[str, Any]:
        body = request.json()
        token = body.get("nextPageToken")
        if "key ASC" in body["jql"]:
            ascending[token] = answer["issues"]
            offsets[answer.get("nextPageToken")] = offsets.get(token, 0) + 1
            return answer
        nth = offsets.get(token, 0) if token else 0
        by_page = list(ascending.values())
        same = by_page[nth] if nth < len(by_page) else answer["issues"]
        return {**answer, "issues": list(reversed(same))}

    _answers(jira_emulator, backwards)

    read = _read(jira_adapter, 4)

    assert sorted(read) == sorted(expected) and len(read) == len(set(read))


def test_a_ticket_created_while_the_ends_read_is_no_data_problem(
    jira_adapter, jira_emulator, caplog
) -> None:
    """A ticket created while the search pages lands above the descending end: its pages
    then repeat one ticket. That is the search growing, not Jira listing a ticket twice:
    no problem is reported, the two ends still meet, and no ticket is missed."""
    expected = _add(jira_emulator, list(range(9000, 9080)))
    created = {"done": False}

    def create_once(request: Any, answer: dict[str, Any]) -> dict[str, Any]:
        if _descending(request) and not created["done"]:
            created["done"] = True
            _add(jira_emulator, [9999])
        return answer

    _answers(jira_emulator, create_once)

    with caplog.at_level(logging.WARNING, logger="jobs.adapters.jira.client"):
        read = _read(jira_adapter, 4)

    assert set(expected) <= set(read) and len(read) == len(set(read))
    assert jira_adapter.problems == []
    assert "not in key order" not in caplog.text  # the ends met: no fallback was needed
    assert len(_searches(jira_emulator)) <= math.ceil(81 / 4) + 2
