"""The read-only open (what ``python -m jobs doctor`` uses), on both backends: it reads what
is there and changes nothing: no file, table or upgrade is created, and writes are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs.ledger import SCHEMA_VERSION, LedgerError, open_ledger
from tests.ledger.test_upgrade import write_schema_1

T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def test_it_reads_a_ledger_and_refuses_to_write_it(ledger_url: str) -> None:
    writer = open_ledger(ledger_url)
    writer.add_silence("SS-1", job=None, reason="r", author="a", now=T0, until=T0 + timedelta(1))
    writer.close()

    reader = open_ledger(ledger_url, read_only=True)
    try:
        assert reader.schema_version() == SCHEMA_VERSION
        assert [s.item for s in reader.silences(now=T0)] == ["SS-1"]
        with pytest.raises(Exception, match="(?i)read.?only"):
            reader.add_silence(
                "SS-2", job=None, reason="r", author="a", now=T0, until=T0 + timedelta(1)
            )
    finally:
        reader.close()
    again = open_ledger(ledger_url)
    try:
        assert again.counts()["silences"] == 1
    finally:
        again.close()


def test_it_leaves_a_first_release_ledger_as_it_was(ledger_url: str) -> None:
    write_schema_1(ledger_url)

    reader = open_ledger(ledger_url, read_only=True)
    try:
        assert reader.schema_version() == 1
    finally:
        reader.close()
    # Not upgraded: the first release's table is still there for the real upgrade.
    upgraded = open_ledger(ledger_url)
    try:
        assert upgraded.schema_version() == SCHEMA_VERSION
        assert upgraded.counts()["alerts"] > 0  # the upgrade ran now, from schema 1's rows
    finally:
        upgraded.close()


def test_a_missing_sqlite_file_is_an_error_and_nothing_is_created(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ledger.db"

    with pytest.raises(LedgerError, match="no SQLite ledger"):
        open_ledger(f"sqlite:///{path}", read_only=True)

    assert not path.parent.exists()


def test_a_database_without_the_tables_reads_as_version_0(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()

    reader = open_ledger(str(path), read_only=True)
    try:
        assert reader.schema_version() == 0
    finally:
        reader.close()
    assert path.stat().st_size == 0


@pytest.mark.postgres
def test_an_empty_postgres_schema_reads_as_version_0_and_stays_empty(
    postgres_schema_url: str,
) -> None:
    import psycopg

    reader = open_ledger(postgres_schema_url, read_only=True)
    try:
        assert reader.schema_version() == 0
    finally:
        reader.close()
    with psycopg.connect(postgres_schema_url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
    assert tables == []
