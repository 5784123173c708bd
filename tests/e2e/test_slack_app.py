"""Acting on alerts from Slack, end to end: a scheduled run posts the alerts through the Slack
emulator, a person presses a button on one (the emulator delivers the signed ``block_actions``
to the listener over HTTP), and the listener acts through the Jira and Slack emulators and the
ledger; the next scheduled run and ``jobs why`` see what was done.

The alert messages get their buttons the way the renders will put them there
(`jobs.render.actions.with_actions` after the job's own blocks).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from emulators.slack import SlackMessage
from jobs.adapters.http import CallCounter, RetryBudget
from jobs.adapters.jira import JiraAdapter
from jobs.adapters.slack import SlackAdapter
from jobs.clock import FixedClock
from jobs.config import Settings, load_settings
from jobs.item_names import resolve_item
from jobs.ledger import open_ledger
from jobs.ledger.base import Ledger
from jobs.registry import all_jobs
from jobs.render.actions import ActionItem, alert_actions, block_id_for
from jobs.slack_app import SlackAppSettings
from jobs.slack_app.app import Listener, start
from jobs.slack_app.home import publish_home
from jobs.slack_app.manifest import METHOD_SCOPES

JOB = "unassigned_first_response"
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in New York
CLICKED = NOW + timedelta(minutes=5)
CHANNEL = "#support-sla"
MAYA, JORDAN, PRIYA = "U01MAYAPTL", "U01JORDANR", "U01PRIYANR"
MAYA_EMAIL = "maya.patel@goeverbright.example"


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def settings_of(desk: Any) -> Settings:
    return load_settings(
        desk.settings_path, {n: j.spec.config_model for n, j in all_jobs().items()}
    )


def ledger_of(desk: Any) -> Ledger:
    return open_ledger(desk.env["JOBS_LEDGER_URL"])


@pytest.fixture
def listen(desk: Any) -> Iterator[Callable[..., Listener]]:
    """Start the listener in HTTP mode on a free port, as of ``CLICKED`` (the desk's clock)."""
    started: list[Listener] = []

    def go(
        app: SlackAppSettings | None = None, at: datetime = CLICKED, http_port: int | None = 0
    ) -> Listener:
        listener = start(
            settings_of(desk),
            desk.env,
            http_port=http_port,
            host="127.0.0.1",
            clock=FixedClock(at),
            ledger=lambda: ledger_of(desk),
            app_settings=app or SlackAppSettings(),
        )
        started.append(listener)
        return listener

    yield go
    for listener in started:
        listener.stop()


def alerted(desk: Any, at: datetime = NOW) -> None:
    result = desk.run("run", JOB, "--now", iso(at))
    assert result.code == 0, result.err + result.out


def alert_of(stack: Any, key: str) -> SlackMessage:
    [message] = [
        m
        for m in stack.slack.messages_in(CHANNEL)
        if not m.thread_ts and f"|{key}>" in json.dumps(m.blocks)
    ]
    return message


def with_buttons(stack: Any, key: str, *, assignable: bool = True) -> SlackMessage:
    """The alert of ``key``, which the job's render posted with its buttons (a ticket's own
    message: buttons; "Assign to me" while nobody has the ticket)."""
    message = alert_of(stack, key)
    url = f"{stack.jira.url}/browse/{key}"
    item = ActionItem(JOB, key, key, url, assignable=assignable)
    assert alert_actions([item])[0] in (message.blocks or []), message.blocks
    return message


def press(stack: Any, listener: Listener, user: str, key: str, action: str) -> Any:
    message = alert_of(stack, key)
    return stack.slack.press(
        listener.url,
        user=user,
        channel=CHANNEL,
        ts=message.ts,
        block_id=block_id_for(JOB, key),
        action_id=action,
    )


def answered(stack: Any, user: str, count: int = 1, timeout: float = 15.0) -> list[str]:
    """What ``user`` was told by the app (ephemeral messages and DMs), once it has said
    ``count`` things: the listener answers after it acted."""
    email = next(u["email"] for u in stack.slack.users if u["id"] == user)
    deadline = time.monotonic() + timeout
    while True:
        said = [e.text for e in stack.slack.ephemerals_to(user)]
        said += [m.text for m in stack.slack.dms_to(email)]
        if len(said) >= count or time.monotonic() > deadline:
            return said
        time.sleep(0.05)


def acted(ledger: Ledger, key: str) -> list[Any]:
    return [d for d in ledger.history(key) if d.outcome == "acted_from_slack"]


# -- Assign to me --------------------------------------------------------------------------------


def test_assign_to_me_assigns_the_ticket_to_the_clickers_jira_account(desk: Any, listen) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW)
    alerted(desk)
    with_buttons(stack, "SS-121")
    listener = listen()

    delivery = press(stack, listener, MAYA, "SS-121", "sla.assign")

    assert delivery.status == 200
    [said] = answered(stack, MAYA)
    assert "SS-121 is assigned to you in Jira (Maya Patel)" in said
    assert stack.jira.issue("SS-121").assignee == "acc-maya-patel"
    line = json.dumps(alert_of(stack, "SS-121").blocks)
    assert "assigned to Maya Patel by Slack (@maya.patel)" in line
    assert stack.jira.calls_to(r"/rest/api/3/issue/SS-121/assignee$", "PUT")
    ledger = ledger_of(desk)
    [decision] = acted(ledger, "SS-121")
    assert decision.rule == "slack_assign" and decision.facts["by"] == "@maya.patel"
    assert decision.action == "jira_assign SS-121"
    ledger.close()

    why = desk.run("why", "SS-121")
    assert (
        "acted_from_slack via jira_assign SS-121: assigned to Maya Patel by @maya.patel" in why.out
    )

    # A second click changes nothing and says why.
    press(stack, listener, MAYA, "SS-121", "sla.assign")
    assert "already yours" in answered(stack, MAYA, 2)[-1]
    assert len(stack.jira.calls_to(r"/assignee$", "PUT")) == 1


