"""Bad configuration: every setting wrong in turn (generated from the settings model), files that
cannot be read, YAML bombs and deep nesting, templates with unknown variables.

Each must end in exit code 2 with one line per problem naming the key (or file and line) and
no traceback, before anything is read from or sent to Jira, Slack or the sheet.
"""

from __future__ import annotations

import functools
import shutil
import types
import typing
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jobs.config
from jobs.durations import Duration
from jobs.sections import Section
from tests.conftest import TEMPLATES, run_cli, write_settings
from tests.reliability.conftest import CASES, TRACEBACK, ReliabilityDesk

pytestmark = pytest.mark.badinput


@functools.cache
def _cached_model(models: tuple[tuple[str, type], ...]) -> type[Section]:
    return _REAL_SETTINGS_MODEL(dict(models))


_REAL_SETTINGS_MODEL = jobs.config._settings_model


@pytest.fixture(autouse=True)
def _build_the_settings_model_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building the settings model takes a tenth of a second; the checks under test do not
    depend on it being rebuilt, and there are a few hundred of them."""
    monkeypatch.setattr(
        jobs.config,
        "_settings_model",
        lambda job_models: _cached_model(tuple(sorted(job_models.items()))),
    )


def _job_models() -> dict[str, type[jobs.config.JobConfig]]:
    from jobs.registry import all_jobs

    return {name: job.spec.config_model for name, job in all_jobs().items()}


# -- every field wrong in turn --------------------------------------------------------------------


def _optional_inner(annotation: Any) -> Any:
    """``X | None`` -> X (the wrong value for X is wrong for the union too)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        arms = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(arms) == 1:
            return arms[0]
    return annotation


def _wrong_value(annotation: Any) -> Any:
    """A value of the wrong type for ``annotation``, as a YAML file could hold it."""
    inner = _optional_inner(annotation)
    origin = typing.get_origin(inner)
    if inner is bool:
        return "perhaps"
    if inner in (int, float):
        return "lots"
    if inner is str:
        return ["not", "text"]
    if inner is Duration:
        return "soon"
    if inner is date:
        return "someday"
    if origin is typing.Literal:
        return "no-such-choice"
    if origin is list:
        return "not a list"
    if origin is dict or (isinstance(inner, type) and issubclass(inner, Section)):
        return ["not", "a", "mapping"]
    if origin in (typing.Union, types.UnionType):
        # A choice of shapes (a word or a mapping): a number is none of them, unless one arm
        # takes numbers.
        arms = typing.get_args(inner)
        if not any(a in (int, float) for a in arms):
            return 42
    raise AssertionError(f"no wrong value for {annotation!r}: teach _wrong_value this type")


def _wrong_settings(model: type[Section], path: tuple[str, ...] = ()) -> Iterator[Any]:
    """(key path, wrong value) for every field of ``model``, sections and their leaves."""
    for name, field in model.model_fields.items():
        where = (*path, name)
        inner = _optional_inner(field.annotation)
        yield where, _wrong_value(field.annotation)
        if isinstance(inner, type) and issubclass(inner, Section):
            yield from _wrong_settings(inner, where)
        elif typing.get_origin(inner) is dict:
            value_type = typing.get_args(inner)[1]
            if isinstance(value_type, type) and issubclass(value_type, Section):
                # A mapping of sections (people by role): each field of one entry.
                yield from _wrong_settings(value_type, (*where, "approver"))


