"""Deployment files generated from the one config: a crontab and Kubernetes CronJobs.

Both are rendered from ``settings.jobs`` (schedules, enabled flags) and the desk timezone,
so a schedule changes in one place; tests check the checked-in copies are in sync.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from jobs.config import Settings

APP = "sla-monitor"
CONFIG_MOUNT = "/etc/sla-monitor"
SECRET_NAME = f"{APP}-secrets"
CONFIGMAP_NAME = f"{APP}-config"
# Sized from `make bench`: peak RSS of the largest job at 100k tickets stays under 300 MB.
RESOURCES = {
    "requests": {"cpu": "50m", "memory": "128Mi"},
    "limits": {"cpu": "500m", "memory": "384Mi"},
}
RUN_AS = 10001


def k8s_name(job: str) -> str:
    return f"{APP}-{job.replace('_', '-')}"[:52]  # CronJob names must leave room for job suffixes


def _shortest_gap_seconds(schedule: str, tz: str) -> int:
    """Smallest interval between two runs over a week, so a run never outlives the next one."""
    from zoneinfo import ZoneInfo

    from croniter import croniter

    start = datetime(2026, 1, 5, tzinfo=ZoneInfo(tz))
    it = croniter(schedule, start)
    times = [it.get_next(datetime) for _ in range(200)]
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    return int(min(gaps)) if gaps else 86400


def active_deadline(settings: Settings, job: str) -> int:
    gap = _shortest_gap_seconds(settings.jobs[job].schedule, settings.desk.timezone)
    return max(120, min(gap - 60, 1800))


def _template_files(settings: Settings) -> dict[str, str]:
    directory = settings.templates_dir
    return {p.name: p.read_text() for p in sorted(directory.glob("*.j2"))}


def _settings_for_cluster(settings: Settings) -> str:
    data = yaml.safe_load(settings.path.read_text())
    data["templates_dir"] = "templates"
    return yaml.safe_dump(data, sort_keys=False)


def render_configmap(settings: Settings) -> dict[str, Any]:
    data = {"settings.yaml": _settings_for_cluster(settings)}
    data.update({f"template.{name}": text for name, text in _template_files(settings).items()})
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CONFIGMAP_NAME, "labels": {"app.kubernetes.io/name": APP}},
        "data": data,
    }


def render_secret_example() -> dict[str, Any]:
    keys = [
        "JIRA_URL",
        "JIRA_EMAIL",
        "JIRA_API_TOKEN",
        "SLACK_BOT_TOKEN",
        "GOOGLE_SERVICE_ACCOUNT_FILE",
        "JOBS_LEDGER_URL",
    ]
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": SECRET_NAME, "labels": {"app.kubernetes.io/name": APP}},
        "type": "Opaque",
        "stringData": {k: "" for k in keys},
    }


def render_cronjob(settings: Settings, job: str, image: str) -> dict[str, Any]:
    config_items = [{"key": "settings.yaml", "path": "settings.yaml"}] + [
        {"key": f"template.{name}", "path": f"templates/{name}"}
        for name in _template_files(settings)
    ]
    container = {
        "name": "job",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["run", job],
        "env": [
            {"name": "JOBS_CONFIG", "value": f"{CONFIG_MOUNT}/settings.yaml"},
            {"name": "HOME", "value": "/tmp"},
        ],
        "envFrom": [{"secretRef": {"name": SECRET_NAME}}],
        "resources": RESOURCES,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "config", "mountPath": CONFIG_MOUNT, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": k8s_name(job),
            "labels": {"app.kubernetes.io/name": APP, "app.kubernetes.io/component": job},
        },
        "spec": {
            "schedule": settings.jobs[job].schedule,
            "timeZone": settings.desk.timezone,
            "suspend": not settings.jobs[job].enabled,
            # Forbid: two runs of one job never overlap (the ledger's claims are the second guard).
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 300,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 5,
            "jobTemplate": {
                "spec": {
                    # No pod retries: the next scheduled run retries what failed, after dedup.
                    "backoffLimit": 0,
                    "activeDeadlineSeconds": active_deadline(settings, job),
                    "ttlSecondsAfterFinished": 86400,
                    "template": {
                        "metadata": {
                            "labels": {
                                "app.kubernetes.io/name": APP,
                                "app.kubernetes.io/component": job,
                            }
                        },
                        "spec": {
                            "restartPolicy": "Never",
                            "automountServiceAccountToken": False,
                            "securityContext": {
                                "runAsNonRoot": True,
                                "runAsUser": RUN_AS,
                                "runAsGroup": RUN_AS,
                                "fsGroup": RUN_AS,
                                "seccompProfile": {"type": "RuntimeDefault"},
                            },
                            "containers": [container],
                            "volumes": [
                                {
                                    "name": "config",
                                    "configMap": {"name": CONFIGMAP_NAME, "items": config_items},
                                },
                                {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                            ],
                        },
                    },
                }
            },
        },
    }


def _dump(resource: dict[str, Any]) -> str:
    header = "# Generated by `python -m jobs deploy k8s` from config/settings.yaml. Do not edit.\n"
    return header + yaml.safe_dump(resource, sort_keys=False, width=100)


def render_k8s(settings: Settings, image: str) -> dict[str, str]:
    files = {
        "configmap.yaml": _dump(render_configmap(settings)),
        "secret.example.yaml": _dump(render_secret_example()),
    }
    for job in settings.jobs:
        files[f"cronjob-{job.replace('_', '-')}.yaml"] = _dump(render_cronjob(settings, job, image))
    resources = [name for name in files if name != "secret.example.yaml"]
    files["kustomization.yaml"] = _dump(
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources,
        }
    )
    return files


def write_k8s(settings: Settings, out_dir: Path, image: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_k8s(settings, image).items():
        path = out_dir / name
        path.write_text(text)
        written.append(path)
    return written


def render_crontab(settings: Settings, root: str = "/opt/sla-monitor") -> str:
    lines = [
        "# Generated by `python -m jobs deploy crontab` from config/settings.yaml (see README).",
        f"# Schedules are in the desk's timezone ({settings.desk.timezone}): set CRON_TZ where",
        "# cron supports it (cronie), or run this host in that timezone.",
        "# flock -n: a run still going when the next is due makes the next one skip, not overlap.",
        "SHELL=/bin/bash",
        f"CRON_TZ={settings.desk.timezone}",
        "",
    ]
    for job, cfg in settings.jobs.items():
        command = (
            f"cd {root} && flock -n /tmp/sla-monitor-{job}.lock "
            f"bash -c 'set -a; . ./.env; set +a; exec .venv/bin/python -m jobs run {job}' "
            f">> /var/log/sla-monitor/{job}.log 2>&1"
        )
        prefix = "" if cfg.enabled else "# disabled: "
        lines.append(f"{prefix}{cfg.schedule} {command}")
    return "\n".join(lines) + "\n"