def test_a_ticket_someone_else_has_is_not_taken_over(desk: Any, listen) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW)
    alerted(desk)
    with_buttons(stack, "SS-121")
    stack.jira.issue("SS-121").assignee = "acc-jordan-reyes"
    listener = listen()

    press(stack, listener, MAYA, "SS-121", "sla.assign")

    assert "is assigned to Jordan Reyes" in answered(stack, MAYA)[0]
    assert stack.jira.issue("SS-121").assignee == "acc-jordan-reyes"
    assert stack.jira.calls_to(r"/assignee$", "PUT") == []


# -- Snooze --------------------------------------------------------------------------------------


def test_snooze_silences_the_item_for_the_next_run_with_the_clicker_as_author(
    desk: Any, listen
) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW)
    alerted(desk)
    with_buttons(stack, "SS-122")
    listener = listen()

    press(stack, listener, JORDAN, "SS-122", "sla.snooze_4h")

    [said] = answered(stack, JORDAN)
    assert "SS-122 is snoozed until 14:05 (Snooze 4 h)" in said
    ledger = ledger_of(desk)
    [silence] = ledger.silences(now=CLICKED)
    assert (silence.item, silence.job, silence.author) == ("SS-122", JOB, "@jordan.reyes")
    assert silence.expires == CLICKED + timedelta(hours=4)
    assert "snoozed by @jordan.reyes until 14:05" in json.dumps(alert_of(stack, "SS-122").blocks)
    ledger.close()

    # The next scheduled run sends nothing about SS-122 (SS-120 goes overdue and is told).
    posted = len(stack.slack.messages)
    alerted(desk, NOW + timedelta(minutes=25))
    new = stack.slack.messages[posted:]
    assert new and all("SS-122" not in json.dumps(m.blocks) + m.text for m in new)
    assert any("SS-120" in json.dumps(m.blocks) for m in new)

    why = desk.run("why", "SS-122")
    assert "acted_from_slack via silence" in why.out
    assert "snoozed by @jordan.reyes (Jordan Reyes) until 14:05, from Slack" in why.out
    assert "suppressed_silenced" in why.out and "by @jordan.reyes" in why.out

    # The run resolved the snoozed alert and took its buttons away; a client that has not
    # refreshed still shows them, and a click there says so and changes nothing.
    message = alert_of(stack, "SS-122")
    assert not [b for b in message.blocks or [] if b.get("type") == "actions"]
    item = ActionItem(JOB, "SS-122", "SS-122", f"{stack.jira.url}/browse/SS-122", True)
    message.blocks = [*(message.blocks or []), *alert_actions([item])]
    press(stack, listener, JORDAN, "SS-122", "sla.snooze_1d")
    assert "already resolved" in answered(stack, JORDAN, 2)[-1]
    ledger = ledger_of(desk)
    assert len(ledger.silences(now=CLICKED)) == 1
    ledger.close()


