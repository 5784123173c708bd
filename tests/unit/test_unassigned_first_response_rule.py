"""SOP 004 rule: first response within 2 h, warning 30 m before, escalation at 2x; injected now."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.calendar import BusinessCalendar
from jobs.model import (
    Comment,
    Person,
    Severity,
    SlaCycle,
    SlaField,
    StatusCategory,
    Ticket,
)
from jobs.rules.desk import Desk, PriorityInstallers, first_response
from jobs.rules.unassigned_first_response import (
    SOURCE_COMPUTED,
    SOURCE_JIRA,
    UnassignedFirstResponseConfig,
    clearance,
    evaluate_unassigned,
    tier_of,
)

NY = ZoneInfo("America/New_York")
ALWAYS = BusinessCalendar.twenty_four_seven(NY)
OFFICE = BusinessCalendar.business(NY, {d: (time(9), time(17)) for d in range(5)})


def configured(**changes: object) -> UnassignedFirstResponseConfig:
    """The job's settings with ``changes``; no automation accounts unless a test names some."""
    return UnassignedFirstResponseConfig.model_validate({"automation_accounts": [], **changes})


CONFIG = configured()
JIRA_CONFIG = configured(sla_source="jira")
DESK = Desk(priority_installers=PriorityInstallers(("Sunrise Solar Co",)))

CREATED = datetime(2026, 11, 24, 9, 0, tzinfo=NY)  # a Tuesday
CUSTOMER = Person("acc-customer", "Pat Homeowner", "pat@example.com")
AGENT = Person("acc-agent", "Ana Ruiz", "ana@everbright-support.example")
BOT = Person("acc-bot", "Automation for Jira")


def ticket(key: str = "SS-101", created: datetime = CREATED, **changes: object) -> Ticket:
    base = Ticket(
        key=key,
        summary="Cannot log in to the installer portal",
        status="Waiting for support",
        status_category=StatusCategory.NEW,
        created=created,
        project="SS",
        reporter=CUSTOMER,
        priority="Medium",
        organizations=("Acme Roofing",),
        labels=("EB",),
        url=f"https://desk.example/browse/{key}",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def comment(author: Person | None, minutes: int, public: bool = True, cid: str = "1") -> Comment:
    return Comment(
        id=cid,
        author=author,
        body="Hello",
        created=CREATED + timedelta(minutes=minutes),
        public=public,
    )


def tiers(tickets: list[Ticket], now: datetime, config=CONFIG, calendar=ALWAYS) -> dict[str, str]:
    return {
        f.item: f.rule for f in evaluate_unassigned(tickets, now, config, DESK, calendar).findings
    }


# -- the thresholds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        (timedelta(minutes=10), None),
        (timedelta(hours=1, minutes=29, seconds=59), None),
        (timedelta(hours=1, minutes=30), None),  # exactly 30 m left is not yet "under"
        (timedelta(hours=1, minutes=30, seconds=1), "warning"),
        (timedelta(hours=1, minutes=59, seconds=59), "warning"),
        (timedelta(hours=2), "breach"),  # exactly at the target
        (timedelta(hours=2, seconds=1), "breach"),
        (timedelta(hours=3, minutes=59, seconds=59), "breach"),
        (timedelta(hours=4), "escalation"),  # exactly 2x
        (timedelta(hours=4, seconds=1), "escalation"),
        (timedelta(days=3), "escalation"),
    ],
)
def test_it_picks_the_tier_at_each_boundary(elapsed: timedelta, expected: str | None) -> None:
    assert tiers([ticket()], CREATED + elapsed).get("SS-101") == expected


