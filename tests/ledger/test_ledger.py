"""The ledger's contract, proved against every backend by the ``ledger`` fixture."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

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

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)
TTL = timedelta(minutes=10)

JOB = "first_response_sla"
RULE = "breach"
ITEM = "SS-12"


def claim(
    ledger: Ledger,
    *,
    now: datetime,
    run_id: str = "run-a",
    realert: timedelta | None = HOUR,
    item: str = ITEM,
    episode: str = "",
    job: str = JOB,
    rule: str = RULE,
) -> bool:
    return ledger.claim(
        job, rule, item, episode, now=now, realert=realert, run_id=run_id, claim_ttl=TTL
    )


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


# --- claim / mark_sent / release ----------------------------------------------------------


def test_it_lets_the_first_run_claim_an_item_never_sent(ledger: Ledger) -> None:
    assert ledger.last_sent(JOB, RULE, ITEM) is None
    assert claim(ledger, now=T0)


def test_it_refuses_a_second_run_while_the_first_holds_the_claim(ledger: Ledger) -> None:
    assert claim(ledger, now=T0, run_id="run-a")
    assert not claim(ledger, now=T0 + timedelta(minutes=9), run_id="run-b")


def test_it_lets_the_holder_claim_again(ledger: Ledger) -> None:
    assert claim(ledger, now=T0, run_id="run-a")
    assert claim(ledger, now=T0 + SECOND, run_id="run-a")


def test_it_records_the_send_and_frees_the_claim_on_mark_sent(ledger: Ledger) -> None:
    assert claim(ledger, now=T0, run_id="run-a")
    ledger.mark_sent(JOB, RULE, ITEM, "", now=T0 + SECOND, run_id="run-a")

    assert ledger.last_sent(JOB, RULE, ITEM) == T0 + SECOND
    # Inside the re-alert window the answer is "duplicate", not "someone else holds it".
    assert not claim(ledger, now=T0 + 2 * SECOND, run_id="run-b")
    assert claim(ledger, now=T0 + SECOND + HOUR, run_id="run-b")


def test_it_frees_the_claim_without_recording_a_send_on_release(ledger: Ledger) -> None:
    assert claim(ledger, now=T0, run_id="run-a")
    ledger.release(JOB, RULE, ITEM, "", run_id="run-a")

    assert ledger.last_sent(JOB, RULE, ITEM) is None
    assert claim(ledger, now=T0 + SECOND, run_id="run-b")


def test_it_ignores_a_release_by_a_run_that_does_not_hold_the_claim(ledger: Ledger) -> None:
    assert claim(ledger, now=T0, run_id="run-a")
    ledger.release(JOB, RULE, ITEM, "", run_id="run-b")

    assert not claim(ledger, now=T0 + SECOND, run_id="run-b")


def test_it_records_a_send_that_was_never_claimed(ledger: Ledger) -> None:
    ledger.mark_sent(JOB, RULE, ITEM, "", now=T0, run_id="run-a")

    assert ledger.last_sent(JOB, RULE, ITEM) == T0
    assert not claim(ledger, now=T0 + SECOND)


def test_it_keeps_another_runs_takeover_claim_when_a_late_run_marks_sent(ledger: Ledger) -> None:
    assert claim(ledger, now=T0, run_id="run-slow", realert=None)
    assert claim(ledger, now=T0 + TTL, run_id="run-next", realert=None)
    ledger.mark_sent(JOB, RULE, ITEM, "", now=T0 + TTL + SECOND, run_id="run-slow")

    assert ledger.last_sent(JOB, RULE, ITEM) == T0 + TTL + SECOND
    # A zero re-alert window leaves only run-next's claim to stop a third run.
    zero = timedelta(0)
    assert not claim(ledger, now=T0 + TTL + 2 * SECOND, run_id="run-third", realert=zero)


@pytest.mark.parametrize(
    ("age", "expected"),
    [(HOUR - SECOND, False), (HOUR, True), (HOUR + SECOND, True)],
    ids=["one-second-early", "exactly-at-the-window", "one-second-late"],
)
def test_it_realerts_once_the_window_has_passed(
    ledger: Ledger, age: timedelta, expected: bool
) -> None:
    ledger.mark_sent(JOB, RULE, ITEM, "", now=T0, run_id="run-a")

    assert claim(ledger, now=T0 + age, run_id="run-b", realert=HOUR) is expected


def test_it_alerts_only_once_ever_when_realert_is_none(ledger: Ledger) -> None:
    assert claim(ledger, now=T0, realert=None)
    ledger.mark_sent(JOB, RULE, ITEM, "", now=T0, run_id="run-a")

    assert not claim(ledger, now=T0 + timedelta(days=3650), run_id="run-b", realert=None)


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


def test_it_keeps_episodes_independent(ledger: Ledger) -> None:
    ledger.mark_sent(JOB, RULE, ITEM, "2025-03-01", now=T0, run_id="run-a")

    assert not claim(ledger, now=T0 + SECOND, episode="2025-03-01", realert=None)
    assert claim(ledger, now=T0 + SECOND, episode="2025-03-03", realert=None)
    assert ledger.last_sent(JOB, RULE, ITEM, "2025-03-01") == T0
    assert ledger.last_sent(JOB, RULE, ITEM) is None


def test_it_keeps_jobs_rules_and_items_independent(ledger: Ledger) -> None:
    ledger.mark_sent(JOB, RULE, ITEM, "", now=T0, run_id="run-a")

    assert claim(ledger, now=T0, job="qa_due", realert=None)
    assert claim(ledger, now=T0, rule="warning", realert=None)
    assert claim(ledger, now=T0, item="SS-13", realert=None)


def test_it_refuses_naive_datetimes(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        claim(ledger, now=datetime(2025, 3, 3, 9, 0))


def test_it_returns_utc_whatever_zone_it_was_given(ledger: Ledger) -> None:
    new_york = timezone(timedelta(hours=-5))
    ledger.mark_sent(JOB, RULE, ITEM, "", now=T0.astimezone(new_york), run_id="run-a")

    sent = ledger.last_sent(JOB, RULE, ITEM)
    assert sent == T0
    assert sent is not None and sent.utcoffset() == timedelta(0)


# --- per-item state -----------------------------------------------------------------------


def test_it_stores_replaces_and_deletes_item_state(ledger: Ledger) -> None:
    assert ledger.get_state(JOB, ITEM) is None

    ledger.put_state(JOB, ITEM, {"ts": "1741000000.000100", "channel": "C1"}, now=T0)
    assert ledger.get_state(JOB, ITEM) == {"ts": "1741000000.000100", "channel": "C1"}

    ledger.put_state(JOB, ITEM, {"ts": "1741000999.000200"}, now=T0 + SECOND)
    assert ledger.get_state(JOB, ITEM) == {"ts": "1741000999.000200"}

    ledger.put_state(JOB, ITEM, None, now=T0 + 2 * SECOND)
    assert ledger.get_state(JOB, ITEM) is None
    ledger.put_state(JOB, ITEM, None, now=T0 + 3 * SECOND)


def test_it_lists_the_open_states_of_one_job(ledger: Ledger) -> None:
    ledger.put_state(JOB, "SS-1", {"ts": "1"}, now=T0)
    ledger.put_state(JOB, "SS-2", {"ts": "2", "nested": {"n": [1, 2]}}, now=T0)
    ledger.put_state("qa_due", "SS-3", {"ts": "3"}, now=T0)

    assert ledger.open_states(JOB) == {
        "SS-1": {"ts": "1"},
        "SS-2": {"ts": "2", "nested": {"n": [1, 2]}},
    }
    assert ledger.open_states("nobody") == {}


def test_it_keeps_the_first_seen_instant(ledger: Ledger) -> None:
    assert ledger.first_seen(JOB, ITEM, now=T0) == T0
    assert ledger.first_seen(JOB, ITEM, now=T0 + HOUR) == T0
    assert ledger.first_seen("qa_due", ITEM, now=T0 + HOUR) == T0 + HOUR


def test_it_starts_the_grace_period_again_after_forget_first_seen(ledger: Ledger) -> None:
    ledger.first_seen(JOB, ITEM, now=T0)
    ledger.forget_first_seen(JOB, ITEM)
    ledger.forget_first_seen(JOB, "never-seen")

    assert ledger.first_seen(JOB, ITEM, now=T0 + HOUR) == T0 + HOUR


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

    assert ledger.prune(now=now, keep=DECISION_RETENTION) == 2

    kept = [d.at for d in ledger.history(ITEM)]
    assert kept == [now - timedelta(days=365), now - DECISION_RETENTION + SECOND]
    assert DECISION_RETENTION >= timedelta(days=365)
    assert ledger.prune(now=now) == 0


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
    with_data.mark_sent(JOB, RULE, ITEM, "", now=T0, run_id="run-a")
    with_data.put_state(JOB, ITEM, {"ts": "1"}, now=T0)
    with_data.close()

    reopened = open_ledger(ledger_url)
    try:
        assert reopened.last_sent(JOB, RULE, ITEM) == T0
        assert reopened.get_state(JOB, ITEM) == {"ts": "1"}
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
        assert opened.first_seen(JOB, ITEM, now=T0) == T0
    finally:
        opened.close()


def test_it_explains_an_unreachable_postgres_without_its_password() -> None:
    # Port 1 on loopback: refused at once, no server and no network needed.
    with pytest.raises(LedgerError, match="JOBS_LEDGER_URL") as excinfo:
        open_ledger("postgresql://sla:hunter2@127.0.0.1:1/sla?connect_timeout=2")
    assert "hunter2" not in str(excinfo.value)
    assert "sla:***@127.0.0.1:1" in str(excinfo.value)
