"""SlackAdapter (real slack-sdk WebClient) against the Slack Web API emulator."""

from __future__ import annotations

import json
import logging

import pytest

from emulators.slack import SlackEmulator
from jobs.adapters.http import (
    CallCounter,
    CredentialError,
    PermanentError,
    RetryBudget,
    TransientError,
)
from jobs.adapters.slack import MessageRef, SlackAdapter
from jobs.render import slack as render
from tests.contract import slack_sheets_fixtures as fx

call_counter = fx.call_counter
slept = fx.slept
retry_budget = fx.retry_budget
slack_server = fx.slack_server
slack_emulator = fx.slack_emulator
slack = fx.slack

ALERTS = "#support-sla"


def _blocks() -> list[dict]:
    return [
        render.header("First response due soon"),
        render.section(f"{render.link('https://jira.example/browse/SS-1', 'SS-1')} is unassigned"),
        render.context(["due 14:00"]),
    ]


def test_it_posts_blocks_with_fallback_text_and_without_unfurls(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    ref = slack.post(ALERTS, "SS-1 first response due soon", _blocks())

    [message] = slack_emulator.messages_in(ALERTS)
    assert ref == MessageRef(channel=slack_emulator.channel_id(ALERTS), ts=message.ts)
    assert message.text == "SS-1 first response due soon"
    assert message.blocks == _blocks()
    assert (message.unfurl_links, message.unfurl_media) == (False, False)


def test_it_answers_the_channel_id_for_a_name_or_an_id(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    by_name = slack.post(ALERTS, "one")
    by_id = slack.post(by_name.channel, "two")

    assert by_name.channel == by_id.channel == slack_emulator.channel_id(ALERTS)
    assert float(by_id.ts) > float(by_name.ts)


def test_it_updates_a_message_in_place(slack: SlackAdapter, slack_emulator: SlackEmulator) -> None:
    ref = slack.post(ALERTS, "SS-1 breached", _blocks())

    updated = slack.update(ref, "SS-1 resolved", [render.section("resolved")])

    [message] = slack_emulator.messages_in(ALERTS)
    assert updated == ref
    assert message.text == "SS-1 resolved"
    assert message.blocks == [render.section("resolved")]
    assert message.updates == [{"text": "SS-1 breached", "blocks": _blocks()}]


def test_it_keeps_the_blocks_when_an_update_sends_only_text(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    ref = slack.post(ALERTS, "SS-1 breached", _blocks())

    slack.update(ref, "SS-1 breached (2 hours)")

    [message] = slack_emulator.messages_in(ALERTS)
    assert message.blocks == _blocks()


def test_it_cannot_update_a_message_that_does_not_exist(slack: SlackAdapter) -> None:
    ref = slack.post(ALERTS, "x")

    with pytest.raises(PermanentError, match="message_not_found"):
        slack.update(MessageRef(ref.channel, "1.000001"), "y")


def test_it_replies_in_a_thread(slack: SlackAdapter, slack_emulator: SlackEmulator) -> None:
    parent = slack.post(ALERTS, "Daily SLA summary")

    reply = slack.post(ALERTS, "SS-7 breached", thread_ts=parent.ts)

    [threaded] = slack_emulator.thread(ALERTS, parent.ts)
    assert threaded.ts == reply.ts
    assert threaded.text == "SS-7 breached"


def test_it_looks_a_person_up_once_for_two_dms(
    slack: SlackAdapter, slack_emulator: SlackEmulator, call_counter: CallCounter
) -> None:
    first = slack.dm(fx.APPROVER_EMAIL, "Approved to push live? (SS-12)")
    second = slack.dm(fx.APPROVER_EMAIL.upper(), "Reminder: SS-12")

    assert first.channel == second.channel
    assert [m.text for m in slack_emulator.dms_to(fx.APPROVER_EMAIL)] == [
        "Approved to push live? (SS-12)",
        "Reminder: SS-12",
    ]
    assert len(slack_emulator.calls_to(r"users\.lookupByEmail")) == 1
    assert len(slack_emulator.calls_to(r"conversations\.open")) == 1
    assert call_counter.as_dict()["slack"] == 4


def test_it_remembers_that_nobody_has_an_email(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    assert slack.user_id("former.agent@everbright.example") is None
    assert slack.user_id("former.agent@everbright.example") is None

    assert len(slack_emulator.calls_to(r"users\.lookupByEmail")) == 1


def test_it_refuses_to_dm_an_email_nobody_has(slack: SlackAdapter) -> None:
    with pytest.raises(PermanentError, match="former.agent@everbright.example"):
        slack.dm("former.agent@everbright.example", "hello")


def test_it_does_not_retry_an_unknown_channel(
    slack: SlackAdapter, slack_emulator: SlackEmulator, slept: list[float]
) -> None:
    with pytest.raises(PermanentError, match="channel_not_found") as caught:
        slack.post("#no-such-channel", "x")

    assert not isinstance(caught.value, TransientError | CredentialError)
    assert len(slack_emulator.calls_to(r"chat\.postMessage")) == 1
    assert slept == []


@pytest.mark.parametrize(
    "code", ["invalid_auth", "not_authed", "account_inactive", "token_revoked"]
)
def test_it_reports_a_rejected_token_as_a_credential_error(
    slack: SlackAdapter, slack_emulator: SlackEmulator, code: str
) -> None:
    slack_emulator.fail_next("auth.test", code)

    with pytest.raises(CredentialError, match=code):
        slack.check_auth()


def test_it_reports_a_wrong_token_as_a_credential_error(
    slack_emulator: SlackEmulator, call_counter: CallCounter, retry_budget: RetryBudget
) -> None:
    wrong = SlackAdapter(
        "xoxb-wrong", counter=call_counter, budget=retry_budget, base_url=slack_emulator.api_url
    )

    with pytest.raises(CredentialError, match="invalid_auth"):
        wrong.post(ALERTS, "x")
    assert slack_emulator.messages == []


def test_it_names_the_team_and_bot_when_the_token_works(slack: SlackAdapter) -> None:
    assert slack.check_auth() == "EverBright/sla-monitor"


def test_it_waits_what_retry_after_says_when_rate_limited(
    slack: SlackAdapter, slack_emulator: SlackEmulator, slept: list[float]
) -> None:
    slack_emulator.rate_limit("chat.postMessage", retry_after=7)

    slack.post(ALERTS, "after the limit")

    assert slept == [7.0]
    assert [c.status for c in slack_emulator.calls_to(r"chat\.postMessage")] == [429, 200]
    assert len(slack_emulator.messages_in(ALERTS)) == 1


def test_it_gives_up_when_waiting_would_overrun_the_retry_budget(
    slack_emulator: SlackEmulator, call_counter: CallCounter, slept: list[float]
) -> None:
    budget = RetryBudget(total_seconds=10.0, sleep=slept.append)
    adapter = SlackAdapter(
        slack_emulator.token, counter=call_counter, budget=budget, base_url=slack_emulator.api_url
    )
    slack_emulator.rate_limit("chat.postMessage", retry_after=30)

    with pytest.raises(TransientError, match="rate") as caught:
        adapter.post(ALERTS, "x")

    assert caught.value.retry_after == 30.0
    assert slept == []


def test_it_retries_server_errors_and_dropped_connections(
    slack: SlackAdapter, slack_emulator: SlackEmulator, slept: list[float]
) -> None:
    slack_emulator.inject(r"chat\.postMessage", status=503)
    slack_emulator.inject(r"chat\.postMessage", reset_connection=True)

    slack.post(ALERTS, "eventually")

    assert len(slept) == 2
    assert [m.text for m in slack_emulator.messages_in(ALERTS)] == ["eventually"]


def test_it_uploads_a_file_in_three_steps(
    slack: SlackAdapter, slack_emulator: SlackEmulator, call_counter: CallCounter
) -> None:
    channel = slack_emulator.channel_id(ALERTS)
    assert channel is not None
    content = b"ticket,breached\nSS-1,yes\n"

    slack.upload_file(channel, content, "sla-report.csv", "Weekly SLA report", "This week's report")

    [upload] = slack_emulator.files.values()
    assert (upload.filename, upload.title, upload.content) == (
        "sla-report.csv",
        "Weekly SLA report",
        content,
    )
    [message] = slack_emulator.messages_in(ALERTS)
    assert message.text == "This week's report"
    assert message.files == [upload.id]
    assert call_counter.as_dict()["slack"] == 3


def test_it_uploads_to_a_channel_name_under_a_message_that_names_the_file(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    slack.upload_file(ALERTS, b"%PDF-", "report.pdf", "Weekly SLA report")

    parent, with_file = slack_emulator.messages_in(ALERTS)
    assert parent.text == "Weekly SLA report"
    assert with_file.thread_ts == parent.ts
    assert with_file.files == list(slack_emulator.files)


def test_more_blocks_than_slack_takes_are_cut_to_fifty_saying_so(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    too_many = [render.section(f"line {n}") for n in range(60)]

    slack.post(ALERTS, "x", too_many)

    [message] = slack_emulator.messages_in(ALERTS)
    assert message.blocks is not None and len(message.blocks) == 50
    assert message.blocks[:49] == too_many[:49]
    assert "11 more blocks cut" in json.dumps(message.blocks[-1])


def test_a_message_refused_even_as_text_is_reported_as_permanent(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    slack_emulator.fail_next("chat.postMessage", "invalid_blocks", times=2)

    with pytest.raises(PermanentError, match="invalid_blocks"):
        slack.post(ALERTS, "x", _blocks())
    assert len(slack_emulator.calls_to(r"/api/chat\.postMessage$")) == 2  # as sent, as text


def test_chunked_blocks_built_by_the_helpers_are_accepted(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    blocks = [render.section("x" * 5000) for _ in range(120)]

    for chunk in render.chunk_blocks(blocks):
        slack.post(ALERTS, "report", chunk)

    assert [len(m.blocks or []) for m in slack_emulator.messages_in(ALERTS)] == [50, 50, 20]


def test_escaped_ticket_text_arrives_as_entities_that_mention_nobody(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    summary = "<!channel> please look <@U0SUPLEAD>"

    slack.post(ALERTS, render.escape(summary), [render.section(render.escape(summary))])

    [message] = slack_emulator.messages_in(ALERTS)
    assert "<" not in message.text
    assert "<" not in message.blocks[0]["text"]["text"]  # type: ignore[index]
    assert "<!channel> please look" in slack_emulator.transcript()


def test_it_never_shows_the_token_in_errors_or_logs(
    slack: SlackAdapter, slack_emulator: SlackEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    slack_emulator.rate_limit("chat.postMessage", retry_after=0)
    slack_emulator.fail_next("auth.test", "invalid_auth")
    errors: list[BaseException] = []

    slack.post(ALERTS, "x")
    for call in (lambda: slack.post("#nope", "x"), slack.check_auth):
        with pytest.raises(Exception) as caught:
            call()
        errors.append(caught.value)

    token = slack_emulator.token
    assert token not in caplog.text
    assert token not in repr(slack)
    for error in errors:
        assert token not in str(error) and token not in repr(error)
        # The SDK exception (whose response holds the request headers) is not chained.
        assert error.__cause__ is None and error.__suppress_context__


def test_it_needs_a_bot_token_from_the_environment(
    call_counter: CallCounter, retry_budget: RetryBudget
) -> None:
    with pytest.raises(CredentialError, match="SLACK_BOT_TOKEN"):
        SlackAdapter.from_env({}, counter=call_counter, budget=retry_budget)


def test_it_uses_slack_api_url_from_the_environment(
    slack_emulator: SlackEmulator, call_counter: CallCounter, retry_budget: RetryBudget
) -> None:
    env = {"SLACK_BOT_TOKEN": slack_emulator.token, "SLACK_API_URL": slack_emulator.api_url}

    adapter = SlackAdapter.from_env(env, counter=call_counter, budget=retry_budget)

    assert adapter.check_auth() == "EverBright/sla-monitor"


def test_the_transcript_reads_like_the_slack_client(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    parent = slack.post(
        ALERTS, "fallback", [render.header("Daily SLA"), render.section("*SS-1* & co")]
    )
    slack.post(ALERTS, "SS-1 breached", thread_ts=parent.ts)
    slack.dm(fx.APPROVER_EMAIL, "Approved to push live?")

    transcript = slack_emulator.transcript()

    assert transcript.splitlines()[0] == ALERTS
    assert "== Daily SLA ==" in transcript and "*SS-1* & co" in transcript
    assert f"↳ [{parent.ts}" not in transcript and "↳ [" in transcript
    assert f"DM @integrated-finance-approver <{fx.APPROVER_EMAIL}>" in transcript


# -- one odd item never blocks a message (D5) -------------------------------------------------


def test_a_text_past_slacks_limit_is_cut_before_it_is_sent(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    """An account name of 9,000 '&' escapes to 45,000 characters: cut, never msg_too_long."""
    huge = render.escape("&" * 9000)
    slack.post(ALERTS, f"3 accounts: {huge}", [render.section(huge)])

    [message] = slack_emulator.messages_in(ALERTS)
    assert len(message.text) <= render.MAX_FALLBACK_TEXT
    assert message.text.endswith("…") and not message.text.endswith("&…")
    assert len(message.blocks[0]["text"]["text"]) <= render.MAX_SECTION_TEXT


def test_blocks_slack_refuses_are_sent_again_as_the_text_alone(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    refused = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]  # hand-made
    slack.post(ALERTS, "SS-1, SS-2 and SS-3 overdue", refused)

    [message] = slack_emulator.messages_in(ALERTS)
    assert message.text == "SS-1, SS-2 and SS-3 overdue"
    assert message.blocks == [render.section("SS-1, SS-2 and SS-3 overdue")]
    attempts = slack_emulator.calls_to(r"/api/chat\.postMessage$")
    assert [c.status for c in attempts] == [200, 200]  # refused (ok: false), then sent


def test_an_update_slack_refuses_replaces_the_blocks_with_the_text(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    ref = slack.post(ALERTS, "SS-1 due soon", _blocks())
    slack_emulator.fail_next("chat.update", "msg_too_long")

    slack.update(ref, "SS-1 overdue", _blocks())

    [message] = slack_emulator.messages_in(ALERTS)
    assert message.text == "SS-1 overdue"
    assert message.blocks == [render.section("SS-1 overdue")]


def test_other_refusals_are_not_retried_as_text(
    slack: SlackAdapter, slack_emulator: SlackEmulator
) -> None:
    slack_emulator.fail_next("chat.postMessage", "channel_not_found")
    with pytest.raises(PermanentError, match="channel_not_found"):
        slack.post(ALERTS, "SS-1", _blocks())
    assert len(slack_emulator.calls_to(r"/api/chat\.postMessage$")) == 1
