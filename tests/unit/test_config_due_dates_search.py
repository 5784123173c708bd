"""The due-date job's search: exact for date pickers, slack only for a date-time field."""

from __future__ import annotations

from datetime import date

from jobs.rules.config_due_dates import ConfigDueDatesConfig
from jobs.scheduled.config_due_dates import tasks_jql

MONDAY = date(2026, 11, 23)


def test_date_pickers_are_read_up_to_the_desks_today_and_no_further() -> None:
    jql = tasks_jql(ConfigDueDatesConfig(), "CS", MONDAY)

    assert '"Configuration Date" < "2026-11-24"' in jql
    assert '"QA Due Date" < "2026-11-24"' in jql
    assert 'duedate < "2026-11-24"' in jql
    assert "2026-11-25" not in jql
    assert jql.startswith('project = "CS" AND issuetype in ("Task") AND statusCategory != Done')


def test_a_date_time_field_gets_two_days_of_slack_for_jiras_timezone() -> None:
    jql = tasks_jql(ConfigDueDatesConfig(), "CS", MONDAY, frozenset({"QA Due Date"}))

    # Jira reads "2026-11-25" as midnight in its API user's timezone, at most a day away from
    # the desk's: every moment of the desk's Monday is before it.
    assert '"QA Due Date" < "2026-11-25"' in jql
    assert '"Configuration Date" < "2026-11-24"' in jql


def test_a_configured_search_is_taken_as_written() -> None:
    config = ConfigDueDatesConfig(jql="project = CS AND duedate <= now()")

    assert tasks_jql(config, "CS", MONDAY) == "project = CS AND duedate <= now()"
