"""The Home tab: what each agent sees when they open the app in Slack.

For each agent (the alert channel's members, or ``slack_app.user_group``'s): their own tickets
at risk, the channel's open alerts (the ledger's open records), and the active silences with
who set them and until when — ``jobs silence`` and Slack's Snooze alike, and tickets carrying
the snooze label (``sla-snooze``, or ``sla-snooze-until-2026-12-08``).

`publish_home` is called after each scheduled run and when an agent opens the tab (the
listener's ``app_home_opened``); it needs no listener. `home_view` is the pure part.

Which tickets are an agent's is Jira's answer (the ticket's assignee, matched by email, or by
the Jira account of the agent's Slack email when Jira hides the assignee's address); without
Jira the tab still lists the open alerts and the ledger's silences.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from jobs.adapters.http import AdapterError, PermanentError
from jobs.item_names import SHEET_PREFIX, label_silence, until_label
from jobs.jql import jql_list, key_batches
from jobs.ledger.base import LedgerReader, Silence
from jobs.model import RecordStatus, Ticket
from jobs.render.slack import Block, context, divider, escape, header, link, mrkdwn, truncate
from jobs.slack_app.access import Access
from jobs.slack_app.settings import slack_app_settings

if TYPE_CHECKING:
    from jobs.adapters.jira import JiraAdapter
    from jobs.adapters.slack import SlackAdapter
    from jobs.config import Settings
    from jobs.context import RunContext

log = logging.getLogger("jobs.slack_app.home")

MAX_HOME_BLOCKS = 100
MAX_LINES = 60
"""Lines per list; the rest are counted ("… and 12 more")."""
SUMMARY_CHARS = 90
_TICKET = re.compile(r"[A-Z][A-Z0-9_]*-\d+")
HOME_FIELDS = ("summary", "status", "assignee", "labels")


@dataclass(frozen=True)
class OpenAlert:
    item: str
    jobs: tuple[str, ...]
    tier: str | None
    since: datetime | None
    summary: str = ""
    assignee: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class SilenceLine:
    item: str
    scope: str
    """A job's name, or "every job"."""
    author: str
    until: datetime | date | None
    """None: no end (the plain snooze label)."""
    reason: str
    url: str | None = None


@dataclass
class HomeReport:
    """What `publish_home` did: who got a Home tab, and who could not (with why)."""

    published: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    alerts: int = 0
    silences: int = 0


# -- the view (pure) -------------------------------------------------------------------------


def home_view(
    *,
    agent: str,
    mine: Sequence[OpenAlert],
    alerts: Sequence[OpenAlert],
    silences: Sequence[SilenceLine],
    channel: str,
    now: datetime,
    tz: ZoneInfo,
    jira_read: bool = True,
) -> dict[str, Any]:
    """The Home tab of ``agent`` (their name, plain text), as views.publish takes it."""
    blocks: list[Block] = [
        header("SLA desk"),
        context(
            [
                f"For {escape(agent)} · updated {escape(_when(now, now, tz))} · "
                f"alerts go to {escape(channel)}"
            ]
        ),
    ]
    title = f"*Your tickets at risk* ({len(mine)})"
    if not jira_read:
        mine_lines = ["_Jira could not be read: your tickets are not known right now._"]
    elif mine:
        mine_lines = [_alert_line(a, now, tz) for a in mine]
    else:
        mine_lines = ["Nothing of yours is on an alert. :tada:"]
    blocks += _list(title, mine_lines)
    blocks.append(divider())
    title = f"*Open alerts in {escape(channel)}* ({len(alerts)})"
    lines = [_alert_line(a, now, tz) for a in alerts] or ["No open alerts."]
    blocks += _list(title, lines)
    blocks.append(divider())
    title = f"*Active silences* ({len(silences)})"
    lines = [_silence_line(s, now, tz) for s in silences] or ["Nothing is silenced."]
    blocks += _list(title, lines)
    blocks.append(
        context(
            [
                "Snooze or ask *Why?* from the buttons on an alert; "
                "`jobs silences` lists silences, `jobs why KEY` the whole history."
            ]
        )
    )
    if len(blocks) > MAX_HOME_BLOCKS:
        blocks = [*blocks[: MAX_HOME_BLOCKS - 1], context(["… cut to Slack's 100 blocks"])]
    return {"type": "home", "callback_id": "sla_home", "blocks": blocks}


