"""SQLite ledger: one file, safe for overlapping runs (threads and processes).

Why it is safe:
- WAL mode lets readers proceed while one run writes;
- every write runs in ``BEGIN IMMEDIATE``, which takes the write lock up front, so a
  read-then-write never has to upgrade its lock (the upgrade is where SQLite gives up with
  "database is locked" without waiting);
- ``busy_timeout`` makes a second process wait for the lock instead of failing;
- one connection per ``SqliteLedger``, shared by threads under a lock.

Instants are stored as fixed-width UTC ISO-8601 text (microseconds, ``+00:00``), so text
order is time order and SQL comparisons on them are correct.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jobs.ledger.base import (
    DECISION_RETENTION,
    SCHEMA_VERSION,
    Decision,
    LedgerError,
    Silence,
    check_silence,
    claim_cutoffs,
    from_json,
    to_json,
    utc,
)

BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dedup (
    job          TEXT NOT NULL,
    rule         TEXT NOT NULL,
    item         TEXT NOT NULL,
    episode      TEXT NOT NULL DEFAULT '',
    last_sent_at TEXT,
    claimed_by   TEXT,
    claimed_at   TEXT,
    PRIMARY KEY (job, rule, item, episode)
);
CREATE TABLE IF NOT EXISTS item_state (
    job        TEXT NOT NULL,
    item       TEXT NOT NULL,
    state      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (job, item)
);
CREATE TABLE IF NOT EXISTS first_seen (
    job     TEXT NOT NULL,
    item    TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (job, item)
);
CREATE TABLE IF NOT EXISTS decisions (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    run_id  TEXT NOT NULL,
    job     TEXT NOT NULL,
    rule    TEXT NOT NULL,
    item    TEXT NOT NULL,
    episode TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason  TEXT NOT NULL,
    facts   TEXT NOT NULL,
    action  TEXT
);
CREATE INDEX IF NOT EXISTS decisions_item_at ON decisions (item, at);
CREATE INDEX IF NOT EXISTS decisions_at ON decisions (at);
CREATE TABLE IF NOT EXISTS silences (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    item    TEXT NOT NULL,
    job     TEXT,
    reason  TEXT NOT NULL,
    author  TEXT NOT NULL,
    created TEXT NOT NULL,
    expires TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS silences_item ON silences (item, expires);
"""

# One statement decides and takes the claim: insert a fresh row, or update the existing one
# only when it is claimable; RETURNING yields a row exactly when this run got the claim.
_CLAIM = """
INSERT INTO dedup (job, rule, item, episode, claimed_by, claimed_at)
VALUES (:job, :rule, :item, :episode, :run_id, :now)
ON CONFLICT (job, rule, item, episode) DO UPDATE
   SET claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at
 WHERE (dedup.last_sent_at IS NULL
        OR (:resend_cutoff IS NOT NULL AND dedup.last_sent_at <= :resend_cutoff))
   AND (dedup.claimed_by IS NULL
        OR dedup.claimed_by = excluded.claimed_by
        OR dedup.claimed_at <= :claim_cutoff)
RETURNING claimed_by
"""


