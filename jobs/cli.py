"""Command line: argument parsing and exit codes only; the work happens in the pipeline.

Exit codes (operators and cron wrappers depend on them):
  0  success, with or without findings
  1  a job ran but some read or action failed
  2  usage, configuration or credential error, detected before anything was sent
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import NoReturn, TextIO
from zoneinfo import ZoneInfo

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

log = logging.getLogger("jobs")


class UsageError(Exception):
    """Bad arguments, config or credentials: exit 2 with a one-line message."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 too; keep it to one line
        raise UsageError(f"{self.prog}: {message}")


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

    sub.add_parser("check-config", help="validate settings and templates offline")

    why = sub.add_parser("why", help="decision history of one ticket or sheet account")
    why.add_argument("key")
    why.add_argument("--limit", type=int, default=50)

    silence = sub.add_parser("silence", help="silence alerts for an item")
    silence.add_argument("key")
    silence.add_argument("--job", help="only this job (default: every job)")
    silence.add_argument("--for", dest="duration", required=True, help="e.g. 4h, 2d")
    silence.add_argument("--reason", required=True)
    silence.add_argument("--author", default=os.environ.get("USER", "operator"))

    silences = sub.add_parser("silences", help="list silences; --expire ID ends one")
    silences.add_argument("--expire", type=int, metavar="ID")
    silences.add_argument("--all", action="store_true", help="include expired silences")

    deploy = sub.add_parser("deploy", help="render deployment files from the config")
    deploy.add_argument("target", choices=["k8s", "crontab"])
    deploy.add_argument("--image", default="ghcr.io/everbright-support/sla-monitor:0.1.0")
    deploy.add_argument("--out", help="output path (default deploy/k8s or stdout for crontab)")

    report = sub.add_parser("report", help="offline reports")
    report.add_argument("kind", choices=["sla"])
    report.add_argument("--week", required=True, help="ISO week, e.g. 2026-W47")
    report.add_argument("--out", required=True, help="directory for CSV and PNG")

    for p in sub.choices.values():
        p.add_argument(
            "--config", help="settings file (default: $JOBS_CONFIG or config/settings.yaml)"
        )
    return parser


def _settings(args: argparse.Namespace, env: Mapping[str, str]):  # type: ignore[no-untyped-def]
    from jobs.config import ConfigError, load_settings, resolve_config_path
    from jobs.registry import all_jobs

    path = resolve_config_path(args.config, env)
    try:
        return load_settings(path, {n: j.spec.config_model for n, j in all_jobs().items()})
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _ledger(settings, env: Mapping[str, str]):  # type: ignore[no-untyped-def]
    from jobs.ledger import open_ledger

    try:
        return open_ledger(env.get("JOBS_LEDGER_URL") or None)
    except Exception as exc:  # any failure to open state is a deployment problem: exit 2
        from jobs.logs import Redactor

        raise UsageError(f"ledger: cannot open ({Redactor.from_env(env)(str(exc))})") from None


