"""What every adapter shares: API-call counting, error classes, and one retry policy.

Retry policy (same for Jira, Slack and Sheets):
- retry 429 (waiting what ``Retry-After`` says), 5xx and connection errors/timeouts;
- never retry 400/401/403/404: they will not get better by asking again;
- stop when the run's retry budget (total seconds spent waiting) is used up, so a job
  scheduled every 15 minutes can never overlap itself by retrying.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from jobs.secrets import redact

if TYPE_CHECKING:
    from requests.adapters import HTTPAdapter

T = TypeVar("T")

POOL_SIZE = 32
"""Connections kept per host: as many as `run.max_parallel_writes` allows in flight."""
_POOLS: dict[str, HTTPAdapter] = {}
_POOLS_LOCK = threading.Lock()


def connection_pool(system: str) -> HTTPAdapter:
    """The process's one connection pool for ``system`` (jira, slack): every adapter and every
    job of a ``run all`` mounts it, so a connection (and its TLS session) is opened once and
    reused. Retries are the shared policy's (`call_with_retry`), never the pool's."""
    from requests.adapters import HTTPAdapter

    with _POOLS_LOCK:
        pool = _POOLS.get(system)
        if pool is None:
            pool = _POOLS[system] = HTTPAdapter(
                pool_connections=4, pool_maxsize=POOL_SIZE, max_retries=0
            )
        return pool


class AdapterError(Exception):
    """An external system refused or failed a request. ``system`` is jira, slack or sheets."""

    def __init__(self, system: str, message: str, status: int | None = None) -> None:
        # An error body may echo what was sent (a token, a Basic header): never keep it.
        super().__init__(f"{system}: {redact(message)}")
        self.system = system
        self.status = status


class TransientError(AdapterError):
    """Worth retrying: rate limited, server error, connection trouble."""

    def __init__(
        self, system: str, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(system, message, status)
        self.retry_after = retry_after


class PermanentError(AdapterError):
    """Not worth retrying (400/403/404, malformed answer): the run reports it and moves on."""


class OutcomeUnknown(PermanentError):
    """A write that may or may not have happened (a timeout, a 5xx or a dropped connection after
    it was sent): never repeated blind; the next run looks at the ticket first."""


class CredentialError(AdapterError):
    """Missing or rejected credentials (401, invalid_auth): a configuration problem, exit code 2."""


@dataclass
class CallCounter:
    """API calls per system for the run report; thread-safe because Slack and Jira may overlap."""

    counts: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, system: str, n: int = 1) -> None:
        with self._lock:
            self.counts[system] += n

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {s: self.counts.get(s, 0) for s in ("jira", "slack", "sheets")}


@dataclass
class RetryBudget:
    """Total seconds a run may spend waiting between retries, across all systems."""

    total_seconds: float = 120.0
    max_attempts: int = 6
    spent: float = 0.0
    sleep: Callable[[float], None] = time.sleep
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, seconds: float) -> bool:
        with self._lock:
            if self.spent + seconds > self.total_seconds:
                return False
            self.spent += seconds
            return True


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the form Jira, Slack and Google send); None if absent/odd."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds)


def _backoff(attempt: int) -> float:
    # Full jitter, capped: 0.5s, 1s, 2s, 4s... spread so two pods do not retry in lockstep.
    return random.uniform(0, min(8.0, 0.5 * 2 ** (attempt - 1)))


def call_with_retry(system: str, fn: Callable[[], T], budget: RetryBudget) -> T:
    """Run ``fn`` (which raises TransientError for retryable failures) under the shared policy."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        delay = _backoff(state.attempt_number)
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            delay = exc.retry_after
        if not budget.take(delay):
            # Out of budget: surface the last error instead of waiting past the run's bound.
            assert exc is not None
            raise exc
        return delay

    retrying = Retrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(budget.max_attempts),
        wait=wait,
        sleep=budget.sleep,
        reraise=True,
    )
    return retrying(fn)
