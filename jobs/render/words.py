"""Words for counts: "1 ticket needs", "3 tickets need", never "ticket(s)"."""

from __future__ import annotations


def plural(n: int, one: str, many: str | None = None) -> str:
    """``n`` followed by the singular or the plural phrase ("ticket" -> "tickets" by default)."""
    return f"{n} {one if n == 1 else (many or one + 's')}"
