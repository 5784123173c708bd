"""Slack mrkdwn escaping and Block Kit builders: the one place ticket text becomes Slack markup.

Ticket summaries, comments and sheet cells are written by customers and colleagues; pasted into
a message unescaped, ``<!channel>`` pings the whole support channel and ``<https://evil|Jira>``
disguises a link. Every untrusted string goes through `escape` (or `link` for its label);
the builders take *mrkdwn* that the caller has already assembled from escaped parts.

Limits are Slack's: https://api.slack.com/reference/block-kit/blocks
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

Block = dict[str, Any]

MAX_BLOCKS = 50
"""Blocks per message; more and chat.postMessage answers ``invalid_blocks``."""
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_MESSAGE_TEXT = 40_000
"""Slack truncates the top-level ``text`` beyond this."""

ELLIPSIS = "…"
ZERO_WIDTH_JOINER = "\u200d"

# "@channel" / "@here" / "@everyone" typed as plain words. Slack documents that these only
# notify in the ``<!channel>`` form, which `escape` already breaks; but a message sent with
# ``link_names=true`` (an option a later change could switch on) or pasted by a person from
# a notification turns the bare word into a mention too. A zero-width joiner after the "@"
# keeps the text readable and unparseable in every mode.
# Only a word-initial "@" counts, so "ops@channel.example" (an email address) is left alone.
_BROADCAST_WORD = re.compile(r"(?<![\w.+-])@(?=(channel|here|everyone)\b)", re.IGNORECASE)

# Label characters with meaning inside ``<url|label>``: ">" closes the link (escaped by
# `escape`); "|" has no escape sequence in mrkdwn, so it becomes a look-alike bar.
_LABEL_BAR = "\uff5c"


def escape(text: str) -> str:
    """Escape untrusted text for mrkdwn: ``&``, ``<``, ``>`` (Slack's documented three).

    After escaping, ``<!channel>``, ``<@U123>``, ``<#C123>`` and ``<https://x|y>`` display as
    typed and notify or link nobody. See https://api.slack.com/reference/surfaces/formatting#escaping
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return neutralize_broadcasts(escaped)


def neutralize_broadcasts(text: str) -> str:
    """Break bare ``@channel``/``@here``/``@everyone`` words; safe for plain_text too."""
    return _BROADCAST_WORD.sub("@" + ZERO_WIDTH_JOINER, text)


def link(url: str, label: str = "") -> str:
    """``<url|label>`` for a http(s) URL we built (a Jira browse link), with the label escaped.

    Raises ValueError for any other scheme (``javascript:``, ``slack://``, ``mailto:``) so a
    value from a ticket can never become a clickable link of another kind.
    """
    safe_url = safe_link_url(url)
    shown = escape(label).replace("|", _LABEL_BAR) if label else safe_url
    return f"<{safe_url}|{shown}>"


def safe_link_url(url: str) -> str:
    """The URL as it may appear inside ``<...>``: http(s) only, with ``& < > | space`` encoded."""
    stripped = url.strip()
    parts = urlsplit(stripped)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in stripped):
        raise ValueError(f"URL contains control characters: {url!r}")
    # Percent-encoding keeps the link working while making it impossible to close the
    # ``<...>`` early or start a label; "&" is entity-escaped as Slack asks for all text.
    return (
        stripped.replace("&", "&amp;")
        .replace("<", "%3C")
        .replace(">", "%3E")
        .replace("|", "%7C")
        .replace(" ", "%20")
    )


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending in an ellipsis when cut.

    Never cuts inside an entity (``&amp;``) or a ``<...>`` link/mention, which would leave
    markup Slack shows raw or, worse, an unclosed ``<`` that swallows the rest.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    cut = limit - len(ELLIPSIS)
    head = text[:cut]
    opened = head.rfind("<")
    if opened > head.rfind(">"):
        head = head[:opened]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:] and len(head) - amp <= len("&amp;"):
        head = head[:amp]
    return head.rstrip() + ELLIPSIS


def mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, str]:
    return {"type": "mrkdwn", "text": truncate(text, limit)}


def plain_text(text: str, limit: int) -> dict[str, Any]:
    # plain_text is never parsed for mentions or links, so it is not entity-escaped (Slack
    # would show "&amp;" literally); broadcast words are still broken for copy-paste safety.
    return {
        "type": "plain_text",
        "text": truncate(neutralize_broadcasts(text), limit),
        "emoji": True,
    }


def header(text: str) -> Block:
    """A header block from plain (unescaped) text, cut to Slack's 150 characters."""
    return {"type": "header", "text": plain_text(text or " ", MAX_HEADER_TEXT)}


def section(text: str) -> Block:
    """A section from mrkdwn the caller built with `escape`/`link`; cut to 3000 characters."""
    return {"type": "section", "text": mrkdwn(text or " ")}


def fields(*texts: str) -> Block:
    """A two-column section of up to 10 mrkdwn fields (2000 characters each)."""
    if not texts:
        raise ValueError("fields() needs at least one field")
    return {
        "type": "section",
        "fields": [mrkdwn(t or " ", MAX_FIELD_TEXT) for t in texts[:MAX_FIELDS]],
    }


def field(label: str, value_mrkdwn: str) -> str:
    """One ``*Label*\\nvalue`` field text; the label is escaped, the value is trusted mrkdwn."""
    return f"*{escape(label)}*\n{value_mrkdwn}"


def context(elements: Iterable[str]) -> Block:
    """A context line (small grey text) of up to 10 mrkdwn elements."""
    items = [mrkdwn(e) for e in elements if e][:MAX_CONTEXT_ELEMENTS]
    if not items:
        raise ValueError("context() needs at least one non-empty element")
    return {"type": "context", "elements": items}


def divider() -> Block:
    return {"type": "divider"}


def chunk_blocks(blocks: Sequence[Block], max_blocks: int = MAX_BLOCKS) -> list[list[Block]]:
    """Split a long list of blocks into messages Slack accepts (50 blocks each)."""
    if max_blocks < 1:
        raise ValueError("max_blocks must be at least 1")
    return [list(blocks[i : i + max_blocks]) for i in range(0, len(blocks), max_blocks)]


def fallback_text(text: str) -> str:
    """Top-level ``text`` (notifications, screen readers): escaped and within Slack's limit."""
    return truncate(escape(text), MAX_MESSAGE_TEXT)


_MARKUP = re.compile(r"<(?P<target>[^<>|]*)(?:\|(?P<label>[^<>]*))?>")


def as_shown(text: str) -> str:
    """mrkdwn as a person sees it in Slack: links by their label, mentions as ``@id``, and
    ``&amp; &lt; &gt;`` as the characters they stand for (what ``--dry-run`` prints)."""

    def shown(match: re.Match[str]) -> str:
        target, label = match.group("target"), match.group("label")
        if target.startswith("@"):
            return f"@{target[1:]}"
        if target.startswith("!subteam^"):
            return f"@{label or target.removeprefix('!subteam^')}"
        if target.startswith("!"):
            return f"@{target[1:]}"
        return label if label else target

    return _MARKUP.sub(shown, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def blocks_as_shown(blocks: Sequence[Block]) -> list[str]:
    """The lines of a message's blocks as Slack shows them (headers, sections, context)."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(str(block["text"]["text"]).upper())
        elif kind == "section":
            if "text" in block:
                lines.extend(as_shown(str(block["text"]["text"])).splitlines())
            for item in block.get("fields") or []:
                lines.extend(as_shown(str(item["text"])).splitlines())
        elif kind == "context":
            lines.append(" · ".join(as_shown(str(e.get("text", ""))) for e in block["elements"]))
        elif kind == "divider":
            lines.append("---")
    return lines
