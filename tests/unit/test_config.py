"""check-config catches each class of error, with the key path, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from jobs.config import ConfigError, JobConfig, load_settings
from jobs.durations import DurationField, parse_duration
from tests.conftest import CONFIG, TEMPLATES, write_settings


class SampleConfig(JobConfig):
    schedule: str = "*/15 * * * *"
    first_response: DurationField = parse_duration("2h")
    group_threshold: int = 5


MODELS = {"sample": SampleConfig}


def problems_in_text(tmp_path: Path, text: str) -> list[str]:
    """The problems of a settings file written exactly as ``text``."""
    path = tmp_path / "written.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, MODELS)
    return info.value.problems


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


def test_an_alias_without_its_anchor_is_refused_as_an_alias(tmp_path: Path) -> None:
    # No ``&`` in the file, so libyaml reads it first; its error gives way to the Python
    # loader's, which names the alias and its line.
    problems = problems_in_text(tmp_path, "desk:\n  name: ok\n  timezone: *somewhere\n")
    assert problems == ["line 3: not valid YAML: YAML aliases (*name) are not allowed in settings"]


SHAPES = [
    CONFIG.read_text(),
    "a: 1\nb: [1, 2.5, -3, 0x1f, 0o17, 1e3, .inf, -.Inf, .nan]\n",
    "when: 2026-12-07\nat: 2026-12-07T09:30:00+01:00\nplain: 2026-12-7\n",
    "flags: [yes, no, on, off, true, False, ~, null, Null]\n",
    "quoted: ['it''s', \"tab\\there\", \"\\u00e9\", 'R and D']\n"
    "multi: |\n  one\n  two\nfolded: >-\n  a\n  b\n",
    "? complex\n: key\nempty:\nlist:\n- - nested\n  - again\n- {a: 1, b: [x, y]}\n",
    "tagged: !!str 12\nbinary: !!binary aGk=\nset: !!set {a, b}\nomap: !!omap [a: 1, b: 2]\n",
    "unicode: \"caf\u00e9 \u65e5\u672c \U0001f600\"\ncron: '*/15 9-17 * * mon-fri'\n",
]


@pytest.mark.parametrize("text", SHAPES, ids=range(len(SHAPES)))
def test_libyaml_and_the_python_loader_read_a_settings_file_alike(text: str) -> None:
    from jobs.settings_file import _SafeLoader, loader_for

    fast = loader_for(text)
    if fast is _SafeLoader:
        pytest.skip("libyaml is not installed")
    assert yaml.load(text, Loader=fast) == yaml.load(text, Loader=_SafeLoader)  # noqa: S506


def test_the_shipped_settings_are_read_by_libyaml_when_it_is_installed() -> None:
    from jobs.settings_file import _SafeLoader, loader_for

    if not yaml.__with_libyaml__:
        pytest.skip("libyaml is not installed")
    assert loader_for(CONFIG.read_text()) is not _SafeLoader
    # A file that could hold an alias is read by the loader that refuses them.
    assert loader_for("a: &a [1]\nb: *a\n") is _SafeLoader


def test_a_date_that_is_no_date_is_a_config_error_at_its_line(tmp_path: Path) -> None:
    text = "calendar:\n  holidays:\n    extra: [2026-12-25, 2026-13-45]\n"
    [problem] = problems_in_text(tmp_path, text)
    assert problem.startswith("line 3: not valid YAML: '2026-13-45' is not a date or time")


def test_a_value_its_explicit_tag_cannot_be_is_a_config_error(tmp_path: Path) -> None:
    [problem] = problems_in_text(tmp_path, "run:\n  max_parallel_writes: !!int eight\n")
    assert problem == "not valid YAML: invalid literal for int() with base 10: 'eight'"


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


# -- every section refuses unknown keys --------------------------------------------------------


def _sections(model: type, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every mapping section of the settings, nested ones included (people.approver, ...);
    a list of sections is entered at its first item (notify.inhibit.0)."""
    import typing

    from jobs.sections import Section

    found = [path]
    for name, field in model.model_fields.items():
        for arm in (field.annotation, *typing.get_args(field.annotation)):
            if isinstance(arm, type) and issubclass(arm, Section):
                found.extend(_sections(arm, (*path, name)))
                break
            if typing.get_origin(arm) is list:
                [item] = typing.get_args(arm)
                if isinstance(item, type) and issubclass(item, Section):
                    found.extend(_sections(item, (*path, name, 0)))
                    break
    return found


def _real_model() -> type:
    from jobs.config import _settings_model
    from jobs.registry import all_jobs

    return _settings_model({n: j.spec.config_model for n, j in all_jobs().items()})


