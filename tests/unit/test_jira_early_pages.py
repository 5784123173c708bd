"""The next search page is requested from the answer's bytes, before they are decoded; the
decoded page decides which request is used."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from jobs.adapters.jira.client import PAGES_AHEAD, EarlyPages, peek_next_token


def answer(token: str | None, text: str = "hello") -> bytes:
    import json

    body: dict[str, Any] = {"issues": [{"key": "SS-1", "fields": {"summary": text}}]}
    if token is not None:
        body["nextPageToken"] = token
    body["isLast"] = token is None
    return json.dumps(body).encode()


def test_it_reads_the_token_the_answer_gives() -> None:
    assert peek_next_token(answer("abc")) == "abc"
    assert peek_next_token(answer('a"b\\c\u00e9')) == 'a"b\\c\u00e9'
    assert peek_next_token(answer(None)) is None


def test_a_token_quoted_in_a_tickets_text_is_not_read_as_the_pages() -> None:
    quoted = answer(None, text='see "nextPageToken": "evil" in the logs')
    assert peek_next_token(quoted) is None
    assert peek_next_token(answer("real", text='"nextPageToken":"evil"')) == "real"


def test_garbage_gives_no_token() -> None:
    for raw in (b"", b"<html>", b'{"nextPageToken": 5}', b'{"nextPageToken": ""}'):
        assert peek_next_token(raw) is None


class Requests:
    def __init__(self) -> None:
        self.made: list[str] = []

    def __call__(self, token: str) -> Future[dict[str, Any]]:
        self.made.append(token)
        future: Future[dict[str, Any]] = Future()
        future.set_result({"token": token})
        return future


def test_the_page_asked_early_is_the_one_taken() -> None:
    requests = Requests()
    early = EarlyPages(requests)

    early.answered(answer("t2"))
    taken = early.take("t2")

    assert requests.made == ["t2"] and taken.result() == {"token": "t2"}


def test_a_misread_token_costs_its_request_and_is_never_used() -> None:
    requests = Requests()
    early = EarlyPages(requests)

    early.answered(answer("misread"))
    taken = early.take("t2")  # what the decoded page said

    assert requests.made == ["misread", "t2"] and taken.result() == {"token": "t2"}


def test_a_token_is_asked_once_and_only_so_many_wait() -> None:
    requests = Requests()
    early = EarlyPages(requests)

    early.answered(answer("t2"))
    early.answered(answer("t2"))  # the same answer read twice (a retried page)
    for n in range(3, 3 + PAGES_AHEAD + 2):
        early.answered(answer(f"t{n}"))

    assert requests.made == ["t2", *[f"t{n}" for n in range(3, 3 + PAGES_AHEAD - 1)]]


def test_nothing_is_asked_once_the_search_stopped() -> None:
    requests = Requests()
    early = EarlyPages(requests)
    early.stop()

    early.answered(answer("t2"))

    assert requests.made == []
