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
IMAGE = "ghcr.io/everbright-support/sla-monitor:0.1.0"


@pytest.fixture(scope="module")
def settings():
    return load_settings(CONFIG, {n: j.spec.config_model for n, j in all_jobs().items()})


def test_checked_in_manifests_match_the_config(settings) -> None:
    rendered = deploy.render_k8s(settings, IMAGE)
    on_disk = {p.name: p.read_text() for p in K8S_DIR.glob("*.yaml")}
    assert on_disk == rendered, "deploy/k8s is stale: run `make deploy`"


def test_checked_in_crontab_matches_the_config(settings) -> None:
    assert (ROOT / "crontab.example").read_text() == deploy.render_crontab(settings), (
        "crontab.example is stale: run `make deploy`"
    )


def test_every_manifest_validates_against_the_kubernetes_schema(settings) -> None:
    import kubernetes_validate

    for text in deploy.render_k8s(settings, IMAGE).values():
        resource = yaml.safe_load(text)
        if resource["kind"] == "Kustomization":
            continue
        kubernetes_validate.validate(resource, "1.30.0", strict=True)


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


def test_dockerfile_uses_a_pinned_slim_base_and_a_non_root_user() -> None:
    text = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^FROM (\S+)", text, re.M).group(1)
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base), base
    assert re.search(r"^USER 10001", text, re.M)
    assert "[dev]" not in text.replace("# Runtime dependencies only (no [dev] extras).", "")
    assert ".env" in (ROOT / ".dockerignore").read_text()
