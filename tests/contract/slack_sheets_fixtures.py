"""Fixtures for the Slack and Sheets contract tests: emulators, adapters, cassettes, sheet data.

Test modules import the fixtures they use by assigning them (``slack = fx.slack``), which
pytest finds like any fixture in the module.

Cassettes: ``RECORD_CASSETTES=1 pytest tests/contract -k cassette`` records them again
against the emulators (also done when a cassette file is missing); otherwise they replay
with ``record_mode="none"`` and no emulator running. Recorded URLs are rewritten to
``http://127.0.0.1:9`` (the discard port: nothing listens, nothing leaves the machine), so
replay does not depend on the port the emulator had; tokens, the JWT assertion and the
access token are filtered out.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import vcr

from emulators.sheets import SheetsEmulator, write_service_account_file
from emulators.slack import SlackEmulator
from jobs.adapters.http import CallCounter, RetryBudget
from jobs.adapters.pacing import ChannelPacer
from jobs.adapters.sheets import SheetsAdapter
from jobs.adapters.slack import SlackAdapter

HERE = Path(__file__).parent
CASSETTES = HERE / "cassettes"
FIXTURES = HERE / "fixtures"
ONBOARDING_XLSX = FIXTURES / "onboarding_sheet.xlsx"
ONBOARDING_CSV = FIXTURES / "onboarding_sheet.csv"

RECORD = os.environ.get("RECORD_CASSETTES") == "1"
REPLAY_BASE = "http://127.0.0.1:9"
_LOOPBACK = re.compile(r"http://127\.0\.0\.1:\d+")

# -- Slack data ----------------------------------------------------------------------------------
SLACK_USERS = [
    {
        "id": "U0APPROVR",
        "email": "approver@everbright.example",
        "name": "integrated-finance-approver",
    },
    {"id": "U0SUPLEAD", "email": "support.lead@everbright.example", "name": "support-lead"},
    {"id": "U0AGENT01", "email": "agent@everbright.example", "name": "support-agent"},
]
SLACK_CHANNELS = ["#support-sla", "#support-leads"]
APPROVER_EMAIL = SLACK_USERS[0]["email"]

# -- the financier onboarding sheet ---------------------------------------------------------------
# Tab 1 is the SOP's "second tab": account name in column B, status in column L. It has a
# title row, a blank row, a header row, a blank row between accounts and rows whose trailing
# cells are empty, which is what the Sheets API trims.
ONBOARDING_KEY = "1EverBrightOnboardingSheetKey0000000000000"
ONBOARDING_README = [
    ["Financier onboarding tracker"],
    ["Accounts are on the second tab. Do not sort or insert columns before L."],
]
ONBOARDING_ROWS: list[list[Any]] = [
    ["EverBright financier onboarding"],
    [],
    [
        "#",
        "Account name",
        "Contractor email",
        "Account manager",
        "Applied",
        "Products",
        "State",
        "Notes",
        None,
        None,
        None,
        "Status",
        "Updated by",
    ],
    [1, "HW Solar", "ops@hwsolar.example", "AM East", "2024-03-04", "Concert; Mosaic", "CA",
     None, None, None, None, "Approved", "approver"],
    [2, "Green Light Solar", "admin@greenlight.example", "AM West", "2024-03-11", "Concert",
     "NV", "waiting on documents", None, None, None, "Pending"],
    [],
    [3, "Sunrise Roofing & Solar", None, "AM East", "2024-04-02", None, "AZ"],
    [4, "O'Brien <Solar>", "info@obrien.example", "AM West", "2024-04-09", "Mosaic", "TX",
     None, None, None, None, "Approved "],
]  # fmt: skip
ONBOARDING_TABS = [
    {"title": "Read me", "rows": ONBOARDING_README},
    {"title": "Onboarding 2024", "rows": ONBOARDING_ROWS},
]


def write_onboarding_files(directory: Path = FIXTURES) -> None:
    """Regenerate the checked-in .xlsx/.csv exports of the sheet from ONBOARDING_TABS."""
    from openpyxl import Workbook

    directory.mkdir(parents=True, exist_ok=True)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for tab in ONBOARDING_TABS:
        sheet = workbook.create_sheet(tab["title"])
        for r, row in enumerate(tab["rows"], start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(row=r, column=c, value=value)
    workbook.save(directory / ONBOARDING_XLSX.name)
    # A CSV export is rectangular: Google and Excel pad every row to the widest one.
    width = max(len(r) for r in ONBOARDING_ROWS)
    with (directory / ONBOARDING_CSV.name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        for row in ONBOARDING_ROWS:
            cells = ["" if v is None else str(v) for v in row]
            writer.writerow(cells + [""] * (width - len(cells)))


# -- shared fixtures ----------------------------------------------------------------------------
@pytest.fixture
def call_counter() -> CallCounter:
    return CallCounter()


@pytest.fixture
def slept() -> list[float]:
    """What the retry policy would have slept, in order (the budget's sleep records instead)."""
    return []


@pytest.fixture
def retry_budget(slept: list[float]) -> RetryBudget:
    return RetryBudget(total_seconds=60.0, max_attempts=4, sleep=slept.append)


# Emulators live for a module (stopping one waits out the server's 0.5 s poll) and are
# reset before each test, so every test still starts from the same state.
@pytest.fixture(scope="module")
def slack_server() -> Iterator[SlackEmulator]:
    emulator = SlackEmulator(SLACK_USERS, SLACK_CHANNELS)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def slack_emulator(slack_server: SlackEmulator) -> SlackEmulator:
    slack_server.reset()
    return slack_server


@pytest.fixture
def slack(
    slack_emulator: SlackEmulator, call_counter: CallCounter, retry_budget: RetryBudget
) -> SlackAdapter:
    return SlackAdapter(
        slack_emulator.token,
        counter=call_counter,
        budget=retry_budget,
        base_url=slack_emulator.api_url,
        timeout=5.0,
        # Pacing has its own tests (test_slack_pacing); here a pacer that never waits.
        pacer=ChannelPacer(0.0),
    )


@pytest.fixture(scope="module")
def sheets_server() -> Iterator[SheetsEmulator]:
    emulator = SheetsEmulator(
        {ONBOARDING_KEY: ONBOARDING_TABS}, titles={ONBOARDING_KEY: "Financier onboarding"}
    )
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def sheets_emulator(sheets_server: SheetsEmulator) -> SheetsEmulator:
    sheets_server.reset()
    return sheets_server


@pytest.fixture(scope="module")
def service_account_path(
    sheets_server: SheetsEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """One key per module: generating an RSA key for every test would be slow for nothing."""
    return sheets_server.service_account_file(tmp_path_factory.mktemp("service-account"))


@pytest.fixture
def sheets(
    sheets_emulator: SheetsEmulator,
    service_account_path: Path,
    call_counter: CallCounter,
    retry_budget: RetryBudget,
) -> SheetsAdapter:
    return SheetsAdapter(
        service_account_file=str(service_account_path),
        counter=call_counter,
        budget=retry_budget,
        api_url=sheets_emulator.api_url,
        timeout=5.0,
    )


# -- cassettes ----------------------------------------------------------------------------------
def _normalize_request(request: Any) -> Any:
    request.uri = _LOOPBACK.sub(REPLAY_BASE, request.uri)
    for name in list(request.headers):
        if name.lower() == "host":  # urllib (slack-sdk) records it with the emulator's port
            request.headers[name] = REPLAY_BASE.removeprefix("http://")
    if request.path.endswith("/token"):
        # The JWT assertion is signed with the test key; it never goes into a cassette.
        request.body = (
            b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=FILTERED"
        )
    return request


def _normalize_response(response: dict[str, Any]) -> dict[str, Any]:
    body: bytes = response["body"]["string"] or b""
    body = _LOOPBACK.sub(REPLAY_BASE, body.decode("utf-8")).encode("utf-8")
    if b'"access_token"' in body:
        token = json.loads(body)
        token["access_token"] = "ya29.FILTERED"
        body = json.dumps(token).encode()
    headers = {k: v for k, v in response["headers"].items() if k.lower() not in ("date", "server")}
    for name in list(headers):
        if name.lower() == "content-length":
            headers[name] = [str(len(body))]
    response["body"]["string"] = body
    response["headers"] = headers
    return response


def cassette_vcr(record: bool) -> vcr.VCR:
    return vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="all" if record else "none",
        match_on=("method", "scheme", "host", "port", "path", "query"),
        filter_headers=["authorization", "user-agent"],
        filter_post_data_parameters=["token", "assertion", "client_secret"],
        before_record_request=_normalize_request,
        before_record_response=_normalize_response,
        decode_compressed_response=True,
    )


@dataclass
class SlackCassetteRun:
    adapter: SlackAdapter
    emulator: SlackEmulator | None
    """The live emulator while recording; None on replay (faults are in the cassette)."""
    counter: CallCounter
    slept: list[float] = field(default_factory=list)


@dataclass
class SheetsCassetteRun:
    adapter: SheetsAdapter
    emulator: SheetsEmulator | None
    counter: CallCounter
    slept: list[float] = field(default_factory=list)


def _recording(name: str) -> bool:
    return RECORD or not (CASSETTES / name).exists()


@pytest.fixture
def slack_cassette() -> Callable[[str], Any]:
    @contextmanager
    def run(name: str) -> Iterator[SlackCassetteRun]:
        record = _recording(name)
        emulator = SlackEmulator(SLACK_USERS, SLACK_CHANNELS) if record else None
        slept: list[float] = []
        counter = CallCounter()
        budget = RetryBudget(total_seconds=60.0, max_attempts=4, sleep=slept.append)
        try:
            base = emulator.start() if emulator else REPLAY_BASE
            adapter = SlackAdapter(
                emulator.token if emulator else "xoxb-replayed-token",
                counter=counter,
                budget=budget,
                base_url=f"{base}/api/",
                timeout=5.0,
            )
            with cassette_vcr(record).use_cassette(name):
                yield SlackCassetteRun(adapter, emulator, counter, slept)
        finally:
            if emulator:
                emulator.stop()

    return run


@pytest.fixture
def sheets_cassette(tmp_path: Path) -> Callable[[str], Any]:
    @contextmanager
    def run(name: str) -> Iterator[SheetsCassetteRun]:
        record = _recording(name)
        emulator = (
            SheetsEmulator(
                {ONBOARDING_KEY: ONBOARDING_TABS}, titles={ONBOARDING_KEY: "Financier onboarding"}
            )
            if record
            else None
        )
        slept: list[float] = []
        counter = CallCounter()
        budget = RetryBudget(total_seconds=60.0, max_attempts=4, sleep=slept.append)
        try:
            if emulator:
                base = emulator.start()
                key_file = emulator.service_account_file(tmp_path)
            else:
                # A fresh key: the replayed token answer does not check signatures.
                base = REPLAY_BASE
                key_file, _ = write_service_account_file(tmp_path, f"{REPLAY_BASE}/token")
            adapter = SheetsAdapter(
                service_account_file=str(key_file),
                counter=counter,
                budget=budget,
                api_url=base,
                timeout=5.0,
            )
            with cassette_vcr(record).use_cassette(name):
                yield SheetsCassetteRun(adapter, emulator, counter, slept)
        finally:
            if emulator:
                emulator.stop()

    return run