def _nested(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    for key in reversed(path):
        value = {key: value}
    return value


WRONG = [
    pytest.param(path, value, id=".".join(path))
    for path, value in _wrong_settings(jobs.config._settings_model(_job_models()))
]


def test_the_settings_model_has_fields_for_every_job() -> None:
    named = {p.values[0] for p in WRONG}
    for job in _job_models():
        assert ("jobs", job, "schedule") in named
    assert len(WRONG) > 100


@pytest.mark.parametrize(("path", "value"), WRONG)
def test_check_config_names_each_setting_that_has_the_wrong_type(
    path: tuple[str, ...], value: Any, tmp_path: Path, figure: Any
) -> None:
    key = ".".join(path)
    scenario = figure.bad_input(f"settings: {key} = {value!r}")
    settings = write_settings(tmp_path, _nested(path, value))

    result = run_cli(["check-config", "--config", str(settings)], {})

    lines = result.err.strip().splitlines()
    scenario.traceback = TRACEBACK in result.err
    scenario.one_line = bool(lines) and all(key in line for line in lines)
    assert result.code == 2, result.err or result.out
    assert lines and lines[0].startswith("error: "), result.err
    assert all(key in line for line in lines), result.err
    assert not scenario.traceback


# -- files that are not settings ------------------------------------------------------------------


def _billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    return "\n".join(lines) + "\n"


def _deep_mapping(levels: int) -> str:
    return "".join(f"{'  ' * n}level{n}:\n" for n in range(levels)) + "  " * levels + "x: 1\n"


UNREADABLE: list[Any] = [
    pytest.param("missing", None, "cannot read the file", id="missing-file"),
    pytest.param("directory", None, "cannot read the file", id="a-directory"),
    pytest.param("bytes", b"desk:\n  name: \xff\xfe\x00bad\n", "not UTF-8", id="not-utf8"),
    pytest.param("text", "- just\n- a\n- list\n", "top level must be a mapping", id="a-list"),
    pytest.param("text", "desk: [unclosed\n", "not valid YAML", id="yaml-syntax"),
    pytest.param("text", "desk:\n\tname: tabs\n", "not valid YAML", id="tab-indentation"),
    pytest.param(
        "text", "desk: {name: x}\n" + "#" * 1_100_000 + "\n", "at most 1 MB", id="larger-than-1mb"
    ),
    pytest.param("text", _billion_laughs(), "aliases", id="billion-laughs"),
    pytest.param(
        "text", "a: " + "[" * 50_000 + "]" * 50_000 + "\n", "nesting deeper", id="deep-flow-nesting"
    ),
    pytest.param("text", _deep_mapping(40), "nesting deeper", id="deep-block-nesting"),
    pytest.param(
        "text",
        "desk: !!python/object/apply:os.system ['true']\n",
        "not valid YAML",
        id="python-tag",
    ),
]


@pytest.mark.parametrize(("kind", "content", "message"), UNREADABLE)
def test_a_settings_file_that_cannot_be_used_is_one_line_naming_the_file(
    kind: str, content: Any, message: str, tmp_path: Path, figure: Any, request: Any
) -> None:
    scenario = figure.bad_input(f"settings file: {request.node.callspec.id}")
    path = tmp_path / "settings.yaml"
    if kind == "directory":
        path.mkdir()
    elif kind == "bytes":
        path.write_bytes(content)
    elif kind == "text":
        path.write_text(content, encoding="utf-8")

    result = run_cli(["check-config", "--config", str(path)], {})

    lines = result.err.strip().splitlines()
    scenario.traceback = TRACEBACK in result.err
    scenario.one_line = len(lines) == 1 and str(path) in lines[0]
    assert result.code == 2, result.err
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: "), result.err
    assert message in lines[0], lines[0]
    assert not scenario.traceback


# -- templates ------------------------------------------------------------------------------------


def _template_specs() -> list[Any]:
    from jobs.registry import all_jobs

    specs = {t.file_name: t for job in all_jobs().values() for t in job.spec.templates}
    return [pytest.param(spec, id=name) for name, spec in sorted(specs.items())]


def _templates_copy(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(TEMPLATES, target)
    return target


TEMPLATE_DAMAGE: Mapping[str, tuple[str, str]] = {
    "unknown variable": ("\n{{ account_manager_phone }}\n", "unknown variable(s) account_manager"),
    "syntax error": ("\n{% if customer_name %}\nno end\n", "line"),
    "missing file": ("", "missing or unreadable"),
}


@pytest.mark.parametrize("damage", sorted(TEMPLATE_DAMAGE))
@pytest.mark.parametrize("spec", _template_specs())
def test_check_config_names_the_template_and_what_is_wrong_with_it(
    spec: Any, damage: str, tmp_path: Path, figure: Any
) -> None:
    scenario = figure.bad_input(f"template {spec.file_name}: {damage}")
    templates = _templates_copy(tmp_path)
    addition, message = TEMPLATE_DAMAGE[damage]
    target = templates / spec.file_name
    if damage == "missing file":
        target.unlink()
    else:
        target.write_text(target.read_text(encoding="utf-8") + addition, encoding="utf-8")
    settings = write_settings(tmp_path, {"templates_dir": str(templates)})

    result = run_cli(["check-config", "--config", str(settings)], {})

    lines = result.err.strip().splitlines()
    scenario.traceback = TRACEBACK in result.err
    scenario.one_line = len(lines) == 1 and spec.file_name in lines[0]
    assert result.code == 2, result.err
    assert len(lines) == 1 and spec.file_name in lines[0], result.err
    assert message in lines[0], lines[0]
    assert not scenario.traceback


# -- the run refuses bad settings before doing anything -------------------------------------------


def test_a_run_with_a_wrong_setting_stops_before_reading_or_sending_anything(
    rdesk: ReliabilityDesk, figure: Any
) -> None:
    scenario = figure.bad_input("run with jobs.onboard_reset_reminder.realert = 'soon'")
    stack = rdesk.start(CASES["onboard_reset"])
    rdesk.configure({"jobs": {"onboard_reset_reminder": {"realert": "soon"}}})

    run = rdesk.run_job()

    scenario.traceback, scenario.one_line = run.traceback, run.one_line()
    assert run.code == 2, run.describe()
    assert "jobs.onboard_reset_reminder.realert" in run.err
    assert stack.jira.calls == [] and stack.slack.calls == []
    assert not run.traceback


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("Hi {{ customer_name.nickname }},\n", id="unknown-attribute"),
        pytest.param("Hi {{ customer_name.__class__ }},\n", id="python-internals"),
    ],
)
def test_a_template_that_fails_while_rendering_is_a_one_line_error_not_a_crash(
    body: str, rdesk: ReliabilityDesk, tmp_path: Path, figure: Any
) -> None:
    scenario = figure.bad_input(f"template that fails while rendering: {body.strip()}")
    templates = _templates_copy(tmp_path)
    (templates / "onboard_reset_release_tonight.j2").write_text(body, encoding="utf-8")
    rdesk.start(CASES["onboard_reset"], settings={"templates_dir": str(templates)})

    run = rdesk.run_job()

    scenario.traceback, scenario.one_line = run.traceback, run.one_line()
    assert not [e for e in rdesk.effects() if e.startswith("public comment")]
    assert run.code in (1, 2), run.describe()
    assert any("onboard_reset_release_tonight.j2" in e for e in run.errors()), run.describe()
    assert not run.traceback, run.describe()


