"""Dedup state, decision log and silences behind one interface, in SQLite or PostgreSQL.

``open_ledger(os.environ.get("JOBS_LEDGER_URL"))`` picks the backend from the URL:

- unset, ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or a bare path → SQLite;
- ``postgresql://user@host:port/db`` (or ``postgres://``) → PostgreSQL through psycopg 3.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from jobs.ledger.base import (
    DECISION_RETENTION,
    OUTCOMES,
    SCHEMA_VERSION,
    Decision,
    Ledger,
    LedgerError,
    Silence,
)

__all__ = [
    "DECISION_RETENTION",
    "OUTCOMES",
    "SCHEMA_VERSION",
    "Decision",
    "Ledger",
    "LedgerError",
    "Silence",
    "open_ledger",
    "redact_url",
]

_POSTGRES_SCHEMES = ("postgresql", "postgres")
_SECRET_QUERY_KEYS = {"password", "sslpassword"}


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***``, safe to log or put in an error message."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        if ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:***@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key.lower() in _SECRET_QUERY_KEYS for key, _ in pairs):
            query = urlencode(
                [(k, "***" if k.lower() in _SECRET_QUERY_KEYS else v) for k, v in pairs],
                safe="*",
            )
    if (netloc, query) == (parts.netloc, parts.query):
        return url  # urlunsplit would drop the empty host of sqlite:///path
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def open_ledger(url: str | None, *, default_path: str = ".state/ledger.db") -> Ledger:
    """Open (and create on first use) the ledger named by ``url`` (usually ``JOBS_LEDGER_URL``)."""
    if not url:
        return _sqlite(default_path)
    if "://" not in url:
        return _sqlite(url)
    scheme = url.split("://", 1)[0].lower()
    if scheme == "sqlite":
        # SQLAlchemy's spelling: three slashes then the path, so four for an absolute path.
        path = url[len("sqlite://") :]
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise ValueError(
                "JOBS_LEDGER_URL=sqlite:// names no file; use sqlite:///.state/ledger.db "
                "or sqlite:////absolute/path.db"
            )
        return _sqlite(path)
    if scheme in _POSTGRES_SCHEMES:
        # Imported here so SQLite installs never load (or need) psycopg.
        from jobs.ledger.postgres import PostgresLedger

        return PostgresLedger(url, display_url=redact_url(url))
    raise ValueError(
        f"JOBS_LEDGER_URL={redact_url(url)} has an unknown scheme {scheme!r}; "
        "use sqlite:///path/to/ledger.db, a plain file path, or postgresql://user@host:port/db"
    )


def _sqlite(path: str) -> Ledger:
    from jobs.ledger.sqlite import SqliteLedger

    return SqliteLedger(path)  # which creates the file's directory