def test_a_snooze_pressed_twice_a_moment_apart_snoozes_once(desk: Any, listen) -> None:
    """A double click (or a colleague pressing the same button seconds later) ends a few
    seconds later than the snooze in place: it is the same snooze, not a second silence and a
    second note in the thread."""
    stack = desk("unassigned_first_response.yaml", now=NOW)
    alerted(desk)
    with_buttons(stack, "SS-122")
    first, moment_later = listen(), listen(at=CLICKED + timedelta(seconds=2))

    press(stack, first, JORDAN, "SS-122", "sla.snooze_4h")
    answered(stack, JORDAN)
    press(stack, moment_later, MAYA, "SS-122", "sla.snooze_4h")

    [said] = answered(stack, MAYA)
    assert "already snoozed by @jordan.reyes until 14:05" in said
    ledger = ledger_of(desk)
    [silence] = ledger.silences(now=CLICKED)
    assert silence.expires == CLICKED + timedelta(hours=4)
    ledger.close()
    assert json.dumps(alert_of(stack, "SS-122").blocks).count("snoozed by") == 1


def test_why_tells_the_clicker_the_items_history_in_desk_time(desk: Any, listen) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW)
    alerted(desk)
    with_buttons(stack, "SS-121")
    listener = listen()

    press(stack, listener, MAYA, "SS-121", "sla.why")

    [said] = answered(stack, MAYA)
    assert said.startswith("Why SS-121?")
    [answer] = stack.slack.ephemerals_to(MAYA)
    shown = json.dumps(answer.blocks)
    assert "2026-11-24 10:00 EST" in shown and "unassigned_first_response/breach" in shown
    ledger = ledger_of(desk)
    assert acted(ledger, "SS-121") == []  # asking changes nothing
    ledger.close()


def test_a_packed_message_acts_on_the_ticket_picked(desk: Any, listen) -> None:
    stack = desk(
        "unassigned_first_response.yaml",
        now=NOW,
        settings={"jobs": {JOB: {"group_threshold": 1}}},
    )
    alerted(desk)
    [message] = [m for m in stack.slack.messages_in(CHANNEL) if not m.thread_ts]
    items = [
        ActionItem(JOB, k, k, f"{stack.jira.url}/browse/{k}", assignable=True)
        for k in ("SS-122", "SS-121", "SS-120")  # as the message lists them
    ]
    # The job's render put the picker on its packed message.
    assert alert_actions(items, layout="picker")[0] in (message.blocks or [])
    listener = listen()
    [picker] = [b for b in message.blocks or [] if b.get("block_id") == "sla.picker"]
    chosen = picker["elements"][0]["options"][1]["value"]

    def click(action: str, picked: dict[str, str] | None) -> None:
        stack.slack.press(
            listener.url, user=MAYA, channel=CHANNEL, ts=message.ts, block_id="sla.picker",
            action_id=action, picked=picked,
        )  # fmt: skip

    click("sla.snooze_1d", None)
    assert "Pick a ticket in the list first" in answered(stack, MAYA)[0]
    click("sla.snooze_1d", {"sla.pick": chosen})

    assert "SS-121 is snoozed until Wed 10:05" in answered(stack, MAYA, 2)[-1]
    ledger = ledger_of(desk)
    assert [(s.item, s.author) for s in ledger.silences(now=CLICKED)] == [("SS-121", "@maya.patel")]
    ledger.close()
    notes = message.blocks[-1]
    assert notes["block_id"] == "sla.notes"
    assert notes["elements"][0]["text"].startswith("SS-121: :zzz: snoozed by @maya.patel")


