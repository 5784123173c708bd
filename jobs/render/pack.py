"""Lines packed into as few Slack messages as Slack's limits allow.

Slack takes at most 50 blocks a message and 3,000 characters a section
(https://api.slack.com/reference/block-kit/blocks), and the top-level ``text`` (the
notification and screen-reader fallback) is best kept under 4,000 characters
(https://api.slack.com/methods/chat.postMessage#truncating). A list of alert lines therefore
goes into sections of up to `SECTION_LIMIT` characters, and a message takes as many sections
as its other blocks leave room for: a few hundred lines, not a fixed 25.
"""

from __future__ import annotations

from collections.abc import Sequence

from jobs.render.slack import MAX_BLOCKS, MAX_SECTION_TEXT, truncate

SECTION_LIMIT = MAX_SECTION_TEXT - 100
"""Characters of lines per section: under Slack's 3,000, with room for a bullet per line."""
MAX_FALLBACK_TEXT = 3_900
"""The top-level ``text``: Slack cuts (or refuses, ``msg_too_long``) longer ones."""


def clip(line: str) -> str:
    """A line no longer than a section (cut where it cannot break a link or an entity)."""
    return truncate(line, SECTION_LIMIT)


def sections_of(lines: Sequence[str]) -> list[list[str]]:
    """The lines grouped into sections of at most `SECTION_LIMIT` characters, in order."""
    sections: list[list[str]] = []
    size = 0
    for line in map(clip, lines):
        if sections and size + len(line) + 1 <= SECTION_LIMIT:
            sections[-1].append(line)
            size += len(line) + 1
        else:
            sections.append([line])
            size = len(line) + 1
    return sections


def pack(lines: Sequence[str], *, other_blocks: int, cap: int | None = None) -> list[list[int]]:
    """The indexes of ``lines`` each message carries, as few messages as fit.

    ``other_blocks``: the blocks a message has besides the sections of lines (a header, a
    legend, a footer, buttons). ``cap``: at most this many lines a message, if the desk
    wants shorter messages.
    """
    budget = MAX_BLOCKS - other_blocks
    if budget < 1:
        raise ValueError(f"{other_blocks} other blocks leave no room for lines")
    messages: list[list[int]] = []
    sections = 0
    size = 0
    for index, line in enumerate(map(clip, lines)):
        length = len(line) + 1
        fits_section = bool(messages) and size + length <= SECTION_LIMIT
        full = bool(messages) and cap is not None and len(messages[-1]) >= cap
        if messages and not full and fits_section:
            messages[-1].append(index)
            size += length
        elif messages and not full and sections < budget:
            messages[-1].append(index)
            sections += 1
            size = length
        else:
            messages.append([index])
            sections, size = 1, length
    return messages


def fallback(summary: str, lines: Sequence[str]) -> str:
    """The notification text: the summary, then as many lines as fit, then how many more."""
    text = summary
    for n, line in enumerate(lines):
        more = f"\n… and {len(lines) - n} more"
        candidate = f"{text}\n{line}"
        if len(candidate) + len(more) > MAX_FALLBACK_TEXT:
            return truncate(text + more, MAX_FALLBACK_TEXT)
        text = candidate
    return truncate(text, MAX_FALLBACK_TEXT)
