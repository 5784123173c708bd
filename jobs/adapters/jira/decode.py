"""Jira's JSON answers, read even when nested deeper than Python's parser recurses.

``json.loads`` recurses once per nested object or array and gives up near 1,000 levels with
RecursionError. A comment whose ADF body nests that deep would then fail every search that
returns it, forever. Such an answer is decoded again without recursion; containers deeper
than `MAX_DEPTH` are read and left out (None). The comment's text above that depth is kept
and the ADF reader reports the comment (`jobs.adapters.jira.adf`).
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]  # C, no recursion
from typing import Any

MAX_DEPTH = 500
"""Containers kept, counting from the answer's top: far below any ADF depth cap plus the
answer's envelope (issues, fields, comment, comments, body)."""

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS = (
    ("true", True),
    ("false", False),
    ("null", None),
    # What json.loads also takes, so both readers agree on every answer.
    ("NaN", float("nan")),
    ("Infinity", float("inf")),
    ("-Infinity", float("-inf")),
)


def decode_json(raw: bytes | str) -> Any:
    """``json.loads``, or the same answer decoded without recursion when it nests too deep."""
    try:
        return json.loads(raw)
    except RecursionError:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        return decode_bounded(text)


def decode_bounded(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """JSON text -> value with an explicit stack; deeper containers become None.

    Raises ValueError for text that is not JSON, as ``json.loads`` does.
    """
    # Each open container: [value or None when dropped, pending key, closing character].
    stack: list[list[Any]] = []
    pos = _skip(text, 0)
    while True:
        value, pos, opened = _value(text, pos, stack, max_depth)
        if opened:
            continue
        while True:  # store `value` in its parent; close parents that end here
            if not stack:
                if _skip(text, pos) != len(text):
                    raise ValueError(f"extra data at character {pos}")
                return value
            top = stack[-1]
            if top[0] is not None:
                if top[2] == "}":
                    top[0][top[1]] = value
                else:
                    top[0].append(value)
            pos = _skip(text, pos)
            if text.startswith(",", pos):
                pos = _skip(text, pos + 1)
                if top[2] == "}":
                    top[1], pos = _key(text, pos)
                break
            if text.startswith(top[2], pos):
                stack.pop()
                value, pos = top[0], pos + 1
                continue
            raise ValueError(f"expected ',' or {top[2]!r} at character {pos}")


def _value(text: str, pos: int, stack: list[list[Any]], max_depth: int) -> tuple[Any, int, bool]:
    """The value at ``pos``: (value, position after it, False), or for a container that is
    not empty: (None, position of its first value, True) with the container pushed."""
    ch = text[pos : pos + 1]
    if ch in ("{", "["):
        closer = "}" if ch == "{" else "]"
        dropped = len(stack) >= max_depth or (bool(stack) and stack[-1][0] is None)
        container: Any = None if dropped else ({} if ch == "{" else [])
        after = _skip(text, pos + 1)
        if text.startswith(closer, after):
            return container, after + 1, False
        key = None
        if ch == "{":
            key, after = _key(text, after)
        stack.append([container, key, closer])
        return None, after, True
    if ch == '"':
        string, end = scanstring(text, pos + 1)
        return string, end, False
    number = _NUMBER.match(text, pos)
    if number and number.group(0) and not text.startswith("-Infinity", pos):
        integer, fraction, exponent = number.groups()
        literal = number.group(0)
        parsed = float(literal) if fraction or exponent else int(integer)
        return parsed, number.end(), False
    for word, constant in _LITERALS:
        if text.startswith(word, pos):
            return constant, pos + len(word), False
    raise ValueError(f"expected a JSON value at character {pos}")


def _key(text: str, pos: int) -> tuple[str, int]:
    if not text.startswith('"', pos):
        raise ValueError(f"expected a property name at character {pos}")
    key, end = scanstring(text, pos + 1)
    end = _skip(text, end)
    if not text.startswith(":", end):
        raise ValueError(f"expected ':' at character {end}")
    return key, _skip(text, end + 1)


def _skip(text: str, pos: int) -> int:
    match = _WHITESPACE.match(text, pos)
    return match.end() if match else pos
