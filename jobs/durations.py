"""Durations as written in settings.yaml and the SOPs: ``2h``, ``30m``, ``1h30m``, ``3bd``.

There are two kinds and a value is never both:

* wall-clock time (``2h``: "first response within 2 hours"), measured on the desk's
  business calendar, so on a business-hours desk it pauses outside working hours;
* business days (``3bd``: "Set the Due Date 3 business days out"), which count days on
  the calendar rather than hours — 3 business days from Friday is Wednesday, however
  many hours that is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from jobs.sections import Coerce

MAX_DAYS = 3660
"""Anything longer is a typo (``3000000h``), not a policy. Ten years leaves room for
retention periods such as the decision log's 400 days."""

_UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
# Canonical text omits weeks: "10d" reads better in a config diff than "1w3d".
_CANONICAL_UNITS = ("d", "h", "m", "s")
_MAX_DIGITS = 9
_COMPONENT = re.compile(r"\s*([0-9]+)\s*([a-z]+)\s*")
HINT = "use a number and a unit: s, m, h, d, w, or bd (business days), e.g. 2h, 30m, 1h30m, 3bd"


@dataclass(frozen=True)
class Duration:
    wall: timedelta = timedelta(0)
    business_days: int = 0

    def __post_init__(self) -> None:
        if self.wall < timedelta(0) or self.business_days < 0:
            raise ValueError(f"a duration cannot be negative (got {self!r})")
        if self.wall and self.business_days:
            raise ValueError(
                f"a duration is either wall-clock time or business days, not both (got {self!r})"
            )
        if self.wall.microseconds:
            raise ValueError(f"durations are whole seconds (got {self.wall!r})")

    @property
    def is_business(self) -> bool:
        """True for ``Nbd``: count business days on the calendar, not working hours."""
        return self.business_days > 0

    def __str__(self) -> str:
        if self.business_days:
            return f"{self.business_days}bd"
        remaining = int(self.wall.total_seconds())
        if remaining == 0:
            return "0m"
        parts = []
        for unit in _CANONICAL_UNITS:
            count, remaining = divmod(remaining, _UNIT_SECONDS[unit])
            if count:
                parts.append(f"{count}{unit}")
        return "".join(parts)


