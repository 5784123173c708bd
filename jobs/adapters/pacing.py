"""Client-side pacing of Slack messages: one ``chat.postMessage``/``chat.update`` per second
per channel, sustained, after a short burst.

Slack documents a special limit for posting: about one message per second per channel
(https://api.slack.com/methods/chat.postMessage#rate_limiting), enforced with 429s and a
``Retry-After``. Reacting to the 429 alone means the first refusal of a burst is a failed
write whose outcome the run must then reason about; pacing keeps us under the limit, and a
``Retry-After`` that arrives anyway closes the channel for everyone in this process until it
has passed.

One pacer serves one invocation (``run all`` runs several jobs in it, and one job may write
from several threads; the CLI hands the same pacer to every job's adapter): a slot is
reserved under the lock and slept for outside it, so two threads writing to one channel are
spaced by the interval, and writes to different channels never wait for each other. The
clock and the sleep are injected so a test measures the pacing without waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

SLACK_INTERVAL = 1.0
"""Seconds between two writes to one channel, sustained (Slack: about one message a second)."""
SLACK_BURST = 3
"""Writes one channel may take back to back before the pace applies (Slack grants "generous
burst behavior"; a small run's handful of messages then never waits)."""


class ChannelPacer:
    """A GCRA (generic cell rate algorithm) per channel: the sustained rate is one write per
    ``interval``; up to ``burst`` writes may go out together when the channel has been quiet.
    ``_due[channel]`` is when the channel would be back to "no credit used"."""

    def __init__(
        self,
        interval: float = SLACK_INTERVAL,
        *,
        burst: int = SLACK_BURST,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if interval < 0:
            raise ValueError("interval must not be negative")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.interval = interval
        self._tolerance = (burst - 1) * interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._due: dict[str, float] = {}
        self.waited = 0.0
        """Seconds spent waiting for a slot, in total (for the run report and the bench)."""

    def wait(self, channel: str) -> float:
        """Block until ``channel`` may take a write; the write's slot is taken. Returns the
        seconds waited."""
        with self._lock:
            now = self._clock()
            due = max(now, self._due.get(channel, now))
            delay = max(0.0, due - self._tolerance - now)
            self._due[channel] = due + self.interval
            self.waited += delay
        if delay > 0:
            self._sleep(delay)
        return delay

    def same_channel(self, name: str, channel_id: str) -> None:
        """``name`` (``#support-sla``) is ``channel_id``: one lane, whichever is used next."""
        if name == channel_id:
            return
        with self._lock:
            latest = max(self._due.get(name, 0.0), self._due.get(channel_id, 0.0))
            self._due[name] = self._due[channel_id] = latest

    def back_off(self, channel: str, seconds: float) -> None:
        """Slack asked to wait ``seconds`` (a 429's ``Retry-After``): no write to ``channel``
        from this process before then, and no burst right after it."""
        with self._lock:
            until = self._clock() + max(0.0, seconds) + self._tolerance
            self._due[channel] = max(self._due.get(channel, until), until)