SECTIONS = _sections(_real_model())


def test_the_walk_reaches_nested_sections() -> None:
    assert ("people", "approver") in SECTIONS
    assert ("calendar", "holidays") in SECTIONS
    assert ("jobs", "approval_reminder") in SECTIONS
    assert len(SECTIONS) > 15


def _nested(path: tuple[str | int, ...], leaf: dict) -> dict:
    value: object = leaf
    for key in reversed(path):
        value = [value] if isinstance(key, int) else {key: value}
    assert isinstance(value, dict)
    return value


@pytest.mark.parametrize("section", SECTIONS, ids=lambda p: ".".join(map(str, p)) or "(top)")
def test_an_unknown_key_is_an_error_in_every_section(
    tmp_path: Path, section: tuple[str | int, ...]
) -> None:
    from jobs.registry import all_jobs

    overrides = _nested(section, {"typo_key": "x"})
    if section and section[0] == "people" and len(section) == 2:
        overrides = {"people": {section[1]: {"name": "Someone", "typo_key": "x"}}}
    path = write_settings(tmp_path, overrides)
    with pytest.raises(ConfigError) as info:
        load_settings(path, {n: j.spec.config_model for n, j in all_jobs().items()})
    key = ".".join(map(str, (*section, "typo_key")))
    assert any(p.startswith(f"{key}: unknown key") for p in info.value.problems), (
        info.value.problems
    )


def test_a_misspelt_role_is_an_error_naming_the_roles(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, {"people": {"aprover": {"name": "David Ellis"}}})
    assert any(p.startswith("people.aprover: unknown key") and "approver" in p for p in problems), (
        problems
    )


def test_an_enabled_approval_reminder_needs_an_approver(tmp_path: Path) -> None:
    from jobs.registry import all_jobs

    models = {n: j.spec.config_model for n, j in all_jobs().items()}
    data = yaml.safe_load(CONFIG.read_text())
    del data["people"]["approver"]
    data["templates_dir"] = str(TEMPLATES)
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_settings(path, models)
    assert any(
        p.startswith("people.approver: required by jobs.approval_reminder")
        for p in info.value.problems
    )

    data["jobs"]["approval_reminder"]["enabled"] = False
    path.write_text(yaml.safe_dump(data))
    assert "approver" not in load_settings(path, models).people


def test_escalate_to_must_name_a_configured_role(tmp_path: Path) -> None:
    from jobs.registry import all_jobs

    path = write_settings(
        tmp_path, {"jobs": {"unassigned_first_response": {"escalate_to": "boss"}}}
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, {n: j.spec.config_model for n, j in all_jobs().items()})
    assert any(
        p.startswith("jobs.unassigned_first_response.escalate_to: 'boss' is not a role")
        for p in info.value.problems
    )


def test_every_role_is_a_field_of_the_people_section() -> None:
    from jobs.config import ROLES, PeopleConfig

    assert set(PeopleConfig.model_fields) == set(ROLES)


# -- schedules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("0 0 * * * *", "6 fields"),
        ("0 9 30 2 *", "never fires"),
        ("0 9 * * MON", "not a number"),
        ("@hourly", "@-shortcut"),
    ],
)
def test_a_schedule_outside_the_common_cron_dialect_is_named(
    tmp_path: Path, schedule: str, message: str
) -> None:
    problems = problems_for(tmp_path, {"jobs": {"sample": {"schedule": schedule}}})
    assert any(p.startswith("jobs.sample.schedule:") and message in p for p in problems), problems


# -- durations have bounds ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "key", "message"),
    [
        ({"jobs": {"sample": {"realert": "0s"}}}, "jobs.sample.realert", "outside 1h-90d"),
        ({"jobs": {"sample": {"realert": "100d"}}}, "jobs.sample.realert", "outside 1h-90d"),
        ({"run": {"http_timeout": "0s"}}, "run.http_timeout", "outside 1s-5m"),
        ({"run": {"retry_budget": "1h"}}, "run.retry_budget", "outside 0m-15m"),
        ({"ledger": {"claim_ttl": "0s"}}, "ledger.claim_ttl", "outside 1m-6h"),
        ({"ledger": {"retention": "1d"}}, "ledger.retention", "outside 30d-3660d"),
        ({"jobs": {"sample": {"first_response": "1m"}}}, "jobs.sample.first_response", "5m-30d"),
        (
            {"jobs": {"sample": {"first_response": "2bd"}}},
            "jobs.sample.first_response",
            "wall-clock",
        ),
        ({"ledger": {"retention": "400bd"}}, "ledger.retention", "business days"),
        ({"jobs": {"sample": {"realert": "1bd"}}}, "jobs.sample.realert", "wall-clock"),
    ],
)
def test_a_duration_outside_its_range_is_named(
    tmp_path: Path, overrides: dict, key: str, message: str
) -> None:
    problems = problems_for(tmp_path, overrides)
    assert any(p.startswith(f"{key}: ") and message in p for p in problems), problems


