"""SOP 000/001 through the CLI: approved on the onboarding sheet, no onboarding ticket."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

FIXTURE = "onboarding_missing_ticket.yaml"
JOB = "onboarding_missing_ticket"
CHANNEL = "#support-sla"
SHEET_KEY = "1EverBrightFinancierOnboardingSheet"
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
AFTER_GRACE = NOW + timedelta(hours=1)


def run(desk, at: datetime, *extra: str, report: Path | None = None):
    args = ["run", JOB, "--now", at.isoformat(), *extra]
    if report is not None:
        args += ["--report", str(report)]
    return desk.run(*args)


def texts(stack) -> str:
    return "\n".join(m.text for m in stack.slack.messages_in(CHANNEL))


def searches(stack) -> list[Any]:
    return [c for c in stack.jira.calls if "search" in c.path]


def set_rows(stack, rows: list[list[str]]) -> None:
    stack.sheets.spreadsheets[SHEET_KEY][1]["rows"] = rows


def sheet_row(name: str, status: str = "Approved") -> list[str]:
    return ["", name, "", "", "", "", "", "", "", "", "", status]


HEADER = ["#", "Account Name", "", "", "", "", "", "", "", "", "", "Status"]


# -- the Google sheet and Jira ------------------------------------------------------------------


def test_it_waits_out_the_grace_period_then_alerts_once(desk, tmp_path: Path) -> None:
    stack = desk(FIXTURE, now=NOW)

    first = run(desk, NOW, report=tmp_path / "first.json")
    assert first.code == 0, first.err
    assert stack.slack.messages_in(CHANNEL) == []  # everything is first seen: within grace
    report = json.loads((tmp_path / "first.json").read_text())
    assert report["findings"] == []
    assert [p["where"] for p in report["data_problems"]] == ["sheet row 8"]
    assert "empty account name with status 'Approved'" in report["data_problems"][0]["message"]

    assert run(desk, AFTER_GRACE - timedelta(seconds=1)).code == 0
    assert stack.slack.messages_in(CHANNEL) == []

    alerted = run(desk, AFTER_GRACE, report=tmp_path / "alert.json")
    assert alerted.code == 0, alerted.err
    missing, possible = stack.slack.messages_in(CHANNEL)
    assert "3 approved accounts without an EverBright onboarding ticket" in missing.text
    assert (
        "*Sun Power Co* · Approved · sheet rows 7, 12 · no ticket since first seen 1 h ago"
        in missing.text
    )
    assert "*Desert Sun Solar  *" not in missing.text and "*Desert Sun Solar*" in missing.text
    assert "Harbor Electric" in missing.text
    for matched in ("Sunrise Solar", "Acme Roofing", "Pending Solar", "Old Installer"):
        assert matched not in missing.text and matched not in possible.text
    assert "1 approved account: onboarding ticket name differs, please check" in possible.text
    assert "*Bright Path Energy, LLC*" in possible.text
    assert f"<{stack.jira.url}/browse/SS-202|SS-202>" in possible.text
    assert "Brightpath Energy" in possible.text
    report = json.loads((tmp_path / "alert.json").read_text())
    by_item = {f["item"]: f for f in report["findings"]}
    assert sorted(by_item) == [
        "sheet:bright path energy",
        "sheet:desert sun solar",
        "sheet:harbor electric",
        "sheet:sun power",
    ]
    assert by_item["sheet:sun power"]["facts"]["rows"] == [7, 12]
    assert by_item["sheet:bright path energy"]["severity"] == "info"
    assert by_item["sheet:bright path energy"]["facts"]["candidates"][0]["key"] == "SS-202"

    sent = len(stack.slack.messages)
    assert run(desk, AFTER_GRACE + timedelta(hours=2)).code == 0
    assert len(stack.slack.messages) == sent  # re-alerted at most once per 24 h

    assert run(desk, AFTER_GRACE + timedelta(hours=24)).code == 0
    assert len(stack.slack.messages) == sent + 2


def test_it_searches_jira_once_per_run_without_sheet_values(desk) -> None:
    # The job's own searches: the Home tab published after the run searches Jira too.
    stack = desk(FIXTURE, now=NOW, settings={"slack_app": {"home_tab": False}})

    assert run(desk, NOW).code == 0

    (call,) = searches(stack)
    jql = json.dumps(call.body)
    assert 'project = \\"SS\\"' in jql
    assert 'summary ~ \\"EverBright Partner Onboarding\\"' in jql
    assert "created >= -120d" in jql and "ORDER BY created DESC" in jql
    for sheet_value in ("Sun Power", "Desert Sun", "Harbor", "Bright Path"):
        assert sheet_value not in jql


def test_a_dry_run_prints_the_alert_and_writes_nothing(desk) -> None:
    stack = desk(FIXTURE, now=NOW)
    assert run(desk, NOW).code == 0  # remembers the first sightings

    dry = run(desk, AFTER_GRACE, "--dry-run")

    assert dry.code == 0, dry.err
    assert stack.slack.messages == []
    assert "[slack_post] -> #support-sla" in dry.out
    assert "*Sun Power Co* · Approved · sheet rows 7, 12" in dry.out
    assert "SS-202" in dry.out
    real = run(desk, AFTER_GRACE)  # the dry run recorded no send: the real run still alerts
    assert real.code == 0
    assert len(stack.slack.messages_in(CHANNEL)) == 2


def test_a_dry_run_does_not_start_the_grace_period(desk) -> None:
    stack = desk(FIXTURE, now=NOW)

    assert run(desk, NOW, "--dry-run").code == 0
    assert run(desk, NOW + timedelta(hours=3)).code == 0  # first real sighting: grace starts now

    assert stack.slack.messages == []


def test_nothing_is_sent_when_every_approved_account_has_a_ticket(desk) -> None:
    stack = desk(FIXTURE, now=NOW)
    set_rows(
        stack,
        [
            HEADER,
            sheet_row("Sunrise Solar Co"),
            sheet_row("ACME ROOFING, INC."),
            sheet_row("X", ""),
        ],
    )

    assert run(desk, NOW).code == 0
    assert run(desk, AFTER_GRACE + timedelta(days=2)).code == 0

    assert stack.slack.messages == []


def test_a_remembered_ticket_still_counts_after_it_leaves_the_look_back(desk) -> None:
    stack = desk(FIXTURE, now=NOW)
    set_rows(stack, [HEADER, sheet_row("Sunrise Solar Co")])
    assert run(desk, NOW).code == 0  # matched SS-200 (created 5 days ago): remembered

    # 130 days later SS-200 is outside the 120-day search window.
    later = NOW + timedelta(days=130)
    assert run(desk, later).code == 0
    assert run(desk, later + timedelta(hours=2)).code == 0

    assert stack.slack.messages == []


def test_an_account_approved_later_gets_its_own_grace_period(desk) -> None:
    stack = desk(FIXTURE, now=NOW)
    set_rows(
        stack, [HEADER, sheet_row("Sunrise Solar Co"), sheet_row("Granite Peak Solar", "Pending")]
    )
    assert run(desk, NOW).code == 0

    set_rows(stack, [HEADER, sheet_row("Sunrise Solar Co"), sheet_row("Granite Peak Solar")])
    assert run(desk, NOW + timedelta(hours=5)).code == 0
    assert stack.slack.messages == []
    assert run(desk, NOW + timedelta(hours=6)).code == 0

    (message,) = stack.slack.messages_in(CHANNEL)
    assert (
        "*Granite Peak Solar*" in message.text
        and "no ticket since first seen 1 h ago" in message.text
    )


def test_why_shows_the_decision_for_an_account(desk) -> None:
    desk(FIXTURE, now=NOW)
    assert run(desk, NOW).code == 0
    assert run(desk, AFTER_GRACE).code == 0
    assert run(desk, AFTER_GRACE + timedelta(hours=1)).code == 0

    why = desk.run("why", "sheet:sun power")

    assert why.code == 0, why.err
    lines = why.out.splitlines()
    assert any("onboarding_missing_ticket/missing_ticket" in ln and "sent" in ln for ln in lines)
    assert any("suppressed_duplicate" in ln and "already sent" in ln for ln in lines)


def test_the_sheet_and_the_search_are_read_at_once(desk) -> None:
    """The candidates search does not depend on the sheet: it is on its way while the sheet
    answers. Here the sheet's values wait for the search to arrive; read one after the other,
    it never would."""
    import time

    stack = desk(FIXTURE, now=NOW)
    arrived: list[bool] = []

    def once_the_search_is_in(request: Any, answer: Any) -> Any:
        deadline = time.monotonic() + 5
        while not searches(stack) and time.monotonic() < deadline:
            time.sleep(0.01)
        arrived.append(bool(searches(stack)))
        return answer

    stack.sheets.inject(r"/values/", rewrite=once_the_search_is_in)

    assert run(desk, NOW).code == 0
    assert arrived == [True]


def test_a_sheet_that_cannot_be_read_fails_the_run_and_keeps_what_was_learnt(desk) -> None:
    stack = desk(FIXTURE, now=NOW)
    assert run(desk, NOW).code == 0
    stack.sheets.inject(r"/values/", status=404, times=1)

    failed = run(desk, AFTER_GRACE)

    assert failed.code == 1
    assert stack.slack.messages == []
    assert run(desk, AFTER_GRACE).code == 0  # first sightings from NOW are still remembered
    assert len(stack.slack.messages_in(CHANNEL)) == 2


def test_a_tab_without_a_header_is_reported_and_nothing_is_forgotten(desk, tmp_path) -> None:
    stack = desk(FIXTURE, now=NOW)
    assert run(desk, NOW).code == 0
    rows = stack.sheets.spreadsheets[SHEET_KEY][1]["rows"]
    set_rows(stack, [r for r in rows if "Account Name" not in r])

    broken = run(desk, AFTER_GRACE, report=tmp_path / "r.json")

    assert broken.code == 0
    assert stack.slack.messages == []
    problems = json.loads((tmp_path / "r.json").read_text())["data_problems"]
    assert "no header row found" in problems[-1]["message"]
    set_rows(stack, rows)
    assert run(desk, AFTER_GRACE).code == 0
    assert len(stack.slack.messages_in(CHANNEL)) == 2  # grace still counted from NOW


def test_sheet_text_cannot_ping_the_channel(desk) -> None:
    stack = desk(FIXTURE, now=NOW)
    set_rows(stack, [HEADER, sheet_row("<!channel> Evil & Sons <https://x.example|Jira>")])
    assert run(desk, NOW).code == 0
    assert run(desk, AFTER_GRACE).code == 0

    (message,) = stack.slack.messages_in(CHANNEL)
    assert "<!channel>" not in message.text and "&lt;!channel&gt;" in message.text
    assert "<https://x.example" not in message.text


# -- a local export ----------------------------------------------------------------------------


def write_xlsx(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Read me"
    book.active.append(["How to use this export"])
    tab = book.create_sheet("Applications")
    tab.append(["Financier onboarding export"])
    tab.append([])
    tab.append(["#", "Account Name", "Contact", "State", "Submitted", *[None] * 6, "Status"])
    tab.append(
        [1, "Sunrise Solar Co ", "ops@x", "AZ", datetime(2026, 11, 1), *[None] * 6, "Approved"]
    )
    tab.append([2, "Granite Peak Solar", "gp@x", "CO", "11/20/2026", *[None] * 6, " approved"])
    tab.append([3, "Granite Peak Solar LLC", "gp@x", "CO", None, *[None] * 6, "Approved"])
    tab.append([4, "Canyon Roofing", None, None, None, *[None] * 6, "Approved"])
    tab.append([5, None, None, None, None, *[None] * 6, "Approved"])
    tab.merge_cells("B7:B8")  # Canyon Roofing spans rows 7-8; row 8's name cell reads empty
    tab.append([6, 42, None, None, None, *[None] * 6, "Declined"])
    book.create_sheet("Archive").append(["#", "Account Name"])
    book.save(path)
    return path


def test_it_reads_a_local_xlsx_export(desk, tmp_path: Path) -> None:
    xlsx = write_xlsx(tmp_path / "onboarding.xlsx")
    sheet = {"sheet": {"source": "file", "path": str(xlsx), "tab_index": 1}}
    stack = desk(FIXTURE, now=NOW, settings=sheet)

    assert run(desk, NOW).code == 0
    result = run(desk, AFTER_GRACE, report=tmp_path / "report.json")

    assert result.code == 0, result.err
    (message,) = stack.slack.messages_in(CHANNEL)
    assert "2 approved accounts without an EverBright onboarding ticket" in message.text
    assert "*Granite Peak Solar* · approved · sheet rows 5, 6" in message.text
    assert "*Canyon Roofing* · Approved · sheet row 7" in message.text
    assert "Sunrise Solar" not in message.text
    assert "onboarding.xlsx" in json.dumps(message.blocks)  # the footer names the file
    report = json.loads((tmp_path / "report.json").read_text())
    assert [p["where"] for p in report["data_problems"]] == ["sheet row 8"]
    assert report["api_calls"]["sheets"] == 0


def test_it_reads_a_local_csv_export(desk, tmp_path: Path) -> None:
    path = tmp_path / "onboarding.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerows([HEADER, sheet_row("Sunrise Solar Co"), sheet_row("Granite Peak Solar")])
    stack = desk(FIXTURE, now=NOW, settings={"sheet": {"source": "file", "path": str(path)}})

    assert run(desk, NOW).code == 0
    assert run(desk, AFTER_GRACE).code == 0

    (message,) = stack.slack.messages_in(CHANNEL)
    assert "*Granite Peak Solar*" in message.text and "Sunrise Solar" not in message.text


def test_a_missing_local_file_fails_the_run(desk, tmp_path: Path) -> None:
    missing = {"sheet": {"source": "file", "path": str(tmp_path / "nope.xlsx")}}
    stack = desk(FIXTURE, now=NOW, settings=missing)

    result = run(desk, NOW)

    assert result.code == 1
    assert stack.slack.messages == []


@pytest.mark.parametrize("typed", ["Sun Power Co", "sun power", "SUN POWER CO.", "sheet:sun power"])
def test_why_takes_the_account_as_the_sheet_writes_it(desk, typed: str) -> None:
    desk(FIXTURE, now=NOW)
    assert run(desk, NOW).code == 0
    assert run(desk, AFTER_GRACE).code == 0

    why = desk.run("why", typed)

    assert why.code == 0, why.err
    assert why.out.startswith(("2026-", "sheet:sun power")), why.out
    assert "onboarding_missing_ticket/missing_ticket" in why.out


def test_a_silence_by_the_sheet_name_silences_the_account(desk) -> None:
    stack = desk(FIXTURE, now=NOW)
    assert run(desk, NOW).code == 0

    silenced = desk.run("silence", "Sun Power Co", "--for", "3d", "--reason", "renamed in Jira")

    assert silenced.code == 0, silenced.err
    assert "silence 1: sheet:sun power (all jobs)" in silenced.out
    assert run(desk, AFTER_GRACE).code == 0
    shown = "\n".join(m.text for m in stack.slack.messages_in(CHANNEL))
    assert "Sun Power Co" not in shown
