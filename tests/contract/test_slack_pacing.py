"""Slack writes are paced: one chat.postMessage/chat.update per second per channel, and a 429's
Retry-After closes the channel for the process. Measured on an injected clock, against the
Slack emulator (the real slack-sdk client), so nothing here waits for real."""

from __future__ import annotations

import threading

import pytest

from emulators.base import Request
from emulators.slack import SlackEmulator
from jobs.adapters.http import CallCounter, RetryBudget
from jobs.adapters.pacing import ChannelPacer
from jobs.adapters.slack import SlackAdapter
from tests.contract import slack_sheets_fixtures as fx

slack_server = fx.slack_server
slack_emulator = fx.slack_emulator

ALERTS = "#support-sla"
POST = r"/api/chat\.postMessage$"
UPDATE = r"/api/chat\.update$"


class FakeTime:
    """A monotonic clock that moves only when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def pacer(fake: FakeTime) -> ChannelPacer:
    """Strictly one a second (no burst), so each test reads the pace directly."""
    return ChannelPacer(1.0, burst=1, clock=fake.monotonic, sleep=fake.sleep)


def adapter(emulator: SlackEmulator, pacer: ChannelPacer, fake: FakeTime) -> SlackAdapter:
    return SlackAdapter(
        emulator.token,
        counter=CallCounter(),
        budget=RetryBudget(total_seconds=60.0, max_attempts=4, sleep=fake.sleep),
        base_url=emulator.api_url,
        timeout=5.0,
        pacer=pacer,
    )


def arrivals(emulator: SlackEmulator, fake: FakeTime, pattern: str) -> list[tuple[float, str]]:
    """(fake time, channel) of every request to ``pattern`` as the emulator receives it: a
    fault that never fires, only watches."""
    seen: list[tuple[float, str]] = []

    def watch(request: Request) -> bool:
        if request.headers.get("content-type", "").startswith("application/json"):
            args = request.json()
        else:
            args = request.form()
        seen.append((fake.now, str(args.get("channel"))))
        return False

    emulator.inject(pattern, times=10_000, when=watch)
    return seen


def test_messages_to_one_channel_go_out_one_second_apart(
    slack_emulator: SlackEmulator, pacer: ChannelPacer, fake: FakeTime
) -> None:
    seen = arrivals(slack_emulator, fake, POST)
    slack = adapter(slack_emulator, pacer, fake)

    for n in range(5):
        slack.post(ALERTS, f"message {n}")

    assert [t for t, _ in seen] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert len(slack_emulator.messages_in(ALERTS)) == 5
    assert pacer.waited == 4.0


def test_a_quiet_channel_takes_a_short_burst_then_the_pace(
    slack_emulator: SlackEmulator, fake: FakeTime
) -> None:
    pacer = ChannelPacer(1.0, burst=3, clock=fake.monotonic, sleep=fake.sleep)
    seen = arrivals(slack_emulator, fake, POST)
    slack = adapter(slack_emulator, pacer, fake)

    for n in range(6):
        slack.post(ALERTS, f"message {n}")
    fake.sleep(10.0)  # the channel has been quiet: the burst is back
    for n in range(4):
        slack.post(ALERTS, f"later {n}")

    assert [t for t, _ in seen] == [0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 13.0, 13.0, 13.0, 14.0]
    # Over any stretch, never more than burst + seconds elapsed: Slack's one a second holds.
    times = [t for t, _ in seen]
    for i, start in enumerate(times):
        for j in range(i, len(times)):
            assert j - i + 1 <= 3 + (times[j] - start)


def test_other_channels_do_not_wait_for_each_other(
    slack_emulator: SlackEmulator, pacer: ChannelPacer, fake: FakeTime
) -> None:
    seen = arrivals(slack_emulator, fake, POST)
    slack = adapter(slack_emulator, pacer, fake)
    other = next(name for name in slack_emulator.channels.values() if name != ALERTS)

    slack.post(ALERTS, "one")
    slack.post(other, "two")
    slack.post(ALERTS, "three")

    assert seen == [(0.0, ALERTS), (0.0, other), (1.0, ALERTS)]


def test_an_update_after_a_post_by_name_shares_the_channel_slot(
    slack_emulator: SlackEmulator, pacer: ChannelPacer, fake: FakeTime
) -> None:
    """Posted by name (#support-sla), edited by id (C…): one channel, one lane."""
    edits = arrivals(slack_emulator, fake, UPDATE)
    slack = adapter(slack_emulator, pacer, fake)

    ref = slack.post(ALERTS, "SS-1 due soon")
    slack.update(ref, "SS-1 overdue")
    slack.post(ref.channel, "thread reply", thread_ts=ref.ts)

    assert [t for t, _ in edits] == [1.0]
    assert fake.now == 2.0


def test_a_retry_after_closes_the_channel_for_every_writer_in_the_process(
    slack_emulator: SlackEmulator, pacer: ChannelPacer, fake: FakeTime
) -> None:
    seen = arrivals(slack_emulator, fake, POST)
    first = adapter(slack_emulator, pacer, fake)
    second = adapter(slack_emulator, pacer, fake)  # another job of the same `run all`
    slack_emulator.inject(POST, status=429, retry_after=5, times=1)

    first.post(ALERTS, "refused once, then sent")
    second.post(ALERTS, "after the refusal's wait")

    refused, retried, after = (t for t, _ in seen)
    assert refused == 0.0
    assert retried >= 5.0  # not before Slack's Retry-After
    assert after >= retried + 1.0  # and the next writer keeps the pace after it
    assert [m.text for m in slack_emulator.messages_in(ALERTS)] == [
        "refused once, then sent",
        "after the refusal's wait",
    ]


def test_threads_writing_to_one_channel_each_take_their_own_slot() -> None:
    """Reserved under the lock, slept outside it: with the clock standing still, six threads
    wait 0, 1, ..., 5 seconds, never two the same."""
    pacer = ChannelPacer(1.0, burst=1, clock=lambda: 100.0, sleep=lambda seconds: None)
    slots: list[float] = []
    lock = threading.Lock()

    def write() -> None:
        waited = pacer.wait(ALERTS)
        with lock:
            slots.append(waited)

    threads = [threading.Thread(target=write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(slots) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_a_pacer_refuses_a_negative_interval_or_an_empty_burst() -> None:
    with pytest.raises(ValueError):
        ChannelPacer(-1.0)
    with pytest.raises(ValueError):
        ChannelPacer(1.0, burst=0)
