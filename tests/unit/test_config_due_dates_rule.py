from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from jobs.calendar import BusinessCalendar
from jobs.model import Person, Severity, StatusCategory, Ticket
from jobs.rules.config_due_dates import (
    RULE_DUE,
    ConfigDueDatesConfig,
    due_dates,
    evaluate_due_dates,
    task_org,
)
from jobs.rules.desk import Desk, PriorityInstallers

NEW_YORK = ZoneInfo("America/New_York")
THANKSGIVING = date(2026, 11, 26)
CALENDAR = BusinessCalendar.twenty_four_seven(NEW_YORK, holidays={THANKSGIVING})
RULES = ConfigDueDatesConfig()
DESK = Desk()
LUIS = Person("acc-luis", "Luis Moreno", "luis@example.test")
CHERISH = Person("acc-cherish", "Cherish Sharma", "cherish@example.test")

WEDNESDAY = date(2026, 11, 18)
FRIDAY = date(2026, 11, 20)
SATURDAY = date(2026, 11, 21)
MONDAY = date(2026, 11, 23)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=NEW_YORK)


def task(
    key: str = "CS-500",
    configuration: date | None = None,
    qa: date | None = None,
    due: date | None = None,
    **changes: object,
) -> Ticket:
    ticket = Ticket(
        key=key,
        summary="A New Channel Partner Request for Green Light Solar",
        status="In Progress",
        status_category=StatusCategory.IN_PROGRESS,
        created=at(date(2026, 11, 10)),
        project="CS",
        assignee=LUIS,
        qa_assignee=CHERISH,
        configuration_date=configuration,
        qa_due_date=qa,
        due_date=due,
        url=f"https://jira.example.test/browse/{key}",
    )
    return replace(ticket, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "day", "today", "late"),
    [
        ("due today", FRIDAY, FRIDAY, 0),
        ("due Wednesday, today Friday", WEDNESDAY, FRIDAY, 2),
        ("due Friday, today Monday", FRIDAY, MONDAY, 1),
        ("due on a Saturday, today Monday", SATURDAY, MONDAY, 1),
        ("a holiday in between does not count", date(2026, 11, 25), date(2026, 11, 27), 1),
    ],
)
def test_it_counts_business_days_late(case: str, day: date, today: date, late: int) -> None:
    (found,) = due_dates(task(due=day), today, CALENDAR)
    assert found.business_days_late == late, case


def test_it_ignores_dates_still_ahead_and_missing_dates() -> None:
    assert due_dates(task(configuration=MONDAY, qa=None, due=None), FRIDAY, CALENDAR) == []


def test_it_lists_every_due_date_of_a_task_in_one_finding() -> None:
    tasks = [task(configuration=WEDNESDAY, qa=FRIDAY, due=MONDAY)]
    (finding,) = evaluate_due_dates(tasks, at(FRIDAY), RULES, DESK, CALENDAR).findings
    assert finding.rule == RULE_DUE
    assert finding.item == "CS-500"
    assert (
        finding.summary == "Configuration Date 2026-11-18 (2 business days late), QA Due Date today"
    )
    assert finding.facts["dates"] == [
        {"label": "Configuration Date", "day": "2026-11-18", "business_days_late": 2},
        {"label": "QA Due Date", "day": "2026-11-20", "business_days_late": 0},
    ]
    assert finding.facts["assignee"]["email"] == "luis@example.test"
    assert finding.facts["qa_assignee"]["name"] == "Cherish Sharma"
    assert finding.facts["org"] == "Green Light Solar"
    assert finding.severity is Severity.BREACH


def test_it_calls_a_date_due_today_a_warning() -> None:
    (finding,) = evaluate_due_dates([task(due=FRIDAY)], at(FRIDAY), RULES, DESK, CALENDAR).findings
    assert finding.severity is Severity.WARNING


def test_it_alerts_once_per_local_business_day() -> None:
    tasks = [task(due=WEDNESDAY)]
    morning = evaluate_due_dates(tasks, at(FRIDAY, 9), RULES, DESK, CALENDAR).findings[0]
    evening = evaluate_due_dates(tasks, at(FRIDAY, 23), RULES, DESK, CALENDAR).findings[0]
    monday = evaluate_due_dates(tasks, at(MONDAY, 9), RULES, DESK, CALENDAR).findings[0]
    assert morning.episode == evening.episode == "2026-11-20"
    assert monday.episode == "2026-11-23"
    assert morning.realert is None


def test_it_uses_the_desk_date_not_the_utc_date() -> None:
    # Thursday 21:30 in New York is already Friday in UTC: the Friday date is not due yet.
    thursday_evening = datetime(2026, 11, 20, 2, 30, tzinfo=ZoneInfo("UTC"))
    assert (
        evaluate_due_dates([task(due=FRIDAY)], thursday_evening, RULES, DESK, CALENDAR).findings
        == []
    )


@pytest.mark.parametrize("closed_day", [SATURDAY, THANKSGIVING])
def test_it_stays_quiet_when_the_desk_is_closed(closed_day: date) -> None:
    evaluation = evaluate_due_dates([task(due=WEDNESDAY)], at(closed_day), RULES, DESK, CALENDAR)
    assert evaluation.findings == []
    assert evaluation.examined == 1


def test_it_skips_done_tasks() -> None:
    done = task(due=WEDNESDAY, status="Done", status_category=StatusCategory.DONE)
    assert evaluate_due_dates([done], at(FRIDAY), RULES, DESK, CALENDAR).findings == []


def test_it_keeps_an_unassigned_task_in_the_list() -> None:
    (finding,) = evaluate_due_dates(
        [task(due=WEDNESDAY, assignee=None, qa_assignee=None)], at(FRIDAY), RULES, DESK, CALENDAR
    ).findings
    assert finding.facts["assignee"] is None
    assert finding.facts["qa_assignee"] is None


@pytest.mark.parametrize(
    ("changes", "org"),
    [
        ({}, "Green Light Solar"),
        ({"organizations": ("Sunrise Solar Co",)}, "Sunrise Solar Co"),
        ({"summary": "Configure Mosaic for HW Solar"}, ""),
    ],
)
def test_it_finds_the_org_in_the_field_or_the_title(changes: dict[str, object], org: str) -> None:
    assert task_org(task(**changes), re.compile(RULES.org_pattern or "", re.IGNORECASE)) == org


def test_it_marks_priority_installers() -> None:
    desk = Desk(priority_installers=PriorityInstallers(("Sunrise Solar Co",)))
    tasks = [task(due=FRIDAY, organizations=("Sunrise Solar Co.",)), task(key="CS-501", due=FRIDAY)]
    findings = evaluate_due_dates(tasks, at(FRIDAY), RULES, desk, CALENDAR).findings
    assert [(f.item, f.priority) for f in findings] == [("CS-500", True), ("CS-501", False)]
