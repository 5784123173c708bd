"""Proofs: what a ticket shows once a write happened, so no write is ever repeated blind.

Each non-idempotent Jira write has one, derived from the action itself: a comment's reference
line in the ticket's comments (public ones only for a reply to the customer), a link to the
other ticket, the status a transition leads to, the labels or priority an edit sets, the
trace label a created issue carries. The pipeline checks a step's proof against the ticket
before sending it — always after an attempt whose outcome is unknown (a timeout, a kill), and
for a first attempt too when the ticket is at hand — and counts a fulfilled proof as done.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from jobs.model import Action, ActionKind, Ref, Ticket


class Verdict(Enum):
    FULFILLED = "fulfilled"
    NOT_FULFILLED = "not fulfilled"
    UNKNOWN = "unknown"
    """The ticket could not be read: nothing may be concluded (or sent)."""


@dataclass(frozen=True)
class Proof:
    """Where to look (``key``, or a created issue's ``project`` and ``label``) and what for."""

    kind: str
    key: str | None = None
    marker: str | None = None
    public_only: bool = False
    other_key: str | None = None
    link_type: str | None = None
    status: str | None = None
    labels: tuple[str, ...] = ()
    priority: str | None = None
    project: str | None = None
    label: str | None = None

    def describe(self) -> str:
        if self.kind == "comment":
            where = "a public comment" if self.public_only else "a comment"
            return f"{where} of {self.key} carrying {self.marker!r}"
        if self.kind == "link":
            return f"a {self.link_type} link from {self.key} to {self.other_key}"
        if self.kind == "status":
            return f"{self.key} in status {self.status!r}"
        if self.kind == "edit":
            wanted = [*(f"label {label}" for label in self.labels)]
            if self.priority:
                wanted.append(f"priority {self.priority}")
            return f"{self.key} with {', '.join(wanted)}"
        return f"an issue of {self.project} labelled {self.label}"

    def check(
        self, tickets: Mapping[str, Ticket], created: Mapping[str, str]
    ) -> tuple[Verdict, dict[str, Any]]:
        """The verdict on the tickets as read, and the result a fulfilled step returns."""
        if self.kind == "created":
            assert self.label is not None
            key = created.get(self.label)
            return (Verdict.FULFILLED, {"key": key}) if key else (Verdict.NOT_FULFILLED, {})
        assert self.key is not None
        ticket = tickets.get(self.key)
        if ticket is None:
            return Verdict.UNKNOWN, {}
        return (Verdict.FULFILLED if self._holds(ticket) else Verdict.NOT_FULFILLED), {}

    def _holds(self, ticket: Ticket) -> bool:
        if self.kind == "comment":
            assert self.marker is not None
            return any(
                self.marker in c.body for c in ticket.comments if c.public or not self.public_only
            )
        if self.kind == "link":
            other = (self.other_key or "").upper()
            kind = (self.link_type or "").casefold()
            return any(
                link.other_key.upper() == other and link.type_name.casefold() == kind
                for link in ticket.links
            )
        if self.kind == "status":
            return ticket.status.casefold() == (self.status or "").casefold()
        if self.kind == "edit":
            have = {label.casefold() for label in ticket.labels}
            labels_set = all(label.casefold() in have for label in self.labels)
            priority_set = self.priority is None or (
                (ticket.priority or "").casefold() == self.priority.casefold()
            )
            return labels_set and priority_set
        return False


def proof_of(action: Action) -> Proof | None:
    """The proof of ``action`` (its `Ref`s resolved), or None for a write that needs none:
    Slack messages (at least once, by design) and edits of other fields (idempotent)."""
    target = action.target
    if isinstance(target, Ref):
        return None
    kind = action.kind
    if kind in (ActionKind.JIRA_PUBLIC_COMMENT, ActionKind.JIRA_INTERNAL_COMMENT):
        if not action.marker:
            return None
        public = kind is ActionKind.JIRA_PUBLIC_COMMENT
        return Proof("comment", key=target, marker=action.marker, public_only=public)
    if kind is ActionKind.JIRA_LINK and action.link is not None:
        inward, outward = action.link.inward_key, action.link.outward_key
        if isinstance(inward, Ref) or isinstance(outward, Ref):
            return None
        return Proof("link", key=inward, other_key=outward, link_type=action.link.link_type)
    if kind is ActionKind.JIRA_TRANSITION:
        return Proof("status", key=target, status=action.to_status)
    if kind is ActionKind.JIRA_EDIT and (action.add_labels or action.priority):
        return Proof("edit", key=target, labels=action.add_labels, priority=action.priority)
    if kind is ActionKind.JIRA_CREATE:
        return Proof("created", project=target, label=action.trace_label)
    return None
