from __future__ import annotations

import io
import json
import logging

import pytest

from jobs.logs import Redactor, setup_logging

ENV = {
    "JIRA_API_TOKEN": "test-jira-token-DO-NOT-LEAK",
    "SLACK_BOT_TOKEN": "xoxb-test-token-DO-NOT-LEAK",
    "JOBS_LEDGER_URL": "postgresql://sla:pg-secret-DO-NOT-LEAK@db:5432/sla",
}


@pytest.mark.security
@pytest.mark.parametrize(
    "text",
    [
        "token test-jira-token-DO-NOT-LEAK in a url",
        "headers {'Authorization': 'Bearer xoxb-test-token-DO-NOT-LEAK'}",
        "Authorization: Basic YWdlbnRAZXhhbXBsZS50ZXN0OnNlY3JldA==",
        "cannot connect to postgresql://sla:pg-secret-DO-NOT-LEAK@db:5432/sla",
        "a stray xoxp-123-456-abcdef token",
    ],
)
def test_it_redacts_secrets_in_any_message(text: str) -> None:
    redacted = Redactor.from_env(ENV)(text)
    assert "DO-NOT-LEAK" not in redacted
    assert "YWdlbnRAZXhhbXBsZS50ZXN0OnNlY3JldA==" not in redacted
    assert "xoxp-123" not in redacted
    assert "[REDACTED]" in redacted


@pytest.mark.security
def test_json_logs_redact_messages_and_tracebacks() -> None:
    stream = io.StringIO()
    setup_logging(ENV, stream=stream)
    log = logging.getLogger("jobs.test")
    try:
        raise RuntimeError("auth failed for test-jira-token-DO-NOT-LEAK")
    except RuntimeError:
        log.exception("request failed with %s", "xoxb-test-token-DO-NOT-LEAK", extra={"job": "x"})
    line = stream.getvalue().strip().splitlines()[-1]
    record = json.loads(line)
    assert record["job"] == "x"
    assert "DO-NOT-LEAK" not in stream.getvalue()