@pytest.mark.parametrize(
    ("case", "path"),
    [
        ("onboarding_missing", ("jobs", "onboarding_missing_ticket", "onboarding_subject")),
        ("onboard_reset", ("jobs", "onboard_reset_reminder", "on_hold_status")),
        ("approval", ("people", "approver", "jira_account_id")),
    ],
    ids=lambda v: ".".join(v) if isinstance(v, tuple) else v,
)
def test_a_line_break_in_a_setting_that_ends_up_in_jql_is_named_before_the_run(
    case: str, path: tuple[str, ...], rdesk: ReliabilityDesk, figure: Any
) -> None:
    key = ".".join(path)
    scenario = figure.bad_input(f"settings: line break in {key}")
    stack = rdesk.start(CASES[case])
    rdesk.configure(_nested(path, "EverBright\nPartner"))

    run = rdesk.run_job(None, "--dry-run")

    scenario.traceback, scenario.one_line = run.traceback, run.one_line()
    assert run.code == 2, run.describe()
    assert key in run.err, run.describe()
    assert [c for c in stack.jira.calls if "search" in c.path] == []
    assert not run.traceback


# -- the command line and the environment ----------------------------------------------------------
#
# Each case: one line starting "error: " that names the option, variable, key or path; the exit
# code of its kind (2 before anything is sent, 1 at run time); never a traceback.


