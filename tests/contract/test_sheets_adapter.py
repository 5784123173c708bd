"""SheetsAdapter (real gspread + google-auth) against the Sheets emulator, and the file sources."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import vcr
from gspread.http_client import HTTPClient

from emulators.sheets import SheetsEmulator, write_service_account_file
from jobs.adapters.http import (
    CallCounter,
    CredentialError,
    PermanentError,
    RetryBudget,
    TransientError,
)
from jobs.adapters.sheets import (
    SheetsAdapter,
    column_index,
    column_letter,
    read_sheet_file,
    tab_from_rows,
)
from tests.contract import slack_sheets_fixtures as fx

call_counter = fx.call_counter
slept = fx.slept
retry_budget = fx.retry_budget
sheets_server = fx.sheets_server
sheets_emulator = fx.sheets_emulator
service_account_path = fx.service_account_path
sheets = fx.sheets

KEY = fx.ONBOARDING_KEY
SECOND_TAB = 1


def test_it_reads_the_second_tab_with_spreadsheet_row_numbers_and_column_letters(
    sheets: SheetsAdapter,
) -> None:
    tab = sheets.read_tab(KEY, SECOND_TAB)

    assert list(tab.columns) == [column_letter(n) for n in range(1, 14)]  # A..M
    assert list(tab.row_numbers) == list(range(1, 9))
    assert tab.cell(3, "B") == "Account name"
    assert tab.cell(3, "L") == "Status"
    assert (tab.cell(4, "B"), tab.cell(4, "L")) == ("HW Solar", "Approved")
    assert (tab.cell(8, "B"), tab.cell(8, "L")) == ("O'Brien <Solar>", "Approved ")


def test_it_keeps_blank_rows_and_pads_trimmed_cells_with_empty_strings(
    sheets: SheetsAdapter,
) -> None:
    tab = sheets.read_tab(KEY, SECOND_TAB)

    assert list(tab.row(2)) == list(tab.columns) and list(tab.row(6)) == list(tab.columns)
    assert all(v == "" for v in tab.row(2).values()) and all(v == "" for v in tab.row(6).values())
    assert tab.cell(7, "B") == "Sunrise Roofing & Solar"
    assert tab.cell(7, "L") == "" and tab.cell(5, "M") == ""
    assert tab.cell(4, "A") == "1"  # a number cell, as the sheet displays it
    assert all(len(cells) == len(tab.columns) for cells in tab.rows)
    assert all(isinstance(v, str) for cells in tab.rows for v in cells)


def test_it_reads_the_tab_through_two_api_calls(
    sheets: SheetsAdapter, sheets_emulator: SheetsEmulator, call_counter: CallCounter
) -> None:
    sheets.read_tab(KEY, SECOND_TAB)

    assert [c.path for c in sheets_emulator.calls_to(r"^/v4/")] == [
        f"/v4/spreadsheets/{KEY}",
        f"/v4/spreadsheets/{KEY}/values/%27Onboarding%202024%27",
    ]
    assert call_counter.as_dict()["sheets"] == 2


def test_it_names_the_tab_count_when_the_tab_is_missing(sheets: SheetsAdapter) -> None:
    with pytest.raises(PermanentError) as caught:
        sheets.read_tab(KEY, 2)

    assert str(caught.value) == (
        f"sheets: sheet {KEY} has 2 tabs; tab index 2 (the SOP's 'second tab' is index 1) "
        "does not exist"
    )


def test_it_retries_a_rate_limit_then_reads(
    sheets: SheetsAdapter, sheets_emulator: SheetsEmulator, slept: list[float]
) -> None:
    sheets_emulator.inject(r"/values/", status=429)

    tab = sheets.read_tab(KEY, SECOND_TAB)

    assert tab.cell(4, "B") == "HW Solar"
    assert len(slept) == 1
    assert [c.status for c in sheets_emulator.calls_to(r"/values/")] == [429, 200]


def test_it_honours_retry_after_when_google_sends_it(
    sheets: SheetsAdapter, sheets_emulator: SheetsEmulator, slept: list[float]
) -> None:
    sheets_emulator.inject(r"/values/", status=429, retry_after=3)

    sheets.read_tab(KEY, SECOND_TAB)

    assert slept == [3.0]


def test_it_rides_out_a_burst_of_server_errors(
    sheets: SheetsAdapter,
    sheets_emulator: SheetsEmulator,
    slept: list[float],
    call_counter: CallCounter,
) -> None:
    sheets_emulator.inject(rf"^/v4/spreadsheets/{KEY}$", status=500, times=2)
    sheets_emulator.inject(r"/values/", status=503)

    tab = sheets.read_tab(KEY, SECOND_TAB)

    assert (len(tab.rows), len(tab.columns)) == (8, 13)
    assert len(slept) == 3
    assert call_counter.as_dict()["sheets"] == 5


def test_it_gives_up_after_the_budget_s_attempts(
    sheets: SheetsAdapter, sheets_emulator: SheetsEmulator, retry_budget: RetryBudget
) -> None:
    sheets_emulator.inject(r"^/v4/", status=500, times=10)

    with pytest.raises(TransientError, match="500"):
        sheets.read_tab(KEY, SECOND_TAB)

    assert len(sheets_emulator.calls_to(r"^/v4/")) == retry_budget.max_attempts


def test_it_reports_an_unknown_key_without_retrying(
    sheets: SheetsAdapter, sheets_emulator: SheetsEmulator, slept: list[float]
) -> None:
    with pytest.raises(PermanentError, match="no spreadsheet with key nope") as caught:
        sheets.read_tab("nope", SECOND_TAB)

    assert caught.value.status == 404
    assert slept == [] and len(sheets_emulator.calls_to(r"^/v4/")) == 1


def test_it_says_whom_to_share_the_sheet_with_when_access_is_denied(
    sheets: SheetsAdapter, sheets_emulator: SheetsEmulator
) -> None:
    sheets_emulator.unshared.add(KEY)

    with pytest.raises(CredentialError, match="sla-monitor@.* may not read this sheet; share it"):
        sheets.read_tab(KEY, SECOND_TAB)


def test_it_gets_a_new_token_when_google_rejects_the_old_one(
    sheets: SheetsAdapter, sheets_emulator: SheetsEmulator
) -> None:
    sheets.read_tab(KEY, 0)
    sheets_emulator.revoke_tokens()

    sheets.read_tab(KEY, 0)

    assert len(sheets_emulator.calls_to(r"^/token$")) == 2


def test_a_busy_token_endpoint_costs_one_request_per_attempt_within_the_runs_budget(
    sheets: SheetsAdapter,
    sheets_emulator: SheetsEmulator,
    slept: list[float],
    call_counter: CallCounter,
) -> None:
    """google-auth retries a refresh three times with sleeps of its own; inside each of our
    attempts that was 18 s against a 5 s budget. Here a 503 is one failed attempt."""
    sheets_emulator.inject(r"^/token$", status=503, times=50)
    started = time.monotonic()

    with pytest.raises(TransientError, match="token endpoint answered HTTP 503"):
        sheets.read_tab(KEY, 0)

    attempts = len(sheets_emulator.calls_to(r"^/token$"))
    assert attempts == 4  # the budget's max_attempts, one token request each
    assert call_counter.as_dict()["sheets"] == 0  # no API call got as far as the API
    assert sum(slept) <= 60.0 and time.monotonic() - started < 3.0  # no sleeps of its own


def test_it_reports_a_key_google_does_not_know_as_a_credential_error(
    sheets_emulator: SheetsEmulator,
    tmp_path: Path,
    call_counter: CallCounter,
    retry_budget: RetryBudget,
) -> None:
    stranger, _ = write_service_account_file(tmp_path, sheets_emulator.token_uri)
    adapter = SheetsAdapter(
        service_account_file=str(stranger),
        counter=call_counter,
        budget=retry_budget,
        api_url=sheets_emulator.api_url,
    )

    with pytest.raises(CredentialError, match="token endpoint refused") as caught:
        adapter.read_tab(KEY, SECOND_TAB)

    assert "PRIVATE KEY" not in str(caught.value)


@pytest.mark.parametrize("content", [None, "{not json", '{"type": "service_account"}'])
def test_it_reports_an_unusable_key_file_as_a_credential_error(
    tmp_path: Path, call_counter: CallCounter, retry_budget: RetryBudget, content: str | None
) -> None:
    path = tmp_path / "key.json"
    if content is not None:
        path.write_text(content)

    with pytest.raises(CredentialError, match="GOOGLE_SERVICE_ACCOUNT_FILE"):
        SheetsAdapter(service_account_file=str(path), counter=call_counter, budget=retry_budget)


def test_it_talks_to_google_unless_told_otherwise(
    tmp_path: Path, call_counter: CallCounter, retry_budget: RetryBudget
) -> None:
    key_file, _ = write_service_account_file(tmp_path, "https://oauth2.googleapis.com/token")
    adapter = SheetsAdapter(
        service_account_file=str(key_file), counter=call_counter, budget=retry_budget
    )
    # An empty cassette that may not record: the first request shows where it was going,
    # and nothing leaves the machine.
    recorder = vcr.VCR(record_mode="none", cassette_library_dir=str(tmp_path))

    with recorder.use_cassette("nothing.yaml"), pytest.raises(Exception) as caught:
        adapter.read_tab(KEY, SECOND_TAB)

    assert "https://oauth2.googleapis.com/token" in str(caught.value)


# -- the emulator honours the Sheets API contract (what gspread may send) -------------------------
README_A = [
    ["Financier onboarding tracker"],
    ["Accounts are on the second tab. Do not sort or insert columns before L."],
]
HEADER_AND_FIRST = [["Account name", "Contractor email"], ["HW Solar", "ops@hwsolar.example"]]


@pytest.mark.parametrize(
    ("a1", "expected_range", "expected_values"),
    [
        ("'Onboarding 2024'!B3:C4", "'Onboarding 2024'!B3:C4", HEADER_AND_FIRST),
        ("'Onboarding 2024'!L6:L8", "'Onboarding 2024'!L6:L8", [[], [], ["Approved "]]),
        ("'Onboarding 2024'!2:2", "'Onboarding 2024'!A2:Z2", None),
        ("'Read me'!A:A", "'Read me'!A1:A1000", README_A),
        ("A1", "'Read me'!A1:A1", README_A[:1]),
    ],
)
def test_the_emulator_answers_a1_ranges_like_google(
    sheets: SheetsAdapter,
    a1: str,
    expected_range: str,
    expected_values: list[list[str]] | None,
) -> None:
    http: HTTPClient = sheets._http

    answer = http.values_get(KEY, a1)

    assert answer["range"] == expected_range
    assert answer["majorDimension"] == "ROWS"
    assert answer.get("values") == expected_values


def test_the_emulator_rejects_a_range_on_a_tab_that_does_not_exist(sheets: SheetsAdapter) -> None:
    with pytest.raises(Exception, match="Unable to parse range"):
        sheets._http.values_get(KEY, "'Sheet 9'!A1")


def test_the_emulator_lists_tabs_with_grid_properties(sheets: SheetsAdapter) -> None:
    metadata = sheets._http.fetch_sheet_metadata(KEY)

    assert metadata["properties"]["title"] == "Financier onboarding"
    assert [s["properties"]["title"] for s in metadata["sheets"]] == ["Read me", "Onboarding 2024"]
    assert [s["properties"]["index"] for s in metadata["sheets"]] == [0, 1]
    assert metadata["sheets"][1]["properties"]["gridProperties"] == {
        "rowCount": 1000,
        "columnCount": 26,
    }


# -- file sources ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [fx.ONBOARDING_XLSX, fx.ONBOARDING_CSV], ids=["xlsx", "csv"])
def test_a_file_export_reads_exactly_like_the_live_sheet(sheets: SheetsAdapter, path: Path) -> None:
    live = sheets.read_tab(KEY, SECOND_TAB)

    exported = read_sheet_file(str(path), SECOND_TAB)

    assert exported == live


def test_it_names_the_tab_count_when_a_workbook_tab_is_missing() -> None:
    with pytest.raises(PermanentError, match="has 2 tabs; tab index 5"):
        read_sheet_file(str(fx.ONBOARDING_XLSX), 5)


@pytest.mark.parametrize(
    ("name", "message"),
    [("sheet.ods", "unsupported sheet file type .ods"), ("missing.csv", "does not exist")],
)
def test_it_reports_a_file_it_cannot_read(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(PermanentError, match=message):
        read_sheet_file(str(tmp_path / name), 1)


def test_it_reports_a_corrupt_workbook(tmp_path: Path) -> None:
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(b"not a zip")

    with pytest.raises(PermanentError, match="not a readable Excel workbook"):
        read_sheet_file(str(path), 1)


def test_a_csv_with_a_byte_order_mark_keeps_cell_a1_clean(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_bytes("\ufeff#,Account name\n1,HW Solar\n".encode())

    assert read_sheet_file(str(path), 0).cell(1, "A") == "#"


def test_an_empty_tab_is_an_empty_tab() -> None:
    tab = tab_from_rows([[], ["", None]])

    assert (len(tab.rows), len(tab.columns)) == (0, 0)


@pytest.mark.parametrize(
    ("number", "letters"),
    [(1, "A"), (2, "B"), (12, "L"), (26, "Z"), (27, "AA"), (52, "AZ"), (703, "AAA")],
)
def test_column_letters_and_numbers_round_trip(number: int, letters: str) -> None:
    assert column_letter(number) == letters
    assert column_index(letters) == number
    assert column_index(letters.lower()) == number


@pytest.mark.parametrize("bad", ["", "1", "A1", "ABCD", "É"])
def test_it_rejects_what_is_not_a_column_letter(bad: str) -> None:
    with pytest.raises(ValueError):
        column_index(bad)
