"""Alert lines go into as few Slack messages as Slack's limits allow, never a fixed 25 a message.

The floor is worked out here from Slack's limits alone (50 blocks, a section's characters),
and each message is checked against those limits: no message over 50 blocks, no section over
3,000 characters, no notification text over 4,000.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from jobs.model import Finding, Severity
from jobs.render.alerts import grouped_alerts
from jobs.render.pack import MAX_FALLBACK_TEXT, SECTION_LIMIT, pack
from jobs.render.slack import MAX_BLOCKS, MAX_SECTION_TEXT
from jobs.render.unassigned_first_response import Card, group_message
from jobs.rules.unassigned_first_response import (
    FirstResponseDetail,
    UnassignedFirstResponseConfig,
)

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def finding(n: int) -> Finding:
    return Finding(
        "fake",
        "breach",
        f"SS-{1000 + n}",
        Severity.BREACH,
        "no first response after 2 h 25 m (target 2 h)",
        detail=breach(f"Installer portal rejects application number {n:05d}"),
        url=f"https://desk.example.test/browse/SS-{1000 + n}",
    )


def breach(summary: str) -> FirstResponseDetail:
    """A ticket 2 h 25 m without a first response, nothing else known about it."""
    waited = timedelta(hours=2, minutes=25)
    return FirstResponseDetail(
        tier=Severity.BREACH,
        source="computed",
        created=NOW - waited,
        now=NOW,
        elapsed=waited,
        remaining=timedelta(hours=2) - waited,
        target=timedelta(hours=2),
        warn_before=timedelta(minutes=30),
        escalate_factor=2.0,
        due_at=NOW - waited + timedelta(hours=2),
        ticket_summary=summary,
        status="",
        priority_name=None,
        organization=None,
        priority_installer=False,
        priority_reasons=(),
        labels=(),
        assignee=None,
        source_note="",
        sla_breached=None,
        sla_paused=None,
    )


def floor_of(lines: list[str], other_blocks: int) -> int:
    """The fewest messages those lines fit in: sections of whole lines under the limit, and
    at most 50 blocks a message (the lines here are all the same length)."""
    per_section = SECTION_LIMIT // (len(lines[0]) + 1)
    per_message = per_section * (MAX_BLOCKS - other_blocks)
    return math.ceil(len(lines) / per_message)


def assert_within_slacks_limits(blocks: list[dict], text: str) -> None:
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(b["text"]["text"]) <= MAX_SECTION_TEXT for b in blocks if "text" in b)
    assert len(text) <= MAX_FALLBACK_TEXT


@pytest.mark.parametrize("count", [10, 200, 2000])
def test_grouped_alerts_use_the_fewest_messages_slacks_limits_allow(count: int) -> None:
    findings = [finding(n) for n in range(count)]
    actions = grouped_alerts(
        findings, channel="#support-sla", title=lambda s, n: f"{n} tickets overdue"
    )
    lines = [f"• {_line(f)}" for f in findings]
    assert len({len(line) for line in lines}) == 1  # the floor below assumes equal lines
    assert len(actions) == floor_of(lines, other_blocks=1)
    assert sum(len(a.findings) for a in actions) == count
    for action in actions:
        assert action.blocks is not None
        assert_within_slacks_limits(action.blocks, action.text)
    if count == 2000:
        assert len(actions) < math.ceil(count / 25)  # far fewer than 25 lines a message


def _line(f: Finding) -> str:
    from jobs.render.alerts import finding_line

    return finding_line(f)


@pytest.mark.parametrize("count", [10, 200, 2000])
def test_first_response_cards_pack_to_the_floor(count: int) -> None:
    cards = [Card.of(finding(n)) for n in range(count)]
    lines = [f"• {c.line()}" for c in cards]
    parts = pack(lines, other_blocks=3)
    assert len(parts) == floor_of(lines, other_blocks=3)
    config = UnassignedFirstResponseConfig(first_response=timedelta(hours=2))
    for part in parts:
        text, blocks = group_message([cards[i] for i in part], config)
        assert_within_slacks_limits(blocks, text)


def test_one_enormous_line_is_cut_to_a_section_and_cannot_block_the_others() -> None:
    huge = Finding("fake", "breach", "SS-1", Severity.BREACH, "&" * 9000)
    findings = [huge, *(finding(n) for n in range(30))]
    [action] = grouped_alerts(findings, channel="#c", title=lambda s, n: f"{n} overdue")
    assert action.blocks is not None and len(action.findings) == 31
    assert_within_slacks_limits(action.blocks, action.text)


def test_a_cap_shortens_messages_when_a_desk_wants_it() -> None:
    findings = [finding(n) for n in range(60)]
    actions = grouped_alerts(
        findings, channel="#c", title=lambda s, n: f"{n} overdue", max_per_message=25
    )
    assert [len(a.findings) for a in actions] == [25, 25, 10]
    assert actions[0].blocks is not None
    assert actions[0].blocks[0]["text"]["text"] == "60 overdue (1–25 of 60)"
