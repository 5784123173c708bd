"""Secrets out of every artifact: one redactor, built once from the environment, for every sink.

Credentials travel in more shapes than the environment shows: Jira's token inside a Basic
header or as the bare base64 of ``email:token``, a password URL-encoded in a connection URL
(or with an unencoded ``@`` in it), a Slack token echoed in an error body, a service-account
private key split over JSON-escaped lines. An error body that echoes any of them would
otherwise reach the log, the ``--report`` file, the ledger's decision log or the terminal.

So there is one choke point. The CLI calls `install` once with its environment; every sink
then passes its text through `redact` (or `redact_data` for JSON-like values):

- logging: a filter on every handler (`jobs.logs`);
- the run report (`jobs.report`), metrics and heartbeat bodies;
- the ledger: its decision log, silence reasons and chain step errors (`jobs.ledger.sql`,
  where every backend writes them);
- everything the CLI prints on stdout and stderr, including exception messages.

Two layers: the exact values (and their encodings) of the secrets this process was given,
and patterns for secrets it was not given but that have a recognisable shape (Slack and
Google tokens, Authorization values, private keys, passwords in URLs and DSNs).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TextIO
from urllib.parse import quote, quote_plus, unquote, urlsplit

REDACTED = "[REDACTED]"

SECRET_ENV_VARS = (
    "JIRA_API_TOKEN",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "GOOGLE_PRIVATE_KEY",
    "PGPASSWORD",
)
"""Variables whose whole value is a secret."""
URL_ENV_VARS = ("JOBS_LEDGER_URL", "JIRA_URL", "SLACK_API_URL", "SHEETS_API_URL")
"""Variables that may carry a password inside a URL or a libpq keyword string."""
SERVICE_ACCOUNT_ENV = "GOOGLE_SERVICE_ACCOUNT_FILE"
MIN_SECRET_LENGTH = 6
"""Shorter values would mask ordinary words; URL and DSN passwords are caught by shape."""
MAX_KEY_FILE_BYTES = 64_000
MEMO_SIZE = 20_000
"""Redacted texts a redactor remembers (short ones mostly: fact names, keys, statuses)."""
MEMO_TEXT = 2_000
"""Longer texts are redacted each time, not remembered."""

_B64_CHARS = r"A-Za-z0-9+/_\-"


_SCHEME_VALUE = re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9+/=._~\-]{8,})")


def _scheme_value(match: re.Match[str]) -> str:
    """ "Basic <base64 of user:secret>" or "Bearer <token>", not "Basic questions"."""
    scheme, space, value = match.groups()
    if scheme.lower() == "basic":
        padded = value + "=" * (-len(value) % 4)
        try:
            secret = ":" in base64.b64decode(padded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            secret = False
    else:
        secret = len(value) >= 16 and (
            any(c.isdigit() for c in value)
            or any(c in "._~-+/=" for c in value)
            or (value.lower() != value and value.upper() != value)
        )
    return f"{scheme}{space}{REDACTED}" if secret else match.group(0)


class _Shape(NamedTuple):
    """A credential's shape, and what a text must hold for the shape to be in it at all.

    Most texts a run redacts (names, summaries, dates, fact keys) hold none of it, and a
    substring test costs a small part of a regex pass (`Redactor._redact` checks first).
    """

    pattern: re.Pattern[str]
    replacement: str | Callable[[re.Match[str]], str]
    needs: tuple[str, ...] = ()
    """Texts every match contains, exactly as written (symbols, or a case-sensitive
    pattern's letters)."""
    words: tuple[str, ...] = ()
    """A case-insensitive pattern's ASCII words, one of which every match contains. Checked
    only in an ASCII text: elsewhere case folding can match other letters (the Kelvin sign
    as a k, a long s as an s), and the pattern runs."""


_PATTERNS: tuple[_Shape, ...] = (
    # "Bearer <token>" or "Basic <base64 of user:secret>" (`_scheme_value` tells them from
    # "Basic questions").
    _Shape(_SCHEME_VALUE, _scheme_value, words=("bearer", "basic")),
    # A private key, whole or cut short, in PEM or JSON-escaped ("\n") form.
    _Shape(
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----"
            r"(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----|[\s\S]*)"
        ),
        REDACTED,
        needs=("-----BEGIN ", "PRIVATE KEY-----"),
    ),
    # An Authorization header's value, whatever its scheme ("Bearer" and "Basic" below).
    _Shape(
        re.compile(
            r"""(?i)(authorization["']?\s*[:=]\s*["']?)(?!bearer\b|basic\b)[^"'\s,;}]{8,}"""
        ),
        r"\1" + REDACTED,
        words=("authorization",),
    ),
    # Slack bot/user/refresh tokens and app-level tokens.
    _Shape(re.compile(r"xox[abposre]-[A-Za-z0-9\-]+"), REDACTED, needs=("xox",)),
    _Shape(re.compile(r"xapp-\d+-[A-Za-z0-9\-]+"), REDACTED, needs=("xapp-",)),
    # Google OAuth access and refresh tokens.
    _Shape(re.compile(r"ya29\.[A-Za-z0-9._\-]+"), REDACTED, needs=("ya29.",)),
    _Shape(re.compile(r"\b1//[A-Za-z0-9_\-]{20,}"), REDACTED, needs=("1//",)),
    # A password in a URL's userinfo. The password may hold an unencoded "@": it runs to the
    # last "@" before the host, so its tail never shows as if it were the host name.
    _Shape(
        re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s:/@'\"<>]*):[^\s/'\"<>]*@"),
        r"\1:" + REDACTED + "@",
        needs=("://", "@"),
    ),
    # password=... in a query string or a libpq keyword string (quoted or not).
    _Shape(
        re.compile(
            r"(?i)\b(password|passwd|pwd|sslpassword|client_secret|api_key|apikey|"
            r"access_token|refresh_token|private_key)(\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&'\";,]+)"
        ),
        r"\1\2" + REDACTED,
        needs=("=",),
        words=(
            "password",
            "passwd",
            "pwd",
            "client_secret",
            "api_key",
            "apikey",
            "access_token",
            "refresh_token",
            "private_key",
        ),
    ),
    _Shape(
        re.compile(
            r"""(?i)(["'](?:private_key|private_key_id|client_secret|password)["']\s*:\s*)"""
            r""""(?:[^"\\]|\\.)*\""""
        ),
        r'\1"' + REDACTED + '"',
        needs=(":",),
        words=("private_key", "client_secret", "password"),
    ),
)


