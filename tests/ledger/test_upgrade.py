"""A ledger the first release wrote (schema 1) upgrades in place, on every backend.

Schema 1 is written here as that release wrote it: its tables, and rows a running desk had
(sends, an open first-response episode with its Slack message, a grouped message, the sheet
job's memory, first sightings, decisions, a silence). Opening it with today's code must keep
what can change a decision and drop what chains now hold, so nothing is sent twice after an
upgrade.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobs.ledger import SCHEMA_VERSION, open_ledger
from jobs.ledger.postgres import POSTGRES
from jobs.ledger.sql import render
from jobs.ledger.sqlite import SQLITE
from jobs.model import RecordKey, RecordStatus, Severity

T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
FIRST_RESPONSE = "unassigned_first_response"

SCHEMA_1 = """
CREATE TABLE schema_version (version {integer} PRIMARY KEY, applied_at {instant} NOT NULL);
CREATE TABLE dedup (
    job {text} NOT NULL, rule {text} NOT NULL, item {text} NOT NULL,
    episode {text} NOT NULL DEFAULT '', last_sent_at {instant}, claimed_by {text},
    claimed_at {instant}, PRIMARY KEY (job, rule, item, episode)
);
CREATE TABLE item_state (
    job {text} NOT NULL, item {text} NOT NULL, state {json} NOT NULL,
    updated_at {instant} NOT NULL, PRIMARY KEY (job, item)
);
CREATE TABLE first_seen (
    job {text} NOT NULL, item {text} NOT NULL, seen_at {instant} NOT NULL,
    PRIMARY KEY (job, item)
);
CREATE TABLE decisions (
    id {row_id}, at {instant} NOT NULL, run_id {text} NOT NULL, job {text} NOT NULL,
    rule {text} NOT NULL, item {text} NOT NULL, episode {text} NOT NULL,
    outcome {text} NOT NULL, reason {text} NOT NULL, facts {json} NOT NULL, action {text}
);
CREATE TABLE silences (
    id {row_id}, item {text} NOT NULL, job {text}, reason {text} NOT NULL,
    author {text} NOT NULL, created {instant} NOT NULL, expires {instant} NOT NULL
)
"""

EPISODE = (T0 - timedelta(hours=1)).isoformat()
CARD = {"key": "SS-121", "url": "https://desk/browse/SS-121", "summary": "x", "tier": "breach"}
ROWS: list[tuple[str, dict[str, Any]]] = [
    ("INSERT INTO schema_version VALUES (:version, :at)", {"version": 1, "at": T0}),
    # A reminder DM (re-sent daily) and a once-only reply: both must stay sent.
    (
        "INSERT INTO dedup VALUES (:job, :rule, :item, :episode, :sent, NULL, NULL)",
        {"job": "approval_reminder", "rule": "approval_overdue", "item": "SS-301",
         "episode": "ask-7", "sent": T0 - timedelta(hours=2)},
    ),
    (
        "INSERT INTO dedup VALUES (:job, :rule, :item, :episode, :sent, NULL, NULL)",
        {"job": "onboard_reset_reminder", "rule": "onboard_reset", "item": "SS-401",
         "episode": "2026-W48", "sent": T0 - timedelta(days=1)},
    ),
    # An open first-response episode: warning then breach on one message of its own...
    *[
        (
            "INSERT INTO dedup VALUES (:job, :rule, :item, :episode, :sent, NULL, NULL)",
            {"job": FIRST_RESPONSE, "rule": tier, "item": "SS-121", "episode": EPISODE,
             "sent": T0 - timedelta(minutes=m)},
        )
        for tier, m in (("warning", 60), ("breach", 30))
    ],
    (
        "INSERT INTO item_state VALUES (:job, :item, :state, :at)",
        {"job": FIRST_RESPONSE, "item": "SS-121", "at": T0, "state": json.dumps({
            "episode": EPISODE, "tier": "breach", "channel": "C01", "ts": "1700000000.000100",
            "card": CARD, "group": None, "first_alerted_at": (T0 - timedelta(hours=1)).isoformat(),
            "posts": {"root": 1, "replies": {"breach": 1}},
        })},
    ),
    # ...and one ticket on a grouped message, whose group row holds the members' cards.
    (
        "INSERT INTO item_state VALUES (:job, :item, :state, :at)",
        {"job": FIRST_RESPONSE, "item": "SS-122", "at": T0, "state": json.dumps({
            "episode": EPISODE, "tier": "warning", "channel": "C01", "ts": "1700000000.000200",
            "card": {**CARD, "key": "SS-122", "tier": "warning"},
            "group": "group:C01:1700000000.000200",
            "first_alerted_at": (T0 - timedelta(minutes=20)).isoformat(), "posts": {"root": 1},
        })},
    ),
    (
        "INSERT INTO item_state VALUES (:job, :item, :state, :at)",
        {"job": FIRST_RESPONSE, "item": "group:C01:1700000000.000200", "at": T0,
         "state": json.dumps({"channel": "C01", "ts": "1700000000.000200", "members": {}})},
    ),
    # The sheet job's memory stays; another job's bookkeeping of steps in flight goes.
    (
        "INSERT INTO item_state VALUES (:job, :item, :state, :at)",
        {"job": "onboarding_missing_ticket", "item": "sheet:acme", "at": T0,
         "state": json.dumps({"account": "Acme", "ticket": "SS-9"})},
    ),
    (
        "INSERT INTO item_state VALUES (:job, :item, :state, :at)",
        {"job": "channel_partner_request", "item": "handled:SS-500:replied", "at": T0,
         "state": json.dumps({"event": "replied", "done": True})},
    ),
    (
        "INSERT INTO first_seen VALUES (:job, :item, :at)",
        {"job": FIRST_RESPONSE, "item": "SS-121", "at": T0 - timedelta(hours=1)},
    ),
    (
        "INSERT INTO decisions (at, run_id, job, rule, item, episode, outcome, reason, facts,"
        " action) VALUES (:at, 'r1', :job, 'breach', 'SS-121', '', 'sent', 'sent', '{{}}', NULL)",
        {"at": T0, "job": FIRST_RESPONSE},
    ),
    (
        "INSERT INTO silences (item, job, reason, author, created, expires)"
        " VALUES ('SS-9', NULL, 'on hold', 'maya', :at, :until)",
        {"at": T0, "until": T0 + timedelta(days=30)},
    ),
]  # fmt: skip


@contextmanager
def schema_1(url: str) -> Iterator[Any]:
    """A connection to write schema 1 with, and the dialect to spell it in."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            yield conn, SQLITE
            conn.commit()
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as pg:
        yield pg, POSTGRES