def test_it_honours_configured_thresholds() -> None:
    config = configured(
        first_response=timedelta(hours=1), warn_before=timedelta(minutes=10), escalate_factor=3.0
    )

    def at(**delta: int) -> datetime:
        return CREATED + timedelta(**delta)

    assert tiers([ticket()], at(minutes=49, seconds=59), config).get("SS-101") is None
    assert tiers([ticket()], at(minutes=50, seconds=1), config) == {"SS-101": "warning"}
    assert tiers([ticket()], at(hours=1), config) == {"SS-101": "breach"}
    assert tiers([ticket()], at(hours=2, minutes=59), config) == {"SS-101": "breach"}
    assert tiers([ticket()], at(hours=3), config) == {"SS-101": "escalation"}


def test_it_ignores_a_ticket_created_after_now() -> None:
    assert tiers([ticket()], CREATED - timedelta(minutes=5)) == {}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"warn_before": timedelta(hours=2)}, "warn_before"),
        ({"first_response": timedelta(0)}, "first_response"),
        ({"escalate_factor": 1.0}, "escalate_factor"),
    ],
)
def test_it_refuses_a_policy_that_cannot_be_ordered(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        UnassignedFirstResponseConfig(**kwargs)


# -- the calendar --------------------------------------------------------------------------------


def test_it_counts_real_hours_across_the_spring_forward_night() -> None:
    created = datetime(2026, 3, 8, 0, 30, tzinfo=NY)  # EST; 02:00-03:00 does not exist
    t = ticket(created=created)
    # 00:30 EST -> 03:30 EDT is 2 real hours, though the wall clock moved 3.
    assert tiers([t], datetime(2026, 3, 8, 3, 29, 59, tzinfo=NY)) == {"SS-101": "warning"}
    assert tiers([t], datetime(2026, 3, 8, 3, 30, tzinfo=NY)) == {"SS-101": "breach"}


def test_it_counts_real_hours_across_the_fall_back_night() -> None:
    created = datetime(2026, 11, 1, 0, 30, tzinfo=NY)  # EDT
    t = ticket(created=created)
    first_0130 = datetime(2026, 11, 1, 1, 30, tzinfo=NY)  # EDT, 1 h later
    second_0130 = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NY)  # EST, 2 h later
    assert tiers([t], first_0130) == {}
    assert tiers([t], second_0130) == {"SS-101": "breach"}


def test_it_stops_the_clock_over_the_weekend_with_business_hours() -> None:
    friday = datetime(2026, 11, 20, 16, 30, tzinfo=NY)
    t = ticket(created=friday)
    assert tiers([t], datetime(2026, 11, 21, 12, 0, tzinfo=NY), calendar=OFFICE) == {}
    assert tiers([t], datetime(2026, 11, 23, 9, 59, 59, tzinfo=NY), calendar=OFFICE) == {}
    monday_warn = datetime(2026, 11, 23, 10, 0, 1, tzinfo=NY)
    assert tiers([t], monday_warn, calendar=OFFICE) == {"SS-101": "warning"}
    monday_due = datetime(2026, 11, 23, 10, 30, tzinfo=NY)
    assert tiers([t], monday_due, calendar=OFFICE) == {"SS-101": "breach"}
    [finding] = evaluate_unassigned([t], monday_warn, CONFIG, DESK, OFFICE).findings
    assert finding.facts["due_at"] == monday_due.isoformat()


def test_it_starts_the_clock_at_monday_opening_for_a_weekend_ticket() -> None:
    t = ticket(created=datetime(2026, 11, 21, 8, 0, tzinfo=NY))  # Saturday
    assert tiers([t], datetime(2026, 11, 23, 10, 59, tzinfo=NY), calendar=OFFICE) == {
        "SS-101": "warning"
    }
    assert tiers([t], datetime(2026, 11, 23, 11, 0, tzinfo=NY), calendar=OFFICE) == {
        "SS-101": "breach"
    }


def test_it_runs_the_24x7_clock_through_the_weekend() -> None:
    t = ticket(created=datetime(2026, 11, 20, 16, 30, tzinfo=NY))
    assert tiers([t], datetime(2026, 11, 21, 12, 0, tzinfo=NY)) == {"SS-101": "escalation"}


