"""Words for counts and durations: "1 ticket needs", "3 tickets need" (never "ticket(s)"),
"2 h 13 m". Plain text, no Slack markup: rules, the pipeline and the console use them too."""

from __future__ import annotations

from datetime import timedelta


def plural(n: int, one: str, many: str | None = None) -> str:
    """``n`` followed by the singular or the plural phrase ("ticket" -> "tickets" by default)."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def human_duration(delta: timedelta) -> str:
    """'2 h 13 m', '45 m', '3 d 4 h': what a person reads in an alert."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} m" if minutes else f"{hours} h"
    return f"{minutes} m"
