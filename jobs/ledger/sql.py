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

import copy
import functools
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal, Protocol, Self

from jobs.ledger.base import (
    DECISION_RETENTION,
    SCHEMA_VERSION,
    Chain,
    Decision,
    LastRun,
    LedgerError,
    Silence,
    check_silence,
    claim_cutoff,
    from_json,
    to_json,
    to_json_value,
    utc,
)
from jobs.model import AlertRecord, RecordKey, RecordStatus, Severity
from jobs.secrets import redact, redact_data

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

    def cursor(self) -> Cursor: ...

    def close(self) -> None: ...


SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (
    version    {integer} PRIMARY KEY,
    applied_at {instant} NOT NULL{now_default}
);
CREATE TABLE IF NOT EXISTS alerts (
    job             {text} NOT NULL,
    alert           {text} NOT NULL,
    item            {text} NOT NULL,
    episode         {text} NOT NULL DEFAULT '',
    status          {text} NOT NULL,
    tier            {text} NOT NULL DEFAULT '',
    first_sent_at   {instant},
    last_sent_at    {instant},
    closed_at       {instant},
    realert_seconds {integer},
    store           {json} NOT NULL,
    version         {integer} NOT NULL,
    claimed_by      {text},
    claimed_at      {instant},
    keep_until      {instant},
    updated_at      {instant} NOT NULL,
    PRIMARY KEY (job, alert, item, episode)
);
CREATE INDEX IF NOT EXISTS alerts_job_status ON alerts (job, status);
CREATE INDEX IF NOT EXISTS alerts_item ON alerts (item);
CREATE INDEX IF NOT EXISTS alerts_keep_until ON alerts (keep_until);
CREATE TABLE IF NOT EXISTS chains (
    id         {text} PRIMARY KEY,
    job        {text} NOT NULL,
    body       {json} NOT NULL,
    created_at {instant} NOT NULL,
    updated_at {instant} NOT NULL
);
CREATE INDEX IF NOT EXISTS chains_job ON chains (job);
CREATE TABLE IF NOT EXISTS chain_steps (
    chain    {text} NOT NULL,
    position {integer} NOT NULL,
    body     {json} NOT NULL,
    PRIMARY KEY (chain, position)
);
CREATE TABLE IF NOT EXISTS item_state (
    job        {text} NOT NULL,
    item       {text} NOT NULL,
    state      {json} NOT NULL,
    updated_at {instant} NOT NULL,
    PRIMARY KEY (job, item)
);
CREATE TABLE IF NOT EXISTS runs (
    job        {text} PRIMARY KEY,
    last_now   {instant} NOT NULL,
    run_id     {text} NOT NULL,
    updated_at {instant} NOT NULL
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

TABLES = ("alerts", "chains", "chain_steps", "item_state", "runs", "decisions", "silences")

_RECORD_SCHEMA_VERSION = """
INSERT INTO schema_version (version, applied_at) VALUES (:version, :applied_at)
ON CONFLICT (version) DO NOTHING
"""

_SCHEMA_VERSIONS = "SELECT version FROM schema_version"

_RECORD_COLUMNS = (
    "job, alert, item, episode, status, tier, first_sent_at, last_sent_at, closed_at, "
    "realert_seconds, store, version, claimed_by, claimed_at"
)

_RECORDS = f"SELECT {_RECORD_COLUMNS} FROM alerts WHERE job = :job"

_OPEN_RECORDS = f"SELECT {_RECORD_COLUMNS} FROM alerts WHERE job = :job AND status = 'open'"

_RECORD = (
    f"SELECT {_RECORD_COLUMNS} FROM alerts "
    "WHERE job = :job AND alert = :alert AND item = :item AND episode = :episode"
)

# One statement decides and takes the claim: insert a new row (the run read none: version 0),
# or update the existing one only when it is still the version the run read and nobody else
# holds a live claim. RETURNING yields a row exactly when this run got the claim. A run that
# already holds the claim does not get it again: a claim is never re-entrant.
_CLAIM = """
INSERT INTO alerts (job, alert, item, episode, status, store, version, claimed_by, claimed_at,
                    updated_at)
VALUES (:job, :alert, :item, :episode, 'new', CAST('{{}}' AS {json}), 1, :run_id, :now, :now)
ON CONFLICT (job, alert, item, episode) DO UPDATE
   SET claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at
 WHERE alerts.version = :version
   AND (alerts.claimed_by IS NULL OR alerts.claimed_at <= :claim_cutoff)
RETURNING version
"""

_RELEASE = """
UPDATE alerts SET claimed_by = NULL, claimed_at = NULL
 WHERE job = :job AND alert = :alert AND item = :item AND episode = :episode
   AND claimed_by = :run_id
"""

# A never-sent row left by a released claim carries nothing worth keeping.
_DROP_UNSENT = """
DELETE FROM alerts
 WHERE job = :job AND alert = :alert AND item = :item AND episode = :episode
   AND status = 'new' AND claimed_by IS NULL
"""

# The run keeps its claim while it writes (it releases it when the run ends); a write that
# lands after the claim was taken over (a run slower than the claim TTL) still records what
# was sent.
_SAVE_RECORD = """
INSERT INTO alerts (job, alert, item, episode, status, tier, first_sent_at, last_sent_at,
                    closed_at, realert_seconds, store, version, claimed_by, claimed_at,
                    keep_until, updated_at)
VALUES (:job, :alert, :item, :episode, :status, :tier, :first_sent_at, :last_sent_at,
        :closed_at, :realert_seconds, CAST(:store AS {json}), 1, NULL, NULL, :keep_until, :now)
ON CONFLICT (job, alert, item, episode) DO UPDATE
   SET status = excluded.status, tier = excluded.tier,
       first_sent_at = excluded.first_sent_at, last_sent_at = excluded.last_sent_at,
       closed_at = excluded.closed_at, realert_seconds = excluded.realert_seconds,
       store = excluded.store, keep_until = excluded.keep_until,
       updated_at = excluded.updated_at, version = alerts.version + 1
RETURNING version
"""

_SAVE_CHAIN = """
INSERT INTO chains (id, job, body, created_at, updated_at)
VALUES (:id, :job, CAST(:body AS {json}), :created_at, :updated_at)
ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at
"""

# A chain's steps are rows of their own: a chain is saved before and after each step, and
# only the steps that changed are written (a chain of hundreds of comments would otherwise be
# rewritten whole hundreds of times). The chain's own row keeps its records.
_SAVE_STEP = """
INSERT INTO chain_steps (chain, position, body)
VALUES (:chain, :position, CAST(:body AS {json}))
ON CONFLICT (chain, position) DO UPDATE SET body = excluded.body
"""

_TOUCH_CHAIN = "UPDATE chains SET updated_at = :updated_at WHERE id = :id AND job = :job"

_DROP_STEPS_FROM = "DELETE FROM chain_steps WHERE chain = :chain AND position >= :count"

_DELETE_CHAIN_STEPS = "DELETE FROM chain_steps WHERE chain = :id"

_DELETE_CHAIN = "DELETE FROM chains WHERE id = :id"

# One statement, so the chains and their steps are read as of one moment.
_CHAINS = """
SELECT c.id, c.job, c.body, c.created_at, c.updated_at, s.position, s.body AS step
  FROM chains c LEFT JOIN chain_steps s ON s.chain = c.id
 WHERE c.job = :job ORDER BY c.created_at, c.id, s.position
"""

_MEMORY = "SELECT item, state FROM item_state WHERE job = :job ORDER BY item"

_FORGET = "DELETE FROM item_state WHERE job = :job AND item = :item"

_REMEMBER = """
INSERT INTO item_state (job, item, state, updated_at)
VALUES (:job, :item, CAST(:state AS {json}), :now)
ON CONFLICT (job, item) DO UPDATE
   SET state = excluded.state, updated_at = excluded.updated_at
"""

_LAST_RUN = "SELECT job, last_now, run_id FROM runs WHERE job = :job"

_NOTE_RUN = """
INSERT INTO runs (job, last_now, run_id, updated_at) VALUES (:job, :now, :run_id, :wall)
ON CONFLICT (job) DO UPDATE
   SET last_now = excluded.last_now, run_id = excluded.run_id, updated_at = excluded.updated_at
 WHERE runs.last_now < excluded.last_now
"""

_RECORD_DECISION = """
INSERT INTO decisions (at, run_id, job, rule, item, episode, outcome, reason, facts, action)
VALUES (:at, :run_id, :job, :rule, :item, :episode, :outcome, :reason,
        CAST(:facts AS {json}), :action)
"""

_HISTORY = """
SELECT at, run_id, job, rule, item, episode, outcome, reason, facts, action
  FROM decisions WHERE item = :item ORDER BY at DESC, id DESC LIMIT :limit
"""

_ITEMS = """
SELECT item FROM alerts UNION SELECT item FROM silences UNION SELECT item FROM decisions
"""

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

# What can no longer change a decision (see `SqlLedger.prune`).
_PRUNE = {
    "decisions": "DELETE FROM decisions WHERE at < :horizon",
    "silences": "DELETE FROM silences WHERE expires < :horizon",
    "alerts": """
DELETE FROM alerts
 WHERE (status = 'closed' AND keep_until IS NOT NULL AND keep_until < :now)
    OR (status = 'new' AND (claimed_by IS NULL OR claimed_at < :horizon))
    OR updated_at < :horizon
""",
    "chains": "DELETE FROM chains WHERE updated_at < :horizon",
    "chain_steps": "DELETE FROM chain_steps WHERE chain NOT IN (SELECT id FROM chains)",
}
# Memory (item_state) is the job's own: it forgets what no longer applies (an account gone
# from the sheet), and a fact it still relies on may go unchanged for years.


def _key(key: RecordKey) -> dict[str, Any]:
    return {"job": key.job, "alert": key.alert, "item": key.item, "episode": key.episode}


def _lock_order(key: RecordKey) -> tuple[str, str, str, str]:
    """The order every batch takes record rows in. On PostgreSQL a row a transaction wrote
    (or a claim looked at) stays locked until it commits; two batches taking the same rows
    in one order cannot each hold a row the other waits for."""
    return (key.job, key.alert, key.item, key.episode)


class SqlLedger(ABC):
    """Every ledger operation, on one connection shared by threads under a lock."""

    dialect: ClassVar[Dialect]
    _conn: Connection

    def __init__(self, conn: Connection, *, create: bool = True) -> None:
        """``create``: create the tables (and upgrade a first-release ledger) if they are not
        there; False opens the database as it is (`jobs.ledger.open_ledger`'s read-only mode)."""
        self._conn = conn
        self._lock = threading.RLock()
        self._chain_texts: dict[str, _ChainTexts] = {}
        """Per chain, its parts as JSON text: a chain is saved before and after each of its
        steps, and its actions never change, so each is encoded once."""
        if create:
            self._create_schema()

    # --- what a backend provides ----------------------------------------------------------

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Cursor]:
        """A cursor whose statements commit together (or not at all), under ``self._lock``."""

    def _statement(self) -> AbstractContextManager[Cursor]:
        """A cursor for one writing statement, committed when the block ends."""
        return self._transaction()

    def _batch(self, statements: int) -> AbstractContextManager[Cursor]:
        """A cursor for ``statements`` writes that commit together: one statement commits on
        its own (on PostgreSQL, autocommit: no BEGIN and COMMIT round trips around it)."""
        return self._statement() if statements == 1 else self._transaction()

    def _schema_transaction(self) -> AbstractContextManager[Cursor]:
        """The transaction that creates the tables, for a backend that must lock more."""
        return self._transaction()

    @abstractmethod
    def _tables(self, cursor: Cursor) -> set[str]:
        """The names of the tables that exist (inside the schema transaction, or on a cursor of
        their own for `schema_version`)."""

    # --- plumbing -------------------------------------------------------------------------

    def _sql(self, template: str) -> str:
        return render(self.dialect, template)

    def _instant(self, instant: datetime) -> Any:
        return self.dialect.encode_instant(utc(instant))

    def _maybe_instant(self, instant: datetime | None) -> Any:
        return None if instant is None else self._instant(instant)

    def _decode(self, value: Any) -> datetime | None:
        return None if value is None else self.dialect.decode_instant(value)

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
            existing = self._tables(cursor)
            for statement in self._sql(SCHEMA).split(";"):
                if statement.strip():
                    cursor.execute(statement, {})
            if "dedup" in existing:
                # Written by the first release: move what it knew into today's tables.
                from jobs.ledger.migrate import upgrade_from_v1

                upgrade_from_v1(self, cursor, existing)
            cursor.execute(
                self._sql(_RECORD_SCHEMA_VERSION),
                {"version": SCHEMA_VERSION, "applied_at": self._instant(datetime.now(UTC))},
            )

    def schema_version(self) -> int:
        """The newest schema this database has been brought to; 0 when it holds no ledger (a
        database opened read-only that nothing has created the tables in)."""
        with self._lock:
            if "schema_version" not in self._tables(self._conn.cursor()):
                return 0
        rows = self._read(_SCHEMA_VERSIONS, {})
        return max((int(row["version"]) for row in rows), default=0)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- alert records --------------------------------------------------------------------

    def records(
        self, job: str, *, keys: Sequence[RecordKey] | None = None, open_only: bool = False
    ) -> dict[RecordKey, AlertRecord]:
        if keys is not None:
            found = {}
            for key in keys:
                rows = self._read(_RECORD, _key(key))
                if rows:
                    found[key] = self._record(rows[0])
            return found
        rows = self._read(_OPEN_RECORDS if open_only else _RECORDS, {"job": job})
        return {record.key: record for record in map(self._record, rows)}

    def claim(
        self,
        key: RecordKey,
        *,
        version: int,
        now: datetime,
        run_id: str,
        claim_ttl: timedelta,
    ) -> bool:
        claimed = self.claim_all({key: version}, now=now, run_id=run_id, claim_ttl=claim_ttl)
        return key in claimed

    def claim_all(
        self,
        versions: Mapping[RecordKey, int],
        *,
        now: datetime,
        run_id: str,
        claim_ttl: timedelta,
    ) -> set[RecordKey]:
        if not versions:
            return set()
        statement = self._sql(_CLAIM)
        shared = {
            "run_id": run_id,
            "now": self._instant(now),
            "claim_cutoff": self._instant(claim_cutoff(now, claim_ttl)),
        }
        keys = sorted(versions, key=_lock_order)
        params = [{**_key(key), "version": versions[key], **shared} for key in keys]
        with self._batch(len(params)) as cursor:
            answered = self._each_returned(cursor, statement, params)
        return {key for key, rows in zip(keys, answered, strict=True) if rows}

    def _each_returned(
        self, cursor: Cursor, statement: str, params: Sequence[Params]
    ) -> list[Sequence[Row]]:
        """Run ``statement`` (one with RETURNING) once per set of ``params``, in order; the
        rows each returned."""
        answered = []
        for values in params:
            cursor.execute(statement, values)
            # Read before the next statement: SQLite refuses to go on from a RETURNING
            # unfinished.
            answered.append(cursor.fetchall())
        return answered

    def release(self, key: RecordKey, *, run_id: str) -> None:
        self.release_all([key], run_id=run_id)

    def release_all(self, keys: Sequence[RecordKey], *, run_id: str) -> None:
        if not keys:
            return
        rows = [_key(key) for key in sorted(keys, key=_lock_order)]
        with self._transaction() as cursor:
            # Every release, then every drop (a row is dropped only once it is released): two
            # batches, which psycopg sends as pipelines instead of a round trip per statement.
            cursor.executemany(self._sql(_RELEASE), [{**row, "run_id": run_id} for row in rows])
            cursor.executemany(self._sql(_DROP_UNSENT), rows)

    def save_record(
        self, record: AlertRecord, *, now: datetime, run_id: str, keep_until: datetime | None
    ) -> AlertRecord:
        return self.save_records([(record, keep_until)], now=now, run_id=run_id)[0]

    def save_records(
        self,
        saves: Sequence[tuple[AlertRecord, datetime | None]],
        *,
        now: datetime,
        run_id: str,
    ) -> list[AlertRecord]:
        if not saves:
            return []
        statement = self._sql(_SAVE_RECORD)
        params = [self._record_params(record, keep, now, run_id) for record, keep in saves]
        # Written in key order (a stable sort: two saves of one record keep their order, the
        # later wins), handed back in the order given.
        order = sorted(range(len(saves)), key=lambda i: _lock_order(saves[i][0].key))
        with self._batch(len(order)) as cursor:
            answered = self._each_returned(cursor, statement, [params[i] for i in order])
        versions = {i: int(rows[0]["version"]) for i, rows in zip(order, answered, strict=True)}
        return [replace(record, version=versions[i]) for i, (record, _) in enumerate(saves)]

    def _record_params(
        self, record: AlertRecord, keep_until: datetime | None, now: datetime, run_id: str
    ) -> dict[str, Any]:
        return {
            **_key(record.key),
            "status": str(record.status),
            "tier": str(record.tier) if record.tier is not None else "",
            "first_sent_at": self._maybe_instant(record.first_sent_at),
            "last_sent_at": self._maybe_instant(record.last_sent_at),
            "closed_at": self._maybe_instant(record.closed_at),
            "realert_seconds": None
            if record.realert is None
            else int(record.realert.total_seconds()),
            "store": to_json(record.store),
            "keep_until": self._maybe_instant(keep_until),
            "now": self._instant(now),
            "run_id": run_id,
        }

    # --- chains ---------------------------------------------------------------------------

    def save_chain(self, chain: Chain) -> None:
        """The chain's row and, of its steps, those that changed since this ledger last saved
        it (all of them the first time: a chain taken over from another run, say). What was
        written is remembered only once it is committed."""
        with self._lock:  # the texts kept are shared by every save of the ledger
            known = self._chain_texts.get(chain.id)
            texts = _ChainTexts() if known is None else known.copy()
            changed = texts.update(chain)
            row = {
                "id": chain.id,
                "job": chain.job,
                "body": '{"records":' + texts.records[1] + "}",
                "created_at": self._instant(chain.created_at),
                "updated_at": self._instant(chain.updated_at),
            }
            # Its records (often one per ticket of the chain) are written already.
            records_kept = known is not None and known.records[1] == texts.records[1]
            with self._transaction() as cursor:
                whole = known is None
                if records_kept:
                    cursor.execute(self._sql(_TOUCH_CHAIN), row)
                    # No row: deleted or pruned elsewhere since this ledger saved it (a replay
                    # of an old instant, say). Written whole again, every step with it.
                    whole = cursor.rowcount < 1
                if whole or not records_kept:
                    cursor.execute(self._sql(_SAVE_CHAIN), row)
                positions = range(len(chain.steps)) if whole else changed
                if positions:
                    cursor.executemany(
                        self._sql(_SAVE_STEP),
                        [
                            {"chain": chain.id, "position": position, "body": texts.steps[position]}
                            for position in positions
                        ],
                    )
                if whole or len(chain.steps) < len(known.steps if known else ()):
                    # Rows past today's last step: an earlier save's, or another process's.
                    cursor.execute(
                        self._sql(_DROP_STEPS_FROM), {"chain": chain.id, "count": len(chain.steps)}
                    )
            self._chain_texts[chain.id] = texts

    def delete_chain(self, chain_id: str) -> None:
        with self._lock:
            self._chain_texts.pop(chain_id, None)
            with self._transaction() as cursor:
                cursor.execute(self._sql(_DELETE_CHAIN_STEPS), {"id": chain_id})
                cursor.execute(self._sql(_DELETE_CHAIN), {"id": chain_id})

    def chains(self, job: str) -> list[Chain]:
        read: dict[str, tuple[Row, list[tuple[int, Any]]]] = {}
        for row in self._read(_CHAINS, {"job": job}):
            _, steps = read.setdefault(row["id"], (row, []))
            if row["position"] is not None:
                steps.append((int(row["position"]), row["step"]))
        chains = []
        for chain_id, (row, steps) in read.items():
            body = from_json(row["body"])
            if "steps" in body:  # written whole by schema 2
                own = list(body["steps"] or ())
            elif [position for position, _ in steps] == list(range(len(steps))):
                own = [from_json(step) for _, step in steps]
            else:
                # A chain missing a step cannot be finished safely, nor dropped: say so.
                raise LedgerError(
                    f"chain {chain_id} of {job} is missing steps (rows deleted outside this "
                    "program?): the job cannot tell what it already sent; read the chain's "
                    "rows in chain_steps, then delete the chain once that is known"
                )
            chains.append(
                Chain(
                    id=row["id"],
                    job=row["job"],
                    records=tuple(RecordKey(**k) for k in body.get("records") or ()),
                    steps=tuple(own),
                    created_at=self.dialect.decode_instant(row["created_at"]),
                    updated_at=self.dialect.decode_instant(row["updated_at"]),
                )
            )
        return chains

    # --- memory and runs ------------------------------------------------------------------

    def memory(self, job: str) -> dict[str, dict[str, Any]]:
        rows = self._read(_MEMORY, {"job": job})
        return {row["item"]: from_json(row["state"]) for row in rows}

    def remember(
        self, job: str, updates: Mapping[str, Mapping[str, Any] | None], *, now: datetime
    ) -> None:
        if not updates:
            return
        with self._transaction() as cursor:
            for item, state in updates.items():
                if state is None:
                    cursor.execute(self._sql(_FORGET), {"job": job, "item": item})
                else:
                    cursor.execute(
                        self._sql(_REMEMBER),
                        {
                            "job": job,
                            "item": item,
                            "state": to_json(state),
                            "now": self._instant(now),
                        },
                    )

    def last_run(self, job: str) -> LastRun | None:
        rows = self._read(_LAST_RUN, {"job": job})
        if not rows:
            return None
        row = rows[0]
        return LastRun(row["job"], self.dialect.decode_instant(row["last_now"]), row["run_id"])

    def note_run(self, job: str, *, now: datetime, run_id: str) -> None:
        self._change(
            _NOTE_RUN,
            {
                "job": job,
                "now": self._instant(now),
                "run_id": run_id,
                "wall": self._instant(datetime.now(UTC)),
            },
        )

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
                # The one place decisions are redacted: every backend writes them here.
                "reason": redact(d.reason),
                "facts": to_json(redact_data(d.facts)),
                "action": redact(d.action) if d.action else None,
            }
            for d in decisions
        ]
        with self._transaction() as cursor:
            cursor.executemany(self._sql(_RECORD_DECISION), rows)

    def history(self, item: str, *, limit: int = 200) -> list[Decision]:
        rows = self._read(_HISTORY, {"item": item, "limit": limit})
        return [self._decision(row) for row in rows]

    def items(self) -> set[str]:
        rows = self._read(_ITEMS, {})
        return {str(row["item"]) for row in rows}

    # --- housekeeping ---------------------------------------------------------------------

    def prune(self, *, now: datetime, keep: timedelta = DECISION_RETENTION) -> dict[str, int]:
        """Delete what can no longer change a decision or answer `why` within ``keep``:
        decisions and silences past it; closed records past their ``keep_until`` (the end of
        their re-alert window, or ``keep`` for once-only sends); claims never followed by a
        send; chains and records not touched for ``keep`` (a job that stopped)."""
        params = {"now": self._instant(now), "horizon": self._instant(utc(now) - keep)}
        deleted = {}
        with self._transaction() as cursor:
            for table, statement in _PRUNE.items():
                cursor.execute(self._sql(statement), params)
                deleted[table] = max(cursor.rowcount, 0)
        return deleted

    def counts(self) -> dict[str, int]:
        return {
            table: int(self._read(f"SELECT COUNT(*) AS n FROM {table}", {})[0]["n"])
            for table in TABLES
        }

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
        params = self._silence_params(item, job, reason, author, now, until)
        return self._silence(self._returning(_ADD_SILENCE, params)[0])

    def add_silence_unless_covered(
        self,
        item: str,
        *,
        job: str,
        reason: str,
        author: str,
        now: datetime,
        until: datetime,
        covered_until: datetime,
    ) -> tuple[Silence, bool]:
        params = self._silence_params(item, job, reason, author, now, until)
        with self._transaction() as cursor:
            self._one_writer_per_item(cursor, item)
            looked = {"item": item, "job": job, "now": params["created"]}
            cursor.execute(self._sql(_ACTIVE_SILENCE), looked)
            rows = cursor.fetchall()
            if rows and self.dialect.decode_instant(rows[0]["expires"]) >= utc(covered_until):
                return self._silence(rows[0]), False
            cursor.execute(self._sql(_ADD_SILENCE), params)
            return self._silence(cursor.fetchall()[0]), True

    def _silence_params(
        self, item: str, job: str | None, reason: str, author: str, now: datetime, until: datetime
    ) -> dict[str, Any]:
        check_silence(item, reason, author, now, until)
        return {
            "item": item,
            "job": job,
            "reason": redact(reason),
            "author": author,
            "created": self._instant(now),
            "expires": self._instant(until),
        }

    @abstractmethod
    def _one_writer_per_item(self, cursor: Cursor, item: str) -> None:
        """Inside a transaction: hold off every other transaction that calls this for ``item``
        until this one ends."""

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

    def _record(self, row: Row) -> AlertRecord:
        tier = row["tier"]
        seconds = row["realert_seconds"]
        return AlertRecord(
            key=RecordKey(row["job"], row["alert"], row["item"], row["episode"]),
            status=RecordStatus(row["status"]),
            tier=Severity(tier) if tier else None,
            first_sent_at=self._decode(row["first_sent_at"]),
            last_sent_at=self._decode(row["last_sent_at"]),
            closed_at=self._decode(row["closed_at"]),
            realert=None if seconds is None else timedelta(seconds=int(seconds)),
            store=from_json(row["store"]),
            version=int(row["version"]),
            claimed_by=row["claimed_by"],
            claimed_at=self._decode(row["claimed_at"]),
        )

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


