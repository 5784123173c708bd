"""The ledger in SQL, written once for SQLite and PostgreSQL alike.

The tables, the statements, the mapping of rows back to ``Decision`` and ``Silence``, and the
checks on arguments live here. A backend brings only what really differs between the two
databases: a ``Dialect`` (column types, how a parameter is spelled, how an instant is stored)
and its transaction primitive, because that is where their locking differs.

Statements are templates: ``{instant}``, ``{json}`` and the other fields name the dialect's
column types, and ``:name`` binds a parameter (SQLite's spelling; the PostgreSQL dialect
rewrites it to psycopg's ``%(name)s``).
"""

from __future__ import annotations

import functools
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal, Protocol, Self

from jobs.ledger.base import (
    DECISION_RETENTION,
    SCHEMA_VERSION,
    Decision,
    Silence,
    check_silence,
    claim_cutoffs,
    from_json,
    to_json,
    utc,
)

Params = Mapping[str, Any]


@dataclass(frozen=True)
class Dialect:
    """What one database needs said differently to hold the same ledger."""

    text: str
    integer: str
    instant: str
    """Column type of every timestamp."""
    json: str
    """Column type of decision facts and item state."""
    row_id: str
    """An auto-numbered primary key: type and constraints."""
    paramstyle: Literal["named", "pyformat"]
    """The DB-API name of the driver's parameter spelling: ``:name`` or ``%(name)s``."""
    encode_instant: Callable[[datetime], Any]
    """A UTC instant as the driver should bind it."""
    decode_instant: Callable[[Any], datetime]
    """A stored instant as the driver returns it, back to an aware UTC datetime."""
    now_default: str = ""
    """`` DEFAULT <current instant>`` where the database has one: earlier PostgreSQL versions
    of the ledger insert the schema version without ``applied_at`` and rely on it."""


_BIND = re.compile(r"(?<![:\w]):(\w+)")


@functools.cache
def render(dialect: Dialect, template: str) -> str:
    """The statement ``template`` in ``dialect``'s column types and parameter spelling."""
    sql = template.format(
        text=dialect.text,
        integer=dialect.integer,
        instant=dialect.instant,
        json=dialect.json,
        row_id=dialect.row_id,
        now_default=dialect.now_default,
    )
    if dialect.paramstyle == "pyformat":
        sql = _BIND.sub(r"%(\1)s", sql.replace("%", "%%"))
    return sql


class Row(Protocol):
    def __getitem__(self, column: str, /) -> Any: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: str, params: Params, /) -> Any: ...

    def executemany(self, sql: str, params: Sequence[Params], /) -> Any: ...

    def fetchall(self) -> Sequence[Row]: ...


class Connection(Protocol):
    def execute(self, sql: str, params: Params, /) -> Cursor: ...

    def close(self) -> None: ...


SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (
    version    {integer} PRIMARY KEY,
    applied_at {instant} NOT NULL{now_default}
);
CREATE TABLE IF NOT EXISTS dedup (
    job          {text} NOT NULL,
    rule         {text} NOT NULL,
    item         {text} NOT NULL,
    episode      {text} NOT NULL DEFAULT '',
    last_sent_at {instant},
    claimed_by   {text},
    claimed_at   {instant},
    PRIMARY KEY (job, rule, item, episode)
);
CREATE TABLE IF NOT EXISTS item_state (
    job        {text} NOT NULL,
    item       {text} NOT NULL,
    state      {json} NOT NULL,
    updated_at {instant} NOT NULL,
    PRIMARY KEY (job, item)
);
CREATE TABLE IF NOT EXISTS first_seen (
    job     {text} NOT NULL,
    item    {text} NOT NULL,
    seen_at {instant} NOT NULL,
    PRIMARY KEY (job, item)
);
CREATE TABLE IF NOT EXISTS decisions (
    id      {row_id},
    at      {instant} NOT NULL,
    run_id  {text} NOT NULL,
    job     {text} NOT NULL,
    rule    {text} NOT NULL,
    item    {text} NOT NULL,
    episode {text} NOT NULL,
    outcome {text} NOT NULL,
    reason  {text} NOT NULL,
    facts   {json} NOT NULL,
    action  {text}
);
CREATE INDEX IF NOT EXISTS decisions_item_at ON decisions (item, at);
CREATE INDEX IF NOT EXISTS decisions_at ON decisions (at);
CREATE TABLE IF NOT EXISTS silences (
    id      {row_id},
    item    {text} NOT NULL,
    job     {text},
    reason  {text} NOT NULL,
    author  {text} NOT NULL,
    created {instant} NOT NULL,
    expires {instant} NOT NULL
);
CREATE INDEX IF NOT EXISTS silences_item ON silences (item, expires);
"""

_RECORD_SCHEMA_VERSION = """
INSERT INTO schema_version (version, applied_at) VALUES (:version, :applied_at)
ON CONFLICT (version) DO NOTHING
"""

_LAST_SENT = """
SELECT last_sent_at FROM dedup
 WHERE job = :job AND rule = :rule AND item = :item AND episode = :episode
