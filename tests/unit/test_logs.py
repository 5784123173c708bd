from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from jobs.logs import LoggingSetupError, Redactor, log_level, setup_logging

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


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("", logging.INFO),
        ("debug", logging.DEBUG),
        (" WARNING ", logging.WARNING),
        ("warn", logging.WARNING),
    ],
)
def test_it_reads_the_log_level(value: str, level: int) -> None:
    assert log_level({"JOBS_LOG_LEVEL": value}) == level
    assert log_level({}) == logging.INFO


@pytest.mark.parametrize("value", ["verbose", "5", "10", "TRACE", "info;rm"])
def test_an_unknown_log_level_is_a_one_line_error_naming_the_variable(value: str) -> None:
    with pytest.raises(LoggingSetupError) as info:
        setup_logging({"JOBS_LOG_LEVEL": value}, stream=io.StringIO())
    assert str(info.value).startswith(f"JOBS_LOG_LEVEL={value!r} is not a log level")


@pytest.mark.security
def test_extra_fields_are_redacted_too() -> None:
    stream = io.StringIO()
    setup_logging(ENV, stream=stream)
    logging.getLogger("jobs.test").error("x", extra={"target": "xoxb-test-token-DO-NOT-LEAK"})
    assert "DO-NOT-LEAK" not in stream.getvalue()
    assert json.loads(stream.getvalue().splitlines()[-1])["target"] == "[REDACTED]"


def test_logs_go_to_a_file_only_when_a_directory_is_given(tmp_path: Path) -> None:
    stream = io.StringIO()
    folder = tmp_path / "logs" / "sla-monitor"
    setup_logging({**ENV, "JOBS_LOG_DIR": str(folder)}, stream=stream)
    log = logging.getLogger("jobs.test")
    log.warning("first", extra={"job": "x"})
    path = folder / "jobs.log"
    assert oct(folder.stat().st_mode & 0o777) == oct(0o750)
    assert oct(path.stat().st_mode & 0o777) == oct(0o640)
    # logrotate moves the file away; the next line starts a new one (WatchedFileHandler).
    path.rename(folder / "jobs.log.1")
    log.warning("second with xoxb-test-token-DO-NOT-LEAK")
    assert json.loads(path.read_text().splitlines()[-1])["msg"] == "second with [REDACTED]"
    assert "first" in (folder / "jobs.log.1").read_text()
    assert "first" in stream.getvalue() and "second" in stream.getvalue()
    setup_logging(ENV, stream=io.StringIO())  # closes the file handler
    assert not any(isinstance(h, logging.FileHandler) for h in logging.getLogger().handlers)


def test_an_unwritable_log_directory_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LoggingSetupError, match=r"JOBS_LOG_DIR=.*cannot write a log file"):
        setup_logging({"JOBS_LOG_DIR": str(blocker / "logs")}, stream=io.StringIO())
