"""Security: secrets stay out of every artifact; ticket and sheet text cannot mention, link or
query on its own; templates cannot reach Python; the jobs use only the privileges we document.

`PRIVILEGES` below is the least-privilege list of the README: a test fails when a job starts
calling an endpoint it does not name, so the document cannot silently fall behind the code.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.adapters.http import AdapterError, CallCounter, RetryBudget
from tests.conftest import TEMPLATES, write_settings
from tests.reliability.conftest import (
    CASES,
    SEARCH,
    TIGHT,
    JobCase,
    Outcome,
    ReliabilityDesk,
    secrets_of,
)

pytestmark = pytest.mark.security

SHEET_KEY = "1EverBrightFinancierOnboardingSheet"
WRONG_TOKEN = "wrong-jira-token-DO-NOT-LEAK-either"
SECRET_SHAPES = [
    (re.compile(r"xox[abposr]-[A-Za-z0-9-]{6,}"), "a Slack token"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9+/=._-]{12,}"), "an Authorization value"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"ya29\.[A-Za-z0-9._-]{10,}"), "a Google access token"),
    (re.compile(r"DO-NOT-LEAK"), "a test credential"),
]


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    found = [f"{what} ({value[:6]}…)" for what, value in secrets.items() if value in text]
    found += [what for pattern, what in SECRET_SHAPES if pattern.search(text)]
    return found


def _every_file(folder: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix != ".pyc":
            yield path, path.read_bytes().decode("utf-8", errors="replace")


def _slack_and_jira(stack: Any, keys: Any) -> str:
    messages = [{"text": m.text, "blocks": m.blocks} for m in stack.slack.messages]
    comments = [c.body for k in keys for c in stack.jira.comments_of(k)]
    return json.dumps({"slack": messages, "jira": comments}, ensure_ascii=False)


# -- secrets --------------------------------------------------------------------------------------

EVERYTHING = JobCase(
    "everything",
    "all",
    (
        "unassigned_first_response.yaml",
        "onboard_testing.yaml",
        "onboarding_missing_ticket.yaml",
        "channel_partner.yaml",
        "approval_reminder.yaml",
        "config_due_dates.yaml",
        "ticket_hygiene.yaml",
        "sla_week.yaml",
    ),
    CASES["onboard_reset"].desk_now,
    CASES["onboard_reset"].at,
    {
        "actions": {
            switch: True
            for switch in (
                "link_approval_tickets",
                "comment_on_reminder",
                "close_silent_fulfilled",
                "create_cs_tasks",
                "reply_channel_partner",
                "fix_hygiene",
            )
        },
        "slack_app": {"home_tab": True},  # every call a run makes, the Home tab's too
    },
)


def test_no_secret_reaches_logs_reports_the_ledger_messages_or_rendered_files(
    rdesk: ReliabilityDesk, tmp_path: Path, figure: Any
) -> None:
    figure.security("secrets: logs, reports, ledger, metrics, messages, deploy files")
    metrics = tmp_path / "artifacts" / "metrics"
    settings = {**TIGHT, "metrics": {"textfile_dir": str(metrics)}}
    stack = rdesk.start(EVERYTHING, settings=settings)
    debug = {"JOBS_LOG_LEVEL": "DEBUG"}
    secrets = secrets_of(stack)
    keys = rdesk.base.keys if rdesk.base else ()
    at = EVERYTHING.at
    outputs = [
        rdesk.run_job(at, env=debug),
        rdesk.run_job(at + timedelta(hours=1), "--dry-run", env=debug),
    ]
    stack.jira.inject(SEARCH, status=400, times=500)
    stack.slack.inject(r"^/api/", status=429, retry_after=0, times=500)
    outputs.append(rdesk.run_job(at + timedelta(hours=2), env=debug))
    rdesk.settle()
    stack.slack.fail_next("chat.postMessage", "invalid_auth", times=50)
    outputs.append(rdesk.run_job(at + timedelta(hours=3), env=debug))
    rdesk.settle()
    outputs.append(rdesk.spawn(at + timedelta(hours=4), JOBS_LOG_LEVEL="DEBUG").finish())
    for command in (["why", "SS-401"], ["silences", "--all"], ["list"], ["check-config"]):
        result = rdesk.run(*command, env=debug)
        outputs.append(Outcome(result.code, result.out, result.err, []))
    rdesk.run("deploy", "k8s", "--out", str(tmp_path / "artifacts" / "k8s"))
    rdesk.run("deploy", "crontab", "--out", str(tmp_path / "artifacts" / "crontab"))

    found: dict[str, list[str]] = {}
    for n, output in enumerate(outputs):
        text = output.out + output.err + json.dumps(output.reports)
        found.update({f"run {n + 1} output": leaks(text, secrets)} if leaks(text, secrets) else {})
    for folder in (tmp_path,):
        for path, text in _every_file(folder):
            if path.name == "settings.yaml" or "service-account" in path.name:
                continue  # the inputs: settings hold no secret by design, the key file is one
            if leaks(text, secrets):
                found[str(path.relative_to(tmp_path))] = leaks(text, secrets)
    sent = _slack_and_jira(stack, keys)
    if leaks(sent, secrets):
        found["Slack messages and Jira comments"] = leaks(sent, secrets)
    assert any(o.code == 2 for o in outputs) and any(o.code == 1 for o in outputs)
    assert any(metrics.glob("sla_monitor_*.prom")) and any(tmp_path.rglob("ledger.db"))
    assert found == {}


# -- every form of every secret, against every sink ------------------------------------------------

SLACK_APP_TOKEN = "xapp-1-A0SLAAPP-424242-DO-NOT-LEAK-app"
SLACK_SIGNING_SECRET = "5e1f0c2a9d8b7f6e5d4c3b2a1f0e9d8c"
PG_PASSWORD = "pg/Se+cret=DO-NOT-LEAK@1"
SINKS = ("log", "report file", "decision log", "stdout", "stderr error line")


def _basic(user: str, secret: str) -> str:
    import base64

    return base64.b64encode(f"{user}:{secret}".encode()).decode()


def _private_key(stack: Any) -> str:
    info = json.loads(Path(stack.env()["GOOGLE_SERVICE_ACCOUNT_FILE"]).read_text(encoding="utf-8"))
    return str(info["private_key"])


SECRET_FORMS: dict[str, Any] = {
    "raw Jira API token": lambda stack: stack.jira.token,
    "Basic header": lambda stack: f"Authorization: Basic {_basic(stack.jira.email, stack.jira.token)}",  # noqa: E501
    "bare base64 of email:token": lambda stack: _basic(stack.jira.email, stack.jira.token),
    "token in a URL's userinfo": lambda stack: f"https://{quote(stack.jira.email)}:{stack.jira.token}@jira.example/rest",
    "URL-encoded password": lambda stack: f"login?password={quote(PG_PASSWORD, safe='')}&x=1",
    "PostgreSQL password": lambda stack: f"password authentication failed ({PG_PASSWORD})",
    "PostgreSQL URL": lambda stack: f"postgresql://postgres:{quote(PG_PASSWORD, safe='')}@db/sla",
    "Slack bot token": lambda stack: stack.slack.token,
    "SLACK_APP_TOKEN": lambda stack: SLACK_APP_TOKEN,
    "SLACK_SIGNING_SECRET": lambda stack: f"v0={SLACK_SIGNING_SECRET}",
    "service-account private key": _private_key,
    "one line of the private key": lambda stack: _private_key(stack).splitlines()[3],
}  # fmt: skip  # noqa: E501


def _pg_url_with_password(url: str) -> str:
    """The test server trusts loopback: any password is accepted, and must never show."""
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1) if "@" in rest else ("postgres", rest)
    return f"{scheme}://{user.split(':')[0]}:{quote(PG_PASSWORD, safe='')}@{host}"


def _decision_log(url: str, tmp_path: Path) -> str:
    if url.startswith("sqlite"):
        return "".join(
            p.read_bytes().decode("utf-8", "replace") for p in tmp_path.glob("ledger.db*")
        )
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT reason, facts::text, action FROM decisions").fetchall()
    return json.dumps(rows, default=str)


@pytest.mark.postgres
@pytest.mark.parametrize("form", sorted(SECRET_FORMS))
def test_no_form_of_any_secret_reaches_any_sink(
    form: str, rdesk: ReliabilityDesk, postgres_url: str, tmp_path: Path, figure: Any
) -> None:
    """An error body that echoes a credential (Slack on a send, Jira on a search) reaches the
    log, the report, the decision log, what the CLI prints, and the one-line error."""
    scenarios = {sink: figure.secret(form, sink) for sink in SINKS}
    case = CASES["unassigned"]
    stack = rdesk.start(case, settings={"run": {"retry_budget": "0s"}})
    ledger_url = (
        _pg_url_with_password(postgres_url) if "Postgre" in form else rdesk.env["JOBS_LEDGER_URL"]
    )
    env = {
        "JOBS_LEDGER_URL": ledger_url,
        "SLACK_APP_TOKEN": SLACK_APP_TOKEN,
        "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
        "GOOGLE_SERVICE_ACCOUNT_FILE": stack.env().get("GOOGLE_SERVICE_ACCOUNT_FILE", ""),
        "JOBS_LOG_LEVEL": "DEBUG",
    }
    echo = SECRET_FORMS[form](stack)
    secrets = {
        **secrets_of(stack),
        "Slack app token": SLACK_APP_TOKEN,
        "Slack signing secret": SLACK_SIGNING_SECRET,
        "PostgreSQL password": PG_PASSWORD,
        "PostgreSQL password, URL-encoded": quote(PG_PASSWORD, safe=""),
    }

    stack.slack.fail_next("chat.postMessage", f"invalid_arguments {echo}", times=50)
    failed_send = rdesk.run_job(case.at, env=env)
    failed = [a for r in failed_send.reports for a in r["actions"] if a["status"] == "failed"]
    why = rdesk.run("why", failed[0]["items"][0] if failed else "SS-101", env=env)
    # A credential pasted into the wrong setting: check-config quotes the value it refuses.
    bad = tmp_path / "pasted"
    bad.mkdir()
    pasted = write_settings(bad, {"desk": {"alert_channel": ["#support-sla", echo]}})
    refused = rdesk.run("check-config", "--config", str(pasted), env=env)
    report_files = "".join(
        p.read_text(encoding="utf-8") for p in (tmp_path / "reports").glob("*.json")
    )

    stderr = failed_send.err + why.err + refused.err
    shown = {
        "log": "\n".join(line for line in stderr.splitlines() if not line.startswith("error: ")),
        "report file": report_files,
        "decision log": _decision_log(ledger_url, tmp_path),
        "stdout": failed_send.out + why.out + refused.out,
        "stderr error line": "\n".join(
            line for line in stderr.splitlines() if line.startswith("error: ")
        ),
    }
    for sink, text in shown.items():
        scenarios[sink].leaks = len(leaks(text, secrets))
    # The echo went where it should have: the test proves something.
    assert failed and failed_send.code == 1, failed_send.describe()
    assert refused.code == 2 and "desk.alert_channel" in refused.err, refused.err
    assert "[REDACTED]" in shown["stderr error line"], shown["stderr error line"]
    assert "[REDACTED]" in shown["report file"] and "[REDACTED]" in shown["decision log"]
    assert "[REDACTED]" in shown["stdout"] and "[REDACTED]" in shown["log"]
    assert {sink: leaks(text, secrets) for sink, text in shown.items()} == {s: [] for s in SINKS}


# -- files holding the ledger and the report are private -------------------------------------------


def test_the_ledger_and_the_report_are_created_private(
    rdesk: ReliabilityDesk, tmp_path: Path, figure: Any
) -> None:
    figure.security("file modes: ledger 0600 (and its WAL), report 0600, new folders 0700")
    case = CASES["unassigned"]
    rdesk.start(case)
    state = tmp_path / "new-state" / "ledger"
    rdesk.env["JOBS_LEDGER_URL"] = f"sqlite:///{state / 'ledger.db'}"
    report = tmp_path / "new-reports" / "run.json"

    result = rdesk.run("run", case.job, "--now", case.at.isoformat(), "--report", str(report))

    assert result.code == 0, result.err
    modes = {
        p.name: oct(p.stat().st_mode & 0o777)
        for p in (*state.iterdir(), state, report, report.parent)
    }
    assert modes.pop("ledger") == oct(0o700) and modes.pop("new-reports") == oct(0o700)
    assert modes == {name: oct(0o600) for name in modes}, modes
    assert {"ledger.db", "run.json"} <= set(modes)


CASSETTES = Path(__file__).resolve().parents[1] / "contract" / "cassettes"
TEST_TREE = Path(__file__).resolve().parents[1]


def test_no_checked_in_test_file_holds_a_credential(figure: Any) -> None:
    """Cassettes and fixtures are shared: they hold the emulators' test tokens' shape never."""
    figure.security("secrets: cassettes and fixtures in the repository")
    from emulators.jira import DEFAULT_TOKEN as JIRA_TOKEN
    from emulators.slack import DEFAULT_TOKEN as SLACK_TOKEN

    secrets = {"Jira test token": JIRA_TOKEN, "Slack test token": SLACK_TOKEN}
    found = {}
    for path, text in _every_file(TEST_TREE):
        if path.suffix in (".yaml", ".yml", ".json", ".csv", ".txt") and leaks(text, secrets):
            found[str(path.relative_to(TEST_TREE))] = leaks(text, secrets)
    assert any(CASSETTES.glob("*.yaml"))
    assert found == {}


def _formatted(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)


def _budget() -> RetryBudget:
    return RetryBudget(total_seconds=1.0, max_attempts=2, sleep=lambda _: None)


def test_adapter_errors_and_reprs_carry_no_credentials(rdesk: ReliabilityDesk, figure: Any) -> None:
    """What an operator sees when a call fails: the message, its traceback and chained causes."""
    figure.security("secrets: adapter exceptions, tracebacks and reprs")
    from jobs.adapters.jira import JiraAdapter
    from jobs.adapters.sheets import SheetsAdapter
    from jobs.adapters.slack import SlackAdapter

    stack = rdesk.start(CASES["onboarding_missing"])
    env = stack.env()
    secrets = secrets_of(stack)
    secrets["a wrong Jira token"] = WRONG_TOKEN
    counter = CallCounter()
    jira = JiraAdapter(
        env["JIRA_URL"],
        env["JIRA_EMAIL"],
        env["JIRA_API_TOKEN"],
        counter=counter,
        budget=_budget(),
        timeout=2,
    )
    wrong = JiraAdapter(
        env["JIRA_URL"],
        env["JIRA_EMAIL"],
        WRONG_TOKEN,
        counter=counter,
        budget=_budget(),
        timeout=2,
    )
    closed = JiraAdapter(
        "http://127.0.0.1:9",
        env["JIRA_EMAIL"],
        env["JIRA_API_TOKEN"],
        counter=counter,
        budget=_budget(),
        timeout=2,
    )
    slack = SlackAdapter(
        env["SLACK_BOT_TOKEN"], counter=counter, budget=_budget(), base_url=env["SLACK_API_URL"]
    )
    sheets = SheetsAdapter(
        service_account_file=env["GOOGLE_SERVICE_ACCOUNT_FILE"],
        counter=counter,
        budget=_budget(),
        api_url=env["SHEETS_API_URL"],
    )
    stack.jira.inject(r"/comment$", status=500, times=10)
    stack.slack.fail_next("chat.postMessage", "invalid_auth")
    stack.slack.inject(r"^/api/users\.lookupByEmail$", status=500, times=10)
    stack.sheets.unshared.add(SHEET_KEY)
    failures = [
        lambda: list(wrong.search('project = "SS"', ["summary"])),
        lambda: jira.comments("SS-201"),
        lambda: jira.add_public_comment("SS-404404", "hello"),
        lambda: list(closed.search('project = "SS"', ["summary"])),
        lambda: slack.post("#support-sla", "hello"),
        lambda: slack.user_id("maya.patel@goeverbright.example"),
        lambda: slack.post("#no-such-channel", "hello"),
        lambda: sheets.read_tab(SHEET_KEY, 1),
    ]

    seen = []
    for fail in failures:
        with pytest.raises(AdapterError) as info:
            fail()
        seen.append(_formatted(info.value))
    shown = "\n".join(seen) + repr(jira) + repr(slack) + repr(sheets) + repr(wrong)
    assert leaks(shown, secrets) == []
    assert "401" in shown and "invalid_auth" in shown and "share it" in shown


# -- Slack: ticket and sheet text cannot mention, link or format a channel ------------------------

HOSTILE = [
    "<!channel> portal is down",
    "<!here> please look",
    "<!everyone> read this",
    "<@U01SAMWHIT> wake up",
    "<#C000000001|support-sla> moved",
    "<!subteam^S0SUPPORT> paging",
    "<https://evil.example/login|Open SS-101 in Jira>",
    "<mailto:phish@evil.example|Support>",
    "@here and @channel in plain words",
    "&lt;!channel&gt; already escaped",
    "Pipe | and > angle < mix",
]
_ANGLE = re.compile(r"<[^<>]*>")


def _hostile_tickets(tmp_path: Path) -> Path:
    tickets = [
        {
            "key": f"SS-{960 + n}",
            "summary": text,
            "status": "Open",
            "created": "-2h30m",
            "reporter": "dana.cho@acmeroofing.example",
            "organizations": [text] if n % 2 else [],
        }
        for n, text in enumerate(HOSTILE)
    ]
    tickets.append(
        {
            "key": "SS-990",
            "issuetype": "Service Request",
            "summary": "A New Channel Partner Request for <!channel> Evil <https://evil.example|Solar>",
            "description": "| Company Name | <!here> Evil Solar |",
            "status": "Open",
            "created": "-3d",
            "reporter": "alex@greenlightsolar.example",
        }
    )
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump({"tickets": tickets}, allow_unicode=True), encoding="utf-8")
    return path


def _all_text(message: Any) -> list[str]:
    texts = [message.text]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    texts.append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.blocks or [])
    return texts


@pytest.mark.parametrize(
    "case_name", ["unassigned", "channel_partner", "onboarding_missing", "approval"]
)
def test_ticket_and_sheet_text_reaches_slack_escaped_never_as_a_mention_or_link(
    case_name: str, rdesk: ReliabilityDesk, tmp_path: Path, figure: Any
) -> None:
    figure.security(f"slack escaping: mentions and links in ticket and sheet text ({case_name})")
    case = CASES[case_name]
    stack = rdesk.start(case, extra_fixtures=(_hostile_tickets(tmp_path),))
    if case_name == "onboarding_missing":
        rows = stack.sheets.spreadsheets[SHEET_KEY][1]["rows"]
        rows.extend(["", text, *[""] * 9, "Approved"] for text in HOSTILE)
    if case_name == "approval":  # the approver's answer is quoted in the channel
        for answer in stack.jira.issue("SS-303").comments:
            if answer.author == "acc-david-ellis":
                answer.body = "Approved <!channel> <https://evil.example|see here> <@U01MAYAPTL>"
    rdesk.prime()

    run = rdesk.run_job()

    assert run.code == 0, run.describe()
    jira_base = re.escape(stack.jira.url)
    allowed = re.compile(
        rf"<({jira_base}/browse/[A-Z]+-\d+|https://docs\.google\.com/spreadsheets/d/[\w-]+/edit"
        r"(#gid=\d+)?)(\|[^<>|]*)?>|<@U01SAMWHIT>"
    )
    shown = [t for m in stack.slack.messages for t in _all_text(m)]
    assert shown, "nothing was posted: the test proves nothing"
    markup = {seq for text in shown for seq in _ANGLE.findall(text)}
    assert {seq for seq in markup if not allowed.fullmatch(seq)} == set()
    everything = "\n".join(shown)
    assert "&lt;!channel&gt;" in everything or "&lt;!here&gt;" in everything
    assert "evil.example" not in "".join(markup)


# -- JQL: only escaped values ---------------------------------------------------------------------

JQL_SAFE_TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cc", "Cs"]), max_size=40)


@settings(max_examples=200, deadline=None)
@given(value=JQL_SAFE_TEXT)
def test_a_quoted_value_is_one_jql_string_whatever_it_contains(value: str) -> None:
    """Read back by the emulator's JQL parser (Jira's grammar): one clause, the value intact."""
    from emulators import jql
    from jobs.adapters.jira import jql_quote

    query = jql.parse(f"project = SS AND summary ~ {jql_quote(value)} ORDER BY created")

    assert query.fields() == ["project", "summary", "created"]
    assert isinstance(query.where, jql.And)
    clause = query.where.parts[1]
    assert isinstance(clause, jql.Clause)
    assert clause.operand == jql.Value(value, quoted=True)


INJECTION = 'x" OR project = CS OR summary ~ "y\\'
JQL_SETTINGS = [
    ("onboarding_missing", {"jobs": {"onboarding_missing_ticket": {"onboarding_subject": INJECTION}}}),  # noqa: E501
    ("channel_partner", {"jobs": {"channel_partner_request": {"summary_search": INJECTION}}}),
    ("onboard_reset", {"jobs": {"onboard_reset_reminder": {"on_hold_status": INJECTION}}}),
    ("approval", {"people": {"approver": {"jira_account_id": INJECTION}}}),
]  # fmt: skip


def _queries(stack: Any) -> list[str]:
    return [str(c.body.get("jql")) for c in stack.jira.calls_to(SEARCH) if isinstance(c.body, dict)]


@pytest.mark.parametrize(("case_name", "hostile"), JQL_SETTINGS, ids=[c for c, _ in JQL_SETTINGS])
def test_settings_reach_jql_only_as_escaped_values(
    case_name: str, hostile: dict[str, Any], rdesk: ReliabilityDesk, figure: Any
) -> None:
    figure.security(f"jql: a quote-breaking setting stays one value ({case_name})")
    from emulators import jql

    case = CASES[case_name]
    stack = rdesk.start(case)
    rdesk.prime()
    calm = rdesk.run_job(case.at, "--dry-run")
    calm_queries = _queries(stack)
    stack.jira.calls.clear()
    rdesk.configure(hostile)

    run = rdesk.run_job(case.at, "--dry-run")

    queries = _queries(stack)
    # Jira may answer that no status or user has that odd name: then it read it as one value.
    assert calm.code == 0 and run.code in (0, 1), run.describe()
    assert not run.traceback, run.describe()
    assert run.code == 0 or any("does not exist" in e for e in run.errors()), run.describe()
    assert queries, "the job sent no search: the test proves nothing"
    # Same clauses on the same fields as with the shipped settings: nothing was injected.
    assert [jql.parse(q).fields() for q in queries] == [
        jql.parse(q).fields() for q in calm_queries
    ][: len(queries)]
    assert not any('x" OR' in q for q in queries)


def test_sheet_values_never_reach_jql(rdesk: ReliabilityDesk, figure: Any) -> None:
    figure.security("jql: sheet cells never reach a query")
    case = CASES["onboarding_missing"]
    stack = rdesk.start(case)
    rows = stack.sheets.spreadsheets[SHEET_KEY][1]["rows"]
    rows.append(["", 'Evil" OR key is not EMPTY OR summary ~ "x', *[""] * 9, "Approved"])
    rdesk.prime()

    assert rdesk.run_job().code == 0
    assert not any("Evil" in q for q in _queries(stack))


# -- templates: a sandbox, not Python -------------------------------------------------------------

ATTACKS = [
    "{{ customer_name.__class__.__mro__ }}",
    "{{ customer_name|attr('__class__') }}",
    "{{ customer_name.__class__.__base__.__subclasses__() }}",
    "{{ '{0.__class__}'.format(customer_name) }}",
    "{{ customer_name.upper.__globals__ }}",
    "{% for c in ''.__class__.__mro__[1].__subclasses__() %}{{ c }}{% endfor %}",
    "{% set x = customer_name.__class__ %}{{ x }}",
    "{{ lipsum.__globals__['os'].environ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ range.__self__ }}",
    "{{ config.items() }}",
    "{{ request.environ }}",
]
INTERNALS = ("<class", "__", "environ", "globals", "subclasses", "uid=", "<module", "<built-in")


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_template_cannot_reach_python_internals(attack: str, tmp_path: Path, figure: Any) -> None:
    figure.security(f"template sandbox: {attack}")
    from jinja2 import TemplateError

    from jobs.render.templates import TemplateProblem, Templates
    from jobs.scheduled.onboard_reset_reminder import SPEC

    [spec] = SPEC.templates
    (tmp_path / spec.file_name).write_text(f"Hi {attack}\n", encoding="utf-8")
    templates = Templates(tmp_path)
    values = {name: "Dana" for name in spec.variables}

    problems = templates.check(spec)
    if problems:  # refused by check-config, before anything is rendered
        assert "unknown variable" in problems[0] or "is not allowed" in problems[0]
        return
    try:
        rendered = templates.render(spec, values)
    except (TemplateError, TemplateProblem):
        return
    assert not any(marker in rendered for marker in INTERNALS), rendered


def test_a_hostile_desk_template_sends_the_customer_nothing(
    rdesk: ReliabilityDesk, tmp_path: Path, figure: Any
) -> None:
    figure.security("template sandbox: a hostile template in the desk's templates")
    templates = tmp_path / "templates"
    import shutil

    shutil.copytree(TEMPLATES, templates)
    (templates / "onboard_reset_release_tonight.j2").write_text(
        "Hi {{ customer_name.__class__.__mro__[1].__subclasses__() }}\n", encoding="utf-8"
    )
    stack = rdesk.start(CASES["onboard_reset"], settings={"templates_dir": str(templates)})

    run = rdesk.run_job()

    assert run.code != 0
    assert [e for e in rdesk.effects() if e.startswith("public comment")] == []
    sent = _slack_and_jira(stack, rdesk.base.keys if rdesk.base else ())
    assert "subclasses" not in sent and "<class" not in sent


# -- least privilege ------------------------------------------------------------------------------

JIRA_PRIVILEGES: list[tuple[str, str, str]] = [
    ("GET", r"/rest/api/2/serverInfo", "(any authenticated account)"),
    ("GET", r"/rest/api/2/field", "(any authenticated account)"),
    ("POST", r"/rest/api/3/search/jql", "Browse Projects on SS and CS"),
    ("GET", r"/rest/api/2/issue/[^/]+", "Browse Projects"),
    ("GET", r"/rest/api/2/issue/[^/]+/comment", "Browse Projects"),
    ("GET", r"/rest/api/2/issue/[^/]+/changelog", "Browse Projects"),
    ("GET", r"/rest/api/2/issue/[^/]+/transitions", "Browse Projects"),
    ("GET", r"/rest/api/2/issue/[^/]+/properties/[^/]+", "Browse Projects"),
    ("GET", r"/rest/api/2/user/search", "Browse users and groups (global permission)"),
    ("GET", r"/rest/servicedeskapi/organization", "Service Desk Team role on SS (agent)"),
    ("GET", r"/rest/servicedeskapi/requesttype", "Service Desk Team role on SS (agent)"),
    ("GET", r"/rest/api/2/issue/createmeta/[^/]+/issuetypes", "Create Issues on CS"),
    ("POST", r"/rest/servicedeskapi/request/[^/]+/comment",
     "Service Desk Team role on SS (agent licence): Add Comments, replies and internal notes"),
    ("POST", r"/rest/api/2/issue/[^/]+/comment", "Add Comments (notes on CS)"),
    ("POST", r"/rest/api/2/issue/[^/]+/transitions", "Transition Issues (+ Resolve/Close Issues)"),
    ("POST", r"/rest/api/2/issueLink", "Link Issues"),
    ("POST", r"/rest/api/2/issue", "Create Issues on CS (+ Assign Issues for QA Assignee)"),
    ("PUT", r"/rest/api/2/issue/[^/]+", "Edit Issues"),
    ("PUT", r"/rest/api/2/issue/[^/]+/properties/[^/]+", "Edit Issues (issue properties)"),
]  # fmt: skip
SLACK_SCOPES: dict[str, str] = {
    "chat.postMessage": "chat:write (invite the bot to the alert channel, or chat:write.public)",
    "chat.update": "chat:write",
    "users.lookupByEmail": "users:read.email (with users:read)",
    "conversations.open": "im:write",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    # The Home tab each run publishes (slack_app.home_tab): who the agents are, and their tab.
    "conversations.list": "channels:read (the alert channel's id; groups:read if private)",
    "conversations.members": "channels:read (the agents: the alert channel's members)",
    "users.info": "users:read (with users:read.email: an agent's email, for their tickets)",
    "views.publish": "none (the App Home's Home tab turned on)",
}
SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets.readonly"


def _claims(form: dict[str, str]) -> dict[str, Any]:
    import base64

    payload = form["assertion"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_every_call_needs_only_the_documented_least_privileges(
    rdesk: ReliabilityDesk, figure: Any
) -> None:
    figure.security("least privilege: every endpoint the jobs call is documented")
    stack = rdesk.start(EVERYTHING)
    for at in (
        EVERYTHING.at,
        EVERYTHING.at + timedelta(hours=1),
        EVERYTHING.at + timedelta(days=1),
    ):
        assert rdesk.run_job(at).code in (0, 1)

    undocumented = sorted(
        {
            f"{c.method} {c.path}"
            for c in stack.jira.calls
            if not any(
                c.method == method and re.fullmatch(pattern, c.path)
                for method, pattern, _ in JIRA_PRIVILEGES
            )
        }
    )
    methods = {
        c.path.removeprefix("/api/") for c in stack.slack.calls if c.path.startswith("/api/")
    }
    used_writes = {
        why
        for c in stack.jira.calls
        for method, pattern, why in JIRA_PRIVILEGES
        if c.method == method == c.method and method != "GET" and re.fullmatch(pattern, c.path)
    }
    token_requests = [c for c in stack.sheets.calls if c.path == "/token"]
    scopes = {
        _claims(dict(part.split("=", 1) for part in str(c.body).split("&")))["scope"]
        for c in token_requests
        if isinstance(c.body, str)
    }
    assert undocumented == []
    assert methods <= set(SLACK_SCOPES), methods - set(SLACK_SCOPES)
    assert {"chat.postMessage", "users.lookupByEmail", "conversations.open"} <= methods
    assert len(used_writes) >= 5, used_writes  # creates, links, comments, transitions, edits
    assert all(c.method == "GET" for c in stack.sheets.calls if c.path.startswith("/v4/"))
    assert scopes == {SHEETS_SCOPE}