@dataclass
class _ChainTexts:
    """What `SqlLedger.save_chain` wrote of one chain: per position, the step's text, its
    state and its action with the action's text, so a save encodes and writes only the steps
    that changed (a chain is saved before and after each step, and its actions never change);
    the records' text."""

    steps: list[str] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)
    actions: list[tuple[object, str]] = field(default_factory=list)
    given: list[object] = field(default_factory=list)
    """Each step's mapping as the caller handed it: the same mapping again is the same step
    (`Ledger.save_chain`: a step that changed is a new mapping)."""
    records: tuple[object, str] = ((), "[]")

    def copy(self) -> _ChainTexts:
        return _ChainTexts(
            list(self.steps), list(self.states), list(self.actions), list(self.given), self.records
        )

    def update(self, chain: Chain) -> list[int]:
        """Bring the texts to ``chain``; the positions whose text changed. Only a step's error
        is redacted: the action is kept exactly as planned, so a resumed step sends what the
        first attempt would have."""
        changed = []
        known = len(self.steps)
        for position, step in enumerate(chain.steps):
            if position < known and self.given[position] is step:
                continue
            state = _redacted_error(step)
            action = state.pop("action", None)
            same_action = position < known and self.actions[position][0] is action
            if same_action and self.states[position] == state:
                self.given[position] = step
                continue
            if same_action:
                action_text = self.actions[position]
            else:
                action_text = (action, "" if action is None else to_json_value(action))
            # A copy: a step's result nests, and the caller's dicts may change after the save.
            entry = (_step_text(action_text[1], state), copy.deepcopy(state), action_text)
            if position < known:
                self.steps[position], self.states[position], self.actions[position] = entry
                self.given[position] = step
            else:
                self.steps.append(entry[0])
                self.states.append(entry[1])
                self.actions.append(entry[2])
                self.given.append(step)
            changed.append(position)
        count = len(chain.steps)
        del self.steps[count:], self.states[count:], self.actions[count:], self.given[count:]
        if self.records[0] != chain.records:
            self.records = (chain.records, to_json_value([_key(k) for k in chain.records]))
        return changed


def _step_text(action_text: str, state: Mapping[str, Any]) -> str:
    """A step as `to_json` would write it, ``action`` first, from its action's text."""
    state_text = to_json(state)
    if not action_text:
        return state_text
    return '{"action":' + action_text + ("," + state_text[1:] if state_text != "{}" else "}")


def _redacted_error(step: Mapping[str, Any]) -> dict[str, Any]:
    body = dict(step)
    if isinstance(body.get("error"), str):
        body["error"] = redact(body["error"])
    return body
