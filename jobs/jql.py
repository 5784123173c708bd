"""JQL text the jobs build: quoting and key batches. Pure and cheap to import (stdlib only).

Sheet and ticket text never reaches JQL raw: every value goes through `jql_quote`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

KEYS_PER_CLAUSE = 100
"""Keys per ``key in (...)``: one search page, and well inside Jira's query limits."""


def jql_quote(value: str) -> str:
    """A JQL string literal for ``value``.

    Backslash and double quote are escaped as JQL reads them; control characters (a newline
    pasted from a sheet cell) are refused, because no JQL literal needs them.
    """
    if not isinstance(value, str):
        raise TypeError(f"jql_quote takes a str, not {type(value).__name__}")
    bad = next((ch for ch in value if ord(ch) < 32 or ord(ch) == 127), None)
    if bad is not None:
        raise ValueError(f"refusing to put control character {bad!r} into a JQL query")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def jql_list(values: Iterable[str]) -> str:
    """``"A", "B"``: the inside of a JQL ``in (...)``."""
    return ", ".join(jql_quote(v) for v in values)


def key_batches(keys: Iterable[str], size: int = KEYS_PER_CLAUSE) -> list[str]:
    """``key in (...)`` clauses of at most ``size`` keys each, in the order given, each key
    once. No keys, no clause: ``key in ()`` is not valid JQL."""
    if size < 1:
        raise ValueError(f"a clause holds at least one key, not {size}")
    ordered = list(dict.fromkeys(keys))
    return [
        f"key in ({jql_list(ordered[start : start + size])})"
        for start in range(0, len(ordered), size)
    ]


_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


def without_order(jql: str) -> str:
    """``jql`` without its ``ORDER BY`` clause (the first one outside a quoted string), for a
    search that puts its own order on it."""
    quote: str | None = None
    escaped = False
    for at, ch in enumerate(jql):
        if quote is not None:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "oO" and (at == 0 or not (jql[at - 1].isalnum() or jql[at - 1] == "_")):
            if _ORDER_BY.match(jql, at):
                return jql[:at].rstrip()
    return jql