def _list(title: str, lines: Sequence[str]) -> list[Block]:
    shown = list(lines[:MAX_LINES])
    if len(lines) > MAX_LINES:
        shown.append(f"… and {len(lines) - MAX_LINES} more")
    blocks: list[Block] = []
    chunk: list[str] = [title]
    size = len(title)
    for line in shown:
        if size + len(line) + 1 > 2900:
            blocks.append({"type": "section", "text": mrkdwn("\n".join(chunk))})
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    blocks.append({"type": "section", "text": mrkdwn("\n".join(chunk))})
    return blocks


def _name(item: str, url: str | None) -> str:
    shown = item.removeprefix(SHEET_PREFIX)
    if url:
        try:
            return link(url, shown)
        except ValueError:
            pass
    return escape(shown)


JOB_WORDS = {
    "unassigned_first_response": "first response",
    "onboarding_missing_ticket": "no onboarding ticket",
    "approval_reminder": "approval",
    "onboard_reset_reminder": "Onboard reset",
    "doc_test_followup": "doc test",
    "channel_partner_request": "channel partner request",
    "config_due_dates": "CS dates",
    "ticket_hygiene": "ticket fields",
    "sla_report": "SLA report",
}
"""What each job's alert is about, in the desk's words (not the job's name)."""
TIER_WORDS = {"escalation": "escalated", "breach": "overdue", "warning": "due soon", "info": ""}
TIER_ICONS = {"escalation": ":fire:", "breach": ":rotating_light:", "warning": ":warning:"}
_TIER_RANK = {"escalation": 3, "breach": 2, "warning": 1, "info": 0}


def _alert_line(alert: OpenAlert, now: datetime, tz: ZoneInfo) -> str:
    icon = TIER_ICONS.get(alert.tier or "", "")
    parts = [f"{icon} {_name(alert.item, alert.url)}".strip()]
    if alert.summary:
        parts.append(escape(truncate(alert.summary, SUMMARY_CHARS)))
    what = ", ".join(JOB_WORDS.get(job, job) for job in alert.jobs)
    tier = TIER_WORDS.get(alert.tier or "", alert.tier or "")
    if tier:
        what += f" ({tier})"
    parts.append(escape(what))
    if alert.since is not None:
        parts.append(f"since {escape(_when(alert.since, now, tz))}")
    if alert.assignee:
        parts.append(f"assigned to {escape(alert.assignee)}")
    return "• " + " · ".join(parts)


def _silence_line(silence: SilenceLine, now: datetime, tz: ZoneInfo) -> str:
    if silence.until is None:
        until = "no end"
    elif isinstance(silence.until, datetime):
        until = f"until {_when(silence.until, now, tz)}"
    else:
        until = f"until {silence.until:%a %b} {silence.until.day}"
    text = f"{silence.scope} · by {silence.author} · {until}"
    if silence.reason:
        text += f": {truncate(silence.reason, 120)}"
    return f"• {_name(silence.item, silence.url)} · {escape(text)}"


def _when(at: datetime, now: datetime, tz: ZoneInfo) -> str:
    local, today = at.astimezone(tz), now.astimezone(tz)
    if local.date() == today.date():
        return f"{local:%H:%M %Z}"
    if abs((local.date() - today.date()).days) < 7:
        return f"{local:%a %H:%M %Z}"
    return f"{local:%b} {local.day} {local:%H:%M %Z}"


# -- what the tab shows, from the ledger and Jira ----------------------------------------------


