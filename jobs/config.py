"""Load and validate ``config/settings.yaml``.

Every problem is reported at once, each with the key path that holds it
(``jobs.approval_reminder.remind_after: '2x' is not a duration ...``), so an operator
fixes the file in one pass. Secrets never live here: they come from the environment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jobs.durations import (
    Duration,
    DurationField,
    check_duration_bounds,
    parse_duration,
)
from jobs.sections import (
    Field,
    Section,
    SectionError,
    ValidationInfo,
    field_validator,
    make_section,
    model_validator,
)
from jobs.settings_file import (
    DEFAULT_CONFIG,
    MAX_CONFIG_BYTES,
    MAX_NESTING,
    ConfigError,
    read_yaml,
    resolve_config_path,
)
from jobs.slack_app.settings import SlackAppSettings

if TYPE_CHECKING:
    from jobs.render.templates import TemplateSpec


# Settings that may span lines (a JQL override written as a YAML block). Every other text
# setting can end up inside JQL, a Slack message or a comment, where a line break or control
# character is at best a broken query and at worst an injection.
MULTILINE_SETTINGS = frozenset({"jql"})


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _texts(v)]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (*_texts(k), *_texts(v))]
    return []


class Strict(Section):
    """A section that refuses unknown keys and text with line breaks (but in `jql`)."""

    @field_validator("*", mode="after")
    @classmethod
    def _single_line(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name in MULTILINE_SETTINGS:
            return value
        for text in _texts(value):
            if any(ord(c) < 32 or ord(c) == 127 for c in text):
                raise ValueError(
                    f"{text[:40]!r} contains a line break or control character; "
                    "write it on one line"
                )
        return value


def _check_cron(expr: str) -> str:
    from jobs.cron import parse_cron

    parse_cron(expr)  # CronError is a ValueError: the section names the key
    return expr


# -- people -----------------------------------------------------------------------------------

ROLES: dict[str, str] = {
    "approver": "SOP 001 step 5: approves pushing products live (approval_reminder)",
    "lead": "mentioned on escalations (unassigned_first_response.escalate_to)",
    "qa_assignee": "SOP 002: QA Assignee of channel-partner CS tasks",
    "onboarding_reporter": "SOP 000: reporter of onboarding tickets",
}
"""The roles `people` may name. An unknown role is an error: ``people.aprover`` would
otherwise leave approval_reminder without an approver, silently."""
REQUIRED_ROLES: dict[str, tuple[str, ...]] = {"approval_reminder": ("approver",)}
"""Roles an enabled job cannot work without."""
ROLE_SETTINGS: tuple[tuple[str, str], ...] = (("unassigned_first_response", "escalate_to"),)
"""Job settings whose value names a role in `people`."""


class PersonConfig(Strict):
    name: str
    email: str | None = None
    jira_account_id: str | None = None
    slack_user: str | None = None
    """A Slack user id (U...) or a group mention (``<!subteam^S...>``); else looked up by email."""


class DeskConfig(Strict):
    name: str = "Support desk"
    service_desk_project: str = "SS"
    config_project: str = "CS"
    timezone: str = "America/New_York"
    alert_channel: str = "#support-sla"
    browse_url: str | None = None
    """Base for ticket links; defaults to JIRA_URL."""

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA timezone (e.g. America/New_York)") from None
        return value

    @field_validator("service_desk_project", "config_project")
    @classmethod
    def _project_key(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]{1,9}", value):
            raise ValueError(f"{value!r} is not a Jira project key (e.g. SS)")
        return value


RUN_CONTEXT = "run"
"""Validation context key: the settings are loaded for `run`, which checks the calendar itself."""

_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class HolidaysConfig(Strict):
    country: str | None = "US"
    subdivision: str | None = None
    extra: list[date] = Field(default_factory=list)

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if isinstance(info.context, Mapping) and info.context.get(RUN_CONTEXT):
            # A run builds its calendar before reading anything, which names an unknown
            # country just as well; the package is not imported for a year it keeps.
            return value
        # The registry lists codes without importing ~250 country modules (list_supported_countries
        # does, and costs `jobs list` a tenth of a second).
        from holidays.registry import COUNTRIES

        if not any(value in names[1:] for names in COUNTRIES.values()):
            raise ValueError(f"{value!r} is not a country the holidays package knows (e.g. US)")
        return value


class CalendarConfig(Strict):
    mode: Literal["24x7", "business"] = "24x7"
    hours: dict[str, str | None] = Field(
        default_factory=lambda: (
            {d: "09:00-17:00" for d in WEEKDAYS[:5]} | {"sat": None, "sun": None}
        )
    )
    holidays: HolidaysConfig = Field(default_factory=HolidaysConfig)

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        for day, span in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"{day!r} is not a weekday; use {', '.join(WEEKDAYS)}")
            if span is not None:
                m = _HOURS.match(span)
                if not m or (m.group(1), m.group(2)) >= (m.group(3), m.group(4)):
                    raise ValueError(f"{day}: {span!r} is not a span like '09:00-17:00'")
        return value


class SheetConfig(Strict):
    source: Literal["google", "file"] = "google"
    key: str | None = None
    """Google spreadsheet key (from its URL)."""
    path: str | None = None
    """A .csv or .xlsx file when source is 'file'."""
    tab_index: int = Field(default=1, ge=0)
    """0-based; the SOP's 'second tab' is 1."""
    name_column: str = "B"
    status_column: str = "L"
    approved_statuses: list[str] = Field(default_factory=lambda: ["Approved"], min_length=1)

    @field_validator("name_column", "status_column")
    @classmethod
    def _column_letter(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{1,3}", value):
            raise ValueError(f"{value!r} is not a column letter (e.g. B)")
        return value


class ActionsConfig(Strict):
    """Switches for actions that change tickets. Off by default: a desk opts in one by one."""

    link_approval_tickets: bool = False
    comment_on_reminder: bool = False
    close_silent_fulfilled: bool = False
    create_cs_tasks: bool = False
    reply_channel_partner: bool = False
    fix_hygiene: bool = False


class LedgerConfig(Strict):
    retention: DurationField = parse_duration("400d")
    """Decision log kept this long (at least a year, so leads can ask 'why' about last year)."""
    claim_ttl: DurationField = parse_duration("10m")
    """A claim older than this was left by a crashed run and may be taken over."""


class RunConfig(Strict):
    retry_budget: DurationField = parse_duration("2m")
    http_timeout: DurationField = parse_duration("30s")
    max_alerts_per_message: int | None = Field(default=None, ge=1)
    """At most this many lines a Slack message; null (the default): as many as Slack's limits
    (50 blocks, 3,000 characters a section) allow."""
    max_parallel_writes: int = Field(default=8, ge=1, le=32)
    """Jira writes (and Slack direct messages) in flight at once, each to a different ticket
    (person); one ticket's writes go in order. 1: one at a time."""
    settle_window: DurationField = parse_duration("3m")
    """How long a write whose outcome is unknown (a timeout, a kill) may still take to land:
    the next run waits this long after the attempt before checking the ticket, and sends it
    again only if it is not there. Longer than ``http_timeout`` plus the retry budget."""

    @model_validator(mode="after")
    def _settle_after_timeout(self) -> RunConfig:
        if self.settle_window.is_business:
            raise ValueError("settle_window is a time (e.g. 3m), not business days")
        if self.settle_window.wall <= self.http_timeout.wall:
            raise ValueError(
                f"settle_window ({self.settle_window}) must be longer than http_timeout "
                f"({self.http_timeout}): a write the client gave up on can land until then"
            )
        return self


def _http_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        raise ValueError(f"{value[:80]!r} is not an http(s) URL")
    return value


class JobConfig(Strict):
    """Settings every job has; each job extends this with its own thresholds."""

    enabled: bool = True
    schedule: str
    realert: DurationField = parse_duration("24h")
    heartbeat_url: str | None = None
    """A dead-man's-switch check URL (healthchecks.io, or Cronitor's telemetry URL)."""
    heartbeat_format: Literal["healthchecks", "cronitor"] = "healthchecks"
    """healthchecks: ``/start``, ``/<exit code>``; cronitor: ``?state=run|complete|fail``."""

    @field_validator("schedule")
    @classmethod
    def _valid_schedule(cls, value: str) -> str:
        return _check_cron(value)

    @field_validator("heartbeat_url")
    @classmethod
    def _valid_heartbeat_url(cls, value: str | None) -> str | None:
        return _http_url(value)


class OtherJobConfig(JobConfig, extra="allow"):
    """A job's section read by a command that does not run that job (``run`` of another
    job, ``why``): the settings every job has are checked, the job's own are left to the
    commands that load its model (``check-config`` checks every job in full)."""


_CUSTOM_FIELD_ID = re.compile(r"^customfield_[1-9][0-9]*$")


class JiraConfig(Strict):
    """How this Jira site names things, where names alone are not enough.

    Jira translates field and issue type names to the automation account's language; the
    English names stay in ``untranslatedName``, which the adapter uses when nothing is set
    here. Set ids when fields were renamed, or to skip the name lookups entirely.
    """

    fields: dict[str, str] = Field(default_factory=dict)
    """Our name for a custom field -> its id, e.g. ``Organizations: customfield_10002``."""
    issue_types: dict[str, str] = Field(default_factory=dict)
    """An issue type's English name -> its id, for creates, e.g. ``Task: "10002"``."""

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        from jobs.adapters.jira.fields import TICKET_CUSTOM_FIELDS

        for name, fid in value.items():
            if name not in TICKET_CUSTOM_FIELDS:
                raise ValueError(
                    f"{name!r} is not a field the jobs read; expected one of "
                    f"{', '.join(TICKET_CUSTOM_FIELDS)}"
                )
            if not isinstance(fid, str) or not _CUSTOM_FIELD_ID.match(fid):
                raise ValueError(f"{name}: {fid!r} is not a custom field id (customfield_NNNNN)")
        return value

    @field_validator("issue_types")
    @classmethod
    def _issue_type_ids(cls, value: dict[str, str]) -> dict[str, str]:
        for name, tid in value.items():
            if not isinstance(tid, str) or not tid.isdigit():
                raise ValueError(f"{name}: {tid!r} is not an issue type id (digits, quoted)")
        return value


class MetricsConfig(Strict):
    textfile_dir: str | None = None
    """node-exporter's textfile collector directory: one ``sla_monitor_<job>.prom`` per job."""
    pushgateway_url: str | None = None

    @field_validator("pushgateway_url")
    @classmethod
    def _valid_pushgateway_url(cls, value: str | None) -> str | None:
        return _http_url(value)


class PeopleConfig(Strict):
    """People by SOP role (see `ROLES`); a role left out is not configured."""

    approver: PersonConfig | None = None
    lead: PersonConfig | None = None
    qa_assignee: PersonConfig | None = None
    onboarding_reporter: PersonConfig | None = None


class InhibitRule(Strict):
    """While ``source`` has an open alert at one of ``tiers`` for a ticket, the ``targets``
    (a job, or ``job/rule``) do not list that ticket as a to-do of their own: the overdue
    first response is what matters now (Alertmanager's inhibit_rules, for tickets)."""

    source: str = "unassigned_first_response"
    tiers: list[Literal["warning", "breach", "escalation"]] = ["breach", "escalation"]
    targets: list[str] = Field(default_factory=list)

    @field_validator("targets")
    @classmethod
    def _targets(cls, value: list[str]) -> list[str]:
        for target in value:
            if not re.fullmatch(r"[a-z_]+(/[a-z_]+)?", target):
                raise ValueError(f"{target!r} is not a job or job/rule (e.g. ticket_hygiene)")
        return value


def _default_inhibitions() -> list[InhibitRule]:
    return [
        InhibitRule(
            targets=["ticket_hygiene", "approval_reminder/approval_ticket_unlinked"],
        )
    ]


class NotifyConfig(Strict):
    """Who is pinged, and when."""

    quiet_hours: Literal["calendar", "off"] | dict[str, str | None] = "calendar"
    """The hours people may be pinged (mentions, DMs); outside them it is quiet. ``calendar``:
    the desk calendar's working hours and holidays; ``off``: any time; or weekday hours like
    ``calendar.hours`` ({mon: "08:00-18:00", ..., sun: null})."""
    outside_hours: Literal["post", "hold"] = "post"
    """When quiet: ``post`` the alert lines without mentions (the pings are held and sent as
    one summary when the hours start), or ``hold`` everything until then."""
    on_duty: str | None = None
    """A Slack user group (``S0123``, ``<!subteam^S0123>``) or user (``U0123``) mentioned
    when an unassigned ticket goes overdue; without it the reply is shown in the channel."""
    inhibit: list[InhibitRule] = Field(default_factory=_default_inhibitions)

    @field_validator("quiet_hours")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        if isinstance(value, dict):
            CalendarConfig(hours=value)  # the same spelling and checks as calendar.hours
        return value


@dataclass(frozen=True)
class Settings:
    """The validated configuration, plus where it came from (templates resolve relative to it)."""

    path: Path
    desk: DeskConfig
    jira: JiraConfig
    calendar: CalendarConfig
    people: Mapping[str, PersonConfig]
    priority_installers: tuple[str, ...]
    silence_label: str
    sheet: SheetConfig
    actions: ActionsConfig
    ledger: LedgerConfig
    run: RunConfig
    metrics: MetricsConfig
    jobs: Mapping[str, JobConfig]
    templates_dir: Path
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    slack_app: SlackAppSettings = field(default_factory=SlackAppSettings)
    """The listener and the Home tab (``jobs.slack_app``)."""

    def job(self, name: str) -> JobConfig:
        return self.jobs[name]

    def person(self, role: str) -> PersonConfig | None:
        return self.people.get(role)


def _settings_model(job_models: Mapping[str, type[JobConfig]]) -> type[Section]:
    # A job missing from the file runs with its model's defaults (each job model gives a schedule).
    fields: dict[str, Any] = {
        name: (model, Field(default_factory=model)) for name, model in job_models.items()
    }
    jobs_model = make_section("JobsConfig", Strict, fields)
    return make_section(
        "SettingsFile",
        Strict,
        dict(
            desk=(DeskConfig, Field(default_factory=DeskConfig)),
            jira=(JiraConfig, Field(default_factory=JiraConfig)),
            calendar=(CalendarConfig, Field(default_factory=CalendarConfig)),
            people=(PeopleConfig, Field(default_factory=PeopleConfig)),
            priority_installers=(list[str], Field(default_factory=list)),
            silence_label=(str, "sla-snooze"),
            sheet=(SheetConfig, Field(default_factory=SheetConfig)),
            actions=(ActionsConfig, Field(default_factory=ActionsConfig)),
            ledger=(LedgerConfig, Field(default_factory=LedgerConfig)),
            run=(RunConfig, Field(default_factory=RunConfig)),
            metrics=(MetricsConfig, Field(default_factory=MetricsConfig)),
            notify=(NotifyConfig, Field(default_factory=NotifyConfig)),
            slack_app=(SlackAppSettings, Field(default_factory=SlackAppSettings)),
            templates_dir=(str, "templates"),
            jobs=(jobs_model, Field(default_factory=jobs_model)),
        ),
    )


def _known_keys(model: type[Section], loc: tuple[Any, ...]) -> list[str]:
    """The keys the section holding ``loc`` accepts (``loc`` ends with the unknown key)."""
    current: type[Section] = model
    for part in loc[:-1]:
        field = current.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return []
        annotation = field.annotation
        nested = [
            arm
            for arm in (annotation, *getattr(annotation, "__args__", ()))
            if isinstance(arm, type) and issubclass(arm, Section)
        ]
        if not nested:
            return []
        current = nested[0]
    return list(current.model_fields)


def _key_text(part: Any) -> str:
    """A key as the error line shows it: as written, or quoted when it has a space, a dot or
    a control character (a key made of a line break must not break the one-line error)."""
    text = str(part)
    if isinstance(part, str) and (
        not text or not text.isprintable() or any(c in text for c in " .'")
    ):
        return repr(text)
    return text


def _format_error(error: Mapping[str, Any], model: type[Section] | None = None) -> str:
    where = ".".join(_key_text(p) for p in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        known = _known_keys(model, tuple(error["loc"])) if model is not None else []
        hint = f"; known keys: {', '.join(known)}" if known and len(known) <= 30 else ""
        return f"{where}: unknown key (check the spelling; see README 'Configuration'){hint}"[:400]
    if error["type"] == "missing":
        return f"{where}: required key is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if error["type"].endswith("_type") or error["type"].endswith("_parsing"):
        return f"{where}: {message} (got {value!r})"[:300]
    return f"{where}: {message}"


def _bounds_problems(section: Section, path: tuple[str, ...] = ()) -> list[str]:
    """Every duration outside its range (`DURATION_BOUNDS`), with its key path. Checked after
    the schema, so a job's own rule for a setting (e.g. "use days") is the one reported."""
    problems: list[str] = []
    for name in type(section).model_fields:
        value = getattr(section, name)
        where = ".".join((*path, name))
        if isinstance(value, Duration):
            try:
                check_duration_bounds(name, value)
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
        elif isinstance(value, Section):
            problems.extend(_bounds_problems(value, (*path, name)))
    return problems


def _role_problems(people: PeopleConfig, jobs: Mapping[str, JobConfig]) -> list[str]:
    configured = {role for role in ROLES if getattr(people, role) is not None}
    problems: list[str] = []
    for job, roles in REQUIRED_ROLES.items():
        if job in jobs and jobs[job].enabled:
            problems.extend(
                f"people.{role}: required by jobs.{job}; add the person, "
                f"or set jobs.{job}.enabled: false"
                for role in roles
                if role not in configured
            )
    for job, setting in ROLE_SETTINGS:
        role = getattr(jobs.get(job), setting, None)
        if isinstance(role, str) and role not in configured:
            known = ", ".join(sorted(configured)) or "none configured"
            problems.append(f"jobs.{job}.{setting}: {role!r} is not a role under people ({known})")
    return problems


def check_settings(
    settings: Settings, templates: Iterable[TemplateSpec] = (), *, calendar: bool = True
) -> list[str]:
    """What a run would trip over that the schema cannot see, checked offline: the business
    calendar can be built (holidays known, at least one business day) and every template a
    job uses exists, is UTF-8, parses and uses only the variables the job provides.

    `check-config` prints these; `run` refuses to start with any of them (exit 2). ``calendar``
    False leaves the calendar to the caller: `run` builds the run's own calendars, with the
    holidays earlier runs kept in the ledger, before it reads anything.
    """
    from jobs.calendar import desk_calendar, years_around
    from jobs.render.templates import check_templates

    problems = []
    try:
        if calendar:
            desk_calendar(settings, years_around(date.today().year))
    except ValueError as exc:
        problems.append(f"calendar: {exc}")
    problems.extend(check_templates(settings.templates_dir, templates))
    return problems


def _with_default_schedules(data: dict[str, Any], schedules: Mapping[str, str]) -> dict[str, Any]:
    """``data`` with each of these jobs' sections given its default schedule where it names
    none (`OtherJobConfig` has no default of its own: each job's is in the registry)."""
    if not schedules or not isinstance(data.get("jobs", {}), dict):
        return data
    jobs = dict(data.get("jobs") or {})
    for name, schedule in schedules.items():
        section = jobs.get(name)
        if section is None:
            jobs[name] = {"schedule": schedule}
        elif isinstance(section, dict) and "schedule" not in section:
            jobs[name] = {**section, "schedule": schedule}
    return {**data, "jobs": jobs}


def load_settings(
    path: Path,
    job_models: Mapping[str, type[JobConfig]],
    *,
    other_jobs: Mapping[str, str] | None = None,
    for_run: bool = False,
) -> Settings:
    """Parse and validate; raises ConfigError listing every problem with its key path.

    ``job_models``: the jobs whose sections are validated in full, by their settings models.
    ``other_jobs``: the other known jobs (name -> default schedule), whose sections are
    checked only for what every job has (`OtherJobConfig`), so a command that runs one job
    imports no other job's settings model. ``for_run``: the holidays' country is left to the
    run's calendar (`jobs.context.RunContext.build_calendars`), checked before any read."""
    others = {n: s for n, s in (other_jobs or {}).items() if n not in job_models}
    data = _with_default_schedules(read_yaml(path), others)
    job_models = {**job_models, **dict.fromkeys(others, OtherJobConfig)}
    model = _settings_model(job_models)
    problems: list[str] = []
    parsed: Any = None
    try:
        parsed = model.model_validate(data, context={RUN_CONTEXT: True} if for_run else None)
    except SectionError as exc:
        problems.extend(_format_error(e, model) for e in exc.errors())
    if parsed is not None:
        jobs: dict[str, JobConfig] = {name: getattr(parsed.jobs, name) for name in job_models}
        problems.extend(_bounds_problems(parsed))
        cal = parsed.calendar
        if not any(cal.hours.values()) and (cal.hours or cal.mode == "business"):
            # Business days count from the weekdays with hours, in either mode: with none, "3
            # business days out" never arrives and every job would hang on it.
            problems.append(
                "calendar.hours: no weekday has working hours; give at least one "
                "(e.g. mon: 09:00-17:00)"
            )
        problems.extend(_role_problems(parsed.people, jobs))
        written = "inhibit" in parsed.notify.model_fields_set  # the defaults name real jobs
        for n, rule in enumerate(parsed.notify.inhibit if written else ()):
            for where, name in [("source", rule.source), *(("targets", t) for t in rule.targets)]:
                job = name.split("/", 1)[0]
                if job not in job_models:
                    problems.append(
                        f"notify.inhibit.{n}.{where}: {name!r} names no job; known jobs: "
                        f"{', '.join(job_models)}"
                    )
    if problems:
        raise ConfigError(path, problems)
    templates_dir = (path.parent / parsed.templates_dir).resolve()
    return Settings(
        path=path,
        desk=parsed.desk,
        jira=parsed.jira,
        calendar=parsed.calendar,
        people={
            role: person for role in ROLES if (person := getattr(parsed.people, role)) is not None
        },
        priority_installers=tuple(parsed.priority_installers),
        silence_label=parsed.silence_label,
        sheet=parsed.sheet,
        actions=parsed.actions,
        ledger=parsed.ledger,
        run=parsed.run,
        metrics=parsed.metrics,
        jobs=jobs,
        templates_dir=templates_dir,
        notify=parsed.notify,
        slack_app=parsed.slack_app,
    )


__all__ = [
    "DEFAULT_CONFIG",
    "MAX_CONFIG_BYTES",
    "MAX_NESTING",
    "ConfigError",
    "read_yaml",
    "Duration",
    "check_settings",
    "JobConfig",
    "PersonConfig",
    "Settings",
    "load_settings",
    "resolve_config_path",
]