@settings(max_examples=150, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
    ),
    steps=st.lists(st.integers(min_value=0, max_value=6 * 3600), min_size=2, max_size=6),
    business=st.booleans(),
)
def test_it_never_steps_a_tier_down_as_time_passes(start, steps, business) -> None:
    calendar = OFFICE if business else ALWAYS
    t = ticket(created=start)
    now = start
    last = -1
    for step in steps:
        now = now + timedelta(seconds=step)
        found = evaluate_unassigned([t], now, CONFIG, DESK, calendar).findings
        rank = found[0].severity.rank if found else -1
        assert rank >= last
        last = rank


# -- Jira's SLA as the authority -----------------------------------------------------------------


def sla(remaining: timedelta | None, *, paused=False, breached=None, goal=timedelta(hours=2)):
    elapsed = None if remaining is None else goal - remaining
    cycle = SlaCycle(
        start=CREATED,
        breached=(remaining is not None and remaining <= timedelta(0))
        if breached is None
        else breached,
        paused=paused,
        goal=goal,
        elapsed=elapsed,
        remaining=remaining,
    )
    return SlaField("Time to first response", ongoing=cycle)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (sla(timedelta(minutes=31)), None),
        (sla(timedelta(minutes=29)), "warning"),
        (sla(timedelta(0)), "breach"),
        (sla(timedelta(minutes=-5)), "breach"),
        (sla(timedelta(hours=-2)), "escalation"),
        (sla(timedelta(minutes=10), paused=True), None),
        (sla(timedelta(minutes=-10), paused=True), None),
        (sla(timedelta(minutes=20), breached=True), "breach"),  # Jira's flag is the authority
        (sla(timedelta(minutes=20), goal=timedelta(hours=1)), "warning"),
        (SlaField("Time to first response", completed=(SlaCycle(CREATED, False),)), None),
    ],
)
def test_it_takes_the_tier_from_jiras_sla_when_configured(field, expected) -> None:
    # The computed clock alone would say "escalation" (a day old): Jira decides.
    t = ticket(first_response_sla=field)
    now = CREATED + timedelta(days=1)
    result = evaluate_unassigned([t], now, JIRA_CONFIG, DESK, ALWAYS)
    assert {f.item: f.rule for f in result.findings}.get("SS-101") == expected
    for f in result.findings:
        assert f.facts["source"] == SOURCE_JIRA
    assert result.problems == []


def test_it_falls_back_to_the_computed_clock_without_a_jira_sla() -> None:
    result = evaluate_unassigned(
        [ticket()], CREATED + timedelta(hours=2), JIRA_CONFIG, DESK, ALWAYS
    )
    [finding] = result.findings
    assert finding.rule == "breach"
    assert finding.facts["source"] == SOURCE_COMPUTED
    assert "no Jira first-response SLA" in finding.facts["source_note"]
    assert [p.where for p in result.problems] == ["SS-101"]


def test_it_uses_the_computed_clock_by_default_even_when_jira_has_an_sla() -> None:
    t = ticket(first_response_sla=sla(timedelta(hours=1)))
    [finding] = evaluate_unassigned(
        [t], CREATED + timedelta(hours=2), CONFIG, DESK, ALWAYS
    ).findings
    assert (finding.rule, finding.facts["source"]) == ("breach", SOURCE_COMPUTED)


# -- what counts as a first response -------------------------------------------------------------