# -- who may act -----------------------------------------------------------------------------


def test_a_click_from_someone_outside_the_alert_channel_is_refused(desk: Any, listen) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW)
    alerted(desk)
    message = with_buttons(stack, "SS-121")
    blocks_before = json.dumps(message.blocks)
    stack.slack.set_members(CHANNEL, [MAYA, JORDAN])
    listener = listen()

    press(stack, listener, PRIYA, "SS-121", "sla.assign")
    press(stack, listener, PRIYA, "SS-121", "sla.snooze_1d")

    said = answered(stack, PRIYA, 2)
    assert len(said) == 2 and all("Only the support desk can act" in s for s in said)
    assert stack.slack.ephemerals_to(PRIYA) == []  # she is not in the channel: told by DM
    assert stack.jira.issue("SS-121").assignee is None
    assert json.dumps(alert_of(stack, "SS-121").blocks) == blocks_before
    ledger = ledger_of(desk)
    assert ledger.silences(now=CLICKED) == [] and acted(ledger, "SS-121") == []
    ledger.close()


def test_a_configured_user_group_decides_who_may_act(desk: Any, listen) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW)
    alerted(desk)
    with_buttons(stack, "SS-122")
    stack.slack.add_usergroup("S0DESKAGT", [JORDAN])
    listener = listen(SlackAppSettings(user_group="S0DESKAGT"))

    press(stack, listener, MAYA, "SS-122", "sla.snooze_4h")  # in the channel, not the group
    assert "Only the support desk can act" in answered(stack, MAYA)[0]
    press(stack, listener, JORDAN, "SS-122", "sla.snooze_4h")
    assert "is snoozed until" in answered(stack, JORDAN)[0]

    ledger = ledger_of(desk)
    assert [s.author for s in ledger.silences(now=CLICKED)] == ["@jordan.reyes"]
    ledger.close()


# -- the signature -------------------------------------------------------------------------------


def test_a_forged_or_replayed_request_is_refused_with_401_and_changes_nothing(
    desk: Any, listen
) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW)
    alerted(desk)
    message = with_buttons(stack, "SS-122")
    listener = listen()
    [block] = [b for b in message.blocks or [] if b.get("block_id") == block_id_for(JOB, "SS-122")]
    snooze = next(e for e in block["elements"] if e["action_id"] == "sla.snooze_4h")
    payload = stack.slack.block_actions(
        user=MAYA,
        container={"type": "message", "message_ts": message.ts, "channel_id": message.channel},
        channel=message.channel,
        message={"type": "message", "ts": message.ts, "text": message.text, "blocks": []},
        actions=[{**snooze, "block_id": block["block_id"], "type": "button"}],
    )

    forged = stack.slack.deliver(listener.url, payload, signature="v0=" + "0" * 64)
    replayed = stack.slack.deliver(listener.url, payload, timestamp=int(time.time()) - 6 * 60)
    unsigned_body = stack.slack.deliver(
        listener.url, {**payload, "user": {"id": PRIYA}}, signature=stack.slack.sign("x", 0)
    )

    assert [forged.status, replayed.status, unsigned_body.status] == [401, 401, 401]
    time.sleep(0.5)  # anything the listener did would have happened by now
    assert stack.slack.ephemerals == [] and stack.slack.dms_to(MAYA_EMAIL) == []
    ledger = ledger_of(desk)
    assert ledger.silences(now=CLICKED) == [] and acted(ledger, "SS-122") == []
    ledger.close()

    fresh = stack.slack.deliver(listener.url, payload)  # the same payload, signed now
    assert fresh.status == 200
    assert "is snoozed until" in answered(stack, MAYA)[0]


