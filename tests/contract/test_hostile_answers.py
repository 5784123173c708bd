"""Slack and Google Sheets answers of the wrong shape: one-line read failures, no traceback,
never a message recorded as sent somewhere unknown or a sheet read as the wrong rows."""

from __future__ import annotations

from typing import Any

import pytest

from emulators.sheets import SheetsEmulator
from emulators.slack import SlackEmulator
from jobs.adapters.http import PermanentError
from jobs.adapters.sheets import SheetsAdapter
from jobs.adapters.slack import MessageRef, SlackAdapter
from tests.contract import slack_sheets_fixtures as fx

call_counter = fx.call_counter
slept = fx.slept
retry_budget = fx.retry_budget
slack_server = fx.slack_server
slack_emulator = fx.slack_emulator
slack = fx.slack
sheets_server = fx.sheets_server
sheets_emulator = fx.sheets_emulator
service_account_path = fx.service_account_path
sheets = fx.sheets

KEY = fx.ONBOARDING_KEY


@pytest.mark.parametrize(
    "answer, missing",
    [
        ({"ok": True}, "channel"),
        ({"ok": True, "channel": "C000000001"}, "ts"),
        ({"ok": True, "channel": ["C1"], "ts": "1.2"}, "channel"),
        ({"ok": True, "channel": "C000000001", "ts": None}, "ts"),
    ],
)
def test_a_post_answer_without_channel_and_ts_is_a_failure(
    slack: SlackAdapter, slack_emulator: SlackEmulator, answer: dict[str, Any], missing: str
) -> None:
    slack_emulator.inject(r"/api/chat.postMessage$", status=200, body=answer)

    with pytest.raises(PermanentError, match=f"chat.postMessage: the answer has no {missing}"):
        slack.post("#support-sla", "hello")


def test_an_update_answer_of_the_wrong_shape_is_a_failure(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    ref = slack.post("#support-sla", "hello")
    slack_emulator.inject(r"/api/chat.update$", status=200, body={"ok": True, "ts": 5})

    with pytest.raises(PermanentError, match="chat.update: the answer has no channel"):
        slack.update(MessageRef(ref.channel, ref.ts), "edited")


@pytest.mark.parametrize(
    "answer", [{"ok": True}, {"ok": True, "user": "U1"}, {"ok": True, "user": {"id": 7}}]
)
def test_a_user_lookup_answer_without_an_id_is_a_failure_not_nobody(
    slack: SlackAdapter, slack_emulator: SlackEmulator, answer: dict[str, Any]
) -> None:
    slack_emulator.inject(r"/api/users.lookupByEmail$", status=200, body=answer)

    with pytest.raises(PermanentError, match="users.lookupByEmail: the answer has no user.id"):
        slack.user_id("maya.patel@goeverbright.example")


def test_a_dm_channel_answer_without_an_id_is_a_failure(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    slack_emulator.inject(
        r"/api/conversations.open$", status=200, body={"ok": True, "channel": "D1"}
    )

    with pytest.raises(PermanentError, match="conversations.open: the answer has no channel.id"):
        slack.dm(fx.SLACK_USERS[0]["email"], "hi")


@pytest.mark.parametrize("raw", [b"[1, 2]", b"null", b'"ok"'])
def test_an_answer_that_is_not_an_object_is_a_failure(
    slack: SlackAdapter, slack_emulator: SlackEmulator, raw: bytes
) -> None:
    slack_emulator.inject(r"/api/chat.postMessage$", status=200, raw=raw)

    with pytest.raises(PermanentError, match="chat.postMessage"):
        slack.post("#support-sla", "hello")


def test_an_upload_answer_of_the_wrong_shape_is_a_failure(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    slack_emulator.inject(
        r"/api/files.getUploadURLExternal$", status=200, body={"ok": True, "file_id": "F1"}
    )

    with pytest.raises(PermanentError, match="files_upload_v2"):
        slack.upload_file("C000000001", b"a,b\n", "sla.csv", "SLA")


# -- Sheets ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, message",
    [
        ({"range": "A1:B2", "values": "Sunrise Solar"}, "values is str"),
        ({"range": "A1:B2", "values": ["Sunrise Solar", "Approved"]}, "row 1 is str"),
        ({"range": "A1:B2", "values": [["a", {"b": 1}]]}, "row 1 holds a dict"),
        ([["a", "b"]], "the answer is list"),
    ],
)
def test_a_values_answer_of_the_wrong_shape_is_a_read_failure(
    sheets: SheetsAdapter, sheets_emulator: SheetsEmulator, answer: Any, message: str
) -> None:
    sheets_emulator.inject(r"/values/", status=200, body=answer)

    with pytest.raises(PermanentError, match=message):
        sheets.read_tab(KEY, 1)


def test_a_values_answer_without_values_is_an_empty_tab(
    sheets: SheetsAdapter, sheets_emulator: SheetsEmulator
) -> None:
    sheets_emulator.inject(r"/values/", status=200, body={"range": "A1:Z1000"})

    assert sheets.read_tab(KEY, 1).empty


@pytest.mark.parametrize(
    "answer, message",
    [
        ({"spreadsheetId": KEY, "sheets": "two"}, "no list of sheets"),
        ({"spreadsheetId": KEY, "sheets": [{}, {"properties": {}}]}, "tab 1 has no title"),
        ([], "no list of sheets"),
    ],
)
def test_a_metadata_answer_of_the_wrong_shape_is_a_read_failure(
    sheets: SheetsAdapter, sheets_emulator: SheetsEmulator, answer: Any, message: str
) -> None:
    sheets_emulator.inject(rf"/spreadsheets/{KEY}$", status=200, body=answer)

    with pytest.raises(PermanentError, match=message):
        sheets.read_tab(KEY, 1)
