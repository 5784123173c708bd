"""Bad data: tickets with missing, null or oddly typed fields, huge summaries, non-Latin, emoji
and right-to-left text; a sheet of 10,000 rows, a blank tab, formulas, dates and numbers where
names belong. And property-based tests of the parsers that read what people type.

No input may crash a run (a traceback): each run ends with exit 0, or 1 with one-line errors,
and every data problem is one line naming its place (a ticket key, a sheet row, the tab).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import write_settings
from tests.reliability.conftest import CASES, SEARCH, ReliabilityDesk

pytestmark = pytest.mark.badinput

SHEET_KEY = "1EverBrightFinancierOnboardingSheet"
SLACK_TEXT_LIMIT = 40_000
SLACK_SECTION_LIMIT = 3000


def _status(name: str = "Open", category: str = "new") -> dict[str, Any]:
    return {"name": name, "statusCategory": {"key": category}}


# -- what Jira may answer: null, missing, oddly typed ---------------------------------------------

ANSWERS: dict[str, Any] = {
    "every field null": {"issues": [{"key": "SS-901", "id": "1", "fields": {
        "summary": None, "status": None, "created": None, "assignee": None, "reporter": None,
        "priority": None, "labels": None, "comment": None, "issuelinks": None,
        "description": None, "customfield_10002": None}}], "isLast": True},
    "no fields at all": {"issues": [{"key": "SS-902"}], "isLast": True},
    "fields of the wrong type": {"issues": [{"key": "SS-903", "id": 5, "fields": {
        "summary": 42, "status": "Open", "created": 1_700_000_000, "labels": "urgent",
        "comment": [], "priority": ["High"], "customfield_10002": {"name": 5},
        "reporter": "someone", "assignee": 7, "updated": True, "issuelinks": {"a": 1},
        "description": ["x"]}}], "isLast": True},
    "issues that are not objects": {"issues": ["SS-904", 7, None, {"fields": {}}, {"key": None}],
                                    "isLast": True},
    "issues not a list": {"issues": {"SS-905": {}}, "isLast": True},
    "the answer is a list": [],
    "dates that are not dates": {"issues": [{"key": "SS-906", "fields": {
        "summary": "x", "status": _status(), "created": "2026-13-45T99:00:00.000+0000",
        "comment": {"comments": [{"id": "1", "body": None, "created": "yesterday",
                                  "author": "x", "jsdPublic": "yes"}], "total": "many"}}}],
        "isLast": True},
    "a comment total Jira cannot back": {"issues": [{"key": "SS-120", "fields": {
        "summary": "x", "status": _status(), "created": "2026-11-24T12:00:00.000+0000",
        "comment": {"comments": [], "total": 10**12}}}], "isLast": True},
}  # fmt: skip


@pytest.mark.parametrize("case_name", ["unassigned", "channel_partner"])
@pytest.mark.parametrize("shape", sorted(ANSWERS))
def test_an_odd_search_answer_never_crashes_the_run(
    shape: str, case_name: str, rdesk: ReliabilityDesk, figure: Any
) -> None:
    scenario = figure.bad_input(f"jira search answer: {shape} ({case_name})")
    case = CASES[case_name]
    stack = rdesk.start(case)
    stack.jira.inject(SEARCH, status=200, body=ANSWERS[shape], times=1)

    run = rdesk.run_job()

    scenario.traceback, scenario.one_line = run.traceback, run.one_line()
    assert run.code in (0, 1), run.describe()
    assert not run.traceback, run.describe()
    assert run.one_line(), run.describe()
    if run.code:
        assert any("search" in e for e in run.errors()), run.describe()
    assert not [e for e in rdesk.effects() if e.startswith(("public", "created"))]


def test_a_ticket_without_a_creation_date_is_a_data_problem_not_an_escalation(
    rdesk: ReliabilityDesk, figure: Any
) -> None:
    scenario = figure.bad_input("jira ticket without a creation date")
    stack = rdesk.start(CASES["unassigned"])
    fields = {"summary": "Portal down", "status": _status(), "created": None}
    answer = {"issues": [{"key": "SS-901", "fields": fields}], "isLast": True}
    stack.jira.inject(SEARCH, status=200, body=answer, times=1)

    run = rdesk.run_job()

    scenario.traceback, scenario.one_line = run.traceback, run.one_line()
    assert run.code == 0, run.describe()
    assert [m.text for m in stack.slack.messages if "SS-901" in m.text] == []
    assert any(p["where"] == "SS-901" for p in run.problems()), run.describe()


def test_a_search_whose_next_page_never_changes_ends_with_a_clear_error(
    rdesk: ReliabilityDesk, figure: Any
) -> None:
    scenario = figure.bad_input("jira search: nextPageToken repeats forever")
    stack = rdesk.start(CASES["unassigned"])
    looping = {"issues": [], "isLast": False, "nextPageToken": "the-same-page"}
    stack.jira.inject(SEARCH, status=200, body=looping, times=200)

    run = rdesk.run_job()

    scenario.traceback, scenario.one_line = run.traceback, run.one_line()
    assert run.code == 1, run.describe()
    assert len(stack.jira.calls_to(SEARCH)) <= 3
    assert any("nextPageToken" in e or "page" in e for e in run.errors()), run.describe()


# -- odd but real tickets: sizes, scripts, directions ---------------------------------------------

RTL_OVERRIDE = "\u202e"
ODD_SUMMARIES = {
    "SS-951": "Zahlungsantrag abgelehnt – Überprüfung nötig (Größe ß)",
    "SS-952": "Заявка на финансирование отклонена 请求被拒绝 申請が却下されました",
    "SS-953": "🚀🔥 Portal down 💥 " + "🌞" * 500,
    "SS-954": f"طلب التمويل مرفوض {RTL_OVERRIDE}gpj.exe{RTL_OVERRIDE} עברית",
    "SS-955": "Zero\u200bwidth\u200djoiner\ufeff and combining a\u0301\u0301\u0301",
    "SS-956": "Huge " + "summary " * 12_500,
    "SS-957": "Tabs\tand\tline\nbreaks\r\nin a summary",
}


def _odd_tickets(tmp_path: Path) -> Path:
    tickets = [
        {
            "key": key,
            "summary": summary,
            "status": "Open",
            "created": "-2h30m",
            "reporter": "dana.cho@acmeroofing.example",
            "organizations": ["Organización Ñandú 🌵 " + "x" * 3000] if key == "SS-951" else [],
            "description": "Ω" * 100_000 if key == "SS-956" else "",
        }
        for key, summary in ODD_SUMMARIES.items()
    ]
    path = tmp_path / "odd.yaml"
    path.write_text(yaml.safe_dump({"tickets": tickets}, allow_unicode=True), encoding="utf-8")
    return path


def _slack_texts(message: Any) -> list[str]:
    texts = [message.text]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                texts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.blocks or [])
    return texts


@pytest.mark.parametrize("group_threshold", [1, 10], ids=["grouped", "one-message-each"])
def test_huge_non_latin_emoji_and_right_to_left_summaries_are_alerted_within_slack_s_limits(
    group_threshold: int, rdesk: ReliabilityDesk, tmp_path: Path, figure: Any
) -> None:
    scenario = figure.bad_input(
        f"tickets in every script, huge and right-to-left ({group_threshold})"
    )
    settings = {"jobs": {"unassigned_first_response": {"group_threshold": group_threshold}}}
    stack = rdesk.start(
        CASES["unassigned"], settings=settings, extra_fixtures=(_odd_tickets(tmp_path),)
    )

    run = rdesk.run_job()

    scenario.traceback, scenario.one_line = run.traceback, run.one_line()
    assert run.code == 0, run.describe()
    alerted = "\n".join(t for m in stack.slack.messages for t in _slack_texts(m))
    for key in ODD_SUMMARIES:
        assert key in alerted, key
    assert "Заявка на финансирование" in alerted and "请求被拒绝" in alerted
    assert "🚀🔥" in alerted and "طلب التمويل" in alerted
    for message in stack.slack.messages:
        assert len(message.text) <= SLACK_TEXT_LIMIT
        sections = [b for b in message.blocks or [] if b.get("type") == "section"]
        assert all(len(b["text"]["text"]) <= SLACK_SECTION_LIMIT for b in sections)


def test_a_customer_named_in_arabic_with_emoji_gets_one_reply_with_their_name(
    rdesk: ReliabilityDesk, figure: Any
) -> None:
    scenario = figure.bad_input("customer name in Arabic with emoji and an RTL override")
    stack = rdesk.start(CASES["onboard_reset"])
    name = f"دانة 🌞 {RTL_OVERRIDE}Whitfield"
    for user in stack.jira.desk["users"]:
        if user.get("email") == "dana.whitfield@sunrise-solar.example":
            user["display_name"] = name

    first = rdesk.run_job()
    again = rdesk.run_job(CASES["onboard_reset"].at + timedelta(hours=1))

    scenario.traceback, scenario.one_line = first.traceback, first.one_line()
    replies = [c.body for c in stack.jira.comments_of("SS-401") if "onboard-reset" in c.body]
    assert first.code == 0 and again.code == 0, first.describe()
    assert len(replies) == 1
    assert replies[0].startswith("Hi دانة,")  # the template greets by first name


# -- the sheet ------------------------------------------------------------------------------------

HEADER = ["#", "Account Name", "", "", "", "", "", "", "", "", "", "Status"]


def _row(name: Any, status: Any = "Approved", number: Any = "") -> list[Any]:
    return [number, name, "", "", "", "", "", "", "", "", "", status]


def _ten_thousand_rows() -> list[list[Any]]:
    rows = [["Financier onboarding, second tab"], HEADER]
    rows += [_row(f"Pending Installer {n}", "Pending review", n) for n in range(9_970)]
    rows += [_row(f"Approved Newcomer {n:02d} Roofing", "Approved", n) for n in range(30)]
    return rows


SHEETS: dict[str, list[list[Any]]] = {
    "10,000 rows": _ten_thousand_rows(),
    "a blank tab": [],
    "only a title, no header": [["Financier onboarding"], [], ["(nothing yet)"]],
    "formulas and formula errors": [HEADER, _row("=IMPORTRANGE(\"1abc\",\"Sheet1!A:A\")"),
                                    _row("#REF!"), _row("#N/A", "#VALUE!"), _row("=1+1"),
                                    _row("Formula Status Co", "=IF(A1>0,\"Approved\",\"\")")],
    "dates and numbers as text": [HEADER, _row("11/23/2026"), _row(12345), _row(3.75),
                                  _row(True), _row("Datey Solar", "11/23/2026"),
                                  _row("Numbered Roofing", 1)],
    "empty and missing cells": [HEADER, [None, None], _row(None), _row("", "Approved"),
                                ["", "Short Row Solar"], _row("   ", "  ")],
    "huge and odd names": [HEADER, _row("Mega " + "Installer " * 5_000),
                           _row("شركة الطاقة الشمسية 🌞"), _row(f"{RTL_OVERRIDE}ylppuS rewoP"),
                           _row("Line\nbreak Solar"), _row("Zero\u200bWidth Energy")],
    "rows longer than the header": [HEADER, [*_row("Wide Row Electric"), *["x"] * 40]],
    "an account name of 9,000 '&'": [HEADER, _row("Ampersand Roofing"), _row("&" * 9_000),
                                     _row("<!channel> Broadcast Solar"), _row("After Amp Energy")],
}  # fmt: skip
BLOCKERS = {"an account name of 9,000 '&'": ("Ampersand Roofing", "After Amp Energy")}
"""Sheets with one hostile item: the other accounts named must still be alerted."""


@pytest.mark.parametrize("sheet", sorted(SHEETS))
def test_an_odd_sheet_never_crashes_the_run_and_each_problem_names_its_row(
    sheet: str, rdesk: ReliabilityDesk, figure: Any
) -> None:
    scenario = figure.bad_input(f"sheet: {sheet}")
    case = CASES["onboarding_missing"]
    stack = rdesk.start(case)
    stack.sheets.spreadsheets[SHEET_KEY][1]["rows"] = SHEETS[sheet]

    runs = [rdesk.run_job(at) for at in (*case.prime, case.at)]

    scenario.traceback = any(r.traceback for r in runs)
    scenario.one_line = all(r.one_line() for r in runs)
    for run in runs:
        assert run.code in (0, 1), run.describe()
        assert not run.traceback, run.describe()
        assert run.one_line(), run.describe()
    for message in stack.slack.messages:
        assert len(message.text) <= SLACK_TEXT_LIMIT
    if sheet in BLOCKERS:
        # One item escaping to 45,000 characters must not keep the others from going out.
        shown = "\n".join(t for m in stack.slack.messages for t in _slack_texts(m))
        assert runs[-1].code == 0, runs[-1].describe()
        assert all(name in shown for name in BLOCKERS[sheet]), shown[:2000]
        assert "<!channel>" not in shown
    if sheet == "10,000 rows":
        # What Slack shows: the blocks list every line; the notification text may stop at
        # "… and N more" under Slack's 4,000 characters.
        alerted = "\n".join(t for m in stack.slack.messages for t in _slack_texts(m))
        assert all(f"Approved Newcomer {n:02d} Roofing" in alerted for n in range(30))
        assert "Pending Installer" not in alerted
        assert len(stack.slack.messages) <= math.ceil(30 / 25) + 1


# -- parsers, property-based ----------------------------------------------------------------------

PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _load(tmp_path: Path, overrides: dict[str, Any]) -> Any:
    from jobs.config import load_settings
    from jobs.registry import all_jobs

    path = write_settings(tmp_path, overrides)
    return load_settings(path, {n: j.spec.config_model for n, j in all_jobs().items()})


@PROPERTY
@given(
    text=st.one_of(
        st.text(max_size=20), st.text(alphabet="0123456789 smhdwbSMHDWB.-+:", max_size=12)
    )
)
@example(text="3bd")
@example(text="1h30m")
@example(text="99999999999d")
def test_any_duration_text_in_the_settings_loads_or_is_named_by_its_key(
    text: str, tmp_path: Path, figure: Any
) -> None:
    figure.once("bad_input", "property: any text as a duration setting")
    from jobs.config import ConfigError
    from jobs.durations import parse_duration

    try:
        loaded = _load(tmp_path, {"jobs": {"approval_reminder": {"remind_after": text}}})
    except ConfigError as exc:
        assert exc.problems
        assert all(p.startswith("jobs.approval_reminder.remind_after") for p in exc.problems)
        assert all("\n" not in p for p in exc.problems)
        return
    assert loaded.jobs["approval_reminder"].remind_after == parse_duration(text)


@PROPERTY
@given(text=st.one_of(st.text(max_size=16), st.text(alphabet="0123456789:- ", max_size=13)))
@example(text="09:00-17:00")
@example(text="00:00-24:00")
@example(text="23:59-24:00")
@example(text="24:00-24:00")
def test_any_working_hours_text_loads_a_usable_calendar_or_is_named_by_its_key(
    text: str, tmp_path: Path, figure: Any
) -> None:
    figure.once("bad_input", "property: any text as working hours")
    from jobs.calendar import desk_calendar
    from jobs.config import ConfigError

    overrides = {"calendar": {"mode": "business", "hours": {"mon": text}}}
    try:
        loaded = _load(tmp_path, overrides)
    except ConfigError as exc:
        assert exc.problems and all(p.startswith("calendar") for p in exc.problems)
        return
    calendar = desk_calendar(loaded, range(2026, 2027))
    monday = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    week = calendar.elapsed(monday, monday + timedelta(days=7))
    assert timedelta(0) <= week <= timedelta(days=7)
    assert calendar.add(monday, timedelta(0)) >= monday


@PROPERTY
@given(text=st.text(max_size=40))
@example(text="2026-11-23T09:00:00")
@example(text="2026-11-23T09:00:00-05:00")
@example(text="2026-02-30T09:00:00Z")
def test_any_now_argument_is_an_instant_with_an_offset_or_a_value_error(
    text: str, figure: Any
) -> None:
    figure.once("bad_input", "property: any text as --now")
    from jobs.clock import parse_instant

    try:
        instant = parse_instant(text)
    except ValueError as exc:
        assert "\n" not in str(exc) and "--now" in str(exc)
        return
    assert instant.utcoffset() is not None


SHEET_TEXT = st.text(
    alphabet=st.characters(
        categories=["L", "M", "N", "P", "S", "Zs", "Cf"], include_characters="\u202e\u200f\n"
    ),
    max_size=40,
)


@PROPERTY
@given(left=SHEET_TEXT, right=SHEET_TEXT)
@example(left="Bright Path Energy, LLC", right="BRIGHT PATH ENERGY")
@example(left="\u202eocs\u202c Solar", right="Solar")
@example(left="🌞🌞", right="🌞")
def test_any_sheet_or_ticket_name_normalizes_and_compares_without_surprises(
    left: str, right: str, figure: Any
) -> None:
    figure.once("bad_input", "property: any text as a company name")
    from jobs.rules.names import compare_names, normalize_name

    once = normalize_name(left)
    assert normalize_name(once) == once
    assert compare_names(left, right).score == compare_names(right, left).score
    assert 0 <= compare_names(left, right).score <= 100
    if once:
        assert compare_names(left, left).score == 100


CELLS = st.one_of(SHEET_TEXT, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())


@PROPERTY
@given(rows=st.lists(st.lists(CELLS, max_size=14), max_size=25))
def test_any_sheet_rows_are_read_into_rows_and_problems_that_name_their_row(
    rows: list[list[Any]], figure: Any
) -> None:
    figure.once("bad_input", "property: any cells as the onboarding sheet")
    from jobs.adapters.sheets import tab_from_rows
    from jobs.rules.onboarding_missing_ticket import SheetLayout, read_onboarding_sheet

    layout = SheetLayout()
    sheet = read_onboarding_sheet(tab_from_rows([HEADER, *rows]), layout)

    for problem in sheet.problems:
        assert problem.where.startswith(("sheet row ", layout.where))
        assert "\n" not in problem.message
    for row in sheet.rows:
        assert row.name and 2 <= row.row_number <= len(rows) + 1
    json.dumps([p.message for p in sheet.problems])
