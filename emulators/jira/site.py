"""Site endpoints: serverInfo, myself, field, priority, project (and its statuses),
issueLinkType."""

from __future__ import annotations

import re
from typing import Any

from emulators.base import Request, Response
from emulators.jira.model import (
    CUSTOM_SCHEMAS,
    PRIORITIES,
    SETTABLE_SYSTEM,
    SYSTEM_FIELDS,
    HttpError,
    jira_time,
)


class SiteEndpoints:
    """Site-wide reads: serverInfo, myself, field, priority, project, issueLinkType."""

    ROUTES = (
        ("GET", r"{api}/serverInfo", "_server_info"),
        ("GET", r"{api}/myself", "_get_myself"),
        ("GET", r"{api}/field", "_get_fields"),
        ("GET", r"{api}/priority", "_get_priorities"),
        ("GET", r"{api}/project", "_get_projects"),
        ("GET", r"{api}/project/([^/]+)", "_get_project"),
        ("GET", r"{api}/project/([^/]+)/statuses", "_get_project_statuses"),
        ("GET", r"{api}/issueLinkType", "_get_link_types"),
    )

    def _server_info(self, request: Request, m: re.Match[str]) -> Response:
        return Response(
            200,
            {
                "baseUrl": self.base,
                "displayUrl": self.base,
                "version": "1001.0.0-SNAPSHOT",
                "versionNumbers": [1001, 0, 0],
                "deploymentType": "Cloud",
                "buildNumber": 100290,
                "buildDate": "2026-01-01T00:00:00.000+0000",
                "serverTime": jira_time(self.now()),
                "scmInfo": "emulator",
                "serverTitle": "Jira",
                "serverTimeZone": "Etc/UTC",
            },
        )

    def _get_myself(self, request: Request, m: re.Match[str]) -> Response:
        assert self._myself is not None
        return Response(200, self._user_json(self._myself["account_id"], m.group(1)))

    def _get_fields(self, request: Request, m: re.Match[str]) -> Response:
        out = []
        for fid, name, schema, clauses, navigable in SYSTEM_FIELDS:
            entry: dict[str, Any] = {
                "id": fid,
                "key": fid,
                "name": self._shown(name),
                "custom": False,
                "orderable": fid in SETTABLE_SYSTEM,
                "navigable": navigable,
                "searchable": True,
                "clauseNames": clauses,
            }
            if schema:
                entry["schema"] = schema
            out.append(entry)
        for cf in self._custom:
            out.append(
                {
                    "id": cf.id,
                    "key": cf.id,
                    # Translated to the account's language; the English one stays here.
                    "name": self._shown(cf.name),
                    "untranslatedName": cf.name,
                    "custom": True,
                    "orderable": cf.type != "sla",
                    "navigable": True,
                    "searchable": True,
                    "clauseNames": cf.clause_names,
                    "schema": {**CUSTOM_SCHEMAS[cf.type], "customId": cf.number},
                }
            )
        return Response(200, out)

    def _get_priorities(self, request: Request, m: re.Match[str]) -> Response:
        return Response(200, [self._priority_json(p, m.group(1)) for p in PRIORITIES])

    def _get_projects(self, request: Request, m: re.Match[str]) -> Response:
        return Response(200, [self._project_json(k, m.group(1)) for k in self._projects])

    def _get_project(self, request: Request, m: re.Match[str]) -> Response:
        ref = m.group(2)
        for key in self._projects:
            if ref.upper() == key or self._project_json(key, "2")["id"] == ref:
                return Response(200, self._project_json(key, m.group(1)))
        raise HttpError(404, [f"No project could be found with key '{ref}'."])

    def _get_project_statuses(self, request: Request, m: re.Match[str]) -> Response:
        """Each issue type of the project with the statuses of its workflow (one workflow per
        project here, so every type lists all of them)."""
        version = m.group(1)
        key = self._ref_project(m.group(2))
        if key is None:
            raise HttpError(404, [f"No project could be found with key '{m.group(2)}'."])
        project = self._projects[key]
        statuses = [self._status_json(key, s["name"], version) for s in project["statuses"]]
        return Response(
            200,
            [
                {
                    "id": self._type_id(name),
                    "name": self._shown(name),
                    "self": f"{self.base}/rest/api/{version}/issueType/{self._type_id(name)}",
                    "statuses": statuses,
                    "subtask": False,
                }
                for name in project["issue_types"]
            ],
        )

    def _get_link_types(self, request: Request, m: re.Match[str]) -> Response:
        return Response(
            200,
            {
                "issueLinkTypes": [
                    self._link_type_json(t["name"], m.group(1)) for t in self._link_types
                ]
            },
        )