def _ts(instant: datetime) -> str:
    return utc(instant).isoformat(timespec="microseconds")


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def _req_dt(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


class SqliteLedger:
    """The ledger in one SQLite file (the default for a single scheduled host)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,  # we issue BEGIN ourselves
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise LedgerError(
                f"cannot open the SQLite ledger at {self.path}: {exc}. "
                "Check the directory is writable or set JOBS_LEDGER_URL."
            ) from exc
        self._lock = threading.RLock()
        self._conn.row_factory = sqlite3.Row
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
        self._create_schema()

    # --- plumbing -------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _create_schema(self) -> None:
        with self._write() as conn:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(
                "INSERT OR IGNORE INTO schema_version (version, applied_at) VALUES (?, ?)",
                (SCHEMA_VERSION, _ts(datetime.now(UTC))),
            )

    def __enter__(self) -> SqliteLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- dedup ----------------------------------------------------------------------------

    def last_sent(self, job: str, rule: str, item: str, episode: str = "") -> datetime | None:
        rows = self._read(
            """
            SELECT last_sent_at FROM dedup
             WHERE job = ? AND rule = ? AND item = ? AND episode = ?
            """,
            (job, rule, item, episode),
        )
        return _dt(rows[0]["last_sent_at"]) if rows else None

    def claim(
        self,
        job: str,
        rule: str,
        item: str,
        episode: str,
        *,
        now: datetime,
        realert: timedelta | None,
        run_id: str,
        claim_ttl: timedelta,
    ) -> bool:
        now, resend_cutoff, claim_cutoff = claim_cutoffs(now, realert, claim_ttl)
        params = {
            "job": job,
            "rule": rule,
            "item": item,
            "episode": episode,
            "run_id": run_id,
            "now": _ts(now),
            "resend_cutoff": None if resend_cutoff is None else _ts(resend_cutoff),
            "claim_cutoff": _ts(claim_cutoff),
        }
        with self._write() as conn:
            # fetchall: a RETURNING statement must run to completion before COMMIT.
            return bool(conn.execute(_CLAIM, params).fetchall())

    def mark_sent(
        self, job: str, rule: str, item: str, episode: str, *, now: datetime, run_id: str
    ) -> None:
        # Another run's claim (taken over after ours went stale) is left alone: that run
        # decided before our send was recorded and will find out through its own claim.
        with self._write() as conn:
            conn.execute(
                """
                INSERT INTO dedup (job, rule, item, episode, last_sent_at)
                VALUES (:job, :rule, :item, :episode, :now)
                ON CONFLICT (job, rule, item, episode) DO UPDATE
                   SET last_sent_at = excluded.last_sent_at,
                       claimed_by = NULLIF(dedup.claimed_by, :run_id),
                       claimed_at = CASE WHEN dedup.claimed_by = :run_id
                                         THEN NULL ELSE dedup.claimed_at END
                """,
                {
                    "job": job,
                    "rule": rule,
                    "item": item,
                    "episode": episode,
                    "now": _ts(now),
                    "run_id": run_id,
                },
            )

    def release(self, job: str, rule: str, item: str, episode: str, *, run_id: str) -> None:
        with self._write() as conn:
            conn.execute(
                """
                UPDATE dedup SET claimed_by = NULL, claimed_at = NULL
                 WHERE job = ? AND rule = ? AND item = ? AND episode = ? AND claimed_by = ?
                """,
                (job, rule, item, episode, run_id),
            )

    # --- per-item state -------------------------------------------------------------------

    def get_state(self, job: str, item: str) -> dict[str, Any] | None:
        rows = self._read("SELECT state FROM item_state WHERE job = ? AND item = ?", (job, item))
        return from_json(rows[0]["state"]) if rows else None

    def put_state(
        self, job: str, item: str, state: dict[str, Any] | None, *, now: datetime
    ) -> None:
        with self._write() as conn:
            if state is None:
                conn.execute("DELETE FROM item_state WHERE job = ? AND item = ?", (job, item))
                return
            conn.execute(
                """
                INSERT INTO item_state (job, item, state, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (job, item) DO UPDATE
                   SET state = excluded.state, updated_at = excluded.updated_at
                """,
                (job, item, to_json(state), _ts(now)),
            )

    def open_states(self, job: str) -> dict[str, dict[str, Any]]:
        rows = self._read("SELECT item, state FROM item_state WHERE job = ? ORDER BY item", (job,))
        return {row["item"]: from_json(row["state"]) for row in rows}

    def first_seen(self, job: str, item: str, *, now: datetime) -> datetime:
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO first_seen (job, item, seen_at) VALUES (?, ?, ?)",
                (job, item, _ts(now)),
            )
            (seen_at,) = conn.execute(
                "SELECT seen_at FROM first_seen WHERE job = ? AND item = ?", (job, item)
            ).fetchone()
        return _req_dt(seen_at)

    def forget_first_seen(self, job: str, item: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM first_seen WHERE job = ? AND item = ?", (job, item))

    # --- decision log ---------------------------------------------------------------------

    def record_decisions(self, decisions: Sequence[Decision]) -> None:
        if not decisions:
            return
        rows = [
            (
                _ts(d.at),
                d.run_id,
                d.job,
                d.rule,
                d.item,
                d.episode,
                d.outcome,
                d.reason,
                to_json(d.facts),
                d.action,
            )
            for d in decisions
        ]
        with self._write() as conn:
            conn.executemany(
                """
                INSERT INTO decisions
                    (at, run_id, job, rule, item, episode, outcome, reason, facts, action)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                rows,
            )

    def history(self, item: str, *, limit: int = 200) -> list[Decision]:
        rows = self._read(
            """
            SELECT at, run_id, job, rule, item, episode, outcome, reason, facts, action
              FROM decisions WHERE item = ? ORDER BY at DESC, id DESC LIMIT ?
            """,
            (item, limit),
        )
        return [
            Decision(
                at=_req_dt(row["at"]),
                run_id=row["run_id"],
                job=row["job"],
                rule=row["rule"],
                item=row["item"],
                episode=row["episode"],
                outcome=row["outcome"],
                reason=row["reason"],
                facts=from_json(row["facts"]),
                action=row["action"],
            )
            for row in rows
        ]

    def prune(self, *, now: datetime, keep: timedelta = DECISION_RETENTION) -> int:
        with self._write() as conn:
            cur = conn.execute("DELETE FROM decisions WHERE at < ?", (_ts(utc(now) - keep),))
            return cur.rowcount

    # --- silences -------------------------------------------------------------------------

    def add_silence(
        self,
        item: str,
        *,
        job: str | None,
        reason: str,
        author: str,
        now: datetime,
        until: datetime,
    ) -> Silence:
        check_silence(item, reason, author, now, until)
        with self._write() as conn:
            cur = conn.execute(
                """
                INSERT INTO silences (item, job, reason, author, created, expires)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
                (item, job, reason, author, _ts(now), _ts(until)),
            )
            silence_id = cur.lastrowid
        assert silence_id is not None
        return Silence(silence_id, item, job, reason, author, utc(now), utc(until))

    def silences(self, *, now: datetime, include_expired: bool = False) -> list[Silence]:
        if include_expired:
            rows = self._read("SELECT * FROM silences ORDER BY created, id")
        else:
            rows = self._read(
                "SELECT * FROM silences WHERE expires > ? ORDER BY created, id", (_ts(now),)
            )
        return [_silence(row) for row in rows]

    def expire_silence(self, silence_id: int, *, now: datetime) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE silences SET expires = ? WHERE id = ? AND expires > ?",
                (_ts(now), silence_id, _ts(now)),
            )
            return cur.rowcount > 0

    def active_silence(self, job: str, item: str, *, now: datetime) -> Silence | None:
        rows = self._read(
            """
            SELECT * FROM silences
             WHERE item = ? AND (job IS NULL OR job = ?) AND expires > ?
             ORDER BY expires DESC, id DESC LIMIT 1
            """,
            (item, job, _ts(now)),
        )
        return _silence(rows[0]) if rows else None


def _silence(row: sqlite3.Row) -> Silence:
    return Silence(
        id=row["id"],
        item=row["item"],
        job=row["job"],
        reason=row["reason"],
        author=row["author"],
        created=_req_dt(row["created"]),
        expires=_req_dt(row["expires"]),
    )
