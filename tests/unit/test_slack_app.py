"""The listener's pure parts: its settings, what it says, the Home tab's view, how it is
deployed and which Slack scopes it needs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from emulators.slack import _blocks as slack_checks
from jobs.config import load_settings
from jobs.ledger.base import Decision
from jobs.registry import all_jobs
from jobs.sections import SectionError
from jobs.slack_app import SlackAppSettings, slack_app_settings
from jobs.slack_app.deploy import SECRET_KEYS, render_deployment, render_systemd_unit
from jobs.slack_app.home import OpenAlert, SilenceLine, home_view, label_jql
from jobs.slack_app.manifest import BOT_SCOPES, METHOD_SCOPES, app_manifest
from jobs.slack_app.words import snooze_note, until_text, why_message
from tests.conftest import CONFIG

TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in New York
IMAGE = "ghcr.io/everbright-support/sla-monitor:0.1.0"


@pytest.fixture(scope="module")
def settings():
    return load_settings(CONFIG, {n: j.spec.config_model for n, j in all_jobs().items()})


# -- settings ------------------------------------------------------------------------------------


def test_the_defaults_need_nothing_set(settings) -> None:
    app = slack_app_settings(settings)

    assert app == SlackAppSettings()
    assert app.user_group is None and app.assignable_jobs == ["unassigned_first_response"]
    assert app.membership_ttl.wall == timedelta(minutes=1)


def test_a_user_group_may_be_given_as_its_mention() -> None:
    assert SlackAppSettings(user_group="<!subteam^S0DESK123|desk>").user_group == "S0DESK123"


@pytest.mark.parametrize(
    "section",
    [
        {"user_group": "support-agents"},
        {"alert_channel_id": "#support-sla"},
        {"http_path": "slack events"},
        {"why_lines": 0},
        {"membership_ttl": "soon"},
        {"user_groups": "S0DESK123"},
    ],
)
def test_a_wrong_setting_is_refused_with_its_name(section: dict) -> None:
    with pytest.raises(SectionError) as raised:
        SlackAppSettings.model_validate(section)

    assert next(iter(section)) in str(raised.value)


# -- what it says --------------------------------------------------------------------------------


def test_times_are_the_desks() -> None:
    assert until_text(NOW + timedelta(hours=4), NOW, TZ) == "14:00"
    assert until_text(NOW + timedelta(days=1), NOW, TZ) == "Wed 10:00"


def test_names_in_a_note_are_escaped() -> None:
    assert snooze_note("@<!channel>", "14:00") == ":zzz: snoozed by @&lt;!channel&gt; until 14:00"


def test_why_escapes_ticket_text_and_stays_within_slacks_limits() -> None:
    decisions = [
        Decision(
            at=NOW - timedelta(minutes=n),
            run_id="r",
            job="unassigned_first_response",
            rule="breach",
            item="SS-1",
            episode="",
            outcome="sent",
            reason="<!channel> " + "x" * 2000,
            facts={"organization": "<https://evil|Acme>"},
        )
        for n in range(40)
    ]

    text, blocks = why_message("SS-1", decisions, TZ, resolved=True)

    shown = json.dumps(blocks)
    assert "<!channel>" not in shown and "<https://evil" not in shown
    assert "2026-11-24 09:59 EST" in shown and "(its alert is resolved)" in shown
    _, problem = slack_checks(json.dumps(blocks))
    assert problem is None


# -- the Home tab's view ----------------------------------------------------------------------


def test_the_home_view_escapes_and_dates_what_it_lists() -> None:
    alert = OpenAlert(
        "SS-121",
        ("unassigned_first_response",),
        "breach",
        NOW - timedelta(days=1),
        summary="Dealer fee <!here> & <b>quote</b>",
        assignee="Maya Patel",
        url="https://jira.example/browse/SS-121",
    )
    silences = [
        SilenceLine(
            "sheet:canyon creek roofing", "every job", "@maya", NOW + timedelta(hours=4), "r"
        ),
        SilenceLine("SS-130", "every job", "Jira label", date(2026, 12, 8), "label"),
        SilenceLine("SS-131", "every job", "Jira label", None, "label"),
    ]

    view = home_view(
        agent="Maya <b>", mine=[alert], alerts=[alert], silences=silences,
        channel="#support-sla", now=NOW, tz=TZ,
    )  # fmt: skip

    shown = json.dumps(view, ensure_ascii=False)
    assert view["type"] == "home"
    assert "<!here>" not in shown and "&lt;!here&gt; &amp; &lt;b&gt;quote" in shown
    assert "since Mon 10:00 EST" in shown and "assigned to Maya Patel" in shown
    assert "canyon creek roofing · every job · by @maya · until 14:00 EST" in shown
    assert "SS-130 · every job · by Jira label · until Tue Dec 8" in shown
    assert "SS-131 · every job · by Jira label · no end" in shown
    _, problem = slack_checks(json.dumps(view["blocks"]), limit=100)
    assert problem is None


def test_a_long_home_view_stays_within_100_blocks() -> None:
    alerts = [
        OpenAlert(f"SS-{n}", ("ticket_hygiene",), None, NOW, summary="y" * 90) for n in range(500)
    ]

    view = home_view(
        agent="A", mine=alerts, alerts=alerts, silences=[], channel="#c", now=NOW, tz=TZ
    )

    assert len(view["blocks"]) <= 100
    assert "… and 440 more" in json.dumps(view, ensure_ascii=False)
    _, problem = slack_checks(json.dumps(view["blocks"]), limit=100)
    assert problem is None


def test_label_snoozes_are_searched_by_name_for_each_day() -> None:
    jql = label_jql("sla-snooze", date(2026, 11, 24), 2)

    assert jql == (
        'labels in ("sla-snooze", "sla-snooze-until-2026-11-25", "sla-snooze-until-2026-11-26") '
        "AND statusCategory != Done ORDER BY key ASC"
    )


# -- deploy --------------------------------------------------------------------------------------


@pytest.mark.parametrize("http_port", [None, 3000])
def test_the_deployment_is_one_replica_with_probes_and_validates(settings, http_port) -> None:
    import kubernetes_validate

    deployment = render_deployment(settings, IMAGE, http_port=http_port)

    kubernetes_validate.validate(deployment, "1.30.0", strict=True)
    spec = deployment["spec"]
    assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
    container = spec["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", "jobs.slack_app"]
    assert container["args"] == ([] if http_port is None else ["--http", "3000"])
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["ports"][0]["containerPort"] == (8080 if http_port is None else 3000)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounted = {i["path"] for i in spec["template"]["spec"]["volumes"][0]["configMap"]["items"]}
    assert "settings.yaml" in mounted and any(p.startswith("templates/") for p in mounted)
    assert yaml.safe_load(yaml.safe_dump(deployment)) == deployment


def test_the_systemd_unit_restarts_the_listener_and_keeps_secrets_in_the_env_file() -> None:
    unit = render_systemd_unit(http_port=3000)

    assert "ExecStart=/opt/sla-monitor/.venv/bin/python -m jobs.slack_app --http 3000" in unit
    assert "Restart=always" in unit and "EnvironmentFile=/opt/sla-monitor/.env" in unit
    assert not any(f"{key}=" in unit for key in SECRET_KEYS)


# -- the Slack app -------------------------------------------------------------------------------


def test_every_method_called_has_its_scope_requested() -> None:
    scoped = {s for s in METHOD_SCOPES.values() if not s.startswith("(")}

    assert scoped <= set(BOT_SCOPES)
    manifest = app_manifest()
    assert manifest["oauth_config"]["scopes"]["bot"] == sorted(BOT_SCOPES)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_http_mode_needs_the_request_url() -> None:
    manifest = app_manifest(socket_mode=False, request_url="https://sla.example/slack/events")

    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    with pytest.raises(ValueError):
        app_manifest(socket_mode=False)
