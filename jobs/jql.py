"""JQL text the jobs build: quoted literals and ``key in (...)`` batches.

Pure and standard-library only, so job modules can import it at the top without slowing
``python -m jobs list``. Nothing from a sheet cell or a ticket reaches JQL unquoted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

KEY_BATCH = 100
"""Keys per ``key in (...)`` clause: well inside Jira's limits on query length and clauses,
and one search page (100 issues with fields) answers a whole batch."""


def jql_quote(value: str) -> str:
    """A JQL string literal for ``value``: sheet and ticket text never reaches JQL raw.

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
    """``"A", "B"``: quoted values for an ``in (...)`` list, in the order given."""
    return ", ".join(jql_quote(v) for v in values)


def key_batches(keys: Iterable[str], size: int = KEY_BATCH) -> Iterator[list[str]]:
    """``keys`` without repeats (first occurrence kept), in lists of at most ``size``."""
    if size < 1:
        raise ValueError(f"a batch holds at least one key, not {size}")
    batch: list[str] = []
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            continue
        seen.add(key)
        batch.append(key)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def key_in_clauses(keys: Iterable[str], size: int = KEY_BATCH) -> Iterator[str]:
    """``key in ("SS-1", "SS-2", ...)`` clauses covering ``keys``, at most ``size`` keys each.

    Nothing is yielded for no keys: ``key in ()`` is not valid JQL.
    """
    for batch in key_batches(keys, size):
        yield f"key in ({jql_list(batch)})"
