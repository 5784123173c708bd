"""What happens when someone clicks a button on an alert: the imperative shell around
`jobs.render.actions` (what a click says) and `jobs.slack_app.words` (what is said back).

Every click, in order:

1. the payload is read (`jobs.render.actions.decode`): anything the builders did not make is
   refused, and so is a job the settings do not know;
2. the clicker must be one of the desk's agents (`jobs.slack_app.access`); anyone else is told
   so, only them, and nothing changes;
3. the item must have an alert in the ledger (the payload is a claim, not a fact); a resolved
   alert is said to be resolved and nothing changes;
4. the action: *Assign to me* (Slack user -> email -> Jira account -> Assign issue), *Snooze*
   (a silence authored by the clicker, as ``jobs silence`` records it), *Why?* (the decision
   history, to the clicker only);
5. what was done goes into the decision log (``acted_from_slack``, with who did it), then the
   alert's line says it, then the clicker is answered (only they see it; a DM when an
   ephemeral message cannot reach them).

Secrets never reach a log line: errors are logged by their message, which the adapters build
without request headers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jobs.adapters.http import AdapterError, CallCounter, RetryBudget
from jobs.adapters.jira import JiraAdapter
from jobs.adapters.slack import MessageRef, SlackAdapter, SlackError, SlackUser
from jobs.calendar import desk_calendar
from jobs.clock import Clock
from jobs.config import Settings
from jobs.ids import random_id
from jobs.jql import jql_quote
from jobs.ledger.base import Ledger
from jobs.model import AlertRecord, RecordStatus
from jobs.render.actions import (
    LABEL,
    SNOOZE,
    BadAction,
    NothingPicked,
    Pressed,
    Verb,
    decode,
    with_note,
)
from jobs.render.slack import escape
from jobs.slack_app import words
from jobs.slack_app.access import Access, NoAlertChannel
from jobs.slack_app.settings import SlackAppSettings

log = logging.getLogger("jobs.slack_app")

_TICKET = re.compile(r"[A-Z][A-Z0-9_]*-\d+")


@dataclass
class Services:
    """What a click may use: the settings, adapters made per click (each with its own retry
    budget), the ledger (opened per click, closed after), who may act, and the clock."""

    settings: Settings
    app: SlackAppSettings
    env: Mapping[str, str]
    clock: Clock
    open_ledger: Callable[[], Ledger]
    access: Access
    counter: CallCounter = field(default_factory=CallCounter)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.desk.timezone)

    def _budget(self) -> RetryBudget:
        return RetryBudget(total_seconds=self.app.retry_budget.wall.total_seconds())

    def slack(self) -> SlackAdapter:
        timeout = self.settings.run.http_timeout.wall.total_seconds()
        return SlackAdapter.from_env(
            self.env, counter=self.counter, budget=self._budget(), timeout=timeout
        )

    def jira(self) -> JiraAdapter:
        return JiraAdapter.for_desk(
            self.settings,
            self.env,
            counter=self.counter,
            budget=self._budget(),
            timeout=self.settings.run.http_timeout.wall.total_seconds(),
            browse_url=self.settings.desk.browse_url,
        )


@dataclass(frozen=True)
class Click:
    """Who clicked, where (the message the alert line is in, when it is a message)."""

    user: str
    channel: str | None
    ts: str | None
    ephemeral: bool
    message: Mapping[str, Any] | None


@dataclass(frozen=True)
class Outcome:
    """What a click came to (for the log and the tests): ``done``, ``refused``, ``nothing``
    (a link, a pick), ``failed``."""

    result: str
    answer: str = ""
    item: str | None = None


def handle_block_actions(payload: Mapping[str, Any], services: Services) -> Outcome:
    """One ``block_actions`` payload (already verified as Slack's by its signature)."""
    click = _click(payload)
    actions = payload.get("actions")
    action = actions[0] if isinstance(actions, list) and actions else None
    slack = services.slack()
    channel = payload.get("channel")
    if isinstance(channel, Mapping) and isinstance(channel.get("id"), str):
        services.access.note_channel(str(channel["id"]), str(channel.get("name") or ""))
    try:
        pressed = decode(action or {}, payload.get("state"))
    except NothingPicked:
        return _answer(slack, click, "refused", words.PICK_FIRST)
    except BadAction as exc:
        log.warning("a click the app did not make: %s", exc)
        return _answer(slack, click, "refused", words.REFUSED_UNKNOWN)
    if pressed.verb in (Verb.OPEN, Verb.PICK):
        return Outcome("nothing")  # a link opened, a ticket picked: nothing to do yet
    if pressed.job not in services.settings.jobs:
        log.warning("a click for a job the settings do not have: %s", pressed.job)
        return _answer(slack, click, "refused", words.REFUSED_UNKNOWN)
    try:
        if not services.access.may_act(slack, click.user):
            log.info("refused a click from %s: not one of the desk's agents", click.user)
            text = words.refused(words.REFUSED_NOT_AGENT, where=services.access.where)
            if services.app.user_group:  # a group mention is markup, not text to escape
                text = words.REFUSED_NOT_AGENT.format(where=services.access.where)
            return _answer(slack, click, "refused", text)
        ledger = services.open_ledger()
        try:
            return _act(pressed, click, slack, ledger, services)
        finally:
            ledger.close()
    except NoAlertChannel as exc:
        log.error("who may act cannot be told: %s", exc)
        text = ":warning: The app cannot find the alert channel's members. Nothing was changed."
        return _answer(slack, click, "failed", text)
    except AdapterError as exc:
        log.error("a click could not be carried out: %s", exc)
        text = f":warning: That did not work: {escape(str(exc)[:300])}. Nothing was changed."
        return _answer(slack, click, "failed", text)


def _act(
    pressed: Pressed, click: Click, slack: SlackAdapter, ledger: Ledger, services: Services
) -> Outcome:
    found = _alert_of(pressed, ledger)
    if found is None:
        text = words.refused(words.NO_ALERT, item=_ref_shown(pressed), job=pressed.job)
        return _answer(slack, click, "refused", text)
    item = found.key.item
    resolved = found.status is not RecordStatus.OPEN
    if pressed.verb is Verb.WHY:
        history = ledger.history(item, limit=services.app.why_lines)
        text, blocks = words.why_message(item, history, services.tz, resolved=resolved)
        return _answer(slack, click, "done", text, blocks, item=item)
    if resolved:
        text = words.refused(words.ALREADY_RESOLVED, item=words.shown_item(item))
        return _answer(slack, click, "refused", text, item=item)
    who = slack.user_info(click.user)
    if pressed.verb in SNOOZE:
        return _snooze(pressed, found, who, click, slack, ledger, services)
    if pressed.verb is Verb.ASSIGN:
        return _assign(found, who, click, slack, ledger, services)
    return _answer(slack, click, "refused", words.REFUSED_UNKNOWN)


def _alert_of(pressed: Pressed, ledger: Ledger) -> AlertRecord | None:
    """The job's record for the item the click names: an open one if there is one (the most
    recently sent), else the latest closed one; None when the ledger has none."""
    records = [r for r in ledger.records(pressed.job).values() if pressed.names(r.key.item)]
    if not records:
        return None

    def recency(record: AlertRecord) -> tuple[bool, float]:
        sent = record.last_sent_at or record.closed_at
        return (record.status is RecordStatus.OPEN, sent.timestamp() if sent else 0.0)

    return max(records, key=recency)


SAME_SNOOZE = timedelta(minutes=5)
"""A snooze that would end less than this after the one in place is the same snooze pressed
again (a double click, two people at once): nothing changes, and the presser is told until when
the item is quiet."""


def _snooze(
    pressed: Pressed,
    record: AlertRecord,
    who: SlackUser,
    click: Click,
    slack: SlackAdapter,
    ledger: Ledger,
    services: Services,
) -> Outcome:
    item, job = record.key.item, record.key.job
    now = services.clock.now()
    until = desk_calendar(services.settings).add(now, SNOOZE[pressed.verb])
    author = _author(who)
    shown_until = words.until_text(until, now, services.tz)
    label = LABEL[pressed.verb]
    silence, added = ledger.add_silence_unless_covered(
        item,
        job=job,
        reason=f"{label} from Slack",
        author=author,
        now=now,
        until=until,
        covered_until=until - SAME_SNOOZE,
    )
    if not added:
        already = words.until_text(silence.expires, now, services.tz)
        text = (
            f":zzz: {escape(words.shown_item(item))} is already snoozed by "
            f"{escape(silence.author)} until {escape(already)}. Nothing was changed."
        )
        return _answer(slack, click, "refused", text, item=item)
    _log_act(
        ledger,
        record,
        at=now,
        rule="slack_snooze",
        reason=f"snoozed by {author} ({who.shown}) until {shown_until}, from Slack",
        action=f"silence {silence.id} until {until.isoformat()}",
        facts={
            "by": author,
            "slack_user": who.id,
            "until": until.isoformat(),
            "silence_id": silence.id,
        },
    )
    _note(slack, click, job, item, words.snooze_note(author, shown_until))
    text = words.snoozed_answer(item, shown_until, label)
    return _answer(slack, click, "done", text, item=item)


def _assign(
    record: AlertRecord,
    who: SlackUser,
    click: Click,
    slack: SlackAdapter,
    ledger: Ledger,
    services: Services,
) -> Outcome:
    key, job = record.key.item, record.key.job
    if job not in services.app.assignable_jobs or not _TICKET.fullmatch(key):
        text = words.refused(words.NOT_ASSIGNABLE, item=words.shown_item(key))
        return _answer(slack, click, "refused", text, item=key)
    if not who.email:
        text = (
            ":no_entry: Your Slack profile shows no email, so your Jira account cannot be "
            "found. Nothing was changed."
        )
        return _answer(slack, click, "refused", text, item=key)
    jira = services.jira()
    person = jira.find_user(who.email)
    if person is None or not person.account_id:
        text = (
            f":no_entry: No Jira account has your email ({escape(who.email)}). Nothing was changed."
        )
        return _answer(slack, click, "refused", text, item=key)
    tickets = list(jira.search(f"key = {jql_quote(key)}", ["summary", "status", "assignee"]))
    ticket = next((t for t in tickets if t.key == key), None)
    if ticket is None or ticket.is_done:
        why = "is closed" if ticket is not None else "is not in Jira any more"
        text = f":white_check_mark: {escape(key)} {why}. Nothing was changed."
        return _answer(slack, click, "refused", text, item=key)
    if ticket.assignee is not None and ticket.assignee.account_id:
        if ticket.assignee.matches(person):
            text = f":bust_in_silhouette: {escape(key)} is already yours. Nothing changed."
            return _answer(slack, click, "refused", text, item=key)
        other = ticket.assignee.display_name or "someone else"
        text = (
            f":no_entry: {escape(key)} is assigned to {escape(other)}; reassign it "
            "in Jira if you mean to take it over. Nothing was changed."
        )
        return _answer(slack, click, "refused", text, item=key)
    jira.assign(key, person.account_id)
    now = services.clock.now()
    author = _author(who)
    name = person.display_name or who.shown
    _log_act(
        ledger,
        record,
        at=now,
        rule="slack_assign",
        reason=f"assigned to {name} by {author}, from Slack",
        action=f"jira_assign {key}",
        facts={"by": author, "slack_user": who.id, "assignee": name},
    )
    _note(slack, click, job, key, words.assign_note(name, author))
    return _answer(slack, click, "done", words.assigned_answer(key, name), item=key)


# -- plumbing ----------------------------------------------------------------------------------


def _click(payload: Mapping[str, Any]) -> Click:
    user = payload.get("user")
    user_id = str(user.get("id") or "") if isinstance(user, Mapping) else ""
    container = payload.get("container")
    container = container if isinstance(container, Mapping) else {}
    message = payload.get("message")
    if container.get("type") == "message":
        channel = container.get("channel_id")
        return Click(
            user=user_id,
            channel=str(channel) if channel else None,
            ts=str(container.get("message_ts") or "") or None,
            ephemeral=bool(container.get("is_ephemeral")),
            message=message if isinstance(message, Mapping) else None,
        )
    return Click(user=user_id, channel=None, ts=None, ephemeral=False, message=None)


def _author(who: SlackUser) -> str:
    """The silence's and the decision's author: the clicker's Slack handle."""
    return f"@{who.name or who.id}"


def _run_id() -> str:
    return f"slack-{random_id(8)}"


def _log_act(
    ledger: Ledger,
    record: AlertRecord,
    *,
    at: datetime,
    rule: str,
    reason: str,
    action: str,
    facts: Mapping[str, Any],
) -> None:
    """The person's act in the decision log, under the alert's job, item and episode."""
    decision = words.acted(
        record.key, at=at, run_id=_run_id(), rule=rule, reason=reason, action=action, facts=facts
    )
    ledger.record_decisions([decision])


def _ref_shown(pressed: Pressed) -> str:
    return "that item" if pressed.is_digest else words.shown_item(pressed.ref)


def _note(slack: SlackAdapter, click: Click, job: str, item: str, note: str) -> None:
    """The alert's line says what was done (a failure here is logged: the act is done)."""
    if click.channel is None or click.ts is None or click.ephemeral or click.message is None:
        return
    blocks = click.message.get("blocks")
    if not isinstance(blocks, list):
        return
    changed = with_note(blocks, job, item, note)
    if changed is None:
        return
    text = str(click.message.get("text") or "")
    try:
        slack.update(MessageRef(click.channel, click.ts), text, changed)
    except AdapterError as exc:
        log.warning("the alert's line could not be updated: %s", exc)


def _answer(
    slack: SlackAdapter,
    click: Click,
    result: str,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    *,
    item: str | None = None,
) -> Outcome:
    """Tell the clicker, and only them: an ephemeral message where they clicked, else (the
    Home tab, a channel they are not in) a direct message from the app."""
    shown = blocks or [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    try:
        if click.channel is not None:
            try:
                slack.post_ephemeral(click.channel, click.user, text, shown)
                return Outcome(result, text, item)
            except SlackError as exc:
                if exc.code not in ("user_not_in_channel", "channel_not_found"):
                    raise
        slack.post(click.user, text, shown)
    except AdapterError as exc:
        log.warning("the clicker could not be answered: %s", exc)
    return Outcome(result, text, item)
