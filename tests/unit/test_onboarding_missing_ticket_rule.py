"""SOP 000/001 rule: every approved row of the onboarding sheet has an onboarding ticket."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jobs.adapters.sheets import tab_from_rows
from jobs.calendar import BusinessCalendar
from jobs.durations import Duration
from jobs.model import Severity, StatusCategory, Ticket
from jobs.render.onboarding_missing_ticket import alert_line
from jobs.rules.desk import Desk, PriorityInstallers
from jobs.rules.onboarding_missing_ticket import (
    AccountMemory,
    MissingDetail,
    OnboardingMissingTicketConfig,
    OnboardingSheet,
    SheetLayout,
    check_onboarding,
    contractor_names,
    memory_updates,
    read_onboarding_sheet,
    summary_name,
)

NY = ZoneInfo("America/New_York")
ALWAYS = BusinessCalendar.twenty_four_seven(NY)
OFFICE = BusinessCalendar.business(NY, {d: (time(9), time(17)) for d in range(5)})
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday, 10:00 in New York
LONG_AGO = NOW - timedelta(days=2)
CONFIG = OnboardingMissingTicketConfig()
DESK = Desk(priority_installers=PriorityInstallers(("Bright Path Energy LLC",)))
SHEET_URL = "https://docs.google.com/spreadsheets/d/KEY/edit"
LAYOUT = SheetLayout()
HEADER = ["#", "Account Name", "Contact", "State", "", "", "", "", "", "", "", "Status"]


def row(name: str, status: str = "Approved") -> list[str]:
    return ["", name, "ops@example.com", "AZ", "", "", "", "", "", "", "", status]


def sheet(*rows: list[Any], header: list[str] = HEADER) -> OnboardingSheet:
    return read_onboarding_sheet(tab_from_rows([header, *rows]), LAYOUT)


def ticket(key: str, org: str | None = None, **changes: Any) -> Ticket:
    base = Ticket(
        key=key,
        summary="Re: EverBright Partner Onboarding",
        status="Waiting for support",
        status_category=StatusCategory.NEW,
        created=NOW - timedelta(days=1),
        project="SS",
        organizations=(org,) if org else (),
        url=f"https://desk.example/browse/{key}",
    )
    return replace(base, **changes)


def seen_long_ago(*names: str) -> dict[str, AccountMemory]:
    from jobs.rules.names import normalize_name

    return {
        f"sheet:{normalize_name(n)}": AccountMemory(first_seen_approved=LONG_AGO) for n in names
    }


def run(
    onboarding: OnboardingSheet,
    tickets: list[Ticket],
    memory: dict[str, AccountMemory] | None = None,
    now: datetime = NOW,
    config: OnboardingMissingTicketConfig = CONFIG,
    calendar: BusinessCalendar = ALWAYS,
    approved_statuses: tuple[str, ...] = ("Approved",),
):
    return check_onboarding(
        onboarding,
        tickets,
        memory or {},
        now,
        config,
        DESK,
        calendar,
        approved_statuses=approved_statuses,
        sheet_url=SHEET_URL,
    )


def verdicts(result) -> dict[str, str]:
    return {c.account: c.verdict for c in result.accounts}


# -- reading the sheet ------------------------------------------------------------------------


def test_it_reads_names_from_column_b_and_status_from_column_l() -> None:
    s = sheet(row("Sunrise Solar Co"), row("Acme Roofing", "Pending"))
    assert [(r.row_number, r.name, r.status) for r in s.rows] == [
        (2, "Sunrise Solar Co", "Approved"),
        (3, "Acme Roofing", "Pending"),
    ]
    assert s.header_rows == (1,) and s.usable and not s.problems


def test_it_ignores_a_title_block_above_a_moved_header_row() -> None:
    tab = tab_from_rows(
        [
            ["Financier onboarding - Q4"],
            ["", "Exported 11/24/2026", "", "", "", "", "", "", "", "", "", "Approved"],
            [],
            HEADER,
            row("Sunrise Solar Co"),
        ]
    )
    s = read_onboarding_sheet(tab, LAYOUT)
    assert s.header_rows == (4,)
    assert [r.row_number for r in s.rows] == [5]


def test_it_skips_repeated_header_rows_and_blank_rows_anywhere() -> None:
    s = sheet(
        row("Sunrise Solar Co"),
        [],
        ["", "", "", "", "", "", "", "", "", "", "", ""],
        ["", " ACCOUNT NAME ", "", "", "", "", "", "", "", "", "", "status"],
        row("Acme Roofing"),
    )
    assert s.header_rows == (1, 5)
    assert [r.name for r in s.rows] == ["Sunrise Solar Co", "Acme Roofing"]
    assert not s.problems


def test_it_uses_configured_header_labels() -> None:
    header = ["", "Installer", "", "", "", "", "", "", "", "", "", "Decision"]
    layout = SheetLayout(header_labels=("Installer", "Decision"))
    s = read_onboarding_sheet(tab_from_rows([header, row("Sunrise Solar Co")]), layout)
    assert s.usable and [r.name for r in s.rows] == ["Sunrise Solar Co"]


def test_it_reports_a_sheet_without_a_header_and_checks_nothing() -> None:
    s = read_onboarding_sheet(tab_from_rows([row("Sunrise Solar Co")]), LAYOUT)
    assert not s.usable and not s.rows
    assert "no header row found" in s.problems[0].message
    result = run(s, [])
    assert result.evaluation.findings == [] and not result.sheet_usable
    assert result.evaluation.problems == list(s.problems)


def test_it_reports_an_empty_name_with_a_status_as_a_data_problem_naming_the_row() -> None:
    s = sheet(row("Sunrise Solar Co"), row("", "Approved"), row("   ", "Pending"))
    assert [r.name for r in s.rows] == ["Sunrise Solar Co"]
    assert [(p.where, p.message.split(" in column")[0]) for p in s.problems] == [
        ("sheet row 3", "empty account name with status 'Approved'"),
        ("sheet row 4", "empty account name with status 'Pending'"),
    ]
    result = run(s, [], seen_long_ago("Sunrise Solar Co"))
    assert [f.item for f in result.evaluation.findings] == ["sheet:sunrise solar"]
    assert len(result.evaluation.problems) == 2


def test_it_reports_a_name_without_letters_only_when_it_is_approved() -> None:
    s = sheet(row("---", "Approved"), row("???", "Declined"))
    result = run(s, [])
    assert [(p.where, "no letters or digits" in p.message) for p in result.evaluation.problems] == [
        ("sheet row 2", True)
    ]
    assert result.evaluation.findings == []


def test_it_never_crashes_on_odd_cell_values() -> None:
    names = ["Account Name", None, math.nan, 42.0, datetime(2026, 1, 2), "Sunrise Solar"]
    statuses = ["Status", "Approved", "Approved", "Approved", "Approved", None]
    tab = tab_from_rows(
        [[None, b, *[None] * 9, status] for b, status in zip(names, statuses, strict=True)]
    )
    s = read_onboarding_sheet(tab, LAYOUT)
    assert [r.row_number for r in s.rows] == [4, 5, 6]
    assert [p.where for p in s.problems] == ["sheet row 2", "sheet row 3"]
    result = run(s, [])
    assert len(result.accounts) == 2  # "42" and the date text: approved, odd but readable


def test_it_handles_an_empty_tab() -> None:
    s = read_onboarding_sheet(tab_from_rows([]), LAYOUT)
    assert not s.usable and not s.rows


def test_it_reads_a_tab_whose_status_column_was_never_filled() -> None:
    s = read_onboarding_sheet(tab_from_rows([HEADER, ["", "Sunrise Solar Co"]]), LAYOUT)
    assert [(r.name, r.status) for r in s.rows] == [("Sunrise Solar Co", "")]


# -- which rows are approved ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "approved"),
    [
        ("Approved", True),
        ("approved", True),
        (" APPROVED  ", True),
        ("Approved\u00a0", True),
        ("Pending", False),
        ("Declined", False),
        ("Not Approved", False),
        ("", False),
    ],
)
def test_it_takes_rows_whose_status_is_approved_ignoring_case_and_spaces(
    status: str, approved: bool
) -> None:
    result = run(sheet(row("Sunrise Solar Co", status)), [], seen_long_ago("Sunrise Solar Co"))
    assert bool(result.evaluation.findings) is approved


def test_it_accepts_several_approved_statuses() -> None:
    statuses = ("Approved", "Approved - Live")
    s = sheet(row("Sunrise Solar Co", "approved - live"), row("Acme Roofing", "Approved"))
    result = run(
        s, [], seen_long_ago("Sunrise Solar Co", "Acme Roofing"), approved_statuses=statuses
    )
    assert len(result.evaluation.findings) == 2


def test_trailing_spaces_in_names_do_not_split_an_account() -> None:
    s = sheet(row("Sunrise Solar Co  "), row(" sunrise solar co"))
    result = run(s, [ticket("SS-200", "Sunrise Solar")])
    assert verdicts(result) == {"Sunrise Solar Co": "matched"}


def test_a_duplicated_account_is_one_finding_listing_its_rows() -> None:
    s = sheet(row("Acme Roofing"), row("Sunrise Solar Co"), row("SUNRISE SOLAR CO."))
    result = run(s, [ticket("SS-200", "Acme Roofing")], seen_long_ago("Sunrise Solar"))
    [finding] = result.evaluation.findings
    assert finding.facts["rows"] == [3, 4]
    assert "sheet rows 3, 4" in finding.summary


# -- matching ---------------------------------------------------------------------------------


def test_it_matches_by_the_ticket_organization() -> None:
    result = run(sheet(row("Bright Path Energy, LLC")), [ticket("SS-200", "Bright Path Energy")])
    assert verdicts(result) == {"Bright Path Energy, LLC": "matched"}
    assert result.accounts[0].ticket == "SS-200"
    assert result.evaluation.findings == []


def test_it_matches_by_the_contractor_name_in_the_description() -> None:
    t = ticket(
        "SS-201",
        description="Hello,\nContractor name: Sunrise Solar\nContractor contact email: a@b.c",
    )
    result = run(sheet(row("Sunrise Solar Co")), [t])
    assert verdicts(result) == {"Sunrise Solar Co": "matched"}


def test_it_matches_by_the_name_after_the_subject_in_the_summary() -> None:
    t = ticket("SS-202", summary="Fwd: EverBright Partner Onboarding - Acme Roofing")
    result = run(sheet(row("Acme Roofing Inc")), [t])
    assert verdicts(result) == {"Acme Roofing Inc": "matched"}


def test_a_done_ticket_still_counts() -> None:
    t = ticket("SS-203", "Acme Roofing", status="Closed", status_category=StatusCategory.DONE)
    assert verdicts(run(sheet(row("Acme Roofing")), [t])) == {"Acme Roofing": "matched"}


def test_it_alerts_when_no_ticket_names_the_account() -> None:
    result = run(
        sheet(row("Sunrise Solar Co")),
        [ticket("SS-200", "Sunset Solar"), ticket("SS-201", "SunPower Solar Inc")],
        seen_long_ago("Sunrise Solar Co"),
    )
    [finding] = result.evaluation.findings
    assert finding.severity is Severity.WARNING
    assert finding.facts["verdict"] == "missing" and finding.facts["candidates"] == []
    assert finding.item == "sheet:sunrise solar"
    assert finding.summary.startswith("Sunrise Solar Co (sheet row 2, Approved): no onboarding")


def test_a_look_alike_never_counts_as_the_ticket() -> None:
    result = run(
        sheet(row("Sun Power Co")),
        [ticket("SS-200", "SunPower Solar Inc")],
        seen_long_ago("Sun Power"),
    )
    assert verdicts(result) == {"Sun Power Co": "missing"}


def test_a_near_miss_is_a_possible_match_to_check_with_its_candidates() -> None:
    tickets = [
        ticket("SS-210", "Brightpath Energy"),
        ticket("SS-211", "Bright Path Energy Roofing and Electric"),
        ticket("SS-212", "Acme Roofing"),
    ]
    result = run(
        sheet(row("Bright Path Energy, LLC")), tickets, seen_long_ago("Bright Path Energy")
    )
    [finding] = result.evaluation.findings
    assert finding.severity is Severity.INFO
    assert finding.facts["verdict"] == "possible_match"
    candidates = finding.facts["candidates"]
    assert [c["key"] for c in candidates] == ["SS-210", "SS-211"]
    assert candidates[0]["url"] == "https://desk.example/browse/SS-210"
    assert candidates[0]["source"] == "organization"
    assert all(75 <= c["score"] < 90 for c in candidates)
    assert "possible ticket SS-210" in finding.summary


def test_a_lower_match_threshold_accepts_spacing_variants() -> None:
    config = OnboardingMissingTicketConfig(match_threshold=85, near_miss_threshold=70)
    result = run(
        sheet(row("Bright Path Energy")), [ticket("SS-210", "Brightpath Energy")], config=config
    )
    assert verdicts(result) == {"Bright Path Energy": "matched"}


def test_it_lists_at_most_max_candidates() -> None:
    tickets = [ticket(f"SS-22{i}", f"Sunrise Solar Roofing {w}") for i, w in enumerate("ABCDE")]
    config = OnboardingMissingTicketConfig(max_candidates=2, near_miss_threshold=50)
    result = run(
        sheet(row("Sunrise Solar")), tickets, seen_long_ago("Sunrise Solar"), config=config
    )
    assert len(result.evaluation.findings[0].facts["candidates"]) == 2


def test_one_ticket_with_several_names_is_one_candidate() -> None:
    t = ticket(
        "SS-230",
        "Brightpath Energy",
        description="Contractor name: Bright-Path Energy Roofing",
        summary="EverBright Partner Onboarding: BrightPath",
    )
    result = run(sheet(row("Bright Path Energy")), [t], seen_long_ago("Bright Path Energy"))
    assert [c["key"] for c in result.evaluation.findings[0].facts["candidates"]] == ["SS-230"]


def test_it_flags_priority_installers() -> None:
    s = sheet(row("Bright Path Energy"), row("Acme Roofing"))
    result = run(s, [], seen_long_ago("Bright Path Energy", "Acme Roofing"))
    assert {f.facts["account"]: f.priority for f in result.evaluation.findings} == {
        "Bright Path Energy": True,
        "Acme Roofing": False,
    }


# -- grace period and memory ------------------------------------------------------------------


def test_an_account_seen_approved_for_the_first_time_is_not_missing_yet() -> None:
    result = run(sheet(row("Sunrise Solar Co")), [])
    assert verdicts(result) == {"Sunrise Solar Co": "in_grace"}
    assert result.accounts[0].first_seen == NOW
    assert result.evaluation.findings == []


@pytest.mark.parametrize(
    ("seen_ago", "missing"),
    [
        (timedelta(minutes=59, seconds=59), False),
        (timedelta(hours=1), True),
        (timedelta(hours=1, seconds=1), True),
    ],
)
def test_the_grace_period_ends_exactly_at_grace(seen_ago: timedelta, missing: bool) -> None:
    memory = {"sheet:sunrise solar": AccountMemory(first_seen_approved=NOW - seen_ago)}
    result = run(sheet(row("Sunrise Solar Co")), [], memory)
    assert bool(result.evaluation.findings) is missing


def test_the_grace_period_counts_on_the_desk_calendar() -> None:
    friday_evening = datetime(2026, 11, 20, 16, 30, tzinfo=NY)
    memory = {"sheet:sunrise solar": AccountMemory(first_seen_approved=friday_evening)}
    monday_0920 = datetime(2026, 11, 23, 9, 20, tzinfo=NY)
    monday_0931 = datetime(2026, 11, 23, 9, 31, tzinfo=NY)
    s = sheet(row("Sunrise Solar Co"))
    assert not run(s, [], memory, now=monday_0920, calendar=OFFICE).evaluation.findings
    assert run(s, [], memory, now=monday_0931, calendar=OFFICE).evaluation.findings


def test_it_says_how_long_the_account_has_been_missing() -> None:
    memory = {"sheet:sunrise solar": AccountMemory(first_seen_approved=NOW - timedelta(hours=5))}
    [finding] = run(sheet(row("Sunrise Solar Co")), [], memory).evaluation.findings
    assert finding.detail_as(MissingDetail).missing_for == timedelta(hours=5)
    assert "no ticket since first seen 5 h ago" in alert_line(finding)
    assert finding.facts["missing_for_seconds"] == 5 * 3600
    assert finding.facts["first_seen_approved"] == (NOW - timedelta(hours=5)).isoformat()


def test_a_ticket_matched_once_still_counts_after_leaving_the_search_window() -> None:
    memory = {"sheet:sunrise solar": AccountMemory(ticket="SS-200")}
    result = run(sheet(row("Sunrise Solar Co")), [], memory)
    assert verdicts(result) == {"Sunrise Solar Co": "remembered"}
    assert result.evaluation.findings == []


def test_memory_records_first_sightings_and_matches_and_forgets_what_left_the_sheet() -> None:
    memory = {
        "sheet:acme roofing": AccountMemory(first_seen_approved=LONG_AGO),
        "sheet:old installer": AccountMemory(ticket="SS-100"),
        "sheet:bright path energy": AccountMemory(first_seen_approved=LONG_AGO),
    }
    s = sheet(row("Sunrise Solar Co"), row("Acme Roofing"), row("Bright Path Energy"))
    result = run(s, [ticket("SS-200", "Bright Path Energy")], memory)
    assert memory_updates(result, memory) == {
        "sheet:sunrise solar": {
            "account": "Sunrise Solar Co",
            "first_seen_approved": NOW.isoformat(),
        },
        "sheet:bright path energy": {"account": "Bright Path Energy", "ticket": "SS-200"},
        "sheet:old installer": None,
    }  # acme roofing: unchanged, not rewritten


def test_memory_forgets_an_account_that_is_no_longer_approved() -> None:
    memory = {"sheet:sunrise solar": AccountMemory(first_seen_approved=LONG_AGO)}
    result = run(sheet(row("Sunrise Solar Co", "Declined")), [], memory)
    assert memory_updates(result, memory) == {"sheet:sunrise solar": None}


def test_memory_forgets_nothing_when_the_sheet_has_no_header() -> None:
    memory = {"sheet:sunrise solar": AccountMemory(first_seen_approved=LONG_AGO)}
    unreadable = read_onboarding_sheet(tab_from_rows([["garbage"]]), LAYOUT)
    assert memory_updates(run(unreadable, [], memory), memory) == {}


@pytest.mark.parametrize(
    "state",
    [
        None,
        {},
        {"first_seen_approved": "yesterday"},
        {"first_seen_approved": "2026-11-20T10:00:00"},  # naive: zone unknown
        {"first_seen_approved": 12345, "ticket": 7},
    ],
)
def test_unusable_memory_reads_as_unknown(state: dict[str, Any] | None) -> None:
    assert AccountMemory.from_state(state) == AccountMemory()


def test_memory_round_trips_through_state() -> None:
    state = {"account": "X", "first_seen_approved": LONG_AGO.isoformat(), "ticket": "SS-1"}
    assert AccountMemory.from_state(state) == AccountMemory(LONG_AGO, "SS-1")


# -- findings ---------------------------------------------------------------------------------


def test_findings_are_json_safe_and_realert_daily() -> None:
    result = run(
        sheet(row("Sunrise Solar Co"), row("Bright Path Energy")),
        [ticket("SS-210", "Brightpath Energy")],
        seen_long_ago("Sunrise Solar Co", "Bright Path Energy"),
    )
    for finding in result.evaluation.findings:
        json.dumps(dict(finding.facts))
        assert finding.realert == timedelta(hours=24)
        assert finding.rule == "missing_ticket" and finding.episode == ""
        assert finding.url == SHEET_URL


def test_nothing_is_found_when_every_approved_account_has_a_ticket() -> None:
    s = sheet(row("Sunrise Solar Co"), row("Acme Roofing"), row("Pending Co", "Pending"))
    tickets = [ticket("SS-200", "Sunrise Solar"), ticket("SS-201", "ACME ROOFING LLC")]
    result = run(s, tickets, seen_long_ago("Sunrise Solar", "Acme Roofing"))
    assert result.evaluation.findings == []
    assert result.evaluation.examined == 3


def test_the_settings_refuse_inverted_thresholds() -> None:
    with pytest.raises(ValueError, match="near_miss_threshold"):
        OnboardingMissingTicketConfig(match_threshold=80, near_miss_threshold=85)
    with pytest.raises(ValueError, match="approved_statuses"):
        run(sheet(row("Sunrise Solar Co")), [], approved_statuses=(" ",))


def test_grace_can_be_zero() -> None:
    config = OnboardingMissingTicketConfig(grace=Duration())
    assert run(sheet(row("Sunrise Solar Co")), [], config=config).evaluation.findings


# -- ticket text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "names"),
    [
        ("Contractor name: Sunrise Solar", ["Sunrise Solar"]),
        ("contractor NAME:   Sunrise Solar  ", ["Sunrise Solar"]),
        ("Contractor Installer name: Acme Roofing", ["Acme Roofing"]),
        ("Installer name - Acme Roofing", ["Acme Roofing"]),
        ("*Contractor name:* Acme Roofing", ["Acme Roofing"]),
        ("• Contractor name: Acme Roofing\n• Contractor contact email: x@y.z", ["Acme Roofing"]),
        ("Contractor name:\n\n  Acme Roofing\nEmail: x@y.z", ["Acme Roofing"]),
        ("1. Contractor name: Acme Roofing\n2. Contractor contact email: x@y.z", ["Acme Roofing"]),
        ("- Contractor Installer name: Acme Roofing", ["Acme Roofing"]),
        ("Contractor contact email: x@y.z", []),
        ("Contractor name: ", []),
        ("", []),
    ],
)
def test_it_reads_the_contractor_name_from_the_form(description: str, names: list[str]) -> None:
    assert contractor_names(description) == names


@pytest.mark.parametrize(
    ("summary", "name"),
    [
        ("EverBright Partner Onboarding", None),
        ("Re: EverBright Partner Onboarding", None),
        ("RE: FW: EverBright Partner Onboarding - Acme Roofing", "Acme Roofing"),
        ("Acme Roofing | EverBright Partner Onboarding", "Acme Roofing"),
        ("everbright partner onboarding (Sunrise Solar)", "Sunrise Solar"),
        ("Something else entirely", None),
    ],
)
def test_it_reads_a_name_after_the_subject(summary: str, name: str | None) -> None:
    assert summary_name(summary, "EverBright Partner Onboarding") == name


# -- the task's config and query --------------------------------------------------------------


def test_the_config_defaults_are_the_sop_values() -> None:
    config = OnboardingMissingTicketConfig()
    assert config.schedule == "*/30 * * * *"
    assert (str(config.grace), str(config.realert), str(config.lookback)) == ("1h", "1d", "120d")
    assert (config.match_threshold, config.near_miss_threshold) == (90, 75)
    assert config.onboarding_subject == "EverBright Partner Onboarding"
    assert "Account Name" in config.header_labels and "Status" in config.header_labels


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"match_threshold": 80, "near_miss_threshold": 85}, "must not exceed"),
        ({"grace": "2bd"}, "business days"),
        ({"lookback": "0m"}, "at least a minute"),
        ({"onboarding_subject": "  "}, "must not be empty"),
        ({"header_labels": [" "]}, "at least one label"),
        ({"match_threshold": 101}, "less than or equal to 100"),
        ({"surprise": 1}, "Extra inputs are not permitted"),
    ],
)
def test_the_config_refuses_values_that_cannot_work(values: dict[str, Any], message: str) -> None:
    from jobs.sections import SectionError

    with pytest.raises(SectionError, match=message):
        OnboardingMissingTicketConfig(**values)


@pytest.mark.parametrize(
    ("lookback", "clause"), [("120d", "-120d"), ("36h", "-2160m"), ("1w", "-7d"), ("90m", "-90m")]
)
def test_the_search_window_is_written_as_jql_reads_it(lookback: str, clause: str) -> None:
    from jobs.durations import parse_duration
    from jobs.scheduled.onboarding_missing_ticket import candidates_jql

    jql = candidates_jql("SS", "EverBright Partner Onboarding", parse_duration(lookback))
    assert jql == (
        'project = "SS" AND summary ~ "EverBright Partner Onboarding" '
        f"AND created >= {clause} ORDER BY created DESC"
    )


def test_the_search_quotes_a_configured_subject() -> None:
    from jobs.durations import parse_duration
    from jobs.scheduled.onboarding_missing_ticket import candidates_jql

    jql = candidates_jql("SS", 'Partner "Onboarding" \\ x', parse_duration("1d"))
    assert 'summary ~ "Partner \\"Onboarding\\" \\\\ x"' in jql
