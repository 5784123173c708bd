"""Onboard testing (SOP 003 part 2), what both jobs read: outstanding tasks, the ISO week, the
customer's name, the reference line, and the desk's default replies."""

from __future__ import annotations

from dataclasses import replace

import pytest

from jobs.model import Person, StatusCategory
from jobs.rules.desk import has_reference, reference
from jobs.rules.doc_test_followup import (
    STEP_FIRST_EMAIL,
    STEP_PUBLISH,
    STEP_SECOND_EMAIL,
    DocTestFollowupConfig,
)
from jobs.rules.onboard_reset_reminder import (
    STEP_RESET,
    OnboardResetReminderConfig,
    evaluate_reset,
)
from jobs.rules.onboard_testing import customer_name, iso_week, outstanding_tasks
from tests.unit.onboard_testing_tickets import (
    DESK,
    ROUND_THE_CLOCK,
    cs_ticket,
    link,
    ny,
    ss_ticket,
)

RESET = OnboardResetReminderConfig()


# -- outstanding Onboard tasks ---------------------------------------------------------------


def test_it_pairs_on_hold_cs_tickets_with_their_open_ss_tickets() -> None:
    ss = {"SS-412": ss_ticket("SS-412"), "SS-413": ss_ticket("SS-413")}
    cs = [
        cs_ticket("CS-405", links=(link("SS-412"),)),
        cs_ticket("CS-406", links=(link("SS-412", type_name="Cloners"), link("CS-1"))),
        cs_ticket("CS-407", links=(link("SS-413"),)),
    ]
    tasks, problems = outstanding_tasks(cs, ss, service_desk_project="SS")
    assert [(t.ss.key, t.cs_keys) for t in tasks] == [
        ("SS-412", ["CS-405", "CS-406"]),
        ("SS-413", ["CS-407"]),
    ]
    assert problems == []


def test_it_leaves_out_done_ss_tickets_and_reports_unlinked_or_missing_ones() -> None:
    done = ss_ticket("SS-414", status="Closed", category=StatusCategory.DONE)
    cs = [
        cs_ticket("CS-408", links=(link("SS-414"),)),
        cs_ticket("CS-409", links=(link("SS-415", done=True),)),
        cs_ticket("CS-410", links=()),
        cs_ticket("CS-411", links=(link("SS-416"),)),
    ]
    tasks, problems = outstanding_tasks(cs, {"SS-414": done}, service_desk_project="SS")
    assert tasks == []
    assert sorted(p.where for p in problems) == ["CS-409", "CS-410", "SS-416"]


def test_it_narrows_links_to_the_configured_types() -> None:
    cs = [cs_ticket(links=(link("SS-412", type_name="Blocks"),))]
    tasks, _ = outstanding_tasks(
        cs, {"SS-412": ss_ticket()}, service_desk_project="SS", link_types=("relates",)
    )
    assert tasks == []


def test_an_onboarding_waiting_for_approval_is_not_an_onboard_test() -> None:
    # SOP 001 also puts the config ticket On Hold (waiting for the approver); its SS ticket is
    # an EverBright onboarding with no customer copied: it must never get an Onboard email.
    onboarding = replace(ss_ticket("SS-310"), summary="EverBright Partner Onboarding")
    cs = [cs_ticket("CS-310", links=(link("SS-310"),)), cs_ticket("CS-405")]
    tasks, problems = outstanding_tasks(
        cs,
        {"SS-310": onboarding, "SS-412": ss_ticket()},
        service_desk_project="SS",
        document_subjects=("Document Survey",),
    )
    assert [t.ss.key for t in tasks] == ["SS-412"]
    assert problems == []
    evaluation = evaluate_reset(
        cs,
        {"SS-310": onboarding, "SS-412": ss_ticket()},
        ny(2026, 11, 23, 9),
        RESET,
        DESK,
        ROUND_THE_CLOCK,
    )
    assert [f.item for f in evaluation.findings] == ["SS-412"]


# -- the ISO week ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "week"),
    [
        (ny(2026, 11, 23, 0, 30), "2026-W48"),
        (ny(2026, 11, 22, 23, 30), "2026-W47"),
        (ny(2026, 12, 28, 9), "2026-W53"),
        (ny(2027, 1, 4, 9), "2027-W01"),
    ],
)
def test_it_names_the_iso_week_in_the_desk_timezone(now, week) -> None:
    assert iso_week(now, ROUND_THE_CLOCK) == week


