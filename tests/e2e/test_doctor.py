"""``python -m jobs doctor`` against the emulated site, through the CLI.

It passes on the demo desk and on every e2e desk; each thing set up wrong (in the emulators,
the settings or the ledger) makes exactly its own check fail; and it never writes: every
Jira request is a GET, Slack sees only read methods, the sheet only its metadata and values,
the ledger is opened read-only, and a heartbeat's ping URL is never requested.
"""

from __future__ import annotations

import copy
import http.server
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobs.doctor.needs import JOB_FIELDS, SLA_SOURCE_JOBS
from tests.conftest import ROOT, CliResult, deep_merge, run_cli, write_settings

PEOPLE = ROOT / "emulators" / "fixtures" / "demo" / "00_people.yaml"
E2E_FIXTURES = ROOT / "tests" / "e2e" / "fixtures"
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York
SHEET_KEY = "1EverBrightFinancierOnboardingSheet"

ALL_ACTIONS = {
    "actions": {
        "link_approval_tickets": True,
        "comment_on_reminder": True,
        "close_silent_fulfilled": True,
        "create_cs_tasks": True,
        "reply_channel_partner": True,
        "fix_hygiene": True,
    }
}
SLACK_READS = {"auth.test", "users.conversations", "users.list", "users.lookupByEmail"}


def _row(number: str, name: str, status: str) -> list[str]:
    return [number, name, f"ops@{name.split()[0].lower()}.example", *[""] * 8, status]


BASE_DESK: dict[str, Any] = {
    "tickets": [
        {
            "key": "SS-1",
            "summary": "Cannot see my loan products",
            "status": "Open",
            "created": "-1h",
            "reporter": "customer@brightpath.example",
        },
        {
            "key": "SS-2",
            "summary": "Update our logo",
            "status": "Resolved",
            "created": "-3d",
            "reporter": "customer@brightpath.example",
        },
        {
            "key": "CS-1",
            "issuetype": "Epic",
            "summary": "Configuration Partner/Product Onboarding",
            "status": "In Progress",
            "created": "-300d",
            "reporter": "Sam Whitaker",
        },
    ],
    "sheets": {
        SHEET_KEY: {
            "tabs": [
                {"title": "Instructions", "rows": [["Read me first"]]},
                {
                    "title": "Applications",
                    "rows": [
                        ["#", "Account Name", "Contact", *[""] * 8, "Status"],
                        _row("101", "Juniper Ridge Solar", "Approved"),
                        _row("102", "Maple Grove Electric", "Pending"),
                    ],
                },
            ]
        }
    },
}


# -- harness --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    status: str
    check: str
    text: str
    fix: str


@dataclass
class Doctor:
    result: CliResult
    lines: list[Line]

    @property
    def failed(self) -> dict[str, str]:
        return {line.check: line.text for line in self.lines if line.status == "FAIL"}

    def line(self, check: str) -> Line:
        return next(line for line in self.lines if line.check == check)


def parse(result: CliResult) -> Doctor:
    lines = []
    for raw in result.out.splitlines():
        m = re.match(r"^(OK|FAIL|SKIP)\s+(.+?): (.*)$", raw)
        if m:
            text, _, fix = m.group(3).partition(" -- fix: ")
            lines.append(Line(m.group(1), m.group(2), text, fix))
    return Doctor(result, lines)


