"""The settings file as data: read, size- and shape-checked YAML, before any validation.

Light on purpose (PyYAML only): `python -m jobs list` reads the schedules from here without
loading the settings models; `jobs.config` validates the same data in full.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONFIG = Path("config/settings.yaml")
MAX_CONFIG_BYTES = 1_000_000
MAX_NESTING = 20


class ConfigError(Exception):
    """The configuration cannot be used. ``problems`` holds one line per problem."""

    def __init__(self, path: str | Path, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__("\n".join(f"{self.path}: {p}" for p in problems))


class _SafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases: no billion-laughs expansion from a hostile file."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.constructor.ConstructorError(
                None, None, "YAML aliases (*name) are not allowed in settings", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_yaml_timestamp(self, node: Any) -> Any:
        # A date-shaped value that is no date (2026-13-45) is a ValueError from the
        # constructor, which carries no line: say it as a YAML error at the value.
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a date or time ({exc})", node.start_mark
            ) from None


_SafeLoader.add_constructor("tag:yaml.org,2002:timestamp", _SafeLoader.construct_yaml_timestamp)


# libyaml's loader reads a settings file about ten times faster than PyYAML's own (3 ms
# against 30 for the shipped file), and every process reads the file as it starts. Its
# composer is C, so it cannot refuse aliases the way `_SafeLoader` does: a file that could
# hold one (it has an anchor, ``&``) goes to the Python loader, and so does a file libyaml
# rejects, so the message a user reads, with its line, is always the Python loader's. An
# alias with no anchor is an error to libyaml too. libyaml stops nesting at 1,000 levels.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None)


def loader_for(text: str) -> Any:
    """The loader that reads ``text`` first: libyaml's when it may (see above)."""
    if _FAST_LOADER is not None and "&" not in text:
        return _FAST_LOADER
    return _SafeLoader


def _load(text: str) -> Any:
    loader = loader_for(text)
    if loader is not _SafeLoader:
        try:
            return yaml.load(text, Loader=loader)  # noqa: S506 - libyaml's SafeLoader
        except (yaml.YAMLError, ValueError):
            pass  # the Python loader below names the problem and its line
    return yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - SafeLoader subclass


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_NESTING:
        return level
    if isinstance(value, Mapping):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, [f"cannot read the file: {exc.strerror or exc}"]) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(path, [f"file is {len(raw)} bytes; settings are at most 1 MB"])
    try:
        data = _load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(path, ["file is not UTF-8 text"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(path, [f"{where}not valid YAML: {problem}"]) from None
    except RecursionError:
        raise ConfigError(path, [f"nesting deeper than {MAX_NESTING} levels"]) from None
    except (ValueError, TypeError) as exc:  # an explicit tag its value cannot be (!!int abc)
        raise ConfigError(path, [f"not valid YAML: {exc}"[:300]]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(path, ["top level must be a mapping of settings"])
    if _depth(data) > MAX_NESTING:
        raise ConfigError(path, [f"nesting deeper than {MAX_NESTING} levels"])
    return data


def resolve_config_path(explicit: str | None, env: Mapping[str, str] = os.environ) -> Path:
    return Path(explicit or env.get("JOBS_CONFIG") or DEFAULT_CONFIG)


def listed_schedules(
    path: Path, data: Mapping[str, Any], defaults: Mapping[str, str]
) -> dict[str, str]:
    """Each job's schedule as `python -m jobs list` shows it: the settings' ``jobs.<name>.
    schedule``, else the job's default (``defaults``, the registry's). Only what is shown is
    checked (the jobs section, known job names, each schedule's cron); `check-config` and
    `run` validate the rest of the file. Raises ConfigError naming every problem."""
    from jobs.cron import CronError, parse_cron

    jobs = data.get("jobs")
    problems: list[str] = []
    sections: Mapping[str, Any] = {}
    if isinstance(jobs, Mapping):
        sections = jobs
    elif jobs is not None:
        problems.append(f"jobs: expected a mapping of job sections (got {type(jobs).__name__})")
    for name in sections:
        if name not in defaults:
            known = ", ".join(defaults)
            problems.append(
                f"jobs.{name}: unknown key (check the spelling; see README 'Configuration'); "
                f"known keys: {known}"[:400]
            )
    schedules = {}
    for name, default in defaults.items():
        section = sections.get(name)
        schedule = section.get("schedule", default) if isinstance(section, Mapping) else default
        if section is not None and not isinstance(section, Mapping):
            problems.append(f"jobs.{name}: expected a mapping of settings")
        if not isinstance(schedule, str):
            problems.append(f"jobs.{name}.schedule: expected a cron expression (got {schedule!r})")
            continue
        try:
            parse_cron(schedule)
        except CronError as exc:
            problems.append(f"jobs.{name}.schedule: {exc}")
        schedules[name] = schedule
    if problems:
        raise ConfigError(path, problems)
    return schedules
