"""A loopback Slack Web API: the methods our adapter calls, answering as Slack documents.

Contract points that matter to the adapter (https://api.slack.com/web):
- every method is ``POST /api/<method>``; arguments come as a form, a JSON body or a query
  string; the token as ``Authorization: Bearer`` (or a ``token`` form field, never in JSON);
- failures are HTTP 200 with ``{"ok": false, "error": "<code>"}``, except rate limiting,
  which is HTTP 429 with ``Retry-After`` (seconds) and ``error: ratelimited``;
- every answer to a valid token carries ``X-OAuth-Scopes``, the scopes granted to it, comma
  separated (Slack's OAuth scopes documentation, "Working with scopes");
- message timestamps (``ts``) are unique per channel and increase; they are the message id;
- ``files_upload_v2`` is three steps: files.getUploadURLExternal, a raw POST of the bytes
  to the returned URL, files.completeUploadExternal to share the file in a channel;
- interactivity goes the other way: Slack POSTs a ``block_actions`` payload (form field
  ``payload``, JSON) to the app's Request URL, signed with the app's signing secret
  (``X-Slack-Signature: v0=HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)`` and
  ``X-Slack-Request-Timestamp``; https://docs.slack.dev/authentication/verifying-requests-from-slack).
  `SlackEmulator.press` clicks a button that is really in a message, as a person would;
  `SlackEmulator.deliver` sends any payload (a forged or replayed one too).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from emulators.base import Emulator, Request, Response

DEFAULT_TOKEN = "xoxb-test-token-DO-NOT-LEAK"
DEFAULT_SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5-DO-NOT-LEAK"
DEFAULT_APP_TOKEN = "xapp-1-A0SLAAPP1-1-DO-NOT-LEAK"
API_APP_ID = "A0SLAAPP1"
TEAM = "EverBright"
TEAM_ID = "T0EVRBRT1"
BOT_USER = "sla-monitor"
BOT_USER_ID = "U0SLABOT1"
BOT_ID = "B0SLABOT1"
SCOPES = (
    "chat:write",
    "users:read",
    "users:read.email",
    "im:write",
    "files:write",
    "channels:read",
    "groups:read",
)
"""The bot token's scopes unless a test says otherwise: what the jobs use (README, "Least
privilege") and what the preflight reads the bot's channels with."""
_LIST_SCOPES = {"public_channel": "channels:read", "private_channel": "groups:read"}
"""The scope listing each kind of conversation takes."""

JSON_METHODS = frozenset(
    {
        "auth.test",
        "chat.postMessage",
        "chat.update",
        "conversations.open",
        "files.completeUploadExternal",
        "chat.postEphemeral",
        "views.publish",
    }
)
"""Methods that take a JSON body (the spec's ``consumes``; Slack's method reference for the
upload methods). Any other method reads only the query string and a form body, so JSON
arguments are not seen at all: users.lookupByEmail with a JSON body has no email."""

_BLOCK_TYPES = {
    "section",
    "header",
    "context",
    "divider",
    "actions",
    "image",
    "rich_text",
    "input",
    "file",
    "video",
}


@dataclass
class SlackMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    unfurl_links: bool | None = None
    unfurl_media: bool | None = None
    files: list[str] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    """Earlier versions (text, blocks) replaced by chat.update, oldest first."""
    reply_broadcast: bool = False
    """A thread reply also shown in the channel."""


@dataclass
class Ephemeral:
    """A message only ``user`` sees, in ``channel`` (chat.postEphemeral)."""

    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None
    message_ts: str


@dataclass
class Delivery:
    """An interaction the emulator delivered to an app, and what the app answered."""

    url: str
    payload: dict[str, Any]
    status: int
    body: str


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    upload_key: str
    title: str | None = None
    content: bytes | None = None
    channel: str | None = None
    initial_comment: str | None = None