def _judge(scenario: Any, result: Any, code: int, *names: str) -> list[str]:
    lines = result.err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    scenario.traceback = TRACEBACK in result.err + result.out
    scenario.one_line = len(errors) == 1 and all(n in errors[0] for n in names)
    assert result.code == code, result.err or result.out
    assert len(errors) == 1, result.err
    assert all(n in errors[0] for n in names), errors[0]
    assert not scenario.traceback, result.err
    return errors


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Settings and a ledger in tmp_path, which is also the working directory (nothing a
    command writes by a relative path lands in the checkout)."""
    monkeypatch.chdir(tmp_path)
    return {
        "JOBS_CONFIG": str(write_settings(tmp_path)),
        "JOBS_LEDGER_URL": f"sqlite:///{tmp_path / 'state' / 'ledger.db'}",
    }


CLI_MISTAKES = [
    pytest.param({"JOBS_LOG_LEVEL": "verbose"}, ["list"], ("JOBS_LOG_LEVEL",), id="log-level-word"),
    pytest.param({"JOBS_LOG_LEVEL": "5"}, ["list"], ("JOBS_LOG_LEVEL",), id="log-level-number"),
    pytest.param(
        {}, ["silences", "--expire", "99999999999999999999999"], ("--expire",), id="expire-huge"
    ),
    pytest.param({}, ["silences", "--expire", "-3"], ("--expire",), id="expire-negative"),
    pytest.param({}, ["why", "SS-1", "--limit", "0"], ("--limit",), id="why-limit-zero"),
    pytest.param({}, ["why", "SS-1", "--limit", "1" + "0" * 30], ("--limit",), id="why-limit-huge"),
    pytest.param(
        {}, ["deploy", "k8s", "--image", "not an image"], ("--image",), id="deploy-bad-image"
    ),
    pytest.param(
        {}, ["deploy", "k8s", "--image", "sla-monitor"], ("no tag",), id="deploy-untagged-image"
    ),
    pytest.param(
        {}, ["deploy", "crontab", "--image", "a:1"], ("--image",), id="deploy-image-for-crontab"
    ),
    pytest.param(
        {}, ["deploy", "crontab", "--out", "."], ("--out", "is a directory"), id="crontab-out-dir"
    ),
    pytest.param(
        {},
        ["deploy", "k8s", "--out", "settings.yaml/k8s"],
        ("settings.yaml",),
        id="k8s-out-under-a-file",
    ),
    pytest.param(
        {}, ["deploy", "systemd", "--out", "settings.yaml"], ("--out",), id="systemd-out-a-file"
    ),
    pytest.param(
        {},
        ["silence", "SS-1", "--for", "4h", "--reason", "ok\n1  SS-9  forged"],
        ("--reason", "line break"),
        id="silence-reason-newline",
    ),
    pytest.param(
        {},
        ["silence", "SS-1\nSS-2", "--for", "4h", "--reason", "x"],
        ("--key",),
        id="silence-key-newline",
    ),
    pytest.param(
        {},
        ["silence", "SS-1", "--for", "3660bd", "--reason", "x"],
        ("--for", "ten-year cap"),
        id="silence-3660bd",
    ),
    pytest.param(
        {}, ["silence", "SS-1", "--for", "0m", "--reason", "x"], ("--for",), id="silence-zero"
    ),
    pytest.param(
        {},
        ["silence", "SS-1", "--for", "4h", "--reason", "x" * 501],
        ("--reason",),
        id="silence-reason-long",
    ),
    pytest.param({}, ["run", "all", "--scheduled"], ("--scheduled",), id="scheduled-all"),
    pytest.param(
        {},
        ["run", "unassigned_first_response", "--now", "0001-01-01T00:00:00+14:00"],
        ("--now",),
        id="now-year-one",
    ),
    pytest.param(
        {"JOBS_LEDGER_URL": "host=db password=hunter2-DO-NOT-LEAK"},
        ["why", "SS-1"],
        ("JOBS_LEDGER_URL", "keyword"),
        id="ledger-libpq-dsn",
    ),
    pytest.param(
        {"JOBS_LEDGER_URL": "postgresql://sla:p@ss-DO-NOT-LEAK@db/sla"},
        ["why", "SS-1"],
        ("JOBS_LEDGER_URL", "%40"),
        id="ledger-password-with-at",
    ),
    pytest.param(
        {"JOBS_LEDGER_URL": "postgresql://sla:pw-DO-NOT-LEAK@db:port/sla"},
        ["why", "SS-1"],
        ("JOBS_LEDGER_URL",),
        id="ledger-bad-port",
    ),
    pytest.param(
        {"JOBS_LEDGER_URL": "mysql://sla:pw-DO-NOT-LEAK@db/sla"},
        ["why", "SS-1"],
        ("unknown scheme",),
        id="ledger-unknown-scheme",
    ),
    pytest.param(
        {},
        ["report", "sla", "--week", "2026-W47", "--out", "settings.yaml/out"],
        ("--out", "not a directory"),
        id="report-out-under-a-file",
    ),
    pytest.param(
        {"KUBERNETES_SERVICE_HOST": "10.0.0.1"},
        ["why", "SS-1"],
        ("SQLite ledger inside Kubernetes",),
        id="sqlite-in-a-pod",
    ),
    pytest.param(
        {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "JOBS_LEDGER_URL": ""},
        ["ledger", "status"],
        ("SQLite ledger inside Kubernetes",),
        id="default-sqlite-in-a-pod",
    ),
]


@pytest.mark.parametrize(("env", "args", "names"), CLI_MISTAKES)
def test_a_mistake_on_the_command_line_or_in_the_environment_is_one_line_exit_2(
    env: dict[str, str],
    args: list[str],
    names: tuple[str, ...],
    cli_env: dict[str, str],
    tmp_path: Path,
    figure: Any,
    request: Any,
) -> None:
    scenario = figure.bad_input(f"cli: {request.node.callspec.id}")
    before = sorted(p.name for p in tmp_path.iterdir())

    result = run_cli(args, {**cli_env, **env})

    _judge(scenario, result, 2, *names)
    assert "DO-NOT-LEAK" not in result.err + result.out
    # Nothing was created: no SQLite file named after a password, no half-written deploy.
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_an_empty_log_level_means_the_default(cli_env: dict[str, str], figure: Any) -> None:
    scenario = figure.bad_input("cli: JOBS_LOG_LEVEL empty")
    result = run_cli(["list"], {**cli_env, "JOBS_LOG_LEVEL": ""})
    scenario.traceback = TRACEBACK in result.err
    assert result.code == 0 and "unassigned_first_response" in result.out


def test_a_sqlite_ledger_in_a_pod_is_allowed_when_said_so(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "KUBERNETES_SERVICE_HOST": "10.0.0.1", "JOBS_ALLOW_SQLITE_IN_KUBERNETES": "1"}
    assert run_cli(["why", "SS-1"], env).code == 0


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        pytest.param(
            {
                "calendar": {
                    "mode": "business",
                    "hours": dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
                }
            },
            "calendar",
            id="business-calendar-closed-all-week",
        ),
        pytest.param(
            {
                "calendar": {
                    "hours": dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
                }
            },
            "calendar",
            id="24x7-calendar-without-business-days",
        ),
        pytest.param(
            {"calendar": {"holidays": {"subdivision": "ZZ"}}},
            "calendar: holidays",
            id="unknown-holiday-subdivision",
        ),
        pytest.param(
            {"people": {"aprover": {"name": "David Ellis"}}}, "people.aprover", id="misspelt-role"
        ),
        pytest.param(
            {"jobs": {"approval_reminder": {"schedule": "0 0 * * * *"}}},
            "jobs.approval_reminder.schedule",
            id="six-field-cron",
        ),
        pytest.param(
            {"jobs": {"approval_reminder": {"schedule": "0 9 30 2 *"}}},
            "jobs.approval_reminder.schedule",
            id="cron-that-never-fires",
        ),
        pytest.param(
            {"jobs": {"approval_reminder": {"realert": "0s"}}},
            "jobs.approval_reminder.realert",
            id="realert-zero",
        ),
        pytest.param({"run": {"http_timeout": "0s"}}, "run.http_timeout", id="http-timeout-zero"),
        pytest.param(
            {"jobs": {"sla_report": {"heartbeat_url": "hc-ping.com/x"}}},
            "jobs.sla_report.heartbeat_url",
            id="heartbeat-not-a-url",
        ),
    ],
)
def test_check_config_finds_what_would_stop_every_run(
    overrides: dict[str, Any], key: str, tmp_path: Path, figure: Any, request: Any
) -> None:
    scenario = figure.bad_input(f"settings: {request.node.callspec.id}")
    settings = write_settings(tmp_path, overrides)

    result = run_cli(["check-config", "--config", str(settings)], {})

    lines = result.err.strip().splitlines()
    scenario.traceback = TRACEBACK in result.err
    scenario.one_line = bool(lines) and all(
        line.startswith("error: ") or key in line for line in lines
    )
    assert result.code == 2, result.err or result.out
    assert any(key in line for line in lines), result.err
    assert not scenario.traceback


TEMPLATE_TRAPS = {
    "include": ("{% include 'signature.j2' %}\n", "{% include %} is not supported"),
    "not-utf8": (None, "not UTF-8"),
}


@pytest.mark.parametrize("trap", sorted(TEMPLATE_TRAPS))
def test_a_template_check_config_passed_cannot_fail_the_run_later(
    trap: str, rdesk: ReliabilityDesk, tmp_path: Path, figure: Any
) -> None:
    scenario = figure.bad_input(f"template that only fails at send time: {trap}")
    templates = _templates_copy(tmp_path)
    target = templates / "onboard_reset_release_tonight.j2"
    addition, message = TEMPLATE_TRAPS[trap]
    if addition is None:
        target.write_bytes(target.read_bytes() + b"\n\xff\xfe caf\xe9\n")
    else:
        target.write_text(target.read_text(encoding="utf-8") + addition, encoding="utf-8")
    stack = rdesk.start(CASES["onboard_reset"], settings={"templates_dir": str(templates)})

    checked = rdesk.run("check-config")
    run = rdesk.run_job()

    scenario.traceback = run.traceback or TRACEBACK in checked.err
    scenario.one_line = run.one_line()
    assert checked.code == 2 and message in checked.err, checked.err
    assert run.code == 2 and message in run.err, run.describe()
    assert stack.jira.calls == [] and stack.slack.calls == []
    assert not scenario.traceback


def test_a_missing_template_stops_the_run_before_anything_is_read(
    rdesk: ReliabilityDesk, tmp_path: Path, figure: Any
) -> None:
    scenario = figure.bad_input("run with a template file missing")
    templates = _templates_copy(tmp_path)
    (templates / "onboard_reset_release_tonight.j2").unlink()
    stack = rdesk.start(CASES["onboard_reset"], settings={"templates_dir": str(templates)})

    run = rdesk.run_job()

    scenario.traceback, scenario.one_line = run.traceback, run.one_line()
    assert run.code == 2, run.describe()
    assert "onboard_reset_release_tonight.j2" in run.err and "planning failed" not in run.err
    assert stack.jira.calls == [] and stack.slack.calls == []


@pytest.mark.parametrize("where", ["a-directory", "/dev/full", "under-a-file"])
def test_a_report_path_that_cannot_be_written_stops_the_run_before_it_sends(
    where: str, rdesk: ReliabilityDesk, tmp_path: Path, figure: Any
) -> None:
    scenario = figure.bad_input(f"--report {where}")
    stack = rdesk.start(CASES["unassigned"])
    path = {
        "a-directory": str(tmp_path),
        "/dev/full": "/dev/full",
        "under-a-file": str(rdesk.settings_path / "report.json"),
    }[where]

    result = rdesk.run(
        "run",
        "unassigned_first_response",
        "--now",
        CASES["unassigned"].at.isoformat(),
        "--report",
        path,
    )

    _judge(scenario, result, 2, "--report")
    assert stack.jira.calls == [] and stack.slack.calls == []


def test_a_report_that_cannot_be_written_after_the_sends_is_one_line_exit_1(
    rdesk: ReliabilityDesk, tmp_path: Path, figure: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = figure.bad_input("--report: the disk fills up after the sends")
    stack = rdesk.start(CASES["unassigned"])
    import jobs.report

    def disk_full(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jobs.report.os, "fsync", disk_full)
    path = tmp_path / "reports" / "late.json"

    result = rdesk.run(
        "run",
        "unassigned_first_response",
        "--now",
        CASES["unassigned"].at.isoformat(),
        "--report",
        str(path),
    )

    _judge(scenario, result, 1, "--report", "No space left")
    assert stack.slack.messages, "the run sent nothing: the test proves nothing"
    assert not path.exists() and list(path.parent.iterdir()) == []


def test_a_start_at_a_time_the_schedule_does_not_name_is_refused_with_scheduled(
    rdesk: ReliabilityDesk, figure: Any
) -> None:
    """Debian's cron ignores CRON_TZ: the Monday 09:00 reminder would start at 04:00 desk time."""
    scenario = figure.bad_input("--scheduled: cron on UTC starts the Monday job at 04:00 desk time")
    stack = rdesk.start(CASES["onboard_reset"])
    monday_0400_new_york = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    monday_0900_new_york = datetime(2026, 11, 23, 14, 2, tzinfo=UTC)  # 2 minutes late: fine

    early = rdesk.run(
        "run", "onboard_reset_reminder", "--scheduled", "--now", monday_0400_new_york.isoformat()
    )
    on_time = rdesk.run(
        "run",
        "onboard_reset_reminder",
        "--scheduled",
        "--dry-run",
        "--now",
        monday_0900_new_york.isoformat(),
    )

    _judge(scenario, early, 2, "--scheduled", "04:00 America/New_York", "CRON_TZ")
    assert on_time.code == 0, on_time.err
    assert [c for c in stack.jira.calls if c.at < 0] == []


