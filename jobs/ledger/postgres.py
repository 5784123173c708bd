"""PostgreSQL ledger, for when the jobs run on more than one host (or in Kubernetes).

The connection is in autocommit: every method is one statement, and ``claim`` is a single
``INSERT ... ON CONFLICT DO UPDATE ... WHERE <claimable> RETURNING``. PostgreSQL locks the
conflicting row and evaluates the WHERE on its newest version, so of two overlapping runs
exactly one gets a row back. Schema creation is the only multi-statement transaction and
holds an advisory lock, because concurrent ``CREATE TABLE IF NOT EXISTS`` can still collide
in the catalog.

``psycopg`` is imported here only; SQLite users never need it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

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

# Any constant will do; it only has to be the same for every process creating the schema.
_SCHEMA_LOCK_KEY = 0x51A_1ED6E

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (
    version    integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS dedup (
    job          text NOT NULL,
    rule         text NOT NULL,
    item         text NOT NULL,
    episode      text NOT NULL DEFAULT '',
    last_sent_at timestamptz,
    claimed_by   text,
    claimed_at   timestamptz,
    PRIMARY KEY (job, rule, item, episode)
);
CREATE TABLE IF NOT EXISTS item_state (
    job        text NOT NULL,
    item       text NOT NULL,
    state      jsonb NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (job, item)
);
CREATE TABLE IF NOT EXISTS first_seen (
    job     text NOT NULL,
    item    text NOT NULL,
    seen_at timestamptz NOT NULL,
    PRIMARY KEY (job, item)
);
CREATE TABLE IF NOT EXISTS decisions (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL,
    run_id  text NOT NULL,
    job     text NOT NULL,
    rule    text NOT NULL,
    item    text NOT NULL,
    episode text NOT NULL,
    outcome text NOT NULL,
    reason  text NOT NULL,
    facts   jsonb NOT NULL,
    action  text
);
CREATE INDEX IF NOT EXISTS decisions_item_at ON decisions (item, at);
CREATE INDEX IF NOT EXISTS decisions_at ON decisions (at);
CREATE TABLE IF NOT EXISTS silences (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item    text NOT NULL,
    job     text,
    reason  text NOT NULL,
    author  text NOT NULL,
    created timestamptz NOT NULL,
    expires timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS silences_item ON silences (item, expires);
"""

_CLAIM = """
INSERT INTO dedup AS d (job, rule, item, episode, claimed_by, claimed_at)
VALUES (%(job)s, %(rule)s, %(item)s, %(episode)s, %(run_id)s, %(now)s)
ON CONFLICT (job, rule, item, episode) DO UPDATE
   SET claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at
 WHERE (d.last_sent_at IS NULL
        OR (%(resend_cutoff)s::timestamptz IS NOT NULL
            AND d.last_sent_at <= %(resend_cutoff)s::timestamptz))
   AND (d.claimed_by IS NULL
        OR d.claimed_by = excluded.claimed_by
        OR d.claimed_at <= %(claim_cutoff)s)
RETURNING claimed_by
"""

_SELECT_DECISION = "SELECT at, run_id, job, rule, item, episode, outcome, reason, facts, action"


