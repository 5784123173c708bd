"""Exactly once, the hard way: the process is killed between sending a reply and recording it.

The CLI runs as a real subprocess with ``JOBS_FAILPOINT=after_send``, so it SIGKILLs itself
right after the first public comment went out and before the ledger knows. The ticket's own
comments must then stop every later run from emailing the customer again: a rerun, a rerun
with the ledger deleted, and two runs started at the same time.
"""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import finish

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York, 2026-W48
FIXTURE = "onboard_testing.yaml"
JOB = "onboard_reset_reminder"
TESTING = ("SS-401", "SS-402", "SS-403", "SS-404")


def resets(stack) -> dict[str, int]:
    return {
        key: sum("onboard-reset · 2026-W48" in c.body for c in stack.jira.comments_of(key))
        for key in TESTING
    }


def ledger_file(desk) -> Path:
    return Path(desk.env["JOBS_LEDGER_URL"].removeprefix("sqlite:///"))


@pytest.mark.parametrize("writes", [1, 8], ids=["one-at-a-time", "side-by-side"])
def test_a_run_killed_after_sending_never_sends_that_reply_again(
    writes: int, desk, tmp_path: Path
) -> None:
    """One at a time, the kill comes right after the first reply. Side by side, every reply
    of the wave may be out when it comes, none of them recorded: each must be recognised on
    its ticket, none sent twice."""
    stack = desk(FIXTURE, now=NOW, settings={"run": {"max_parallel_writes": writes}})

    code, err = finish(desk.spawn(JOB, NOW, JOBS_FAILPOINT="after_send"))

    assert code == -signal.SIGKILL, err
    assert set(resets(stack).values()) <= {0, 1}
    sent = [key for key, n in resets(stack).items() if n == 1]
    if writes == 1:
        assert len(sent) == 1
    else:
        assert len(sent) >= 1
    before = dict(resets(stack))

    # Right away, the dead run's claims are still fresh: they hold every ticket back.
    assert desk.run("run", JOB, "--now", NOW.isoformat()).code == 0
    assert resets(stack) == before

    # Once the claims expired: the others are sent, and the tickets' comments say that
    # the ones the dead run sent already were.
    report_path = tmp_path / "rerun.json"
    later = (NOW + timedelta(minutes=15)).isoformat()
    rerun = desk.run("run", JOB, "--now", later, "--report", str(report_path))

    assert rerun.code == 0, rerun.err
    assert set(resets(stack).values()) == {1}
    actions = json.loads(report_path.read_text())["actions"]
    for key in sent:
        [verified] = [a for a in actions if a["target"] == key]
        assert verified["status"] == "suppressed_duplicate"
        assert "already on the ticket" in verified["reason"]
        why = desk.run("why", key)
        assert "already on the ticket" in why.out


def test_a_lost_ledger_does_not_send_the_week_s_replies_again(desk) -> None:
    stack = desk(FIXTURE, now=NOW)
    code, err = finish(desk.spawn(JOB, NOW))
    assert code == 0, err
    assert set(resets(stack).values()) == {1}

    for path in ledger_file(desk).parent.glob(ledger_file(desk).name + "*"):  # with -wal, -shm
        path.unlink()
    code, err = finish(desk.spawn(JOB, NOW + timedelta(hours=2)))

    assert code == 0, err
    assert set(resets(stack).values()) == {1}


def test_two_runs_started_at_once_send_one_reply_per_ticket(desk) -> None:
    stack = desk(FIXTURE, now=NOW, latency=0.02)  # slow Jira a little so the runs overlap

    first, second = desk.spawn(JOB, NOW), desk.spawn(JOB, NOW)
    results = [finish(first), finish(second)]

    assert [code for code, _ in results] == [0, 0], results
    assert set(resets(stack).values()) == {1}