def test_a_button_the_app_did_not_make_is_refused(desk: Any, listen) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW)
    alerted(desk)
    message = alert_of(stack, "SS-121")
    listener = listen()
    payload = stack.slack.block_actions(
        user=MAYA,
        container={"type": "message", "message_ts": message.ts, "channel_id": message.channel},
        channel=message.channel,
        message={"type": "message", "ts": message.ts, "text": message.text},
        actions=[
            {"action_id": "sla.snooze_1d", "block_id": "x", "type": "button",
             "value": "ticket_hygiene|SS-121"},
            ],
    )  # fmt: skip

    assert stack.slack.deliver(listener.url, payload).status == 200

    assert "There is no alert for SS-121 (ticket_hygiene)" in answered(stack, MAYA)[0]
    ledger = ledger_of(desk)
    assert ledger.silences(now=CLICKED) == []
    ledger.close()


def test_the_listener_will_not_start_without_its_secret(desk: Any) -> None:
    import io

    from jobs.slack_app import serve

    desk("unassigned_first_response.yaml", now=NOW)
    settings = settings_of(desk)
    out = io.StringIO()
    no_secret = {k: v for k, v in desk.env.items() if k != "SLACK_SIGNING_SECRET"}

    assert serve(settings, no_secret, http_port=0, out=out) == 2
    no_app_token = {k: v for k, v in desk.env.items() if k != "SLACK_APP_TOKEN"}
    assert serve(settings, no_app_token, http_port=None, out=out) == 2  # Socket Mode
    said = out.getvalue().splitlines()
    assert said[0].startswith("error: slack listener: SLACK_SIGNING_SECRET is not set")
    assert said[1].startswith("error: slack listener: SLACK_APP_TOKEN is not set")
    assert "DO-NOT-LEAK" not in out.getvalue()


def test_socket_mode_takes_the_same_clicks_and_says_when_it_is_connected(desk: Any, listen) -> None:
    import urllib.error
    import urllib.request

    stack = desk("unassigned_first_response.yaml", now=NOW)
    alerted(desk)
    message = with_buttons(stack, "SS-122")
    listener = listen(SlackAppSettings(health_port=0), http_port=None)
    assert stack.slack.socket_mode.wait_connected()
    health = f"http://127.0.0.1:{listener.port}"

    acknowledged = stack.slack.press_over_socket(
        user=JORDAN, channel=CHANNEL, ts=message.ts, block_id=block_id_for(JOB, "SS-122"),
        action_id="sla.snooze_4h",
    )  # fmt: skip

    assert acknowledged
    assert "SS-122 is snoozed until 14:05" in answered(stack, JORDAN)[0]
    assert stack.slack.calls_to(r"/api/apps.connections.open$")
    with urllib.request.urlopen(health + "/readyz", timeout=5) as answer:
        assert answer.status == 200
    with pytest.raises(urllib.error.HTTPError):  # no Request URL in Socket Mode
        urllib.request.urlopen(urllib.request.Request(health + "/slack/events", data=b"x"))
    listener.stop()
    assert not listener.ready()


def test_the_listener_answers_health_checks(desk: Any, listen) -> None:
    import urllib.request

    desk("unassigned_first_response.yaml", now=NOW)
    listener = listen()
    base = listener.url.rsplit("/slack/events", 1)[0]

    for path in ("/healthz", "/readyz"):
        with urllib.request.urlopen(base + path, timeout=5) as answer:
            assert answer.status == 200


# -- the Home tab ----------------------------------------------------------------------------


NO_HOME_AFTER_RUNS = {"slack_app": {"home_tab": False}}
"""For the tests of a Home tab published by hand: the runs that set the scene publish none."""