def _may_hold(shape: _Shape, text: str, lowered: str | None) -> bool:
    """False only when ``text`` cannot hold ``shape``: it lacks one of its ``needs``, or it
    is ASCII and lacks every one of its ``words`` (``lowered``: the text in lower case, None
    when it is not ASCII)."""
    for need in shape.needs:  # loops, not all()/any(): this runs for every text redacted
        if need not in text:
            return False
    if not shape.words or lowered is None:
        return True
    for word in shape.words:
        if word in lowered:
            return True
    return False


_BASE64_RUN = re.compile(rf"[{_B64_CHARS}]{{16,}}={{0,2}}")
_CREDENTIAL_PAIR = re.compile(r"[^\s:@]+@[^\s:@]+:\S{4,}")


def _decoded_pair(candidate: str) -> bool:
    """True when ``candidate`` is the base64 of ``someone@example:secret`` (a Basic credential
    without its "Basic " label): Jira's email and token, or any other site's."""
    padded = candidate + "=" * (-len(candidate) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            text = decode(padded.encode("ascii")).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if text.isprintable() and _CREDENTIAL_PAIR.fullmatch(text):
            return True
    return False


def _encodings(secret: str) -> Iterator[str]:
    """The forms a secret takes on its way through URLs, JSON and headers."""
    yield secret
    yield quote(secret, safe="")
    yield quote_plus(secret)
    yield json.dumps(secret)[1:-1]
    raw = secret.encode()
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode()
        yield text
        yield text.rstrip("=")


def _basic_pairs(user: str, secret: str) -> Iterator[str]:
    pair = f"{user}:{secret}".encode()
    for encoded in (base64.b64encode(pair), base64.urlsafe_b64encode(pair)):
        yield encoded.decode()
        yield encoded.decode().rstrip("=")


def url_password(value: str) -> list[str]:
    """The password of a URL (``scheme://user:password@host``; the last ``@`` ends it) or of
    a libpq keyword string (``host=db password=x``), raw and decoded; [] when there is none."""
    found: list[str] = []
    if "://" in value:
        rest = value.split("://", 1)[1]
        # Up to the first "/" after the last "@": an unencoded "@" belongs to the password.
        authority = rest
        at = rest.rfind("@")
        if at >= 0:
            slash = rest.find("/", at)
            authority = rest if slash < 0 else rest[:slash]
        if "@" in authority:
            userinfo = authority.rpartition("@")[0]
            if ":" in userinfo:
                found.append(userinfo.split(":", 1)[1])
        query = urlsplit(value).query if "?" in value else ""
        for match in re.finditer(r"(?i)(?:^|&)(?:password|sslpassword)=([^&]*)", query):
            found.append(match.group(1))
    for match in re.finditer(
        r"(?i)\b(?:password|sslpassword)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", value
    ):
        text = match.group(1)
        found.append(text[1:-1] if text.startswith("'") and text.endswith("'") else text)
    return [form for text in found if text for form in {text, unquote(text)}]


def _service_account_secrets(path: str) -> list[str]:
    """The private key (whole, and each line of its body) and key id of a key file."""
    try:
        source = Path(path)
        if not source.is_file() or source.stat().st_size > MAX_KEY_FILE_BYTES:
            return []
        info = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(info, dict):
        return []
    values: list[str] = []
    key = info.get("private_key")
    if isinstance(key, str):
        values.append(key)
        values.extend(
            line.strip()
            for line in key.splitlines()
            if line.strip() and not line.startswith("-----") and len(line.strip()) >= 16
        )
    for name in ("private_key_id", "client_secret"):
        if isinstance(info.get(name), str):
            values.append(info[name])
    return values


class Redactor:
    """Masks known secret values (in every encoding) and anything shaped like a credential."""

    def __init__(self, secrets: Iterable[str] = (), *, basic_user: str | None = None) -> None:
        values = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
        forms = {form for s in values for form in _encodings(s)}
        if basic_user:
            forms |= {form for s in values for form in _basic_pairs(basic_user, s)}
        self.secrets = sorted(
            (f for f in forms if len(f) >= MIN_SECRET_LENGTH), key=len, reverse=True
        )
        self._seen: dict[str, str] = {}
        """Texts already redacted, and what they became: a run redacts the same keys and
        values (a decision's fact names, a ticket's summary) many times over."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Redactor:
        values = [env.get(name, "") for name in SECRET_ENV_VARS]
        for name in URL_ENV_VARS:
            values.extend(url_password(env.get(name, "")))
        if env.get(SERVICE_ACCOUNT_ENV):
            values.extend(_service_account_secrets(env[SERVICE_ACCOUNT_ENV]))
        return cls(values, basic_user=env.get("JIRA_EMAIL") or None)

    def __call__(self, text: str) -> str:
        if not text:
            return text
        if len(text) > MEMO_TEXT:
            return self._redact(text)
        seen = self._seen.get(text)
        if seen is not None:
            return seen
        redacted = self._redact(text)
        if len(self._seen) >= MEMO_SIZE:
            self._seen.clear()
        self._seen[text] = redacted
        return redacted

    def _redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        # Lowered once: a replacement writes "[REDACTED]" and parts of its own match, so no
        # word a later shape looks for can appear (``needs`` are checked on the text as is).
        lowered = text.lower() if text.isascii() else None
        for shape in _PATTERNS:
            if _may_hold(shape, text, lowered):
                text = shape.pattern.sub(shape.replacement, text)
        return _BASE64_RUN.sub(
            lambda m: REDACTED if _decoded_pair(m.group(0)) else m.group(0), text
        )

    def data(self, value: Any) -> Any:
        """``value`` with every string inside it (keys too) redacted; other types unchanged."""
        kind = type(value)
        if kind is str:
            return self(value)
        if kind in _SCALARS:  # most of a decision's facts: nothing to look at
            return value
        if kind is dict:
            return {
                (self(k) if type(k) is str else self.data(k)): (
                    v if type(v) in _SCALARS else self.data(v)
                )
                for k, v in value.items()
            }
        if isinstance(value, str):  # a str subclass (an enum's value, say)
            return self(value)
        if isinstance(value, Mapping):
            return {self.data(k): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        if isinstance(value, set | frozenset):
            return sorted((self.data(v) for v in value), key=str)
        return value


_SCALARS = frozenset({int, float, bool, type(None)})
"""Types `Redactor.data` hands back as they are (their subclasses go the long way)."""


# -- the process-wide redactor -------------------------------------------------------------------

_lock = threading.Lock()
_current = Redactor()
"""Until `install` runs, the shape patterns still apply."""


def install(env: Mapping[str, str]) -> Redactor:
    """Build the redactor from ``env`` (the CLI calls this once, before anything can fail)."""
    global _current
    redactor = Redactor.from_env(env)
    with _lock:
        _current = redactor
    return redactor


def current() -> Redactor:
    return _current


def redact(text: str) -> str:
    """``text`` with every secret of this process masked: the one function every sink uses."""
    return _current(text)


def redact_data(value: Any) -> Any:
    """`redact` for JSON-like values (dicts, lists, strings)."""
    return _current.data(value)


class RedactingStream:
    """A text stream that redacts what is written to it (the CLI's stdout and stderr)."""

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner

    def write(self, text: str) -> int:
        self.inner.write(redact(text))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return bool(getattr(self.inner, "isatty", lambda: False)())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
