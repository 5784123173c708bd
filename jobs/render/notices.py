"""Grouped notices: the lines a run's chains end with, posted as few, readable messages.

A job ends a chain with a notice line ("created CS-412 for SS-300") instead of a message of
its own, so one run that handles ten requests tells the channel once, and a notice whose post
failed is told by the next run together with that run's own.
"""

from __future__ import annotations

from collections.abc import Sequence

from jobs.model import Action, ActionKind, Finding
from jobs.render.alerts import section_blocks
from jobs.render.slack import MAX_MESSAGE_TEXT, context, header, truncate


def notice_messages(
    channel: str, title: str, footer: str, lines: Sequence[Action], per_message: int
) -> list[tuple[Action, list[int]]]:
    """The messages for ``lines`` (notice steps, already rendered): each with the indexes of
    the lines it carries."""
    messages = []
    for start in range(0, len(lines), per_message):
        part = list(range(start, min(start + per_message, len(lines))))
        heading = title
        if len(lines) > per_message:
            heading += f" ({start + 1}-{part[-1] + 1} of {len(lines)})"
        texts = [lines[i].text for i in part]
        blocks = [header(heading), *section_blocks(f"• {t}" for t in texts)]
        if footer:
            blocks.append(context([footer]))
        findings: list[Finding] = []
        for i in part:
            findings.extend(lines[i].findings)
        text = truncate(heading + "\n" + "\n".join(f"- {t}" for t in texts), MAX_MESSAGE_TEXT)
        messages.append(
            (
                Action(
                    kind=ActionKind.SLACK_POST,
                    target=channel,
                    findings=findings,
                    text=text,
                    blocks=blocks,
                ),
                part,
            )
        )
    return messages
