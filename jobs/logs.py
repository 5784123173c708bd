"""Structured logging: JSON lines when not on a terminal, readable lines on one; secrets redacted.

Redaction is a filter on every handler, so a token that slips into an exception message
(a URL with credentials, an Authorization header echoed by a library) is masked anyway.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

SECRET_ENV_VARS = (
    "JIRA_API_TOKEN",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "GOOGLE_PRIVATE_KEY",
)
REDACTED = "[REDACTED]"
# (pattern, replacement): the replacement keeps the label so the log still says what was there.
_PATTERNS = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9+/=._\-]{8,}"), r"\1 " + REDACTED),
    (re.compile(r"xox[abposr]-[A-Za-z0-9\-]+"), REDACTED),
    (re.compile(r"xapp-[A-Za-z0-9\-]+"), REDACTED),
    (re.compile(r"(postgres(?:ql)?://[^:/@\s]+:)[^@\s]+@"), r"\1" + REDACTED + "@"),
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
        REDACTED,
    ),
]


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Redactor:
        values = [env.get(name, "") for name in SECRET_ENV_VARS]
        ledger_url = env.get("JOBS_LEDGER_URL", "")
        match = re.search(r"://[^:/@]+:([^@]+)@", ledger_url)
        if match:
            values.append(match.group(1))
        return cls(values)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class RedactingFilter(logging.Filter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor(record.getMessage())
        record.args = ()
        if record.exc_info:
            record.exc_text = self.redactor(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
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


def setup_logging(env: Mapping[str, str], *, level: str = "INFO", stream: Any = None) -> Redactor:
    stream = stream or sys.stderr
    redactor = Redactor.from_env(env)
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(redactor))
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    handler.setFormatter(TextFormatter() if is_tty else JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(env.get("JOBS_LOG_LEVEL", level).upper())
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