"""

# One statement decides and takes the claim: insert a fresh row, or update the existing one
# only when it is claimable; RETURNING yields a row exactly when this run got the claim.
# The CAST is for PostgreSQL, which cannot type a bare NULL parameter in IS NOT NULL.
_CLAIM = """
INSERT INTO dedup (job, rule, item, episode, claimed_by, claimed_at)
VALUES (:job, :rule, :item, :episode, :run_id, :now)
ON CONFLICT (job, rule, item, episode) DO UPDATE
   SET claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at
 WHERE (dedup.last_sent_at IS NULL
        OR (CAST(:resend_cutoff AS {instant}) IS NOT NULL
            AND dedup.last_sent_at <= CAST(:resend_cutoff AS {instant})))
   AND (dedup.claimed_by IS NULL
        OR dedup.claimed_by = excluded.claimed_by
        OR dedup.claimed_at <= :claim_cutoff)
RETURNING claimed_by
"""

_MARK_SENT = """
INSERT INTO dedup (job, rule, item, episode, last_sent_at)
VALUES (:job, :rule, :item, :episode, :now)
ON CONFLICT (job, rule, item, episode) DO UPDATE
   SET last_sent_at = excluded.last_sent_at,
       claimed_by = NULLIF(dedup.claimed_by, :run_id),
       claimed_at = CASE WHEN dedup.claimed_by = :run_id THEN NULL ELSE dedup.claimed_at END
"""

_RELEASE = """
UPDATE dedup SET claimed_by = NULL, claimed_at = NULL
 WHERE job = :job AND rule = :rule AND item = :item AND episode = :episode
   AND claimed_by = :run_id
"""

_GET_STATE = "SELECT state FROM item_state WHERE job = :job AND item = :item"

_DELETE_STATE = "DELETE FROM item_state WHERE job = :job AND item = :item"

_PUT_STATE = """
INSERT INTO item_state (job, item, state, updated_at)
VALUES (:job, :item, CAST(:state AS {json}), :now)
ON CONFLICT (job, item) DO UPDATE
   SET state = excluded.state, updated_at = excluded.updated_at
"""

_OPEN_STATES = "SELECT item, state FROM item_state WHERE job = :job ORDER BY item"

# The no-op DO UPDATE makes RETURNING yield the stored row when it already exists.
_FIRST_SEEN = """
INSERT INTO first_seen (job, item, seen_at) VALUES (:job, :item, :now)
ON CONFLICT (job, item) DO UPDATE SET seen_at = first_seen.seen_at
RETURNING seen_at
"""

_FORGET_FIRST_SEEN = "DELETE FROM first_seen WHERE job = :job AND item = :item"

_RECORD_DECISION = """
INSERT INTO decisions (at, run_id, job, rule, item, episode, outcome, reason, facts, action)
VALUES (:at, :run_id, :job, :rule, :item, :episode, :outcome, :reason,
        CAST(:facts AS {json}), :action)
