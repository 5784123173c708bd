"""One ``ledger`` fixture, run against SQLite and PostgreSQL, so both backends pass one suite.

PostgreSQL needs a server: ``export JOBS_TEST_POSTGRES_URL=$(scripts/postgres.sh | tail -n 1)``.
Without it the postgres half is skipped locally, but fails when ``CI`` is set: CI must
really exercise the backend it ships. Each test gets its own PostgreSQL schema (through
``search_path`` in the URL), so tests never see each other's rows.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from jobs.ledger import Ledger, open_ledger

POSTGRES_URL_ENV = "JOBS_TEST_POSTGRES_URL"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV)
    if url:
        return url
    hint = (
        f"{POSTGRES_URL_ENV} is not set; "
        f"run `export {POSTGRES_URL_ENV}=$(scripts/postgres.sh | tail -n 1)`"
    )
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"CI is set but {hint}: CI must run the PostgreSQL ledger tests")
    pytest.skip(hint)


def _with_search_path(url: str, schema: str) -> str:
    # libpq reads `options` from the URL; -csearch_path puts every table in our schema.
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}', safe='')}"


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A URL whose tables live in a fresh schema, dropped after the test."""
    import psycopg

    base = postgres_base_url()
    schema = f"ledger_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield _with_search_path(base, schema)
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for an empty ledger on each backend (child processes open it themselves)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'ledger.db'}"
    return request.getfixturevalue("postgres_schema_url")


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    opened = open_ledger(ledger_url)
    try:
        yield opened
    finally:
        opened.close()


def in_threads(run: Callable[[str], None], names: list[str]) -> list[BaseException]:
    """``run(name)`` in a thread of its own per name, all started before any is waited for;
    what they raised (a thread's exception is otherwise lost)."""
    errors: list[BaseException] = []

    def guarded(name: str) -> None:
        try:
            run(name)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