@pytest.mark.parametrize(
    ("comments", "answered"),
    [
        ((), False),
        ((comment(AGENT, 30),), True),
        ((comment(AGENT, 30, public=False),), False),  # an internal note reaches no customer
        ((comment(CUSTOMER, 30),), False),  # the customer chasing is not an answer
        ((comment(None, 30),), False),
        ((comment(BOT, 1),), False),  # an ignored auto-reply
        ((comment(replace(AGENT, account_type="app"), 1),), False),  # automation account
        ((comment(Person("acc-cc", "Watcher", account_type="customer"), 5),), False),
        ((comment(replace(AGENT, account_type="atlassian"), 5),), True),
        ((comment(CUSTOMER, 10, cid="1"), comment(AGENT, 40, cid="2")), True),
    ],
)
def test_it_counts_only_a_public_agent_comment_as_the_first_response(comments, answered) -> None:
    config = configured(automation_accounts=["automation for jira"])
    t = ticket(comments=comments, comments_total=len(comments))
    assert (first_response(t, config.automation_accounts) is not None) is answered
    found = tiers([t], CREATED + timedelta(hours=3), config)
    assert found == ({} if answered else {"SS-101": "breach"})


def test_it_counts_any_named_public_comment_when_the_ticket_has_no_reporter() -> None:
    t = ticket(reporter=None, comments=(comment(AGENT, 5),), comments_total=1)
    assert tiers([t], CREATED + timedelta(hours=3)) == {}


def test_it_reports_truncated_comments_and_still_alerts() -> None:
    t = ticket(comments=(comment(CUSTOMER, 5),), comments_total=30)
    result = evaluate_unassigned([t], CREATED + timedelta(hours=3), CONFIG, DESK, ALWAYS)
    assert [f.rule for f in result.findings] == ["breach"]
    assert "1 of 30 comments" in result.problems[0].message


# -- scope, priority, missing fields -------------------------------------------------------------


def test_it_keeps_an_assigned_ticket_nobody_answered_and_skips_a_done_one() -> None:
    """SOP 004's first response runs until a public reply: assigning the ticket does not
    answer the customer, so its line stays (naming the assignee); a closed ticket is done."""
    assigned = ticket("SS-102", assignee=AGENT)
    done = ticket("SS-103", status="Resolved", status_category=StatusCategory.DONE)
    result = evaluate_unassigned(
        [assigned, done], CREATED + timedelta(hours=5), CONFIG, DESK, ALWAYS
    )
    assert [f.item for f in result.findings] == ["SS-102"]
    assert "assigned to Ana Ruiz" in result.findings[0].summary
    assert result.examined == 2


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({"priority": "High"}, ["priority High"]),
        ({"priority": "highest"}, ["priority highest"]),
        ({"organizations": ("sunrise solar co",)}, ["organization sunrise solar co"]),
        ({"priority": "Medium"}, []),
        ({"priority": None, "organizations": ()}, []),
    ],
)
def test_it_flags_priority_installers(changes, reasons) -> None:
    [finding] = evaluate_unassigned(
        [ticket(**changes)], CREATED + timedelta(hours=2), CONFIG, DESK, ALWAYS
    ).findings
    assert finding.priority is bool(reasons)
    assert finding.facts["priority_reasons"] == reasons


def test_it_lists_priority_installers_first_then_the_most_urgent() -> None:
    now = CREATED + timedelta(hours=5)
    tickets = [
        ticket("SS-110", created=now - timedelta(hours=5)),  # escalation
        ticket("SS-111", created=now - timedelta(hours=2)),  # breach
        ticket("SS-112", created=now - timedelta(minutes=100), priority="High"),  # warning
        ticket("SS-113", created=now - timedelta(hours=3), organizations=("Sunrise Solar Co",)),
    ]
    findings = evaluate_unassigned(tickets, now, CONFIG, DESK, ALWAYS).findings
    assert [f.item for f in findings] == ["SS-113", "SS-112", "SS-110", "SS-111"]


def test_it_alerts_on_a_ticket_with_missing_optional_fields() -> None:
    bare = ticket(
        summary="", reporter=None, priority=None, organizations=(), labels=(), url=None, status=""
    )
    [finding] = evaluate_unassigned(
        [bare], CREATED + timedelta(hours=2), CONFIG, DESK, ALWAYS
    ).findings
    assert finding.rule == "breach"
    assert finding.facts["organization"] is None
    assert finding.facts["priority_name"] is None
    assert finding.url is None


