"""What acting from Slack needs of the Web API, through the real slack-sdk WebClient against
the emulator (ephemeral answers, the Home tab, users, channel and group members); and the
emulator's side of interactivity: signed deliveries an app can verify."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk.signature import SignatureVerifier

from emulators.slack import SlackEmulator
from jobs.adapters.slack import SlackAdapter, SlackError, SlackUser
from jobs.render.actions import ActionItem, alert_actions
from tests.contract import slack_sheets_fixtures as fx

call_counter = fx.call_counter
slept = fx.slept
retry_budget = fx.retry_budget
slack_server = fx.slack_server
slack_emulator = fx.slack_emulator
slack = fx.slack

ALERTS = "#support-sla"
AGENT = "U0AGENT01"
LEAD = "U0SUPLEAD"


def test_it_looks_up_a_user_with_their_email(slack: SlackAdapter) -> None:
    user = slack.user_info(AGENT)

    assert user == SlackUser(
        id=AGENT,
        name="support-agent",
        real_name="support-agent",
        display_name="support-agent",
        email="agent@everbright.example",
        is_bot=False,
        deleted=False,
        tz="America/New_York",
    )
    with pytest.raises(SlackError, match="user_not_found"):
        slack.user_info("U0NOBODY0")


def test_it_finds_a_channel_by_name_and_reads_its_members_page_by_page(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    cid = slack.channel_id(ALERTS)
    people = [f"U0PEOPLE{n:03d}" for n in range(1500)]
    slack_emulator.members[str(cid)] = people

    assert cid == slack_emulator.channel_id(ALERTS)
    assert slack.channel_id("#nowhere") is None
    assert slack.channel_members(str(cid)) == set(people)
    pages = slack_emulator.calls_to(r"/api/conversations.members$")
    assert len(pages) == 2


def test_it_reads_a_user_groups_members(slack: SlackAdapter, slack_emulator: SlackEmulator) -> None:
    slack_emulator.add_usergroup("S0AGENTS1", [AGENT, LEAD])

    assert slack.group_members("S0AGENTS1") == {AGENT, LEAD}
    with pytest.raises(SlackError, match="no_such_subteam"):
        slack.group_members("S0NOSUCH1")


def test_an_ephemeral_answer_reaches_only_a_member_of_the_channel(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    ts = slack.post_ephemeral(ALERTS, AGENT, "SS-1 is yours now")
    slack_emulator.set_members(ALERTS, [LEAD])

    [answer] = slack_emulator.ephemerals_to(AGENT)
    assert (answer.text, answer.message_ts) == ("SS-1 is yours now", ts)
    with pytest.raises(SlackError, match="user_not_in_channel"):
        slack.post_ephemeral(ALERTS, AGENT, "again")


def test_it_publishes_a_home_tab(slack: SlackAdapter, slack_emulator: SlackEmulator) -> None:
    view = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*3 open alerts*"}}],
    }

    slack.publish_home(AGENT, view)

    home = slack_emulator.home_of(AGENT)
    assert home is not None and home["blocks"] == view["blocks"]
    [call] = slack_emulator.calls_to(r"/api/views.publish$")
    assert isinstance(call.body, str) and "user_id=U0AGENT01" in call.body  # form-encoded
    with pytest.raises(SlackError, match="invalid_blocks"):
        slack.publish_home(AGENT, {"type": "home", "blocks": [{"type": "divider"}] * 101})


# -- interactivity: the emulator calls an app --------------------------------------------------


class _App:
    """The smallest Request URL: it records what it is sent and answers 200."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], str]] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                app.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"


@pytest.fixture
def app() -> Iterator[_App]:
    app = _App()
    yield app
    app.server.shutdown()
    app.server.server_close()


def test_a_press_is_a_signed_block_actions_payload_an_app_can_verify(
    slack: SlackAdapter, slack_emulator: SlackEmulator, app: _App
) -> None:
    item = ActionItem(
        "unassigned_first_response", "SS-1", "SS-1", "https://jira.example/browse/SS-1"
    )
    [block] = alert_actions([item])
    ref = slack.post(ALERTS, "SS-1 overdue", [block])

    delivery = slack_emulator.press(
        app.url, user=AGENT, channel=ALERTS, ts=ref.ts, block_id=block["block_id"],
        action_id="sla.snooze_4h",
    )  # fmt: skip

    assert delivery.status == 200
    [(headers, body)] = app.received
    verifier = SignatureVerifier(slack_emulator.signing_secret)
    assert verifier.is_valid_request(body, headers)
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    payload = json.loads(parse_qs(body)["payload"][0])
    assert payload["type"] == "block_actions" and payload["user"]["id"] == AGENT
    assert payload["container"] == {
        "type": "message",
        "message_ts": ref.ts,
        "channel_id": ref.channel,
        "is_ephemeral": False,
    }
    assert payload["channel"] == {"id": ref.channel, "name": "support-sla"}
    assert payload["message"]["blocks"] == [block]
    [action] = payload["actions"]
    assert (action["action_id"], action["value"]) == (
        "sla.snooze_4h",
        block["elements"][2]["value"],
    )


def test_only_what_is_in_the_message_can_be_pressed(
    slack: SlackAdapter, slack_emulator: SlackEmulator, app: _App
) -> None:
    ref = slack.post(ALERTS, "no buttons here")

    with pytest.raises(ValueError, match="no block"):
        slack_emulator.press(
            app.url, user=AGENT, channel=ALERTS, ts=ref.ts, block_id="sla.x", action_id="sla.why"
        )
    assert app.received == []


def test_a_delivery_may_be_forged_or_replayed(slack_emulator: SlackEmulator, app: _App) -> None:
    old = int(time.time()) - 600
    slack_emulator.deliver(app.url, {"type": "block_actions"}, timestamp=old)
    slack_emulator.deliver(app.url, {"type": "block_actions"}, signature="v0=" + "0" * 64)

    verifier = SignatureVerifier(slack_emulator.signing_secret)
    assert [verifier.is_valid_request(body, headers) for headers, body in app.received] == [
        False,
        False,
    ]
