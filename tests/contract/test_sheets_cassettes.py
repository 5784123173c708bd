"""SheetsAdapter replayed from cassettes recorded against the emulator (no server running).

The token exchange is recorded with the JWT assertion and the access token filtered out;
on replay a freshly generated key signs an assertion that nobody checks.
"""

from __future__ import annotations

import re

import pytest

from jobs.adapters.http import PermanentError
from jobs.adapters.sheets import tab_from_rows
from tests.contract import slack_sheets_fixtures as fx

sheets_cassette = fx.sheets_cassette

KEY = fx.ONBOARDING_KEY


def test_it_replays_reading_the_second_tab(sheets_cassette) -> None:
    with sheets_cassette("sheets_read_second_tab.yaml") as run:
        tab = run.adapter.read_tab(KEY, 1)

        assert tab == tab_from_rows(fx.ONBOARDING_ROWS)
        assert (tab.cell(4, "B"), tab.cell(4, "L")) == ("HW Solar", "Approved")
        assert run.counter.as_dict()["sheets"] == 2


def test_it_replays_a_rate_limit_then_success(sheets_cassette) -> None:
    with sheets_cassette("sheets_ratelimited_then_ok.yaml") as run:
        if run.emulator:
            run.emulator.inject(r"/values/", status=429)

        tab = run.adapter.read_tab(KEY, 1)

        assert (len(tab.rows), len(tab.columns)) == (8, 13)
        assert len(run.slept) == 1
        assert run.counter.as_dict()["sheets"] == 3


def test_it_replays_an_unknown_key_as_permanent(sheets_cassette) -> None:
    with sheets_cassette("sheets_not_found.yaml") as run:
        with pytest.raises(PermanentError, match="no spreadsheet with key"):
            run.adapter.read_tab("1NoSuchSheet", 1)

        assert run.slept == []


def test_no_sheets_cassette_holds_a_key_or_a_token() -> None:
    cassettes = sorted(fx.CASSETTES.glob("sheets_*.yaml"))

    assert cassettes
    for path in cassettes:
        text = path.read_text()
        assert "PRIVATE KEY" not in text, path.name
        assert "assertion=FILTERED" in text, path.name
        assert not re.search(r"assertion=ey", text), path.name  # a JWT starts with "ey"
        assert "ya29.emulator" not in text and "Authorization" not in text, path.name
        assert "127.0.0.1:9/" in text, path.name
