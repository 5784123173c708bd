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

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from jobs.ledger.base import LedgerError
from jobs.ledger.sql import Cursor, Dialect, SqlLedger

BUSY_TIMEOUT_MS = 10_000


def _store_instant(instant: datetime) -> str:
    return instant.isoformat(timespec="microseconds")


def _load_instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


SQLITE = Dialect(
    text="TEXT",
    integer="INTEGER",
    instant="TEXT",
    json="TEXT",
    row_id="INTEGER PRIMARY KEY AUTOINCREMENT",
    paramstyle="named",
    encode_instant=_store_instant,
    decode_instant=_load_instant,
)


def _when_not_busy(step: Callable[[], object]) -> None:
    """Run ``step``, retrying while another process holds the file.

    Switching a brand-new file to WAL does not wait on the busy timeout: two runs opening a
    fresh ledger at the same moment would see "database is locked" at once. Retry with a
    short backoff, within the same bound as the busy timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.01
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() + delay > deadline:
                raise LedgerError(f"the SQLite ledger stayed locked: {exc}") from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


FILE_MODE = 0o600
DIR_MODE = 0o700


def _create_private(path: Path) -> None:
    """Create the ledger's directory (0700) and file (0600) before SQLite opens it.

    The decision log quotes ticket text and who was told what; it is nobody else's to read.
    SQLite gives its -wal and -shm files the mode of the database file, so they follow.
    An existing file keeps its mode: it may be shared on purpose.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        os.close(fd)


def _connect_read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise LedgerError(f"no SQLite ledger at {path} (nothing has created it yet)")
    return sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro",
        uri=True,
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        check_same_thread=False,
    )


class SqliteLedger(SqlLedger):
    """The ledger in one SQLite file (the default for a single scheduled host)."""

    dialect = SQLITE
    _conn: sqlite3.Connection

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        """``read_only``: open an existing file as it is, through SQLite's read-only mode:
        nothing is created (a missing file is a `LedgerError`), migrated or written."""
        self.path = str(path)
        try:
            if read_only:
                conn = _connect_read_only(Path(self.path))
            else:
                if self.path != ":memory:":
                    _create_private(Path(self.path))
                conn = sqlite3.connect(
                    self.path,
                    timeout=BUSY_TIMEOUT_MS / 1000,
                    isolation_level=None,  # we issue BEGIN ourselves
                    check_same_thread=False,
                )
        except (sqlite3.Error, OSError) as exc:
            raise LedgerError(
                f"cannot open the SQLite ledger at {self.path}: {exc}. "
                "Check the directory is writable or set JOBS_LEDGER_URL."
            ) from exc
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if self.path != ":memory:" and not read_only:
            _when_not_busy(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA synchronous = NORMAL")
        _when_not_busy(lambda: super(SqliteLedger, self).__init__(conn, create=not read_only))

    def _one_writer_per_item(self, cursor: Cursor, item: str) -> None:
        pass  # BEGIN IMMEDIATE: SQLite's write transactions already run one at a time

    def _tables(self, cursor: Cursor) -> set[str]:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'", {})
        return {row["name"] for row in cursor.fetchall()}

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        # Even a single statement goes through here: see "BEGIN IMMEDIATE" above.
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn.cursor()
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
