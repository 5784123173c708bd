"""Jira contract fixtures: the emulator on 127.0.0.1 with a small desk, and an adapter on it.

The retry budget records every wait in ``slept`` instead of sleeping, so retry tests are instant
and can assert exactly what ``Retry-After`` made the adapter wait.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from emulators.fixtures import PEOPLE_FILE, load_desk
from emulators.jira import JiraEmulator
from jobs.adapters.http import CallCounter, RetryBudget
from jobs.adapters.jira import JiraAdapter

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
JIRA_DESK = Path(__file__).parent / "fixtures" / "jira_desk.yaml"


def jira_desk_data() -> dict[str, Any]:
    return load_desk([PEOPLE_FILE, JIRA_DESK], NOW)


@pytest.fixture
def jira_desk() -> dict[str, Any]:
    return jira_desk_data()


@pytest.fixture
def jira_emulator(jira_desk: dict[str, Any]) -> Iterator[JiraEmulator]:
    emulator = JiraEmulator(jira_desk, clock=lambda: NOW)
    emulator.start("127.0.0.1", 0)
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def jira_counter() -> CallCounter:
    return CallCounter()


@pytest.fixture
def jira_slept() -> list[float]:
    return []


@pytest.fixture
def jira_budget(jira_slept: list[float]) -> RetryBudget:
    return RetryBudget(total_seconds=60.0, max_attempts=4, sleep=jira_slept.append)


@pytest.fixture
def jira_adapter(
    jira_emulator: JiraEmulator, jira_counter: CallCounter, jira_budget: RetryBudget
) -> JiraAdapter:
    return JiraAdapter(
        jira_emulator.url,
        jira_emulator.email,
        jira_emulator.token,
        counter=jira_counter,
        budget=jira_budget,
        timeout=5.0,
    )
