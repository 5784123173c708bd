"""Indexes the bench's Jira answers a query from, as Jira does (`bench.run.BenchJira`).

Each narrows the issues a query's condition can match, never decides a match: every candidate
still meets the whole query, with the JQL emulator's own predicate. An index answers a clause
only where that predicate decides alike for every issue it groups together (the same value,
the same date order), and an issue changed since the desk was loaded is always a candidate,
or the order is made again.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from emulators import jql
from emulators.jira import IssueState

ISSUE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*-\d+")


BOUNDS = frozenset({"<", "<=", ">", ">="})
_UNSET = object()


FEW_CANDIDATES = 5_000
"""Candidates few enough that the query's own predicate reads them faster than a broad index
(tens of thousands of keys) narrows them."""


class DateOrder:
    """The desk's issues having a date (created, due, a custom date...), in the order of its
    value, as loaded. A bound's own predicate is False then True (``>``, ``>=``) or True
    then False (``<``, ``<=``) along them, so the issues within it are found by bisection.
    Once any issue's date is not the one ordered (or an issue was added), the order is made
    again before it is read."""

    def __init__(self, spec: jql.FieldSpec) -> None:
        self.values = spec.get
        self.indexed: dict[str, Sequence[Any]] = {}
        self.ordered: list[IssueState] = []
        self._changed: bool | None = None

    def order(self, issues: Mapping[str, IssueState]) -> None:
        dated: list[tuple[Any, IssueState]] = []
        for key, issue in issues.items():
            values = self.values(issue)
            self.indexed[key] = values
            if values:
                dated.append((values[0], issue))
        dated.sort(key=_first)
        self.ordered = [issue for _, issue in dated]
        self._changed = False

    def written(self) -> None:
        self._changed = None

    def window(self, bound: Any, holds: Any, issues: Mapping[str, IssueState]) -> set[str] | None:
        if self._changed is None:
            indexed, values = self.indexed, self.values
            self._changed = len(indexed) != len(issues) or any(
                indexed.get(k, _UNSET) != values(i) for k, i in issues.items()
            )
        if self._changed:
            self.order(issues)
        ordered = self.ordered
        if bound.operator in (">", ">="):
            within = ordered[bisect.bisect_left(ordered, True, key=holds) :]
        else:
            within = ordered[: bisect.bisect_left(ordered, True, key=lambda i: not holds(i))]
        if len(within) * 4 > len(issues) * 3:
            return None  # most of the desk: not worth a set of its keys
        return {i.key for i in within}


def _first(pair: tuple[Any, IssueState]) -> Any:
    return pair[0]


class IssueKeys(AbstractSet[str]):
    """Every issue's key and id, case-folded, as the key field's known values: looked up in
    the desk rather than listed."""

    def __init__(self, issues: Mapping[str, IssueState]) -> None:
        self._issues = issues

    def __contains__(self, text: object) -> bool:
        if not isinstance(text, str):
            return False
        issue = self._issues.get(text.upper())
        if issue is not None and issue.key.casefold() == text:
            return True
        return text.isdigit() and any(i.id == text for i in self._issues.values())

    def __iter__(self) -> Iterator[str]:
        for issue in self._issues.values():
            yield issue.key.casefold()
            yield issue.id

    def __len__(self) -> int:
        return 2 * len(self._issues)


def spellings(clause: Any, context: Any) -> set[str]:
    """Every way ``clause`` can name a user: its values, case-folded, and the current user
    (at least the names the JQL emulator reads from it)."""
    operand = clause.operand
    items = operand.items if isinstance(operand, jql.ListOperand) else (operand,)
    named = {item.text.casefold() for item in items if isinstance(item, jql.Value)}
    return named | ({context.current_user.casefold()} if context.current_user else set())


def holds_alone(clause: Any, context: Any) -> Any:
    """The emulator's own predicate for ``clause`` alone."""
    return jql.compile_query(jql.Query(clause), context)[0]


def union(parts: list[set[str] | None]) -> set[str] | None:
    if any(part is None for part in parts):
        return None  # one part reads most of the desk: so does the OR
    return set().union(*(part for part in parts if part is not None))


def intersection(lookups: list[Callable[[], set[str] | None]]) -> set[str] | None:
    known: set[str] | None = None
    for lookup in lookups:
        if known is not None and len(known) <= FEW_CANDIDATES:
            break
        keys = lookup()
        if keys is not None:
            known = keys if known is None else known & keys
    return known