# -- markers and names -----------------------------------------------------------------------


def test_it_finds_a_marker_that_an_editor_reflowed() -> None:
    mark = reference("SS-412", STEP_RESET, "2026-W48")
    assert has_reference("Thanks\n\nref:  SS-412 ·\nonboard-reset · 2026-W48", mark)
    assert not has_reference(reference("SS-412", STEP_RESET, "2026-W47"), mark)
    assert not has_reference(reference("SS-4120", STEP_RESET, "2026-W48"), mark)


@pytest.mark.parametrize(
    ("display_name", "expected"),
    [("Dana Whitfield", "Dana"), ("dana@sunrise.example", ""), (None, ""), ("  ", "")],
)
def test_it_greets_the_customer_by_first_name_when_known(display_name, expected) -> None:
    ticket = replace(ss_ticket(), reporter=Person("x", display_name))
    assert customer_name(ticket) == expected


# -- the desk's default templates ------------------------------------------------------------


def _render_defaults() -> dict[str, str]:
    from jobs.render.templates import Templates
    from jobs.scheduled.doc_test_followup import (
        FIRST_EMAIL_TEMPLATE,
        PUBLISH_TEMPLATE,
        SECOND_EMAIL_TEMPLATE,
    )
    from jobs.scheduled.onboard_reset_reminder import RESET_TEMPLATE
    from tests.conftest import TEMPLATES

    templates = Templates(TEMPLATES)
    common = {
        "customer_name": "Dana",
        "organization": "Sunrise Solar Co",
        "ticket_key": "SS-412",
        "request_summary": "Document Survey: Sunrise Solar Co",
    }
    return {
        STEP_FIRST_EMAIL: templates.render(
            FIRST_EMAIL_TEMPLATE, common | {"marker": reference("SS-412", STEP_FIRST_EMAIL)}
        ),
        STEP_SECOND_EMAIL: templates.render(
            SECOND_EMAIL_TEMPLATE,
            common
            | {
                "first_email_date": "Monday, November 16",
                "marker": reference("SS-412", STEP_SECOND_EMAIL, "1001"),
            },
        ),
        STEP_RESET: templates.render(
            RESET_TEMPLATE, common | {"marker": reference("SS-412", STEP_RESET, "2026-W48")}
        ),
        STEP_PUBLISH: templates.render(
            PUBLISH_TEMPLATE,
            {
                "cs_key": "CS-405",
                "ss_key": "SS-412",
                "ss_url": "https://desk.example/browse/SS-412",
                "customer_name": "Dana",
                "organization": "Sunrise Solar Co",
                "first_email_date": "Monday, November 16",
                "second_email_date": "Thursday, November 19",
                "marker": reference("SS-412", STEP_PUBLISH, "1001"),
            },
        ),
    }


def test_it_ends_every_default_template_with_its_reference_line() -> None:
    for step, text in _render_defaults().items():
        assert text.rstrip().splitlines()[-1].startswith("Ref: SS-412 · " + step), step
        assert "{" not in text, step


def test_it_greets_by_name_and_names_the_organization_in_customer_replies() -> None:
    for step, text in _render_defaults().items():
        if step != STEP_PUBLISH:
            assert text.startswith("Hi Dana,"), step
            assert "Sunrise Solar Co" in text, step


def test_it_recognises_each_default_reply_as_its_own_step_only() -> None:
    from jobs.rules.doc_test_followup import mentions_any

    config = DocTestFollowupConfig()
    texts = _render_defaults()
    first_matches = {s for s, t in texts.items() if mentions_any(t, config.first_email_texts)}
    second_matches = {s for s, t in texts.items() if mentions_any(t, config.second_email_texts)}
    assert first_matches == {STEP_FIRST_EMAIL}
    assert second_matches == {STEP_SECOND_EMAIL}


def test_it_defaults_to_the_sop_timings() -> None:
    followup_config = DocTestFollowupConfig()
    reset_config = OnboardResetReminderConfig()
    assert (reset_config.schedule, reset_config.on_hold_status) == ("0 9 * * 1", "On Hold")
    assert str(followup_config.nudge_after) == "3d"
    assert str(followup_config.publish_after) == "1d"
    assert str(followup_config.silent_close_after) == "1d"
    assert followup_config.schedule == "0 * * * *"