def test_a_setting_counted_on_the_calendar_takes_business_days_within_its_range(
    tmp_path: Path,
) -> None:
    from jobs.registry import all_jobs

    models = {n: j.spec.config_model for n, j in all_jobs().items()}
    ok = write_settings(tmp_path, {"jobs": {"doc_test_followup": {"nudge_after": "30bd"}}})
    assert load_settings(ok, models).jobs["doc_test_followup"].nudge_after.business_days == 30
    too_long = write_settings(tmp_path, {"jobs": {"doc_test_followup": {"nudge_after": "31bd"}}})
    with pytest.raises(ConfigError) as info:
        load_settings(too_long, models)
    assert any(
        p.startswith("jobs.doc_test_followup.nudge_after: 31bd is outside 1bd-30bd")
        for p in info.value.problems
    )


def test_durations_at_their_bounds_load(tmp_path: Path) -> None:
    settings = load_settings(
        write_settings(
            tmp_path,
            {
                "run": {"retry_budget": "0s", "http_timeout": "1s"},
                "jobs": {"sample": {"realert": "1h", "first_response": "30d"}},
            },
            only_jobs=(),
        ),
        MODELS,
    )
    assert settings.jobs["sample"].realert == parse_duration("1h")


def test_every_duration_setting_has_its_own_range() -> None:
    """A new duration setting must say what range it accepts (README lists them)."""
    from jobs.durations import DURATION_BOUNDS, Duration
    from jobs.sections import Section

    def durations(model: type[Section]) -> set[str]:
        names = set()
        for name, field in model.model_fields.items():
            if field.annotation is Duration:
                names.add(name)
            for arm in (field.annotation, *getattr(field.annotation, "__args__", ())):
                if isinstance(arm, type) and issubclass(arm, Section):
                    names |= durations(arm)
        return names

    assert durations(_real_model()) - set(DURATION_BOUNDS) == set()


# -- URLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"jobs": {"sample": {"heartbeat_url": "hc-ping.com/abc"}}}, "jobs.sample.heartbeat_url"),
        ({"jobs": {"sample": {"heartbeat_url": "ftp://hc/abc"}}}, "jobs.sample.heartbeat_url"),
        ({"jobs": {"sample": {"heartbeat_format": "pingdom"}}}, "jobs.sample.heartbeat_format"),
        ({"metrics": {"pushgateway_url": "pushgateway:9091"}}, "metrics.pushgateway_url"),
    ],
)
def test_monitoring_urls_are_checked(tmp_path: Path, overrides: dict, key: str) -> None:
    problems = problems_for(tmp_path, overrides)
    assert any(p.startswith(f"{key}:") for p in problems), problems


# -- the calendar ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["business", "24x7"])
def test_a_calendar_with_no_working_weekday_is_refused(tmp_path: Path, mode: str) -> None:
    closed = {d: None for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    problems = problems_for(tmp_path, {"calendar": {"mode": mode, "hours": closed}})
    assert any(
        p.startswith("calendar.hours: ") and "no weekday has working hours" in p for p in problems
    )


def test_check_settings_names_an_unknown_holiday_subdivision(tmp_path: Path) -> None:
    from jobs.config import check_settings

    settings = load_settings(
        write_settings(tmp_path, {"calendar": {"holidays": {"subdivision": "XX"}}}, only_jobs=()),
        MODELS,
    )
    problems = check_settings(settings)
    assert problems and problems[0].startswith("calendar: holidays:") and "XX" in problems[0]


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


def test_an_unknown_key_with_a_line_break_is_quoted_in_its_one_line(tmp_path: Path) -> None:
    """A key is shown as written, unless it holds a space, a dot or a control character: then
    quoted, so the problem stays one line (and says where the odd key is)."""
    [problem] = problems_in_text(tmp_path, 'desk:\n  "time\\nzone": x\n')
    assert problem.startswith("desk.'time\\nzone': unknown key"), problem
    [problem] = problems_in_text(tmp_path, 'desk:\n  "time zone": x\n')
    assert problem.startswith("desk.'time zone': unknown key"), problem
    [problem] = problems_in_text(tmp_path, "desk:\n  tmezone: x\n")
    assert problem.startswith("desk.tmezone: unknown key"), problem
