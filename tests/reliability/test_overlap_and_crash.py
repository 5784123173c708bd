"""Overlapping and killed runs: each alert and each customer reply happens once.

- Two runs of the same job at once, as threads of one process and as two processes, on the
  SQLite and the PostgreSQL ledger: together they do exactly what one undisturbed run does.
- A run SIGKILLed at each step between "decided" and "recorded" (``JOBS_FAILPOINT``: right after
  the first claim, right after the first send, right after recording it): the next scheduled
  run sends no second customer reply and loses no alert. An internal Slack alert sent just
  before the kill may be sent again (at least once, by design); a reply is checked against the
  ticket's comments first, so it never is.
"""

from __future__ import annotations

import signal
from datetime import datetime
from typing import Any

import pytest

from tests.reliability.conftest import (
    CASES,
    NEXT_RUN,
    Outcome,
    ReliabilityDesk,
    hold_until_together,
    tally,
)

pytestmark = pytest.mark.faults

JOBS = ["unassigned", "onboard_reset", "approval_acting", "channel_partner", "onboarding_missing"]
LATENCY = 0.01
"""Seconds each emulator request takes: long enough for two runs to interleave."""


def _interval(outcome: Outcome) -> tuple[datetime, datetime]:
    report = outcome.report
    return (
        datetime.fromisoformat(report["started_at"]),
        datetime.fromisoformat(report["finished_at"]),
    )


def _overlapped(first: Outcome, second: Outcome) -> bool:
    (a_start, a_end), (b_start, b_end) = _interval(first), _interval(second)
    return a_start < b_end and b_start < a_end


@pytest.mark.parametrize("mode", ["threads", "processes"])
@pytest.mark.parametrize("name", JOBS)
def test_two_runs_at_once_do_what_one_run_does(
    name: str,
    mode: str,
    ledger_url: str | None,
    rdesk: ReliabilityDesk,
    reference: Any,
    figure: Any,
) -> None:
    backend = "postgres" if ledger_url else "sqlite"
    scenario = figure.overlap(f"{name}: two runs at once ({mode}, {backend})")
    case = CASES[name]
    expected = reference(case)
    stack = rdesk.start(case, ledger_url=ledger_url, latency=LATENCY)
    rdesk.prime()
    # Every run's first Jira request: both runs wait there for each other, then race on.
    hold_until_together(stack.jira, r"/serverInfo$")

    if mode == "threads":
        runs = rdesk.run_together()
    else:
        spawned = [rdesk.spawn(), rdesk.spawn()]
        runs = [s.finish() for s in spawned]

    outcome = tally(rdesk.effects(), expected)
    scenario.duplicates, scenario.lost = len(outcome.duplicates), len(outcome.lost)
    scenario.traceback = any(r.traceback for r in runs)
    assert [r.code for r in runs] == [0, 0], [r.describe() for r in runs]
    assert _overlapped(*runs), "the runs did not overlap; the test would prove nothing"
    assert outcome.duplicates == [], outcome
    assert outcome.lost == [], outcome


KILLS = [
    pytest.param(name, failpoint, id=f"{name}-{failpoint}")
    for name in JOBS
    for failpoint in ("after_claim", "after_send", "after_record")
]


@pytest.mark.parametrize(("name", "failpoint"), KILLS)
def test_a_run_killed_at_any_step_is_caught_up_without_a_second_reply(
    name: str, failpoint: str, rdesk: ReliabilityDesk, reference: Any, figure: Any
) -> None:
    scenario = figure.kill(f"{name}: killed {failpoint.replace('_', ' ')}")
    case = CASES[name]
    expected = reference(case)
    rdesk.start(case)
    rdesk.prime()

    killed = rdesk.spawn(JOBS_FAILPOINT=failpoint).finish()
    assert killed.code == -signal.SIGKILL, killed.describe()
    next_run = rdesk.run_job(case.at + NEXT_RUN)

    # Only an alert sent and then killed before it was recorded may go out twice.
    outcome = tally(rdesk.effects(), expected, repeats_allowed=failpoint == "after_send")
    scenario.duplicates, scenario.lost = len(outcome.duplicates), len(outcome.lost)
    scenario.repeated_internal = len(outcome.repeated_internal)
    scenario.traceback = next_run.traceback
    assert next_run.code == 0, next_run.describe()
    assert outcome.duplicates == [], outcome
    assert outcome.lost == [], outcome