def write_schema_1(url: str) -> None:
    from pathlib import Path

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    with schema_1(url) as (conn, dialect):
        for statement in render(dialect, SCHEMA_1).split(";"):
            conn.execute(statement, {})
        for statement, params in ROWS:
            values = {
                k: dialect.encode_instant(v) if isinstance(v, datetime) else v
                for k, v in params.items()
            }
            sql = render(dialect, statement)
            if dialect is POSTGRES:
                sql = sql.replace("'{}'", "'{}'::jsonb")
            conn.execute(sql, values)


def test_a_first_release_ledger_upgrades_in_place_without_sending_anything_twice(
    ledger_url: str,
) -> None:
    write_schema_1(ledger_url)

    ledger = open_ledger(ledger_url)
    try:
        counts = ledger.counts()
        assert ledger.schema_version() == SCHEMA_VERSION == 3
        # Sent once: still sent (their records are closed, kept for the retention period).
        day, two_hours = timedelta(days=1), timedelta(hours=2)
        for job, alert, item, episode, sent in (
            ("approval_reminder", "approval_overdue", "SS-301", "ask-7", T0 - two_hours),
            ("onboard_reset_reminder", "onboard_reset", "SS-401", "2026-W48", T0 - day),
        ):
            key = RecordKey(job, alert, item, episode)
            record = ledger.records(job, keys=[key])[key]
            assert record.last_sent_at == sent and record.status is RecordStatus.CLOSED
        # The open episode keeps its tier and its message: the next run edits it in place.
        records = ledger.records(FIRST_RESPONSE)
        ticket = records[RecordKey(FIRST_RESPONSE, "first_response", "SS-121")]
        assert ticket.is_open and ticket.tier is Severity.BREACH
        message = records[RecordKey(FIRST_RESPONSE, "message", str(ticket.store["message"]))]
        assert (message.store["channel"], message.store["ts"]) == ("C01", "1700000000.000100")
        assert message.store["members"] == ["SS-121"]
        grouped = records[RecordKey(FIRST_RESPONSE, "first_response", "SS-122")]
        group = records[RecordKey(FIRST_RESPONSE, "message", "group:C01:1700000000.000200")]
        assert grouped.store["message"] == "group:C01:1700000000.000200"
        assert group.store["members"] == ["SS-122"] and group.store["ts"] == "1700000000.000200"
        # The per-tier rows of that episode are carried by its record, not copied beside it.
        assert not [k for k in records if k.alert in ("warning", "breach")]
        assert ledger.memory("onboarding_missing_ticket") == {
            "sheet:acme": {"account": "Acme", "ticket": "SS-9"}
        }
        assert ledger.memory("channel_partner_request") == {}
        assert [d.item for d in ledger.history("SS-121")] == ["SS-121"]
        assert [s.item for s in ledger.silences(now=T0)] == ["SS-9"]
        assert set(counts) == {
            "alerts",
            "chains",
            "chain_steps",
            "item_state",
            "runs",
            "decisions",
            "silences",
        }
    finally:
        ledger.close()

    reopened = open_ledger(ledger_url)  # a second open changes nothing
    try:
        assert reopened.counts() == counts
    finally:
        reopened.close()


