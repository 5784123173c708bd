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
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import jobs.config
from jobs.durations import Duration
from tests.conftest import TEMPLATES, run_cli, write_settings
from tests.reliability.conftest import CASES, TRACEBACK, ReliabilityDesk

pytestmark = pytest.mark.badinput


@functools.cache
def _cached_model(models: tuple[tuple[str, type], ...]) -> type[BaseModel]:
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
    if origin is dict or (isinstance(inner, type) and issubclass(inner, BaseModel)):
        return ["not", "a", "mapping"]
    if origin in (typing.Union, types.UnionType):
        # A choice of shapes (a word or a mapping): a number is none of them, unless one arm
        # takes numbers.
        arms = typing.get_args(inner)
        if not any(a in (int, float) for a in arms):
            return 42
    raise AssertionError(f"no wrong value for {annotation!r}: teach _wrong_value this type")


def _wrong_settings(model: type[BaseModel], path: tuple[str, ...] = ()) -> Iterator[Any]:
    """(key path, wrong value) for every field of ``model``, sections and their leaves."""
    for name, field in model.model_fields.items():
        where = (*path, name)
        inner = _optional_inner(field.annotation)
        yield where, _wrong_value(field.annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            yield from _wrong_settings(inner, where)
        elif typing.get_origin(inner) is dict:
            value_type = typing.get_args(inner)[1]
            if isinstance(value_type, type) and issubclass(value_type, BaseModel):
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
