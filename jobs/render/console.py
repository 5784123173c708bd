"""What the operator commands print (``why``, ``silences``): desk-local times, facts in words,
tables whose columns hold whatever an item key looks like.

Console text, not Slack: nothing is escaped for mrkdwn, but control characters from tickets or
sheet cells are replaced so a value cannot break a line or move the cursor.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jobs.render.words import human_duration

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

# The facts a reader looks for first, in this order; the rest follow alphabetically.
_FIRST = (
    "tier",
    "status",
    "elapsed_seconds",
    "target_seconds",
    "remaining_seconds",
    "due_at",
    "created",
    "assignee",
    "organization",
    "priority_reasons",
)
# Facts that repeat what the line already says or only matter to the code.
_SKIP = frozenset({"now", "ticket_summary", "assignee_account_id", "assignee_email", "labels"})


def clean(value: object, limit: int = 0) -> str:
    """One printable line: control characters become spaces; cut at ``limit`` with "…"."""
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", str(value)))
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def local_time(at: datetime, tz: ZoneInfo) -> str:
    """``2026-11-30 10:00 EST``: the desk's clock, to the minute."""
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _fact_value(name: str, value: Any, tz: ZoneInfo) -> str | None:
    if value is None or value == "" or value == [] or value == {}:
        return None
    if name.endswith("_seconds") and isinstance(value, (int, float)):
        return human_duration(timedelta(seconds=value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return clean(value, 80)
        if when.tzinfo is not None and ("T" in value or " " in value):
            return local_time(when, tz)
        return clean(value, 80)
    if isinstance(value, (list, tuple)):
        parts = [p for p in (_fact_value(name, v, tz) for v in value) if p]
        return ", ".join(parts) or None
    if isinstance(value, dict):
        return clean(", ".join(f"{k}={v}" for k, v in value.items()), 120)
    return clean(value, 80)


def _fact_name(name: str) -> str:
    return name.removesuffix("_seconds").removesuffix("_at").replace("_", " ")


def facts_text(facts: Mapping[str, Any], tz: ZoneInfo) -> str:
    """``tier warning · elapsed 1 h 40 m · target 2 h · due 2026-11-30 10:20 EST · ...``."""
    # "missing_for" is "1 h", "missing_for_seconds" 3600: the second is shown, once.
    doubles = {n.removesuffix("_seconds") for n in facts if n.endswith("_seconds")}
    names = [n for n in _FIRST if n in facts] + sorted(
        n for n in facts if n not in _FIRST and n not in _SKIP and n not in doubles
    )
    parts = []
    for name in names:
        shown = _fact_value(name, facts[name], tz)
        if shown is not None:
            parts.append(f"{_fact_name(name)} {shown}")
    return " · ".join(parts)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], wide: int = 60) -> list[str]:
    """Left-aligned columns as wide as their widest cell (each cell cut at ``wide``); the last
    column is not padded."""
    cells = [[clean(c, wide) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        padded = [v.ljust(w) for v, w in zip(values[:-1], widths[:-1], strict=True)]
        return "  ".join([*padded, values[-1]]).rstrip()

    return [line(list(headers)), *(line(r) for r in cells)]