class SlackEmulator(Emulator):
    name = "slack"
    default_retry_after = 1.0
    """Slack's 429s always carry ``Retry-After`` (https://api.slack.com/apis/rate-limits)."""

    def __init__(
        self,
        users: list[dict[str, str]],
        channels: list[str],
        *,
        token: str = DEFAULT_TOKEN,
        signing_secret: str = DEFAULT_SIGNING_SECRET,
        app_token: str = DEFAULT_APP_TOKEN,
        latency: float = 0.0,
    ) -> None:
        super().__init__(latency=latency)
        self.token = token
        self.signing_secret = signing_secret
        self.app_token = app_token
        self._socket_mode: Any = None
        self.users = [dict(u) for u in users]
        self.channels: dict[str, str] = {}
        """Channel id -> name ("#support-sla")."""
        for n, name in enumerate(channels, start=1):
            self.channels[f"C0{n:08d}"] = name if name.startswith("#") else f"#{name}"
        self.dm_channels: dict[str, str] = {}
        """DM channel id -> user id, filled by conversations.open."""
        self.messages: list[SlackMessage] = []
        self.files: dict[str, UploadedFile] = {}
        self.members: dict[str, list[str]] = self._everyone_everywhere()
        """Channel id -> its members (every person and the bot, unless a test says otherwise)."""
        self.usergroups: dict[str, list[str]] = {}
        """User group id (S...) -> its members."""
        self.ephemerals: list[Ephemeral] = []
        self.home_views: dict[str, list[dict[str, Any]]] = {}
        """User id -> every Home tab view published for them, oldest first."""
        self.deliveries: list[Delivery] = []
        self._epoch = int(time.time())
        self._seq = 0
        self.scopes: list[str] = list(SCOPES)
        """Granted to the token: every answer says them in ``X-OAuth-Scopes`` (Slack sends the
        header with every Web API answer); the read methods below refuse without theirs."""
        self.bot_not_in: set[str] = set()
        """Channel ids the bot is not a member of (it is in every channel unless a test takes
        it out with `remove_bot`)."""
        for method, handler in {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "users.lookupByEmail": self._lookup_by_email,
            "users.info": self._users_info,
            "conversations.open": self._conversations_open,
            "conversations.list": self._conversations_list,
            "conversations.members": self._conversations_members,
            "usergroups.users.list": self._usergroup_users,
            "views.publish": self._views_publish,
            "apps.connections.open": self._connections_open,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }.items():
            self._add_method(method, handler)
        # Reads of the preflight (`python -m jobs doctor`): the bot's channels, the users.
        self._add_method("users.conversations", self._users_conversations)
        self._add_method("users.list", self._users_list)
        self.route("POST", r"/upload/v1/([A-Za-z0-9_-]+)", self._upload_bytes)

    # -- test helpers ------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        """What SLACK_API_URL should be set to: the Web API base, like https://slack.com/api/."""
        return f"{self.url}/api/"

    def reset(self) -> None:
        """Forget messages, files, DMs, calls and faults (users and channels stay)."""
        with self._lock:
            self.messages.clear()
            self.files.clear()
            self.dm_channels.clear()
            self.ephemerals.clear()
            self.home_views.clear()
            self.deliveries.clear()
            self.members = self._everyone_everywhere()
            self.usergroups.clear()
            self.calls.clear()
            self._faults.clear()

    def _everyone_everywhere(self) -> dict[str, list[str]]:
        people = [u["id"] for u in self.users if not u.get("is_bot")]
        return {cid: [BOT_USER_ID, *people] for cid in self.channels}

    def set_members(self, channel: str, user_ids: list[str]) -> None:
        """Who is in ``channel`` from now on (the bot stays)."""
        cid = self.channel_id(channel)
        if cid is None:
            raise ValueError(f"no channel {channel}")
        with self._lock:
            self.members[cid] = [BOT_USER_ID, *(u for u in user_ids if u != BOT_USER_ID)]

    def add_usergroup(self, group_id: str, user_ids: list[str]) -> None:
        with self._lock:
            self.usergroups[group_id] = list(user_ids)

    def ephemerals_to(self, user_id: str) -> list[Ephemeral]:
        with self._lock:
            return [e for e in self.ephemerals if e.user == user_id]

    def home_of(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab ``user_id`` sees now (the last view published), or None."""
        with self._lock:
            views = self.home_views.get(user_id)
            return views[-1] if views else None

    def message(self, channel: str, ts: str) -> SlackMessage | None:
        cid = self.channel_id(channel) or channel
        with self._lock:
            return self._find(cid, ts)

    # -- interactivity: Slack calls the app -------------------------------------------------
    def sign(self, body: str, timestamp: int) -> str:
        """``X-Slack-Signature`` for ``body`` sent at ``timestamp``, with this app's secret."""
        base = f"v0:{timestamp}:{body}".encode()
        return "v0=" + hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()

    def deliver(
        self,
        url: str,
        payload: dict[str, Any],
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        timeout: float = 10.0,
    ) -> Delivery:
        """POST ``payload`` to an app's Request URL as Slack does: form-encoded ``payload=<json>``,
        signed (a test may give its own ``timestamp`` or ``signature`` to forge or replay one).
        Returns the app's answer; Slack waits 3 seconds for it."""
        body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))})
        sent_at = int(time.time()) if timestamp is None else timestamp
        request = urllib.request.Request(
            url,
            data=body.encode(),
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": str(sent_at),
                "X-Slack-Signature": signature or self.sign(body, sent_at),
                "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                status, text = answer.status, answer.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode(errors="replace")
        delivery = Delivery(url, payload, status, text)
        with self._lock:
            self.deliveries.append(delivery)
        return delivery

    def press(self, url: str, **click: Any) -> Delivery:
        """``user`` clicks an element of an alert (see `press_payload`); delivered over HTTP
        to the app's Request URL. Extra ``timestamp``/``signature`` go to `deliver`."""
        deliver = {k: click.pop(k) for k in ("timestamp", "signature", "timeout") if k in click}
        return self.deliver(url, self.press_payload(**click), **deliver)

    def press_over_socket(self, **click: Any) -> bool:
        """The same click, delivered over Socket Mode to the connected app; True once the app
        acknowledged it."""
        return bool(self.socket_mode.send(self.press_payload(**click)))

    @property
    def socket_mode(self) -> Any:
        """Socket Mode's side (`emulators.slack_socket.SocketModeServer`), started on first use."""
        with self._lock:
            if self._socket_mode is None:
                from emulators.slack_socket import SocketModeServer

                self._socket_mode = SocketModeServer()
            return self._socket_mode

    def stop(self) -> None:
        if self._socket_mode is not None:
            self._socket_mode.stop()
            self._socket_mode = None
        super().stop()

    def press_payload(
        self,
        *,
        user: str,
        channel: str,
        ts: str,
        block_id: str,
        action_id: str,
        option: str | None = None,
        picked: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """``user`` clicks the element ``action_id`` of block ``block_id`` in the message ``ts``
        (choosing the option whose value is ``option``, for a menu or a select), with the
        message's pickers set as ``picked`` says (action_id -> option value). Only what is
        in the message can be pressed: a ValueError says what is not there."""
        cid = self.channel_id(channel) or channel
        with self._lock:
            message = self._find(cid, ts)
            if message is None:
                raise ValueError(f"no message {ts} in {channel}")
            body = _message_json(message)
        block = next((b for b in body.get("blocks") or [] if b.get("block_id") == block_id), None)
        if block is None:
            raise ValueError(f"no block {block_id!r} in message {ts}")
        elements = list(block.get("elements") or [])
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        element = next((e for e in elements if e.get("action_id") == action_id), None)
        if element is None:
            raise ValueError(f"no element {action_id!r} in block {block_id!r}")
        action: dict[str, Any] = {
            "type": element["type"],
            "action_id": action_id,
            "block_id": block_id,
            "action_ts": f"{time.time():.6f}",
        }
        if isinstance(element.get("text"), dict):
            action["text"] = element["text"]
        if "value" in element:
            action["value"] = element["value"]
        if option is not None:
            chosen = next((o for o in element.get("options") or [] if o["value"] == option), None)
            if chosen is None:
                raise ValueError(f"no option {option!r} in {action_id!r}")
            action["selected_option"] = chosen
        values: dict[str, dict[str, Any]] = {}
        for b in body.get("blocks") or []:
            for e in b.get("elements") or []:
                if e.get("type") != "static_select":
                    continue
                wanted = (picked or {}).get(e["action_id"])
                chosen = next((o for o in e["options"] if o["value"] == wanted), None)
                values.setdefault(b["block_id"], {})[e["action_id"]] = {
                    "type": "static_select",
                    "selected_option": chosen,
                }
        payload = self.block_actions(
            user=user,
            container={
                "type": "message",
                "message_ts": ts,
                "channel_id": cid,
                "is_ephemeral": False,
            },
            channel=cid,
            message=body,
            actions=[action],
            state={"values": values},
        )
        return payload

    def block_actions(
        self,
        *,
        user: str,
        actions: list[dict[str, Any]],
        container: dict[str, Any],
        channel: str | None = None,
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        state: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A ``block_actions`` payload as Slack's interaction payload reference shapes it."""
        person = next((u for u in self.users if u["id"] == user), None)
        name = person["name"] if person else user.lower()
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": name, "name": name, "team_id": TEAM_ID},
            "api_app_id": API_APP_ID,
            "token": "verification-token-deprecated",
            "container": container,
            "trigger_id": f"{self._next_ts().replace('.', '')}.{TEAM_ID}",
            "team": {"id": TEAM_ID, "domain": TEAM.lower()},
            "enterprise": None,
            "is_enterprise_install": False,
            "state": state or {"values": {}},
            "response_url": f"{self.url}/actions/{TEAM_ID}/{secrets.token_hex(8)}",
            "actions": actions,
        }
        if channel is not None:
            payload["channel"] = {"id": channel, "name": self.channels.get(channel, channel)[1:]}
            payload["message"] = message
        if view is not None:
            payload["view"] = view
        return payload

    def channel_id(self, name_or_id: str) -> str | None:
        if name_or_id in self.channels or name_or_id in self.dm_channels:
            return name_or_id
        name = name_or_id if name_or_id.startswith("#") else f"#{name_or_id}"
        for cid, cname in self.channels.items():
            if cname == name:
                return cid
        return None

    def fail_next(self, method: str, error: str, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with a Slack error (HTTP 200, ok=false)."""
        self.inject(
            rf"^/api/{re.escape(method)}$",
            status=200,
            times=times,
            body={"ok": False, "error": error},
        )

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 and ``Retry-After``."""
        self.inject(
            rf"^/api/{re.escape(method)}$", status=429, times=times, retry_after=retry_after
        )

    def messages_in(self, channel: str) -> list[SlackMessage]:
        cid = self.channel_id(channel) or channel
        with self._lock:
            return [m for m in self.messages if m.channel == cid]

    def dms_to(self, email: str) -> list[SlackMessage]:
        user = self._user_by_email(email)
        if user is None:
            return []
        with self._lock:
            dm_ids = {d for d, u in self.dm_channels.items() if u == user["id"]}
            return [m for m in self.messages if m.channel in dm_ids]

    def thread(self, channel: str, ts: str) -> list[SlackMessage]:
        """Replies under the message ``ts`` (without the parent), oldest first."""
        return [m for m in self.messages_in(channel) if m.thread_ts == ts and m.ts != ts]

    def transcript(self, since: int = 0) -> str:
        """Everything posted (from the ``since``-th message on), per conversation, as a person
        would read it (for the demo)."""
        lines: list[str] = []
        with self._lock:
            posted = self.messages[since:]
            conversations = list(dict.fromkeys(m.channel for m in posted))
            for cid in conversations:
                lines.append(self._conversation_name(cid))
                in_channel = [m for m in posted if m.channel == cid]
                for message in in_channel:
                    if message.thread_ts and message.thread_ts != message.ts:
                        continue
                    lines.extend(_render(message, "  "))
                    for reply in in_channel:
                        if reply.thread_ts == message.ts and reply.ts != message.ts:
                            lines.extend(_render(reply, "    ↳ "))
                lines.append("")
        return "\n".join(lines).rstrip() + "\n" if lines else ""

    # -- plumbing ----------------------------------------------------------------------------
    def _add_method(self, method: str, handler: Any) -> None:
        def call(request: Request, match: re.Match[str]) -> Response:
            args = _arguments(request, json_allowed=method in JSON_METHODS)
            if args is None:
                return _error("invalid_form_data")
            wanted = self.app_token if method == "apps.connections.open" else self.token
            auth_error = self._check_token(request, args, wanted)
            if auth_error:
                return _error(auth_error)
            response: Response = handler(args)
            response.headers.setdefault("X-OAuth-Scopes", ",".join(self.scopes))
            return response

        self.route("POST", rf"/api/{re.escape(method)}", call)
        self.route("GET", rf"/api/{re.escape(method)}", call)

    def _check_token(
        self, request: Request, args: dict[str, Any], wanted: str | None = None
    ) -> str | None:
        header = request.headers.get("authorization", "")
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                return "invalid_auth"
            given = value.strip()
        elif isinstance(args.get("token"), str) and not _is_json(request):
            given = args["token"]
        else:
            return "not_authed"
        expected = wanted or self.token
        return None if secrets.compare_digest(given, expected) else "invalid_auth"

    def _next_ts(self) -> str:
        self._seq += 1
        return f"{self._epoch}.{self._seq:06d}"

    def _user_by_email(self, email: str) -> dict[str, str] | None:
        wanted = email.strip().casefold()
        return next((u for u in self.users if u["email"].casefold() == wanted), None)

    def _resolve_channel(self, value: Any) -> str | None:
        if not isinstance(value, str) or not value:
            return None
        cid = self.channel_id(value)
        if cid is not None:
            return cid
        # Posting to a user id delivers to the app's DM with that user.
        if value.startswith("U") and any(u["id"] == value for u in self.users):
            return self._open_dm(value)[0]
        return None

    def _open_dm(self, user_id: str) -> tuple[str, bool]:
        dm = "D" + user_id[1:]
        existed = dm in self.dm_channels
        self.dm_channels[dm] = user_id
        return dm, existed

    def _conversation_name(self, cid: str) -> str:
        if cid in self.channels:
            return self.channels[cid]
        user_id = self.dm_channels.get(cid)
        user = next((u for u in self.users if u["id"] == user_id), None)
        return f"DM @{user['name']} <{user['email']}>" if user else cid

    def _find(self, channel: str, ts: str) -> SlackMessage | None:
        return next((m for m in self.messages if m.channel == channel and m.ts == ts), None)

    # -- methods -----------------------------------------------------------------------------
    def _auth_test(self, args: dict[str, Any]) -> Response:
        return _ok(
            url=f"https://{TEAM.lower()}.slack.com/",
            team=TEAM,
            user=BOT_USER,
            team_id=TEAM_ID,
            user_id=BOT_USER_ID,
            bot_id=BOT_ID,
            is_enterprise_install=False,
        )

    def _post_message(self, args: dict[str, Any]) -> Response:
        channel = self._resolve_channel(args.get("channel"))
        if channel is None:
            return _error("channel_not_found")
        text, blocks, problem = _content(args)
        if problem:
            return problem
        thread_ts = args.get("thread_ts") or None
        if thread_ts:
            # A reply to a reply joins the parent's thread, as in the Slack client. An unknown
            # thread_ts is not an error in chat.postMessage; the reply is simply orphaned.
            parent = self._find(channel, str(thread_ts))
            thread_ts = (parent.thread_ts or parent.ts) if parent else str(thread_ts)
        message = SlackMessage(
            channel=channel,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            unfurl_links=_flag(args.get("unfurl_links")),
            unfurl_media=_flag(args.get("unfurl_media")),
            reply_broadcast=bool(thread_ts) and bool(_flag(args.get("reply_broadcast"))),
        )
        self.messages.append(message)
        return _ok(channel=channel, ts=message.ts, message=_message_json(message))

    def _update(self, args: dict[str, Any]) -> Response:
        # Unlike chat.postMessage, chat.update takes the channel *id* only: a "#name" (or a
        # user id) is not found, as on Slack.
        given = args.get("channel")
        channel = given if given in self.channels or given in self.dm_channels else None
        if channel is None:
            return _error("channel_not_found")
        message = self._find(channel, str(args.get("ts") or ""))
        if message is None:
            return _error("message_not_found")
        blocks, problem = _blocks(args.get("blocks"))
        if problem:
            return problem
        message.updates.append({"text": message.text, "blocks": message.blocks})
        if "text" in args:
            message.text = args.get("text") or ""
        # Slack keeps the old blocks when ``blocks`` is absent; an empty list removes them.
        if "blocks" in args:
            message.blocks = blocks or None
        return _ok(
            channel=channel, ts=message.ts, text=message.text, message=_message_json(message)
        )

    def _lookup_by_email(self, args: dict[str, Any]) -> Response:
        email = args.get("email")
        if not email:
            return _error("invalid_arguments")
        user = self._user_by_email(str(email))
        if user is None:
            return _error("users_not_found")
        return _ok(user=self._user_json(user))  # the same User object users.info answers

    def _post_ephemeral(self, args: dict[str, Any]) -> Response:
        channel = self._resolve_channel(args.get("channel"))
        if channel is None:
            return _error("channel_not_found")
        user = str(args.get("user") or "")
        if not any(u["id"] == user for u in self.users):
            return _error("user_not_in_channel")
        if channel in self.members and user not in self.members[channel]:
            return _error("user_not_in_channel")
        text, blocks, problem = _content(args)
        if problem:
            return problem
        ephemeral = Ephemeral(channel, user, text, blocks, self._next_ts())
        self.ephemerals.append(ephemeral)
        return _ok(message_ts=ephemeral.message_ts)

    def _user_json(self, user: dict[str, Any]) -> dict[str, Any]:
        name = str(user.get("real_name") or user["name"])
        shown = str(user.get("display_name") or name)
        return {
            "id": user["id"],
            "team_id": TEAM_ID,
            "name": user["name"],
            "deleted": False,
            "real_name": name,
            "tz": user.get("tz") or "America/New_York",
            "is_bot": bool(user.get("is_bot")),
            "is_app_user": False,
            "updated": self._epoch,
            "profile": {
                "real_name": name,
                "real_name_normalized": name,
                "display_name": shown,
                "display_name_normalized": shown,
                "email": user.get("email"),
                "avatar_hash": "g0000000000a",
                "title": "",
                "phone": "",
                "skype": "",
                "status_text": "",
                "status_emoji": "",
                "fields": None,
                "team": TEAM_ID,
            },
        }

    def _users_info(self, args: dict[str, Any]) -> Response:
        wanted = str(args.get("user") or "")
        if wanted == BOT_USER_ID:
            bot = {"id": BOT_USER_ID, "name": BOT_USER, "real_name": "SLA monitor", "is_bot": True}
            return _ok(user=self._user_json(bot))
        user = next((u for u in self.users if u["id"] == wanted), None)
        if user is None:
            return _error("user_not_found")
        return _ok(user=self._user_json(user))

    def _conversations_list(self, args: dict[str, Any]) -> Response:
        types = {t.strip() for t in str(args.get("types") or "public_channel").split(",") if t}
        if "public_channel" not in types:
            return _ok(channels=[], response_metadata={"next_cursor": ""})
        page, cursor, problem = _paged(sorted(self.channels), args)
        if problem is not None:
            return problem
        return _ok(
            channels=[self._channel_json(cid) for cid in page],
            response_metadata={"next_cursor": cursor},
        )

    def _channel_json(self, cid: str) -> dict[str, Any]:
        name = self.channels[cid][1:]
        blank = {"value": "", "creator": "", "last_set": 0}
        return {
            "id": cid,
            "name": name,
            "name_normalized": name,
            "created": self._epoch,
            "creator": BOT_USER_ID,
            "is_archived": False,
            "is_channel": True,
            "is_general": False,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_org_shared": False,
            "is_private": False,
            "is_shared": False,
            "is_member": BOT_USER_ID in self.members.get(cid, []),
            "num_members": len(self.members.get(cid, [])),
            "topic": blank,
            "purpose": blank,
        }

    def _conversations_members(self, args: dict[str, Any]) -> Response:
        cid = str(args.get("channel") or "")
        if cid not in self.channels:
            # Like chat.update, this method takes a channel id only.
            return _error("channel_not_found")
        page, cursor, problem = _paged(self.members.get(cid, []), args)
        if problem is not None:
            return problem
        return _ok(members=page, response_metadata={"next_cursor": cursor})

    def _usergroup_users(self, args: dict[str, Any]) -> Response:
        group = str(args.get("usergroup") or "")
        if group not in self.usergroups:
            return _error("no_such_subteam")
        return _ok(users=list(self.usergroups[group]))

    def _views_publish(self, args: dict[str, Any]) -> Response:
        user = str(args.get("user_id") or "")
        if not any(u["id"] == user for u in self.users):
            return _error("not_found")
        view = args.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                return _error("invalid_arguments")
        if not isinstance(view, dict) or view.get("type") != "home":
            return _error("invalid_arguments")
        blocks, problem = _blocks(view.get("blocks") or [], limit=100)
        if problem:
            return problem
        stored = {
            "id": f"V0{len(self.home_views) + 1:08d}",
            "team_id": TEAM_ID,
            "type": "home",
            "blocks": blocks or [],
            "private_metadata": str(view.get("private_metadata") or ""),
            "callback_id": str(view.get("callback_id") or ""),
            "hash": secrets.token_hex(8),
            "app_id": API_APP_ID,
            "bot_id": BOT_ID,
        }
        self.home_views.setdefault(user, []).append(stored)
        return _ok(view=stored)

    def _connections_open(self, args: dict[str, Any]) -> Response:
        """Socket Mode: a one-time WebSocket URL for the app-level token's app."""
        return _ok(url=self.socket_mode.ticket())

    def _conversations_open(self, args: dict[str, Any]) -> Response:
        if args.get("channel"):
            channel = self._resolve_channel(args["channel"])
            return _ok(channel={"id": channel}) if channel else _error("channel_not_found")
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            return _error("users_list_not_supplied")
        if len(users) > 1:
            return _error("not_implemented")  # group DMs: nothing here needs them
        if not any(u["id"] == users[0] for u in self.users):
            return _error("user_not_found")
        dm, existed = self._open_dm(users[0])
        if existed:
            return _ok(no_op=True, already_open=True, channel={"id": dm})
        return _ok(channel={"id": dm})

    def _get_upload_url(self, args: dict[str, Any]) -> Response:
        filename = args.get("filename")
        try:
            length = int(args.get("length"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return _error("invalid_arguments")
        if not filename or length < 0:
            return _error("invalid_arguments")
        file_id = f"F0{len(self.files) + 1:08d}"
        upload = UploadedFile(
            id=file_id, filename=str(filename), length=length, upload_key=secrets.token_hex(12)
        )
        self.files[file_id] = upload
        return _ok(upload_url=f"{self.url}/upload/v1/{upload.upload_key}", file_id=file_id)

    def _upload_bytes(self, request: Request, match: re.Match[str]) -> Response:
        upload = next((f for f in self.files.values() if f.upload_key == match.group(1)), None)
        if upload is None:
            return Response(404, raw=b"Not Found", headers={"Content-Type": "text/plain"})
        upload.content = request.body
        return Response(
            200, raw=f"OK - {len(request.body)}".encode(), headers={"Content-Type": "text/plain"}
        )

    def _complete_upload(self, args: dict[str, Any]) -> Response:
        try:
            wanted = (
                json.loads(args["files"]) if isinstance(args.get("files"), str) else args["files"]
            )
        except (KeyError, ValueError):
            return _error("invalid_arguments")
        uploads = []
        for item in wanted or []:
            upload = self.files.get(str(item.get("id")))
            if upload is None or upload.content is None:
                return _error("file_not_found")
            upload.title = item.get("title") or upload.filename
            uploads.append(upload)
        if not uploads:
            return _error("invalid_arguments")
        channel = None
        if args.get("channel_id"):
            # Unlike chat.postMessage, this method takes ids only; a "#name" is not found.
            given = str(args["channel_id"])
            channel = given if given in self.channels or given in self.dm_channels else None
            if channel is None:
                return _error("channel_not_found")
            comment = args.get("initial_comment") or ""
            for upload in uploads:
                upload.channel, upload.initial_comment = channel, comment
            self.messages.append(
                SlackMessage(
                    channel=channel,
                    ts=self._next_ts(),
                    text=comment,
                    thread_ts=args.get("thread_ts") or None,
                    files=[u.id for u in uploads],
                )
            )
        return _ok(
            files=[
                {
                    "id": u.id,
                    "name": u.filename,
                    "title": u.title,
                    "size": len(u.content or b""),
                    "user": BOT_USER_ID,
                    "channels": [channel] if channel else [],
                }
                for u in uploads
            ]
        )

    def remove_bot(self, channel: str) -> None:
        """The bot is no longer a member of ``channel`` (as after ``/kick``)."""
        cid = self.channel_id(channel)
        if cid is None:
            raise ValueError(f"no channel {channel}")
        with self._lock:
            self.bot_not_in.add(cid)

    def _users_conversations(self, args: dict[str, Any]) -> Response:
        """The channels the bot is a member of (whatever ``user`` says), a page at a time.
        Listing public channels needs ``channels:read``, private ones ``groups:read``; the
        spec's error schema for this method has no ``needed``/``provided``."""
        types = {t.strip() for t in str(args.get("types") or "public_channel").split(",")}
        if types - {"public_channel", "private_channel", "mpim", "im", ""}:
            return _error("invalid_types")
        if any(_LIST_SCOPES.get(kind, "") not in ("", *self.scopes) for kind in types):
            return _error("missing_scope")
        joined = (
            sorted(cid for cid in self.channels if cid not in self.bot_not_in)
            if "public_channel" in types
            else []
        )
        page, cursor, problem = _paged(joined, args)
        if problem is not None:
            return problem
        return _ok(
            channels=[self._channel_json(cid) for cid in page],
            response_metadata={"next_cursor": cursor},
        )

    def _users_list(self, args: dict[str, Any]) -> Response:
        if "users:read" not in self.scopes:
            return _error("missing_scope")
        people = sorted(self.users, key=lambda u: u["id"])
        page, cursor, problem = _paged(people, args)
        if problem is not None:
            return problem
        bot = {"id": BOT_USER_ID, "name": BOT_USER, "email": "", "is_bot": True}
        members = [self._user_json(u) for u in page] or [self._user_json(bot)]
        return _ok(members=members, cache_ts=self._epoch, response_metadata={"next_cursor": cursor})

    # -- vendor-specific error shapes --------------------------------------------------------
    def not_found(self, request: Request) -> Response:
        return Response(404, {"ok": False, "error": "unknown_method", "req_method": request.path})

    def fault_body(self, status: int) -> Any:
        if status == 429:
            return {"ok": False, "error": "ratelimited"}
        return {"ok": False, "error": "internal_error" if status >= 500 else "invalid_request"}


# -- helpers -------------------------------------------------------------------------------------
def _ok(**fields: Any) -> Response:
    return Response(200, {"ok": True, **fields})


def _error(code: str, **fields: Any) -> Response:
    return Response(200, {"ok": False, "error": code, **fields})


def _paged(items: list[Any], args: dict[str, Any]) -> tuple[list[Any], str, Response | None]:
    """One page of ``items`` and the next ``cursor`` (empty on the last page, as Slack answers
    it), or the error: ``limit`` 1 to 1000 (default 100, Slack's maximum), ``cursor`` one this
    emulator gave."""
    try:
        limit = int(args.get("limit") or 100)
    except (TypeError, ValueError):
        return [], "", _error("invalid_limit")
    if not 0 < limit <= 1000:
        return [], "", _error("invalid_limit")
    start = 0
    cursor = str(args.get("cursor") or "")
    if cursor:
        match = re.fullmatch(r"c(\d+)", cursor)
        if match is None or int(match.group(1)) > len(items):
            return [], "", _error("invalid_cursor")
        start = int(match.group(1))
    after = start + limit
    return items[start:after], (f"c{after}" if after < len(items) else ""), None


def _is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("application/json")


def _arguments(request: Request, *, json_allowed: bool = True) -> dict[str, Any] | None:
    """Query string, then the form or JSON body, as Slack merges them (a JSON body only for
    methods that take one; for the others it is not read)."""
    args: dict[str, Any] = {k: v[-1] for k, v in request.query.items()}
    if not request.body:
        return args
    if _is_json(request):
        if not json_allowed:
            return args
        try:
            body = request.json()
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        args.update(body)
    else:
        args.update(request.form())
    return args


def _flag(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true")


def _content(
    args: dict[str, Any],
) -> tuple[str, list[dict[str, Any]] | None, Response | None]:
    """A new message's ``text`` and ``blocks`` as chat.postMessage and chat.postEphemeral
    check them: valid blocks, some text or blocks, text within 40,000 characters."""
    blocks, problem = _blocks(args.get("blocks"))
    text = args.get("text") or ""
    if problem is None and not text and not blocks:
        problem = _error("no_text")
    if problem is None and len(text) > 40_000:
        problem = _error("msg_too_long")
    return text, blocks, problem


def _id_problems(part: dict[str, Any], name: str, seen: set[str], where: str) -> list[str]:
    """A ``block_id`` or ``action_id`` as Block Kit takes it: optional, 1 to 255 characters,
    unique among its kind in the message (``seen`` collects them)."""
    value = part.get(name)
    if value is None:
        return []
    if not isinstance(value, str) or not 0 < len(value) <= 255:
        return [f"must be 1 to 255 characters {where}/{name}]"]
    if value in seen:
        return [f"duplicate {name} {where}/{name}]"]
    seen.add(value)
    return []


def _blocks(value: Any, limit: int = 50) -> tuple[list[dict[str, Any]] | None, Response | None]:
    """Parse and check ``blocks`` against the Block Kit rules Slack enforces
    (https://docs.slack.dev/reference/block-kit/blocks): an error names each problem with a
    JSON pointer, as Slack's ``invalid_blocks`` does."""
    if value is None or value == "":
        return None, None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None, _error("invalid_blocks_format")
    if not isinstance(value, list):
        return None, _error("invalid_blocks_format")
    problems = []
    if len(value) > limit:
        problems.append(f"no more than {limit} items allowed [json-pointer:/blocks]")
    block_ids: set[str] = set()
    for i, block in enumerate(value):
        where = f"[json-pointer:/blocks/{i}"
        if not isinstance(block, dict) or block.get("type") not in _BLOCK_TYPES:
            problems.append(f"unsupported type {where}/type]")
            continue
        problems += _id_problems(block, "block_id", block_ids, where)
        problems.extend(_block_problems(block, where))
    if problems:
        return None, _error("invalid_blocks", errors=problems)
    return value, None


def _text_problems(text: Any, where: str, limit: int, kinds: tuple[str, ...]) -> list[str]:
    if not isinstance(text, dict):
        return [f"must be a text object {where}]"]
    problems = []
    if text.get("type") not in kinds:
        problems.append(f"must be {' or '.join(kinds)} {where}/type]")
    content = text.get("text")
    if not isinstance(content, str) or not content:
        problems.append(f"must be more than 0 characters {where}/text]")
    elif len(content) > limit:
        problems.append(f"must be less than {limit + 1} characters {where}/text]")
    return problems


def _block_problems(block: dict[str, Any], where: str) -> list[str]:
    kind = block["type"]
    problems: list[str] = []
    if kind == "header":
        problems += _text_problems(block.get("text"), f"{where}/text", 150, ("plain_text",))
    elif kind == "section":
        fields = block.get("fields")
        if "text" not in block and not fields:
            problems.append(f"must provide text or fields {where}]")
        if "text" in block:
            problems += _text_problems(
                block["text"], f"{where}/text", 3000, ("plain_text", "mrkdwn")
            )
        if fields is not None:
            if not isinstance(fields, list) or not 0 < len(fields) <= 10:
                problems.append(f"must have 1 to 10 items {where}/fields]")
            else:
                for j, f in enumerate(fields):
                    problems += _text_problems(
                        f, f"{where}/fields/{j}", 2000, ("plain_text", "mrkdwn")
                    )
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 0 < len(elements) <= 10:
            problems.append(f"must have 1 to 10 items {where}/elements]")
        else:
            for j, e in enumerate(elements):
                if isinstance(e, dict) and e.get("type") in ("plain_text", "mrkdwn"):
                    problems += _text_problems(
                        e, f"{where}/elements/{j}", 3000, ("plain_text", "mrkdwn")
                    )
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 0 < len(elements) <= 25:
            problems.append(f"must have 1 to 25 items {where}/elements]")
        else:
            seen: set[str] = set()
            for j, element in enumerate(elements):
                problems += _element_problems(element, f"{where}/elements/{j}", seen)
    if kind == "section" and "accessory" in block:
        problems += _element_problems(block["accessory"], f"{where}/accessory", set())
    return problems


_ELEMENT_TYPES = {"button", "static_select", "overflow"}
"""Interactive elements this emulator checks in detail (the ones the jobs build)."""


def _element_problems(element: Any, where: str, action_ids: set[str]) -> list[str]:
    """An interactive element as Block Kit's element reference limits it: action_id at most
    255 characters and unique in its block; button text 75, value 2,000, url 3,000; a select's
    options 1 to 100, an overflow's 2 to 5; option text 75 and value 150 characters."""
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [f"must be an element {where}]"]
    kind = element["type"]
    if kind not in _ELEMENT_TYPES:
        return []
    problems: list[str] = []
    problems += _id_problems(element, "action_id", action_ids, where)
    if kind == "button":
        problems += _text_problems(element.get("text"), f"{where}/text", 75, ("plain_text",))
        value = element.get("value")
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= 2000):
            problems.append(f"must be 1 to 2000 characters {where}/value]")
        url = element.get("url")
        if url is not None and (not isinstance(url, str) or not 0 < len(url) <= 3000):
            problems.append(f"must be 1 to 3000 characters {where}/url]")
        return problems
    options = element.get("options")
    low, high = (2, 5) if kind == "overflow" else (1, 100)
    if not isinstance(options, list) or not low <= len(options) <= high:
        problems.append(f"must have {low} to {high} items {where}/options]")
        return problems
    if kind == "static_select":
        problems += _text_problems(
            element.get("placeholder"), f"{where}/placeholder", 150, ("plain_text",)
        )
    values: set[str] = set()
    for k, option in enumerate(options):
        at = f"{where}/options/{k}"
        if not isinstance(option, dict):
            problems.append(f"must be an option object {at}]")
            continue
        problems += _text_problems(option.get("text"), f"{at}/text", 75, ("plain_text",))
        value = option.get("value")
        if not isinstance(value, str) or not 0 < len(value) <= 150:
            problems.append(f"must be 1 to 150 characters {at}/value]")
        elif value in values:
            problems.append(f"duplicate option value {at}/value]")
        else:
            values.add(value)
    return problems


def _message_json(message: SlackMessage) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "team": TEAM_ID,
        "text": message.text,
        "ts": message.ts,
    }
    if message.blocks:
        body["blocks"] = message.blocks
    if message.thread_ts:
        body["thread_ts"] = message.thread_ts
    if message.updates:
        body["edited"] = {"user": BOT_USER_ID, "ts": message.ts}
    return body


def blocks_as_text(blocks: list[dict[str, Any]]) -> list[str]:
    """A plain rendering of Block Kit, enough to read a demo transcript."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        text = (
            (block.get("text") or {}).get("text", "") if isinstance(block.get("text"), dict) else ""
        )
        if kind == "header":
            lines.append(f"== {text} ==")
        elif kind == "section":
            if text:
                lines.extend(text.splitlines())
            for f in block.get("fields") or []:
                lines.append("  " + " ".join(str(f.get("text", "")).splitlines()))
        elif kind == "context":
            lines.append(" · ".join(str(e.get("text", "")) for e in block.get("elements") or []))
        elif kind == "divider":
            lines.append("-" * 24)
    return lines


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _render(message: SlackMessage, prefix: str) -> list[str]:
    # What a reader sees in the Slack client: entities decoded, blocks rather than fallback.
    body = blocks_as_text(message.blocks) if message.blocks else message.text.splitlines()
    body = [_unescape(line) for line in body]
    if message.files:
        body = [*body, f"[file {', '.join(message.files)}]"]
    edited = " (edited)" if message.updates else ""
    head = f"{prefix}[{message.ts}]{edited} "
    pad = " " * len(head)
    body = body or [""]
    return [head + body[0], *(pad + line for line in body[1:])]
