"""A ticket as it stood at an instant: the weekly SLA report's view of "at the end of the week".

Search results give a ticket's fields as they are *now*. A report for a past week must not
change because someone assigned or closed a ticket since, so the report reads the fields it
needs as of the week's end:

- **Assignee at an instant**: the changelog's last ``assignee`` change at or before the
  instant gives its new value; if every change came later, the first one's *old* value is the
  assignee the ticket had until then. A ticket without assignee changes has had its current
  assignee since it was created (Jira records the assignee set at creation in the issue, not
  in the changelog).
- **Resolved at an instant**: the same reading of the ``resolution`` field when the changelog
  has it (a reopened ticket clears its resolution); otherwise the resolution date: resolved
  at or before the instant. A ticket in a done status without a resolution date (a workflow
  that sets none) counts as resolved from its last update, the latest instant it could have
  been closed.

Changes are compared as instants (UTC), never as local wall-clock times.

This module is pure: no adapters, no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jobs.model import FieldChange, Person, Ticket

ASSIGNEE = "assignee"
RESOLUTION = "resolution"


@dataclass(frozen=True)
class FieldValue:
    """A field's value from the changelog: Jira's display string and its raw id, if any."""

    text: str | None
    id: str | None

    @property
    def empty(self) -> bool:
        return not (self.text or self.id)


def _changes_of(ticket: Ticket, name: str) -> list[FieldChange]:
    wanted = name.casefold()
    return sorted(
        (c for c in ticket.changes if c.field.casefold() == wanted),
        key=lambda c: c.at,
    )


def value_at(ticket: Ticket, name: str, at: datetime) -> FieldValue | None:
    """The field's value at instant ``at`` from the changelog; None when it never changed."""
    changes = _changes_of(ticket, name)
    if not changes:
        return None
    before = [c for c in changes if c.at <= at]
    if before:
        last = before[-1]
        return FieldValue(last.to_value, last.to_id)
    first = changes[0]
    return FieldValue(first.from_value, first.from_id)


def _name(person: Person | None) -> str | None:
    if person is None:
        return None
    return person.display_name or person.email or person.account_id


def assignee_at(ticket: Ticket, at: datetime) -> str | None:
    """The assignee's name (display name, else email or account id) at ``at``; None: nobody."""
    value = value_at(ticket, ASSIGNEE, at)
    if value is None:
        return _name(ticket.assignee)
    if value.empty:
        return None
    if ticket.assignee is not None and value.id and value.id == ticket.assignee.account_id:
        return _name(ticket.assignee)
    return value.text or value.id


def resolved_at(ticket: Ticket, at: datetime) -> bool:
    """Whether the ticket was resolved (closed) at instant ``at``."""
    value = value_at(ticket, RESOLUTION, at)
    if value is not None:
        return not value.empty
    if ticket.resolved is not None:
        return ticket.resolved <= at
    if ticket.is_done:
        last_touch = ticket.updated or ticket.created
        return last_touch <= at
    return False


def open_unassigned_at(ticket: Ticket, at: datetime) -> bool:
    """Created before ``at``, not resolved and without an assignee at ``at``."""
    return ticket.created < at and not resolved_at(ticket, at) and assignee_at(ticket, at) is None
