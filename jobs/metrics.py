"""Prometheus metrics per run: a node-exporter textfile per job and/or a Pushgateway group per job.

Every job has its own file (``<metrics.textfile_dir>/sla_monitor_<job>.prom``) and its own
Pushgateway group (``/metrics/job/<job>``), so jobs on different schedules never overwrite
each other. Each holds, for the job's last run: its exit code, duration, findings by severity,
actions by status and API calls by system, when it ran, and when it last succeeded.

``last_success`` must survive a failed run (an alert on "no success for 2 h" depends on it):
the textfile keeps the value read back from the previous file, and the Pushgateway push of a
failed run leaves the metric out and uses POST, which replaces only the metrics it carries.

A file is written to a temporary name and renamed, so node-exporter never reads half of one.
Writing metrics is best effort: a failure is logged, never the job's outcome.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from jobs.secrets import redact

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Gauge

    from jobs.config import Settings
    from jobs.report import RunReport

# prometheus_client is imported when metrics are written: a host without metrics never loads it.

log = logging.getLogger("jobs.metrics")

FILE_MODE = 0o644
"""node-exporter usually runs as another user; metrics hold counts and job names only."""
LAST_SUCCESS = "sla_job_last_success_timestamp_seconds"
PUSH_TIMEOUT = 5.0


def textfile_path(directory: str | Path, job: str) -> Path:
    return Path(directory) / f"sla_monitor_{job}.prom"


def registry_for(
    reports: list[RunReport], finished: datetime, last_success: dict[str, float] | None = None
) -> CollectorRegistry:
    """The metrics of ``reports`` (one per job); ``last_success`` gives, per job, the time to
    report for a job whose run failed (the previous success), when known."""
    from prometheus_client import CollectorRegistry, Gauge

    registry = CollectorRegistry()

    def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, doc, ("job", *labels), registry=registry)

    findings = gauge("sla_job_findings", "Findings in the last run by severity.", ("severity",))
    actions = gauge("sla_job_actions", "Actions in the last run by status.", ("status",))
    calls = gauge("sla_job_api_calls", "API calls in the last run.", ("system",))
    duration = gauge("sla_job_duration_seconds", "Wall time of the last run.")
    exit_code = gauge("sla_job_exit_code", "Exit code of the last run (0 ok, 1 failed, 2 config).")
    last_run = gauge("sla_job_last_run_timestamp_seconds", "When the last run finished.")
    previous = last_success or {}
    successes = {
        r.job: int((r.finished_at or finished).timestamp()) if r.exit_code == 0 else previous[r.job]
        for r in reports
        if r.exit_code == 0 or r.job in previous
    }
    if successes:
        # Left out entirely otherwise: a Pushgateway POST would replace the stored value with
        # an empty family, and "last success" must survive a failed run.
        success = gauge(LAST_SUCCESS, "When the job last ran without failure.")
        for job, at in successes.items():
            success.labels(job).set(at)
    for r in reports:
        for severity, count in sorted(Counter(str(f.severity) for f in r.findings).items()):
            findings.labels(r.job, severity).set(count)
        for status, count in sorted(Counter(a.status for a in r.actions).items()):
            actions.labels(r.job, status).set(count)
        for system, count in sorted(r.api_calls.items()):
            calls.labels(r.job, system).set(count)
        ended = r.finished_at or finished
        duration.labels(r.job).set(round((ended - r.started_at).total_seconds(), 3))
        exit_code.labels(r.job).set(r.exit_code)
        last_run.labels(r.job).set(int(ended.timestamp()))
    return registry


def render_metrics(
    reports: list[RunReport], finished: datetime, last_success: dict[str, float] | None = None
) -> str:
    """The Prometheus text exposition of ``reports``."""
    from prometheus_client import generate_latest

    return generate_latest(registry_for(reports, finished, last_success)).decode()


def previous_last_success(path: Path, job: str) -> float | None:
    """The last success recorded in a previous textfile, if it is there and readable."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        text = path.read_text(encoding="utf-8")
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == LAST_SUCCESS and sample.labels.get("job") == job:
                    return float(sample.value)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return None


def write_textfile(directory: str | Path, report: RunReport, finished: datetime) -> Path:
    """Write one job's file atomically; raises OSError."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = textfile_path(folder, report.job)
    previous = previous_last_success(path, report.job)
    text = render_metrics(
        [report], finished, {report.job: previous} if previous is not None else None
    )
    # The temporary name ends in .tmp: the collector reads only *.prom files.
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def push(url: str, report: RunReport, finished: datetime, timeout: float = PUSH_TIMEOUT) -> None:
    """POST one job's metrics to its Pushgateway group (``/metrics/job/<job>``)."""
    from prometheus_client import pushadd_to_gateway

    pushadd_to_gateway(
        url, job=report.job, registry=registry_for([report], finished), timeout=timeout
    )


def write_metrics(settings: Settings, reports: list[RunReport], finished: datetime) -> None:
    cfg = settings.metrics
    for report in reports:
        if cfg.textfile_dir:
            try:
                write_textfile(cfg.textfile_dir, report, finished)
            except OSError as exc:
                log.warning(
                    "metrics textfile for %s not written: %s", report.job, exc.strerror or exc
                )
        if cfg.pushgateway_url:
            try:
                push(cfg.pushgateway_url, report, finished)
            except Exception as exc:  # the monitor being down must not fail the job
                log.warning(
                    "pushgateway push for %s failed: %s", report.job, redact(str(exc))[:200]
                )
