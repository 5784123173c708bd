"""JiraAdapter replayed from cassettes recorded against the Jira emulator (no server running).

The same scenario code records and replays. A cassette missing from ``cassettes/`` is recorded
(vcrpy ``record_mode="once"``) against the emulator; ``RECORD_CASSETTES=1`` records them all
again. Otherwise each test replays with ``record_mode="none"`` and no emulator, so a change in
what the adapter sends (path, query or body) fails here even if the emulator would accept it.

Recorded URLs become ``http://127.0.0.1:9`` (nothing listens there) in requests and response
bodies, so replay does not depend on the emulator's random port; the Authorization header and
any token are filtered out (``test_cassettes_have_no_secrets.py`` checks).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import vcr

from emulators.jira import JiraEmulator
from jobs.adapters.http import CallCounter, CredentialError, PermanentError, RetryBudget
from jobs.adapters.jira import JiraAdapter
from tests.contract.conftest import NOW, jira_desk_data

CASSETTES = Path(__file__).parent / "cassettes"
RECORD = os.environ.get("RECORD_CASSETTES") == "1"
REPLAY_BASE = "http://127.0.0.1:9"
_LOOPBACK = re.compile(r"http://127\.0\.0\.1:\d+")
EMAIL = "agent@example.test"
REPLAY_TOKEN = "replayed-token"
DROPPED_RESPONSE_HEADERS = ("date", "server")


def _jira_matcher(r1: Any, r2: Any) -> None:
    """Method, path, query and body (JSON compared parsed): never host, port or headers."""
    assert r1.method == r2.method, f"{r1.method} != {r2.method}"
    p1, p2 = urlsplit(r1.uri), urlsplit(r2.uri)
    assert p1.path == p2.path, f"{p1.path} != {p2.path}"
    assert sorted(parse_qsl(p1.query, keep_blank_values=True)) == sorted(
        parse_qsl(p2.query, keep_blank_values=True)
    ), f"{p1.query} != {p2.query}"
    assert _body(r1.body) == _body(r2.body), f"{r1.body!r} != {r2.body!r}"


def _body(raw: bytes | str | None) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    try:
        return json.loads(text)
    except ValueError:
        return text


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    text = _LOOPBACK.sub(REPLAY_BASE, text)
    for secret in secrets:
        text = text.replace(secret, "FILTERED")
    return text


def jira_vcr(mode: str, secrets: tuple[str, ...]) -> vcr.VCR:
    def before_request(request: Any) -> Any:
        request.uri = _LOOPBACK.sub(REPLAY_BASE, request.uri)
        for name in list(request.headers):
            if name.lower() == "host":
                request.headers[name] = REPLAY_BASE.removeprefix("http://")
        if request.body:
            raw = request.body.decode("utf-8") if isinstance(request.body, bytes) else request.body
            request.body = _scrub(raw, secrets).encode("utf-8")
        return request

    def before_response(response: dict[str, Any]) -> dict[str, Any]:
        body = _scrub((response["body"]["string"] or b"").decode("utf-8"), secrets).encode()
        headers = {
            k: v
            for k, v in response["headers"].items()
            if k.lower() not in DROPPED_RESPONSE_HEADERS
        }
        for name in list(headers):
            if name.lower() == "content-length":
                headers[name] = [str(len(body))]
        response["body"]["string"] = body
        response["headers"] = headers
        return response

    recorder = vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode=mode,
        match_on=("jira",),
        filter_headers=["authorization", "cookie", "set-cookie", "user-agent"],
        before_record_request=before_request,
        before_record_response=before_response,
        decode_compressed_response=True,
    )
    recorder.register_matcher("jira", _jira_matcher)
    return recorder


@dataclass
class JiraCassetteRun:
    adapter: JiraAdapter
    emulator: JiraEmulator | None
    """The live emulator while recording; None on replay (faults come from the cassette)."""
    counter: CallCounter
    slept: list[float] = field(default_factory=list)

    def adapter_with_token(self, token: str) -> JiraAdapter:
        base = self.emulator.url if self.emulator else REPLAY_BASE
        return JiraAdapter(
            base,
            EMAIL,
            token,
            counter=self.counter,
            budget=RetryBudget(max_attempts=4, sleep=self.slept.append),
            timeout=5.0,
        )


@pytest.fixture
def jira_cassette() -> Callable[[str], Any]:
    @contextmanager
    def run(name: str) -> Iterator[JiraCassetteRun]:
        path = CASSETTES / name
        record = RECORD or not path.exists()
        if RECORD and path.exists():
            path.unlink()
        emulator = JiraEmulator(jira_desk_data(), clock=lambda: NOW) if record else None
        slept: list[float] = []
        counter = CallCounter()
        budget = RetryBudget(total_seconds=60.0, max_attempts=4, sleep=slept.append)
        try:
            base = emulator.start("127.0.0.1", 0) if emulator else REPLAY_BASE
            token = emulator.token if emulator else REPLAY_TOKEN
            adapter = JiraAdapter(base, EMAIL, token, counter=counter, budget=budget, timeout=5.0)
            secrets = (token, "wrong-token-DO-NOT-LEAK")
            with jira_vcr("once" if record else "none", secrets).use_cassette(name):
                yield JiraCassetteRun(adapter, emulator, counter, slept)
        finally:
            if emulator:
                emulator.stop()

    return run


def test_it_replays_a_paged_search_with_custom_fields(jira_cassette) -> None:
    with jira_cassette("jira_search_pages.yaml") as run:
        fields = ["summary", "status", "assignee", "Organizations", "Request Type", "comment"]
        tickets = list(run.adapter.search('project = "SS" ORDER BY key', fields, page_size=4))

        assert [t.key for t in tickets] == [f"SS-{n}" for n in range(1, 10)]
        first = tickets[0]
        assert first.organizations == ("Sunrise Solar Co",)
        assert first.request_type == "Company-specific Data Change"
        assert first.url == f"{run.emulator.url if run.emulator else REPLAY_BASE}/browse/SS-1"
        # serverInfo + field + three pages
        assert run.counter.as_dict()["jira"] == 5


def test_it_replays_truncated_comments_and_both_comment_kinds(jira_cassette) -> None:
    with jira_cassette("jira_comments.yaml") as run:
        if run.emulator:
            run.emulator.add_issue(
                key="SS-50",
                summary="Long thread",
                created="-1d",
                comments=[
                    {"author": "Maya Patel", "body": f"note {n}", "created": "-20h"}
                    for n in range(25)
                ],
            )
        (ticket,) = run.adapter.search('key = "SS-50"', ["comment"])
        complete = run.adapter.with_all_comments(ticket)
        internal = run.adapter.add_internal_comment("SS-2", "[~accountid:acc-rachel-kim] FYI")
        public = run.adapter.add_public_comment(
            "SS-2", "Hi Omar,\n\nDone: your address is updated."
        )

        assert (len(ticket.comments), ticket.comments_total) == (20, 25)
        assert len(complete.comments) == 25 and complete.comments_complete
        assert not internal.public and public.public
        assert public.body == "Hi Omar,\n\nDone: your address is updated."


def test_it_replays_ticket_updates(jira_cassette) -> None:
    with jira_cassette("jira_writes.yaml") as run:
        run.adapter.transition("SS-1", "Waiting for customer")
        run.adapter.link(inward_key="SS-9", outward_key="SS-1", link_type="Duplicate")
        run.adapter.set_priority("SS-8", "High")
        run.adapter.add_labels("SS-8", ["EB"])
        run.adapter.edit("SS-8", {"Organizations": ["Cedar Ridge Roofing"], "Channel": ["Chat"]})
        key = run.adapter.create_issue(
            {
                "project": "CS",
                "issuetype": "Task",
                "summary": "A New Channel Partner Request for Cedar Ridge Roofing",
                "QA Assignee": "acc-cherish-sharma",
                "duedate": date(2026, 11, 5),
            }
        )
        run.adapter.set_property("SS-8", "sla-monitor", {"alerted": True})
        stored = run.adapter.get_property("SS-8", "sla-monitor")
        approver = run.adapter.find_user("david.ellis@goeverbright.example")

        assert key == "CS-2"
        assert stored == {"alerted": True}
        assert approver is not None and approver.account_id == "acc-david-ellis"
        if run.emulator:
            assert run.emulator.issue("SS-1").status == "Waiting for customer"
            assert run.emulator.issue("SS-8").organizations == ["Cedar Ridge Roofing"]


def test_it_replays_a_rate_limit_and_waits_the_recorded_retry_after(jira_cassette) -> None:
    with jira_cassette("jira_rate_limited.yaml") as run:
        if run.emulator:
            run.emulator.inject(r"/search/jql$", status=429, retry_after=5)

        tickets = list(run.adapter.search('key = "SS-1"', ["summary"]))

        assert [t.key for t in tickets] == ["SS-1"]
        assert run.slept == [5.0]
        assert run.counter.as_dict()["jira"] == 4


def test_it_replays_errors_as_the_right_exceptions(jira_cassette) -> None:
    with jira_cassette("jira_errors.yaml") as run:
        with pytest.raises(PermanentError, match="404"):
            run.adapter.comments("SS-404")
        with pytest.raises(PermanentError, match="cannot move to 'Done'"):
            run.adapter.transition("SS-1", "Done")
        with pytest.raises(CredentialError):
            run.adapter_with_token("wrong-token-DO-NOT-LEAK").field_ids()

        assert run.slept == []
