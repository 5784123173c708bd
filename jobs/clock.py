"""Where "now" comes from.

Rules never read the system clock: the shell hands them one `now` per run, taken from a
`Clock`. Tests and the CLI's ``--now`` option use a `FixedClock`, so every SLA question
("is the first response 2 hours late?") can be replayed at any instant.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

_INSTANT_EXAMPLES = "e.g. 2026-11-23T09:00:00-05:00 or 2026-11-23T14:00:00Z"


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, always timezone-aware."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (a fixed clock moves forward instead)."""
        ...


def require_aware(at: datetime, what: str = "time") -> datetime:
    """Return `at` unchanged, or refuse a naive datetime.

    A naive datetime has no single meaning for a desk whose SLAs straddle DST changes and
    whose Jira returns UTC offsets, so every boundary of this package insists on aware ones.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(
            f"{what} {at.isoformat()} has no timezone: pass an aware datetime "
            "(e.g. datetime(2026, 11, 23, 9, tzinfo=ZoneInfo('America/New_York')))"
        )
    return at


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class FixedClock:
    """A clock that only moves when told to: for tests, dry runs and ``--now`` replays."""

    def __init__(self, at: datetime) -> None:
        self._at = require_aware(at, "FixedClock time")

    def now(self) -> datetime:
        return self._at

    def sleep(self, seconds: float) -> None:
        self._at = self._at + timedelta(seconds=max(0.0, seconds))

    def advance(self, delta: timedelta) -> datetime:
        """Move forward (or back, with a negative delta) and return the new now."""
        self._at = self._at + delta
        return self._at

    def set(self, at: datetime) -> datetime:
        self._at = require_aware(at, "FixedClock time")
        return self._at

    def __repr__(self) -> str:
        return f"FixedClock({self._at.isoformat()})"


def parse_instant(text: str, *, option: str = "--now") -> datetime:
    """Parse an ISO 8601 instant that carries its offset (``...-05:00`` or ``...Z``).

    `option` names the setting or flag in error messages, so the operator knows what to fix.
    """
    cleaned = text.strip()
    try:
        value = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(
            f"{option} {text!r} is not an ISO 8601 date and time: use {_INSTANT_EXAMPLES}"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{option} must include a timezone offset, {_INSTANT_EXAMPLES} (got {text!r})"
        )
    return value
