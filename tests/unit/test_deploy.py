"""Deployment files are generated from the config and kept in sync with it."""

from __future__ import annotations

import re

import pytest
import yaml
from croniter import croniter

from jobs import deploy
from jobs.config import load_settings
from jobs.registry import all_jobs
from tests.conftest import CONFIG, ROOT, run_cli

K8S_DIR = ROOT / "deploy" / "k8s"
SYSTEMD_DIR = ROOT / "deploy" / "systemd"
IMAGE = "ghcr.io/everbright-support/sla-monitor:0.1.0"


@pytest.fixture(scope="module")
def settings():
    return load_settings(CONFIG, {n: j.spec.config_model for n, j in all_jobs().items()})


def test_checked_in_manifests_match_the_config(settings) -> None:
    rendered = deploy.render_k8s(settings, IMAGE)
    on_disk = {str(p.relative_to(K8S_DIR)): p.read_text() for p in K8S_DIR.rglob("*.yaml")}
    assert on_disk == rendered, "deploy/k8s is stale: run `make deploy`"


def test_manifests_write_every_value_where_it_stands(settings) -> None:
    # One labels dict serves a resource's labels and its selector; the file must not make a
    # reader (or an older kustomize) follow YAML anchors and aliases to see them.
    for name, text in deploy.render_k8s(settings, IMAGE).items():
        assert not re.search(r"[&*]id\d+", text), name


def test_checked_in_systemd_units_match_the_config(settings) -> None:
    rendered = deploy.render_systemd(settings)
    on_disk = {p.name: p.read_text() for p in SYSTEMD_DIR.iterdir()}
    assert on_disk == rendered, "deploy/systemd is stale: run `make deploy`"


def test_checked_in_crontab_matches_the_config(settings) -> None:
    assert (ROOT / "crontab.example").read_text() == deploy.render_crontab(settings), (
        "crontab.example is stale: run `make deploy`"
    )


def test_every_manifest_validates_against_the_kubernetes_schema(settings) -> None:
    import kubernetes_validate

    kinds = set()
    for text in deploy.render_k8s(settings, IMAGE).values():
        resource = yaml.safe_load(text)
        kinds.add(resource["kind"])
        if resource["kind"] == "Kustomization":
            continue
        kubernetes_validate.validate(resource, "1.30.0", strict=True)
    assert {"CronJob", "ConfigMap", "Secret", "StatefulSet", "Service"} <= kinds


def test_cronjobs_are_safe_by_default(settings) -> None:
    for job in settings.jobs:
        spec = deploy.render_cronjob(settings, job, IMAGE)["spec"]
        assert spec["concurrencyPolicy"] == "Forbid"
        assert spec["timeZone"] == settings.desk.timezone
        pod = spec["jobTemplate"]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        container = pod["containers"][0]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["envFrom"] == [{"secretRef": {"name": deploy.SECRET_NAME}}]
        assert container["args"] == ["run", job]
        assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] < deploy._shortest_gap_seconds(
            spec["schedule"], settings.desk.timezone
        )


def test_crontab_has_one_locked_line_per_job_with_the_listed_schedule(settings) -> None:
    listing = run_cli(["list", "--config", str(CONFIG)], {}).out
    lines = [
        line
        for line in deploy.render_crontab(settings).splitlines()
        if line and not line.startswith(("#", "SHELL", "CRON_TZ"))
    ]
    assert len(lines) == sum(cfg.enabled for cfg in settings.jobs.values())
    for line in lines:
        job = re.search(r"jobs run (\w+)", line).group(1)
        schedule = " ".join(line.split()[:5])
        assert croniter.is_valid(schedule)
        assert schedule == settings.jobs[job].schedule
        assert f"{job}" in listing and schedule in listing
        assert "flock -n" in line and ". ./.env" in line
        # Desk time guarded; output to syslog/the journal, never to a directory nobody made.
        assert f"jobs run {job} --scheduled" in line
        assert line.endswith("2>&1 | logger -t sla-monitor -p user.info")
        assert "/var/log" not in line and "%" not in line  # cron turns % into a newline


def test_the_google_key_is_mounted_read_only_into_the_sheet_job_only(settings) -> None:
    for job in settings.jobs:
        pod = deploy.render_cronjob(settings, job, IMAGE)["spec"]["jobTemplate"]["spec"][
            "template"
        ]["spec"]
        container = pod["containers"][0]
        env = {e["name"]: e["value"] for e in container["env"]}
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        if job != "onboarding_missing_ticket":
            assert (
                "GOOGLE_SERVICE_ACCOUNT_FILE" not in env and "google-service-account" not in mounts
            )
            continue
        mount = mounts["google-service-account"]
        secret = volumes["google-service-account"]["secret"]
        assert mount["readOnly"] is True
        assert env["GOOGLE_SERVICE_ACCOUNT_FILE"] == f"{mount['mountPath']}/{deploy.GOOGLE_KEY}"
        assert secret["secretName"] == deploy.GOOGLE_SECRET_NAME
        assert secret["defaultMode"] == 0o440  # owner and the pod's fsGroup may read; nobody else
        assert secret["items"] == [{"key": deploy.GOOGLE_KEY, "path": deploy.GOOGLE_KEY}]
    example = deploy.render_secret_example()["stringData"]
    assert "GOOGLE_SERVICE_ACCOUNT_FILE" not in example and "JOBS_LEDGER_URL" in example


