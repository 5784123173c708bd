"""One hostile item never blocks the others; an answer of the wrong shape never clears alerts.

Two figures of `make reliability`:

- **hostile items**: one ticket or sheet row built to break things (a name of 9,000 ``&`` that
  escapes to 45,000 characters, a summary of 100,000 characters, markup that would ping the
  channel) is put among the ordinary ones. Every ordinary item the undisturbed run alerts on
  must still be alerted: ``blocked`` counts those that were not.
- **malformed answers**: after a good run has alerts open, the upstream answers with status
  200 and a body of the wrong shape (a list where an object goes, ``null``, ``fields: null``,
  a page that says it is not the last without a token). The run fails (exit 1, one line) and
  resolves nothing: ``false_all_clear`` counts the alerts it closed anyway.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.reliability.conftest import CASES, NEXT_RUN, ReliabilityDesk

SEARCH = r"/rest/api/3/search/jql$"
SHEET_KEY = "1EverBrightFinancierOnboardingSheet"
VALUES = r"/values/"


def _texts(message: Any) -> str:
    """Everything a Slack message shows: its fallback and every text in its blocks."""
    texts = [message.text or ""]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                texts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.blocks or [])
    return "\n".join(texts)


def _shown(stack: Any) -> str:
    return "\n".join(_texts(m) for m in stack.slack.messages)


def _open_records(rdesk: ReliabilityDesk, job: str) -> int:
    from jobs.ledger import open_ledger

    ledger = open_ledger(rdesk.env["JOBS_LEDGER_URL"])
    try:
        return sum(
            1 for key in ledger.records(job, open_only=True) if not key.alert.startswith("_")
        )
    finally:
        ledger.close()


# -- hostile tickets among ordinary ones ------------------------------------------------------

ORDINARY_TICKETS = ("SS-120", "SS-121", "SS-122")
"""Tickets of the first-response desk the undisturbed run alerts on."""

HOSTILE_TICKETS: dict[str, dict[str, Any]] = {
    "a summary of 9,000 '&' (45,000 characters escaped)": {"summary": "&" * 9_000},
    "a summary of 100,000 characters": {"summary": "Portal " * 14_286},
    "an organization of 9,000 '&'": {"organizations": ["&" * 9_000]},
    "markup that would ping the channel, a fake link": {
        "summary": "<!channel> <!here> @everyone <https://evil.example|Open in Jira> " * 200
    },
    "right-to-left override and zero-width characters": {
        "summary": "\u202egpj.exe\u202c\u200b\u200d\ufeff" * 2_000
    },
}


def _with_hostile_ticket(tmp_path: Path, fields: dict[str, Any]) -> Path:
    ticket = {
        "key": "SS-999",
        "summary": "Hostile",
        "status": "Open",
        "created": "-2h30m",
        "reporter": "dana.cho@acmeroofing.example",
        **fields,
    }
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump({"tickets": [ticket]}, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("grouped", [True, False], ids=["grouped", "one-message-each"])
@pytest.mark.parametrize("hostile", sorted(HOSTILE_TICKETS))
def test_a_hostile_ticket_never_keeps_the_others_from_being_alerted(
    hostile: str, grouped: bool, rdesk: ReliabilityDesk, tmp_path: Path, figure: Any
) -> None:
    scenario = figure.hostile(f"ticket: {hostile} ({'grouped' if grouped else 'one each'})")
    threshold = 1 if grouped else 50
    stack = rdesk.start(
        CASES["unassigned"],
        settings={"jobs": {"unassigned_first_response": {"group_threshold": threshold}}},
        extra_fixtures=(_with_hostile_ticket(tmp_path, HOSTILE_TICKETS[hostile]),),
    )

    run = rdesk.run_job()

    shown = _shown(stack)
    scenario.blocked = sum(1 for key in ORDINARY_TICKETS if f"|{key}>" not in shown)
    scenario.traceback, scenario.one_line = run.traceback, run.one_line()
    assert run.code == 0, run.describe()
    assert scenario.blocked == 0, shown[:3000]
    assert "|SS-999>" in shown  # the hostile one is alerted too, cut to fit
    assert "<!channel>" not in shown and "<!here>" not in shown
    assert "<https://evil.example|" not in shown


# -- hostile sheet rows among ordinary ones ---------------------------------------------------

HEADER = ["#", "Account Name", "", "", "", "", "", "", "", "", "", "Status"]
ORDINARY_ACCOUNTS = ("Ampersand Roofing", "After Amp Energy", "Quiet Creek Solar")


def _row(name: Any, status: Any = "Approved") -> list[Any]:
    return ["", name, "", "", "", "", "", "", "", "", "", status]


HOSTILE_ROWS: dict[str, list[Any]] = {
    "an account name of 9,000 '&'": _row("&" * 9_000),
    "an account name of 100,000 characters": _row("Installer " * 10_000),
    "a name that would ping the channel": _row("<!channel> <https://evil.example|Jira> " * 300),
    "a status of 50,000 characters": _row("Hostile Status Co", "Approved " * 5_555),
}


@pytest.mark.parametrize("hostile", sorted(HOSTILE_ROWS))
def test_a_hostile_sheet_row_never_keeps_the_other_accounts_from_being_alerted(
    hostile: str, rdesk: ReliabilityDesk, figure: Any
) -> None:
    scenario = figure.hostile(f"sheet row: {hostile}")
    case = CASES["onboarding_missing"]
    stack = rdesk.start(case)
    rows = [HEADER, *(_row(name) for name in ORDINARY_ACCOUNTS), HOSTILE_ROWS[hostile]]
    stack.sheets.spreadsheets[SHEET_KEY][1]["rows"] = rows

    runs = [rdesk.run_job(at) for at in (*case.prime, case.at)]

    shown = _shown(stack)
    scenario.blocked = sum(1 for name in ORDINARY_ACCOUNTS if name not in shown)
    scenario.traceback = any(r.traceback for r in runs)
    scenario.one_line = all(r.one_line() for r in runs)
    assert runs[-1].code == 0, runs[-1].describe()
    assert scenario.blocked == 0, shown[:3000]
    assert "<!channel>" not in shown


# -- answers of the wrong shape with status 200 -----------------------------------------------

MALFORMED_SEARCHES: dict[str, bytes] = {
    "issues is a string": json.dumps({"issues": "nope", "isLast": True}).encode(),
    "null": b"null",
    "a list instead of an object": b"[]",
    "no issues key": json.dumps({"isLast": True}).encode(),
    "an issue with fields null": json.dumps(
        {"issues": [{"key": "SS-120", "fields": None}], "isLast": True}
    ).encode(),
    "issues that are strings": json.dumps({"issues": ["SS-120"], "isLast": True}).encode(),
    "not the last page, no token": json.dumps({"issues": [], "isLast": False}).encode(),
    "HTML from a proxy": b"<html><body>Service Unavailable</body></html>",
}


@pytest.mark.parametrize("answer", sorted(MALFORMED_SEARCHES))
@pytest.mark.parametrize("case_name", ["unassigned", "hygiene_fixing"])
def test_a_malformed_search_answer_fails_the_run_and_clears_no_alert(
    case_name: str, answer: str, rdesk: ReliabilityDesk, figure: Any
) -> None:
    scenario = figure.malformed(f"{CASES[case_name].job}: search answer: {answer}")
    case = CASES[case_name]
    stack = rdesk.start(case)
    good = rdesk.run_job()
    assert good.code == 0, good.describe()
    before = _open_records(rdesk, case.job)
    assert before > 0
    posted = len(stack.slack.messages)
    edits = [len(m.updates) for m in stack.slack.messages]
    stack.jira.inject(SEARCH, status=200, raw=MALFORMED_SEARCHES[answer], times=50)

    bad = rdesk.run_job(case.at + NEXT_RUN)

    after = _open_records(rdesk, case.job)
    scenario.false_all_clear = max(0, before - after)
    scenario.traceback, scenario.one_line = bad.traceback, bad.one_line()
    assert bad.code == 1, bad.describe()
    assert scenario.false_all_clear == 0
    assert not bad.traceback and bad.one_line(), bad.describe()
    assert len(stack.slack.messages) == posted  # nothing told
    assert [len(m.updates) for m in stack.slack.messages] == edits  # nothing "resolved"


MALFORMED_VALUES: dict[str, bytes] = {
    "values is a string": json.dumps({"range": "'Tab 2'!A1:Z100", "values": "rows"}).encode(),
    "rows that are strings": json.dumps(
        {"range": "'Tab 2'!A1:Z100", "values": ["a", "b"]}
    ).encode(),
    "null": b"null",
    "a list instead of an object": b"[[1, 2]]",
}


@pytest.mark.parametrize("answer", sorted(MALFORMED_VALUES))
def test_a_malformed_sheet_answer_fails_the_run_and_clears_no_alert(
    answer: str, rdesk: ReliabilityDesk, figure: Any
) -> None:
    scenario = figure.malformed(f"onboarding_missing_ticket: values answer: {answer}")
    case = CASES["onboarding_missing"]
    stack = rdesk.start(case)
    for at in (*case.prime, case.at):
        assert rdesk.run_job(at).code == 0
    before = _open_records(rdesk, case.job)
    assert before > 0
    stack.sheets.inject(VALUES, status=200, raw=MALFORMED_VALUES[answer], times=50)

    bad = rdesk.run_job(case.at + NEXT_RUN)

    after = _open_records(rdesk, case.job)
    scenario.false_all_clear = max(0, before - after)
    scenario.traceback, scenario.one_line = bad.traceback, bad.one_line()
    assert bad.code == 1, bad.describe()
    assert scenario.false_all_clear == 0
    assert not bad.traceback and bad.one_line(), bad.describe()
