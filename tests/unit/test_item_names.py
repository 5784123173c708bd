"""What a person types, resolved to the ledger's item keys; the snooze label with an end date."""

from __future__ import annotations

from datetime import date

import pytest

from jobs.item_names import SHEET_PREFIX, label_silence, resolve_item, until_label
from jobs.rules.names import normalize_name
from jobs.rules.onboarding_missing_ticket import account_item

KNOWN = {
    "SS-101",
    "SS-102",
    "SS-1010",
    "CS-7",
    "sheet:canyon creek roofing",
    "sheet:bright path energy",
    "3f2a9c0d11aa4b7e",  # a message record's id
}


@pytest.mark.parametrize(
    "typed, item",
    [
        ("SS-101", "SS-101"),
        ("ss-101", "SS-101"),
        ("  Ss-101 ", "SS-101"),
        ("Canyon Creek Roofing", "sheet:canyon creek roofing"),
        ("CANYON CREEK ROOFING, LLC", "sheet:canyon creek roofing"),
        ("sheet:Canyon Creek Roofing", "sheet:canyon creek roofing"),
        ("sheet:canyon creek roofing", "sheet:canyon creek roofing"),
        ("Bright Path Energy Inc.", "sheet:bright path energy"),
        ("3f2a9c0d11aa4b7e", "3f2a9c0d11aa4b7e"),
        ("3F2A9C0D11AA4B7E", "3f2a9c0d11aa4b7e"),
    ],
)
def test_names_people_type_resolve_to_known_items(typed: str, item: str) -> None:
    found = resolve_item(typed, KNOWN)

    assert (found.item, found.known) == (item, True)


def test_the_sheet_key_is_the_onboarding_jobs_own() -> None:
    assert SHEET_PREFIX + normalize_name("Canyon Creek Roofing") == account_item(
        normalize_name("Canyon Creek Roofing")
    )


def test_a_mistyped_key_is_refused_with_the_nearest_items() -> None:
    found = resolve_item("SS-1O1", KNOWN)

    assert found.item is None and not found.known
    assert found.suggestions[0] == "SS-101"
    assert found.refusal().startswith("no item SS-1O1; did you mean SS-101")


def test_a_well_formed_ticket_key_the_ledger_does_not_know_still_names_it() -> None:
    found = resolve_item("ss-999", KNOWN)

    assert (found.item, found.kind, found.known) == ("SS-999", "ticket", False)


def test_an_unknown_account_names_its_sheet_key_with_look_alikes() -> None:
    found = resolve_item("Canyon Creek Roofng", KNOWN)

    assert found.item == "sheet:canyon creek roofng" and not found.known
    assert found.suggestions == ("sheet:canyon creek roofing",)


def test_nothing_like_anything_is_a_plain_refusal() -> None:
    found = resolve_item("ZZ-Q9Q", KNOWN)

    assert found.item is None
    assert found.refusal() == "no item ZZ-Q9Q"


def test_control_characters_never_reach_the_refusal() -> None:
    found = resolve_item("SS-1O1\x1b[2J\n", KNOWN)

    assert "\x1b" not in found.refusal() and "\n" not in found.refusal()


def test_an_empty_name_names_nothing() -> None:
    assert resolve_item("   ", KNOWN).item is None


# -- the snooze label ------------------------------------------------------------------------

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    "labels, expected",
    [
        ([], (False, None)),
        (["EB", "urgent"], (False, None)),
        (["sla-snooze"], (True, None)),
        (["SLA-Snooze"], (True, None)),
        (["sla-snooze-until-2026-12-08"], (True, date(2026, 12, 8))),
        (["sla-snooze-until-2026-12-02"], (True, date(2026, 12, 2))),
        (["sla-snooze-until-2026-12-01"], (False, date(2026, 12, 1))),
        (["sla-snooze-until-2026-11-30"], (False, date(2026, 11, 30))),
        (["sla-snooze-until-2026-12-03", "sla-snooze-until-2026-12-09"], (True, date(2026, 12, 9))),
        (["sla-snooze-until-2026-12-09", "sla-snooze"], (True, None)),
        (["sla-snooze-until-2026-13-45"], (False, None)),
        (["sla-snooze-until-tomorrow"], (False, None)),
        (["sla-snoozed"], (False, None)),
        (["sla-snooze-until-2026-12-08x"], (False, None)),
    ],
)
def test_the_snooze_label_with_an_end_date(
    labels: list[str], expected: tuple[bool, date | None]
) -> None:
    assert label_silence(labels, "sla-snooze", TODAY) == expected


def test_no_base_label_silences_nothing() -> None:
    assert label_silence(["sla-snooze"], "", TODAY) == (False, None)


def test_the_label_for_an_end_date_reads_back() -> None:
    label = until_label("sla-snooze", date(2026, 12, 8))

    assert label == "sla-snooze-until-2026-12-08"
    assert label_silence([label], "sla-snooze", TODAY) == (True, date(2026, 12, 8))
