"""What the listener says, and what it writes in the decision log: pure, no I/O.

Every ticket, sheet or person's text that goes into Slack is escaped here
(`jobs.render.slack.escape`); times are the desk's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jobs.ledger.base import Decision
from jobs.model import RecordKey
from jobs.render.console import facts_text, local_time
from jobs.render.slack import Block, context, escape, mrkdwn, truncate

ACTED = "acted_from_slack"
MAX_LINE = 600


def until_text(until: datetime, now: datetime, tz: ZoneInfo) -> str:
    """``14:00`` later the same desk day, ``Tue 14:00`` on another (desk-local)."""
    local, today = until.astimezone(tz), now.astimezone(tz)
    if local.date() == today.date():
        return f"{local:%H:%M}"
    return f"{local:%a %H:%M}"


def shown_item(item: str) -> str:
    """An item as people call it: ``SS-121``, ``canyon creek roofing`` (plain text)."""
    return item.removeprefix("sheet:")


def snooze_note(by: str, until: str) -> str:
    """The alert line's note after a snooze (mrkdwn)."""
    return f":zzz: snoozed by {escape(by)} until {escape(until)}"


def assign_note(assignee: str, by: str) -> str:
    return f":bust_in_silhouette: assigned to {escape(assignee)} by Slack ({escape(by)})"


def snoozed_answer(item: str, until: str, label: str) -> str:
    return (
        f":zzz: {escape(shown_item(item))} is snoozed until {escape(until)} ({escape(label)}): "
        "the next runs stay quiet about it. `jobs silences` lists it; "
        "`jobs silences --expire ID` ends it early."
    )


def assigned_answer(key: str, name: str) -> str:
    return f":bust_in_silhouette: {escape(key)} is assigned to you in Jira ({escape(name)})."


REFUSED_NOT_AGENT = (
    ":no_entry: Only the support desk can act on these alerts (members of {where}). "
    "Nothing was changed."
)
REFUSED_UNKNOWN = (
    ":grey_question: That button is not one this app made, or it is out of date. Nothing was "
    "changed."
)
PICK_FIRST = ":point_up: Pick a ticket in the list first, then press the button beside it."
NO_ALERT = ":grey_question: There is no alert for {item} ({job}). Nothing was changed."
ALREADY_RESOLVED = (
    ":white_check_mark: The alert for {item} is already resolved. Nothing was changed."
)
NOT_ASSIGNABLE = ":no_entry: {item} cannot be assigned from this alert. Nothing was changed."


def refused(template: str, **values: str) -> str:
    return template.format(**{k: escape(v) for k, v in values.items()})


@dataclass(frozen=True)
class WhyLine:
    at: str
    head: str
    facts: str


def why_message(
    item: str, decisions: Sequence[Decision], tz: ZoneInfo, *, resolved: bool
) -> tuple[str, list[Block]]:
    """The item's decision history, newest first, in desk-local time (what `jobs why` prints)."""
    title = f"*Why {escape(shown_item(item))}?* The decisions about it, newest first"
    if resolved:
        title += " (its alert is resolved)"
    lines = []
    for d in decisions:
        action = f" via {d.action}" if d.action else ""
        episode = f" [{d.episode}]" if d.episode else ""
        head = f"{d.job}/{d.rule}{episode}  {d.outcome}{action}: {d.reason}"
        facts = facts_text(d.facts, tz)
        line = f"`{local_time(d.at, tz)}`  {escape(truncate(head, MAX_LINE))}"
        if facts:
            line += f"\n      {escape(truncate(facts, MAX_LINE))}"
        lines.append(line)
    if not lines:
        lines = ["No decisions recorded (never a candidate, or older than the retention)."]
    blocks: list[Block] = [{"type": "section", "text": mrkdwn(title)}]
    chunk: list[str] = []
    size = 0
    for line in lines:
        if chunk and size + len(line) + 1 > 2900:
            blocks.append({"type": "section", "text": mrkdwn("\n".join(chunk))})
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        blocks.append({"type": "section", "text": mrkdwn("\n".join(chunk))})
    blocks.append(context(["`jobs why` prints the whole history."]))
    text = f"Why {escape(shown_item(item))}? {len(decisions)} decisions, newest first"
    return text, blocks[:50]


def acted(
    key: RecordKey,
    *,
    at: datetime,
    run_id: str,
    rule: str,
    reason: str,
    action: str,
    facts: Mapping[str, Any],
) -> Decision:
    """A person's action from Slack on the alert ``key``, as the decision log keeps it."""
    return Decision(
        at=at,
        run_id=run_id,
        job=key.job,
        rule=rule,
        item=key.item,
        episode=key.episode,
        outcome=ACTED,
        reason=reason,
        facts=dict(facts),
        action=action,
    )