def _aware(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _opt_aware(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


class PostgresLedger:
    """The ledger in a PostgreSQL database shared by every host that runs the jobs."""

    def __init__(self, url: str, *, display_url: str | None = None) -> None:
        shown = display_url or "the PostgreSQL ledger"
        try:
            self._conn: psycopg.Connection[dict[str, Any]] = psycopg.connect(
                url,
                autocommit=True,
                row_factory=dict_row,
                connect_timeout=10,
                application_name="sla-jobs-ledger",
            )
        except psycopg.Error as exc:
            raise LedgerError(
                f"cannot connect to {shown}: {exc}".rstrip()
                + " Check JOBS_LEDGER_URL and that the server is reachable."
            ) from exc
        self._lock = threading.RLock()
        self._create_schema()

    def _create_schema(self) -> None:
        with self._lock, self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
            self._conn.execute(_SCHEMA)
            self._conn.execute(
                "INSERT INTO schema_version (version) VALUES (%s) ON CONFLICT DO NOTHING",
                (SCHEMA_VERSION,),
            )

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _run(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        with self._lock:
            return self._conn.execute(sql, params).rowcount

    def __enter__(self) -> PostgresLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- dedup ----------------------------------------------------------------------------

    def last_sent(self, job: str, rule: str, item: str, episode: str = "") -> datetime | None:
        rows = self._rows(
            """
            SELECT last_sent_at FROM dedup
             WHERE job = %s AND rule = %s AND item = %s AND episode = %s
            """,
            (job, rule, item, episode),
        )
        return _opt_aware(rows[0]["last_sent_at"]) if rows else None

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
            "now": now,
            "resend_cutoff": resend_cutoff,
            "claim_cutoff": claim_cutoff,
        }
        return bool(self._rows(_CLAIM, params))

    def mark_sent(
        self, job: str, rule: str, item: str, episode: str, *, now: datetime, run_id: str
    ) -> None:
        # Another run's claim (taken over after ours went stale) is left alone: that run
        # decided before our send was recorded and will find out through its own claim.
        self._run(
            """
            INSERT INTO dedup AS d (job, rule, item, episode, last_sent_at)
            VALUES (%(job)s, %(rule)s, %(item)s, %(episode)s, %(now)s)
            ON CONFLICT (job, rule, item, episode) DO UPDATE
               SET last_sent_at = excluded.last_sent_at,
                   claimed_by = NULLIF(d.claimed_by, %(run_id)s),
                   claimed_at = CASE WHEN d.claimed_by = %(run_id)s
                                     THEN NULL ELSE d.claimed_at END
            """,
            {
                "job": job,
                "rule": rule,
                "item": item,
                "episode": episode,
                "now": utc(now),
                "run_id": run_id,
            },
        )

    def release(self, job: str, rule: str, item: str, episode: str, *, run_id: str) -> None:
        self._run(
            """
            UPDATE dedup SET claimed_by = NULL, claimed_at = NULL
             WHERE job = %s AND rule = %s AND item = %s AND episode = %s AND claimed_by = %s
            """,
            (job, rule, item, episode, run_id),
        )

    # --- per-item state -------------------------------------------------------------------

    def get_state(self, job: str, item: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT state FROM item_state WHERE job = %s AND item = %s", (job, item))
        return from_json(rows[0]["state"]) if rows else None

    def put_state(
        self, job: str, item: str, state: dict[str, Any] | None, *, now: datetime
    ) -> None:
        if state is None:
            self._run("DELETE FROM item_state WHERE job = %s AND item = %s", (job, item))
            return
        self._run(
            """
            INSERT INTO item_state (job, item, state, updated_at) VALUES (%s, %s, %s::jsonb, %s)
            ON CONFLICT (job, item) DO UPDATE
               SET state = excluded.state, updated_at = excluded.updated_at
            """,
            (job, item, to_json(state), utc(now)),
        )

    def open_states(self, job: str) -> dict[str, dict[str, Any]]:
        rows = self._rows("SELECT item, state FROM item_state WHERE job = %s ORDER BY item", (job,))
        return {row["item"]: from_json(row["state"]) for row in rows}

    def first_seen(self, job: str, item: str, *, now: datetime) -> datetime:
        # The no-op DO UPDATE makes RETURNING yield the stored row when it already exists.
        rows = self._rows(
            """
            INSERT INTO first_seen AS f (job, item, seen_at) VALUES (%s, %s, %s)
            ON CONFLICT (job, item) DO UPDATE SET seen_at = f.seen_at
            RETURNING seen_at
            """,
            (job, item, utc(now)),
        )
        return _aware(rows[0]["seen_at"])

    def forget_first_seen(self, job: str, item: str) -> None:
        self._run("DELETE FROM first_seen WHERE job = %s AND item = %s", (job, item))

    # --- decision log ---------------------------------------------------------------------

    def record_decisions(self, decisions: Sequence[Decision]) -> None:
        if not decisions:
            return
        rows = [
            (
                utc(d.at),
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
        with self._lock, self._conn.transaction(), self._conn.cursor() as cur:
            cur.executemany(
                """
                INSERT INTO decisions
                    (at, run_id, job, rule, item, episode, outcome, reason, facts, action)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)
                """,
                rows,
            )

    def history(self, item: str, *, limit: int = 200) -> list[Decision]:
        rows = self._rows(
            _SELECT_DECISION + " FROM decisions WHERE item = %s ORDER BY at DESC, id DESC LIMIT %s",
            (item, limit),
        )
        return [
            Decision(
                at=_aware(row["at"]),
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
        return self._run("DELETE FROM decisions WHERE at < %s", (utc(now) - keep,))

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
        rows = self._rows(
            """
            INSERT INTO silences (item, job, reason, author, created, expires)
            VALUES (%s, %s, %s, %s, %s, %s) RETURNING *
            """,
            (item, job, reason, author, utc(now), utc(until)),
        )
        return _silence(rows[0])

    def silences(self, *, now: datetime, include_expired: bool = False) -> list[Silence]:
        if include_expired:
            rows = self._rows("SELECT * FROM silences ORDER BY created, id")
        else:
            rows = self._rows(
                "SELECT * FROM silences WHERE expires > %s ORDER BY created, id", (utc(now),)
            )
        return [_silence(row) for row in rows]

    def expire_silence(self, silence_id: int, *, now: datetime) -> bool:
        now = utc(now)
        changed = self._run(
            "UPDATE silences SET expires = %s WHERE id = %s AND expires > %s",
            (now, silence_id, now),
        )
        return changed > 0

    def active_silence(self, job: str, item: str, *, now: datetime) -> Silence | None:
        rows = self._rows(
            """
            SELECT * FROM silences
             WHERE item = %s AND (job IS NULL OR job = %s) AND expires > %s
             ORDER BY expires DESC, id DESC LIMIT 1
            """,
            (item, job, utc(now)),
        )
        return _silence(rows[0]) if rows else None


def _silence(row: dict[str, Any]) -> Silence:
    return Silence(
        id=row["id"],
        item=row["item"],
        job=row["job"],
        reason=row["reason"],
        author=row["author"],
        created=_aware(row["created"]),
        expires=_aware(row["expires"]),
    )
