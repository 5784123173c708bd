"""Command line: argument parsing and exit codes only; the work happens in the pipeline.

Exit codes (operators and cron wrappers depend on them):
  0  success, with or without findings
  1  a job ran but some read or action failed
  2  usage, configuration or credential error, detected before anything was sent

Whatever goes wrong, the operator sees one line starting ``error:``, never a traceback (that is
logged at DEBUG), and never a secret: everything printed passes through `jobs.secrets.redact`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from jobs.config import Settings
    from jobs.context import RunContext
    from jobs.ledger.base import Ledger

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MAX_ROW_ID = 2**63 - 1
"""The largest id either ledger backend can hold (SQLite INTEGER, PostgreSQL bigint)."""
MAX_WHY_LIMIT = 10_000
MAX_SILENCE_DAYS = 3660
"""The ten-year cap of every duration, applied to where a silence ends, business days too."""
MAX_TEXT = {"key": 200, "reason": 500, "author": 100}
SCHEDULE_TOLERANCE_MINUTES = 5
"""``--scheduled``: how late after a scheduled minute a start may be (cron, flock, slow boot)."""
ALLOW_SQLITE_IN_KUBERNETES = "JOBS_ALLOW_SQLITE_IN_KUBERNETES"
NOW_YEARS = (2000, 2100)

log = logging.getLogger("jobs")


class UsageError(Exception):
    """Bad arguments, config or credentials: exit 2 with a one-line message."""


class RunFailure(Exception):
    """A run-time failure outside any job (e.g. the report could not be written): exit 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 too; keep it to one line
        raise UsageError(f"{self.prog}: {message}")


def _bounded_int(low: int, high: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text[:40]} is outside {low}-{high}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m jobs", description="Support desk SLA monitor")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser("list", help="every job: name, schedule, description")

    run = sub.add_parser("run", help="run one job, or all")
    run.add_argument("job", help="job name, or 'all'")
    run.add_argument("--dry-run", action="store_true", help="read and decide; send nothing")
    run.add_argument(
        "--json", action="store_true", help="with --dry-run: print each request as JSON"
    )
    run.add_argument("--now", help="evaluate as of this ISO 8601 instant (with offset)")
    run.add_argument("--report", help="write a JSON run report to this path")
    run.add_argument(
        "--allow-backwards",
        action="store_true",
        help="run even if --now is before the job's last run (a replay you mean)",
    )
    run.add_argument(
        "--scheduled",
        action="store_true",
        help="refuse to run unless now (desk time) is a time the job's schedule names",
    )

    sub.add_parser("check-config", help="validate settings and templates offline")

    why = sub.add_parser("why", help="decision history of one ticket or sheet account")
    why.add_argument("key")
    why.add_argument("--limit", type=_bounded_int(1, MAX_WHY_LIMIT), default=50)

    silence = sub.add_parser("silence", help="silence alerts for an item")
    silence.add_argument("key")
    silence.add_argument("--job", help="only this job (default: every job)")
    silence.add_argument("--for", dest="duration", required=True, help="e.g. 4h, 2d")
    silence.add_argument("--reason", required=True)
    silence.add_argument("--author", default=os.environ.get("USER", "operator"))

    silences = sub.add_parser("silences", help="list silences; --expire ID ends one")
    silences.add_argument("--expire", type=_bounded_int(1, MAX_ROW_ID), metavar="ID")
    silences.add_argument("--all", action="store_true", help="include expired silences")

    deploy = sub.add_parser("deploy", help="render deployment files from the config")
    deploy.add_argument("target", choices=["k8s", "crontab", "systemd"])
    deploy.add_argument("--image", default=None, help="container image (k8s)")
    deploy.add_argument(
        "--out", help="output (default deploy/k8s, deploy/systemd, or stdout for crontab)"
    )

    sub.add_parser(
        "doctor",
        help="read-only preflight against the site: credentials, projects, fields, workflows, "
        "people, channel, sheet, ledger, heartbeats",
    )

    ledger = sub.add_parser("ledger", help="the ledger database: status, or create/upgrade it")
    ledger.add_argument("action", choices=["status", "migrate"])

    serve = sub.add_parser("serve", help="a long-running listener: `serve slack` (alert buttons)")
    serve.add_argument("what", choices=["slack"])
    serve.add_argument(
        "--http",
        type=_bounded_int(1, 65535),
        metavar="PORT",
        help="HTTP mode on PORT (SLACK_SIGNING_SECRET); default: Socket Mode (SLACK_APP_TOKEN)",
    )

    report = sub.add_parser("report", help="offline reports")
    report.add_argument("kind", choices=["sla"])
    report.add_argument("--week", required=True, help="ISO week, e.g. 2026-W47")
    report.add_argument("--out", required=True, help="directory for CSV and PNG")

    for p in sub.choices.values():
        p.add_argument(
            "--config", help="settings file (default: $JOBS_CONFIG or config/settings.yaml)"
        )
    return parser