def test_it_explains_each_finding_with_json_safe_facts() -> None:
    now = CREATED + timedelta(hours=1, minutes=45)
    [finding] = evaluate_unassigned([ticket()], now, CONFIG, DESK, ALWAYS).findings
    assert finding.severity is Severity.WARNING
    assert finding.realert is None
    assert finding.summary == "15 m left for a first response (due Tue 11:00)"
    facts = json.loads(json.dumps(finding.facts))
    assert facts["source"] == "computed"
    assert facts["remaining_seconds"] == 15 * 60
    assert facts["elapsed_seconds"] == 105 * 60
    assert facts["labels"] == ["EB"]
    assert facts["due_at"] == (CREATED + timedelta(hours=2)).isoformat()


def test_it_words_breach_and_escalation_with_the_age_and_target() -> None:
    at = CREATED + timedelta(hours=4, minutes=13)
    [finding] = evaluate_unassigned([ticket()], at, CONFIG, DESK, ALWAYS).findings
    assert finding.summary == ("no first response after 4 h 13 m (target 2 h), over 2x the target")


def test_tier_of_is_none_below_the_warning_window() -> None:
    from jobs.rules.unassigned_first_response import computed_clock

    clock = computed_clock(ticket(), CREATED + timedelta(hours=1), CONFIG, ALWAYS)
    assert tier_of(clock, CONFIG) is None


# -- resolved notices ----------------------------------------------------------------------------

NOW = CREATED + timedelta(hours=2, minutes=30)


@pytest.mark.parametrize(
    ("current", "reason", "text"),
    [
        (
            ticket(comments=(comment(AGENT, 95),), comments_total=1),
            "answered",
            "answered by Ana Ruiz after 1 h 35 m",
        ),
        (
            ticket(
                assignee=AGENT,
                updated=CREATED + timedelta(hours=2, minutes=20),
                comments=(comment(AGENT, 130),),
                comments_total=1,
            ),
            "answered",
            "answered by Ana Ruiz after 2 h 10 m",
        ),
        (
            ticket(
                status="Resolved",
                status_category=StatusCategory.DONE,
                resolved=CREATED + timedelta(hours=2, minutes=5),
            ),
            "closed",
            "closed (Resolved) after 2 h 5 m",
        ),
        (None, "gone", "no longer found in the SS queue"),
        (
            ticket(first_response_sla=sla(timedelta(minutes=5), paused=True), status="Pending"),
            "paused",
            "Jira paused the first-response SLA (status Pending)",
        ),
    ],
)
def test_it_words_why_an_open_alert_cleared(current, reason, text) -> None:
    cleared = clearance(current, NOW, JIRA_CONFIG, DESK, ALWAYS)
    assert (cleared.reason, cleared.text) == (reason, text)


def test_an_assignment_alone_does_not_clear_an_open_alert() -> None:
    """The customer is still waiting: assigned, unanswered, open is no clearance."""
    current = ticket(assignee=AGENT, updated=CREATED + timedelta(hours=2, minutes=13))
    assert clearance(current, NOW, JIRA_CONFIG, DESK, ALWAYS).reason == "unknown"


def test_it_measures_the_clearance_in_working_time_on_business_hours() -> None:
    friday = datetime(2026, 11, 20, 16, 0, tzinfo=NY)
    monday = datetime(2026, 11, 23, 10, 15, tzinfo=NY)
    reply = replace(comment(AGENT, 0), created=monday)
    current = ticket(created=friday, assignee=AGENT, comments=(reply,), comments_total=1)
    assert (
        clearance(current, monday, CONFIG, DESK, OFFICE).text
        == "answered by Ana Ruiz after 2 h 15 m"
    )