def parse_duration(text: str) -> Duration:
    """Parse ``2h``, ``30m``, ``1h30m``, ``1 h 30 m``, ``3d``, ``1w``, ``0m`` or ``3bd``.

    Units are case-insensitive and may come in any order, each at most once. Zero is
    allowed (``0m``: act immediately). Business days stand alone: ``3bd2h`` has no single
    meaning on a calendar where a business day is not a fixed number of hours.
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration: {HINT}")
    cleaned = text.strip().lower()
    if not cleaned:
        raise ValueError(f"an empty value is not a duration: {HINT}")
    if cleaned.startswith("-"):
        raise ValueError(f"{text!r} is negative; durations count forward: {HINT}")

    if cleaned.isascii() and cleaned.isdigit():
        # The unit is not optional: "30" is minutes to one reader and hours to another.
        raise ValueError(f"{text!r} has no unit: {HINT}")

    counts: dict[str, int] = {}
    position = 0
    while position < len(cleaned):
        match = _COMPONENT.match(cleaned, position)
        if match is None:
            raise ValueError(f"{text!r} is not a duration: {HINT}")
        digits, unit = match.groups()
        if unit not in _UNIT_SECONDS and unit != "bd":
            raise ValueError(f"{text!r} has an unknown unit {unit!r}: {HINT}")
        if unit in counts:
            raise ValueError(f"{text!r} gives {unit!r} twice: {HINT}")
        if len(digits.lstrip("0")) > _MAX_DIGITS:
            raise ValueError(f"{text!r} is longer than {MAX_DAYS} days")
        counts[unit] = int(digits)
        position = match.end()

    if "bd" in counts:
        if len(counts) > 1:
            raise ValueError(
                f"{text!r} mixes business days with other units: use business days alone "
                "(3bd) or wall-clock units (1h30m)"
            )
        if counts["bd"] > MAX_DAYS:
            raise ValueError(f"{text!r} is longer than {MAX_DAYS} days")
        return Duration(business_days=counts["bd"])

    seconds = sum(count * _UNIT_SECONDS[unit] for unit, count in counts.items())
    if seconds > MAX_DAYS * 86400:
        raise ValueError(f"{text!r} is longer than {MAX_DAYS} days")
    return Duration(wall=timedelta(seconds=seconds))


def _coerce_duration(value: Any) -> Any:
    if isinstance(value, Duration):
        return value
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, timedelta):
        return Duration(wall=value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        # YAML turns `realert: 30` into an int; say what is missing rather than guess a unit.
        raise ValueError(f"{value!r} has no unit: {HINT}")
    # Only a ValueError becomes a problem located on the key, so no TypeError here.
    raise ValueError(f"{value!r} is not a duration: {HINT}")


DurationField = Annotated[Duration, Coerce(_coerce_duration)]
"""A settings field type (`jobs.sections`): accepts text like ``2h``, a `Duration` or a
timedelta; ``str()`` of the value writes it back as text."""


# -- duration bounds --------------------------------------------------------------------------

_S, _M, _H, _D = 1, 60, 3600, 86400
DURATION_BOUNDS: dict[str, tuple[int, int]] = {
    # setting name (in any section or job): (shortest, longest) in seconds
    "realert": (1 * _H, 90 * _D),
    "grace": (0, 7 * _D),
    "first_response": (5 * _M, 30 * _D),
    "warn_before": (0, 1 * _D),
    "remind_after": (1 * _H, 30 * _D),
    "nudge_after": (1 * _H, 30 * _D),
    "publish_after": (1 * _H, 30 * _D),
    "silent_close_after": (1 * _H, 30 * _D),
    "lookback": (1 * _D, 3660 * _D),
    "approver_lookback": (1 * _D, 365 * _D),
    "fulfilled_lookback": (1 * _D, 365 * _D),
    "resolved_lookback": (1 * _D, 365 * _D),
    "retention": (30 * _D, 3660 * _D),
    "claim_ttl": (1 * _M, 6 * _H),
    "retry_budget": (0, 15 * _M),
    "http_timeout": (1 * _S, 5 * _M),
    "settle_window": (2 * _S, 1 * _H),
    "membership_ttl": (0, 1 * _H),
    "home_refresh": (0, 1 * _D),
}
"""Every duration setting has a range; README 'Configuration reference' lists them. A value
outside it is a typo or a policy that cannot work (``realert: 0s`` alerts on every run,
``http_timeout: 0s`` fails every request)."""
BUSINESS_DAY_SETTINGS = frozenset(
    {"remind_after", "nudge_after", "publish_after", "silent_close_after"}
)
"""The settings counted on the desk calendar, which may be written in business days (``3bd``)
and then take as many as their longest wall-clock value has days. Every other duration is
wall-clock time, where ``400bd`` would count as nothing (``ledger.retention: 400bd`` would
prune the whole decision log)."""


def _shown(seconds: int) -> str:
    return str(Duration(wall=timedelta(seconds=seconds)))


def check_duration_bounds(name: str, value: Duration) -> None:
    """Raise ValueError when ``value`` is outside the range of the setting called ``name``."""
    low, high = DURATION_BOUNDS.get(name, (0, MAX_DAYS * _D))
    if value.is_business:
        if name not in BUSINESS_DAY_SETTINGS:
            raise ValueError(
                f"{value} is in business days; this setting is wall-clock time "
                f"({_shown(low)}-{_shown(high)}, e.g. 2h or 3d)"
            )
        fewest, most = (1 if low else 0), max(1, high // _D)
        if not fewest <= value.business_days <= most:
            raise ValueError(f"{value} is outside {fewest}bd-{most}bd (README: duration settings)")
        return
    seconds = int(value.wall.total_seconds())
    if not low <= seconds <= high:
        raise ValueError(
            f"{value} is outside {_shown(low)}-{_shown(high)} (README: duration settings)"
        )
