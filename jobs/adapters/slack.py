"""Slack through the official ``slack_sdk.WebClient``: post, update, DM, upload, auth check;
and for acting from Slack: ephemeral answers, the Home tab, who a user is and who is in a
channel or a user group.

slack-sdk's own retry handlers are switched off so the shared policy in `jobs.adapters.http`
decides (one budget for the whole run), and every HTTP request is counted for the run report.
The bot token lives only inside the WebClient: errors are rebuilt from the Slack error code,
never from the SDK exception, whose response object carries the request headers.
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import re
import urllib.error
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError

from jobs.adapters.http import (
    CallCounter,
    CredentialError,
    PermanentError,
    RetryBudget,
    TransientError,
    call_with_retry,
    parse_retry_after,
)
from jobs.adapters.pacing import ChannelPacer
from jobs.render.slack import reduced, within_limits

log = logging.getLogger(__name__)

SYSTEM = "slack"
DEFAULT_API_URL = WebClient.BASE_URL

_CREDENTIAL_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
# Documented as "likely transient, on our end" (https://api.slack.com/web#errors): worth a retry.
_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "service_unavailable", "request_timeout"}
)


@dataclass(frozen=True)
class SlackUser:
    """A workspace member as users.info tells (the email needs ``users:read.email``)."""

    id: str
    name: str
    """The handle (``maya.patel``)."""
    real_name: str
    display_name: str
    email: str | None
    is_bot: bool
    deleted: bool
    tz: str | None = None

    @property
    def shown(self) -> str:
        """What people call them in Slack: the display name, else the real name, else the handle."""
        return self.display_name or self.real_name or self.name


@dataclass(frozen=True)
class SlackAnswer:
    """A read method's answer, and the scopes granted to the token as Slack reports them with
    every Web API answer (the ``X-OAuth-Scopes`` header; None when an answer lacks it)."""

    data: dict[str, Any]
    scopes: frozenset[str] | None


@dataclass(frozen=True)
class MessageRef:
    """Where a message lives: the channel *id* Slack answered with and the message ``ts``."""

    channel: str
    ts: str


class _CountingWebClient(WebClient):
    """A WebClient that counts each HTTP request it really sends (API calls and file bytes),
    and sends the API calls over the process's pooled connections to Slack
    (`jobs.adapters.http.connection_pool`) instead of a new urllib connection each."""

    def __init__(self, *, counter: CallCounter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._counter = counter
        self._session: Any = None

    def _perform_urllib_http_request_internal(self, url: str, req: Any) -> dict[str, Any]:
        self._counter.add(SYSTEM)
        if (
            not url.lower().startswith(("https://", "http://"))
            or self.proxy is not None
            or self.ssl is not None
        ):
            return super()._perform_urllib_http_request_internal(url, req)
        return self._pooled(url, req)

    def _pooled(self, url: str, req: Any) -> dict[str, Any]:
        """The request over the pool, answered in urllib's terms (what the SDK reads): a
        dict for a 2xx, `urllib.error.HTTPError` with the body and headers otherwise."""
        import email.message

        import requests
        from requests.utils import get_environ_proxies

        from jobs.adapters.http import connection_pool

        if self._session is None:
            session = requests.Session()
            # No .netrc: it would replace the bot token's Authorization header. Proxies from
            # the environment, as urllib takes them (no_proxy included), per request below.
            session.trust_env = False
            for prefix in ("https://", "http://"):
                session.mount(prefix, connection_pool(SYSTEM))
            self._session = session
        response = self._session.post(
            url,
            data=req.data,
            headers=dict(req.header_items()),
            timeout=self.timeout,
            allow_redirects=False,
            proxies=get_environ_proxies(url),
        )
        headers = email.message.Message()
        for key, value in response.headers.items():
            headers[key] = value
        if 200 <= response.status_code < 300:
            charset = headers.get_content_charset() or "utf-8"
            return {
                "status": response.status_code,
                "headers": dict(response.headers),
                "body": response.content.decode(charset),
            }
        raise urllib.error.HTTPError(
            url, response.status_code, response.reason or "", headers, io.BytesIO(response.content)
        )

    def _upload_file(self, **kwargs: Any) -> Any:
        self._counter.add(SYSTEM)
        return super()._upload_file(**kwargs)


class SlackAdapter:
    def __init__(
        self,
        token: str,
        *,
        counter: CallCounter,
        budget: RetryBudget,
        base_url: str | None = None,
        timeout: float = 15.0,
        pacer: ChannelPacer | None = None,
    ) -> None:
        if not token or not token.strip():
            raise CredentialError(SYSTEM, "SLACK_BOT_TOKEN is empty")
        self._budget = budget
        self._pacer = pacer if pacer is not None else ChannelPacer()
        self._client = _CountingWebClient(
            counter=counter,
            token=token,
            base_url=base_url or DEFAULT_API_URL,
            timeout=timeout,  # urllib accepts float seconds
            retry_handlers=[],
        )
        self._user_ids: dict[str, str | None] = {}
        self._dm_channels: dict[str, str] = {}
        self._channel_ids: dict[str, str] = {}
        """Channel name -> id, as chat.postMessage answered."""

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        counter: CallCounter,
        budget: RetryBudget,
        timeout: float = 15.0,
        pacer: ChannelPacer | None = None,
    ) -> SlackAdapter:
        token = env.get("SLACK_BOT_TOKEN", "")
        if not token.strip():
            raise CredentialError(
                SYSTEM, "SLACK_BOT_TOKEN is not set (a bot token, xoxb-...; see .env.example)"
            )
        return cls(
            token,
            counter=counter,
            budget=budget,
            base_url=env.get("SLACK_API_URL") or None,
            timeout=timeout,
            pacer=pacer,
        )

    def __repr__(self) -> str:  # never show the token, even in a debugger or a log line
        return f"SlackAdapter(base_url={self._client.base_url!r})"

    # -- messages ----------------------------------------------------------------------------
    def post(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> MessageRef:
        """Post to a channel (name or id) or thread; ``text`` is the notification fallback.
        ``broadcast`` shows a thread reply in the channel too (``reply_broadcast``).

        The message is cut to Slack's limits first; one Slack refuses anyway (``invalid_blocks``,
        ``msg_too_long``) is sent again as its text alone: nothing was posted, so this is
        no repeat, and the other lines of a grouped message still go out."""
        extra: dict[str, Any] = {"reply_broadcast": True} if thread_ts and broadcast else {}

        def send(text: str, blocks: list[dict[str, Any]] | None) -> Any:
            return self._call(
                "chat.postMessage",
                lambda: self._client.chat_postMessage(
                    channel=channel,
                    text=text,
                    blocks=blocks,
                    thread_ts=thread_ts,
                    **extra,
                    # A ticket link must not expand into a preview of a customer's document.
                    unfurl_links=False,
                    unfurl_media=False,
                ),
                about=channel,
                pace=channel,
            )

        response = _reducing(send, text, blocks, "chat.postMessage", channel)
        ref = MessageRef(
            channel=_answer_text(response, "chat.postMessage", "channel"),
            ts=_answer_text(response, "chat.postMessage", "ts"),
        )
        self._channel_ids[channel] = ref.channel
        self._pacer.same_channel(channel, ref.channel)
        return ref

    def update(
        self, ref: MessageRef, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> MessageRef:
        def send(text: str, blocks: list[dict[str, Any]] | None) -> Any:
            return self._call(
                "chat.update",
                lambda: self._client.chat_update(
                    channel=ref.channel, ts=ref.ts, text=text, blocks=blocks
                ),
                about=f"{ref.channel} {ref.ts}",
                pace=ref.channel,
            )

        response = _reducing(send, text, blocks, "chat.update", ref.channel)
        return MessageRef(
            channel=_answer_text(response, "chat.update", "channel"),
            ts=_answer_text(response, "chat.update", "ts"),
        )

    def user_id(self, email: str) -> str | None:
        """The Slack user id for an email, or None if nobody has it; cached (misses too)."""
        key = email.strip().casefold()
        if key not in self._user_ids:
            try:
                response = self._call(
                    "users.lookupByEmail",
                    lambda: self._client.users_lookupByEmail(email=email.strip()),
                    about=email,
                )
                self._user_ids[key] = _answer_text(response, "users.lookupByEmail", "user", "id")
            except SlackError as exc:
                if exc.code != "users_not_found":
                    raise
                self._user_ids[key] = None
        return self._user_ids[key]

    def dm(self, email: str, text: str, blocks: list[dict[str, Any]] | None = None) -> MessageRef:
        """A direct message from the bot; PermanentError if no Slack user has this email."""
        user = self.user_id(email)
        if user is None:
            raise PermanentError(
                SYSTEM,
                f"no Slack user has the email {email} (users.lookupByEmail: users_not_found)",
            )
        if user not in self._dm_channels:
            response = self._call(
                "conversations.open",
                lambda: self._client.conversations_open(users=[user]),
                about=email,
            )
            self._dm_channels[user] = _answer_text(response, "conversations.open", "channel", "id")
        return self.post(self._dm_channels[user], text, blocks)

    def upload_file(
        self,
        channel: str,
        content: bytes,
        filename: str,
        title: str,
        initial_comment: str = "",
        *,
        thread_ts: str | None = None,
    ) -> None:
        """Share a file in a channel (or in a message's thread) via files_upload_v2.

        files.completeUploadExternal accepts only a channel *id*. For a channel name we have
        not posted to yet, the comment (or the title) is posted first, which tells us the id,
        and the file goes into that message's thread; no channels:read scope is needed.
        """
        channel_id = self._channel_ids.get(channel) or (
            channel if _CHANNEL_ID.match(channel) else None
        )
        comment: str | None = initial_comment or None
        if channel_id is None:
            ref = self.post(channel, initial_comment or title)
            channel_id, thread_ts, comment = ref.channel, ref.ts, None
        resolved = channel_id
        self._call(
            "files_upload_v2",
            lambda: self._client.files_upload_v2(
                channel=resolved,
                content=content,
                filename=filename,
                title=title,
                initial_comment=comment,
                thread_ts=thread_ts,
            ),
            about=channel,
        )

    def post_ephemeral(
        self, channel: str, user: str, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> str:
        """A message in ``channel`` only ``user`` sees (it is not kept: it vanishes on reload).
        Returns its ``message_ts``; `SlackError` ``user_not_in_channel`` when they are not in it."""
        clipped, kept = within_limits(text, blocks)
        response = self._call(
            "chat.postEphemeral",
            lambda: self._client.chat_postEphemeral(
                channel=channel, user=user, text=clipped, blocks=kept
            ),
            about=channel,
        )
        return _answer_text(response, "chat.postEphemeral", "message_ts")

    def user_info(self, user_id: str) -> SlackUser:
        """users.info; `SlackError` ``user_not_found`` for an unknown id."""
        response = self._call(
            "users.info", lambda: self._client.users_info(user=user_id), about=user_id
        )
        data: Any = getattr(response, "data", response)
        user = data.get("user") if isinstance(data, dict) else None
        if not isinstance(user, dict) or not isinstance(user.get("id"), str):
            raise PermanentError(SYSTEM, "users.info: the answer has no user")
        raw_profile = user.get("profile")
        profile: dict[str, Any] = raw_profile if isinstance(raw_profile, dict) else {}
        email = profile.get("email")
        return SlackUser(
            id=user["id"],
            name=str(user.get("name") or ""),
            real_name=str(profile.get("real_name") or user.get("real_name") or ""),
            display_name=str(profile.get("display_name") or ""),
            email=email if isinstance(email, str) and email else None,
            is_bot=bool(user.get("is_bot")),
            deleted=bool(user.get("deleted")),
            tz=user.get("tz") if isinstance(user.get("tz"), str) else None,
        )

    def channel_id(self, name: str) -> str | None:
        """The id of the public channel ``name`` (``#support-sla`` or an id), by
        conversations.list (``channels:read``); None when there is none."""
        if _CHANNEL_ID.match(name):
            return name
        wanted = name.removeprefix("#")
        if name in self._channel_ids:
            return self._channel_ids[name]
        for page in self._pages(
            "conversations.list",
            lambda cursor: self._client.conversations_list(
                types="public_channel", exclude_archived=True, limit=200, cursor=cursor
            ),
            "channels",
        ):
            for channel in page:
                if isinstance(channel, dict) and channel.get("name") == wanted:
                    found = str(channel["id"])
                    self._channel_ids[name] = found
                    return found
        return None

    def channel_members(self, channel_id: str) -> set[str]:
        """User ids of everyone in the channel (conversations.members, every page)."""
        members: set[str] = set()
        for page in self._pages(
            "conversations.members",
            lambda cursor: self._client.conversations_members(
                channel=channel_id, limit=1000, cursor=cursor
            ),
            "members",
        ):
            members.update(str(m) for m in page if isinstance(m, str))
        return members

    def group_members(self, group_id: str) -> set[str]:
        """User ids of a user group's members (usergroups.users.list, ``usergroups:read``)."""
        response = self._call(
            "usergroups.users.list",
            lambda: self._client.usergroups_users_list(usergroup=group_id),
            about=group_id,
        )
        data: Any = getattr(response, "data", response)
        users = data.get("users") if isinstance(data, dict) else None
        if not isinstance(users, list):
            raise PermanentError(SYSTEM, "usergroups.users.list: the answer has no users list")
        return {str(u) for u in users if isinstance(u, str)}

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        """views.publish: the Home tab ``user_id`` sees. The view goes form-encoded, as a JSON
        string, the way the method's reference types it."""
        self._call(
            "views.publish",
            lambda: self._client.api_call(
                "views.publish",
                data={"user_id": user_id, "view": json.dumps(view, separators=(",", ":"))},
            ),
            about=user_id,
        )

    def _pages(
        self, method: str, fetch: Callable[[str | None], Any], key: str
    ) -> Iterator[list[Any]]:
        cursor: str | None = None
        for _ in range(1000):  # a cursor that never ends is a broken answer, not a big team
            at = cursor
            response = self._call(method, partial(fetch, at))
            data: Any = getattr(response, "data", response)
            items = data.get(key) if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise PermanentError(SYSTEM, f"{method}: the answer has no {key} list")
            yield items
            meta = data.get("response_metadata")
            cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
            if not cursor:
                return
        raise PermanentError(SYSTEM, f"{method}: more than 1,000 pages")

    def check_auth(self) -> str:
        """``team/bot`` for the token; CredentialError if Slack rejects it."""
        response = self._call("auth.test", self._client.auth_test)
        team = _answer_text(response, "auth.test", "team")
        return f"{team}/{_answer_text(response, 'auth.test', 'user')}"

    # -- plumbing ----------------------------------------------------------------------------
    def _call(
        self, method: str, fn: Callable[[], Any], about: str = "", pace: str | None = None
    ) -> Any:
        """``pace``: the channel a message write goes to; it waits for the channel's slot, and
        a 429's ``Retry-After`` closes the channel for the whole process until it passes."""
        lane = self._channel_ids.get(pace, pace) if pace is not None else None

        def attempt() -> Any:
            if lane is not None:
                self._pacer.wait(lane)
            try:
                return fn()
            except SlackApiError as exc:
                error = _map_api_error(method, exc, about)
                if lane is not None and isinstance(error, TransientError) and error.retry_after:
                    self._pacer.back_off(lane, error.retry_after)
                raise error from None
            except SlackRequestError as exc:
                raise PermanentError(SYSTEM, f"{method}: {_safe(str(exc))}") from None
            except urllib.error.HTTPError as exc:
                # Only the raw file upload (step 2 of files_upload_v2) raises this directly.
                raise _map_status(method, exc.code, exc.headers.get("Retry-After"), about) from None
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                raise TransientError(SYSTEM, f"{method}: connection failed ({exc})") from None
            except SlackClientError as exc:
                raise PermanentError(SYSTEM, f"{method}: {_safe(str(exc))}") from None
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                # An answer of the wrong shape (the SDK reads its own answers too): a failure
                # to report, not a traceback.
                raise PermanentError(
                    SYSTEM, f"{method}: unexpected answer shape ({type(exc).__name__})"
                ) from None

        return call_with_retry(SYSTEM, attempt, self._budget)

    # -- reads for the preflight (`jobs.doctor`) ---------------------------------------------
    def read(self, method: str, **params: str) -> SlackAnswer:
        """Call a Web API method that only reads (``auth.test``, ``users.conversations``...)
        with form arguments, under the shared retry policy and error mapping; its answer, with
        the scopes the answer says the token has."""
        response = self._call(method, lambda: self._client.api_call(method, params=params))
        data = getattr(response, "data", None)
        if not isinstance(data, dict):
            raise PermanentError(SYSTEM, f"{method}: the answer is not an object")
        headers = getattr(response, "headers", None) or {}
        raw = next((v for k, v in headers.items() if str(k).lower() == "x-oauth-scopes"), None)
        if isinstance(raw, list):
            raw = raw[0] if raw else None
        scopes = None
        if isinstance(raw, str):
            scopes = frozenset(s.strip() for s in raw.split(",") if s.strip())
        return SlackAnswer(data, scopes)


def _answer_text(response: Any, method: str, *path: str) -> str:
    """A non-empty string at ``path`` in an ``ok`` answer, or a PermanentError naming it:
    a message id or channel we cannot read must not be recorded as sent somewhere."""
    value: Any = getattr(response, "data", response)
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    if not isinstance(value, str) or not value:
        where = ".".join(path)
        raise PermanentError(SYSTEM, f"{method}: the answer has no {where} (got {value!r:.40})")
    return value


_REFUSED_AS_TOO_BIG = frozenset({"invalid_blocks", "msg_too_long", "invalid_blocks_format"})


def _reducing(
    send: Callable[[str, list[dict[str, Any]] | None], Any],
    text: str,
    blocks: list[dict[str, Any]] | None,
    method: str,
    where: str,
) -> Any:
    """``send`` the message within Slack's limits; if Slack still refuses its shape or size,
    send it reduced to its text (see `jobs.render.slack.reduced`)."""
    text, blocks = within_limits(text, blocks)
    try:
        return send(text, blocks)
    except SlackError as exc:
        if exc.code not in _REFUSED_AS_TOO_BIG:
            raise
        log.warning("%s to %s refused (%s): sent again as plain text", method, where, exc.code)
        return send(*reduced(text))


class SlackError(PermanentError):
    """Slack answered ``ok: false`` with an error code that retrying will not fix."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(SYSTEM, message, status)
        self.code = code


def _map_api_error(method: str, exc: SlackApiError, about: str) -> Exception:
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = response.data if isinstance(getattr(response, "data", None), dict) else {}
    code = str(data.get("error") or "")
    headers = {k.lower(): v for k, v in (getattr(response, "headers", None) or {}).items()}
    retry_after = headers.get("retry-after")
    if isinstance(retry_after, list):
        retry_after = retry_after[0] if retry_after else None
    if status == 429 or status >= 500 or code in _TRANSIENT_ERRORS:
        return _map_status(method, status or 200, retry_after, about, code)
    if code in _CREDENTIAL_ERRORS or status == 401:
        return CredentialError(
            SYSTEM,
            f"{method}: Slack rejected the bot token ({code or status}); "
            "check SLACK_BOT_TOKEN and that the app is still installed",
            status,
        )
    detail = f"{method}: {code or f'HTTP {status}'}"
    if about:
        detail += f" ({about})"
    if code == "missing_scope" and data.get("needed"):
        detail += f"; the Slack app needs the scope {data['needed']}"
    if code == "not_in_channel":
        detail += "; invite the bot to the channel"
    return SlackError(code, detail, status)


def _map_status(
    method: str, status: int, retry_after: str | None, about: str, code: str = ""
) -> Exception:
    if status == 429 or status >= 500 or code in _TRANSIENT_ERRORS:
        what = code or ("rate limited" if status == 429 else f"HTTP {status}")
        return TransientError(
            SYSTEM, f"{method}: {what}", status, retry_after=parse_retry_after(retry_after)
        )
    if status in (401, 403):
        return CredentialError(SYSTEM, f"{method}: HTTP {status}", status)
    suffix = f" ({about})" if about else ""
    return PermanentError(SYSTEM, f"{method}: HTTP {status}{suffix}", status)


def _safe(message: str) -> str:
    # SDK request errors quote arguments, never headers; keep them short for the run report.
    return message.splitlines()[0][:200] if message else "request rejected"
