"""Platform comments: ``/rest/api/{2,3}/issue/{key}/comment``."""

from __future__ import annotations

import re

from emulators.adf import adf_to_text
from emulators.base import Request, Response
from emulators.jira.model import (
    COMMENT_PAGE_CAP,
    CommentState,
    HttpError,
    IssueState,
    int_arg,
)


class CommentEndpoints:
    """Platform comments (``/rest/api/{2,3}/issue/{key}/comment``)."""

    ROUTES = (
        ("GET", r"{api}/issue/([^/]+)/comment", "_get_comments"),
        ("POST", r"{api}/issue/([^/]+)/comment", "_post_comment"),
    )

    def _add_comment(self, issue: IssueState, body: str, *, public: bool) -> CommentState:
        assert self._myself is not None
        now = self.now()
        comment = CommentState(
            id=self._new_comment_id(),
            author=self._myself["account_id"],
            body=body,
            created=now,
            updated=now,
            public=public,
            properties={} if public else {"sd.public.comment": {"internal": True}},
        )
        issue.comments.append(comment)
        issue.updated = now
        return comment

    def _get_comments(self, request: Request, m: re.Match[str]) -> Response:
        version = "3" if m.group(1) == "3" else "2"
        issue = self._get(m.group(2))
        start = max(0, int_arg(request.arg("startAt"), 0, "startAt"))
        limit = max(
            1,
            min(
                int_arg(request.arg("maxResults"), COMMENT_PAGE_CAP, "maxResults"), COMMENT_PAGE_CAP
            ),
        )
        ordered = list(issue.comments)
        if (request.arg("orderBy") or "").startswith("-"):
            ordered.reverse()
        with_properties = "properties" in (request.arg("expand") or "").split(",")
        page = ordered[start : start + limit]
        return Response(
            200,
            {
                "startAt": start,
                "maxResults": limit,
                "total": len(ordered),
                "comments": [self._comment_json(issue, c, version, with_properties) for c in page],
            },
        )

    def _post_comment(self, request: Request, m: re.Match[str]) -> Response:
        version = "3" if m.group(1) == "3" else "2"
        issue = self._get(m.group(2))
        body = self._payload(request)
        text = adf_to_text(body.get("body"))
        if not text.strip():
            raise HttpError(400, [], {"comment": "Comment body can not be empty!"})
        internal = False
        for prop in body.get("properties") or []:
            if isinstance(prop, dict) and prop.get("key") == "sd.public.comment":
                internal = bool((prop.get("value") or {}).get("internal"))
        comment = self._add_comment(issue, text, public=not internal)
        return Response(201, self._comment_json(issue, comment, version, with_properties=True))
