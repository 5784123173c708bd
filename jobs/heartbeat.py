"""Dead-man's-switch pings (healthchecks.io / Cronitor style): start, then success or failure.

A job that silently stops running is noticed by the receiver, not by us. Pinging is best
effort: a failed ping is logged and never changes the job's outcome.
"""

from __future__ import annotations

import logging
import urllib.request

log = logging.getLogger("jobs.heartbeat")


class Heartbeat:
    def __init__(self, url: str | None, *, dry_run: bool = False, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/") if url else None
        self.enabled = bool(url) and not dry_run
        self.timeout = timeout

    def _ping(self, suffix: str) -> None:
        if not self.enabled or self.url is None:
            return
        try:
            with urllib.request.urlopen(f"{self.url}{suffix}", timeout=self.timeout) as response:  # noqa: S310
                response.read()
        except Exception as exc:  # never fail the job because the monitor is down
            log.warning("heartbeat ping failed: %s", type(exc).__name__)

    def start(self) -> None:
        self._ping("/start")

    def finish(self, exit_code: int) -> None:
        # healthchecks.io: /<exit-code> reports success for 0 and failure otherwise.
        self._ping(f"/{exit_code}")