class Site:
    """A desk on the emulators, settings and a ledger, and doctor run against them."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.stack: Any = None
        self.env: dict[str, str] = {}

    def start(
        self,
        *parts: Path | Mapping[str, Any],
        settings: Mapping[str, Any] | None = None,
        people: Mapping[str, Any] | None = None,
        migrate: bool = True,
    ) -> Any:
        from emulators.fixtures import load_desk
        from emulators.stack import start_stack

        desk_dir = self.tmp_path / "desk"
        desk_dir.mkdir()
        shared = yaml.safe_load(PEOPLE.read_text())
        (desk_dir / PEOPLE.name).write_text(yaml.safe_dump(people or shared, sort_keys=False))
        for n, part in enumerate(parts):
            if isinstance(part, Path):
                (desk_dir / part.name).write_text(part.read_text())
            else:
                (desk_dir / f"{n + 10}_part.yaml").write_text(yaml.safe_dump(dict(part)))
        self.stack = start_stack(load_desk(desk_dir, NOW), now=NOW)
        settings_path = write_settings(self.tmp_path, settings or {})
        self.env = {
            **self.stack.env(),
            "JOBS_CONFIG": str(settings_path),
            "JOBS_LEDGER_URL": f"sqlite:///{self.tmp_path / 'ledger.db'}",
            "JOBS_LOG_LEVEL": "ERROR",
        }
        if migrate:
            assert run_cli(["ledger", "migrate"], self.env).code == 0
        return self.stack

    def doctor(self, **env: str) -> Doctor:
        for emulator in (self.stack.jira, self.stack.slack, self.stack.sheets):
            emulator.calls.clear()
        result = run_cli(["doctor"], {**self.env, **env})
        assert "Traceback" not in result.err
        assert_no_writes(self.stack)
        return parse(result)

    def stop(self) -> None:
        if self.stack is not None:
            self.stack.stop()


def assert_no_writes(stack: Any) -> None:
    jira = [(c.method, c.path) for c in stack.jira.calls if c.method != "GET"]
    slack = [c.path for c in stack.slack.calls if c.path.removeprefix("/api/") not in SLACK_READS]
    sheets = [
        (c.method, c.path)
        for c in stack.sheets.calls
        if c.method != "GET" and (c.method, c.path) != ("POST", "/token")
    ]
    assert (jira, slack, sheets) == ([], [], [])


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    made = Site(tmp_path)
    try:
        yield made
    finally:
        made.stop()


def people_with(edit: Any) -> dict[str, Any]:
    people = copy.deepcopy(yaml.safe_load(PEOPLE.read_text()))
    edit(people)
    return dict(people)


def project(people: dict[str, Any], key: str) -> dict[str, Any]:
    return next(p for p in people["projects"] if p["key"] == key)


# -- it passes where everything is in place -------------------------------------------------


@pytest.mark.off_spec  # judged here, requests included, as the demo desk's runs are
def test_it_passes_on_the_demo_desk_on_spec_and_without_a_write(tmp_path: Path) -> None:
    from emulators.demo import DESK, demo_settings
    from emulators.fixtures import load_desk
    from emulators.stack import start_stack
    from tests.contract.spec_check import Recorder, judge

    settings = demo_settings(tmp_path)
    with start_stack(load_desk(DESK, NOW), now=NOW) as stack:
        env = {
            **stack.env(),
            "JOBS_CONFIG": str(settings),
            "JOBS_LEDGER_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
            "JOBS_LOG_LEVEL": "ERROR",
        }
        assert run_cli(["ledger", "migrate"], env).code == 0
        for emulator in (stack.jira, stack.slack, stack.sheets):
            emulator.calls.clear()
        with Recorder() as recorder:
            result = run_cli(["doctor"], env)
        assert_no_writes(stack)

    doctor = parse(result)
    assert result.code == 0, result.out + result.err
    assert doctor.failed == {}
    assert result.out.rstrip().splitlines()[-1].endswith(": ready")
    assert {line.check for line in doctor.lines if line.status == "OK"} >= {
        "jira credentials",
        "project SS",
        "project CS",
        "field Organizations",
        "field QA Assignee",
        "link type Duplicate",
        "transition SS -> Closed (approval tickets)",
        "transition SS -> Closed (silent fulfilled tickets)",
        "issue type for CS tasks",
        "parent epic of CS tasks",
        "person approver in Jira",
        "slack credentials",
        "slack scopes",
        "slack channel #support-sla",
        "person approver in Slack",
        "google credentials",
        "sheet shared",
        "sheet tab",
        "sheet columns",
        "ledger reachable",
        "ledger schema",
    }
    # Every SKIP says why; none hides a check the enabled jobs need.
    skipped = {line.check: line.text for line in doctor.lines if line.status == "SKIP"}
    assert skipped["field Time to first response"] == "no enabled job reads it"
    assert "not checked" not in " ".join(skipped.values())
    assert [str(v) for v in judge(recorder.exchanges, requests_must_be_valid=True)] == []
    for secret in (env["JIRA_API_TOKEN"], env["SLACK_BOT_TOKEN"]):
        assert secret not in result.out + result.err


def _e2e_desks() -> list[str]:
    return sorted(p.name for p in E2E_FIXTURES.glob("*.yaml"))


@pytest.mark.parametrize("fixture", _e2e_desks())
def test_it_passes_on_each_e2e_desk(site: Site, fixture: str) -> None:
    path = E2E_FIXTURES / fixture
    desk = yaml.safe_load(path.read_text()) or {}
    settings = deep_merge(
        ALL_ACTIONS,
        {} if "sheets" in desk else {"jobs": {"onboarding_missing_ticket": {"enabled": False}}},
    )
    if not any(t.get("key") == "CS-1" for t in desk.get("tickets") or []):
        # No onboarding epic to create CS tasks under: that desk never creates one.
        settings = deep_merge(settings, {"actions": {"create_cs_tasks": False}})
    site.start(path, settings=settings)

    doctor = site.doctor()

    assert doctor.result.code == 0, doctor.result.out
    assert doctor.failed == {}


def test_the_desk_the_failures_start_from_passes(site: Site) -> None:
    site.start(BASE_DESK, settings=ALL_ACTIONS)

    doctor = site.doctor()

    assert doctor.failed == {}, doctor.result.out
    assert doctor.result.code == 0
    assert doctor.line("sheet columns").text.startswith("header on row 1; 2 accounts in B")


# -- each thing set up wrong fails its own check, and only that one -------------------------


def only_failure(doctor: Doctor, check: str) -> str:
    assert list(doctor.failed) == [check], doctor.result.out
    assert doctor.result.code == 1
    assert doctor.line(check).fix  # every failure says what to do
    return doctor.failed[check]


def test_a_missing_field(site: Site) -> None:
    site.start(BASE_DESK, settings=ALL_ACTIONS).jira.remove_field("QA Due Date")

    doctor = site.doctor()
    text = only_failure(doctor, "field QA Due Date")

    assert "no custom field has the id, English name or name 'QA Due Date'" in text
    assert doctor.line("field QA Due Date").fix.startswith("set jira.fields.QA Due Date to its id")


def test_a_field_of_the_wrong_type(site: Site) -> None:
    desk = {**BASE_DESK, "custom_fields": [{"name": "QA due (notes)", "type": "text"}]}
    settings = deep_merge(ALL_ACTIONS, {"jira": {"fields": {"QA Due Date": "customfield_10100"}}})
    site.start(desk, settings=settings)

    text = only_failure(site.doctor(), "field QA Due Date")

    assert "customfield_10100 (configured) is string, not a date picker" in text


def test_a_configured_field_id_the_site_does_not_have(site: Site) -> None:
    settings = deep_merge(ALL_ACTIONS, {"jira": {"fields": {"Channel": "customfield_19999"}}})
    site.start(BASE_DESK, settings=settings)

    text = only_failure(site.doctor(), "field Channel")

    assert "customfield_19999 is not a field on this Jira site" in text


def test_a_service_desk_project_that_is_not_a_service_desk(site: Site) -> None:
    people = people_with(lambda p: project(p, "SS").update(type="software"))
    site.start(BASE_DESK, settings=ALL_ACTIONS, people=people)

    doctor = site.doctor()
    text = only_failure(doctor, "project SS")

    assert "is a software project, not a Jira Service Management service desk" in text
    assert doctor.line("request types").text == "not checked: project SS failed"


def test_no_duplicate_link_type(site: Site) -> None:
    links = {
        "link_types": [
            {"name": "Relates", "inward": "relates to", "outward": "relates to"},
            {"name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
        ]
    }
    site.start(BASE_DESK, links, settings=ALL_ACTIONS)

    text = only_failure(site.doctor(), "link type Duplicate")

    assert "no issue link type 'Duplicate'" in text and "it has Relates, Blocks" in text


def test_a_missing_transition(site: Site) -> None:
    def no_close(people: dict[str, Any]) -> None:
        ss = project(people, "SS")
        ss["transitions"] = [t for t in ss["transitions"] if t["name"] != "Close"]

    settings = deep_merge(ALL_ACTIONS, {"actions": {"close_silent_fulfilled": False}})
    site.start(BASE_DESK, settings=settings, people=people_with(no_close))

    doctor = site.doctor()
    text = only_failure(doctor, "transition SS -> Closed (approval tickets)")

    assert text.startswith("SS-1 (Open) cannot move to 'Closed'")
    assert doctor.line("statuses of SS").status == "OK"  # the status is there, no way to it
    skipped = doctor.line("transition SS -> Closed (silent fulfilled tickets)")
    assert (skipped.status, skipped.text) == ("SKIP", "actions.close_silent_fulfilled is off")


def test_a_status_a_setting_names_that_the_workflow_lacks(site: Site) -> None:
    settings = deep_merge(
        ALL_ACTIONS, {"jobs": {"onboard_reset_reminder": {"on_hold_status": "Parked"}}}
    )
    site.start(BASE_DESK, settings=settings)

    text = only_failure(site.doctor(), "statuses of CS")

    assert "no status 'Parked' (jobs.onboard_reset_reminder.on_hold_status)" in text


def test_an_onboarding_epic_that_does_not_exist(site: Site) -> None:
    settings = deep_merge(
        ALL_ACTIONS, {"jobs": {"channel_partner_request": {"onboarding_epic": "CS-404"}}}
    )
    site.start(BASE_DESK, settings=settings)

    doctor = site.doctor()
    text = only_failure(doctor, "parent epic of CS tasks")

    assert text.startswith("no issue CS-404 the account may see")
    assert "jobs.channel_partner_request.onboarding_epic" in text
    assert doctor.line("parent epic of CS tasks").fix.startswith(
        "set jobs.channel_partner_request.onboarding_epic to the key of"
    )


def test_an_onboarding_epic_that_is_not_an_epic(site: Site) -> None:
    desk = copy.deepcopy(BASE_DESK)
    desk["tickets"].append(
        {
            "key": "CS-2",
            "issuetype": "Task",
            "summary": "Configure Bright Path's products",
            "status": "To Do",
            "created": "-2d",
            "reporter": "Sam Whitaker",
        }
    )
    settings = deep_merge(
        ALL_ACTIONS, {"jobs": {"channel_partner_request": {"onboarding_epic": "CS-2"}}}
    )
    site.start(desk, settings=settings)

    text = only_failure(site.doctor(), "parent epic of CS tasks")

    assert text.startswith("CS-2 is a Task, not an epic")


def test_the_onboarding_epic_is_not_read_when_no_task_is_created(site: Site) -> None:
    settings = deep_merge(ALL_ACTIONS, {"actions": {"create_cs_tasks": False}})
    site.start(BASE_DESK, settings=settings)

    doctor = site.doctor()

    assert doctor.failed == {}, doctor.result.out
    line = doctor.line("parent epic of CS tasks")
    assert (line.status, line.text) == (
        "SKIP",
        "actions.create_cs_tasks is off: no job creates issues",
    )
    assert not [c for c in site.stack.jira.calls if c.path == "/rest/api/3/issue/CS-1"]


def test_a_person_unknown_in_jira(site: Site) -> None:
    settings = deep_merge(ALL_ACTIONS, {"people": {"approver": {"jira_account_id": "acc-nobody"}}})
    site.start(BASE_DESK, settings=settings)

    text = only_failure(site.doctor(), "person approver in Jira")

    assert text.startswith("no Jira account acc-nobody")


def test_a_person_unknown_in_slack(site: Site) -> None:
    settings = deep_merge(ALL_ACTIONS, {"people": {"lead": {"email": "sam@elsewhere.example"}}})
    site.start(BASE_DESK, settings=settings)

    text = only_failure(site.doctor(), "person lead in Slack")

    assert text.startswith("no Slack user has the email sam@elsewhere.example")


def test_a_slack_member_id_nobody_has(site: Site) -> None:
    settings = deep_merge(ALL_ACTIONS, {"people": {"approver": {"slack_user": "U0NOBODY1"}}})
    site.start(BASE_DESK, settings=settings)

    text = only_failure(site.doctor(), "person approver in Slack")

    assert text.startswith("no Slack user U0NOBODY1")


def test_the_bot_not_in_the_channel(site: Site) -> None:
    site.start(BASE_DESK, settings=ALL_ACTIONS).slack.remove_bot("#support-sla")

    text = only_failure(site.doctor(), "slack channel #support-sla")

    assert text.startswith("the bot is not a member of #support-sla")


def test_a_missing_scope(site: Site) -> None:
    site.start(BASE_DESK, settings=ALL_ACTIONS).slack.scopes.remove("files:write")

    text = only_failure(site.doctor(), "slack scopes")

    assert text == "the bot token lacks files:write (for sla_report)"


def test_no_scope_to_read_the_bots_channels(site: Site) -> None:
    stack = site.start(BASE_DESK, settings=ALL_ACTIONS)
    for scope in ("channels:read", "groups:read"):
        stack.slack.scopes.remove(scope)

    text = only_failure(site.doctor(), "slack channel #support-sla")

    assert "neither channels:read nor groups:read" in text


def test_the_sheet_not_shared(site: Site) -> None:
    site.start(BASE_DESK, settings=ALL_ACTIONS).sheets.unshared.add(SHEET_KEY)

    doctor = site.doctor()
    text = only_failure(doctor, "sheet shared")

    assert "sla-monitor@everbright-support.iam.gserviceaccount.com may not read" in text
    assert doctor.line("sheet tab").text == "not checked: sheet shared failed"


def test_a_missing_tab(site: Site) -> None:
    one_tab = copy.deepcopy(BASE_DESK)
    del one_tab["sheets"][SHEET_KEY]["tabs"][0]
    site.start(one_tab, settings=ALL_ACTIONS)

    text = only_failure(site.doctor(), "sheet tab")

    assert text.startswith("sheet.tab_index 1 (tab 2) does not exist; the sheet has 1 tab")


def test_columns_that_hold_something_else(site: Site) -> None:
    settings = deep_merge(ALL_ACTIONS, {"sheet": {"status_column": "C"}})
    moved = copy.deepcopy(BASE_DESK)
    rows = moved["sheets"][SHEET_KEY]["tabs"][1]["rows"]
    rows[0][2] = "Status"  # a header the job takes, over a column of email addresses
    site.start(moved, settings=settings)

    text = only_failure(site.doctor(), "sheet columns")

    assert text.startswith("column C holds 'ops@juniper.example', not statuses")


def test_the_ledger_at_an_older_schema(site: Site) -> None:
    from tests.ledger.test_upgrade import write_schema_1

    site.start(BASE_DESK, settings=ALL_ACTIONS, migrate=False)
    write_schema_1(site.env["JOBS_LEDGER_URL"])

    doctor = site.doctor()

    assert only_failure(doctor, "ledger schema") == "version 1; this release uses 3"
    assert "python -m jobs ledger migrate" in doctor.line("ledger schema").fix
    with sqlite3.connect(site.tmp_path / "ledger.db") as conn:  # left as it was: not upgraded
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "dedup" in tables and "alerts" not in tables


def test_no_ledger_yet_is_reported_and_not_created(site: Site) -> None:
    site.start(BASE_DESK, settings=ALL_ACTIONS, migrate=False)

    text = only_failure(site.doctor(), "ledger reachable")

    assert text.startswith("no SQLite ledger at")
    assert not (site.tmp_path / "ledger.db").exists()


@pytest.mark.parametrize(
    ("system", "check"),
    [
        ("jira", "jira credentials"),
        ("slack", "slack credentials"),
        ("google", "google credentials"),
    ],
)
def test_bad_credentials(site: Site, system: str, check: str) -> None:
    stack = site.start(BASE_DESK, settings=ALL_ACTIONS)
    env = {}
    if system == "jira":
        env["JIRA_API_TOKEN"] = "not-the-token"
    elif system == "slack":
        env["SLACK_BOT_TOKEN"] = "xoxb-not-the-token"
    else:
        stack.sheets.keys.clear()  # Google no longer knows the service account's key

    doctor = site.doctor(**env)

    only_failure(doctor, check)
    dependent = [line for line in doctor.lines if line.text == f"not checked: {check} failed"]
    assert dependent  # what needs the credentials says so, and is not failed on top
    assert "not-the-token" not in doctor.result.out + doctor.result.err


def test_missing_credentials_are_a_failed_check(site: Site) -> None:
    site.start(BASE_DESK, settings=ALL_ACTIONS)

    doctor = site.doctor(SLACK_BOT_TOKEN="")

    assert only_failure(doctor, "slack credentials") == "SLACK_BOT_TOKEN not set"


# -- heartbeats -----------------------------------------------------------------------------


class Receiver:
    """A loopback heartbeat server that records every request and answers ``status``."""

    def __init__(self, status: int) -> None:
        self.requests: list[tuple[str, str]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                receiver.requests.append((self.command, self.path))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_HEAD = do_POST = _answer

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def ping_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://user:hc-secret@{host}:{port}/ping/5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    made = Receiver(getattr(request, "param", 200))
    try:
        yield made
    finally:
        made.stop()


def heartbeat_settings(url: str, fmt: str = "healthchecks") -> dict[str, Any]:
    job = {"heartbeat_url": url, "heartbeat_format": fmt}
    return deep_merge(ALL_ACTIONS, {"jobs": {"sla_report": job}})


@pytest.mark.parametrize("fmt", ["healthchecks", "cronitor"])
def test_a_heartbeat_server_that_answers_is_asked_for_its_root_not_pinged(
    site: Site, receiver: Receiver, fmt: str
) -> None:
    site.start(BASE_DESK, settings=heartbeat_settings(receiver.ping_url, fmt))

    doctor = site.doctor()

    line = doctor.line("heartbeat sla_report")
    assert line.status == "OK", doctor.result.out
    assert "the ping URL itself is not requested" in line.text
    assert receiver.requests == [("HEAD", "/")]
    assert "hc-secret" not in doctor.result.out


@pytest.mark.parametrize("receiver", [503], indirect=True)
def test_a_heartbeat_server_that_fails(site: Site, receiver: Receiver) -> None:
    site.start(BASE_DESK, settings=heartbeat_settings(receiver.ping_url))

    text = only_failure(site.doctor(), "heartbeat sla_report")

    assert "answers HTTP 503" in text
    assert receiver.requests == [("HEAD", "/")]


def test_a_heartbeat_server_that_cannot_be_reached(site: Site) -> None:
    # Port 1 on loopback: refused at once.
    site.start(BASE_DESK, settings=heartbeat_settings("http://127.0.0.1:1/ping/abc"))

    text = only_failure(site.doctor(), "heartbeat sla_report")

    assert text.startswith("http://127.0.0.1:1/ does not answer")


# -- what it may read -----------------------------------------------------------------------

DOCTOR_JIRA_READS: list[tuple[str, str]] = [
    (r"/rest/api/2/serverInfo", "(any authenticated account)"),
    (r"/rest/api/3/myself", "(any authenticated account)"),
    (r"/rest/api/2/field", "(any authenticated account)"),
    (r"/rest/api/3/issueLinkType", "(any authenticated account)"),
    (r"/rest/api/3/project/[^/]+", "Browse Projects"),
    (r"/rest/api/3/project/[^/]+/statuses", "Browse Projects"),
    (r"/rest/api/3/search/jql", "Browse Projects"),
    (r"/rest/api/3/issue/[^/]+/transitions", "Browse Projects (+ Transition Issues to list any)"),
    (r"/rest/api/3/issue/[^/]+", "Browse Projects"),
    (r"/rest/api/3/user", "Browse users and groups (global permission)"),
    (r"/rest/api/2/user/search", "Browse users and groups (global permission)"),
    (r"/rest/servicedeskapi/servicedesk", "Service Desk Team role on SS (agent)"),
    (r"/rest/servicedeskapi/servicedesk/[^/]+/requesttype", "Service Desk Team role on SS (agent)"),
    (r"/rest/api/2/issue/createmeta/[^/]+/issuetypes", "Create Issues on CS (create_cs_tasks)"),
]
"""Every Jira read the preflight makes, and the permission README 'Least privilege' gives it."""


def test_it_reads_only_with_the_documented_least_privileges(site: Site) -> None:
    settings = deep_merge(
        ALL_ACTIONS, {"jobs": {"ticket_hygiene": {"eb_request_types": ["Get help"]}}}
    )
    site.start(BASE_DESK, settings=settings)

    doctor = site.doctor()

    assert doctor.failed == {}, doctor.result.out
    assert doctor.line("request types").status == "OK"
    jira = {
        f"{c.method} {c.path}"
        for c in site.stack.jira.calls
        if not any(re.fullmatch(pattern, c.path) for pattern, _ in DOCTOR_JIRA_READS)
        or c.method != "GET"
    }
    assert jira == set()
    slack = {c.path.removeprefix("/api/") for c in site.stack.slack.calls}
    assert slack <= SLACK_READS
    readme = (ROOT / "README.md").read_text()
    assert "`channels:read` (`groups:read` too if the alert channel is private)" in readme


# -- usage errors stay exit 2 ---------------------------------------------------------------


def test_bad_settings_are_a_usage_error(site: Site) -> None:
    site.start(BASE_DESK, settings={"desk": {"timezone": "Mars/Olympus"}}, migrate=False)

    result = run_cli(["doctor"], site.env)

    assert result.code == 2
    assert result.err.startswith("error: ") and "desk.timezone" in result.err


def test_a_ledger_url_that_may_not_be_used_is_a_usage_error(site: Site) -> None:
    site.start(BASE_DESK)

    result = run_cli(["doctor"], {**site.env, "JOBS_LEDGER_URL": "host=db password=hunter2"})

    assert result.code == 2
    assert "libpq keyword string" in result.err and "hunter2" not in result.err


# -- the needs table says what the jobs really read -----------------------------------------


def test_the_fields_doctor_checks_are_those_each_job_searches_for(tmp_path: Path) -> None:
    """Each job run alone (dry run, every action on, both SLA jobs on Jira's SLA) against the
    demo desk: the custom fields its searches ask for are the ones the table gives it."""
    from emulators.demo import DESK
    from emulators.fixtures import load_desk
    from emulators.stack import start_stack

    settings = write_settings(
        tmp_path,
        deep_merge(
            ALL_ACTIONS,
            {"jobs": {job: {"sla_source": "jira"} for job in SLA_SOURCE_JOBS}},
        ),
    )
    now = NOW - timedelta(days=NOW.weekday())
    with start_stack(load_desk(DESK, now), now=now) as stack:
        names = {c.id: c.name for c in stack.jira._custom}
        env = {
            **stack.env(),
            "JOBS_CONFIG": str(settings),
            "JOBS_LEDGER_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
            "JOBS_LOG_LEVEL": "ERROR",
        }
        for job, table in JOB_FIELDS.items():
            stack.jira.calls.clear()
            result = run_cli(["run", job, "--dry-run", "--now", now.isoformat()], env)
            assert result.code == 0, (job, result.err)
            asked = {
                names[f]
                for call in stack.jira.calls_to(r"/search/jql$", "POST")
                for f in call.body.get("fields", [])
                if f in names
            }
            expected = set(table) | (
                {"Time to first response"} if job in SLA_SOURCE_JOBS else set()
            )
            assert asked == expected, job
