"""Platform comments: ``/rest/api/{2,3}/issue/{key}/comment``."""

from __future__ import annotations

import re
from typing import Any

from emulators.adf import rich_text
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

    def _add_comment(
        self,
        issue: IssueState,
        body: str,
        *,
        public: bool,
        properties: dict[str, Any] | None = None,
    ) -> CommentState:
        assert self._myself is not None
        now = self.now()
        if properties is None:
            properties = {} if public else {"sd.public.comment": {"internal": True}}
        comment = CommentState(
            id=self._new_comment_id(),
            author=self._myself["account_id"],
            body=body,
            created=now,
            updated=now,
            public=public,
            properties=dict(properties),
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
        order = request.arg("orderBy")
        if order not in (None, "created", "-created", "+created"):
            raise HttpError(400, [f"Invalid orderBy: '{order}'. Use created or -created."])
        ordered = list(issue.comments)
        if order == "-created":
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
        try:
            text = rich_text(body.get("body"), version)
        except ValueError as exc:
            raise HttpError(400, [], {"comment": str(exc)}) from None
        if not text.strip():
            raise HttpError(400, [], {"comment": "Comment body can not be empty!"})
        properties: dict[str, Any] = {}
        for prop in body.get("properties") or []:
            if not isinstance(prop, dict) or not isinstance(prop.get("key"), str):
                raise HttpError(400, [], {"properties": "Each property needs a key and a value."})
            properties[prop["key"]] = prop.get("value")
        internal = bool((properties.get("sd.public.comment") or {}).get("internal"))
        if self._projects[issue.project]["type"] != "service_desk":
            # Comment.jsdPublic "defaults to true when comments are created in the Jira Cloud
            # Platform", also when "the project isn't a Jira Service Desk project": there is
            # no portal to hide it from. The property is kept, as any comment property is.
            internal = False
        comment = self._add_comment(issue, text, public=not internal, properties=properties)
        return Response(201, self._comment_json(issue, comment, version, with_properties=True))
