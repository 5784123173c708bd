"""A ticket as it stood at an instant, from its changelog: assignee and resolution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobs.model import FieldChange, Person, StatusCategory, Ticket
from jobs.rules.sla_report_history import assignee_at, open_unassigned_at, resolved_at

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
H = timedelta(hours=1)
MAYA = Person("acc-maya", "Maya Patel")
JORDAN = Person("acc-jordan", "Jordan Reyes")


def ticket(**fields) -> Ticket:
    base = dict(
        key="SS-1",
        summary="Help",
        status="Open",
        status_category=StatusCategory.NEW,
        created=T0,
    )
    return Ticket(**{**base, **fields})


def change(at, field, before=None, after=None):
    def parts(p):
        if isinstance(p, Person):
            return p.display_name, p.account_id
        return p, None

    (from_value, from_id), (to_value, to_id) = parts(before), parts(after)
    return FieldChange(at, field, from_value, to_value, from_id, to_id)


def test_without_changes_the_current_assignee_was_there_from_the_start():
    assert assignee_at(ticket(assignee=MAYA), T0 + H) == "Maya Patel"
    assert assignee_at(ticket(), T0 + H) is None


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (T0 + H, None),  # before the first change: its old value (nobody)
        (T0 + 2 * H, "Maya Patel"),  # a change at the instant counts
        (T0 + 3 * H, "Maya Patel"),
        (T0 + 4 * H, "Jordan Reyes"),
        (T0 + 6 * H, None),
    ],
)
def test_it_reads_the_assignee_at_an_instant_from_the_changelog(at, expected):
    history = (
        change(T0 + 4 * H, "assignee", MAYA, JORDAN),  # out of order on purpose
        change(T0 + 2 * H, "assignee", None, MAYA),
        change(T0 + 5 * H, "Assignee", JORDAN, None),
    )
    t = ticket(assignee=None, changes=history)
    assert assignee_at(t, at) == expected


def test_other_fields_changes_do_not_change_the_assignee():
    t = ticket(assignee=MAYA, changes=(change(T0 + H, "status", "Open", "In Progress"),))
    assert assignee_at(t, T0 + 2 * H) == "Maya Patel"


@pytest.mark.parametrize(
    ("fields", "at", "expected"),
    [
        ({}, T0 + H, False),
        ({"status_category": StatusCategory.DONE, "resolved": T0 + 2 * H}, T0 + H, False),
        ({"status_category": StatusCategory.DONE, "resolved": T0 + 2 * H}, T0 + 2 * H, True),
        # done without a resolution date: closed at the latest by its last update
        ({"status_category": StatusCategory.DONE, "updated": T0 + 3 * H}, T0 + 2 * H, False),
        ({"status_category": StatusCategory.DONE, "updated": T0 + 3 * H}, T0 + 4 * H, True),
        # resolved, then reopened: the changelog knows it was resolved in between
        (
            {
                "changes": (
                    change(T0 + H, "resolution", None, "Done"),
                    change(T0 + 3 * H, "resolution", "Done", None),
                )
            },
            T0 + 2 * H,
            True,
        ),
    ],
)
def test_it_reads_whether_a_ticket_was_resolved_at_an_instant(fields, at, expected):
    assert resolved_at(ticket(**fields), at) is expected


def test_open_and_unassigned_needs_all_three():
    assert open_unassigned_at(ticket(), T0 + H)
    assert not open_unassigned_at(ticket(), T0)  # not created before the instant
    assert not open_unassigned_at(ticket(assignee=MAYA), T0 + H)
    closed = ticket(status_category=StatusCategory.DONE, resolved=T0 + H)
    assert not open_unassigned_at(closed, T0 + 2 * H)
