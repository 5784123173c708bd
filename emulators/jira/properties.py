"""Issue entity properties (``/issue/{key}/properties``)."""

from __future__ import annotations

import re

from emulators.base import Request, Response
from emulators.jira.model import (
    HttpError,
)


class PropertyEndpoints:
    """Issue entity properties."""

    ROUTES = (
        ("GET", r"{api}/issue/([^/]+)/properties", "_list_properties"),
        ("GET", r"{api}/issue/([^/]+)/properties/([^/]+)", "_get_property"),
        ("PUT", r"{api}/issue/([^/]+)/properties/([^/]+)", "_put_property"),
        ("DELETE", r"{api}/issue/([^/]+)/properties/([^/]+)", "_delete_property"),
    )

    def _list_properties(self, request: Request, m: re.Match[str]) -> Response:
        issue = self._get(m.group(2))
        base = f"{self.base}/rest/api/{m.group(1)}/issue/{issue.id}/properties"
        return Response(
            200, {"keys": [{"self": f"{base}/{k}", "key": k} for k in issue.properties]}
        )

    def _get_property(self, request: Request, m: re.Match[str]) -> Response:
        issue = self._get(m.group(2))
        key = m.group(3)
        if key not in issue.properties:
            raise HttpError(404, [f"The property with key '{key}' does not exist."])
        return Response(200, {"key": key, "value": issue.properties[key]})

    def _put_property(self, request: Request, m: re.Match[str]) -> Response:
        issue = self._get(m.group(2))
        key = m.group(3)
        if len(key) > 255:
            raise HttpError(400, ["The property key cannot be longer than 255 characters."])
        if len(request.body) > 32768:
            raise HttpError(400, ["The property value cannot be longer than 32768 bytes."])
        try:
            value = request.json()
        except ValueError:
            raise HttpError(
                400, ["The property value has to be a valid, non-empty JSON."]
            ) from None
        created = key not in issue.properties
        issue.properties[key] = value
        return Response(201 if created else 200)

    def _delete_property(self, request: Request, m: re.Match[str]) -> Response:
        issue = self._get(m.group(2))
        if issue.properties.pop(m.group(3), None) is None:
            raise HttpError(404, [f"The property with key '{m.group(3)}' does not exist."])
        return Response(204)