def _non_utf8_sheet(tmp_path: Path) -> Path:
    path = tmp_path / "onboarding.csv"
    path.write_bytes(b"Account,Account Name,Status\n1,Caf\xe9 Solar,Approved\n")
    return path


def test_a_sheet_read_error_is_one_line_exit_1_when_the_adapter_names_it(
    rdesk: ReliabilityDesk, tmp_path: Path, figure: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI and pipeline side: a clear adapter error becomes "read failed: sheets: ..."."""
    scenario = figure.bad_input("sheet file that is not UTF-8 (the adapter's clear error)")
    import jobs.adapters.sheets
    from jobs.adapters.http import PermanentError

    def clear_error(path: str, tab_index: int) -> Any:
        raise PermanentError("sheets", f"{path}: not UTF-8 text (byte 0xe9 at offset 37)")

    monkeypatch.setattr(jobs.adapters.sheets, "read_sheet_file", clear_error)
    sheet = _non_utf8_sheet(tmp_path)
    rdesk.start(
        CASES["onboarding_missing"], settings={"sheet": {"source": "file", "path": str(sheet)}}
    )

    run = rdesk.run_job()

    scenario.traceback, scenario.one_line = run.traceback, run.one_line()
    assert run.code == 1, run.describe()
    assert run.errors() == [
        f"read failed: sheets: {sheet}: not UTF-8 text (byte 0xe9 at offset 37)"
    ]
    assert not run.traceback


def test_a_sheet_file_that_is_not_utf8_is_a_read_failure_not_a_crash(
    rdesk: ReliabilityDesk, tmp_path: Path
) -> None:
    sheet = _non_utf8_sheet(tmp_path)
    rdesk.start(
        CASES["onboarding_missing"], settings={"sheet": {"source": "file", "path": str(sheet)}}
    )

    run = rdesk.run_job()

    assert TRACEBACK not in run.err  # the CLI side holds already: one line, no traceback
    assert run.code == 1 and not run.traceback, run.describe()
    assert run.errors() == [
        f"read failed: sheets: {sheet}: not UTF-8 text (byte 0xe9 at offset 33); "
        "export the sheet as CSV UTF-8"
    ]


# -- fuzzing the command line ---------------------------------------------------------------------

_WORDS = [
    "list",
    "run",
    "all",
    "check-config",
    "why",
    "silence",
    "silences",
    "deploy",
    "report",
    "ledger",
    "status",
    "migrate",
    "k8s",
    "crontab",
    "systemd",
    "sla",
    "unassigned_first_response",
    "--dry-run",
    "--now",
    "--report",
    "--config",
    "--for",
    "--reason",
    "--job",
    "--expire",
    "--all",
    "--limit",
    "--image",
    "--out",
    "--week",
    "--scheduled",
    "SS-1",
    "4h",
    "3660bd",
    "-1",
    "0",
    "99999999999999999999",
    "2026-W99",
    "2026-11-23T09:00:00",
    "nope:tag",
    "",
    " ",
    "\n",
    "\x00",
    "é",
    "out",
    "report.json",
    ".",
    "/dev/full",
    "--help",
]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(argv=st.lists(st.one_of(st.sampled_from(_WORDS), st.text(max_size=12)), max_size=7))
def test_any_command_line_ends_in_an_exit_code_and_never_a_traceback(
    argv: list[str], cli_env: dict[str, str], figure: Any
) -> None:
    scenario = figure.once("bad_input", "property: any command line (fuzzed)")
    result = run_cli(argv, cli_env)
    scenario.traceback = scenario.traceback or TRACEBACK in result.err + result.out
    assert result.code in (0, 1, 2), (argv, result.code, result.err)
    assert TRACEBACK not in result.err + result.out, (argv, result.err)
    errors = [line for line in result.err.splitlines() if line.startswith("error: ")]
    assert len(errors) <= 1 or argv[:1] == ["check-config"], (argv, result.err)
