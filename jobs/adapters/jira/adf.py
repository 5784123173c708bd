"""Atlassian Document Format (v3 rich text) -> the plain text rules read.

Mentions become ``[~accountid:ID]`` (what v2 answers carry), paragraphs are separated by a
blank line, hard breaks are newlines and list items get ``-``/``1.`` marks.

The tree is walked with an explicit stack, not recursion: a body nested thousands of levels
deep is read like any other. Below `MAX_DEPTH` levels the rest is left out and the caller is
told (``cut``), so it can report the comment instead of failing every run on it.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 100
"""Levels of nesting read. Documents people write nest a handful (lists in tables in
panels); anything near this is not a comment a rule needs to understand."""


def adf_text(value: Any, cut: list[int] | None = None) -> str:
    """A v2 string as is; a v3 ADF document flattened. If the document nests deeper than
    `MAX_DEPTH`, the text below is left out and the depth reached is appended to ``cut``."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return ""
    leaf = _leaf(value)
    if leaf is not None:
        return leaf
    shallow = _shallow(value)
    if shallow is not None:
        return shallow
    texts: list[str] = []
    # (node, depth, children count): a count of -1 means "not expanded yet".
    stack: list[tuple[dict[str, Any], int, int]] = [(value, 0, -1)]
    deepest = 0
    while stack:
        node, depth, count = stack.pop()
        if count >= 0:
            parts = texts[len(texts) - count :] if count else []
            if count:
                del texts[len(texts) - count :]
            texts.append(_join(node.get("type"), parts))
            continue
        leaf = _leaf(node)
        if leaf is not None:
            texts.append(leaf)
            continue
        if depth >= MAX_DEPTH:
            deepest = max(deepest, depth)
            texts.append("")
            continue
        children = [c for c in node["content"] if isinstance(c, dict)]
        leaves = _leaves(children)
        if leaves is not None:  # most paragraphs: text, mentions and breaks only
            texts.append(_join(node.get("type"), leaves))
            continue
        stack.append((node, depth, len(children)))
        stack.extend((child, depth + 1, -1) for child in reversed(children))
    if deepest and cut is not None:
        cut.append(deepest)
    return texts[0] if texts else ""


def _leaf(node: dict[str, Any]) -> str | None:
    """The text of a node that has no children to read; None for a container."""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text") or "")
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji", "inlineCard", "blockCard"):
        attrs = node.get("attrs")
        attrs = attrs if isinstance(attrs, dict) else {}
        if kind == "mention":
            return f"[~accountid:{attrs.get('id', '')}]"
        if kind == "emoji":
            return str(attrs.get("text") or attrs.get("shortName") or "")
        return str(attrs.get("url") or "")
    if not isinstance(node.get("content"), list):
        return ""
    return None


def _shallow(node: dict[str, Any]) -> str | None:
    """The text of a node whose children hold only leaves (a doc of plain paragraphs, what
    comment editors write), without the stack; None for anything deeper."""
    parts = []
    for child in node["content"]:
        if not isinstance(child, dict):
            continue
        text = _leaf(child)
        if text is None:
            leaves = _leaves([c for c in child["content"] if isinstance(c, dict)])
            if leaves is None:
                return None
            text = _join(child.get("type"), leaves)
        parts.append(text)
    return _join(node.get("type"), parts)


def _leaves(children: list[dict[str, Any]]) -> list[str] | None:
    out = []
    for child in children:
        text = _leaf(child)
        if text is None:
            return None
        out.append(text)
    return out


def _join(kind: Any, parts: list[str]) -> str:
    if kind == "doc":
        return "\n\n".join(t for t in parts if t)
    if kind in ("bulletList", "orderedList"):
        marks = ["-" if kind == "bulletList" else f"{i}." for i in range(1, len(parts) + 1)]
        return "\n".join(f"{m} {t}" for m, t in zip(marks, parts, strict=True))
    if kind == "listItem":
        return "\n".join(parts)
    return "".join(parts)
