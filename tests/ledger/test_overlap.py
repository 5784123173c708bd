"""Overlapping runs: a slow run and the next scheduled one must never both send.

Threads and separate processes hammer ``claim`` on the same keys of one database; every
key must be won exactly once. A Hypothesis property checks that no interleaving of
read/claim/save/release by two runs lets both hold a live claim, or a run act on a record
another run wrote after it read it.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.ledger import Ledger, open_ledger
from jobs.model import AlertRecord, RecordKey, RecordStatus
from tests.ledger.conftest import in_threads

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
TTL = timedelta(minutes=10)
JOB = "first_response_sla"
RULE = "breach"
WORKERS = 8
KEYS = [f"SS-{n}" for n in range(1, 41)]
# Every worker must be past its setup before any claims: that is what makes them overlap.
BARRIER_TIMEOUT_S = 120


def hammer(ledger: Ledger, run_id: str, keys: list[str]) -> list[str]:
    """Claim every key in a run-specific order; send half of the wins, leave the rest claimed."""
    order = list(keys)
    random.Random(run_id).shuffle(order)
    won = []
    for item in order:
        key = RecordKey(JOB, RULE, item)
        if ledger.claim(key, version=0, now=T0, run_id=run_id, claim_ttl=TTL):
            won.append(item)
            if int(item.removeprefix("SS-")) % 2 == 0:
                ledger.save_record(sent(key), now=T0, run_id=run_id, keep_until=None)
    return won


def sent(key: RecordKey) -> AlertRecord:
    return AlertRecord(key=key, status=RecordStatus.OPEN, first_sent_at=T0, last_sent_at=T0)


def _process_worker(url: str, run_id: str, barrier: Any, results: Any) -> None:
    ledger = open_ledger(url)
    try:
        barrier.wait(BARRIER_TIMEOUT_S)
        results.put((run_id, hammer(ledger, run_id, KEYS)))
    finally:
        ledger.close()


def assert_each_key_won_once(wins: dict[str, list[str]], ledger: Ledger) -> None:
    counts = Counter(item for items in wins.values() for item in items)
    assert sorted(counts) == sorted(KEYS)
    assert set(counts.values()) == {1}
    records = ledger.records(JOB)
    for item in KEYS:
        record = records[RecordKey(JOB, RULE, item)]
        expected = T0 if int(item.removeprefix("SS-")) % 2 == 0 else None
        assert record.last_sent_at == expected


@pytest.mark.parametrize("connections", ["shared", "one-per-thread"])
def test_overlapping_threads_claim_each_key_exactly_once(
    ledger: Ledger, ledger_url: str, connections: str
) -> None:
    barrier = threading.Barrier(WORKERS)
    wins: dict[str, list[str]] = {}

    def run(run_id: str) -> None:
        own = open_ledger(ledger_url) if connections == "one-per-thread" else ledger
        try:
            barrier.wait(BARRIER_TIMEOUT_S)
            wins[run_id] = hammer(own, run_id, KEYS)
        finally:
            if own is not ledger:
                own.close()

    assert in_threads(run, [f"thread-{n}" for n in range(WORKERS)]) == []
    assert_each_key_won_once(wins, ledger)


def test_overlapping_processes_claim_each_key_exactly_once(ledger: Ledger, ledger_url: str) -> None:
    # spawn, not fork: each process opens its own connection from scratch, as a cron run would.
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    processes = [
        ctx.Process(target=_process_worker, args=(ledger_url, f"process-{n}", barrier, results))
        for n in range(WORKERS)
    ]
    for process in processes:
        process.start()
    try:
        wins = dict(results.get(timeout=BARRIER_TIMEOUT_S) for _ in processes)
    finally:
        for process in processes:
            process.join(BARRIER_TIMEOUT_S)

    assert [p.exitcode for p in processes] == [0] * WORKERS
    assert_each_key_won_once(wins, ledger)


def batch_hammer(ledger: Ledger, run_id: str, keys: list[str]) -> list[str]:
    """`hammer` as the pipeline does it: one batch claim in a run-specific order, the sends
    saved together and every claim given back together, each batch in its own order."""
    shuffle = random.Random(run_id).shuffle
    order = [RecordKey(JOB, RULE, item) for item in keys]
    shuffle(order)
    won = ledger.claim_all(dict.fromkeys(order, 0), now=T0, run_id=run_id, claim_ttl=TTL)
    sends = [sent(k) for k in order if k in won and int(k.item.removeprefix("SS-")) % 2 == 0]
    shuffle(sends)
    ledger.save_records([(record, None) for record in sends], now=T0, run_id=run_id)
    return [key.item for key in won]


def test_overlapping_batches_claim_each_key_once_and_never_wait_on_each_other(
    ledger: Ledger, ledger_url: str
) -> None:
    """Batches that take many rows in one transaction, in different orders, from runs on
    their own connections: on PostgreSQL a batch keeps each row it touched locked until it
    commits, so without one order for every batch two of them can each wait for the other
    (PostgreSQL then aborts one with a deadlock error)."""
    barrier = threading.Barrier(WORKERS)
    wins: dict[str, list[str]] = {}

    def run(run_id: str) -> None:
        own = open_ledger(ledger_url)
        try:
            barrier.wait(BARRIER_TIMEOUT_S)
            wins[run_id] = batch_hammer(own, run_id, KEYS)
            barrier.wait(BARRIER_TIMEOUT_S)  # every run has claimed and saved: give back
            mine = [RecordKey(JOB, RULE, item) for item in KEYS]
            random.Random(run_id).shuffle(mine)
            own.release_all(mine, run_id=run_id)
        finally:
            own.close()

    assert in_threads(run, [f"batch-{n}" for n in range(WORKERS)]) == []
    counts = Counter(item for items in wins.values() for item in items)
    assert sorted(counts) == sorted(KEYS) and set(counts.values()) == {1}
    # Given back: what was sent is kept, unclaimed; what was never sent is forgotten.
    records = ledger.records(JOB)
    assert sorted(k.item for k in records) == sorted(i for i in KEYS if int(i[3:]) % 2 == 0)
    assert all(r.last_sent_at == T0 and r.claimed_by is None for r in records.values())


# --- property: no interleaving lets two runs hold a live claim ----------------------------


@dataclass
class ReferenceKey:
    """The claim rules written out plainly, to compare the database against."""

    exists: bool = False
    sent: bool = False
    version: int = 0
    holder: str | None = None
    claimed_at: datetime | None = None

    def claim(self, run_id: str, read: int, now: datetime) -> bool:
        if not self.exists:
            # Nothing there (never sent, or a claim given back): whatever the run read then,
            # nothing has been written since that could change its decision.
            got = True
            self.exists, self.version = True, 1
        else:
            free = self.holder is None or (
                self.claimed_at is not None and self.claimed_at <= now - TTL
            )
            got = self.version == read and free
        if got:
            self.holder, self.claimed_at = run_id, now
        return got

    def save(self) -> None:
        self.version = self.version + 1 if self.exists else 1
        self.exists = self.sent = True

    def release(self, run_id: str) -> None:
        if self.holder == run_id:
            self.holder = self.claimed_at = None
            if not self.sent:  # a claim never followed by a send leaves nothing behind
                self.exists, self.version = False, 0


steps = st.lists(
    st.tuples(
        st.sampled_from(["run-a", "run-b"]),
        st.sampled_from(["read", "claim", "save", "release"]),
        st.integers(min_value=0, max_value=12),  # minutes the clock moves before the step
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=60,
    deadline=None,
    # One ledger serves every example; each example uses a job name of its own instead.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=steps)
def test_no_interleaving_lets_two_runs_hold_a_live_claim(
    ledger: Ledger, steps: list[tuple[str, str, int]]
) -> None:
    key = RecordKey(f"property-{uuid.uuid4().hex}", RULE, "SS-1")
    reference = ReferenceKey()
    read: dict[str, int] = {}
    believes_it_holds: dict[str, datetime] = {}
    now = T0

    for run_id, op, minutes in steps:
        now += timedelta(minutes=minutes)
        if op == "read":
            found = ledger.records(key.job, keys=[key]).get(key)
            read[run_id] = found.version if found is not None else 0
            assert read[run_id] == reference.version
        elif op == "claim":
            version = read.get(run_id, 0)
            got = ledger.claim(key, version=version, now=now, run_id=run_id, claim_ttl=TTL)
            assert got == reference.claim(run_id, version, now)
            if got:
                believes_it_holds[run_id] = now
        elif op == "save":
            if run_id not in believes_it_holds:
                continue  # only a run that claimed writes the record
            ledger.save_record(sent(key), now=now, run_id=run_id, keep_until=None)
            reference.save()
        else:
            ledger.release(key, run_id=run_id)
            reference.release(run_id)
            believes_it_holds.pop(run_id, None)

        live = [run for run, at in believes_it_holds.items() if at > now - TTL]
        assert len(live) <= 1, f"both runs hold a live claim at {now}: {believes_it_holds}"
