"""onboard_reset_reminder (SOP 003 part 2): "Onboard Reset - Release tonight" on Mondays."""

from __future__ import annotations

import pytest

from jobs.rules.onboard_reset_reminder import (
    RULE_RESET,
    OnboardResetReminderConfig,
    evaluate_reset,
)
from tests.unit.onboard_testing_tickets import (
    DESK,
    ROUND_THE_CLOCK,
    cs_ticket,
    ny,
    rules,
    ss_ticket,
)

RESET = OnboardResetReminderConfig()


# -- the Monday reset ------------------------------------------------------------------------


def test_it_reminds_each_outstanding_task_once_per_iso_week() -> None:
    cs = [cs_ticket("CS-405"), cs_ticket("CS-406")]
    evaluation = evaluate_reset(
        cs, {"SS-412": ss_ticket()}, ny(2026, 11, 23, 9), RESET, DESK, ROUND_THE_CLOCK
    )
    [finding] = evaluation.findings
    assert (finding.rule, finding.item, finding.episode, finding.realert) == (
        RULE_RESET,
        "SS-412",
        "2026-W48",
        None,
    )
    assert finding.facts["marker"] == "Ref: SS-412 · onboard-reset · 2026-W48"
    assert finding.facts["cs_keys"] == ["CS-405", "CS-406"]
    assert finding.facts["customer"] == "Dana"


@pytest.mark.parametrize(
    ("now", "sent"),
    [
        (ny(2026, 11, 23, 0, 0), True),
        (ny(2026, 11, 23, 23, 59), True),
        (ny(2026, 11, 22, 23, 59), False),  # Sunday in New York, already Monday in UTC
        (ny(2026, 11, 24, 9), False),
    ],
)
def test_it_only_says_release_tonight_on_the_reset_day_at_the_desk(now, sent) -> None:
    evaluation = evaluate_reset(
        [cs_ticket()], {"SS-412": ss_ticket()}, now, RESET, DESK, ROUND_THE_CLOCK
    )
    assert bool(evaluation.findings) is sent
    assert bool(evaluation.problems) is not sent


def test_it_sends_on_any_day_when_the_reset_day_is_unset() -> None:
    evaluation = evaluate_reset(
        [cs_ticket()],
        {"SS-412": ss_ticket()},
        ny(2026, 11, 25, 9),
        OnboardResetReminderConfig(reset_weekday=None),
        DESK,
        ROUND_THE_CLOCK,
    )
    assert rules(evaluation) == [RULE_RESET]
