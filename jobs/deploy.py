"""Deployment files generated from the one config: Kubernetes CronJobs, a crontab, systemd timers.

All are rendered from ``settings.jobs`` (schedules, enabled flags) and the desk timezone,
so a schedule changes in one place; tests check the checked-in copies are in sync.

Which to use where:

- Kubernetes: ``deploy/k8s/`` (``spec.timeZone`` makes the schedules desk-local);
- a Debian or Ubuntu host: systemd timers (``deploy systemd``), whose ``OnCalendar=`` carries
  the desk's timezone. Debian's and Ubuntu's cron ignore ``CRON_TZ``;
- a host whose cron honours ``CRON_TZ`` (cronie), or that runs in the desk's timezone:
  ``crontab.example``. Each line runs the job with ``--scheduled``, which refuses (exit 2,
  with a message saying so) a start at a desk-local time its schedule does not name, so a
  cron that ignores ``CRON_TZ`` is noticed on its first run instead of sending at 04:00.
"""

from __future__ import annotations

import re
import shlex
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from jobs.config import Settings
from jobs.cron import to_oncalendar


class DeployError(Exception):
    """A deployment file cannot be rendered or written; one line naming the path or value."""


APP = "sla-monitor"
CONFIG_MOUNT = "/etc/sla-monitor"
SECRET_NAME = f"{APP}-secrets"
GOOGLE_SECRET_NAME = f"{APP}-google-service-account"
GOOGLE_KEY = "service-account.json"
GOOGLE_MOUNT = "/var/run/secrets/sla-monitor/google"
GOOGLE_FILE_MODE = 0o440
"""Read-only for the owner and the pod's group (fsGroup): the key file is for this pod only."""
CONFIGMAP_NAME = f"{APP}-config"
DEFAULT_IMAGE = "ghcr.io/everbright-support/sla-monitor:0.1.0"
# Sized from `make bench`: peak RSS of the largest job at 100k tickets stays under 300 MB.
RESOURCES = {
    "requests": {"cpu": "50m", "memory": "128Mi"},
    "limits": {"cpu": "500m", "memory": "384Mi"},
}
RUN_AS = 10001


def pod_security(uid: int = RUN_AS) -> dict[str, Any]:
    """A pod's ``securityContext``: not root, ``uid`` for the user, the group and the
    volumes' group, the runtime's seccomp profile. A new dict each call (a dict shared by two
    pods would be written as a YAML anchor)."""
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security(*, read_only_root: bool = True) -> dict[str, Any]:
    """A container's ``securityContext``: no privilege escalation, no capabilities, and a
    read-only root filesystem unless the image must write to it (PostgreSQL)."""
    context: dict[str, Any] = {"allowPrivilegeEscalation": False}
    if read_only_root:
        context["readOnlyRootFilesystem"] = True
    context["capabilities"] = {"drop": ["ALL"]}
    return context


HOST_ROOT = "/opt/sla-monitor"
HOST_USER = "sla-monitor"
POSTGRES_TRIAL_DIR = "postgres-trial"
POSTGRES_IMAGE = "postgres:16.4-bookworm"
POSTGRES_NAME = f"{APP}-postgres"
POSTGRES_UID = 999
"""The uid of the ``postgres`` user in the official image."""

# A container image reference, as `docker pull` parses it: [registry[:port]/]path[:tag][@digest].
_HOST = (
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
)
_IMAGE = re.compile(
    rf"^(?:{_HOST}(?::[0-9]{{1,5}})?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@sha256:[a-f0-9]{64})?$"
)


def validate_image(image: str) -> str:
    """``image`` if it is a valid reference with a tag or a digest; DeployError otherwise."""
    if len(image) > 255 or not _IMAGE.match(image):
        raise DeployError(
            f"--image {image[:80]!r} is not an image reference "
            "(e.g. registry.example.com/team/sla-monitor:0.1.0)"
        )
    name = image.split("@", 1)[0]
    if "@" not in image and ":" not in name.rsplit("/", 1)[-1]:
        raise DeployError(
            f"--image {image!r} has no tag or digest; pin one (e.g. {image}:0.1.0), "
            "never an implicit :latest"
        )
    return image


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
    try:
        return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.j2"))}
    except (OSError, UnicodeDecodeError) as exc:
        raise DeployError(f"templates in {directory}: cannot be read ({exc})") from None


def _settings_for_cluster(settings: Settings) -> str:
    data = yaml.safe_load(settings.path.read_text(encoding="utf-8"))
    data["templates_dir"] = "templates"
    return yaml.safe_dump(data, sort_keys=False)


def uses_google_sheet(settings: Settings, job: str) -> bool:
    from jobs.registry import all_jobs

    spec = all_jobs()[job].spec
    return "sheets" in spec.systems and settings.sheet.source == "google"


def render_configmap(settings: Settings) -> dict[str, Any]:
    data = {"settings.yaml": _settings_for_cluster(settings)}
    data.update({f"template.{name}": text for name, text in _template_files(settings).items()})
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CONFIGMAP_NAME, "labels": {"app.kubernetes.io/name": APP}},
        "data": data,
    }


SECRET_KEYS = (
    "JIRA_URL",
    "JIRA_EMAIL",
    "JIRA_API_TOKEN",
    "SLACK_BOT_TOKEN",
    "JOBS_LEDGER_URL",
)
"""Environment of every job, from the Secret. GOOGLE_SERVICE_ACCOUNT_FILE is not one of them:
it is the path of the key file the pod mounts from its own Secret."""


def render_secret_example() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": SECRET_NAME, "labels": {"app.kubernetes.io/name": APP}},
        "type": "Opaque",
        "stringData": {k: "" for k in SECRET_KEYS},
    }


def render_google_secret_example() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": GOOGLE_SECRET_NAME, "labels": {"app.kubernetes.io/name": APP}},
        "type": "Opaque",
        "stringData": {GOOGLE_KEY: "{}"},
    }


def render_cronjob(settings: Settings, job: str, image: str) -> dict[str, Any]:
    config_items = [{"key": "settings.yaml", "path": "settings.yaml"}] + [
        {"key": f"template.{name}", "path": f"templates/{name}"}
        for name in _template_files(settings)
    ]
    env = [
        {"name": "JOBS_CONFIG", "value": f"{CONFIG_MOUNT}/settings.yaml"},
        {"name": "HOME", "value": "/tmp"},
    ]
    mounts = [
        {"name": "config", "mountPath": CONFIG_MOUNT, "readOnly": True},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    volumes: list[dict[str, Any]] = [
        {"name": "config", "configMap": {"name": CONFIGMAP_NAME, "items": config_items}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
    ]
    if uses_google_sheet(settings, job):
        # The key is a file the adapter reads: mounted from its own Secret into this job only.
        env.append({"name": "GOOGLE_SERVICE_ACCOUNT_FILE", "value": f"{GOOGLE_MOUNT}/{GOOGLE_KEY}"})
        mounts.append(
            {"name": "google-service-account", "mountPath": GOOGLE_MOUNT, "readOnly": True}
        )
        volumes.append(
            {
                "name": "google-service-account",
                "secret": {
                    "secretName": GOOGLE_SECRET_NAME,
                    "defaultMode": GOOGLE_FILE_MODE,
                    "items": [{"key": GOOGLE_KEY, "path": GOOGLE_KEY}],
                },
            }
        )
    container = {
        "name": "job",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["run", job],
        "env": env,
        "envFrom": [{"secretRef": {"name": SECRET_NAME}}],
        "resources": RESOURCES,
        "securityContext": container_security(),
        "volumeMounts": mounts,
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
                            "securityContext": pod_security(),
                            "containers": [container],
                            "volumes": volumes,
                        },
                    },
                }
            },
        },
    }


# -- an optional PostgreSQL, for trying the cluster deployment out --------------------------------


def render_postgres_trial() -> dict[str, str]:
    """A one-replica PostgreSQL with a volume, to try the CronJobs out; production should use a
    managed database. Not part of ``deploy/k8s/kustomization.yaml``: apply it on purpose."""
    labels = {"app.kubernetes.io/name": APP, "app.kubernetes.io/component": "postgres"}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": POSTGRES_NAME, "labels": labels},
        "type": "Opaque",
        "stringData": {"POSTGRES_USER": "sla", "POSTGRES_DB": "sla", "POSTGRES_PASSWORD": ""},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": POSTGRES_NAME, "labels": labels},
        "spec": {
            "selector": labels,
            "ports": [{"name": "postgres", "port": 5432, "targetPort": "postgres"}],
        },
    }
    statefulset = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": POSTGRES_NAME, "labels": labels},
        "spec": {
            "serviceName": POSTGRES_NAME,
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security(POSTGRES_UID),
                    "containers": [
                        {
                            "name": "postgres",
                            "image": POSTGRES_IMAGE,
                            "ports": [{"name": "postgres", "containerPort": 5432}],
                            "envFrom": [{"secretRef": {"name": POSTGRES_NAME}}],
                            "env": [{"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}],
                            "readinessProbe": {
                                "exec": {"command": ["pg_isready", "-U", "sla", "-d", "sla"]},
                                "periodSeconds": 10,
                            },
                            "resources": {
                                "requests": {"cpu": "50m", "memory": "128Mi"},
                                "limits": {"cpu": "500m", "memory": "512Mi"},
                            },
                            "securityContext": container_security(read_only_root=False),
                            "volumeMounts": [
                                {"name": "data", "mountPath": "/var/lib/postgresql/data"},
                                {"name": "run", "mountPath": "/var/run/postgresql"},
                            ],
                        }
                    ],
                    "volumes": [{"name": "run", "emptyDir": {}}],
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
        },
    }
    header = (
        "# Generated by `python -m jobs deploy k8s`. For trying the CronJobs out only; use a\n"
        "# managed PostgreSQL in production (README 'Deploy'). Do not edit.\n"
    )

    def dump(resource: dict[str, Any]) -> str:
        return header + _yaml(resource)

    files = {
        "secret.example.yaml": dump(secret),
        "service.yaml": dump(service),
        "statefulset.yaml": dump(statefulset),
    }
    files["kustomization.yaml"] = dump(
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": ["service.yaml", "statefulset.yaml"],
        }
    )
    return files


def _dump(resource: dict[str, Any]) -> str:
    header = "# Generated by `python -m jobs deploy k8s` from config/settings.yaml. Do not edit.\n"
    return header + _yaml(resource)


class _Written(yaml.SafeDumper):
    """Every value written out where it stands: one labels dict used for a resource's labels
    and its selector is not written as a YAML anchor and ``*id001`` aliases, which a reader
    of the file (and older kustomize) should not have to follow."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _yaml(resource: dict[str, Any]) -> str:
    return yaml.dump(resource, Dumper=_Written, sort_keys=False, width=100)


def render_k8s(settings: Settings, image: str) -> dict[str, str]:
    """Every file of ``deploy/k8s/``, by path relative to it."""
    validate_image(image)
    files = {
        "configmap.yaml": _dump(render_configmap(settings)),
        "secret.example.yaml": _dump(render_secret_example()),
        "secret-google.example.yaml": _dump(render_google_secret_example()),
    }
    for job in settings.jobs:
        files[f"cronjob-{job.replace('_', '-')}.yaml"] = _dump(render_cronjob(settings, job, image))
    from jobs.slack_app.deploy import render_deployment

    # The listener behind the buttons on alerts (Socket Mode: no Service, no Ingress).
    files["deployment-slack-listener.yaml"] = _dump(render_deployment(settings, image))
    resources = [name for name in files if not name.endswith(".example.yaml")]
    files["kustomization.yaml"] = _dump(
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources,
        }
    )
    for name, text in render_postgres_trial().items():
        files[f"{POSTGRES_TRIAL_DIR}/{name}"] = text
    return files


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DeployError(f"{path}: cannot write ({exc.strerror or exc})") from None


def write_files(out_dir: Path, files: dict[str, str]) -> list[Path]:
    if out_dir.exists() and not out_dir.is_dir():
        raise DeployError(f"--out {out_dir}: is not a directory")
    written = []
    for name, text in files.items():
        path = out_dir / name
        _write(path, text)
        written.append(path)
    return written


def write_k8s(settings: Settings, out_dir: Path, image: str) -> list[Path]:
    return write_files(out_dir, render_k8s(settings, image))


def write_text(path: Path, text: str) -> None:
    """One generated file (the crontab); DeployError names the path when it cannot be written."""
    if path.is_dir():
        raise DeployError(f"--out {path}: is a directory; give a file name")
    _write(path, text)


# -- one host: cron -------------------------------------------------------------------------------


def _run_command(job: str, root: str, *extra: str) -> str:
    args = " ".join(shlex.quote(a) for a in ("run", job, *extra))
    return f"exec .venv/bin/python -m jobs {args}"


def render_crontab(settings: Settings, root: str = HOST_ROOT) -> str:
    tz = settings.desk.timezone
    lines = [
        "# Generated by `python -m jobs deploy crontab` from config/settings.yaml (see README).",
        f"# Schedules are in the desk's timezone ({tz}). Debian's and Ubuntu's cron ignore",
        "# CRON_TZ: there, use the systemd timers (`python -m jobs deploy systemd`), or run the",
        "# host in that timezone. --scheduled refuses (exit 2, logged) a start at a desk-local",
        "# time the schedule does not name, so a cron that ignores CRON_TZ is noticed at once.",
        "# flock -n: a run still going when the next is due makes the next one skip, not overlap.",
        "# Output goes to syslog/the journal (`journalctl -t sla-monitor`); set JOBS_LOG_DIR in",
        "# .env for a file as well (README 'Logs').",
        "SHELL=/bin/bash",
        f"CRON_TZ={tz}",
        "",
    ]
    for job, cfg in settings.jobs.items():
        command = (
            f"cd {root} && flock -n /tmp/sla-monitor-{job}.lock "
            f"bash -c 'set -a; . ./.env; set +a; {_run_command(job, root, '--scheduled')}' "
            f"2>&1 | logger -t sla-monitor -p user.info"
        )
        prefix = "" if cfg.enabled else "# disabled: "
        lines.append(f"{prefix}{cfg.schedule} {command}")
    return "\n".join(lines) + "\n"


# -- one host: systemd timers ---------------------------------------------------------------------


def unit_name(job: str) -> str:
    return f"sla-monitor-{job.replace('_', '-')}"


def render_systemd(
    settings: Settings, root: str = HOST_ROOT, user: str = HOST_USER
) -> dict[str, str]:
    """A oneshot service and a timer per enabled job, firing at desk-local time.

    ``OnCalendar=`` takes the desk's timezone, so the Monday 09:00 reset is 09:00 in New York
    whatever the host's zone. A timer does not start its service while the previous run is
    still going (no overlap, as flock gives cron). Output goes to the journal.
    """
    from jobs.slack_app.deploy import render_systemd_unit

    tz = settings.desk.timezone
    header = (
        "# Generated by `python -m jobs deploy systemd` from config/settings.yaml. Do not edit.\n"
    )
    # The listener behind the buttons on alerts: a long-running service beside the timers.
    files: dict[str, str] = {
        "sla-monitor-slack.service": render_systemd_unit(directory=root, user=user)
    }
    for job, cfg in settings.jobs.items():
        if not cfg.enabled:
            continue
        unit = unit_name(job)
        files[f"{unit}.service"] = header + "\n".join(
            [
                "[Unit]",
                f"Description=Support SLA monitor: {job}",
                "Wants=network-online.target",
                "After=network-online.target",
                "",
                "[Service]",
                "Type=oneshot",
                f"User={user}",
                f"Group={user}",
                f"WorkingDirectory={root}",
                f"EnvironmentFile={root}/.env",
                f"ExecStart={root}/.venv/bin/python -m jobs run {job}",
                f"SyslogIdentifier={unit}",
                "NoNewPrivileges=yes",
                "PrivateTmp=yes",
                "ProtectSystem=strict",
                "ProtectHome=yes",
                f"ReadWritePaths={root}/.state",
                # /var/log/sla-monitor, owned by the user, for JOBS_LOG_DIR (README 'Logs').
                "LogsDirectory=sla-monitor",
                "Environment=PYTHONDONTWRITEBYTECODE=1 MPLCONFIGDIR=/tmp/matplotlib",
                "UMask=0077",
                f"TimeoutStartSec={active_deadline(settings, job)}",
                "",
            ]
        )
        calendars = [f"OnCalendar={spec}" for spec in to_oncalendar(cfg.schedule, tz)]
        files[f"{unit}.timer"] = header + "\n".join(
            [
                "[Unit]",
                f"Description=Support SLA monitor: {job} ({cfg.schedule} in {tz})",
                "",
                "[Timer]",
                *calendars,
                "AccuracySec=1s",
                # A run missed while the host was down happens once at boot (dedup holds).
                "Persistent=true",
                "",
                "[Install]",
                "WantedBy=timers.target",
                "",
            ]
        )
    return files
