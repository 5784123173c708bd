"""User endpoints: ``user/search`` and ``user``."""

from __future__ import annotations

import re

from emulators.base import Request, Response
from emulators.jira.model import (
    HttpError,
    int_arg,
)


class UserEndpoints:
    """User search and lookup."""

    ROUTES = (
        ("GET", r"{api}/user/search", "_user_search"),
        ("GET", r"{api}/user", "_get_user"),
    )

    def _user_search(self, request: Request, m: re.Match[str]) -> Response:
        query = (request.arg("query") or request.arg("username") or "").strip()
        account_id = request.arg("accountId")
        if not query and not account_id:
            raise HttpError(
                400,
                ["One of 'query' or 'accountId' or 'property' query parameters must be provided."],
            )
        start = int_arg(request.arg("startAt"), 0, "startAt")
        limit = int_arg(request.arg("maxResults"), 50, "maxResults")
        folded = query.casefold()
        found = []
        # The query matches the start of the display name, of any of its words, or of the
        # email address, also one the answer leaves out because the profile hides it.
        for user in self.desk["users"]:
            if account_id and user["account_id"] != account_id:
                continue
            if folded:
                email = (user.get("email") or "").casefold()
                words = user["display_name"].casefold().split()
                if not (
                    email.startswith(folded)
                    or user["display_name"].casefold().startswith(folded)
                    or any(w.startswith(folded) for w in words)
                ):
                    continue
            found.append(self._user_json(user["account_id"], m.group(1)))
        return Response(200, found[start : start + limit])

    def _get_user(self, request: Request, m: re.Match[str]) -> Response:
        user = self._user_json(request.arg("accountId"), m.group(1))
        if user is None:
            raise HttpError(
                404, ["Specified user does not exist or you do not have required permissions"]
            )
        return Response(200, user)
