"""Tickets, people and the desk the Onboard testing rules' tests build on (SOP 003 part 2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jobs.calendar import BusinessCalendar
from jobs.model import Comment, IssueLink, Person, StatusCategory, Ticket
from jobs.rules.desk import Desk

NEW_YORK = ZoneInfo("America/New_York")
ROUND_THE_CLOCK = BusinessCalendar.twenty_four_seven(NEW_YORK)
NINE_TO_FIVE = BusinessCalendar.business(NEW_YORK, {day: (time(9), time(17)) for day in range(5)})

AGENT = Person("acc-agent", "Maya Patel", "maya.patel@everbright-support.example")
CUSTOMER = Person("qm:dana", "Dana Whitfield", "dana@sunrise-solar.example")
DESK = Desk()


def ny(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NEW_YORK)  # type: ignore[arg-type,misc]


# 2026-11-16 is a Monday; Thanksgiving (26th) is well after every timeline below.
MONDAY = ny(2026, 11, 16, 10)
FRIDAY = ny(2026, 11, 20, 15)


@dataclass(frozen=True)
class JsmPerson(Person):
    """A person as an adapter that reads Jira's accountType would give it."""

    account_type: str | None = None


def comment(cid: str, author: Person, at: datetime, body: str, public: bool = True) -> Comment:
    return Comment(id=cid, author=author, body=body, created=at, public=public)


def ss_ticket(
    key: str = "SS-412",
    comments: tuple[Comment, ...] = (),
    status: str = "Waiting for customer",
    category: StatusCategory = StatusCategory.IN_PROGRESS,
    links: tuple[IssueLink, ...] = (),
    resolved: datetime | None = None,
    labels: tuple[str, ...] = (),
) -> Ticket:
    return Ticket(
        key=key,
        summary="Document Survey: Sunrise Solar Co",
        status=status,
        status_category=category,
        created=MONDAY - timedelta(days=10),
        project="SS",
        reporter=CUSTOMER,
        organizations=("Sunrise Solar Co",),
        comments=comments,
        comments_total=len(comments),
        links=links,
        resolved=resolved,
        labels=labels,
        url=f"https://desk.example/browse/{key}",
    )


def link(key: str, type_name: str = "Relates", done: bool = False) -> IssueLink:
    return IssueLink(
        type_name=type_name,
        direction="outward",
        relation="relates to",
        other_key=key,
        other_status_category=StatusCategory.DONE if done else StatusCategory.IN_PROGRESS,
    )


def cs_ticket(
    key: str = "CS-405",
    links: tuple[IssueLink, ...] | None = None,
    comments: tuple[Comment, ...] = (),
) -> Ticket:
    return Ticket(
        key=key,
        summary="Docs: Sunrise Solar Co",
        status="On Hold",
        status_category=StatusCategory.IN_PROGRESS,
        created=MONDAY - timedelta(days=9),
        project="CS",
        links=(link("SS-412"),) if links is None else links,
        comments=comments,
        comments_total=len(comments),
    )


def rules(evaluation: Any) -> list[str]:
    return [f.rule for f in evaluation.findings]
