"""What `why` and `silences` print: desk-local times, facts in words, tables that hold."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from jobs.render.console import clean, facts_text, local_time, table

NY = ZoneInfo("America/New_York")


def test_times_are_the_desks_to_the_minute() -> None:
    at = datetime(2026, 11, 30, 15, 0, 42, 123456, tzinfo=UTC)
    assert local_time(at, NY) == "2026-11-30 10:00 EST"
    assert local_time(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), NY) == "2026-07-01 08:00 EDT"


def test_facts_read_as_words_with_the_important_ones_first() -> None:
    facts = {
        "now": "2026-11-30T10:00:00-05:00",
        "warn_before_seconds": 1800,
        "elapsed_seconds": 6000,
        "target_seconds": 7200,
        "due_at": "2026-11-30T15:20:00+00:00",
        "tier": "warning",
        "priority_installer": True,
        "assignee": None,
        "missing_for": "1 h",
        "missing_for_seconds": 3600,
        "rows": [17, 20],
        "ticket_summary": "repeats the line",
    }
    text = facts_text(facts, NY)
    first = "tier warning · elapsed 1 h 40 m · target 2 h · due 2026-11-30 10:20 EST"
    assert text.startswith(first)
    assert "missing for 1 h" in text and text.count("missing for") == 1
    assert "priority installer yes" in text and "rows 17, 20" in text
    assert "warn before 30 m" in text
    assert "now" not in text.split(" · ")[0] and "assignee" not in text
    assert "repeats the line" not in text


def test_a_value_cannot_break_the_line() -> None:
    assert clean("SS-1\nforged line\x1b[2J") == "SS-1 forged line [2J"
    assert clean("x" * 100, 10) == "x" * 9 + "…"


def test_columns_are_as_wide_as_the_widest_cell() -> None:
    lines = table(
        ("ID", "ITEM", "REASON"),
        [(1, "SS-1", "holiday"), (12, "sheet:canyon creek roofing", "renamed\tin the sheet")],
    )
    assert lines == [
        "ID  ITEM                        REASON",
        "1   SS-1                        holiday",
        "12  sheet:canyon creek roofing  renamed in the sheet",
    ]