@pytest.mark.parametrize("runs", [2])
def test_two_processes_opening_the_old_ledger_at_once_upgrade_it_once(
    ledger_url: str, runs: int
) -> None:
    import multiprocessing

    write_schema_1(ledger_url)
    context = multiprocessing.get_context("spawn")
    with context.Pool(runs) as pool:
        counts = pool.map(_open_and_count, [ledger_url] * runs)
    assert counts[0] == counts[1]
    assert counts[0]["alerts"] == 6  # two sends, two tickets and their two messages


def _open_and_count(url: str) -> dict[str, int]:
    ledger = open_ledger(url)
    try:
        return ledger.counts()
    finally:
        ledger.close()


def test_a_chain_a_schema_2_release_wrote_whole_is_read_and_moved_to_rows(
    ledger_url: str,
) -> None:
    """Schema 2 kept a chain's steps in its body; a run of this release must still finish it
    (its DM sent, its comment not yet), and its next save moves the steps into rows."""
    open_ledger(ledger_url).close()  # today's tables; the row below is as schema 2 wrote it
    steps = [
        {"action": {"kind": "slack_dm", "target": "david@example.com"}, "status": "done",
         "result": {"ts": "1.2"}},
        {"action": {"kind": "jira_internal_comment", "target": "SS-301"}, "status": "pending"},
    ]  # fmt: skip
    body = {"records": [{"job": "approval_reminder", "alert": "approval_overdue",
                         "item": "SS-301", "episode": "ask-7"}], "steps": steps}  # fmt: skip
    with schema_1(ledger_url) as (conn, dialect):
        sql = render(
            dialect,
            "INSERT INTO chains (id, job, body, created_at, updated_at)"
            " VALUES ('c-old', 'approval_reminder', :body, :at, :at)",
        )
        conn.execute(sql, {"body": json.dumps(body), "at": dialect.encode_instant(T0)})

    ledger = open_ledger(ledger_url)
    try:
        (chain,) = ledger.chains("approval_reminder")
        assert list(chain.steps) == steps
        key = RecordKey("approval_reminder", "approval_overdue", "SS-301", "ask-7")
        assert chain.records == (key,)
        steps[1] = {**steps[1], "status": "done"}
        ledger.save_chain(replace(chain, steps=tuple(steps)))
        (saved,) = ledger.chains("approval_reminder")
        assert list(saved.steps) == steps and ledger.counts()["chain_steps"] == 2
    finally:
        ledger.close()
