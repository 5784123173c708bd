"""Structured logging: JSON lines when not on a terminal, readable lines on one; secrets redacted.

Logs go to stderr, which cron hands to its logger, systemd to the journal and Kubernetes to
the pod log. ``JOBS_LOG_DIR`` adds a file, ``<dir>/jobs.log`` (the directory is created), for
hosts where that is what is collected; it is reopened when logrotate moves it.

Redaction is a filter on every handler, through the process-wide `jobs.secrets.redact`, so a
token that slips into an exception message or an ``extra`` field is masked anyway.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jobs import secrets
from jobs.secrets import REDACTED, SECRET_ENV_VARS, Redactor

__all__ = [
    "LEVELS",
    "REDACTED",
    "SECRET_ENV_VARS",
    "LoggingSetupError",
    "Redactor",
    "log_level",
    "setup_logging",
]

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FILE_NAME = "jobs.log"
LOG_DIR_MODE = 0o750
LOG_FILE_MODE = 0o640


class LoggingSetupError(Exception):
    """JOBS_LOG_LEVEL or JOBS_LOG_DIR cannot be used (a configuration error: exit 2)."""


def log_level(env: Mapping[str, str], default: str = "INFO") -> int:
    """``JOBS_LOG_LEVEL`` as a logging level; unset or empty means ``default``."""
    raw = env.get("JOBS_LOG_LEVEL", "")
    name = raw.strip().upper() or default
    if name == "WARN":
        name = "WARNING"
    if name not in LEVELS:
        raise LoggingSetupError(
            f"JOBS_LOG_LEVEL={raw!r} is not a log level; use one of {', '.join(LEVELS)}"
        )
    return int(getattr(logging, name))


class RedactingFilter(logging.Filter):
    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor

    def _redact(self, text: str) -> str:
        return (self.redactor or secrets.current())(text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not cost the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = self._redact(message)
        record.args = ()
        if record.exc_info:
            record.exc_text = self._redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        redactor = self.redactor or secrets.current()
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str | dict | list | tuple):
                setattr(record, key, redactor.data(value))
        return True


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_text:
            payload["exc"] = record.exc_text
        return json.dumps(payload, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        tail = " ".join(f"{k}={v}" for k, v in extra.items())
        line = f"{record.levelname.lower():7} {record.getMessage()}" + (f"  {tail}" if tail else "")
        if record.exc_text:
            line += "\n" + record.exc_text
        return line


def _file_handler(directory: str) -> logging.Handler:
    folder = Path(directory)
    try:
        folder.mkdir(mode=LOG_DIR_MODE, parents=True, exist_ok=True)
        path = folder / LOG_FILE_NAME
        # Created private to the group: a log line may quote ticket text.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, LOG_FILE_MODE)
        os.close(fd)
        # WatchedFileHandler reopens the file when logrotate has moved it away. Imported here:
        # only hosts that log to a file need it (it brings socket and pickle with it).
        import logging.handlers

        return logging.handlers.WatchedFileHandler(path, encoding="utf-8")
    except OSError as exc:
        raise LoggingSetupError(
            f"JOBS_LOG_DIR={directory}: cannot write a log file there ({exc.strerror or exc})"
        ) from None


def setup_logging(env: Mapping[str, str], *, level: str = "INFO", stream: Any = None) -> Redactor:
    """Install the process-wide redactor and the handlers; raises LoggingSetupError."""
    redactor = secrets.install(env)
    chosen = log_level(env, level)
    stream = stream or sys.stderr
    handlers: list[logging.Handler] = []
    console = logging.StreamHandler(stream)
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    console.setFormatter(TextFormatter() if is_tty else JsonFormatter())
    handlers.append(console)
    if env.get("JOBS_LOG_DIR", "").strip():
        handler = _file_handler(env["JOBS_LOG_DIR"].strip())
        handler.setFormatter(JsonFormatter())
        handlers.append(handler)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        if isinstance(old, logging.FileHandler):
            old.close()
    for handler in handlers:
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    root.setLevel(chosen)
    # Client libraries log request details (incl. headers) at DEBUG; keep them at WARNING.
    for noisy in (
        "urllib3",
        "slack_sdk",
        "slack_bolt",
        "jira",
        "gspread",
        "google",
        "vcr",
        "matplotlib",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return redactor
