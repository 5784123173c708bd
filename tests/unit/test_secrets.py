"""One redactor for every sink: each form a secret travels in is masked, ordinary text is not."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs import secrets
from jobs.secrets import REDACTED, RedactingStream, Redactor, url_password

pytestmark = pytest.mark.security

EMAIL = "sla-bot@desk.example"
JIRA_TOKEN = "ATATT3xFfGF0-jira+token/DO-NOT-LEAK="
SLACK_BOT = "xoxb-1111-2222-slackbot-DO-NOT-LEAK"
SLACK_APP = "xapp-1-A0APPTOKEN-3333-DO-NOT-LEAK"
SIGNING = "8f14e45fceea167a5a36dedd4bea2543"
PG_PASSWORD = "pg@Secret/DO-NOT-LEAK:1"
KEY_BODY = [
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
    "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu",
    "NMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEovGhLa0VzMaQ8s+CLOyS56YyCFGeJZ",
]
PRIVATE_KEY = (
    "-----BEGIN PRIVATE KEY-----\n" + "\n".join(KEY_BODY) + "\n-----END PRIVATE KEY-----\n"
)
KEY_ID = "1f2e3d4c5b6a79880706f5e4d3c2b1a0ffeeddcc"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": "sheets@project.iam.gserviceaccount.example",
                "private_key_id": KEY_ID,
                "private_key": PRIVATE_KEY,
            }
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def env(key_file: Path) -> dict[str, str]:
    return {
        "JIRA_EMAIL": EMAIL,
        "JIRA_API_TOKEN": JIRA_TOKEN,
        "SLACK_BOT_TOKEN": SLACK_BOT,
        "SLACK_APP_TOKEN": SLACK_APP,
        "SLACK_SIGNING_SECRET": SIGNING,
        "JOBS_LEDGER_URL": f"postgresql://sla:{quote(PG_PASSWORD, safe='')}@db:5432/sla",
        "GOOGLE_SERVICE_ACCOUNT_FILE": str(key_file),
    }


def _basic(user: str, secret: str) -> str:
    return base64.b64encode(f"{user}:{secret}".encode()).decode()


FORMS = {
    "raw Jira token": (JIRA_TOKEN, JIRA_TOKEN),
    "Basic header": (
        f"Authorization: Basic {_basic(EMAIL, JIRA_TOKEN)}",
        _basic(EMAIL, JIRA_TOKEN),
    ),
    "bare base64 of email:token": (
        f"echo {_basic(EMAIL, JIRA_TOKEN)} back",
        _basic(EMAIL, JIRA_TOKEN),
    ),
    "urlsafe base64 of email:token without padding": (
        base64.urlsafe_b64encode(f"{EMAIL}:{JIRA_TOKEN}".encode()).decode().rstrip("="),
        base64.urlsafe_b64encode(f"{EMAIL}:{JIRA_TOKEN}".encode()).decode().rstrip("="),
    ),
    "URL-encoded token": (f"?token={quote(JIRA_TOKEN, safe='')}", quote(JIRA_TOKEN, safe="")),
    "form-encoded token": (f"t={quote_plus(JIRA_TOKEN)}", quote_plus(JIRA_TOKEN)),
    "JSON-escaped token": (json.dumps({"t": JIRA_TOKEN}), JIRA_TOKEN.replace("/", "\\/")),
    "token in a URL's userinfo": (
        f"GET https://{quote(EMAIL, safe='')}:{JIRA_TOKEN}@jira.example/rest failed",
        JIRA_TOKEN,
    ),
    "Slack bot token": (f"invalid_auth for {SLACK_BOT}", SLACK_BOT),
    "Slack app token": (f"socket {SLACK_APP}", SLACK_APP),
    "Slack signing secret": (f"signature base {SIGNING}", SIGNING),
    "PostgreSQL password": (f"auth failed ({PG_PASSWORD})", PG_PASSWORD),
    "PostgreSQL password URL-encoded": (
        f"postgresql://sla:{quote(PG_PASSWORD, safe='')}@db/sla",
        quote(PG_PASSWORD, safe=""),
    ),
    "PostgreSQL password with an unencoded @ in the URL": (
        f"postgresql://sla:{PG_PASSWORD}@db/sla",
        "Secret",
    ),
    "libpq keyword password": ("host=db user=sla password='s3cr3t pass' dbname=sla", "s3cr3t"),
    "service-account private key (PEM)": (f"key: {PRIVATE_KEY}", KEY_BODY[1]),
    "service-account private key (JSON-escaped)": (
        json.dumps({"private_key": PRIVATE_KEY}),
        KEY_BODY[1],
    ),
    "one line of the private key": (f"bad padding near {KEY_BODY[2]}", KEY_BODY[2]),
    "a private key cut short": (PRIVATE_KEY[:120], KEY_BODY[0][:40]),
    "service-account key id": (f"kid={KEY_ID}", KEY_ID),
    "Google access token": ("Bearer-less ya29.a0AfB_byC-1234567890abcdefghijklmn", "ya29.a0Af"),
    "another site's Basic credential": (_basic("ops@other.example", "hunter22"), "b3Bz"),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_it_redacts_every_form_of_every_secret(form: str, env: dict[str, str]) -> None:
    text, secret_part = FORMS[form]
    redacted = Redactor.from_env(env)(text)
    assert secret_part not in redacted, redacted
    assert "DO-NOT-LEAK" not in redacted
    assert REDACTED in redacted


@pytest.mark.parametrize(
    "text",
    [
        "read failed: jira: HTTP 429 rate limited; retry after 30 s",
        "SS-123 assigned to maya.patel@goeverbright.example after 2 h 13 m",
        "password reset requested by the customer",
        "https://jira.example/browse/SS-12 and https://docs.google.com/spreadsheets/d/1AbC/edit",
        "Basic questions about EB financing",
    ],
)
def test_ordinary_text_is_left_alone(text: str, env: dict[str, str]) -> None:
    assert Redactor.from_env(env)(text) == text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("postgresql://sla:p%40ss@db/sla", {"p%40ss", "p@ss"}),
        ("postgresql://sla:p@ss@db:5432/sla", {"p@ss"}),
        ("postgresql://db/sla?user=sla&password=s3cret", {"s3cret"}),
        ("host=db password=hunter2 user=sla", {"hunter2"}),
        ("host=db password='two words' user=sla", {"two words"}),
        ("postgresql://sla@db/sla", set()),
        ("sqlite:///.state/ledger.db", set()),
    ],
)
def test_it_finds_the_password_of_a_connection_string(value: str, expected: set[str]) -> None:
    assert set(url_password(value)) == expected


def test_redact_data_reaches_every_string_in_a_payload(env: dict[str, str]) -> None:
    secrets.install(env)
    payload = {"errors": [f"slack: {SLACK_BOT}"], "facts": {JIRA_TOKEN: ("x", PG_PASSWORD)}, "n": 3}
    shown = json.dumps(secrets.redact_data(payload))
    assert "DO-NOT-LEAK" not in shown and '"n": 3' in shown


def test_redact_data_reaches_strings_of_every_kind_and_keeps_the_rest(
    env: dict[str, str],
) -> None:
    from collections import OrderedDict
    from enum import StrEnum

    class Shown(StrEnum):
        TOKEN = f"token {SLACK_BOT}"

    secrets.install(env)
    payload = {
        "enum": Shown.TOKEN,
        "ordered": OrderedDict([(JIRA_TOKEN, 1)]),
        "nested": {7: {"deep": [f"pg {PG_PASSWORD}", {JIRA_TOKEN}]}},
        "plain": (1, 2.5, True, None),
    }
    redacted = secrets.redact_data(payload)
    assert "DO-NOT-LEAK" not in json.dumps(redacted)
    assert redacted["plain"] == [1, 2.5, True, None]
    assert redacted["nested"][7]["deep"][1] == [REDACTED]
    assert redacted["enum"] == f"token {REDACTED}"


def test_the_stream_the_cli_prints_to_is_redacted(env: dict[str, str]) -> None:
    secrets.install(env)
    target = io.StringIO()
    stream = RedactingStream(target)
    print(f"error: refused {JIRA_TOKEN}", file=stream)  # type: ignore[arg-type]
    assert "DO-NOT-LEAK" not in target.getvalue() and REDACTED in target.getvalue()


def test_the_ledger_the_pipeline_writes_through_stores_no_secret(
    env: dict[str, str], tmp_path: Path
) -> None:
    from jobs.ledger import open_ledger
    from jobs.ledger.base import Decision

    secrets.install(env)
    ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")  # as the CLI opens it
    at = datetime(2026, 11, 23, 14, tzinfo=UTC)
    ledger.record_decisions(
        [
            Decision(
                at,
                "r1",
                "job",
                "rule",
                "SS-1",
                "",
                "failed",
                f"slack: {SLACK_BOT} rejected",
                {"echo": f"Basic {_basic(EMAIL, JIRA_TOKEN)}"},
                "slack_post #c",
            )
        ]
    )
    ledger.add_silence(
        "SS-1",
        job=None,
        reason=f"token {JIRA_TOKEN}",
        author="ops",
        now=at,
        until=at.replace(day=24),
    )
    ledger.add_silence_unless_covered(
        "SS-2",
        job="job",
        reason=f"Snooze 4 h, echoed {SLACK_BOT}",
        author="ops",
        now=at,
        until=at.replace(day=24),
        covered_until=at.replace(day=24),
    )
    ledger.close()
    stored = "".join(p.read_bytes().decode("utf-8", "replace") for p in tmp_path.glob("ledger.db*"))
    assert "DO-NOT-LEAK" not in stored
    assert _basic(EMAIL, JIRA_TOKEN) not in stored
    assert REDACTED in stored


def test_a_chain_step_s_error_is_stored_redacted_and_its_action_untouched(
    env: dict[str, str], tmp_path: Path
) -> None:
    from jobs.ledger import open_ledger
    from jobs.ledger.base import Chain

    secrets.install(env)
    at = datetime(2026, 11, 23, 14, tzinfo=UTC)
    action = {"kind": "jira_public_comment", "text": "Hi, see ref Basic questions"}
    chain = Chain(
        "c1",
        "job",
        (),
        ({"action": action, "status": "failed", "error": f"slack: echoed {SLACK_BOT}"},),
        at,
        at,
    )
    ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")  # as the CLI opens it
    ledger.save_chain(chain)
    [stored] = ledger.chains("job")
    ledger.close()
    assert stored.steps[0]["error"] == f"slack: echoed {REDACTED}"
    assert stored.steps[0]["action"] == action


# -- the shapes' quick checks -----------------------------------------------------------------

_PIECES = [
    "authorization: ",
    "AUTHORIZATION=",
    'Authorization": "',
    "aUtHoRiZaTiOn ",
    "authoriﬁzation",
    "Bearer ",
    "BASIC ",
    "bearer\t",
    "ſecret",  # a long s: an s to a case-insensitive pattern
    "\u212a",  # the Kelvin sign: a k to a case-insensitive pattern
    "İ",  # a dotted capital I: an i to a case-insensitive pattern
    "paſſword=",
    "PASSWORD = ",
    "pwd=",
    "client_secret=",
    "Api_Key=",
    "apikey=",
    "access_token=",
    "REFRESH_TOKEN=",
    "private_\u212aey=",
    '"private_key": "',
    "'password':'",
    '"client_secret" : "',
    "https://user:",
    "postgres://",
    "@db.example/x",
    "@",
    ":",
    "=",
    "'",
    '"',
    "xoxb-",
    "xoxp-",
    "xapp-1-",
    "ya29.",
    "1//",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "\\n",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef",
    "c2xhLWJvdEBkZXNrLmV4YW1wbGU6c2VjcmV0LXRva2Vu",
    "dTpwYXNz",  # "u:pass": a Basic value too short for the base64 check
    "DO-NOT-LEAK",
    "0123456789",
    " ",
    "\n",
    "Coastal Sun Power",
    "2026-11-23T10:00:00-05:00",
    "é",
]


def _every_shape_applied(redactor: Redactor, text: str) -> str:
    """What `Redactor._redact` did before its quick checks: every pattern on every text."""
    for secret in redactor.secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for shape in secrets._PATTERNS:
        text = shape.pattern.sub(shape.replacement, text)
    return secrets._BASE64_RUN.sub(
        lambda m: REDACTED if secrets._decoded_pair(m.group(0)) else m.group(0), text
    )


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES) | st.text(max_size=6), max_size=12))
def test_the_quick_checks_never_skip_a_shape_that_is_there(pieces: list[str]) -> None:
    """A shape is skipped only for a text it cannot be in: the same redaction as running
    every pattern, for texts made of credentials' pieces, their letters in any case, and
    letters a case-insensitive pattern folds (the Kelvin sign, a long s, a dotted I)."""
    redactor = Redactor([JIRA_TOKEN, SLACK_BOT], basic_user=EMAIL)
    text = "".join(pieces)
    assert redactor._redact(text) == _every_shape_applied(redactor, text)


@pytest.mark.parametrize(
    "text",
    [
        "password=hunter2hunter2",
        "Authorization: abcdefgh12345678",
        "auth with \u212aelvin: aUTHORIZATION=abcdefgh1234",
        "paſſword=ſecretvalue1",  # long s: folded by the pattern, not by str.lower
        "see https://bob:pa55word@db.example/x",
        '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIE"}',
        "Bearer abcdefghijklmnop1234",
        "Basic dTpwYXNz",
        "header bAsIc dTpwYXNz",
        "token xoxb-1111-2222-abc",
    ],
)
def test_each_shape_is_still_masked(text: str) -> None:
    redactor = Redactor()
    assert redactor._redact(text) == _every_shape_applied(redactor, text) != text
