"""The ledger's contract, proved against every backend by the ``ledger`` fixture."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from jobs.ledger import (
    DECISION_RETENTION,
    SCHEMA_VERSION,
    Decision,
    Ledger,
    LedgerError,
    open_ledger,
    redact_url,
)
from jobs.ledger.base import Chain, ReadOnlyLedger
from jobs.model import AlertRecord, RecordKey, RecordStatus, Severity
from tests.ledger.conftest import in_threads

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)
TTL = timedelta(minutes=10)

JOB = "first_response_sla"
RULE = "breach"
ITEM = "SS-12"


KEY = RecordKey(JOB, RULE, ITEM)


def claim(
    ledger: Ledger,
    *,
    now: datetime,
    run_id: str = "run-a",
    key: RecordKey = KEY,
    version: int | None = None,
) -> bool:
    """Claim ``key`` at the version the ledger holds now (0 when there is no record)."""
    if version is None:
        found = ledger.records(key.job, keys=[key]).get(key)
        version = found.version if found is not None else 0
    return ledger.claim(key, version=version, now=now, run_id=run_id, claim_ttl=TTL)


def sent(
    key: RecordKey = KEY, *, at: datetime = T0, realert: timedelta | None = HOUR
) -> AlertRecord:
    return AlertRecord(
        key=key,
        status=RecordStatus.OPEN,
        tier=Severity.BREACH,
        first_sent_at=at,
        last_sent_at=at,
        realert=realert,
        store={"channel": "C1", "ts": "1741000000.000100"},
    )


def record_of(ledger: Ledger, key: RecordKey = KEY) -> AlertRecord | None:
    return ledger.records(key.job, keys=[key]).get(key)


def decision(at: datetime, *, job: str = JOB, item: str = ITEM, outcome: str = "sent") -> Decision:
    return Decision(
        at=at,
        run_id=f"run-{at:%H%M}",
        job=job,
        rule=RULE,
        item=item,
        episode="",
        outcome=outcome,
        reason="first response overdue",
        facts={"due": at - HOUR, "minutes_late": 60, "assignee": None},
        action="slack_post #support-sla",
    )


# --- claims and records -----------------------------------------------------------------


def test_it_lets_the_first_run_claim_an_item_never_sent(ledger: Ledger) -> None:
    assert record_of(ledger) is None
    assert claim(ledger, now=T0)


def test_it_refuses_a_second_run_while_the_first_holds_the_claim(ledger: Ledger) -> None:
    assert claim(ledger, now=T0, run_id="run-a")
    assert not claim(ledger, now=T0 + timedelta(minutes=9), run_id="run-b")


def test_a_claim_is_never_re_entrant(ledger: Ledger) -> None:
    # A search that lists a ticket twice must not let one run act on it twice.
    assert claim(ledger, now=T0, run_id="run-a")
    assert not claim(ledger, now=T0 + SECOND, run_id="run-a")


def test_it_refuses_a_claim_on_a_version_another_run_has_written_since(ledger: Ledger) -> None:
    # Run B read the record before run A sent and saved it: B's decision is stale.
    assert claim(ledger, now=T0, run_id="run-a", version=0)
    saved = ledger.save_record(sent(), now=T0, run_id="run-a", keep_until=None)
    ledger.release(KEY, run_id="run-a")

    assert not claim(ledger, now=T0 + SECOND, run_id="run-b", version=0)
    assert claim(ledger, now=T0 + SECOND, run_id="run-b", version=saved.version)


def test_it_claims_a_batch_key_by_key_in_one_call(ledger: Ledger) -> None:
    never_sent, held, stale, lapsed, mine = (RecordKey(JOB, RULE, f"SS-{n}") for n in range(1, 6))
    assert claim(ledger, now=T0, key=held, run_id="run-b")
    assert claim(ledger, now=T0, key=stale, run_id="run-b")
    ledger.save_record(sent(stale), now=T0, run_id="run-b", keep_until=None)
    ledger.release(stale, run_id="run-b")  # written since run-a read it at version 0
    assert claim(ledger, now=T0 - 2 * TTL, key=lapsed, run_id="run-dead")
    assert claim(ledger, now=T0, key=mine, run_id="run-a")

    versions = {never_sent: 0, held: 0, stale: 0, lapsed: 1, mine: 1}
    got = ledger.claim_all(versions, now=T0 + SECOND, run_id="run-a", claim_ttl=TTL)

    # Each key as `claim` alone would have it: a refusal does not undo the others.
    assert got == {never_sent, lapsed}
    assert record_of(ledger, never_sent).claimed_by == "run-a"  # type: ignore[union-attr]
    assert record_of(ledger, lapsed).claimed_by == "run-a"  # type: ignore[union-attr]
    assert record_of(ledger, held).claimed_by == "run-b"  # type: ignore[union-attr]
    assert record_of(ledger, stale).claimed_by is None  # type: ignore[union-attr]
    assert record_of(ledger, mine).claimed_by == "run-a"  # type: ignore[union-attr]
    assert ledger.claim_all({}, now=T0, run_id="run-a", claim_ttl=TTL) == set()


def test_it_saves_a_batch_in_key_order_and_hands_it_back_in_the_order_given(
    ledger: Ledger,
) -> None:
    keys = [RecordKey(JOB, RULE, f"SS-{n}") for n in (3, 1, 2)]
    for key in keys:
        assert claim(ledger, now=T0, key=key)
    first, last = sent(keys[0], at=T0), sent(keys[0], at=T0 + SECOND)
    saves = [(first, None), (sent(keys[1]), None), (last, None), (sent(keys[2]), None)]

    saved = ledger.save_records(saves, now=T0 + SECOND, run_id="run-a")

    assert [r.key for r in saved] == [keys[0], keys[1], keys[0], keys[2]]
    assert saved[2].version == saved[0].version + 1  # two saves of one record: the later wins
    assert record_of(ledger, keys[0]).last_sent_at == T0 + SECOND  # type: ignore[union-attr]
    assert (
        [r.version for r in saved[1:2] + saved[3:]]
        == [
            record_of(ledger, k).version  # type: ignore[union-attr]
            for k in keys[1:]
        ]
    )


def test_it_saves_a_record_and_keeps_the_claim_until_released(ledger: Ledger) -> None:
    assert claim(ledger, now=T0, run_id="run-a")
    ledger.save_record(sent(at=T0 + SECOND), now=T0 + SECOND, run_id="run-a", keep_until=None)

    found = record_of(ledger)
    assert found is not None and found.last_sent_at == T0 + SECOND
    assert found.tier is Severity.BREACH and found.store["ts"] == "1741000000.000100"
    assert found.claimed_by == "run-a"  # a chain may still be working for it
    assert not claim(ledger, now=T0 + 2 * SECOND, run_id="run-b")
    ledger.release(KEY, run_id="run-a")
    assert claim(ledger, now=T0 + 2 * SECOND, run_id="run-b")


def test_it_saves_records_together_in_order_or_none_of_them(ledger: Ledger) -> None:
    keys = [RecordKey(JOB, RULE, f"SS-{n}") for n in range(1, 4)]
    for key in keys:
        assert claim(ledger, now=T0, key=key)
    saves = [(sent(key, at=T0 + SECOND), None) for key in keys]
    saved = ledger.save_records(saves, now=T0 + SECOND, run_id="run-a")
    assert [r.key for r in saved] == keys
    assert [r.version for r in saved] == [record_of(ledger, k).version for k in keys]  # type: ignore[union-attr]
    assert all(record_of(ledger, k).claimed_by == "run-a" for k in keys)  # type: ignore[union-attr]

    # One record the ledger refuses (a naive instant): none of the others is written either.
    later = T0 + 2 * SECOND
    naive = replace(sent(keys[2], at=later), last_sent_at=datetime(2025, 3, 3, 9, 0, 2))
    with pytest.raises(ValueError, match="naive"):
        ledger.save_records(
            [(sent(keys[0], at=later), None), (naive, None)], now=later, run_id="run-a"
        )
    assert record_of(ledger, keys[0]).last_sent_at == T0 + SECOND  # type: ignore[union-attr]
    assert ledger.save_records([], now=later, run_id="run-a") == []


def test_it_releases_claims_together(ledger: Ledger) -> None:
    kept, unsent, others = (RecordKey(JOB, RULE, f"SS-{n}") for n in (1, 2, 3))
    for key in (kept, unsent):
        assert claim(ledger, now=T0, key=key, run_id="run-a")
    assert claim(ledger, now=T0, key=others, run_id="run-b")
    ledger.save_record(sent(kept), now=T0, run_id="run-a", keep_until=None)

    ledger.release_all([kept, unsent, others], run_id="run-a")

    assert record_of(ledger, kept).claimed_by is None  # type: ignore[union-attr]
    assert record_of(ledger, unsent) is None  # never sent: forgotten
    assert record_of(ledger, others).claimed_by == "run-b"  # not this run's to give back
    ledger.release_all([], run_id="run-a")


def test_it_forgets_a_claim_that_was_never_followed_by_a_send(ledger: Ledger) -> None:
    assert claim(ledger, now=T0, run_id="run-a")
    ledger.release(KEY, run_id="run-a")

    assert record_of(ledger) is None
    assert claim(ledger, now=T0 + SECOND, run_id="run-b")


def test_it_ignores_a_release_by_a_run_that_does_not_hold_the_claim(ledger: Ledger) -> None:
    assert claim(ledger, now=T0, run_id="run-a")
    ledger.release(KEY, run_id="run-b")

    assert not claim(ledger, now=T0 + SECOND, run_id="run-b")


def test_a_late_run_records_what_it_sent_but_leaves_the_takeover_claim(ledger: Ledger) -> None:
    assert claim(ledger, now=T0, run_id="run-slow")
    assert claim(ledger, now=T0 + TTL, run_id="run-next", version=1)
    ledger.save_record(sent(at=T0 + TTL), now=T0 + TTL + SECOND, run_id="run-slow", keep_until=None)
    ledger.release(KEY, run_id="run-slow")

    found = record_of(ledger)
    assert found is not None and found.last_sent_at == T0 + TTL
    assert found.claimed_by == "run-next"


@pytest.mark.parametrize(
    ("age", "expected"),
    [(TTL - SECOND, False), (TTL, True), (TTL + SECOND, True)],
    ids=["still-fresh", "exactly-stale", "stale"],
)
def test_it_takes_over_a_claim_older_than_claim_ttl(
    ledger: Ledger, age: timedelta, expected: bool
) -> None:
    assert claim(ledger, now=T0, run_id="run-died")

    assert claim(ledger, now=T0 + age, run_id="run-next") is expected


def test_a_taken_over_claim_is_no_longer_the_old_runs(ledger: Ledger) -> None:
    assert claim(ledger, now=T0, run_id="run-died")
    assert claim(ledger, now=T0 + TTL, run_id="run-next")

    assert not claim(ledger, now=T0 + TTL + SECOND, run_id="run-died")


def test_it_keeps_episodes_jobs_alerts_and_items_independent(ledger: Ledger) -> None:
    assert claim(ledger, now=T0)
    ledger.save_record(sent(), now=T0, run_id="run-a", keep_until=None)

    for key in (
        RecordKey(JOB, RULE, ITEM, "2025-03-03"),
        RecordKey("qa_due", RULE, ITEM),
        RecordKey(JOB, "warning", ITEM),
        RecordKey(JOB, RULE, "SS-13"),
    ):
        assert claim(ledger, now=T0, key=key), key
        assert record_of(ledger, key) is not None and record_of(ledger, key).last_sent_at is None  # type: ignore[union-attr]


def test_it_lists_a_jobs_records_or_only_the_open_ones(ledger: Ledger) -> None:
    other = RecordKey(JOB, RULE, "SS-13")
    for key in (KEY, other, RecordKey("qa_due", RULE, ITEM)):
        assert claim(ledger, now=T0, key=key)
        ledger.save_record(sent(key), now=T0, run_id="run-a", keep_until=None)
    closed = replace(sent(other), status=RecordStatus.CLOSED, closed_at=T0 + HOUR)
    ledger.save_record(closed, now=T0 + HOUR, run_id="run-a", keep_until=T0 + 2 * HOUR)

    assert set(ledger.records(JOB)) == {KEY, other}
    assert set(ledger.records(JOB, open_only=True)) == {KEY}
    assert ledger.records("nobody") == {}


def test_it_refuses_naive_datetimes(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        claim(ledger, now=datetime(2025, 3, 3, 9, 0))


def test_it_returns_utc_whatever_zone_it_was_given(ledger: Ledger) -> None:
    new_york = timezone(timedelta(hours=-5))
    assert claim(ledger, now=T0)
    ledger.save_record(sent(at=T0.astimezone(new_york)), now=T0, run_id="run-a", keep_until=None)

    found = record_of(ledger)
    assert found is not None and found.last_sent_at == T0
    assert found.last_sent_at.utcoffset() == timedelta(0)


# --- chains, memory, the clock guard --------------------------------------------------------


def test_it_keeps_a_chain_until_it_is_deleted(ledger: Ledger) -> None:
    chain = Chain(
        id="c1",
        job=JOB,
        records=(KEY, RecordKey(JOB, "message", "m1")),
        steps=({"status": "done", "result": {"ts": "1.2"}}, {"status": "pending"}),
        created_at=T0,
        updated_at=T0,
    )
    ledger.save_chain(chain)
    ledger.save_chain(replace(chain, steps=({"status": "done"}, {"status": "inflight"})))

    (found,) = ledger.chains(JOB)
    assert found.records == chain.records
    assert [s["status"] for s in found.steps] == ["done", "inflight"]
    assert ledger.chains("qa_due") == []
    ledger.delete_chain("c1")
    assert ledger.chains(JOB) == []


def test_a_chain_saved_again_keeps_its_actions_and_the_new_states(ledger: Ledger) -> None:
    """A chain is saved before and after each step with the same action objects (each is
    encoded once): what is read back is each step's latest state with its action intact,
    an action shared by two chains included, and an error redacted."""
    action = {"kind": "jira_internal_comment", "target": "SS-1", "text": "Ref: SS-1 · x"}
    other = {"kind": "slack_post", "target": "@alert-channel", "findings": [{"item": "SS-1"}]}
    chain = Chain(
        id="c1",
        job=JOB,
        records=(KEY,),
        steps=({"action": other, "status": "pending"}, {"action": action, "status": "pending"}),
        created_at=T0,
        updated_at=T0,
    )
    ledger.save_chain(chain)
    token = "xoxb-1234567890-abcdefghij"
    later = (
        {"action": other, "status": "done", "result": {"ts": "1.2"}},
        {"action": action, "status": "inflight", "attempts": 1, "error": f"echo {token}"},
    )
    ledger.save_chain(replace(chain, steps=later, updated_at=T0 + SECOND))
    ledger.save_chain(replace(chain, id="c2", steps=({"action": action, "status": "pending"},)))

    by_id = {c.id: c for c in ledger.chains(JOB)}
    first, second = by_id["c1"].steps
    assert first == {"action": other, "status": "done", "result": {"ts": "1.2"}}
    assert second["action"] == action and second["status"] == "inflight"
    assert second["attempts"] == 1 and token not in second["error"]
    assert by_id["c2"].steps == ({"action": action, "status": "pending"},)
    ledger.delete_chain("c1")
    assert [c.id for c in ledger.chains(JOB)] == ["c2"]


def test_a_chain_reopened_elsewhere_is_saved_whole_and_its_old_tail_dropped(
    ledger_url: str,
) -> None:
    """Another process (a run taking the chain over) knows nothing of what was saved: its
    first save writes every step, and steps past its last one are gone."""
    chain = Chain("c1", JOB, (KEY,), tuple({"status": "pending", "n": n} for n in range(4)), T0, T0)
    first = open_ledger(ledger_url)
    try:
        first.save_chain(chain)
    finally:
        first.close()
    shorter = replace(chain, steps=({"status": "done", "n": 0}, {"status": "pending", "n": 1}))
    second = open_ledger(ledger_url)
    try:
        second.save_chain(shorter)
        (found,) = second.chains(JOB)
        assert found.steps == shorter.steps
        assert second.counts()["chain_steps"] == 2
        second.delete_chain("c1")
        assert second.counts()["chain_steps"] == 0 and second.chains(JOB) == []
    finally:
        second.close()


def test_a_chain_deleted_elsewhere_is_written_whole_at_its_next_save(ledger_url: str) -> None:
    """Another process pruned or deleted the chain since this ledger saved it: the next save
    must write every step again, not only the one that changed."""
    steps = tuple({"status": "pending", "n": n} for n in range(4))
    chain = Chain("c1", JOB, (KEY,), steps, T0, T0)
    mine, other = open_ledger(ledger_url), open_ledger(ledger_url)
    try:
        mine.save_chain(chain)
        other.delete_chain("c1")
        later = (*steps[:3], {"status": "done", "n": 3})
        mine.save_chain(replace(chain, steps=later, updated_at=T0 + SECOND))
        (found,) = other.chains(JOB)
        assert found.steps == later
    finally:
        mine.close()
        other.close()


def test_a_chain_saved_shorter_loses_its_old_tail(ledger: Ledger) -> None:
    steps = tuple({"status": "pending", "n": n} for n in range(4))
    chain = Chain("c1", JOB, (KEY,), steps, T0, T0)
    ledger.save_chain(chain)
    ledger.save_chain(replace(chain, steps=steps[:2]))

    (found,) = ledger.chains(JOB)
    assert found.steps == steps[:2]


def test_a_chain_missing_a_step_is_refused_not_read_short(tmp_path: Path) -> None:
    """A step row gone (deleted by hand) would shift the steps after it; the chain is refused
    with a message saying so, rather than finished or dropped on a wrong reading."""
    path = tmp_path / "ledger.db"
    ledger = open_ledger(str(path))
    try:
        steps = tuple({"status": "pending", "n": n} for n in range(3))
        ledger.save_chain(Chain("c1", JOB, (KEY,), steps, T0, T0))
        with sqlite3.connect(path) as conn:
            conn.execute("DELETE FROM chain_steps WHERE chain = 'c1' AND position = 1")
        with pytest.raises(LedgerError, match="chain c1 of .* is missing steps"):
            ledger.chains(JOB)
    finally:
        ledger.close()


def test_a_save_writes_only_the_steps_that_changed(tmp_path: Path) -> None:
    """A chain is saved before and after each of its steps: with hundreds of steps, writing
    it whole each time would grow with the square of its length."""
    ledger = open_ledger(str(tmp_path / "ledger.db"))
    try:
        conn = ledger._conn  # type: ignore[attr-defined]
        steps = tuple({"action": {"n": n}, "status": "pending"} for n in range(200))
        chain = Chain("c1", JOB, (KEY,), steps, T0, T0)
        ledger.save_chain(chain)
        before = conn.total_changes
        one_done = (steps[0] | {"status": "done", "result": {"ts": "1.2"}}, *steps[1:])
        ledger.save_chain(replace(chain, steps=one_done, updated_at=T0 + SECOND))
        assert conn.total_changes - before == 2  # the chain's row and its first step
        (found,) = ledger.chains(JOB)
        assert found.steps == one_done and found.updated_at == T0 + SECOND
    finally:
        ledger.close()


def test_a_failed_save_is_written_again_by_the_next(tmp_path: Path) -> None:
    """What a save wrote is remembered only once committed: a save that failed (a locked or
    lost database) must not make the next one skip its steps."""
    ledger = open_ledger(str(tmp_path / "ledger.db"))
    try:
        steps = ({"action": {"n": 0}, "status": "pending"},)
        chain = Chain("c1", JOB, (KEY,), steps, T0, T0)
        ledger.save_chain(chain)
        done = ({"action": {"n": 0}, "status": "done"},)
        real = ledger._transaction  # type: ignore[attr-defined]

        def refused() -> object:
            raise sqlite3.OperationalError("database is locked")

        ledger._transaction = refused  # type: ignore[attr-defined]
        with pytest.raises(sqlite3.OperationalError):
            ledger.save_chain(replace(chain, steps=done))
        ledger._transaction = real  # type: ignore[attr-defined]
        ledger.save_chain(replace(chain, steps=done))
        (found,) = ledger.chains(JOB)
        assert found.steps == done
    finally:
        ledger.close()


def test_it_remembers_and_forgets_a_jobs_memory(ledger: Ledger) -> None:
    ledger.remember(JOB, {"SS-1": {"ts": "1"}, "SS-2": {"nested": {"n": [1, 2]}}}, now=T0)
    ledger.remember("qa_due", {"SS-3": {"ts": "3"}}, now=T0)
    ledger.remember(JOB, {"SS-1": None, "SS-2": {"ts": "2"}}, now=T0 + SECOND)

    assert ledger.memory(JOB) == {"SS-2": {"ts": "2"}}
    assert ledger.memory("nobody") == {}


def test_it_keeps_the_latest_instant_a_job_ran_as_of(ledger: Ledger) -> None:
    assert ledger.last_run(JOB) is None
    ledger.note_run(JOB, now=T0 + HOUR, run_id="run-b")
    ledger.note_run(JOB, now=T0, run_id="run-a")  # a replay of an earlier instant

    last = ledger.last_run(JOB)
    assert last is not None and (last.now, last.run_id) == (T0 + HOUR, "run-b")


def test_a_job_sees_a_read_only_ledger(ledger: Ledger) -> None:
    view = ReadOnlyLedger(ledger)
    for write in ("claim", "save_record", "save_chain", "remember", "record_decisions", "prune"):
        assert not hasattr(view, write), write
    assert view.records(JOB) == {}


# --- decisions ----------------------------------------------------------------------------


def test_it_returns_history_newest_first_across_jobs(ledger: Ledger) -> None:
    ledger.record_decisions(
        [
            decision(T0, job=JOB),
            decision(T0 + 2 * HOUR, job="qa_due", outcome="suppressed_silenced"),
            decision(T0 + HOUR, job="overdue_sheet", outcome="dry_run"),
            decision(T0 + 3 * HOUR, item="SS-99"),
        ]
    )

    history = ledger.history(ITEM)

    assert [(d.at, d.job, d.outcome) for d in history] == [
        (T0 + 2 * HOUR, "qa_due", "suppressed_silenced"),
        (T0 + HOUR, "overdue_sheet", "dry_run"),
        (T0, JOB, "sent"),
    ]
    assert [d.at for d in ledger.history(ITEM, limit=1)] == [T0 + 2 * HOUR]


def test_it_keeps_every_field_of_a_decision(ledger: Ledger) -> None:
    original = decision(T0)
    no_action = Decision(
        at=T0 + SECOND,
        run_id="run-b",
        job=JOB,
        rule=RULE,
        item=ITEM,
        episode="2025-03-03",
        outcome="suppressed_duplicate",
        reason="sent 5 minutes ago",
        facts={},
        action=None,
    )
    ledger.record_decisions([original, no_action])
    ledger.record_decisions([])

    newest, oldest = ledger.history(ITEM)

    assert newest == no_action
    assert oldest.facts == {"due": (T0 - HOUR).isoformat(), "minutes_late": 60, "assignee": None}
    assert oldest == replace(original, facts=oldest.facts)


def test_it_orders_decisions_of_the_same_instant_by_recording_order(ledger: Ledger) -> None:
    ledger.record_decisions([decision(T0, outcome="failed")])
    ledger.record_decisions([decision(T0, outcome="resolved")])

    assert [d.outcome for d in ledger.history(ITEM)] == ["resolved", "failed"]


def test_it_refuses_an_unknown_outcome() -> None:
    with pytest.raises(ValueError, match="unknown decision outcome"):
        decision(T0, outcome="posted")


def test_it_prunes_decisions_older_than_the_retention_but_keeps_a_year(ledger: Ledger) -> None:
    now = T0 + timedelta(days=800)
    ledger.record_decisions(
        [
            decision(now - timedelta(days=365)),
            decision(now - DECISION_RETENTION + SECOND),
            decision(now - DECISION_RETENTION - SECOND),
            decision(now - timedelta(days=700)),
        ]
    )

    assert ledger.prune(now=now, keep=DECISION_RETENTION)["decisions"] == 2

    kept = [d.at for d in ledger.history(ITEM)]
    assert kept == [now - timedelta(days=365), now - DECISION_RETENTION + SECOND]
    assert DECISION_RETENTION >= timedelta(days=365)
    assert ledger.prune(now=now)["decisions"] == 0


def test_it_prunes_what_can_no_longer_change_a_decision(ledger: Ledger) -> None:
    keep = timedelta(days=30)
    now = T0 + timedelta(days=60)
    live = RecordKey(JOB, RULE, "SS-1")  # open: still firing, whatever its age
    window_over = RecordKey(JOB, RULE, "SS-2")  # closed, its re-alert window has passed
    window_open = RecordKey(JOB, RULE, "SS-3")  # closed, its window still suppresses
    once = RecordKey(JOB, RULE, "SS-4")  # closed once-only send, within the retention
    for key, record, until in (
        (live, sent(live, at=now - timedelta(days=2)), None),
        (window_over, sent(window_over, at=now - 2 * HOUR), now - HOUR),
        (window_open, sent(window_open, at=now - HOUR), now + SECOND),
        (once, sent(once, at=now - timedelta(days=2), realert=None), now + timedelta(days=28)),
    ):
        assert claim(ledger, now=now, key=key)
        if until is not None:
            record = replace(record, status=RecordStatus.CLOSED, closed_at=now - HOUR)
        ledger.save_record(record, now=now, run_id="run-a", keep_until=until)
        ledger.release(key, run_id="run-a")
    assert claim(ledger, now=now - keep - HOUR, key=RecordKey(JOB, RULE, "SS-5"), run_id="died")
    ledger.add_silence("SS-6", job=None, reason="x", author="me", now=T0, until=T0 + HOUR)
    ledger.add_silence("SS-7", job=None, reason="x", author="me", now=now, until=now + HOUR)
    ledger.save_chain(Chain("old", JOB, (live,), ({"status": "pending"},), T0, T0))

    deleted = ledger.prune(now=now, keep=keep)

    assert set(ledger.records(JOB)) == {live, window_open, once}
    assert deleted["alerts"] == 2  # the window that is over, the claim never followed by a send
    assert [s.item for s in ledger.silences(now=now, include_expired=True)] == ["SS-7"]
    assert ledger.chains(JOB) == []
    assert deleted["chain_steps"] == 1 and ledger.counts()["chain_steps"] == 0


def test_it_knows_every_item_it_has_a_record_silence_or_decision_of(ledger: Ledger) -> None:
    claim(ledger, now=T0, key=RecordKey(JOB, RULE, "SS-1"))
    ledger.add_silence(
        "sheet:canyon creek", job=None, reason="r", author="a", now=T0, until=T0 + HOUR
    )
    ledger.record_decisions([decision(T0, item="SS-2"), decision(T0, item="SS-1")])

    assert ledger.items() == {"SS-1", "SS-2", "sheet:canyon creek"}
    assert ReadOnlyLedger(ledger).items() == ledger.items()


# --- silences -----------------------------------------------------------------------------


def test_an_item_wide_silence_matches_every_job(ledger: Ledger) -> None:
    silence = ledger.add_silence(
        ITEM, job=None, reason="customer on holiday", author="support lead", now=T0, until=T0 + HOUR
    )

    assert silence.item == ITEM and silence.job is None and silence.created == T0
    assert ledger.active_silence(JOB, ITEM, now=T0 + SECOND) == silence
    assert ledger.active_silence("qa_due", ITEM, now=T0 + SECOND) == silence
    assert ledger.active_silence(JOB, "SS-13", now=T0 + SECOND) is None


def test_a_job_silence_matches_only_that_job(ledger: Ledger) -> None:
    silence = ledger.add_silence(
        ITEM, job=JOB, reason="waiting on financier", author="support lead", now=T0, until=T0 + HOUR
    )

    assert ledger.active_silence(JOB, ITEM, now=T0) == silence
    assert ledger.active_silence("qa_due", ITEM, now=T0) is None


def test_a_silence_ends_at_its_expiry(ledger: Ledger) -> None:
    silence = ledger.add_silence(
        ITEM, job=None, reason="r", author="support lead", now=T0, until=T0 + HOUR
    )

    assert ledger.active_silence(JOB, ITEM, now=T0 + HOUR - SECOND) == silence
    assert ledger.active_silence(JOB, ITEM, now=T0 + HOUR) is None
    assert ledger.silences(now=T0 + HOUR) == []
    assert ledger.silences(now=T0 + HOUR, include_expired=True) == [silence]


def test_it_prefers_the_silence_that_lasts_longest(ledger: Ledger) -> None:
    ledger.add_silence(ITEM, job=None, reason="short", author="a", now=T0, until=T0 + HOUR)
    longest = ledger.add_silence(
        ITEM, job=JOB, reason="long", author="b", now=T0, until=T0 + 5 * HOUR
    )

    assert ledger.active_silence(JOB, ITEM, now=T0) == longest


def test_it_expires_a_silence_early_once(ledger: Ledger) -> None:
    silence = ledger.add_silence(
        ITEM, job=None, reason="r", author="support lead", now=T0, until=T0 + HOUR
    )
    other = ledger.add_silence("SS-13", job=JOB, reason="r", author="a", now=T0, until=T0 + HOUR)

    assert ledger.expire_silence(silence.id, now=T0 + SECOND)
    assert not ledger.expire_silence(silence.id, now=T0 + 2 * SECOND)
    assert not ledger.expire_silence(987654, now=T0 + 2 * SECOND)

    assert ledger.active_silence(JOB, ITEM, now=T0 + 2 * SECOND) is None
    assert ledger.silences(now=T0 + 2 * SECOND) == [other]
    expired = ledger.silences(now=T0 + 2 * SECOND, include_expired=True)
    assert [(s.id, s.expires) for s in expired] == [
        (silence.id, T0 + SECOND),
        (other.id, T0 + HOUR),
    ]


def test_it_adds_a_silence_only_when_none_already_lasts_long_enough(ledger: Ledger) -> None:
    def snooze(until: datetime, covered_until: datetime, now: datetime = T0) -> tuple[Any, bool]:
        return ledger.add_silence_unless_covered(
            ITEM,
            job=JOB,
            reason="Snooze",
            author="a",
            now=now,
            until=until,
            covered_until=covered_until,
        )

    first, added = snooze(T0 + HOUR, T0 + HOUR - 5 * 60 * SECOND)
    assert added
    again, added_again = snooze(T0 + HOUR + SECOND, T0 + HOUR - 4 * 60 * SECOND, T0 + SECOND)
    assert (again, added_again) == (first, False)  # the same press twice: one silence

    longer, added_longer = snooze(T0 + 2 * HOUR, T0 + 2 * HOUR - 60 * SECOND)
    assert added_longer and longer.expires == T0 + 2 * HOUR
    # Every job's silence covers this job's item too.
    everyone = ledger.add_silence(
        ITEM, job=None, reason="r", author="b", now=T0, until=T0 + 9 * HOUR
    )
    assert snooze(T0 + 3 * HOUR, T0 + 3 * HOUR) == (everyone, False)
    assert len(ledger.silences(now=T0)) == 3


def test_presses_at_once_add_one_silence(ledger: Ledger, ledger_url: str) -> None:
    """Eight presses of one snooze button at the same moment, each on its own connection (as
    the listener's threads or two hosts would be): one silence, and every press is told of it."""
    presses = 8
    barrier = threading.Barrier(presses)
    results: list[tuple[Any, bool]] = []

    def press(person: str) -> None:
        own = open_ledger(ledger_url)
        try:
            barrier.wait(60)
            results.append(
                own.add_silence_unless_covered(
                    ITEM,
                    job=JOB,
                    reason="Snooze 4 h from Slack",
                    author=person,
                    now=T0,
                    until=T0 + 4 * HOUR,
                    covered_until=T0 + 4 * HOUR - 5 * 60 * SECOND,
                )
            )
        finally:
            own.close()

    assert in_threads(press, [f"person-{n}" for n in range(presses)]) == []
    [silence] = ledger.silences(now=T0)
    assert sorted(added for _, added in results) == [False] * (presses - 1) + [True]
    assert {s.id for s, _ in results} == {silence.id}


@pytest.mark.parametrize(
    ("reason", "author", "until", "message"),
    [
        ("", "support lead", T0 + HOUR, "reason"),
        ("r", " ", T0 + HOUR, "author"),
        ("r", "support lead", T0, "not after now"),
    ],
    ids=["no-reason", "no-author", "already-expired"],
)
def test_it_refuses_a_silence_that_could_not_be_explained_later(
    ledger: Ledger, reason: str, author: str, until: datetime, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ledger.add_silence(ITEM, job=None, reason=reason, author=author, now=T0, until=until)
    assert ledger.silences(now=T0, include_expired=True) == []


# --- opening ------------------------------------------------------------------------------


def test_it_keeps_everything_across_reopening(ledger_url: str) -> None:
    with_data = open_ledger(ledger_url)
    assert claim(with_data, now=T0)
    with_data.save_record(sent(), now=T0, run_id="run-a", keep_until=None)
    with_data.remember(JOB, {ITEM: {"ts": "1"}}, now=T0)
    with_data.close()

    reopened = open_ledger(ledger_url)
    try:
        found = record_of(reopened)
        assert found is not None and found.last_sent_at == T0
        assert reopened.memory(JOB) == {ITEM: {"ts": "1"}}
    finally:
        reopened.close()


@pytest.mark.parametrize("spelling", ["bare", "sqlite-url"])
def test_it_creates_the_sqlite_file_its_directory_and_schema(tmp_path: Path, spelling: str) -> None:
    path = tmp_path / "deep" / "state" / "ledger.db"
    url = str(path) if spelling == "bare" else f"sqlite:///{path}"

    open_ledger(url).close()

    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_it_uses_the_default_path_without_a_url(tmp_path: Path) -> None:
    default = tmp_path / ".state" / "ledger.db"

    open_ledger(None, default_path=str(default)).close()

    assert default.exists()


def test_it_names_the_setting_when_the_scheme_is_unknown() -> None:
    with pytest.raises(ValueError, match="JOBS_LEDGER_URL") as excinfo:
        open_ledger("mysql://ops:hunter2@db.internal/sla")
    assert "hunter2" not in str(excinfo.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://sla:s3cret@db:5432/sla", "postgresql://sla:***@db:5432/sla"),
        ("postgres://sla@db/sla", "postgres://sla@db/sla"),
        (
            "postgresql://db/sla?user=sla&password=s3cret&sslmode=require",
            "postgresql://db/sla?user=sla&password=***&sslmode=require",
        ),
        ("sqlite:///.state/ledger.db", "sqlite:///.state/ledger.db"),
        (".state/ledger.db", ".state/ledger.db"),
    ],
)
def test_it_redacts_passwords_from_urls(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.postgres
def test_it_accepts_the_short_postgres_scheme(postgres_schema_url: str) -> None:
    short = "postgres://" + postgres_schema_url.split("://", 1)[1]

    opened = open_ledger(short)
    try:
        assert claim(opened, now=T0)
    finally:
        opened.close()


def test_it_explains_an_unreachable_postgres_without_its_password() -> None:
    # Port 1 on loopback: refused at once, no server and no network needed.
    with pytest.raises(LedgerError, match="JOBS_LEDGER_URL") as excinfo:
        open_ledger("postgresql://sla:hunter2@127.0.0.1:1/sla?connect_timeout=2")
    assert "hunter2" not in str(excinfo.value)
    assert "sla:***@127.0.0.1:1" in str(excinfo.value)


def test_decisions_are_stored_redacted_by_the_ledger_itself(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decision log's one redaction is where it is written: whatever hands the ledger a
    decision (the pipeline, `why`, a test), no secret reaches a row."""
    from jobs import secrets

    token = "DO-NOT-LEAK-decision-token-0001"
    monkeypatch.setattr(secrets, "_current", secrets.Redactor([token]))
    leaky = replace(
        decision(T0),
        reason=f"slack: {token} rejected",
        facts={"echo": token, "nested": [{"key": token}], "minutes_late": 60},
        action=f"slack_post #c {token}",
    )
    ledger.record_decisions([leaky])

    [stored] = ledger.history(ITEM)
    shown = f"{stored.reason} {stored.facts} {stored.action}"
    assert token not in shown
    assert stored.reason == f"slack: {secrets.REDACTED} rejected"
    assert stored.facts["minutes_late"] == 60