def test_the_home_tab_shows_each_agent_their_tickets_the_open_alerts_and_the_silences(
    desk: Any, listen
) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=NO_HOME_AFTER_RUNS)
    alerted(desk)
    with_buttons(stack, "SS-121")
    with_buttons(stack, "SS-122")
    stack.slack.set_members(CHANNEL, [MAYA, JORDAN])
    listener = listen()
    press(stack, listener, MAYA, "SS-121", "sla.assign")
    press(stack, listener, JORDAN, "SS-122", "sla.snooze_4h")
    answered(stack, MAYA), answered(stack, JORDAN)
    stack.jira.issue("SS-123").labels.append("sla-snooze-until-2026-11-27")
    stack.jira.issue("SS-124").labels.append("sla-snooze")
    settings = settings_of(desk)
    budget = RetryBudget(total_seconds=30)
    slack = SlackAdapter.from_env(desk.env, counter=CallCounter(), budget=budget)
    jira = JiraAdapter.from_env(desk.env, counter=CallCounter(), budget=budget)
    ledger = ledger_of(desk)

    report = publish_home(settings, ledger, slack, CLICKED, jira=jira)
    ledger.close()

    assert sorted(report.published) == [JORDAN, MAYA] and report.failed == {}
    assert stack.slack.home_of(PRIYA) is None  # not an agent
    maya = _sections(stack.slack.home_of(MAYA))
    jordan = _sections(stack.slack.home_of(JORDAN))
    mine_maya, alerts, silences = maya[0], maya[1], maya[2]
    assert "*Your tickets at risk* (1)" in mine_maya and "|SS-121>" in mine_maya
    assert "*Your tickets at risk* (0)" in jordan[0] and "Nothing of yours" in jordan[0]
    assert "*Open alerts in #support-sla* (3)" in alerts
    assert all(f"|{k}>" in alerts for k in ("SS-120", "SS-121", "SS-122"))
    assert "assigned to Maya Patel" in alerts
    assert "*Active silences* (3)" in silences
    assert "SS-122 · unassigned_first_response · by @jordan.reyes · until 14:05 EST" in silences
    assert "|SS-123> · every job · by Jira label · until Fri Nov 27" in silences
    assert "|SS-124> · every job · by Jira label · no end" in silences
    assert jordan[1:] == maya[1:]
    # Every Slack method the jobs, the listener and the Home tab called is one the app's
    # scopes cover (jobs.slack_app.manifest: what the README asks the admin to grant).
    methods = {c.path.removeprefix("/api/") for c in stack.slack.calls}
    assert methods <= set(METHOD_SCOPES), methods - set(METHOD_SCOPES)
    assert {"chat.postEphemeral", "users.info", "conversations.members", "views.publish"} <= methods


def _sections(view: dict[str, Any] | None) -> list[str]:
    """The Home tab's three lists (mine, the channel's alerts, the silences), as text."""
    assert view is not None
    parts: list[str] = []
    for block in view["blocks"]:
        if block["type"] == "section":
            text = block["text"]["text"]
            if text.startswith("*"):
                parts.append(text)
            else:
                parts[-1] += "\n" + text
    return parts


def test_opening_the_home_tab_publishes_it_for_that_agent(desk: Any, listen) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=NO_HOME_AFTER_RUNS)
    alerted(desk)
    listener = listen()
    event = {
        "token": "verification-token-deprecated",
        "team_id": "T0EVRBRT1",
        "api_app_id": "A0SLAAPP1",
        "type": "event_callback",
        "event_id": "Ev0HOME0001",
        "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": MAYA, "channel": "D01MAYAPTL", "tab": "home",
                  "event_ts": f"{time.time():.6f}"},
    }  # fmt: skip
    body = json.dumps(event)
    sent_at = int(time.time())
    import urllib.request

    request = urllib.request.Request(
        listener.url,
        data=body.encode(),
        headers={
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": str(sent_at),
            "X-Slack-Signature": stack.slack.sign(body, sent_at),
        },
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200
    deadline = time.monotonic() + 15
    while stack.slack.home_of(MAYA) is None and time.monotonic() < deadline:
        time.sleep(0.05)

    view = stack.slack.home_of(MAYA)
    assert view is not None and "*Open alerts in #support-sla* (3)" in json.dumps(view)
    assert stack.slack.home_of(JORDAN) is None


# -- names people use ----------------------------------------------------------------------------


def test_a_sheet_account_is_found_by_its_name_in_the_sheet(desk: Any) -> None:
    desk("onboarding_missing_ticket.yaml", now=NOW)
    for at in (NOW, NOW + timedelta(hours=1)):
        result = desk.run("run", "onboarding_missing_ticket", "--now", iso(at))
        assert result.code == 0, result.err
    ledger = ledger_of(desk)
    known = ledger.items()
    ledger.close()

    found = resolve_item("Desert Sun Solar  ", known)
    assert (found.item, found.known) == ("sheet:desert sun solar", True)
    assert resolve_item("SUN POWER CO.", known).item == "sheet:sun power"
    assert desk.run("why", str(found.item)).out.count("onboarding_missing_ticket") >= 1

    typo = resolve_item("Desert Sun Solr", known)
    assert not typo.known and typo.suggestions[0] == "sheet:desert sun solar"
    key = resolve_item("SS-2O5", known)
    assert key.item is None
    assert key.refusal() == "no item SS-2O5"  # no SS ticket was a candidate of this job


HOME_AFTER_RUNS = {"slack_app": {"home_tab": True}}


def test_each_run_publishes_the_home_tab_of_every_agent_without_a_listener(desk: Any) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=HOME_AFTER_RUNS)
    stack.slack.set_members(CHANNEL, [MAYA, JORDAN])

    alerted(desk)

    for agent in (MAYA, JORDAN):
        view = stack.slack.home_of(agent)
        assert view is not None, agent
        shown = json.dumps(view)
        assert "Open alerts in #support-sla" in shown and "|SS-121>" in shown
    assert stack.slack.home_of(PRIYA) is None  # not in the alert channel


