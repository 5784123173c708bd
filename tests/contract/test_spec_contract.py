"""The vendors' published specs, applied to what the jobs send and the emulators answer.

`spec_check` holds the checker and its documented exceptions. Here: the demo desk (every job,
every ``actions.*`` switch on, run twice, as ``make demo`` does) must produce no violation at
all, requests included. Every other test that talks to the emulators is checked too
(``tests/conftest.py`` ``spec_contract``: its answers must be on spec, and a request off spec
must have been refused). The last tests prove the checker sees what it is meant to see.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from emulators.base import Exchange
from tests.contract.spec_check import (
    EXCEPTIONS,
    Recorder,
    judge,
    spec_book,
    specs_available,
)

pytestmark = pytest.mark.skipif(not specs_available(), reason="spec files not found")


def _run_demo_desk(tmp_path: Path) -> tuple[list[Exchange], list[int]]:
    from emulators.demo import DESK, SETTINGS, demo_now, demo_settings
    from emulators.fixtures import load_desk
    from emulators.stack import start_stack
    from jobs.cli import main as jobs_main

    settings = demo_settings(tmp_path)
    now = demo_now(yaml.safe_load(SETTINGS.read_text())["desk"]["timezone"])
    codes = []
    with Recorder() as recorder, start_stack(load_desk(DESK, now), now=now) as stack:
        env = {
            **stack.env(),
            "JOBS_CONFIG": str(settings),
            "JOBS_LEDGER_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
            "JOBS_LOG_LEVEL": "ERROR",
        }
        earlier = (now - timedelta(hours=1)).isoformat()
        codes.append(jobs_main(["run", "onboarding_missing_ticket", "--now", earlier], env=env))
        for _ in (1, 2):
            codes.append(jobs_main(["run", "all", "--now", now.isoformat()], env=env))
    return recorder.exchanges, codes


@pytest.mark.off_spec  # judged here, with the stricter rule for every request
def test_the_demo_desk_speaks_the_specs(tmp_path: Path, capsys: Any) -> None:
    exchanges, codes = _run_demo_desk(tmp_path)
    capsys.readouterr()

    assert codes == [0, 0, 0]
    systems = {e.emulator for e in exchanges}
    assert systems == {"jira", "slack", "sheets"}
    violations = judge(exchanges, requests_must_be_valid=True)
    assert [str(v) for v in violations] == []
    # The run exercised the writes too, not only reads.
    writes = {(e.method, re.sub(r"/[A-Z]+-\d+", "/KEY", e.path)) for e in exchanges}
    assert ("POST", "/rest/servicedeskapi/request/KEY/comment") in writes
    assert ("POST", "/api/files.completeUploadExternal") in writes


def test_every_documented_exception_is_used_and_explained() -> None:
    source = (Path(__file__).parent / "spec_check.py").read_text()

    used = set(re.findall(r'EXCEPTIONS\["([a-z0-9-]+)"\]', source))
    assert used == set(EXCEPTIONS)
    assert all(len(reason) > 80 for reason in EXCEPTIONS.values())


# -- the checker itself ------------------------------------------------------------------------


def _exchange(
    emulator: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    status: int = 200,
    answer: Any = None,
    query: dict[str, list[str]] | None = None,
    content_type: str = "application/json",
) -> Exchange:
    raw = b""
    if isinstance(body, bytes):
        raw = body
    elif body is not None:
        import json

        raw = json.dumps(body).encode()
    return Exchange(
        emulator=emulator,
        method=method,
        path=path,
        query=query or {},
        headers={"content-type": content_type} if raw else {},
        body=raw,
        status=status,
        response_headers={},
        response_body=answer,
        fault=False,
    )


def _problems(exchange: Exchange, side: str) -> list[str]:
    return [f"{v.where}: {v.message}" for v in spec_book().check(exchange) if v.side == side]


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"jql": "project = SS", "startAt": 50}, "'startAt' was unexpected"),
        ({"jql": "project = SS", "expand": ["changelog"]}, "is not of type 'string'"),
        ({"jql": "project = SS", "properties": ["a"] * 6}, "is too long"),
        ({"jql": "project = SS", "validateQuery": "strict"}, "'validateQuery' was unexpected"),
    ],
)
def test_it_flags_a_search_request_the_spec_refuses(body: dict, expected: str) -> None:
    problems = _problems(
        _exchange("jira", "POST", "/rest/api/3/search/jql", body, status=400), "request"
    )

    assert any(expected in p for p in problems), problems


def test_it_flags_a_search_answer_with_a_total() -> None:
    answer = {"issues": [], "isLast": True, "total": 0}

    problems = _problems(
        _exchange("jira", "POST", "/rest/api/3/search/jql", {"jql": "x"}, answer=answer),
        "answer",
    )

    assert any("'total' was unexpected" in p for p in problems)


def test_it_wants_adf_in_v3_and_strings_in_v2_comment_bodies() -> None:
    v3 = _exchange("jira", "POST", "/rest/api/3/issue/SS-1/comment", {"body": "hi"}, status=400)
    v2 = _exchange(
        "jira",
        "POST",
        "/rest/api/2/issue/SS-1/comment",
        {"body": {"type": "doc", "version": 1, "content": []}},
        status=400,
    )

    assert any("not an ADF document" in p for p in _problems(v3, "request"))
    assert any("wiki-markup string" in p for p in _problems(v2, "request"))


def test_it_wants_jsm_errors_in_the_jsm_shape() -> None:
    answer = {"errorMessages": ["Request does not exist"], "errors": {}}
    exchange = _exchange(
        "jira",
        "POST",
        "/rest/servicedeskapi/request/CS-1/comment",
        {"body": "x", "public": False},
        status=404,
        answer=answer,
    )

    assert any("'errorMessages'" in p for p in _problems(exchange, "answer"))


def test_it_flags_a_json_body_where_slack_takes_only_a_form() -> None:
    exchange = _exchange(
        "slack",
        "POST",
        "/api/users.lookupByEmail",
        {"email": "a@b.example"},
        answer={"ok": False, "error": "invalid_arguments"},
    )

    assert any("does not take application/json" in p for p in _problems(exchange, "request"))


def test_it_flags_a_sheets_parameter_outside_its_enum() -> None:
    exchange = _exchange(
        "sheets",
        "GET",
        "/v4/spreadsheets/k/values/A1",
        query={"valueRenderOption": ["PRETTY"]},
        answer={"range": "A1:A1", "majorDimension": "ROWS"},
    )

    assert any("'PRETTY' is not one of" in p for p in _problems(exchange, "request"))


def test_a_request_off_spec_that_was_refused_is_not_a_violation() -> None:
    refused = _exchange(
        "jira",
        "POST",
        "/rest/api/3/search/jql",
        {"jql": "x", "startAt": 1},
        status=400,
        answer={"errorMessages": ["Invalid request payload."], "errors": {}},
    )
    accepted = _exchange(
        "jira",
        "POST",
        "/rest/api/3/search/jql",
        {"jql": "x", "startAt": 1},
        answer={"issues": [], "isLast": True},
    )

    assert judge([refused], requests_must_be_valid=False) == []
    assert [v.where for v in judge([accepted], requests_must_be_valid=False)] == ["/"]
