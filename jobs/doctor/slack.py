"""Slack checks: the bot token, the scopes the enabled jobs need (Slack reports the granted
ones in the ``X-OAuth-Scopes`` header of every Web API answer), the bot's membership of the
channels the jobs post to, and the people the jobs reach. Read methods only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial

from jobs.context import REQUIRED_ENV
from jobs.doctor import Check, Outcome, Site, fail, jobs_text, missing_env, ok, skip
from jobs.doctor.needs import CHANNEL_SCOPES

CREDENTIALS = "slack credentials"
SCOPES = "slack scopes"
PAGE = "200"
_MEMBER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_GROUP = re.compile(r"<!subteam\^[A-Z0-9]+(\|[^>]*)?>|S[A-Z0-9]{2,}")


def slack_checks(site: Site) -> Iterator[Check]:
    if not site.needs.systems.get("slack"):
        yield Check("slack", lambda s: skip("no enabled job uses Slack"))
        return
    after = (CREDENTIALS,)
    yield Check(CREDENTIALS, slack_credentials)
    yield Check(SCOPES, scopes, after)
    for channel, jobs in site.needs.channels.items():
        yield Check(
            f"slack channel {channel}", partial(membership, channel=channel, jobs=jobs), after
        )
    for role in site.settings.people:
        yield Check(f"person {role} in Slack", partial(person, role=role), after)


def slack_credentials(site: Site) -> Outcome:
    missing = missing_env(site.env, REQUIRED_ENV["slack"])
    if missing:
        return fail(f"{', '.join(missing)} not set", "fill .env (see .env.example)")
    answer = site.slack.read("auth.test")
    site.memo["slack scopes"] = answer.scopes
    bot = str(answer.data.get("user") or "the bot")
    site.memo["slack bot"] = bot
    return ok(f"bot {bot} ({answer.data.get('user_id')}) in {answer.data.get('team')}")


def scopes(site: Site) -> Outcome:
    needed = site.needs.scopes
    granted: frozenset[str] | None = site.memo.get("slack scopes")
    if granted is None:
        return fail(
            "Slack's answer did not say the token's scopes (no X-OAuth-Scopes header)",
            "check SLACK_API_URL is Slack's Web API (https://slack.com/api/)",
        )
    missing = [scope for scope in needed if scope not in granted]
    if missing:
        lacking = "; ".join(f"{scope} (for {', '.join(needed[scope])})" for scope in missing)
        return fail(
            f"the bot token lacks {lacking}",
            "add them under the app's OAuth & Permissions, reinstall it, and update "
            "SLACK_BOT_TOKEN if Slack issues a new token",
        )
    return ok(f"{', '.join(needed) or 'none needed'} granted")


def _bot_channels(site: Site, types: list[str]) -> list[tuple[str, str]]:
    """(id, name) of every conversation of ``types`` the bot is a member of."""
    found: list[tuple[str, str]] = []
    cursor = ""
    while True:
        params = {"types": ",".join(types), "exclude_archived": "true", "limit": PAGE}
        if cursor:
            params["cursor"] = cursor
        data = site.slack.read("users.conversations", **params).data
        for channel in data.get("channels") or []:
            if isinstance(channel, dict) and isinstance(channel.get("id"), str):
                found.append((channel["id"], str(channel.get("name") or "")))
        meta = data.get("response_metadata")
        cursor = str(meta.get("next_cursor") or "") if isinstance(meta, dict) else ""
        if not cursor:
            return found


def membership(site: Site, channel: str, jobs: tuple[str, ...]) -> Outcome:
    granted: frozenset[str] | None = site.memo.get("slack scopes")
    if granted is None:  # not reported (the scopes check says so): try public channels
        types = ["public_channel"]
    else:
        types = [f"{kind}_channel" for kind, scope in CHANNEL_SCOPES.items() if scope in granted]
    if not types:
        return fail(
            "the token has neither channels:read nor groups:read, so the bot's channels "
            "cannot be read",
            "add channels:read (groups:read for a private channel) to the Slack app: the "
            "preflight reads the bot's channels with it",
        )
    joined: list[tuple[str, str]] = site.once("bot channels", lambda: _bot_channels(site, types))
    wanted = channel.strip().lstrip("#").casefold()
    for cid, name in joined:
        if wanted in (cid.casefold(), name.casefold()):
            return ok(f"the bot is a member ({cid}); {jobs_text(site, jobs, 'slack')} post there")
    private = "" if "private_channel" in types else " (for a private channel, grant groups:read)"
    bot = site.memo.get("slack bot", "the bot")
    return fail(
        f"the bot is not a member of {channel}{private}; "
        f"{jobs_text(site, jobs, 'slack')} post there",
        f"/invite @{bot} in {channel}, or set desk.alert_channel to a channel it is in",
    )


def _member_ids(site: Site) -> set[str]:
    ids: set[str] = set()
    cursor = ""
    while True:
        params = {"limit": PAGE, **({"cursor": cursor} if cursor else {})}
        data = site.slack.read("users.list", **params).data
        for member in data.get("members") or []:
            if isinstance(member, dict) and isinstance(member.get("id"), str):
                ids.add(member["id"])
        meta = data.get("response_metadata")
        cursor = str(meta.get("next_cursor") or "") if isinstance(meta, dict) else ""
        if not cursor:
            return ids


def person(site: Site, role: str) -> Outcome:
    why = site.needs.people_slack.get(role, "")
    if not why:
        return skip(f"no enabled job reaches people.{role} in Slack")
    configured = site.settings.people[role]
    given = (configured.slack_user or "").strip()
    if _GROUP.fullmatch(given):
        return skip(f"{given} is a user group, mentioned as written; groups are not looked up")
    if _MEMBER_ID.fullmatch(given):
        members: set[str] = site.once("slack members", lambda: _member_ids(site))
        if given not in members:
            return fail(
                f"no Slack user {given} (people.{role}.slack_user; {why})",
                f"set people.{role}.slack_user to the member id in their Slack profile",
            )
        return ok(f"{given}: {why}")
    if given:
        return fail(
            f"people.{role}.slack_user {given!r} is neither a member id (U...) nor a group",
            f"set people.{role}.slack_user to the member id in their Slack profile",
        )
    if configured.email:
        user = site.slack.user_id(configured.email)
        if user is None:
            return fail(
                f"no Slack user has the email {configured.email} ({why})",
                f"set people.{role}.slack_user to their member id, or fix people.{role}.email",
            )
        return ok(f"{user}, by email: {why}")
    return fail(
        f"people.{role} has neither slack_user nor email ({why})",
        f"add people.{role}.email or people.{role}.slack_user",
    )
