"""Search endpoints: ``search/jql`` and the removed ``search`` (410)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from emulators import jql
from emulators.base import Request, Response
from emulators.jira.model import (
    INVALID_PAYLOAD,
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

SEARCH_MAX_PROPERTIES = 5


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


SEARCH_BODY_TYPES: dict[str, Callable[[Any], bool]] = {
    "jql": lambda v: isinstance(v, str),
    "nextPageToken": lambda v: isinstance(v, str),
    "maxResults": _integer,
    "fields": _strings,
    "expand": lambda v: isinstance(v, str),
    "properties": _strings,
    "fieldsByKeys": lambda v: isinstance(v, bool),
    "reconcileIssues": lambda v: isinstance(v, list) and len(v) <= 50 and all(map(_integer, v)),
}
"""SearchAndReconcileRequestBean: every property it has, and the type it takes."""


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
            context = self._jql_context()
            predicate, sort = jql.compile_query(query, context)
            matched = self._matching(query, predicate, context)
        except jql.JqlError as exc:
            raise HttpError(400, [f"Error in the JQL Query: {exc}"]) from None
        if not query.order_by:
            # No ORDER BY: newest first, a stable order so that pages do not overlap.
            return sorted(matched, key=lambda i: int(i.id), reverse=True)
        return sort(sorted(matched, key=lambda i: int(i.id)))

    def _matching(
        self, query: jql.Query, predicate: jql.Predicate, context: jql.Context
    ) -> list[IssueState]:
        """The issues ``query`` matches, in no particular order (the caller sorts them)."""
        return [i for i in self._issues.values() if predicate(i)]

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
            query = self._search_body(request)
        else:
            query = self._search_query(request)
        text = query["jql"]
        fields = query["fields"]
        expand = query["expand"]
        properties = query["properties"]
        max_results = query["maxResults"]
        token = query["nextPageToken"]
        field_ids = self._select_fields(fields, default="id")
        requested = int_arg(max_results, SEARCH_DEFAULT_PAGE, "maxResults")
        cap = SEARCH_MAX_PAGE_WITH_FIELDS if field_ids or properties else SEARCH_MAX_PAGE_IDS_ONLY
        page_size = max(1, min(requested, cap))
        matched = self._run_query(text)
        offset = self._offset_from(str(token), text) if token else 0
        page = matched[offset : offset + page_size]
        issues = [
            self._issue_json(
                i, version, field_ids, list(properties), ",".join(expand), SEARCH_COMMENT_LIMIT
            )
            for i in page
        ]
        out: dict[str, Any] = {"issues": issues}
        if offset + page_size < len(matched):
            out["nextPageToken"] = self._token(offset + page_size, text)
            out["isLast"] = False
        else:
            out["isLast"] = True
        if "names" in expand:
            out["names"] = self._names(field_ids)
        return Response(200, out)

    def _search_body(self, request: Request) -> dict[str, Any]:
        """POST body, as SearchAndReconcileRequestBean allows it (additionalProperties: false):
        no ``startAt``, ``expand`` a comma-separated string, at most 5 ``properties``."""
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise HttpError(400, [INVALID_PAYLOAD])
        unknown = sorted(set(body) - set(SEARCH_BODY_TYPES))
        if unknown:
            # Jira's JSON reader rejects unrecognized fields ("startAt" included) outright.
            raise HttpError(400, [f"{INVALID_PAYLOAD} Unrecognized field(s): {', '.join(unknown)}"])
        for name, check in SEARCH_BODY_TYPES.items():
            if name in body and body[name] is not None and not check(body[name]):
                raise HttpError(400, [f"{INVALID_PAYLOAD} '{name}' has the wrong type."])
        properties = list(body.get("properties") or [])
        self._check_properties(properties)
        return {
            "jql": body.get("jql") or "",
            "fields": body.get("fields"),
            "expand": split_csv([body.get("expand") or ""]),
            "properties": properties,
            "maxResults": body.get("maxResults"),
            "nextPageToken": body.get("nextPageToken"),
        }

    def _search_query(self, request: Request) -> dict[str, Any]:
        """GET: the same parameters in the query string; arrays repeat or use commas."""
        properties = split_csv(request.query.get("properties"))
        self._check_properties(properties)
        fields = split_csv(request.query.get("fields")) if "fields" in request.query else None
        return {
            "jql": request.arg("jql") or "",
            "fields": fields,
            "expand": split_csv(request.query.get("expand")),
            "properties": properties,
            "maxResults": request.arg("maxResults"),
            "nextPageToken": request.arg("nextPageToken"),
        }

    @staticmethod
    def _check_properties(properties: list[str]) -> None:
        if len(properties) > SEARCH_MAX_PROPERTIES:
            raise HttpError(
                400,
                [f"A maximum of {SEARCH_MAX_PROPERTIES} issue properties can be requested."],
            )