def test_the_postgres_trial_is_not_part_of_the_jobs_kustomization(settings) -> None:
    files = deploy.render_k8s(settings, IMAGE)
    resources = yaml.safe_load(files["kustomization.yaml"])["resources"]
    assert not any(r.startswith(deploy.POSTGRES_TRIAL_DIR) for r in resources)
    assert not any(r.endswith(".example.yaml") for r in resources)
    trial = yaml.safe_load(files[f"{deploy.POSTGRES_TRIAL_DIR}/kustomization.yaml"])
    assert trial["resources"] == ["service.yaml", "statefulset.yaml"]


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/everbright-support/sla-monitor:0.1.0",
        "registry.example.com:5000/team/sla-monitor:2026.11.23-abc",
        "sla-monitor:1",
        "docker.io/library/sla-monitor@sha256:" + "a" * 64,
        "localhost/sla_monitor:v1.2__rc-1",
    ],
)
def test_it_accepts_image_references(image: str) -> None:
    assert deploy.validate_image(image) == image


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("ghcr.io/everbright-support/sla-monitor", "no tag or digest"),
        ("GHCR.io/Team/Sla:1", "not an image reference"),
        ("sla monitor:1", "not an image reference"),
        ("sla-monitor:1\nkind: Secret", "not an image reference"),
        ("sla-monitor:-1", "not an image reference"),
        ("sla-monitor@sha256:abc", "not an image reference"),
        ("", "not an image reference"),
        ("x" * 300 + ":1", "not an image reference"),
    ],
)
def test_it_refuses_what_is_not_an_image_reference(image: str, message: str) -> None:
    with pytest.raises(deploy.DeployError, match=message):
        deploy.validate_image(image)


def test_systemd_timers_fire_at_desk_time_once_per_schedule(settings) -> None:
    from jobs.cron import to_oncalendar

    units = deploy.render_systemd(settings)
    for job, cfg in settings.jobs.items():
        unit = deploy.unit_name(job)
        timer, service = units[f"{unit}.timer"], units[f"{unit}.service"]
        calendars = [
            line.split("=", 1)[1] for line in timer.splitlines() if line.startswith("OnCalendar=")
        ]
        assert calendars == to_oncalendar(cfg.schedule, settings.desk.timezone)
        assert all(c.endswith(f" {settings.desk.timezone}") for c in calendars)
        assert f"ExecStart=/opt/sla-monitor/.venv/bin/python -m jobs run {job}\n" in service
        for hardening in (
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "Type=oneshot",
            "UMask=0077",
        ):
            assert hardening in service


def test_dockerfile_is_multi_stage_on_a_pinned_slim_base_with_a_non_root_user() -> None:
    text = (ROOT / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", text, re.M)
    assert len(bases) == 2, bases
    assert all(re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", b) for b in bases), bases
    runtime = text.split("\nFROM ")[-1]
    assert re.search(r"^USER 10001", runtime, re.M)
    assert "--require-hashes" in text and "requirements.lock" in text
    # The runtime stage takes the slimmed virtualenv, the package and the config; nothing else.
    copies = re.findall(r"^COPY (.+)$", runtime, re.M)
    assert copies == [
        "--from=builder /opt/venv /opt/venv",
        "--from=builder /app/jobs ./jobs",
        "config ./config",
    ]
    assert "pip install" not in runtime and "[dev]" not in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", "tests", "emulators", "bench", ".venv"} <= set(ignored)


def test_the_lock_pins_every_runtime_dependency_with_hashes() -> None:
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins: dict[str, tuple[str, int]] = {}
    for block in re.split(
        r"\n(?=[a-z0-9])", (ROOT / "requirements.lock").read_text().split("\n\n", 1)[-1]
    ):
        head = re.match(r"([A-Za-z0-9_.\-]+)==(\S+)", block)
        if head:
            pins[canonicalize_name(head.group(1))] = (head.group(2), block.count("--hash=sha256:"))
    assert pins, "requirements.lock pins nothing"
    for line in project["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock: run `make lock`"
        version, hashes = pins[name]
        assert requirement.specifier.contains(version), f"{name}=={version} vs {line}: `make lock`"
    assert all(hashes >= 1 for _, hashes in pins.values())


def test_the_runtime_package_is_jobs_alone_and_never_imports_the_emulators() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["tool"]["setuptools"]["packages"]["find"]["include"] == ["jobs*"]
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "jobs").rglob("*.py")
        if re.search(r"^\s*(from|import) (emulators|tests|bench)\b", p.read_text(), re.M)
    ]
    assert offenders == []