def is_broad(node: Any, context: Any) -> bool:
    """A clause on the project or the creation date: an index that keeps most of the desk."""
    if not isinstance(node, jql.Clause):
        return False
    spec = context.field(node.field)
    return spec is not None and spec.name.casefold() in ("project", "created")


class TermIndex:
    """The desk's issues by the terms of one attribute, as loaded (the words of a summary,
    the account of a reporter). An issue whose attribute is no longer the one indexed (or
    that was added since) is a candidate whatever is asked: the index only ever narrows."""

    def __init__(
        self,
        attr: str,
        terms: Callable[[Any], Iterable[Any]],
        aliases: Callable[[Any], Iterable[str]] | None = None,
        *,
        as_tuple: bool = False,
    ) -> None:
        self.attr = attr
        self.terms = terms
        self.aliases = aliases
        """A term's spellings in a query (a user's account id, email and name, case-folded)."""
        self.as_tuple = as_tuple
        """A list attribute (labels): kept as a tuple and compared by value, so a list changed
        in place is seen as changed (the others are compared by identity: a new value is a
        new object)."""
        self.keys_by_term: dict[Any, set[str]] = {}
        self.terms_by_alias: dict[str, set[Any]] = {}
        self.indexed: dict[str, Any] = {}
        self._changed: set[str] | None = None

    def add(self, issue: IssueState) -> None:
        value = getattr(issue, self.attr)
        self.indexed[issue.key] = tuple(value) if self.as_tuple else value
        for term in self.terms(value):
            if term not in self.keys_by_term and self.aliases is not None:
                for alias in self.aliases(term):
                    self.terms_by_alias.setdefault(alias, set()).add(term)
            self.keys_by_term.setdefault(term, set()).add(issue.key)

    def changed(self, issues: Mapping[str, IssueState]) -> set[str]:
        """The issues whose attribute is not the one indexed: read again after each write."""
        if self._changed is None:
            attr, indexed = self.attr, self.indexed
            if self.as_tuple:
                self._changed = {
                    k
                    for k, i in issues.items()
                    if indexed.get(k, _UNSET) != tuple(getattr(i, attr))
                }
            else:
                self._changed = {
                    k for k, i in issues.items() if indexed.get(k, _UNSET) is not getattr(i, attr)
                }
        return self._changed

    def written(self) -> None:
        """Something was written: any issue may have changed (or been added)."""
        self._changed = None

    def having_all(self, terms: Sequence[Any], issues: Mapping[str, IssueState]) -> set[str]:
        """Issues indexed with every one of ``terms``, and the changed ones."""
        found = [self.keys_by_term.get(term, set()) for term in terms]
        return set(min(found, key=len)).intersection(*found) | self.changed(issues)

    def having_any(self, terms: Iterable[Any], issues: Mapping[str, IssueState]) -> set[str]:
        """Issues indexed with any of ``terms``, and the changed ones."""
        return set().union(*(self.keys_by_term.get(term, ()) for term in terms)) | self.changed(
            issues
        )

    def accepted_by(
        self, holds: Any, spellings: Iterable[str] | None, issues: Mapping[str, IssueState]
    ) -> set[str]:
        """Issues whose term ``holds`` accepts, among the terms ``spellings`` name (None:
        every term) and no term (an empty field), and the changed ones. ``holds`` is asked
        of one issue per term: a clause on this attribute alone decides alike for every
        issue with its value."""
        found = set(self.changed(issues))
        if spellings is None:
            named = set(self.keys_by_term)
        else:
            named = {None}.union(*(self.terms_by_alias.get(s, ()) for s in spellings))
        for term in named:
            keys = self.keys_by_term.get(term, set())
            sample = next((issues[k] for k in keys if k in issues and k not in found), None)
            if sample is not None and holds(sample):
                found |= keys
        return found


def literal_texts(clause: Any) -> list[str] | None:
    """The values an ``=`` or ``in`` clause names, or None for any other operator or when one
    of them is not a plain value (a function, EMPTY)."""
    if clause.operator not in ("=", "in"):
        return None
    operand = clause.operand
    items = operand.items if isinstance(operand, jql.ListOperand) else (operand,)
    texts = [item.text for item in items if isinstance(item, jql.Value)]
    return texts if len(texts) == len(items) else None