def open_alerts(ledger: LedgerReader, jobs: Sequence[str]) -> list[OpenAlert]:
    """Items with an open, announced alert, one line per item (its jobs together), the most
    urgent first, then the oldest. Only tickets and sheet accounts: a record of a message or a
    group is not a line."""
    found: dict[str, dict[str, Any]] = {}
    for job in jobs:
        for key, record in ledger.records(job, open_only=True).items():
            if record.status is not RecordStatus.OPEN or record.last_sent_at is None:
                continue
            if not (_TICKET.fullmatch(key.item) or key.item.startswith(SHEET_PREFIX)):
                continue
            entry = found.setdefault(key.item, {"jobs": [], "tier": None, "since": None})
            if job not in entry["jobs"]:
                entry["jobs"].append(job)
            if record.tier is not None and (
                entry["tier"] is None or record.tier.rank > entry["tier"].rank
            ):
                entry["tier"] = record.tier
            first = record.first_sent_at or record.last_sent_at
            if entry["since"] is None or first < entry["since"]:
                entry["since"] = first
    alerts = [
        OpenAlert(
            item=item,
            jobs=tuple(entry["jobs"]),
            tier=str(entry["tier"]) if entry["tier"] is not None else None,
            since=entry["since"],
        )
        for item, entry in found.items()
    ]
    # The most urgent first (an escalation before a due-soon), then the oldest.
    return sorted(
        alerts,
        key=lambda a: (
            -_TIER_RANK.get(a.tier or "", 0),
            a.since or datetime.max.replace(tzinfo=ZoneInfo("UTC")),
            a.item,
        ),
    )


HOME_JOB = "_home"
"""The ledger memory's pseudo-job for when the Home tabs were last published, and of what."""


def home_digest(ledger: LedgerReader, jobs: Sequence[str], now: datetime) -> str:
    """What the Home tabs show from the ledger (the open alerts, their tiers and jobs, the
    silences), as a short digest: equal digests, the same tabs but for their ages."""
    import hashlib

    lines = [f"{a.item}|{a.tier}|{','.join(a.jobs)}" for a in open_alerts(ledger, jobs)]
    lines += [f"{s.item}|{s.scope}|{s.until}" for s in ledger_silences(ledger, now)]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:32]


def home_is_fresh(
    published: Mapping[str, Any] | None, digest: str, now: datetime, refresh: timedelta
) -> bool:
    """True when the tabs published last (``published``: the ledger's note of it) show what
    ``digest`` describes and are younger than ``refresh``: publishing again would only
    update their ages. A note from the future (a clock moved back) is not fresh."""
    if not published or published.get("digest") != digest:
        return False
    try:
        at = datetime.fromisoformat(str(published.get("at")))
    except ValueError:
        return False
    return at.tzinfo is not None and timedelta(0) <= now - at < refresh


def ledger_silences(ledger: LedgerReader, now: datetime) -> list[SilenceLine]:
    return [_silence_of(s) for s in ledger.silences(now=now)]


def _silence_of(silence: Silence) -> SilenceLine:
    return SilenceLine(
        item=silence.item,
        scope=silence.job or "every job",
        author=silence.author,
        until=silence.expires,
        reason=silence.reason,
    )


def label_jql(base_label: str, today: date, days: int) -> str:
    """Open tickets carrying the snooze label, plain or with an end date within ``days``
    (JQL has no wildcard for labels, so each date is named)."""
    labels = [base_label] + [
        until_label(base_label, today + timedelta(d)) for d in range(1, days + 1)
    ]
    return f"labels in ({jql_list(labels)}) AND statusCategory != Done ORDER BY key ASC"


def label_silences(
    tickets: Sequence[Ticket], base_label: str, today: date, browse: str
) -> list[SilenceLine]:
    lines = []
    for ticket in tickets:
        active, until = label_silence(ticket.labels, base_label, today)
        if not active:
            continue
        label = base_label if until is None else until_label(base_label, until)
        lines.append(
            SilenceLine(
                item=ticket.key,
                scope="every job",
                author="Jira label",
                until=until,
                reason=f"the ticket has the {label} label",
                url=_browse(browse, ticket.key),
            )
        )
    return lines


def _browse(base: str, key: str) -> str | None:
    return f"{base.rstrip('/')}/browse/{key}" if base else None


@dataclass(frozen=True)
class _Sources:
    settings: Settings
    jira: JiraAdapter | None
    browse: str


def _sources(source: RunContext | Settings, jira: JiraAdapter | None) -> _Sources:
    from jobs.context import RunContext

    env: Mapping[str, str] = {}
    if isinstance(source, RunContext):
        settings, env = source.settings, source.env
        if jira is None:
            try:
                jira = source.jira
            except AdapterError as exc:
                log.warning("the Home tab goes without Jira: %s", exc)
    else:
        settings = source
    browse = settings.desk.browse_url or env.get("JIRA_URL", "")
    if not browse and jira is not None:
        browse = jira.browse_url("X").removesuffix("/browse/X")
    return _Sources(settings, jira, browse)


