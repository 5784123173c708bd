"""SlackAdapter replayed from cassettes recorded against the emulator (no server running).

The same scenario code records (``RECORD_CASSETTES=1``, or when a cassette is missing) and
replays; faults are injected only while recording, and replay gets them from the cassette.
"""

from __future__ import annotations

import re

import pytest

from jobs.adapters.http import CredentialError, PermanentError
from jobs.render import slack as render
from tests.contract import slack_sheets_fixtures as fx

slack_cassette = fx.slack_cassette

ALERTS = "#support-sla"


def test_it_replays_post_update_and_thread_reply(slack_cassette) -> None:
    with slack_cassette("slack_post_update_thread.yaml") as run:
        blocks = [render.header("SS-1 first response breached"), render.section("*SS-1*")]
        assert run.adapter.check_auth() == "EverBright/sla-monitor"
        ref = run.adapter.post(ALERTS, "SS-1 first response breached", blocks)
        updated = run.adapter.update(ref, "SS-1 answered", [render.section("answered")])
        reply = run.adapter.post(ALERTS, "answered by the assignee", thread_ts=ref.ts)

        assert updated == ref
        assert reply.channel == ref.channel and float(reply.ts) > float(ref.ts)
        assert run.counter.as_dict()["slack"] == 4
        if run.emulator:
            assert run.emulator.thread(ALERTS, ref.ts)[0].text == "answered by the assignee"


def test_it_replays_two_dms_with_one_lookup(slack_cassette) -> None:
    with slack_cassette("slack_dm_cached_lookup.yaml") as run:
        first = run.adapter.dm(fx.APPROVER_EMAIL, "Approved to push SS-12 live?")
        second = run.adapter.dm(fx.APPROVER_EMAIL, "Reminder: SS-12")
        with pytest.raises(PermanentError, match="no Slack user"):
            run.adapter.dm("former.agent@everbright.example", "hello")

        assert first.channel == second.channel and first.channel.startswith("D")
        # lookup + open + 2 posts, then one lookup for the unknown address
        assert run.counter.as_dict()["slack"] == 5


def test_it_replays_a_rate_limit_and_waits_the_recorded_retry_after(slack_cassette) -> None:
    with slack_cassette("slack_ratelimited_then_ok.yaml") as run:
        if run.emulator:
            run.emulator.rate_limit("chat.postMessage", retry_after=4)

        ref = run.adapter.post(ALERTS, "after the limit")

        assert ref.ts
        assert run.slept == [4.0]
        assert run.counter.as_dict()["slack"] == 2


def test_it_replays_slack_errors_as_the_right_exceptions(slack_cassette) -> None:
    with slack_cassette("slack_errors.yaml") as run:
        if run.emulator:
            run.emulator.fail_next("auth.test", "token_revoked")

        with pytest.raises(PermanentError, match="channel_not_found"):
            run.adapter.post("#no-such-channel", "x")
        with pytest.raises(CredentialError, match="token_revoked"):
            run.adapter.check_auth()

        assert run.slept == []


def test_it_replays_a_three_step_file_upload(slack_cassette) -> None:
    with slack_cassette("slack_files_upload_v2.yaml") as run:
        ref = run.adapter.post(ALERTS, "Weekly SLA report")

        run.adapter.upload_file(ref.channel, b"ticket,breached\nSS-1,yes\n", "sla.csv", "SLA")

        assert run.counter.as_dict()["slack"] == 4
        if run.emulator:
            [upload] = run.emulator.files.values()
            assert upload.content == b"ticket,breached\nSS-1,yes\n"


def test_no_slack_cassette_holds_a_token() -> None:
    cassettes = sorted(fx.CASSETTES.glob("slack_*.yaml"))

    assert cassettes
    for path in cassettes:
        text = path.read_text()
        assert "xoxb-" not in text and "DO-NOT-LEAK" not in text, path.name
        assert "Bearer" not in text and "Authorization" not in text, path.name
        assert "127.0.0.1:9/" in text and not re.search(r"127\.0\.0\.1:(?!9\b)\d+", text)
