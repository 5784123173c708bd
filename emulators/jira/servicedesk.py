"""Jira Service Management: ``/rest/servicedeskapi`` request comments and organizations."""

from __future__ import annotations

import re
from typing import Any

from emulators.base import Request, Response
from emulators.jira.model import (
    CommentState,
    HttpError,
    IssueState,
    int_arg,
    sd_time,
)


class ServiceDeskEndpoints:
    """Jira Service Management: request comments and organizations."""

    ROUTES = (
        ("GET", r"/rest/servicedeskapi/request/([^/]+)/comment", "_sd_get_comments"),
        ("POST", r"/rest/servicedeskapi/request/([^/]+)/comment", "_sd_post_comment"),
        ("GET", r"/rest/servicedeskapi/organization", "_sd_organizations"),
    )

    def _sd_issue(self, ref: str) -> IssueState:
        try:
            issue = self._get(ref)
        except HttpError:
            issue = None
        if issue is None or self._projects[issue.project]["type"] != "service_desk":
            raise HttpError(
                404, ["Request does not exist or you do not have permission to see it."]
            )
        return issue

    def _sd_comment_json(self, issue: IssueState, c: CommentState) -> dict[str, Any]:
        user = self._users.get(c.author or "") or {}
        author = {
            "accountId": c.author,
            "displayName": user.get("display_name"),
            "active": True,
            "timeZone": user.get("time_zone") or "UTC",
            "_links": {"self": f"{self.base}/rest/api/2/user?accountId={c.author}"},
        }
        if user.get("email"):
            author["emailAddress"] = user["email"]
        return {
            "_expands": ["attachment", "renderedBody"],
            "id": c.id,
            "body": c.body,
            "public": c.public,
            "author": author,
            "created": sd_time(c.created),
            "_links": {
                "self": f"{self.base}/rest/servicedeskapi/request/{issue.id}/comment/{c.id}"
            },
        }

    def _sd_post_comment(self, request: Request, m: re.Match[str]) -> Response:
        issue = self._sd_issue(m.group(1))
        body = self._payload(request)
        text = body.get("body")
        if not isinstance(text, str) or not text.strip():
            return Response(
                400,
                {
                    "errorMessage": "The comment body must not be empty.",
                    "i18nErrorMessage": {"i18nKey": "sd.comment.body.empty", "parameters": []},
                },
            )
        public = body.get("public", True)
        if not isinstance(public, bool):
            return Response(
                400,
                {
                    "errorMessage": "'public' must be true or false.",
                    "i18nErrorMessage": {"i18nKey": "sd.comment.public.invalid", "parameters": []},
                },
            )
        comment = self._add_comment(issue, text, public=public)
        return Response(201, self._sd_comment_json(issue, comment))

    def _sd_get_comments(self, request: Request, m: re.Match[str]) -> Response:
        issue = self._sd_issue(m.group(1))
        start = max(0, int_arg(request.arg("start"), 0, "start"))
        limit = max(1, min(int_arg(request.arg("limit"), 50, "limit"), 100))
        show_public = (request.arg("public") or "true").lower() != "false"
        show_internal = (request.arg("internal") or "true").lower() != "false"
        chosen = [c for c in issue.comments if (show_public if c.public else show_internal)]
        page = chosen[start : start + limit]
        base = f"{self.base}/rest/servicedeskapi/request/{issue.id}/comment"
        return Response(
            200,
            {
                "_expands": [],
                "size": len(page),
                "start": start,
                "limit": limit,
                "isLastPage": start + len(page) >= len(chosen),
                "_links": {"base": self.base, "context": "", "self": base},
                "values": [self._sd_comment_json(issue, c) for c in page],
            },
        )

    def _sd_organizations(self, request: Request, m: re.Match[str]) -> Response:
        start = max(0, int_arg(request.arg("start"), 0, "start"))
        limit = max(1, min(int_arg(request.arg("limit"), 50, "limit"), 100))
        orgs = sorted(self._orgs.items(), key=lambda kv: int(kv[1]) if kv[1].isdigit() else 0)
        page = orgs[start : start + limit]
        return Response(
            200,
            {
                "_expands": [],
                "size": len(page),
                "start": start,
                "limit": limit,
                "isLastPage": start + len(page) >= len(orgs),
                "_links": {
                    "base": self.base,
                    "context": "",
                    "self": f"{self.base}/rest/servicedeskapi/organization",
                },
                "values": [
                    {
                        "id": oid,
                        "name": name,
                        "_links": {"self": f"{self.base}/rest/servicedeskapi/organization/{oid}"},
                    }
                    for name, oid in page
                ],
            },
        )
