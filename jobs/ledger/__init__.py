"""Dedup state, decision log and silences behind one interface, in SQLite or PostgreSQL.

``open_ledger(os.environ.get("JOBS_LEDGER_URL"))`` picks the backend from the URL:

- unset, ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or a bare path → SQLite;
- ``postgresql://user@host:port/db`` (or ``postgres://``) → PostgreSQL through psycopg 3.

Anything else is refused before a file is created or a connection tried: a libpq keyword
string (``host=db password=x``) would otherwise become a SQLite file named after the password.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

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
    "describe_url",
    "is_sqlite_url",
    "open_ledger",
    "parse_ledger_url",
    "redact_url",
]

DEFAULT_PATH = ".state/ledger.db"

_POSTGRES_SCHEMES = ("postgresql", "postgres")
_SECRET_QUERY_KEYS = {"password", "sslpassword"}


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***``, safe to log or put in an error message.

    The userinfo runs to the last ``@``: a password with an unencoded ``@``, ``/``, ``?`` or
    ``#`` is hidden whole (at worst, with the host), never shown in part.
    """
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    if "@" in rest:
        userinfo, _, rest = rest.rpartition("@")
        user = userinfo.split(":", 1)[0]
        prefix = f"{scheme}://{user}:***@" if ":" in userinfo else f"{scheme}://{userinfo}@"
    else:
        prefix = f"{scheme}://"
    head, mark, query = rest.partition("?")
    if query:
        fragment = ""
        if "#" in query:
            query, _, fragment = query.partition("#")
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key.lower() in _SECRET_QUERY_KEYS for key, _ in pairs):
            query = urlencode(
                [(k, "***" if k.lower() in _SECRET_QUERY_KEYS else v) for k, v in pairs],
                safe="*",
            )
        rest = f"{head}?{query}" + (f"#{fragment}" if fragment else "")
    return prefix + rest


_KEYWORD_DSN = re.compile(r"^\s*[A-Za-z_]+\s*=")
_POSTGRES_FORM = (
    "postgresql://USER@HOST:PORT/DB with ':PASSWORD' after USER (percent-encode @ : / in it)"
)
_SUPPORTED = (
    "use sqlite:///relative/path.db, sqlite:////absolute/path.db, a plain file path, or "
    + _POSTGRES_FORM
)


def describe_url(url: str | None, *, default_path: str = DEFAULT_PATH) -> str:
    """What the ledger URL names, safe to print: ``SQLite file X`` or the redacted URL."""
    kind, target = parse_ledger_url(url, default_path=default_path)
    return f"SQLite file {target}" if kind == "sqlite" else redact_url(target)


def is_sqlite_url(url: str | None) -> bool:
    """Whether ``url`` names a SQLite file (False for PostgreSQL and for what is refused)."""
    try:
        return parse_ledger_url(url)[0] == "sqlite"
    except ValueError:
        return False


def parse_ledger_url(url: str | None, *, default_path: str = DEFAULT_PATH) -> tuple[str, str]:
    """``("sqlite", path)`` or ``("postgres", url)``; ValueError (with the password redacted)
    for anything else, before any file is created or any connection attempted."""
    if not url or not url.strip():
        return "sqlite", default_path
    if "://" not in url:
        if _KEYWORD_DSN.match(url) or "=" in url:
            # libpq's "host=db password=x" would otherwise be taken for a file name.
            raise ValueError(
                "JOBS_LEDGER_URL looks like a libpq keyword string (host=db dbname=...), "
                f"which is not supported; write it as a URL: {_POSTGRES_FORM}"
            )
        if any(c.isspace() or not c.isprintable() for c in url):
            raise ValueError(f"JOBS_LEDGER_URL has spaces or control characters; {_SUPPORTED}")
        return "sqlite", url
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
        return "sqlite", path
    if scheme in _POSTGRES_SCHEMES:
        rest = url.split("://", 1)[1]
        authority = rest.split("/", 1)[0] if "@" not in rest else rest[: _authority_end(rest)]
        if authority.count("@") > 1:
            raise ValueError(
                f"JOBS_LEDGER_URL={redact_url(url)}: the password holds an unencoded '@'; "
                "percent-encode it as %40"
            )
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            raise ValueError(
                f"JOBS_LEDGER_URL={redact_url(url)} is not a valid URL; {_SUPPORTED}"
            ) from None
        if any(c.isspace() for c in url):
            raise ValueError(f"JOBS_LEDGER_URL={redact_url(url)} contains spaces")
        return "postgres", url
    raise ValueError(
        f"JOBS_LEDGER_URL={redact_url(url)} has an unknown scheme {scheme!r}; {_SUPPORTED}"
    )


def _authority_end(rest: str) -> int:
    """Where host[:port] ends: the first "/" after the last "@" (a password may hold "@")."""
    slash = rest.find("/", rest.rfind("@"))
    return len(rest) if slash < 0 else slash


def open_ledger(
    url: str | None, *, default_path: str = DEFAULT_PATH, read_only: bool = False
) -> Ledger:
    """Open (and create on first use) the ledger named by ``url`` (usually ``JOBS_LEDGER_URL``).

    ``read_only`` opens what is there and changes nothing: no file, table or upgrade is
    created, and the database refuses writes (SQLite's read-only mode; a PostgreSQL session
    whose transactions are read only). A SQLite file that does not exist is a `LedgerError`;
    a database without the tables reads as `schema_version` 0."""
    kind, target = parse_ledger_url(url, default_path=default_path)
    if kind == "sqlite":
        return _sqlite(target, read_only=read_only)
    # Imported here so SQLite installs never load (or need) psycopg.
    from jobs.ledger.postgres import PostgresLedger

    return PostgresLedger(target, display_url=redact_url(target), read_only=read_only)


def _sqlite(path: str, *, read_only: bool = False) -> Ledger:
    from jobs.ledger.sqlite import SqliteLedger

    # Which creates the file and its directory, unless read-only.
    return SqliteLedger(path, read_only=read_only)