def cmd_list(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from jobs.registry import all_jobs

    schedules = {n: c.schedule for n, c in _settings(args, env).jobs.items()}
    width = max(len(n) for n in all_jobs())
    for name, job in all_jobs().items():
        schedule = schedules[name]
        print(f"{name:<{width}}  {schedule:<15}  {job.spec.description}", file=out)
    return EXIT_OK


def cmd_check_config(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from jobs.registry import all_jobs
    from jobs.render.templates import check_templates

    settings = _settings(args, env)
    specs = [t for job in all_jobs().values() for t in job.spec.templates]
    problems = check_templates(settings.templates_dir, specs)
    if problems:
        raise UsageError("\n".join(f"{settings.path}: {p}" for p in problems))
    print(f"OK: {settings.path} ({len(settings.jobs)} jobs, {len(specs)} templates)", file=out)
    return EXIT_OK


def cmd_run(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from jobs.adapters.http import CredentialError
    from jobs.clock import SystemClock, parse_instant
    from jobs.context import RunContext
    from jobs.pipeline import Pipeline
    from jobs.registry import UnknownJob, all_jobs, get_job
    from jobs.report import write_reports

    clock = SystemClock()
    try:
        now: datetime = parse_instant(args.now) if args.now else clock.now()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.json and not args.dry_run:
        raise UsageError("--json prints what a dry run would send: add --dry-run")
    settings = _settings(args, env)
    if args.job == "all":
        names = [n for n in all_jobs() if settings.jobs[n].enabled]
    else:
        try:
            names = [get_job(args.job).spec.name]
        except UnknownJob:
            known = ", ".join(all_jobs())
            raise UsageError(f"unknown job {args.job!r}; known jobs: {known}, all") from None
    ledger = _ledger(settings, env)
    from jobs.adapters.pacing import ChannelPacer
    from jobs.heartbeat import Heartbeat
    from jobs.ledger.base import ReadOnlyLedger
    from jobs.metrics import write_metrics
    from jobs.pipeline.records import SCHEDULE_JITTER

    pacer = ChannelPacer()  # one pace per channel for every job of this invocation
    contexts = []
    for name in names:
        ctx = RunContext(
            settings=settings,
            job_name=name,
            job_config=settings.jobs[name],
            now=now,
            dry_run=args.dry_run,
            run_id=uuid.uuid4().hex[:12],
            env=env,
            ledger=ReadOnlyLedger(ledger),
            out=out,
            allow_backwards=args.allow_backwards,
            json_output=args.json,
            pacer=pacer,
        )
        try:
            ctx.check_credentials(get_job(name).spec.systems)
        except CredentialError as exc:
            raise UsageError(f"{name}: {exc}") from None
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
        beat = Heartbeat(ctx.job_config.heartbeat_url, dry_run=ctx.dry_run)
        beat.start()
        try:
            report = Pipeline(job, ctx, clock, ledger=ledger).run()
        except Exception as exc:  # one job's bug must not stop `run all`
            log.exception("job crashed", extra=ctx.extra())
            from jobs.report import RunReport

            report = RunReport(ctx.job_name, ctx.run_id, now, now, ctx.dry_run)
            report.errors.append(f"crashed: {type(exc).__name__}: {exc}")
            report.exit_code = EXIT_FAILED
            report.finished_at = clock.now()
        reports.append(report)
        beat.finish(report.exit_code)
        level = logging.ERROR if report.exit_code else logging.INFO
        log.log(level, report.summary_line(), extra=ctx.extra())
        if report.exit_code == EXIT_USAGE:  # refused credentials: say so on one line
            print(f"error: {ctx.job_name}: {report.errors[-1]}", file=sys.stderr)
        if args.dry_run and not args.json:
            print(f"-- {report.summary_line()}", file=out)
        exit_code = max(exit_code, report.exit_code)
    if not args.dry_run:
        write_metrics(settings, reports, clock.now())
        # The decision log answers "why" for at least a year; older lines go, a cheap DELETE.
        ledger.prune(now=clock.now(), keep=settings.ledger.retention.wall)
    if args.report:
        write_reports(Path(args.report), reports)
    ledger.close()
    return exit_code


def cmd_why(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    settings = _settings(args, env)
    ledger = _ledger(settings, env)
    history = ledger.history(args.key, limit=args.limit)
    if not history:
        print(
            f"{args.key}: no decisions recorded (never a candidate, or older than retention)",
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


def cmd_silence(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from jobs.clock import SystemClock
    from jobs.durations import parse_duration
    from jobs.registry import all_jobs

    settings = _settings(args, env)
    try:
        duration = parse_duration(args.duration)
    except ValueError as exc:
        raise UsageError(f"--for: {exc}") from None
    if args.job and args.job not in all_jobs():
        raise UsageError(f"--job: unknown job {args.job!r}; known jobs: {', '.join(all_jobs())}")
    from jobs.context import desk_calendar

    now = SystemClock().now()
    until = desk_calendar(settings).add(now, duration)
    ledger = _ledger(settings, env)
    try:
        s = ledger.add_silence(
            args.key, job=args.job, reason=args.reason, author=args.author, now=now, until=until
        )
    except ValueError as exc:
        raise UsageError(f"silence: {exc}") from None
    from jobs.render.console import local_time

    shown = local_time(s.expires, ZoneInfo(settings.desk.timezone))
    print(f"silence {s.id}: {s.item} ({s.job or 'all jobs'}) until {shown}", file=out)
    return EXIT_OK


def cmd_silences(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from jobs.clock import SystemClock

    settings = _settings(args, env)
    ledger = _ledger(settings, env)
    now = SystemClock().now()
    if args.expire is not None:
        if not ledger.expire_silence(args.expire, now=now):
            raise UsageError(f"--expire: no active silence with id {args.expire}")
        print(f"silence {args.expire} expired", file=out)
        return EXIT_OK
    rows = ledger.silences(now=now, include_expired=args.all)
    if not rows:
        print("no active silences", file=out)
        return EXIT_OK
    from jobs.render.console import local_time, table

    tz = ZoneInfo(settings.desk.timezone)
    lines = table(
        ("ID", "ITEM", "JOB", "UNTIL", "STATE", "BY", "REASON"),
        [
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
        ],
    )
    print("\n".join(lines), file=out)
    return EXIT_OK


def cmd_deploy(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from jobs import deploy

    settings = _settings(args, env)
    if args.target == "k8s":
        written = deploy.write_k8s(settings, Path(args.out or "deploy/k8s"), image=args.image)
        for path in written:
            print(f"wrote {path}", file=out)
    else:
        text = deploy.render_crontab(settings)
        if args.out:
            Path(args.out).write_text(text)
        else:
            out.write(text)
    return EXIT_OK


def cmd_report(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from jobs.scheduled.sla_report import write_offline_report

    settings = _settings(args, env)
    return write_offline_report(settings, env, args.week, Path(args.out), out)


def main(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
) -> int:
    env = dict(os.environ if env is None else env)
    out = out or sys.stdout
    from jobs.logs import setup_logging

    setup_logging(env)
    before = set(threading.enumerate())
    try:
        return _dispatch(argv, env, out)
    finally:
        _finish_threads(before)


def _finish_threads(before: set[threading.Thread], timeout: float = 60.0) -> None:
    """Wait for every thread a command started (a page fetched ahead, a library loading in
    the background): none may still run Python code while the interpreter finalizes."""
    for thread in set(threading.enumerate()) - before:
        if not thread.daemon and thread is not threading.current_thread():
            thread.join(timeout)


def _dispatch(argv: Sequence[str] | None, env: dict[str, str], out: TextIO) -> int:
    try:
        args = build_parser().parse_args(argv)
        handlers = {
            "list": cmd_list,
            "run": cmd_run,
            "check-config": cmd_check_config,
            "why": cmd_why,
            "silence": cmd_silence,
            "silences": cmd_silences,
            "deploy": cmd_deploy,
            "report": cmd_report,
        }
        return handlers[args.command](args, env, out)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except KeyboardInterrupt:
        return 130
