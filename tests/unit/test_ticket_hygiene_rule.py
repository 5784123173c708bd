"""Ticket hygiene rule (SOP 004 essential fields): which problems fire, with an injected now."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from jobs.calendar import BusinessCalendar
from jobs.model import IssueLink, Person, Severity, StatusCategory, Ticket
from jobs.rules.desk import Desk, PriorityInstallers
from jobs.rules.ticket_hygiene import (
    CONFIG_TICKET_NOT_HIGH,
    MISSING_CHANNEL,
    MISSING_EB_LABEL,
    MISSING_ORGANIZATION,
    PRIORITY_NOT_HIGH,
    TicketHygieneConfig,
    by_assignee,
    evaluate_hygiene,
    is_everbright_financing,
)

NY = ZoneInfo("America/New_York")
CAL = BusinessCalendar.twenty_four_seven(NY)
NOW = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # Friday 16:00 in New York
CONFIG = TicketHygieneConfig(eb_request_types=["EverBright Financing"])
DESK = Desk(priority_installers=PriorityInstallers(("Sunrise Solar Co", "Bright Path Energy LLC")))
MAYA = Person("acc-maya", "Maya Patel", "maya.patel@everbright-support.example")


def ticket(key: str = "SS-1", **overrides) -> Ticket:
    base = Ticket(
        key=key,
        summary="Cannot see proposal",
        status="In Progress",
        status_category=StatusCategory.IN_PROGRESS,
        created=NOW - timedelta(days=1),
        project="SS",
        assignee=MAYA,
        priority="Medium",
        organizations=("Acme Roofing",),
        channel=(),
        url=f"https://jira.example/browse/{key}",
    )
    return replace(base, **overrides)


def done(key: str = "SS-1", resolved: datetime | None = None, **overrides) -> Ticket:
    return ticket(
        key,
        status="Closed",
        status_category=StatusCategory.DONE,
        resolved=resolved if resolved is not None else NOW - timedelta(days=1),
        **overrides,
    )


def cs(key: str = "CS-5", priority: str | None = "Medium", **overrides) -> Ticket:
    return ticket(key, project="CS", priority=priority, organizations=(), **overrides)


def rules(tickets, config_tickets=None, now=NOW, config=CONFIG) -> list[tuple[str, str]]:
    evaluation = evaluate_hygiene(tickets, now, config, DESK, CAL, config_tickets)
    return [(f.rule, f.item) for f in evaluation.findings]


@pytest.mark.parametrize(
    ("name", "t", "expected"),
    [
        ("organization present", ticket(), []),
        ("organization empty", ticket(organizations=()), [(MISSING_ORGANIZATION, "SS-1")]),
        ("organization blank", ticket(organizations=("  ",)), [(MISSING_ORGANIZATION, "SS-1")]),
        (
            "onboarding subject without EB",
            ticket(summary="Re: EverBright Partner Onboarding"),
            [(MISSING_EB_LABEL, "SS-1")],
        ),
        (
            "onboarding subject in other case",
            ticket(summary="everbright partner onboarding - Sunrise"),
            [(MISSING_EB_LABEL, "SS-1")],
        ),
        (
            "onboarding subject with EB",
            ticket(summary="EverBright Partner Onboarding", labels=("EB",)),
            [],
        ),
        (
            "label typed in lower case",
            ticket(summary="EverBright Partner Onboarding", labels=("eb",)),
            [],
        ),
        (
            "configured request type",
            ticket(request_type="EverBright Financing"),
            [(MISSING_EB_LABEL, "SS-1")],
        ),
        ("other request type", ticket(request_type="Bug Report"), []),
        ("open ticket without channel", ticket(channel=()), []),
        ("resolved with channel", done(channel=("Email",)), []),
        ("resolved without channel", done(channel=()), [(MISSING_CHANNEL, "SS-1")]),
        ("resolved with blank channel", done(channel=(" ",)), [(MISSING_CHANNEL, "SS-1")]),
        (
            "priority installer at Medium",
            ticket(organizations=("Sunrise Solar Co",)),
            [(PRIORITY_NOT_HIGH, "SS-1")],
        ),
        (
            "priority installer spelled loosely",
            ticket(organizations=("  sunrise   SOLAR co ",)),
            [(PRIORITY_NOT_HIGH, "SS-1")],
        ),
        (
            "priority installer with no priority",
            ticket(organizations=("Sunrise Solar Co",), priority=None),
            [(PRIORITY_NOT_HIGH, "SS-1")],
        ),
        (
            "priority installer at High",
            ticket(organizations=("Sunrise Solar Co",), priority="High"),
            [],
        ),
        (
            "priority installer at Highest is never lowered",
            ticket(organizations=("Sunrise Solar Co",), priority="Highest"),
            [],
        ),
        (
            "priority installer resolved at Medium",
            done(organizations=("Sunrise Solar Co",), channel=("Chat",)),
            [],
        ),
        ("other organization at Medium", ticket(organizations=("Acme Roofing",)), []),
    ],
)
def test_it_finds_each_missing_essential_field(name, t, expected):
    assert rules([t]) == expected, name


def test_it_lists_every_problem_of_a_ticket_in_sop_order():
    t = done(summary="Re: EverBright Partner Onboarding", organizations=(), channel=())
    assert rules([t]) == [
        (MISSING_ORGANIZATION, "SS-1"),
        (MISSING_EB_LABEL, "SS-1"),
        (MISSING_CHANNEL, "SS-1"),
    ]


@pytest.mark.parametrize(
    ("resolved_ago", "fires"),
    [
        (timedelta(days=7) - timedelta(seconds=1), True),
        (timedelta(days=7), True),
        (timedelta(days=7, seconds=1), False),
    ],
)
def test_it_checks_resolved_tickets_only_within_the_look_back(resolved_ago, fires):
    t = done(resolved=NOW - resolved_ago, channel=(), organizations=())
    found = rules([t])
    assert bool(found) is fires


def test_it_leaves_a_ticket_closed_as_a_duplicate_alone():
    """SOP 001 step 5 closes a separate approval ticket as a duplicate; its Organization and
    Channel live on the original, so nagging about them is noise."""
    dup = IssueLink("Duplicate", "outward", "duplicates", "SS-313")
    original = IssueLink("Duplicate", "inward", "is duplicated by", "SS-345")
    assert rules([done("SS-345", channel=(), organizations=(), links=(dup,))]) == []
    # The original (which "is duplicated by") and an open duplicate are still checked.
    assert rules([done("SS-313", channel=(), organizations=(), links=(original,))])
    assert rules([ticket("SS-346", organizations=(), links=(dup,))])


def test_it_offers_the_eb_label_as_the_certain_fix():
    t = ticket(summary="Re: EverBright Partner Onboarding")
    (finding,) = evaluate_hygiene([t], NOW, CONFIG, DESK, CAL).findings
    assert finding.facts["fix"] == {"add_labels": ["EB"]}
    assert finding.facts["fix_target"] == "SS-1"
    assert "subject contains" in finding.summary


def test_it_offers_high_priority_for_a_priority_installer():
    t = ticket(organizations=("Bright Path Energy LLC",), priority="Low")
    (finding,) = evaluate_hygiene([t], NOW, CONFIG, DESK, CAL).findings
    assert finding.facts["fix"] == {"priority": "High"}
    assert finding.priority is True
    assert finding.facts["priority_installer"] == "Bright Path Energy LLC"


def test_it_has_no_fix_for_fields_a_person_must_fill():
    t = done(organizations=(), channel=())
    findings = evaluate_hygiene([t], NOW, CONFIG, DESK, CAL).findings
    assert [f.facts["fix"] for f in findings] == [None, None]


def _linked(*keys: str, **overrides) -> Ticket:
    links = tuple(IssueLink("Relates", "outward", "relates to", k) for k in keys)
    fields = {"organizations": ("Sunrise Solar Co",), "priority": "High", **overrides}
    return ticket(links=links, **fields)


def test_it_flags_a_priority_installers_linked_config_ticket_not_at_high():
    t = _linked("CS-5", "SS-9")
    evaluation = evaluate_hygiene([t], NOW, CONFIG, DESK, CAL, {"CS-5": cs("CS-5", "Medium")})
    (finding,) = evaluation.findings
    assert (finding.rule, finding.item) == (CONFIG_TICKET_NOT_HIGH, "CS-5")
    assert finding.facts["ticket"] == "SS-1"
    assert finding.facts["fix"] == {"priority": "High"}
    assert finding.facts["fix_target"] == "CS-5"
    assert finding.facts["assignee_email"] == MAYA.email


@pytest.mark.parametrize(
    ("config_ticket", "expected"),
    [
        (cs("CS-5", "High"), []),
        (cs("CS-5", "high"), []),
        (cs("CS-5", None), [(CONFIG_TICKET_NOT_HIGH, "CS-5")]),
        (cs("CS-5", "Low", status="Done", status_category=StatusCategory.DONE), []),
    ],
)
def test_it_checks_linked_config_tickets_that_are_still_open(config_ticket, expected):
    assert rules([_linked("CS-5")], {"CS-5": config_ticket}) == expected


@pytest.mark.parametrize(
    ("priority", "category", "expected"),
    [
        ("High", StatusCategory.IN_PROGRESS, []),
        ("Medium", StatusCategory.IN_PROGRESS, [(CONFIG_TICKET_NOT_HIGH, "CS-5")]),
        (None, StatusCategory.NEW, [(CONFIG_TICKET_NOT_HIGH, "CS-5")]),
        ("Low", StatusCategory.DONE, []),
    ],
)
def test_it_reads_the_config_tickets_priority_from_the_link_itself(priority, category, expected):
    link = IssueLink(
        "Relates",
        "outward",
        "relates to",
        "CS-5",
        other_status_category=category,
        other_priority=priority,
    )
    t = ticket(links=(link,), organizations=("Sunrise Solar Co",), priority="High")
    assert rules([t]) == expected


def test_it_reports_a_config_ticket_linked_from_two_tickets_once():
    tickets = [_linked("CS-5"), replace(_linked("CS-5"), key="SS-2")]
    assert rules(tickets, {"CS-5": cs("CS-5", "Low")}) == [(CONFIG_TICKET_NOT_HIGH, "CS-5")]


def test_it_ignores_config_tickets_linked_to_other_installers():
    t = _linked("CS-5", organizations=("Acme Roofing",))
    assert rules([t], {"CS-5": cs("CS-5", "Low")}) == []


def test_it_reports_a_linked_config_ticket_it_could_not_read_as_a_data_problem():
    evaluation = evaluate_hygiene([_linked("CS-5")], NOW, CONFIG, DESK, CAL, {})
    assert evaluation.findings == []
    assert [p.where for p in evaluation.problems] == ["CS-5"]


def test_it_uses_the_desks_local_date_as_the_episode():
    late_evening = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # Friday 22:00 in New York
    (finding,) = evaluate_hygiene(
        [ticket(organizations=())], late_evening, CONFIG, DESK, CAL
    ).findings
    assert finding.episode == "2026-11-20"
    assert finding.realert is None
    assert finding.severity is Severity.WARNING


def test_it_puts_labels_in_the_facts_so_the_snooze_label_works():
    t = ticket(organizations=(), labels=("sla-snooze", "billing"))
    (finding,) = evaluate_hygiene([t], NOW, CONFIG, DESK, CAL).findings
    assert finding.facts["labels"] == ["sla-snooze", "billing"]


def test_it_counts_every_ticket_it_examined():
    evaluation = evaluate_hygiene(
        [ticket("SS-1"), ticket("SS-2", organizations=())], NOW, CONFIG, DESK, CAL
    )
    assert evaluation.examined == 2
    assert [f.item for f in evaluation.findings] == ["SS-2"]


def test_it_groups_findings_by_assignee_email():
    unassigned = ticket("SS-2", organizations=(), assignee=None)
    hidden = ticket("SS-3", organizations=(), assignee=Person("acc-x", "Hidden Email"))
    upper = ticket("SS-4", organizations=(), assignee=replace(MAYA, email=MAYA.email.upper()))
    findings = evaluate_hygiene(
        [ticket("SS-1", organizations=()), unassigned, hidden, upper], NOW, CONFIG, DESK, CAL
    ).findings
    groups = by_assignee(findings)
    assert sorted(f.item for f in groups[MAYA.email]) == ["SS-1", "SS-4"]
    assert sorted(f.item for f in groups[None]) == ["SS-2", "SS-3"]


def test_it_needs_a_certain_signal_for_everbright_financing():
    config = TicketHygieneConfig()
    assert is_everbright_financing(ticket(summary="Question about EverBright loan"), config) is None
    assert is_everbright_financing(ticket(summary="Fwd: Re: EverBright Partner Onboarding"), config)
