"""Buttons on alerts: what a person at the desk can do from Slack, and how a click reads back.

Each alert line (a ticket, or a sheet account) can carry:

- **Open in Jira** — a link button (Slack still tells the app it was clicked; nothing happens);
- **Assign to me** — first-response alerts only (`ActionItem.assignable`);
- **Snooze 4 h** / **Snooze 1 day** — a silence for that item and job, authored by the clicker;
- **Why?** — the item's decision history, to the clicker only.

Three layouts, by how many items a message shows (`alert_actions` picks one):

- one item: an actions block of buttons;
- a few items: one section per item, naming it, with an overflow menu of the same actions;
- many items (a packed message): a *ticket picker* (static select) beside Assign / Snooze /
  Why buttons, which act on the ticket picked.

What a click carries is encoded here and only here: the ``action_id`` says what to do
(``sla.snooze_4h``), the ``value`` (or the chosen option's value) says for which job and item
(``unassigned_first_response|SS-121``). An item key too long for Slack's limits travels as a
digest (``#`` and 16 hex digits) that only the ledger can turn back into an item. `decode`
checks the shape and nothing else: the listener must still find the item in the ledger before
doing anything, because a payload is a claim, not a fact.

Pure: no I/O. Limits are Block Kit's (https://docs.slack.dev/reference/block-kit/):
``action_id`` and ``block_id`` at most 255 characters, at most 25 elements per actions block,
100 options per select, 2 to 5 options per overflow menu, option values at most 150
characters, button and option texts at most 75, URLs at most 3,000.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Literal

from jobs.render.slack import MAX_BLOCKS, Block, context, escape, link, mrkdwn, plain_text

PREFIX = "sla."
"""Every action_id and block_id this module makes starts with it (the listener's filter)."""

MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_BUTTON_VALUE = 255
"""Slack allows 2,000; we keep button values as short as option values allow anyway."""
MAX_OPTION_VALUE = 150
MAX_ELEMENTS = 25
MAX_OPTIONS = 100
MAX_OVERFLOW_OPTIONS = 5
MAX_TEXT = 75
"""Button text and option text (plain_text)."""
MAX_PLACEHOLDER = 150
MAX_URL = 3000
MAX_NOTES = 10
"""Elements of one context block: the notes of a packed message."""

FEW = 5
"""Up to this many items, each gets its own block; more share one ticket picker."""

PICKED = "?"
"""A picker button's value: the item is the one chosen in the picker beside it."""

MENU = f"{PREFIX}menu"
"""The overflow menu's action_id: the chosen option's value says what to do."""

DIGEST = "#"
_DIGEST_HEX = 16
_JOB = re.compile(r"[a-z][a-z0-9_]{0,62}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class Verb(StrEnum):
    OPEN = "open"
    ASSIGN = "assign"
    SNOOZE_SHORT = "snooze_4h"
    SNOOZE_LONG = "snooze_1d"
    WHY = "why"
    PICK = "pick"
    """A ticket picked in the picker: nothing to do until a button beside it is pressed."""


SNOOZE: dict[Verb, timedelta] = {
    Verb.SNOOZE_SHORT: timedelta(hours=4),
    Verb.SNOOZE_LONG: timedelta(days=1),
}
LABEL: dict[Verb, str] = {
    Verb.OPEN: "Open in Jira",
    Verb.ASSIGN: "Assign to me",
    Verb.SNOOZE_SHORT: "Snooze 4 h",
    Verb.SNOOZE_LONG: "Snooze 1 day",
    Verb.WHY: "Why?",
}
_LONGEST_VERB = max(len(v.value) for v in Verb)


class BadAction(ValueError):
    """A payload this module did not make (or one cut or altered on the way)."""


@dataclass(frozen=True)
class ActionItem:
    """One alert line that gets buttons."""

    job: str
    item: str
    """The ledger's item key: ``SS-121``, ``sheet:canyon creek roofing``."""
    label: str
    """What a person calls it (plain text): the ticket key, the account as the sheet writes it."""
    url: str | None = None
    """Its Jira page; None for an item with no ticket (a sheet account)."""
    assignable: bool = False
    """Offer "Assign to me" (first-response alerts: a ticket nobody has yet)."""

    def __post_init__(self) -> None:
        if not _JOB.fullmatch(self.job):
            raise ValueError(f"not a job name: {self.job!r}")
        if not self.item or _CONTROL.search(self.item):
            raise ValueError(f"not an item key: {self.item!r}")


@dataclass(frozen=True)
class Pressed:
    """What a click asks for, as far as the payload says: to be checked against the ledger."""

    verb: Verb
    job: str
    ref: str
    """The item key itself, or its digest (``#`` + 16 hex digits) when it was too long."""
    block_id: str = ""

    def names(self, item: str) -> bool:
        """Whether this click is about ``item`` (of its job)."""
        return self.ref == item or self.ref == DIGEST + item_digest(self.job, item)

    @property
    def is_digest(self) -> bool:
        return self.ref.startswith(DIGEST) and len(self.ref) == 1 + _DIGEST_HEX


# -- encoding ----------------------------------------------------------------------------------


def item_digest(job: str, item: str) -> str:
    return hashlib.sha256(f"{job}\x00{item}".encode()).hexdigest()[:_DIGEST_HEX]


def item_ref(job: str, item: str) -> str:
    """The item as a click carries it: itself when every value that holds it stays within
    Slack's 150 characters (and it cannot be mistaken for a digest or a pick), else its digest."""
    room = MAX_OPTION_VALUE - _LONGEST_VERB - len(job) - 2
    plain = (
        len(item) <= room
        and not item.startswith(DIGEST)
        and item != PICKED
        and not _CONTROL.search(item)
        and item.strip() == item
    )
    return item if plain else DIGEST + item_digest(job, item)


def action_id(verb: Verb, n: int = 0) -> str:
    return f"{PREFIX}{verb.value}" + (f".{n}" if n else "")


def button_value(job: str, item: str) -> str:
    return f"{job}|{item_ref(job, item)}"


def option_value(verb: Verb, job: str, item: str) -> str:
    return f"{verb.value}|{job}|{item_ref(job, item)}"


def block_id_for(job: str, item: str, kind: str = "item") -> str:
    return f"{PREFIX}{kind}.{item_digest(job, item)}"


def decode(action: Mapping[str, Any], state: Mapping[str, Any] | None = None) -> Pressed:
    """The click in ``action`` (one element of a block_actions payload's ``actions``), with the
    payload's ``state`` for a picker button. Raises `BadAction` for anything this module did
    not make."""
    if not isinstance(action, Mapping):
        raise BadAction("the action is not an object")
    aid = action.get("action_id")
    block_id = action.get("block_id")
    block = block_id if isinstance(block_id, str) else ""
    if not isinstance(aid, str) or not aid.startswith(PREFIX) or len(aid) > MAX_ACTION_ID:
        raise BadAction(f"not one of ours: action_id {str(aid)[:60]!r}")
    name = aid[len(PREFIX) :]
    base, _, number = name.partition(".")
    if number and not number.isdigit():
        raise BadAction(f"malformed action_id {aid[:60]!r}")
    if aid == MENU:
        selected = action.get("selected_option")
        value = selected.get("value") if isinstance(selected, Mapping) else None
        return _from_option(value, block)
    try:
        verb = Verb(base)
    except ValueError:
        raise BadAction(f"unknown action {aid[:60]!r}") from None
    if verb is Verb.PICK:
        selected = action.get("selected_option")
        value = selected.get("value") if isinstance(selected, Mapping) else None
        return _from_option(value, block)
    value = action.get("value")
    if verb is Verb.OPEN and value is None:
        raise BadAction("a link button without a value")
    if not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE:
        raise BadAction("the button carries no usable value")
    if value == PICKED:
        picked = picked_in(state, block)
        return Pressed(verb, picked.job, picked.ref, block)
    job, sep, ref = value.partition("|")
    if not sep:
        raise BadAction("the button's value names no item")
    return Pressed(verb, _job(job), _ref(ref), block)


def _from_option(value: Any, block: str) -> Pressed:
    if not isinstance(value, str) or len(value) > MAX_OPTION_VALUE:
        raise BadAction("the option carries no usable value")
    verb_text, sep1, rest = value.partition("|")
    job, sep2, ref = rest.partition("|")
    if not sep1 or not sep2:
        raise BadAction("the option's value names no item")
    try:
        verb = Verb(verb_text)
    except ValueError:
        raise BadAction(f"unknown action {verb_text[:30]!r}") from None
    return Pressed(verb, _job(job), _ref(ref), block)


def _job(text: str) -> str:
    if not _JOB.fullmatch(text):
        raise BadAction(f"not a job name: {text[:40]!r}")
    return text


def _ref(text: str) -> str:
    if not text or text == PICKED or _CONTROL.search(text):
        raise BadAction("not an item key")
    if text.startswith(DIGEST) and not re.fullmatch(rf"#[0-9a-f]{{{_DIGEST_HEX}}}", text):
        raise BadAction("not an item digest")
    return text


def picked_in(state: Mapping[str, Any] | None, block_id: str) -> Pressed:
    """The ticket chosen in the picker of ``block_id`` (a payload's ``state``)."""
    values = state.get("values") if isinstance(state, Mapping) else None
    elements = values.get(block_id) if isinstance(values, Mapping) else None
    chosen = []
    for aid, element in (elements or {}).items():
        if not (isinstance(aid, str) and aid.startswith(action_id(Verb.PICK))):
            continue
        selected = element.get("selected_option") if isinstance(element, Mapping) else None
        if isinstance(selected, Mapping) and selected.get("value") is not None:
            chosen.append(_from_option(selected.get("value"), block_id))
    if not chosen:
        raise NothingPicked("no ticket picked")
    if len({(c.job, c.ref) for c in chosen}) > 1:
        raise NothingPicked("more than one ticket picked")
    return chosen[0]


class NothingPicked(BadAction):
    """A picker button pressed before a ticket was picked (a person's slip, not an attack)."""


# -- elements ----------------------------------------------------------------------------------


def _text(label: str) -> dict[str, Any]:
    return plain_text(label or " ", MAX_TEXT)


def _url(url: str | None) -> str | None:
    if not url or len(url) > MAX_URL or not re.match(r"https?://", url):
        return None
    return url


def button(verb: Verb, job: str, item: str, *, label: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": action_id(verb),
        "text": _text(label or LABEL[verb]),
        "value": button_value(job, item),
    }
    return element


def _picker_button(verb: Verb) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id(verb),
        "text": _text(LABEL[verb]),
        "value": PICKED,
    }


def open_button(job: str, item: str, url: str, label: str | None = None) -> dict[str, Any]:
    return {**button(Verb.OPEN, job, item, label=label), "url": url}


def _verbs(assignable: bool) -> list[Verb]:
    first = [Verb.ASSIGN] if assignable else []
    return [*first, Verb.SNOOZE_SHORT, Verb.SNOOZE_LONG, Verb.WHY]


def _option(text: str, value: str, url: str | None = None) -> dict[str, Any]:
    option: dict[str, Any] = {"text": _text(text), "value": value}
    if url:
        option["url"] = url
    return option


# -- blocks ------------------------------------------------------------------------------------


def item_buttons(item: ActionItem) -> Block:
    """One item's actions block: Open in Jira, Assign to me (if assignable), Snooze 4 h,
    Snooze 1 day, Why?"""
    url = _url(item.url)
    elements = [open_button(item.job, item.item, url)] if url else []
    elements += [button(v, item.job, item.item) for v in _verbs(item.assignable)]
    return {
        "type": "actions",
        "block_id": block_id_for(item.job, item.item),
        "elements": elements,
    }


def item_menu(item: ActionItem) -> Block:
    """One item as a line naming it, with an overflow menu of its actions (at most 5)."""
    url = _url(item.url)
    options = [_option(LABEL[Verb.OPEN], option_value(Verb.OPEN, item.job, item.item), url)]
    if not url:
        options = []
    options += [
        _option(LABEL[v], option_value(v, item.job, item.item)) for v in _verbs(item.assignable)
    ]
    name = link(url, item.label) if url else escape(item.label)
    return {
        "type": "section",
        "block_id": block_id_for(item.job, item.item),
        "text": mrkdwn(name),
        "accessory": {
            "type": "overflow",
            "action_id": MENU,
            "options": options[:MAX_OVERFLOW_OPTIONS],
        },
    }


def picker(items: Sequence[ActionItem], *, n: int = 0) -> list[Block]:
    """A packed message's ticket picker(s) beside the buttons that act on the ticket picked.

    Each select holds up to 100 items; an actions block up to 25 elements, so a message of
    more than 2,100 items gets a second block (no alert comes near)."""
    items = _unique(items)
    if not items:
        return []
    assignable = any(i.assignable for i in items)
    buttons = [_picker_button(v) for v in _verbs(assignable)]
    selects_per_block = MAX_ELEMENTS - len(buttons)
    chunks = [items[i : i + MAX_OPTIONS] for i in range(0, len(items), MAX_OPTIONS)]
    blocks: list[Block] = []
    for b, start in enumerate(range(0, len(chunks), selects_per_block)):
        selects = []
        for s, chunk in enumerate(chunks[start : start + selects_per_block]):
            number = start + s
            first, last = chunk[0].label, chunk[-1].label
            hint = "Pick a ticket…" if len(chunks) == 1 else f"Pick a ticket ({first} – {last})…"
            selects.append(
                {
                    "type": "static_select",
                    "action_id": action_id(Verb.PICK, number),
                    "placeholder": plain_text(hint, MAX_PLACEHOLDER),
                    "options": [
                        _option(i.label, option_value(Verb.PICK, i.job, i.item)) for i in chunk
                    ],
                }
            )
        block_id = f"{PREFIX}picker" + (f".{n + b}" if n + b else "")
        blocks.append({"type": "actions", "block_id": block_id, "elements": [*selects, *buttons]})
    return blocks


Layout = Literal["auto", "buttons", "menus", "picker"]


def alert_actions(
    items: Sequence[ActionItem], *, layout: Layout = "auto", room: int = MAX_BLOCKS
) -> list[Block]:
    """The action blocks for a message showing ``items``, in at most ``room`` blocks:
    buttons for one item, a line with a menu per item for a few (up to `FEW`), a ticket
    picker for more (or whenever per-item blocks would not fit)."""
    items = _unique(items)
    if not items or room < 1:
        return []
    if layout == "auto":
        layout = "buttons" if len(items) == 1 else "menus" if len(items) <= FEW else "picker"
    if layout != "picker" and len(items) > room:
        layout = "picker"
    if layout == "buttons":
        return [item_buttons(i) for i in items]
    if layout == "menus":
        return [item_menu(i) for i in items]
    return picker(items)[:room]


def with_actions(
    blocks: Sequence[Block], items: Sequence[ActionItem], *, layout: Layout = "auto"
) -> list[Block]:
    """``blocks`` with the action blocks for ``items`` after them, within Slack's 50 blocks
    (a picker when per-item blocks would not fit; nothing when not even that fits)."""
    room = MAX_BLOCKS - len(blocks)
    return [*blocks, *alert_actions(items, layout=layout, room=room)]


def _unique(items: Sequence[ActionItem]) -> list[ActionItem]:
    seen: dict[tuple[str, str], ActionItem] = {}
    for item in items:
        seen.setdefault((item.job, item.item), item)
    return list(seen.values())


# -- after a click: the line says what happened ------------------------------------------------


def with_note(blocks: Sequence[Block], job: str, item: str, note: str) -> list[Block] | None:
    """The message's blocks with ``note`` (mrkdwn built from escaped parts) shown for the item:
    right under the item's own block when it has one (replacing an earlier note), else in one
    notes line at the end (the item's earlier note replaced; the newest `MAX_NOTES` kept).
    None when the message has no room left for it."""
    out = [dict(b) for b in blocks]
    own = block_id_for(job, item)
    note_id = block_id_for(job, item, "note")
    note_block = {**context([note]), "block_id": note_id}
    for index, block in enumerate(out):
        if block.get("block_id") == own:
            following = out[index + 1] if index + 1 < len(out) else None
            if following is not None and following.get("block_id") == note_id:
                out[index + 1] = note_block
                return out
            if len(out) >= MAX_BLOCKS:
                return None
            out.insert(index + 1, note_block)
            return out
    tag = f"{escape(_short(item))}: "
    notes_id = f"{PREFIX}notes"
    for index, block in enumerate(out):
        if block.get("block_id") == notes_id:
            kept = [
                e for e in block.get("elements") or [] if not str(e.get("text", "")).startswith(tag)
            ]
            fresh = mrkdwn(f"{tag}{note}")
            out[index] = {**block, "elements": [fresh, *kept][:MAX_NOTES]}
            return out
    if len(out) >= MAX_BLOCKS:
        return None
    out.append({**context([f"{tag}{note}"]), "block_id": notes_id})
    return out


def _short(item: str) -> str:
    """An item as a notes line names it: ``SS-121``, ``canyon creek roofing``."""
    return item.removeprefix("sheet:")
