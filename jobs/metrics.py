"""Prometheus metrics per run: a node-exporter textfile and/or a Pushgateway push."""

from __future__ import annotations

import logging
import os
import tempfile
import urllib.request
from collections import Counter
from datetime import datetime
from pathlib import Path

from jobs.config import Settings
from jobs.report import RunReport

log = logging.getLogger("jobs.metrics")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_metrics(reports: list[RunReport], finished: datetime) -> str:
    lines = [
        "# HELP sla_job_findings Findings in the last run by severity.",
        "# TYPE sla_job_findings gauge",
    ]
    for r in reports:
        by_severity = Counter(str(f.severity) for f in r.findings)
        for severity, count in sorted(by_severity.items()):
            lines.append(
                f'sla_job_findings{{job="{_escape(r.job)}",severity="{severity}"}} {count}'
            )
    lines += [
        "# HELP sla_job_actions Actions in the last run by status.",
        "# TYPE sla_job_actions gauge",
    ]
    for r in reports:
        for status, count in sorted(Counter(a.status for a in r.actions).items()):
            lines.append(f'sla_job_actions{{job="{_escape(r.job)}",status="{status}"}} {count}')
    lines += [
        "# HELP sla_job_api_calls API calls in the last run.",
        "# TYPE sla_job_api_calls gauge",
    ]
    for r in reports:
        for system, count in sorted(r.api_calls.items()):
            lines.append(f'sla_job_api_calls{{job="{_escape(r.job)}",system="{system}"}} {count}')
    lines += [
        "# HELP sla_job_duration_seconds Wall time of the last run.",
        "# TYPE sla_job_duration_seconds gauge",
    ]
    for r in reports:
        seconds = ((r.finished_at or finished) - r.started_at).total_seconds()
        lines.append(f'sla_job_duration_seconds{{job="{_escape(r.job)}"}} {seconds:.3f}')
    lines += [
        "# HELP sla_job_last_success_timestamp_seconds When the job last ran without failure.",
        "# TYPE sla_job_last_success_timestamp_seconds gauge",
    ]
    for r in reports:
        if r.exit_code == 0:
            lines.append(
                f'sla_job_last_success_timestamp_seconds{{job="{_escape(r.job)}"}} '
                f"{finished.timestamp():.0f}"
            )
    return "\n".join(lines) + "\n"


def write_metrics(settings: Settings, reports: list[RunReport], finished: datetime) -> None:
    cfg = settings.metrics
    if not (cfg.textfile or cfg.pushgateway_url):
        return
    text = render_metrics(reports, finished)
    if cfg.textfile:
        path = Path(cfg.textfile)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Atomic replace: node-exporter must never read a half-written file.
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("metrics textfile not written: %s", exc)
    if cfg.pushgateway_url:
        for r in reports:
            url = f"{cfg.pushgateway_url.rstrip('/')}/metrics/job/sla_monitor/instance/{r.job}"
            body = render_metrics([r], finished).encode()
            request = urllib.request.Request(url, data=body, method="PUT")
            try:
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                    response.read()
            except Exception as exc:
                log.warning("pushgateway push failed: %s", type(exc).__name__)