"""

_HISTORY = """
SELECT at, run_id, job, rule, item, episode, outcome, reason, facts, action
  FROM decisions WHERE item = :item ORDER BY at DESC, id DESC LIMIT :limit
"""

_PRUNE = "DELETE FROM decisions WHERE at < :cutoff"

_ADD_SILENCE = """
INSERT INTO silences (item, job, reason, author, created, expires)
VALUES (:item, :job, :reason, :author, :created, :expires)
RETURNING *
"""

_ALL_SILENCES = "SELECT * FROM silences ORDER BY created, id"

_LIVE_SILENCES = "SELECT * FROM silences WHERE expires > :now ORDER BY created, id"

_EXPIRE_SILENCE = "UPDATE silences SET expires = :now WHERE id = :id AND expires > :now"

_ACTIVE_SILENCE = """
SELECT * FROM silences
 WHERE item = :item AND (job IS NULL OR job = :job) AND expires > :now
 ORDER BY expires DESC, id DESC LIMIT 1
"""


def _dedup_key(job: str, rule: str, item: str, episode: str) -> dict[str, Any]:
    return {"job": job, "rule": rule, "item": item, "episode": episode}


class SqlLedger(ABC):
    """Every ledger operation, on one connection shared by threads under a lock."""

    dialect: ClassVar[Dialect]
    _conn: Connection

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self._create_schema()

    # --- what a backend provides ----------------------------------------------------------

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Cursor]:
        """A cursor whose statements commit together (or not at all), under ``self._lock``."""

    def _statement(self) -> AbstractContextManager[Cursor]:
        """A cursor for one writing statement, committed when the block ends."""
        return self._transaction()

    def _schema_transaction(self) -> AbstractContextManager[Cursor]:
        """The transaction that creates the tables, for a backend that must lock more."""
        return self._transaction()

    # --- plumbing -------------------------------------------------------------------------

    def _sql(self, template: str) -> str:
        return render(self.dialect, template)

    def _instant(self, instant: datetime) -> Any:
        return self.dialect.encode_instant(utc(instant))

    def _read(self, template: str, params: Params) -> Sequence[Row]:
        with self._lock:
            return self._conn.execute(self._sql(template), params).fetchall()

    def _change(self, template: str, params: Params) -> int:
        """Run one writing statement; how many rows it changed."""
        with self._statement() as cursor:
            cursor.execute(self._sql(template), params)
            return cursor.rowcount

    def _returning(self, template: str, params: Params) -> Sequence[Row]:
        """Run one writing statement with RETURNING; the rows it returned."""
        with self._statement() as cursor:
            cursor.execute(self._sql(template), params)
            # Read before the block commits: SQLite refuses to COMMIT a RETURNING unfinished.
            return cursor.fetchall()

    def _create_schema(self) -> None:
        with self._schema_transaction() as cursor:
            for statement in self._sql(SCHEMA).split(";"):
                if statement.strip():
                    cursor.execute(statement, {})
            cursor.execute(
                self._sql(_RECORD_SCHEMA_VERSION),
                {"version": SCHEMA_VERSION, "applied_at": self._instant(datetime.now(UTC))},
            )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- dedup ----------------------------------------------------------------------------

    def last_sent(self, job: str, rule: str, item: str, episode: str = "") -> datetime | None:
        rows = self._read(_LAST_SENT, _dedup_key(job, rule, item, episode))
        if not rows or rows[0]["last_sent_at"] is None:
            return None
        return self.dialect.decode_instant(rows[0]["last_sent_at"])

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
            **_dedup_key(job, rule, item, episode),
            "run_id": run_id,
            "now": self._instant(now),
            "resend_cutoff": None if resend_cutoff is None else self._instant(resend_cutoff),
            "claim_cutoff": self._instant(claim_cutoff),
        }
        return bool(self._returning(_CLAIM, params))

    def mark_sent(
        self, job: str, rule: str, item: str, episode: str, *, now: datetime, run_id: str
    ) -> None:
        # Another run's claim (taken over after ours went stale) is left alone: that run
        # decided before our send was recorded and will find out through its own claim.
        params = {
            **_dedup_key(job, rule, item, episode),
            "now": self._instant(now),
            "run_id": run_id,
        }
        self._change(_MARK_SENT, params)

    def release(self, job: str, rule: str, item: str, episode: str, *, run_id: str) -> None:
        self._change(_RELEASE, {**_dedup_key(job, rule, item, episode), "run_id": run_id})

    # --- per-item state -------------------------------------------------------------------

    def get_state(self, job: str, item: str) -> dict[str, Any] | None:
        rows = self._read(_GET_STATE, {"job": job, "item": item})
        return from_json(rows[0]["state"]) if rows else None

    def put_state(
        self, job: str, item: str, state: dict[str, Any] | None, *, now: datetime
    ) -> None:
        if state is None:
            self._change(_DELETE_STATE, {"job": job, "item": item})
            return
        params = {"job": job, "item": item, "state": to_json(state), "now": self._instant(now)}
        self._change(_PUT_STATE, params)

    def open_states(self, job: str) -> dict[str, dict[str, Any]]:
        rows = self._read(_OPEN_STATES, {"job": job})
        return {row["item"]: from_json(row["state"]) for row in rows}

    def first_seen(self, job: str, item: str, *, now: datetime) -> datetime:
        rows = self._returning(_FIRST_SEEN, {"job": job, "item": item, "now": self._instant(now)})
        return self.dialect.decode_instant(rows[0]["seen_at"])

    def forget_first_seen(self, job: str, item: str) -> None:
        self._change(_FORGET_FIRST_SEEN, {"job": job, "item": item})

    # --- decision log ---------------------------------------------------------------------

    def record_decisions(self, decisions: Sequence[Decision]) -> None:
        if not decisions:
            return
        rows = [
            {
                "at": self._instant(d.at),
                "run_id": d.run_id,
                "job": d.job,
                "rule": d.rule,
                "item": d.item,
                "episode": d.episode,
                "outcome": d.outcome,
                "reason": d.reason,
                "facts": to_json(d.facts),
                "action": d.action,
            }
            for d in decisions
        ]
        with self._transaction() as cursor:
            cursor.executemany(self._sql(_RECORD_DECISION), rows)

    def history(self, item: str, *, limit: int = 200) -> list[Decision]:
        rows = self._read(_HISTORY, {"item": item, "limit": limit})
        return [self._decision(row) for row in rows]

    def prune(self, *, now: datetime, keep: timedelta = DECISION_RETENTION) -> int:
        return self._change(_PRUNE, {"cutoff": self._instant(utc(now) - keep)})

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
        params = {
            "item": item,
            "job": job,
            "reason": reason,
            "author": author,
            "created": self._instant(now),
            "expires": self._instant(until),
        }
        return self._silence(self._returning(_ADD_SILENCE, params)[0])

    def silences(self, *, now: datetime, include_expired: bool = False) -> list[Silence]:
        if include_expired:
            rows = self._read(_ALL_SILENCES, {})
        else:
            rows = self._read(_LIVE_SILENCES, {"now": self._instant(now)})
        return [self._silence(row) for row in rows]

    def expire_silence(self, silence_id: int, *, now: datetime) -> bool:
        return self._change(_EXPIRE_SILENCE, {"id": silence_id, "now": self._instant(now)}) > 0

    def active_silence(self, job: str, item: str, *, now: datetime) -> Silence | None:
        rows = self._read(_ACTIVE_SILENCE, {"item": item, "job": job, "now": self._instant(now)})
        return self._silence(rows[0]) if rows else None

    # --- rows back to records -------------------------------------------------------------

    def _decision(self, row: Row) -> Decision:
        return Decision(
            at=self.dialect.decode_instant(row["at"]),
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

    def _silence(self, row: Row) -> Silence:
        return Silence(
            id=row["id"],
            item=row["item"],
            job=row["job"],
            reason=row["reason"],
            author=row["author"],
            created=self.dialect.decode_instant(row["created"]),
            expires=self.dialect.decode_instant(row["expires"]),
        )
