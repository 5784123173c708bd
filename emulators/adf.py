"""Atlassian Document Format (ADF) <-> the plain text the emulator stores.

The emulator keeps every body as v2-style text, where a mention is ``[~accountid:ID]``.
REST v3 answers with ADF documents, so bodies are rendered as paragraphs (blank-line separated),
hard breaks (single newlines) and ``mention`` nodes; v3 writes arrive as ADF and are flattened
back. Only the node types Jira produces for plain comments are rendered; anything richer that a
client sends is flattened to its text so nothing is lost silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

MENTION = re.compile(r"\[~accountid:([^\]\s]+)\]")


def text_to_adf(text: str, display_name: Callable[[str], str | None] = lambda _id: None) -> dict:
    """Plain/wiki text -> ADF ``doc``; ``display_name`` fills a mention's ``@Name`` text."""
    content: list[dict[str, Any]] = []
    for block in re.split(r"\n\s*\n", (text or "").strip("\n")):
        if not block.strip():
            continue
        nodes: list[dict[str, Any]] = []
        for i, line in enumerate(block.split("\n")):
            if i:
                nodes.append({"type": "hardBreak"})
            nodes.extend(_inline(line, display_name))
        content.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": content}


def _inline(line: str, display_name: Callable[[str], str | None]) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    pos = 0
    for m in MENTION.finditer(line):
        if m.start() > pos:
            nodes.append({"type": "text", "text": line[pos : m.start()]})
        account_id = m.group(1)
        name = display_name(account_id)
        nodes.append(
            {
                "type": "mention",
                "attrs": {"id": account_id, "text": f"@{name or account_id}", "accessLevel": ""},
            }
        )
        pos = m.end()
    if pos < len(line):
        nodes.append({"type": "text", "text": line[pos:]})
    return nodes


def adf_to_text(node: Any) -> str:
    """ADF -> text with ``[~accountid:ID]`` mentions; a plain string passes through."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    if not isinstance(node, dict):
        return str(node)
    kind = node.get("type")
    children = node.get("content") or []
    if kind == "doc":
        return "\n\n".join(t for t in (adf_to_text(c) for c in children) if t != "")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind == "mention":
        return f"[~accountid:{(node.get('attrs') or {}).get('id', '')}]"
    if kind == "emoji":
        attrs = node.get("attrs") or {}
        return str(attrs.get("text") or attrs.get("shortName") or "")
    if kind in ("inlineCard", "blockCard"):
        return str((node.get("attrs") or {}).get("url", ""))
    if kind in ("bulletList", "orderedList"):
        lines = []
        for i, item in enumerate(children, start=1):
            marker = "-" if kind == "bulletList" else f"{i}."
            lines.append(f"{marker} {adf_to_text(item)}")
        return "\n".join(lines)
    if kind == "listItem":
        return "\n".join(adf_to_text(c) for c in children)
    return "".join(adf_to_text(c) for c in children)
