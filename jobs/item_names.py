"""Names people use for what the jobs watch, turned into the ledger's item keys.

A person types ``ss-101``, ``Canyon Creek Roofing`` or an internal key; the ledger keys items
as ``SS-101`` and ``sheet:canyon creek roofing``. `resolve_item` says which item that is,
whether the ledger knows it, and, when it names nothing, the nearest items it does know, for
a one-line refusal ("no item SS-1O1; did you mean SS-101?").

The snooze label may carry an end date (``sla-snooze-until-2026-12-08``); `label_silence`
reads a ticket's labels as a silence with that end.

Pure: no I/O. The caller gives the items the ledger knows (``ledger.items()``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from jobs.rules.names import normalize_name

SHEET_PREFIX = "sheet:"
"""A sheet account's item key: ``sheet:`` and its normalized name (the onboarding job's)."""

_TICKET = re.compile(r"([A-Za-z][A-Za-z0-9_]*)-(\d+)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Characters people mistake for each other in a key: O/0, I/l/1, S/5, B/8.
_LOOKALIKE = str.maketrans({"o": "0", "i": "1", "l": "1", "s": "5", "b": "8"})
SUGGESTION_CUTOFF = 0.6
"""How alike (0-1) a known item must be to be offered as "did you mean"."""
MAX_SUGGESTIONS = 3

Kind = Literal["ticket", "sheet", "internal"]


@dataclass(frozen=True)
class ItemName:
    """What a typed name resolves to."""

    typed: str
    item: str | None
    """The ledger key it names; None when it is no well-formed key and matches nothing."""
    kind: Kind | None
    known: bool
    """The ledger has the item (a record, a silence or a decision)."""
    suggestions: tuple[str, ...] = field(default=())
    """Known items nearest to what was typed, best first (when it is not known)."""

    def refusal(self) -> str:
        """``no item SS-1O1; did you mean SS-101?`` (for an item the ledger does not know)."""
        shown = _clean(self.typed)
        if self.suggestions:
            options = " or ".join(self.suggestions)
            return f"no item {shown}; did you mean {options}?"
        return f"no item {shown}"


def resolve_item(typed: str, known: Collection[str]) -> ItemName:
    """The item a person means by ``typed``, among the ledger's ``known`` items.

    In order: the exact key; a ticket key in any case (``ss-101`` is ``SS-101``); a sheet
    account as the sheet writes it (``Canyon Creek Roofing``, or ``sheet:Canyon Creek``),
    normalized as the onboarding job does; a known key that differs only in case. A ticket
    key or a sheet account that the ledger does not know is still resolved (a silence may
    come before the first alert), with ``known`` False and the nearest known items."""
    text = " ".join(_CONTROL.sub(" ", typed).split())
    if not text:
        return ItemName(typed, None, None, False)
    if text in known:
        return ItemName(typed, text, _kind(text), True)
    ticket = _TICKET.fullmatch(text)
    if ticket:
        key = f"{ticket.group(1).upper()}-{int(ticket.group(2))}"
        if key in known:
            return ItemName(typed, key, "ticket", True)
        return ItemName(typed, key, "ticket", False, nearest(text, known))
    name = text[len(SHEET_PREFIX) :] if text.casefold().startswith(SHEET_PREFIX) else text
    normalized = normalize_name(name)
    sheet = f"{SHEET_PREFIX}{normalized}" if normalized else None
    if sheet is not None and sheet in known:
        return ItemName(typed, sheet, "sheet", True)
    folded = text.casefold()
    same = sorted(k for k in known if k.casefold() == folded)
    if same:
        return ItemName(typed, same[0], _kind(same[0]), True)
    suggestions = nearest(text, known)
    if sheet is not None and not _looks_like_a_key(text):
        return ItemName(typed, sheet, "sheet", False, suggestions)
    return ItemName(typed, None, None, False, suggestions)


def nearest(typed: str, known: Iterable[str], limit: int = MAX_SUGGESTIONS) -> tuple[str, ...]:
    """Known items most like ``typed`` (keys compared with look-alike characters folded,
    sheet accounts by their normalized name), best first, at most ``limit``."""
    wanted = _comparable(typed)
    wanted_name = normalize_name(typed)
    scored = []
    for item in known:
        if item.startswith(SHEET_PREFIX):
            score = _ratio(wanted_name, item[len(SHEET_PREFIX) :]) if wanted_name else 0.0
        else:
            score = _ratio(wanted, _comparable(item))
        if score >= SUGGESTION_CUTOFF:
            scored.append((-score, item))
    return tuple(item for _, item in sorted(scored)[:limit])


def _ratio(a: str, b: str) -> float:
    # Imported when a name is not found: a run that never suggests one never loads difflib.
    from difflib import SequenceMatcher

    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _comparable(text: str) -> str:
    return text.casefold().translate(_LOOKALIKE)


def _kind(item: str) -> Kind:
    if item.startswith(SHEET_PREFIX):
        return "sheet"
    if _TICKET.fullmatch(item) and item == item.upper():
        return "ticket"
    return "internal"


def _looks_like_a_key(text: str) -> bool:
    """Typed like a ticket key with a slip (``SS-1O1``), not like a company name."""
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*-[A-Za-z0-9]+", text)) and any(
        ch.isdigit() for ch in text
    )


def _clean(text: str) -> str:
    shown = " ".join(_CONTROL.sub(" ", text).split())
    return shown if len(shown) <= 80 else shown[:79] + "…"


# -- the snooze label ------------------------------------------------------------------------


def label_silence(labels: Iterable[str], base_label: str, today: date) -> tuple[bool, date | None]:
    """Whether a ticket's labels silence it ``today``, and until when.

    - the base label alone (``sla-snooze``): silenced, with no end — ``(True, None)``;
    - ``<base>-until-YYYY-MM-DD``: silenced *until* that day, which is the first day it
      alerts again — ``(True, that day)`` before it, ``(False, that day)`` from it on;
    - several: the base label wins (no end), else the latest date;
    - none, or only labels whose date does not parse: ``(False, None)``.

    Labels compare without regard to case (people type ``SLA-Snooze``); ``today`` is the
    desk's date (the caller's timezone decides when a day starts)."""
    base = base_label.strip().casefold()
    if not base:
        return False, None
    prefix = f"{base}-until-"
    latest: date | None = None
    for label in labels:
        folded = str(label).strip().casefold()
        if folded == base:
            return True, None
        if folded.startswith(prefix):
            try:
                until = date.fromisoformat(folded[len(prefix) :])
            except ValueError:
                continue
            if latest is None or until > latest:
                latest = until
    if latest is None:
        return False, None
    return today < latest, latest


def until_label(base_label: str, until: date) -> str:
    """The label that snoozes a ticket until ``until``: ``sla-snooze-until-2026-12-08``."""
    return f"{base_label}-until-{until.isoformat()}"