def test_no_home_tab_from_a_dry_run_or_when_the_desk_turns_it_off(desk: Any) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=HOME_AFTER_RUNS)
    stack.slack.set_members(CHANNEL, [MAYA])
    assert desk.run("run", JOB, "--now", NOW.isoformat(), "--dry-run").code == 0
    assert stack.slack.home_of(MAYA) is None

    desk.reconfigure(NO_HOME_AFTER_RUNS)
    alerted(desk)
    assert stack.slack.home_of(MAYA) is None
    assert stack.slack.calls_to(r"/api/views\.publish$") == []


def test_a_run_that_changes_nothing_the_tabs_show_leaves_them_until_their_refresh(
    desk: Any,
) -> None:
    stack = desk("unassigned_first_response.yaml", now=NOW, settings=HOME_AFTER_RUNS)
    stack.slack.set_members(CHANNEL, [MAYA])

    def publishes() -> int:
        return len(stack.slack.calls_to(r"/api/views\.publish$"))

    alerted(desk)
    assert publishes() == 1
    alerted(desk, NOW + timedelta(minutes=1))  # the same alerts, a minute older
    assert publishes() == 1, "nothing the tab shows changed: no Slack call"

    silenced = desk.run("silence", "SS-121", "--for", "4h", "--reason", "customer on holiday")
    assert silenced.code == 0, silenced.err
    alerted(desk, NOW + timedelta(minutes=2))
    assert publishes() == 2, "a new silence is news on the tab"
    assert "customer on holiday" in json.dumps(stack.slack.home_of(MAYA))

    alerted(desk, NOW + timedelta(minutes=3))
    assert publishes() == 2
    desk.reconfigure({"slack_app": {"home_tab": True, "home_refresh": "0s"}})
    alerted(desk, NOW + timedelta(minutes=4))
    assert publishes() == 3, "home_refresh 0s: after every run"


def test_the_home_tab_is_refreshed_for_its_ages_once_home_refresh_has_passed(desk: Any) -> None:
    from jobs.slack_app.home import home_is_fresh

    at = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    note = {"digest": "d1", "at": at.isoformat()}
    quarter = timedelta(minutes=15)
    assert home_is_fresh(note, "d1", at + timedelta(minutes=14), quarter)
    assert not home_is_fresh(note, "d1", at + quarter, quarter)
    assert not home_is_fresh(note, "d2", at + timedelta(minutes=1), quarter)
    assert not home_is_fresh(note, "d1", at - timedelta(minutes=1), quarter)  # clock moved back
    assert not home_is_fresh(None, "d1", at, quarter)
    assert not home_is_fresh({"digest": "d1", "at": "garbage"}, "d1", at, quarter)
