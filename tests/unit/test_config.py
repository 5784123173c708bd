"""check-config catches each class of error, with the key path, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.config import ConfigError, JobConfig, load_settings
from jobs.durations import DurationField, parse_duration
from tests.conftest import write_settings


class SampleConfig(JobConfig):
    schedule: str = "*/15 * * * *"
    first_response: DurationField = parse_duration("2h")
    group_threshold: int = 5


MODELS = {"sample": SampleConfig}


def problems_for(tmp_path: Path, overrides: dict) -> list[str]:
    path = write_settings(tmp_path, overrides, only_jobs=())
    with pytest.raises(ConfigError) as info:
        load_settings(path, MODELS)
    return info.value.problems


def test_it_loads_the_shipped_settings_with_sop_defaults(tmp_path: Path) -> None:
    settings = load_settings(write_settings(tmp_path, only_jobs=()), MODELS)
    assert settings.desk.service_desk_project == "SS"
    assert settings.desk.config_project == "CS"
    assert settings.people["approver"].name == "David Ellis"
    assert settings.sheet.name_column == "B" and settings.sheet.status_column == "L"
    assert settings.jobs["sample"].first_response == parse_duration("2h")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"desk": {"timezon": "UTC"}}, "desk.timezon: unknown key"),
        ({"jobs": {"sample": {"group_threshold": "many"}}}, "jobs.sample.group_threshold:"),
        ({"jobs": {"sample": {"first_response": "2x"}}}, "jobs.sample.first_response: '2x'"),
        (
            {"jobs": {"sample": {"schedule": "every monday"}}},
            "jobs.sample.schedule: 'every monday'",
        ),
        ({"desk": {"timezone": "Mars/Olympus"}}, "desk.timezone: 'Mars/Olympus' is not an IANA"),
        ({"calendar": {"hours": {"mon": "17:00-09:00"}}}, "calendar.hours: mon"),
        ({"desk": {"service_desk_project": "ss"}}, "desk.service_desk_project"),
        ({"sheet": {"name_column": "2"}}, "sheet.name_column: '2' is not a column letter"),
        ({"people": {"approver": {"emal": "x"}}}, "people.approver.emal: unknown key"),
        ({"calendar": {"holidays": {"country": "Atlantis"}}}, "calendar.holidays.country"),
        ({"sheet": {"approved_statuses": []}}, "sheet.approved_statuses"),
        ({"sheet": {"approved_statuses": ["Approved\nOR 1=1"]}}, "sheet.approved_statuses"),
        ({"people": {"approver": {"jira_account_id": 'a"b\n'}}}, "line break"),
        ({"jobs": {"sample": {"schedule": "0 * * * *\t"}}}, "jobs.sample.schedule"),
    ],
)
def test_it_names_the_key_of_each_kind_of_error(
    tmp_path: Path, overrides: dict, expected: str
) -> None:
    problems = problems_for(tmp_path, overrides)
    assert any(expected in p for p in problems), problems


def test_it_reports_every_problem_at_once(tmp_path: Path) -> None:
    problems = problems_for(
        tmp_path,
        {
            "desk": {"timezone": "Nowhere/Land"},
            "jobs": {"sample": {"first_response": "soon", "schedule": "nope"}},
        },
    )
    assert len(problems) == 3


def test_it_rejects_business_days_mixed_with_hours(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, {"jobs": {"sample": {"first_response": "3bd2h"}}})
    assert problems and problems[0].startswith("jobs.sample.first_response:")


def test_it_says_which_file_cannot_be_read(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_settings(missing, MODELS)
    assert str(missing) in str(info.value)
    assert "cannot read" in str(info.value)


def test_it_refuses_yaml_aliases_so_a_billion_laughs_file_cannot_expand(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text('a: &a ["x","x"]\nb: &b [*a,*a]\nc: [*b,*b]\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, MODELS)
    assert "aliases" in str(info.value)


def test_it_refuses_very_deep_nesting(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("desk: " + "[" * 200 + "]" * 200 + "\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, MODELS)
    assert "nesting" in str(info.value)


def test_it_points_at_the_line_of_a_yaml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("desk:\n  name: ok\n  timezone: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, MODELS)
    assert "line" in str(info.value) and "not valid YAML" in str(info.value)


def test_a_job_missing_from_the_file_runs_with_its_defaults(tmp_path: Path) -> None:
    settings = load_settings(write_settings(tmp_path, {"jobs": {}}, only_jobs=()), MODELS)
    assert settings.jobs["sample"].schedule == "*/15 * * * *"


# -- jira: field and issue type ids ------------------------------------------------------------


def test_the_jira_section_maps_our_field_names_and_issue_types_to_ids(tmp_path: Path) -> None:
    overrides = {
        "jira": {
            "fields": {"Organizations": "customfield_10002", "QA Due Date": "customfield_10041"},
            "issue_types": {"Task": "10002"},
        }
    }

    settings = load_settings(write_settings(tmp_path, overrides, only_jobs=()), MODELS)

    assert settings.jira.fields == {
        "Organizations": "customfield_10002",
        "QA Due Date": "customfield_10041",
    }
    assert settings.jira.issue_types == {"Task": "10002"}


def test_without_a_jira_section_nothing_is_configured(tmp_path: Path) -> None:
    settings = load_settings(write_settings(tmp_path, only_jobs=()), MODELS)

    assert settings.jira.fields == {} and settings.jira.issue_types == {}


@pytest.mark.parametrize(
    ("jira", "expected"),
    [
        ({"fields": {"Organisation": "customfield_1"}}, "'Organisation' is not a field the jobs"),
        ({"fields": {"Channel": "10043"}}, "Channel: '10043' is not a custom field id"),
        ({"fields": {"Channel": "customfield_"}}, "is not a custom field id"),
        ({"issue_types": {"Task": "Aufgabe"}}, "Task: 'Aufgabe' is not an issue type id"),
        ({"field": {}}, "jira.field: unknown key"),
    ],
)
def test_a_jira_setting_that_cannot_be_an_id_is_named(
    tmp_path: Path, jira: dict, expected: str
) -> None:
    problems = problems_for(tmp_path, {"jira": jira})

    assert any(expected in p for p in problems), problems
