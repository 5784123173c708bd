"""Search endpoints: ``search/jql`` and the removed ``search`` (410)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

from emulators import jql
from emulators.base import Request, Response
from emulators.jira.model import (
    REMOVED_SEARCH_MESSAGE,
    SEARCH_COMMENT_LIMIT,
    SEARCH_DEFAULT_PAGE,
    SEARCH_MAX_PAGE_IDS_ONLY,
    SEARCH_MAX_PAGE_WITH_FIELDS,
    UNBOUNDED_MESSAGE,
    HttpError,
    IssueState,
    int_arg,
    split_csv,
)


class SearchEndpoints:
    """``search/jql`` (token paging, no total) and the removed ``search``."""

    ROUTES = (
        ("GET", r"{api}/search", "_removed_search"),
        ("POST", r"{api}/search", "_removed_search"),
        ("GET", r"{api}/search/jql", "_search_jql"),
        ("POST", r"{api}/search/jql", "_search_jql"),
    )

    def _removed_search(self, request: Request, m: re.Match[str]) -> Response:
        raise HttpError(410, [REMOVED_SEARCH_MESSAGE])

    def _run_query(self, text: str) -> list[IssueState]:
        try:
            query = jql.parse(text)
            if query.where is None:
                raise HttpError(400, [UNBOUNDED_MESSAGE])
            predicate, sort = jql.compile_query(query, self._jql_context())
            matched = [i for i in self._issues.values() if predicate(i)]
        except jql.JqlError as exc:
            raise HttpError(400, [f"Error in the JQL Query: {exc}"]) from None
        if not query.order_by:
            # No ORDER BY: newest first, a stable order so that pages do not overlap.
            return sorted(matched, key=lambda i: int(i.id), reverse=True)
        return sort(sorted(matched, key=lambda i: int(i.id)))

    @staticmethod
    def _token(offset: int, text: str) -> str:
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        raw = json.dumps({"o": offset, "q": digest}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _offset_from(token: str, text: str) -> int:
        try:
            padded = token + "=" * (-len(token) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            offset = int(data["o"])
            digest = str(data["q"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise HttpError(400, ["The provided nextPageToken is invalid."]) from None
        if digest != hashlib.sha256(text.encode()).hexdigest()[:16] or offset < 0:
            raise HttpError(400, ["The provided nextPageToken does not belong to this JQL query."])
        return offset

    def _search_jql(self, request: Request, m: re.Match[str]) -> Response:
        version = "3" if m.group(1) == "3" else "2"
        if request.method == "POST":
            try:
                body = request.json() or {}
            except ValueError:
                raise HttpError(
                    400,
                    ["Invalid request payload. Refer to the REST API documentation and try again."],
                ) from None
            if not isinstance(body, dict):
                raise HttpError(
                    400,
                    ["Invalid request payload. Refer to the REST API documentation and try again."],
                )
            text = str(body.get("jql") or "")
            fields = body.get("fields")
            if isinstance(fields, str):
                fields = fields.split(",")
            expand = body.get("expand") or ""
            if isinstance(expand, list):
                expand = ",".join(expand)
            properties = body.get("properties") or []
            if isinstance(properties, str):
                properties = properties.split(",")
            max_results = body.get("maxResults")
            token = body.get("nextPageToken")
        else:
            text = request.arg("jql") or ""
            fields = split_csv(request.query.get("fields")) if "fields" in request.query else None
            expand = request.arg("expand") or ""
            properties = split_csv(request.query.get("properties"))
            max_results = request.arg("maxResults")
            token = request.arg("nextPageToken")
        field_ids = self._select_fields(fields, default="id")
        requested = int_arg(max_results, SEARCH_DEFAULT_PAGE, "maxResults")
        cap = SEARCH_MAX_PAGE_WITH_FIELDS if field_ids or properties else SEARCH_MAX_PAGE_IDS_ONLY
        page_size = max(1, min(requested, cap))
        matched = self._run_query(text)
        offset = self._offset_from(str(token), text) if token else 0
        page = matched[offset : offset + page_size]
        issues = [
            self._issue_json(i, version, field_ids, list(properties), "", SEARCH_COMMENT_LIMIT)
            for i in page
        ]
        out: dict[str, Any] = {"issues": issues}
        if offset + page_size < len(matched):
            out["nextPageToken"] = self._token(offset + page_size, text)
            out["isLast"] = False
        else:
            out["isLast"] = True
        if "names" in str(expand).split(","):
            out["names"] = self._names(field_ids)
        return Response(200, out)
