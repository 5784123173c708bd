"""Jira Service Management: ``/rest/servicedeskapi`` request comments, organizations, the
service desks and their request types."""

from __future__ import annotations

import re
from typing import Any

from emulators.base import Request, Response
from emulators.jira.model import (
    CommentState,
    HttpError,
    IssueState,
    ServiceDeskError,
    sd_time,
)

INVALID_JSON_KEY = "sd.rest.error.invalid.request"


class ServiceDeskEndpoints:
    """Jira Service Management: request comments and organizations."""

    ROUTES = (
        ("GET", r"/rest/servicedeskapi/request/([^/]+)/comment", "_sd_get_comments"),
        ("POST", r"/rest/servicedeskapi/request/([^/]+)/comment", "_sd_post_comment"),
        ("GET", r"/rest/servicedeskapi/organization", "_sd_organizations"),
        ("GET", r"/rest/servicedeskapi/requesttype", "_sd_request_types"),
        ("GET", r"/rest/servicedeskapi/servicedesk", "_sd_service_desks"),
        ("GET", r"/rest/servicedeskapi/servicedesk/([^/]+)/requesttype", "_sd_desk_request_types"),
    )

    def _sd_desks(self) -> dict[str, str]:
        """Service desk id -> its project's key: one desk per service desk project, numbered
        in the order the desk declares them (the first is desk 1, as request types say)."""
        keys = [k for k, p in self._projects.items() if p["type"] == "service_desk"]
        return {str(n): key for n, key in enumerate(keys, start=1)}

    def _sd_page(self, request: Request, items: list[Any], path: str) -> dict[str, Any]:
        start = max(0, self._sd_int(request, "start", 0))
        limit = max(1, min(self._sd_int(request, "limit", 50), 100))
        page = items[start : start + limit]
        return {
            "_expands": [],
            "size": len(page),
            "start": start,
            "limit": limit,
            "isLastPage": start + len(page) >= len(items),
            "_links": {"base": self.base, "context": "", "self": f"{self.base}{path}"},
            "values": page,
        }

    def _sd_service_desks(self, request: Request, m: re.Match[str]) -> Response:
        desks = []
        for desk_id, key in self._sd_desks().items():
            desks.append(
                {
                    "id": desk_id,
                    "projectId": self._project_json(key, "2")["id"],
                    "projectName": self._projects[key]["name"],
                    "projectKey": key,
                    "_links": {"self": f"{self.base}/rest/servicedeskapi/servicedesk/{desk_id}"},
                }
            )
        return Response(200, self._sd_page(request, desks, "/rest/servicedeskapi/servicedesk"))

    def _sd_desk_request_types(self, request: Request, m: re.Match[str]) -> Response:
        """A service desk's request types: those its project declares and those its tickets
        carry, filtered by ``searchQuery`` like the site-wide search."""
        key = self._sd_desks().get(m.group(1))
        if key is None:
            raise ServiceDeskError(
                404,
                f"The service desk {m.group(1)} does not exist or you do not have access to it.",
                "sd.servicedesk.error.notFound",
            )
        names = dict.fromkeys(self._projects[key]["request_types"])
        names.update(
            dict.fromkeys(
                i.request_type for i in self._issues.values() if i.project == key and i.request_type
            )
        )
        query = (request.arg("searchQuery") or "").casefold()
        chosen = [
            n
            for n in sorted(names, key=self._request_type_id)
            if not query
            or n.casefold().startswith(query)
            or any(w.startswith(query) for w in n.casefold().split())
        ]
        path = f"/rest/servicedeskapi/servicedesk/{m.group(1)}/requesttype"
        values = [self._request_type_json(n) for n in chosen]
        return Response(200, self._sd_page(request, values, path))

    def _sd_request_types(self, request: Request, m: re.Match[str]) -> Response:
        """Every customer request type, filtered by ``searchQuery`` (matched against the
        start of the name or of any of its words, case aside), a page at a time."""
        start = max(0, self._sd_int(request, "start", 0))
        limit = max(1, min(self._sd_int(request, "limit", 50), 100))
        query = (request.arg("searchQuery") or "").casefold()
        names = sorted(self._request_type_names.values(), key=self._request_type_id)

        def matches(name: str) -> bool:
            folded = name.casefold()
            return folded.startswith(query) or any(w.startswith(query) for w in folded.split())

        chosen = [n for n in names if not query or matches(n)]
        page = chosen[start : start + limit]
        return Response(
            200,
            {
                "_expands": [],
                "size": len(page),
                "start": start,
                "limit": limit,
                "isLastPage": start + len(page) >= len(chosen),
                "_links": {
                    "base": self.base,
                    "context": "",
                    "self": f"{self.base}/rest/servicedeskapi/requesttype",
                },
                "values": [self._request_type_json(n) for n in page],
            },
        )

    def _sd_issue(self, ref: str) -> IssueState:
        try:
            issue = self._get(ref)
        except HttpError:
            issue = None
        if issue is None or self._projects[issue.project]["type"] != "service_desk":
            # An issue of a project that is not a service desk is no customer request either.
            raise ServiceDeskError(
                404,
                "The request could not be found or you do not have permission to view it.",
                "sd.customerview.error.issueNotFound",
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
        if user.get("email") and not user.get("hide_email"):
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
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ServiceDeskError(400, "The request body is not valid JSON.", INVALID_JSON_KEY)
        unknown = sorted(set(body) - {"body", "public"})
        if unknown:
            # CommentCreateDTO has body and public only (additionalProperties: false).
            raise ServiceDeskError(
                400, f"Unrecognized field(s): {', '.join(unknown)}.", INVALID_JSON_KEY
            )
        text = body.get("body")
        if not isinstance(text, str) or not text.strip():
            raise ServiceDeskError(
                400, "The comment body must not be empty.", "sd.comment.body.empty"
            )
        public = body.get("public")
        if not isinstance(public, bool):
            # "missing the required `public`" is the spec's own example of a 400.
            raise ServiceDeskError(
                400, "'public' is required and must be true or false.", "sd.comment.public.invalid"
            )
        comment = self._add_comment(issue, text, public=public)
        return Response(201, self._sd_comment_json(issue, comment))

    def _sd_get_comments(self, request: Request, m: re.Match[str]) -> Response:
        issue = self._sd_issue(m.group(1))
        start = max(0, self._sd_int(request, "start", 0))
        limit = max(1, min(self._sd_int(request, "limit", 50), 100))
        show_public = self._sd_bool(request, "public")
        show_internal = self._sd_bool(request, "internal")
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

    @staticmethod
    def _sd_int(request: Request, name: str, default: int) -> int:
        value = request.arg(name)
        if value is None or value == "":
            return default
        if not value.lstrip("-").isdigit():
            raise ServiceDeskError(400, f"'{name}' must be a number.", INVALID_JSON_KEY)
        return int(value)

    @staticmethod
    def _sd_bool(request: Request, name: str) -> bool:
        value = (request.arg(name) or "true").lower()
        if value not in ("true", "false"):
            raise ServiceDeskError(400, f"'{name}' must be true or false.", INVALID_JSON_KEY)
        return value == "true"

    def _sd_organizations(self, request: Request, m: re.Match[str]) -> Response:
        start = max(0, self._sd_int(request, "start", 0))
        limit = max(1, min(self._sd_int(request, "limit", 50), 100))
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
