"""Grouped notices: the lines a run's chains end with, posted as few, readable messages.

A job ends a chain with a notice line ("created CS-412 for SS-300") instead of a message of
its own, so one run that handles ten requests tells the channel once, and a notice whose post
failed is told by the next run together with that run's own.
"""

from __future__ import annotations

from collections.abc import Sequence

from jobs.model import Action, ActionKind, Finding
from jobs.render.alerts import section_blocks
from jobs.render.pack import fallback, pack
from jobs.render.slack import context, escape, header


def notice_messages(
    channel: str, title: str, footer: str, lines: Sequence[Action], cap: int | None
) -> list[tuple[Action, list[int]]]:
    """The messages for ``lines`` (notice steps, already rendered): each with the indexes of
    the lines it carries."""
    texts = [f"• {line.text}" for line in lines]
    parts = pack(texts, other_blocks=2 if footer else 1, cap=cap)
    messages = []
    for part in parts:
        heading = title
        if len(parts) > 1:
            heading += f" ({part[0] + 1}–{part[-1] + 1} of {len(lines)})"
        shown = [texts[i] for i in part]
        blocks = [header(heading), *section_blocks(shown)]
        if footer:
            blocks.append(context([footer]))
        findings: list[Finding] = [f for i in part for f in lines[i].findings]
        post = Action(
            kind=ActionKind.SLACK_POST,
            target=channel,
            findings=findings,
            text=fallback(escape(heading), shown),
            blocks=blocks,
        )
        messages.append((post, part))
    return messages
