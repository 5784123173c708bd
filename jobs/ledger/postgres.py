"""PostgreSQL ledger, for when the jobs run on more than one host (or in Kubernetes).

The connection is in autocommit: every write but the batch of decisions is one statement,
and ``claim`` is a single ``INSERT ... ON CONFLICT DO UPDATE ... WHERE <claimable> RETURNING``.
PostgreSQL locks the conflicting row and evaluates the WHERE on its newest version, so of two
overlapping runs exactly one gets a row back. Schema creation holds an advisory lock, because
concurrent ``CREATE TABLE IF NOT EXISTS`` can still collide in the catalog.

``psycopg`` is imported here only; SQLite users never need it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

import psycopg
from psycopg.rows import dict_row

from jobs.ledger.base import LedgerError
from jobs.ledger.sql import Cursor, Dialect, Params, Row, SqlLedger

# Any constant will do; it only has to be the same for every process creating the schema.
_SCHEMA_LOCK_KEY = 0x51A_1ED6E


def _store_instant(instant: datetime) -> datetime:
    return instant  # psycopg binds an aware datetime as timestamptz


def _load_instant(value: datetime) -> datetime:
    return value.astimezone(UTC)


POSTGRES = Dialect(
    text="text",
    integer="integer",
    instant="timestamptz",
    json="jsonb",
    row_id="bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    paramstyle="pyformat",
    encode_instant=_store_instant,
    decode_instant=_load_instant,
    now_default=" DEFAULT now()",
)

_Cursor = psycopg.Cursor[dict[str, Any]]


def _item_lock_key(item: str) -> int:
    """A 63-bit advisory lock key for ``item``, apart from the schema lock's."""
    digest = hashlib.blake2b(f"silence {item}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


class PostgresLedger(SqlLedger):
    """The ledger in a PostgreSQL database shared by every host that runs the jobs."""

    dialect = POSTGRES
    _conn: psycopg.Connection[dict[str, Any]]

    def __init__(
        self, url: str, *, display_url: str | None = None, read_only: bool = False
    ) -> None:
        """``read_only``: every transaction of the session is READ ONLY, and the schema is
        neither created nor upgraded."""
        shown = display_url or "the PostgreSQL ledger"
        try:
            conn = psycopg.connect(
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
        if read_only:
            conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        super().__init__(conn, create=not read_only)

    @contextmanager
    def _statement(self) -> Iterator[_Cursor]:
        # Autocommit: one statement is already a transaction of its own.
        with self._lock, self._conn.cursor() as cursor:
            yield cursor

    @contextmanager
    def _transaction(self) -> Iterator[_Cursor]:
        with self._lock, self._conn.transaction(), self._conn.cursor() as cursor:
            yield cursor

    def _each_returned(
        self, cursor: Cursor, statement: str, params: Sequence[Params]
    ) -> list[Sequence[Row]]:
        # One pipeline (psycopg's executemany) instead of a round trip per statement: a run's
        # thousands of claims cost what a few queries do, not a network wait each.
        if len(params) < 2:
            return super()._each_returned(cursor, statement, params)
        pipelined = cast(_Cursor, cursor)  # this ledger's cursors are psycopg's
        pipelined.executemany(statement, params, returning=True)
        answered: list[Sequence[Row]] = [pipelined.fetchall()]
        while pipelined.nextset():
            answered.append(pipelined.fetchall())
        return answered

    def _one_writer_per_item(self, cursor: Cursor, item: str) -> None:
        # Two transactions that looked and found nothing would both add: a lock on the item
        # (there is no row yet to lock) makes the second look after the first has added.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%(key)s::bigint)", {"key": _item_lock_key(item)}
        )

    def _tables(self, cursor: Cursor) -> set[str]:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema()",
            {},
        )
        return {row["table_name"] for row in cursor.fetchall()}

    @contextmanager
    def _schema_transaction(self) -> Iterator[_Cursor]:
        with self._transaction() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%(key)s)", {"key": _SCHEMA_LOCK_KEY})
            yield cursor
