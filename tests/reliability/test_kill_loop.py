"""`run all` SIGKILLed at random moments, again and again, then two clean scheduled runs.

Not only at the named failpoints: each run is killed after a random delay, wherever it is
(reading, planning, between a Jira write and its record, half-way through a chain, while the
ledger writes). Every killed run is as of a later scheduled instant, as cron would start it.
After the clean runs, the desk must look exactly as it does after the same schedule of
undisturbed runs: no customer-facing comment twice, no create, link or transition twice, and
nothing lost. A Slack alert sent just before a kill may be sent again (at least once, by
design); it is counted, not failed.

Time moves between the runs, so a first-response alert can go up a tier while the runs that
would have announced the tier below were being killed: the next run announces the tier the
ticket is in by then. For those alerts the judgment is per ticket (it was alerted, or it was
not), not per tier message; every other effect is judged message by message.
"""

from __future__ import annotations

import random
import re
import signal
import subprocess
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.reliability.conftest import CASES, ReliabilityDesk, tally

pytestmark = pytest.mark.faults

STEP = timedelta(minutes=11)
"""Between two scheduled runs: longer than the claim TTL (10 m), so each run may take over
what the killed one before it held, as the next cron run would."""
CLEAN = timedelta(minutes=15)


def schedule(kills: int) -> tuple[list[datetime], list[datetime]]:
    start = CASES["desk_all"].at
    killed = [start + n * STEP for n in range(kills)]
    last = start + kills * STEP
    return killed, [last, last + CLEAN]


_TIERED = re.compile(
    r"^slack (?P<where>\S+) (?:root|reply) \[(?:first response \w+|unassigned ticket need)\] "
    r"(?P<item>\S+)$"
)


def per_ticket_first_response(effects: Counter[str]) -> Counter[str]:
    """The first-response alerts counted once per ticket told; the rest as they are."""
    judged: Counter[str] = Counter()
    for effect, count in effects.items():
        tiered = _TIERED.match(effect)
        if tiered:
            judged[f"first-response alert {tiered['where']} {tiered['item']}"] = 1
        else:
            judged[effect] += count
    return judged


@pytest.fixture(scope="session")
def undisturbed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The desk after the same schedule of runs, none of them killed (cached per length)."""
    cache: dict[int, Counter[str]] = {}

    def of(kills: int) -> Counter[str]:
        if kills not in cache:
            desk = ReliabilityDesk(tmp_path_factory.mktemp(f"undisturbed-{kills}"))
            try:
                desk.start(CASES["desk_all"])
                desk.prime()
                killed, clean = schedule(kills)
                for at in killed + clean:
                    run = desk.run_job(at)
                    assert run.code == 0, run.describe()
                cache[kills] = desk.effects()
            finally:
                desk.stop()
        return Counter(cache[kills])

    return of


EARLIEST_KILL, LATEST_KILL = 0.3, 2.5
"""Seconds after a run starts that it may be killed at; the latest comes down to the length of
a run that ended before its moment."""

KILL_LOOPS = [
    pytest.param("sqlite", 30, id="sqlite-30-kills"),
    pytest.param("postgres", 15, id="postgres-15-kills", marks=pytest.mark.postgres),
]


@pytest.mark.parametrize(("backend", "kills"), KILL_LOOPS)
def test_run_all_killed_at_random_moments_ends_as_if_never_killed(
    backend: str,
    kills: int,
    rdesk: ReliabilityDesk,
    undisturbed: Any,
    figure: Any,
    request: pytest.FixtureRequest,
) -> None:
    expected = undisturbed(kills)
    ledger_url = request.getfixturevalue("postgres_url") if backend == "postgres" else None
    # Each request answers after 20 ms, as a nearby site would: `run all` then lasts long
    # enough for the random moments below to fall inside it (a run on a loopback with no
    # latency can be over before the first of them).
    rdesk.start(CASES["desk_all"], ledger_url=ledger_url, latency=0.02)
    rdesk.prime()
    rng = random.Random(f"kill-loop-{backend}")
    killed_at, clean_at = schedule(kills)

    died = 0
    latest = LATEST_KILL
    for at in killed_at:
        started = time.monotonic()
        spawned = rdesk.spawn(at)
        try:
            # A random moment of the run (start-up included)...
            spawned.process.wait(timeout=rng.uniform(EARLIEST_KILL, latest))
        except subprocess.TimeoutExpired:
            spawned.process.send_signal(signal.SIGKILL)
        else:
            # ...unless the run was over first: later moments fall within a run this long, so
            # however fast runs become, most of them are still killed part-way.
            latest = max(EARLIEST_KILL + 0.1, min(latest, 0.9 * (time.monotonic() - started)))
        outcome = spawned.finish()
        died += outcome.code == -signal.SIGKILL
        assert not outcome.traceback, outcome.describe()
    for at in clean_at:
        clean = rdesk.run_job(at)
        assert clean.code == 0, clean.describe()

    outcome = tally(
        per_ticket_first_response(rdesk.effects()),
        per_ticket_first_response(expected),
        repeats_allowed=True,
    )
    scenario = figure.kill(f"run all: {kills} random SIGKILLs ({backend}), then two clean runs")
    scenario.duplicates, scenario.lost = len(outcome.duplicates), len(outcome.lost)
    scenario.repeated_internal = len(outcome.repeated_internal)
    assert died >= kills // 2, f"only {died} of {kills} runs were killed mid-run"
    assert outcome.duplicates == [], outcome
    assert outcome.lost == [], outcome
    assert rdesk.ledger_chains() == []