def _one_line(text: str, limit: int = 300) -> str:
    """Control characters shown escaped: stored text cannot forge lines of a listing."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _settings(
    args: argparse.Namespace,
    env: Mapping[str, str],
    jobs: Sequence[str] | None = None,
    *,
    for_run: bool = False,
) -> Settings:
    """The settings, every job's section validated by its own model (``jobs`` None), or only
    those of ``jobs``: the other jobs' sections are checked for what every job has, and their
    modules are not imported. ``for_run``: the run checks the calendar itself."""
    from jobs.config import ConfigError, load_settings, resolve_config_path
    from jobs.registry import catalog

    entries = catalog()
    chosen = entries if jobs is None else {n: entries[n] for n in jobs if n in entries}
    path = resolve_config_path(args.config, env)
    try:
        return load_settings(
            path,
            {n: e.config_model() for n, e in chosen.items()},
            other_jobs={n: e.schedule for n, e in entries.items()},
            for_run=for_run,
        )
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _in_kubernetes(env: Mapping[str, str]) -> bool:
    return bool(env.get("KUBERNETES_SERVICE_HOST"))


def _ledger_url(env: Mapping[str, str]) -> str | None:
    """``JOBS_LEDGER_URL`` as the ledger may be opened from here; exit 2 if it may not."""
    from jobs.ledger import is_sqlite_url, parse_ledger_url
    from jobs.secrets import redact

    url = env.get("JOBS_LEDGER_URL") or None
    try:
        parse_ledger_url(url)
    except ValueError as exc:
        raise UsageError(f"ledger: cannot open ({redact(' '.join(str(exc).split()))})") from None
    if (
        _in_kubernetes(env)
        and is_sqlite_url(url)
        and env.get(ALLOW_SQLITE_IN_KUBERNETES, "").strip().lower() not in ("1", "true", "yes")
    ):
        # A pod's disk goes with the pod: every run would start with an empty ledger and
        # send again what the previous pod sent.
        raise UsageError(
            "JOBS_LEDGER_URL: a SQLite ledger inside Kubernetes loses what was sent with each "
            "pod; set JOBS_LEDGER_URL=postgresql://... (README 'Deploy'), or "
            f"{ALLOW_SQLITE_IN_KUBERNETES}=1 if the file is on a persistent volume of one pod"
        )
    return url


def _ledger(settings: Settings, env: Mapping[str, str]) -> Ledger:
    from jobs.ledger import open_ledger
    from jobs.secrets import redact

    url = _ledger_url(env)
    try:
        opened = open_ledger(url)
    except Exception as exc:  # any failure to open state is a deployment problem: exit 2
        message = " ".join(str(exc).split())
        raise UsageError(f"ledger: cannot open ({redact(message)})") from None
    return opened


def _check_runtime(
    settings: Settings, jobs: Sequence[str] | None = None, *, calendar: bool = True
) -> None:
    """What would stop a run half-way, found before anything is read or sent (exit 2).
    ``calendar`` False: the caller builds the calendars (`run`, with the holidays it keeps)."""
    from jobs.config import check_settings
    from jobs.registry import all_jobs, get_job

    chosen = all_jobs() if jobs is None else {n: get_job(n) for n in jobs}
    specs = {t.file_name: t for job in chosen.values() for t in job.spec.templates}
    problems = check_settings(settings, specs.values(), calendar=calendar)
    if problems:
        raise UsageError("\n".join(f"{settings.path}: {p}" for p in problems))


def cmd_list(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    """Every job with its schedule: the registry's lines and the settings' schedules, read
    without loading any job or settings model (`check-config` validates the whole file)."""
    from jobs.registry import catalog
    from jobs.settings_file import ConfigError, listed_schedules, read_yaml, resolve_config_path

    entries = catalog()
    path = resolve_config_path(args.config, env)
    try:
        schedules = listed_schedules(
            path, read_yaml(path), {n: e.schedule for n, e in entries.items()}
        )
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    width = max(len(n) for n in entries)
    for name, job in entries.items():
        print(f"{name:<{width}}  {schedules[name]:<15}  {job.description}", file=out)
    return EXIT_OK


def cmd_check_config(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from jobs.registry import all_jobs

    settings = _settings(args, env)
    _check_runtime(settings)
    specs = {t.file_name for job in all_jobs().values() for t in job.spec.templates}
    print(f"OK: {settings.path} ({len(settings.jobs)} jobs, {len(specs)} templates)", file=out)
    return EXIT_OK


def _check_scheduled(settings: Settings, name: str, now: datetime) -> None:
    """``--scheduled``: a start at a desk-local time the schedule does not name means the
    scheduler is not on desk time (Debian's cron ignores CRON_TZ): refuse, saying so."""
    from zoneinfo import ZoneInfo

    from jobs.cron import parse_cron

    tz = settings.desk.timezone
    schedule = parse_cron(settings.jobs[name].schedule)
    local = now.astimezone(ZoneInfo(tz)).replace(second=0, microsecond=0)
    if any(
        schedule.matches(local - timedelta(minutes=late))
        for late in range(SCHEDULE_TOLERANCE_MINUTES + 1)
    ):
        return
    raise UsageError(
        f"{name}: --scheduled: started at {local:%a %H:%M} {tz}, which its schedule "
        f"{schedule.text!r} does not name; this scheduler is not on the desk's time (Debian's "
        "and Ubuntu's cron ignore CRON_TZ): use `python -m jobs deploy systemd`, or run the "
        f"host in {tz}"
    )


def cmd_run(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from jobs.clock import SystemClock, parse_instant
    from jobs.registry import catalog
    from jobs.report import ReportFile, ReportPathError

    clock = SystemClock()
    try:
        now: datetime = parse_instant(args.now) if args.now else clock.now()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not NOW_YEARS[0] <= now.year <= NOW_YEARS[1]:
        # The calendar's holidays and every "N days ago" need a year with room around it.
        raise UsageError(f"--now {args.now!r} is outside the years {NOW_YEARS[0]}-{NOW_YEARS[1]}")
    if args.json and not args.dry_run:
        raise UsageError("--json prints what a dry run would send: add --dry-run")
    known = catalog()
    settings = _settings(args, env, None if args.job == "all" else [args.job], for_run=True)
    if args.job == "all":
        if args.scheduled:
            raise UsageError("--scheduled: run one job (each job has its own schedule)")
        names = [n for n in known if settings.jobs[n].enabled]
    else:
        if args.job not in known:
            shown = _one_line(args.job, 60)
            raise UsageError(f"unknown job {shown!r}; known jobs: {', '.join(known)}, all")
        names = [args.job]
    if args.scheduled:
        _check_scheduled(settings, names[0], now)
    _check_runtime(settings, names, calendar=False)
    # The report path is checked now: a report that cannot be written must not be found out
    # after the sends.
    report_file = None
    if args.report is not None:
        if not args.report.strip():
            raise UsageError("--report: an empty path; give a file name")
        try:
            report_file = ReportFile.prepare(Path(args.report))
        except ReportPathError as exc:
            raise UsageError(str(exc)) from None
    ledger = _ledger(settings, env)
    try:
        return _run_jobs(args, env, out, settings, names, now, clock, ledger, report_file)
    finally:
        ledger.close()


def _run_jobs(
    args: argparse.Namespace,
    env: Mapping[str, str],
    out: TextIO,
    settings: Settings,
    names: list[str],
    now: datetime,
    clock: Any,
    ledger: Ledger,
    report_file: Any,
) -> int:
    from jobs.adapters.http import CredentialError
    from jobs.adapters.pacing import ChannelPacer
    from jobs.context import RunContext
    from jobs.heartbeat import Heartbeat
    from jobs.ids import random_id
    from jobs.ledger.base import ReadOnlyLedger
    from jobs.metrics import write_metrics
    from jobs.pipeline import Pipeline
    from jobs.pipeline.records import SCHEDULE_JITTER
    from jobs.registry import get_job
    from jobs.report import ReportPathError, RunReport
    from jobs.sitecache import CACHE_JOB, SiteCache

    pacer = ChannelPacer()  # one pace per channel for every job of this invocation
    cache = SiteCache(ledger.memory(CACHE_JOB))  # what earlier runs read of Jira's site
    contexts = []
    for name in names:
        ctx = RunContext(
            settings=settings,
            job_name=name,
            job_config=settings.jobs[name],
            now=now,
            dry_run=args.dry_run,
            run_id=random_id(12),
            env=env,
            ledger=ReadOnlyLedger(ledger),
            out=out,
            allow_backwards=args.allow_backwards,
            json_output=args.json,
            pacer=pacer,
            cache=cache,
        )
        try:
            ctx.check_credentials(get_job(name).spec.systems)
        except CredentialError as exc:
            raise UsageError(f"{name}: {exc}") from None
        try:
            ctx.build_calendars()
        except ValueError as exc:
            raise UsageError(f"{settings.path}: calendar: {exc}") from None
        last = ledger.last_run(name)
        if (
            not args.dry_run
            and not args.allow_backwards
            and last is not None
            and now < last.now - SCHEDULE_JITTER
        ):
            # Before anything is sent, for every job of `run all`: a clock moved back would
            # replay last week's replies with last week's references.
            raise UsageError(
                f"{name}: clock moved back: --now {now.isoformat()} is before the job's last "
                f"run ({last.now.isoformat()}); nothing sent. Add --allow-backwards if you "
                "mean it."
            )
        contexts.append(ctx)

    reports = []
    exit_code = EXIT_OK
    for ctx in contexts:
        job = get_job(ctx.job_name)()
        config = ctx.job_config
        beat = Heartbeat(config.heartbeat_url, fmt=config.heartbeat_format, dry_run=ctx.dry_run)
        beat.start()
        try:
            report = Pipeline(job, ctx, clock, ledger=ledger).run()
        except Exception as exc:  # one job's bug must not stop `run all`, nor print a traceback
            detail = " ".join(str(exc).split())[:300]
            log.error("job crashed: %s: %s", type(exc).__name__, detail, extra=ctx.extra())
            log.debug("job crashed", exc_info=True, extra=ctx.extra())
            report = RunReport(ctx.job_name, ctx.run_id, now, now, ctx.dry_run)
            report.errors.append(f"crashed: {type(exc).__name__}: {detail}")
            report.exit_code = EXIT_FAILED
            report.finished_at = clock.now()
        reports.append(report)
        failure = report.failure_reason() if report.exit_code else ""
        beat.finish(report.exit_code, failure or report.summary_line())
        level = logging.ERROR if report.exit_code else logging.INFO
        log.log(level, report.summary_line(), extra=ctx.extra())
        if report.exit_code == EXIT_USAGE:  # refused credentials: say so on one line
            _print_error(f"{ctx.job_name}: {report.errors[-1]}")
        if args.dry_run and not args.json:
            print(f"-- {report.summary_line()}", file=out)
        exit_code = max(exit_code, report.exit_code)
    if not args.dry_run:
        write_metrics(settings, reports, clock.now())
        worked = [c for c, r in zip(contexts, reports, strict=True) if r.exit_code == EXIT_OK]
        _publish_home(worked, ledger, now)
        # The decision log answers "why" for at least a year; older lines go, a cheap DELETE.
        ledger.prune(now=clock.now(), keep=settings.ledger.retention.wall)
    if report_file is not None:
        try:
            report_file.write(reports)
        except ReportPathError as exc:
            _print_error(str(exc))
            exit_code = max(exit_code, EXIT_FAILED)
    return exit_code


def _publish_home(contexts: Sequence[RunContext], ledger: Ledger, now: datetime) -> None:
    """Every agent's Home tab, after the run (``slack_app.home_tab``): what is open now, once
    a job of the run worked (after a failed read it would show stale news). A courtesy, not
    part of any job: a failure is a warning, never the run's exit code."""
    from jobs.adapters.http import AdapterError
    from jobs.ledger.base import ReadOnlyLedger
    from jobs.registry import get_job

    with_slack = [c for c in contexts if "slack" in get_job(c.job_name).spec.systems]
    if not with_slack or not with_slack[0].settings.slack_app.home_tab:
        return
    ctx = with_slack[0]
    from jobs.slack_app import publish_home
    from jobs.slack_app.home import HOME_JOB, home_digest, home_is_fresh

    # A run that changed nothing the tabs show, soon after they were published, leaves them:
    # every scheduled run of every job would otherwise cost two Slack calls per agent.
    reader = ReadOnlyLedger(ledger)
    digest = home_digest(reader, list(ctx.settings.jobs), now)
    published = ledger.memory(HOME_JOB).get("published")
    if home_is_fresh(published, digest, now, ctx.settings.slack_app.home_refresh.wall):
        log.debug("Home tabs left as published at %s", (published or {}).get("at"))
        return
    try:
        home = publish_home(ctx, reader, ctx.slack, now)
    except AdapterError as exc:
        log.warning("Home tabs not published: %s", exc)
        return
    if home.published:
        ledger.remember(HOME_JOB, {"published": {"digest": digest, "at": now.isoformat()}}, now=now)
    if home.failed:
        log.warning("Home tabs not published for %d agents", len(home.failed))


def _named_item(typed: str, ledger: Ledger) -> tuple[str, bool]:
    """The ledger item a person means (``ss-101``, ``Canyon Creek Roofing``, an internal key)
    and whether the ledger knows it. Refused (exit 2) when it is no item's name, or when it is
    unknown but close to one the ledger has (``SS-1O1`` with a letter O: "did you mean
    SS-101?")."""
    from jobs.item_names import resolve_item

    named = resolve_item(typed, ledger.items())
    if named.item is None or (not named.known and named.suggestions):
        raise UsageError(named.refusal())
    return named.item, named.known


def cmd_why(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    settings = _settings(args, env, ())
    ledger = _ledger(settings, env)
    try:
        item, _ = _named_item(args.key, ledger)
        history = ledger.history(item, limit=args.limit)
    finally:
        ledger.close()
    shown = _one_line(item, MAX_TEXT["key"])
    if not history:
        print(
            f"{shown}: no decisions recorded (never a candidate, or older than retention)",
            file=out,
        )
        return EXIT_OK
    from jobs.render.console import clean, facts_text, local_time

    tz = ZoneInfo(settings.desk.timezone)
    for d in history:
        action = f" via {clean(d.action)}" if d.action else ""
        episode = f" [{clean(d.episode)}]" if d.episode else ""
        print(
            f"{local_time(d.at, tz)}  {d.job}/{d.rule}{episode}  {d.outcome}{action}: "
            f"{clean(d.reason)}",
            file=out,
        )
        facts = facts_text(d.facts, tz)
        if facts:
            print(f"    {facts}", file=out)
    return EXIT_OK


def _single_line_argument(option: str, value: str) -> str:
    limit = MAX_TEXT[option.lstrip("-")]
    if not value.strip():
        raise UsageError(f"--{option.lstrip('-')}: must not be empty")
    if any(not c.isprintable() for c in value):
        raise UsageError(
            f"--{option.lstrip('-')}: contains a line break or control character; "
            "write it on one line"
        )
    if len(value) > limit:
        raise UsageError(f"--{option.lstrip('-')}: longer than {limit} characters")
    return value


def cmd_silence(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from jobs.clock import SystemClock
    from jobs.durations import parse_duration
    from jobs.registry import catalog

    settings = _settings(args, env, ())
    try:
        duration = parse_duration(args.duration)
    except ValueError as exc:
        raise UsageError(f"--for: {exc}") from None
    if duration.wall <= timedelta(0) and not duration.is_business:
        raise UsageError(f"--for: {args.duration!r} silences nothing; give a positive duration")
    if args.job and args.job not in catalog():
        raise UsageError(
            f"--job: unknown job {_one_line(args.job, 60)!r}; known jobs: {', '.join(catalog())}"
        )
    key = _single_line_argument("key", args.key)
    reason = _single_line_argument("reason", args.reason)
    author = _single_line_argument("author", args.author)
    from jobs.calendar import desk_calendar

    now = SystemClock().now()
    try:
        until = desk_calendar(settings).add(now, duration)
    except (ValueError, OverflowError) as exc:
        raise UsageError(f"--for: {exc}") from None
    if until - now > timedelta(days=MAX_SILENCE_DAYS):
        raise UsageError(
            f"--for: {args.duration!r} ends on {until:%Y-%m-%d}, past the ten-year cap "
            f"({MAX_SILENCE_DAYS} days)"
        )
    ledger = _ledger(settings, env)
    try:
        item, known = _named_item(key, ledger)
        s = ledger.add_silence(
            item, job=args.job, reason=reason, author=author, now=now, until=until
        )
    except ValueError as exc:
        raise UsageError(f"silence: {exc}") from None
    finally:
        ledger.close()
    from jobs.render.console import clean, local_time

    shown = local_time(s.expires, ZoneInfo(settings.desk.timezone))
    print(f"silence {s.id}: {clean(s.item)} ({s.job or 'all jobs'}) until {shown}", file=out)
    if not known:
        print(
            f"note: nothing about {clean(s.item)} yet; the silence holds for its first alert",
            file=out,
        )
    return EXIT_OK


def cmd_silences(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from jobs.clock import SystemClock

    settings = _settings(args, env, ())
    ledger = _ledger(settings, env)
    try:
        now = SystemClock().now()
        if args.expire is not None:
            if not ledger.expire_silence(args.expire, now=now):
                raise UsageError(f"--expire: no active silence with id {args.expire}")
            print(f"silence {args.expire} expired", file=out)
            return EXIT_OK
        rows = ledger.silences(now=now, include_expired=args.all)
    finally:
        ledger.close()
    from jobs.render.console import local_time, table

    tz = ZoneInfo(settings.desk.timezone)
    table_rows: list[tuple[object, ...]] = [
        (
            s.id,
            s.item,
            s.job or "all jobs",
            local_time(s.expires, tz),
            "expired" if s.expires <= now else "active",
            s.author,
            s.reason,
        )
        for s in rows
    ]
    labelled, note = _label_silences(settings, env, now)
    for line in labelled:
        until = "no end" if line.until is None else f"{line.until:%Y-%m-%d} (desk date)"
        table_rows.append(
            ("label", line.item, "all jobs", until, "active", line.author, line.reason)
        )
    if not table_rows:
        print("no active silences", file=out)
    else:
        print(
            "\n".join(table(("ID", "ITEM", "JOB", "UNTIL", "STATE", "BY", "REASON"), table_rows)),
            file=out,
        )
    if note:
        print(note, file=out)
    return EXIT_OK


def _label_silences(
    settings: Settings, env: Mapping[str, str], now: datetime
) -> tuple[list[Any], str]:
    """Open tickets the snooze label quiets (plain, or with an end date), read from Jira, and a
    note when Jira could not be asked (no credentials here, or it failed): the ledger's
    silences are listed either way."""
    if not all(env.get(var) for var in ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN")):
        return (
            [],
            "(tickets silenced by the snooze label are listed where Jira's credentials are set)",
        )
    from jobs.adapters.http import AdapterError, CallCounter, RetryBudget
    from jobs.adapters.jira import JiraAdapter
    from jobs.slack_app.home import label_jql, label_silences

    tz = ZoneInfo(settings.desk.timezone)
    today = now.astimezone(tz).date()
    days = settings.slack_app.home_snooze_label_days
    try:
        jira = JiraAdapter.from_env(
            env, counter=CallCounter(), budget=RetryBudget(total_seconds=10.0), timeout=15.0
        )
        tickets = list(jira.search(label_jql(settings.silence_label, today, days), ["labels"]))
    except AdapterError as exc:
        return [], f"(tickets silenced by the snooze label: Jira could not be read: {exc})"
    browse = settings.desk.browse_url or env.get("JIRA_URL", "")
    return label_silences(tickets, settings.silence_label, today, browse), ""


def cmd_deploy(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from jobs import deploy

    settings = _settings(args, env)
    if args.image is not None and args.target != "k8s":
        raise UsageError("--image: only `deploy k8s` uses an image")
    try:
        if args.target == "k8s":
            image = deploy.validate_image(args.image or deploy.DEFAULT_IMAGE)
            written = deploy.write_k8s(settings, Path(args.out or "deploy/k8s"), image=image)
        elif args.target == "systemd":
            written = deploy.write_files(
                Path(args.out or "deploy/systemd"), deploy.render_systemd(settings)
            )
        else:
            text = deploy.render_crontab(settings)
            if not args.out:
                out.write(text)
                return EXIT_OK
            deploy.write_text(Path(args.out), text)
            written = [Path(args.out)]
    except deploy.DeployError as exc:
        raise UsageError(str(exc)) from None
    for path in written:
        print(f"wrote {path}", file=out)
    return EXIT_OK


def cmd_ledger(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    """``ledger status``: where it is, that it answers, its schema version and row counts.
    ``ledger migrate``: create or upgrade the schema (opening the ledger does that)."""
    from jobs.ledger import SCHEMA_VERSION, describe_url

    settings = _settings(args, env, ())
    url = env.get("JOBS_LEDGER_URL") or None
    ledger = _ledger(settings, env)
    try:
        stored = getattr(ledger, "schema_version", None)  # SqlLedger: the version on disk
        version = stored() if callable(stored) else SCHEMA_VERSION
        print(f"ledger: {describe_url(url)}", file=out)
        if args.action == "migrate":
            print(f"schema: version {version} (this release: {SCHEMA_VERSION})", file=out)
            return EXIT_OK
        print("reachable: yes", file=out)
        print(f"schema version: {version} (this release: {SCHEMA_VERSION})", file=out)
        for table, count in sorted(ledger.counts().items()):
            print(f"rows in {table}: {count}", file=out)
    finally:
        ledger.close()
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    """One line per check as it completes, then a summary; exit 1 if any check failed. Bad
    settings, templates or a ledger URL that may not be used are exit 2, as for ``run``."""
    from jobs.doctor import Status, run_doctor, summary

    settings = _settings(args, env)
    _check_runtime(settings, [n for n, c in settings.jobs.items() if c.enabled])
    results = []
    for result in run_doctor(settings, env, ledger_url=_ledger_url(env)):
        results.append(result)
        print(_one_line(result.line(), 1000), file=out, flush=True)
    print(summary(results), file=out)
    return EXIT_FAILED if any(r.status is Status.FAIL for r in results) else EXIT_OK


def cmd_report(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from jobs.scheduled.sla_report import write_offline_report

    settings = _settings(args, env, ["sla_report"])
    _check_runtime(settings, ["sla_report"])
    folder = Path(args.out)
    # Checked, not created: a refused --week must leave nothing behind.
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"--out {folder}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"--out {folder}: {existing} is not writable")
    return write_offline_report(settings, env, args.week, folder, out)


def cmd_serve(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from jobs.slack_app import serve

    settings = _settings(args, env)
    return serve(settings, env, http_port=args.http, out=out)


HANDLERS = {
    "list": cmd_list,
    "run": cmd_run,
    "check-config": cmd_check_config,
    "why": cmd_why,
    "silence": cmd_silence,
    "silences": cmd_silences,
    "deploy": cmd_deploy,
    "ledger": cmd_ledger,
    "doctor": cmd_doctor,
    "report": cmd_report,
    "serve": cmd_serve,
}


def _print_error(message: str) -> None:
    from jobs.secrets import redact

    print(f"error: {redact(message)}", file=sys.stderr)


def main(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
) -> int:
    from jobs import secrets

    env = dict(os.environ if env is None else env)
    secrets.install(env)
    stdout: Any = secrets.RedactingStream(out or sys.stdout)
    before = set(threading.enumerate())
    try:
        return _dispatch(argv, env, stdout)
    finally:
        _finish_threads(before)


def _finish_threads(before: set[threading.Thread], timeout: float = 60.0) -> None:
    """Wait for every thread a command started (a page fetched ahead, a library loading in
    the background): none may still run Python code while the interpreter finalizes."""
    for thread in set(threading.enumerate()) - before:
        if not thread.daemon and thread is not threading.current_thread():
            thread.join(timeout)


def _dispatch(argv: Sequence[str] | None, env: dict[str, str], stdout: TextIO) -> int:
    from jobs.logs import LoggingSetupError, setup_logging

    try:
        setup_logging(env)
        args = build_parser().parse_args(argv)
        return HANDLERS[args.command](args, env, stdout)
    except (UsageError, LoggingSetupError) as exc:
        _print_error(str(exc))
        return EXIT_USAGE
    except RunFailure as exc:
        _print_error(str(exc))
        return EXIT_FAILED
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `python -m jobs list | head -1`
        return EXIT_FAILED
    except Exception as exc:  # a bug: still one line; the traceback only at DEBUG
        log.debug("internal error", exc_info=True)
        detail = " ".join(str(exc).split())[:300]
        _print_error(f"internal error: {type(exc).__name__}: {detail}")
        return EXIT_FAILED


YOUNG_COLLECTION_EVERY = 10_000
"""New container objects between two runs of the cycle collector on the youngest generation
(the interpreter's default is 700). A run holds every ticket it reads until it decides, so
at the default the collector walks those tens of thousands of tickets over and over: on the
100k bench desk it was a third of first response's CPU (3.2 of 9.5 s) and a third of the
weekly report's (10 of 32 s); at 10,000 it is 0.4 and 0.9 s. Nearly everything here is freed
by reference counting as soon as it is dropped; the rare cycle (an exception and its
traceback) waits a little longer to be collected, and memory stays what it was."""


THREAD_SWITCH_SECONDS = 0.001
"""How long a thread may hold the interpreter lock while another waits for it (the
interpreter's default is 5 ms). A run reads Jira on a few threads while others decode and
parse the pages already in: at 5 ms, the thread whose answer has arrived waits behind the
parsing before it can send the next request, several times a page. On the 100k bench desk,
runs of the weekly report alternated with and without it: 24.8, 25.9 and 24.6 s of wall
against 30.2, 28.6 and 27.5 s, for the same CPU; a write-bound run (channel partners) is
unchanged."""


def run_process() -> int:
    """The process entry point (``python -m jobs``, ``sla-jobs``): the process's own stdout and
    stderr are redacted too, so even a library's print or warning cannot show a secret."""
    import gc

    from jobs import secrets

    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, older, oldest)
    sys.setswitchinterval(THREAD_SWITCH_SECONDS)
    secrets.install(os.environ)
    sys.stdout = secrets.RedactingStream(sys.stdout)
    sys.stderr = secrets.RedactingStream(sys.stderr)
    try:
        return main()
    finally:
        # At exit the interpreter runs the cycle collector over every object the process
        # still holds (libraries' modules, settings models, the last tickets) only to throw
        # them away: 0.07-0.1 s of CPU on a 1k bench run, a fifth of it. Frozen objects are
        # skipped by that last walk; the rest of the exit still happens (atexit handlers,
        # streams flushed, modules torn down by reference counting). Nothing of ours waits
        # for the collector to be released: the ledger, sessions and report files are closed
        # by the code that opened them.
        gc.freeze()
