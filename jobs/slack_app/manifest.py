"""The Slack app this listener is: scopes, events and features, as a Slack app manifest
(https://docs.slack.dev/reference/app-manifest) and as the paragraph the README gives.

The bot scopes are those of every Web API method the jobs and the listener call (the tests
check the emulator saw no other method); the app-level token needs ``connections:write``
for Socket Mode.
"""

from __future__ import annotations

from typing import Any

BOT_SCOPES: dict[str, str] = {
    "chat:write": "post and update alerts, answer a click (chat.postMessage, chat.update, "
    "chat.postEphemeral)",
    "im:write": "open a DM (conversations.open): assignees, and a clicker outside the channel",
    "users:read": "who clicked (users.info)",
    "users:read.email": "their email, to find their Jira account (users.info, users.lookupByEmail)",
    "channels:read": "the alert channel's id and members (conversations.list, "
    "conversations.members)",
    "usergroups:read": "the members of slack_app.user_group (usergroups.users.list)",
    "files:write": "the SLA report's chart (files.getUploadURLExternal, "
    "files.completeUploadExternal)",
}
METHOD_SCOPES: dict[str, str] = {
    "auth.test": "(any token)",
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.open": "im:write",
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
    "conversations.list": "channels:read",
    "conversations.members": "channels:read",
    "usergroups.users.list": "usergroups:read",
    "views.publish": "(no scope: the app's own Home tab)",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
"""Every Web API method called, and the scope it needs."""
APP_TOKEN_SCOPES = ("connections:write",)
EVENTS = ("app_home_opened",)


def app_manifest(*, socket_mode: bool = True, request_url: str | None = None) -> dict[str, Any]:
    """A manifest to create the app from (api.slack.com/apps > Create New App > From a
    manifest). HTTP mode needs ``request_url`` (``https://host/slack/events``)."""
    if not socket_mode and not request_url:
        raise ValueError("HTTP mode needs the Request URL Slack will call")
    interactivity: dict[str, Any] = {"is_enabled": True}
    events: dict[str, Any] = {"bot_events": list(EVENTS)}
    if not socket_mode:
        interactivity["request_url"] = request_url
        events["request_url"] = request_url
    return {
        "display_information": {
            "name": "SLA monitor",
            "description": "Support desk SLA alerts you can act on",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": "sla-monitor", "always_online": True},
        },
        "oauth_config": {"scopes": {"bot": sorted(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }
