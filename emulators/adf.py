"""Atlassian Document Format (ADF) <-> the plain text the emulator stores.

The emulator keeps every body as v2-style text, where a mention is ``[~accountid:ID]``.
REST v3 answers with ADF documents, so bodies are rendered as paragraphs (blank-line separated),
hard breaks (single newlines) and ``mention`` nodes; v3 writes arrive as ADF and are flattened
back. Only the node types Jira produces for plain comments are rendered; anything richer that a
client sends is flattened to its text so nothing is lost silently.

v3 takes rich text only as an ADF document and v2 only as a string (`rich_text`), as Jira does:
"Operation value must be an Atlassian Document". Flattening walks the tree without recursion,
so a document nested thousands of levels deep is text, not a RecursionError.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

MENTION = re.compile(r"\[~accountid:([^\]\s]+)\]")
ADF_REQUIRED = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
V2_STRING_REQUIRED = "Operation value must be a string in REST API version 2"


def text_to_adf(text: str, display_name: Callable[[str], str | None] = lambda _id: None) -> dict:
    """Plain/wiki text -> ADF ``doc``; ``display_name`` fills a mention's ``@Name`` text."""
    if text and "\n" not in text and "[~" not in text:
        # One line without a mention, as most comments are: one paragraph of one text node
        # (what the general path below makes of it, without its split and scan).
        content = [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]
        return {"type": "doc", "version": 1, "content": content if text.strip() else []}
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


def is_adf_document(value: Any) -> bool:
    """A ``doc`` of version 1 whose nodes (all the way down) are objects with a string type."""
    if not isinstance(value, dict) or value.get("type") != "doc" or value.get("version") != 1:
        return False
    stack = [value]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            return False
        content = node.get("content")
        if content is None and node is not value:
            continue
        if not isinstance(content, list):
            return False
        stack.extend(content)
    return True


def rich_text(value: Any, version: str) -> str:
    """A written rich-text value (comment body, description) as stored text.

    Raises ValueError with Jira's message when the value has the other version's shape.
    """
    if value is None:
        return ""
    if version == "3":
        if not is_adf_document(value):
            raise ValueError(ADF_REQUIRED)
        return adf_to_text(value)
    if not isinstance(value, str):
        raise ValueError(V2_STRING_REQUIRED)
    return value


def adf_to_text(node: Any) -> str:
    """ADF -> text with ``[~accountid:ID]`` mentions; a plain string passes through.

    Iterative: each container's children are rendered before it is joined, off an explicit
    stack instead of the call stack.
    """
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    if not isinstance(node, dict):
        return str(node)
    results: list[str] = []
    stack: list[tuple[Any, int | None]] = [(node, None)]
    while stack:
        current, count = stack.pop()
        if count is not None:  # its children's texts are the last `count` results
            texts = results[len(results) - count :] if count else []
            del results[len(results) - count :]
            results.append(_join(current.get("type"), texts))
            continue
        leaf = _leaf(current)
        if leaf is not None:
            results.append(leaf)
            continue
        children = [c for c in (current.get("content") or []) if c is not None]
        stack.append((current, len(children)))
        stack.extend((c, None) for c in reversed(children))
    return results[0] if results else ""


def _leaf(node: Any) -> str | None:
    if isinstance(node, str):
        return node
    if not isinstance(node, dict):
        return str(node)
    kind = node.get("type")
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
    if not isinstance(node.get("content") or [], list):
        return ""
    return None


def _join(kind: Any, texts: list[str]) -> str:
    if kind == "doc":
        return "\n\n".join(t for t in texts if t != "")
    if kind in ("bulletList", "orderedList"):
        marks = ["-" if kind == "bulletList" else f"{i}." for i in range(1, len(texts) + 1)]
        return "\n".join(f"{m} {t}" for m, t in zip(marks, texts, strict=True))
    if kind == "listItem":
        return "\n".join(texts)
    return "".join(texts)