def publish_home(
    source: RunContext | Settings,
    ledger: LedgerReader,
    slack: SlackAdapter,
    now: datetime,
    *,
    jira: JiraAdapter | None = None,
    only: Sequence[str] | None = None,
    access: Access | None = None,
) -> HomeReport:
    """Publish every agent's Home tab (``only``: just these user ids, who must be agents).

    ``source``: the run's context (its Jira adapter is used), or the settings (then pass
    ``jira`` to show each agent their tickets; without it the tab says Jira was not read).
    One agent's failure does not stop the others: the report lists it."""
    sources = _sources(source, jira)
    settings = sources.settings
    app = slack_app_settings(settings)
    tz = ZoneInfo(settings.desk.timezone)
    access = access or Access(settings, app)
    report = HomeReport()
    agents = sorted(access.agents(slack))
    if only is not None:
        agents = [a for a in agents if a in set(only)]
    alerts = open_alerts(ledger, list(settings.jobs))
    silences = ledger_silences(ledger, now)
    tickets: dict[str, Ticket] = {}
    jira_read = sources.jira is not None
    if sources.jira is not None:
        try:
            keys = [a.item for a in alerts if _TICKET.fullmatch(a.item)]
            for clause in key_batches(keys, 100):
                for ticket in sources.jira.search(clause, list(HOME_FIELDS), page_size=100):
                    tickets[ticket.key] = ticket
            labelled = list(
                sources.jira.search(
                    label_jql(
                        settings.silence_label,
                        now.astimezone(tz).date(),
                        app.home_snooze_label_days,
                    ),
                    list(HOME_FIELDS),
                    page_size=100,
                )
            )
            silences += label_silences(
                labelled, settings.silence_label, now.astimezone(tz).date(), sources.browse
            )
        except (PermanentError, AdapterError) as exc:
            log.warning("the Home tab goes without Jira this time: %s", exc)
            jira_read = False
    alerts = [_with_ticket(a, tickets.get(a.item), sources.browse) for a in alerts]
    report.alerts, report.silences = len(alerts), len(silences)
    account_ids: dict[str, str | None] = {}
    for user_id in agents:
        try:
            who = slack.user_info(user_id)
            if who.is_bot or who.deleted:
                continue
            mine = _mine(who.email, alerts, tickets, sources.jira, account_ids) if jira_read else []
            view = home_view(
                agent=who.shown,
                mine=mine,
                alerts=alerts,
                silences=silences,
                channel=settings.desk.alert_channel,
                now=now,
                tz=tz,
                jira_read=jira_read,
            )
            slack.publish_home(user_id, view)
            report.published.append(user_id)
        except AdapterError as exc:
            log.warning("no Home tab for %s: %s", user_id, exc)
            report.failed[user_id] = str(exc)
    return report


def _with_ticket(alert: OpenAlert, ticket: Ticket | None, browse: str) -> OpenAlert:
    url = _browse(browse, alert.item) if _TICKET.fullmatch(alert.item) else None
    if ticket is None:
        return OpenAlert(alert.item, alert.jobs, alert.tier, alert.since, url=url)
    assignee = ticket.assignee.display_name if ticket.assignee else None
    return OpenAlert(alert.item, alert.jobs, alert.tier, alert.since, ticket.summary, assignee, url)


def _mine(
    email: str | None,
    alerts: Sequence[OpenAlert],
    tickets: Mapping[str, Ticket],
    jira: JiraAdapter | None,
    account_ids: dict[str, str | None],
) -> list[OpenAlert]:
    if not email:
        return []
    wanted = email.casefold()
    mine = []
    for alert in alerts:
        ticket = tickets.get(alert.item)
        person = ticket.assignee if ticket is not None else None
        if person is None:
            continue
        if person.email:
            if person.email.casefold() == wanted:
                mine.append(alert)
            continue
        if jira is None or not person.account_id:
            continue
        if wanted not in account_ids:
            found = jira.find_user(email)
            account_ids[wanted] = found.account_id if found is not None else None
        if account_ids[wanted] == person.account_id:
            mine.append(alert)
    return mine
