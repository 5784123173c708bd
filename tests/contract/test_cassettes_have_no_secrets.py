"""No cassette, of any system, carries a credential: cassettes are checked in and shared."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

CASSETTES = Path(__file__).parent / "cassettes"

TEST_EMAILS = ("agent@example.test",)
TEST_TOKENS = ("test-jira-token-DO-NOT-LEAK",)

FORBIDDEN = [
    (re.compile(r"[\w.\-]*DO-NOT-LEAK"), "a test token (…DO-NOT-LEAK)"),
    (re.compile(r"Basic\s+[A-Za-z0-9+/=]{6,}"), "a Basic auth value"),
    (re.compile(r"Bearer "), "a Bearer token"),
    (re.compile(r"Bearer\s+[A-Za-z0-9._~+/\-]{8,}"), "a Bearer token"),
    (
        re.compile(r"^\s*['\"]?authorization['\"]?\s*:", re.IGNORECASE | re.MULTILINE),
        "an Authorization header",
    ),
    (re.compile(r"xox[abpr]-[A-Za-z0-9-]{6,}"), "a Slack token"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
]


def _cassettes() -> list[Path]:
    return sorted(p for p in CASSETTES.rglob("*") if p.is_file())


def _encoded_credentials() -> list[str]:
    return [
        base64.b64encode(f"{email}:{token}".encode()).decode()
        for email in TEST_EMAILS
        for token in TEST_TOKENS
    ]


@pytest.mark.parametrize(
    "leak",
    [
        "Authorization:\n    - Basic YWdlbnRAZXhhbXBsZS50ZXN0OnRva2Vu",
        "token: test-jira-token-DO-NOT-LEAK",
        '"Authorization": "Bearer ya29.a0AfH6SMBx"',
        "xoxb-1234567890-abcdef",
    ],
)
def test_the_scan_would_catch_a_leak(leak: str) -> None:
    assert any(pattern.search(leak) for pattern, _what in FORBIDDEN)


def test_there_are_cassettes_to_check() -> None:
    assert any(p.name.startswith("jira_") for p in _cassettes())


@pytest.mark.security
@pytest.mark.parametrize("cassette", _cassettes(), ids=lambda p: p.name)
def test_the_cassette_has_no_secrets(cassette: Path) -> None:
    text = cassette.read_text(encoding="utf-8", errors="replace")

    for pattern, what in FORBIDDEN:
        found = pattern.search(text)
        assert found is None, f"{cassette.name} contains {what}: {found.group(0)[:40]!r}…"
    for encoded in _encoded_credentials():
        assert encoded not in text, f"{cassette.name} contains base64 email:token credentials"
