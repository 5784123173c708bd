"""Issue endpoints: get, create, edit, and the per-field parsing of written values."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from emulators.adf import rich_text
from emulators.base import Request, Response
from emulators.jira.model import (
    PRIORITIES,
    SETTABLE_SYSTEM,
    CustomFieldDef,
    HttpError,
    IssueState,
    int_arg,
    split_csv,
)


class IssueEndpoints:
    """Issue get, create and edit, with Jira's per-field validation."""

    ROUTES = (
        ("POST", r"{api}/issue", "_create_issue"),
        ("GET", r"{api}/issue/([^/]+)", "_get_issue"),
        ("PUT", r"{api}/issue/([^/]+)", "_edit_issue"),
        ("PUT", r"{api}/issue/([^/]+)/assignee", "_assign_issue"),
        ("GET", r"{api}/issue/createmeta/([^/]+)/issuetypes", "_create_meta_issue_types"),
    )

    def _create_meta_issue_types(self, request: Request, m: re.Match[str]) -> Response:
        """The issue types one may create in a project, a page at a time (at most 200)."""
        project = self._ref_project(m.group(2))
        if project is None:
            raise HttpError(404, [f"No project could be found with key '{m.group(2)}'."])
        start = max(0, int_arg(request.arg("startAt"), 0, "startAt"))
        limit = int_arg(request.arg("maxResults"), 50, "maxResults")
        if limit > 200:
            raise HttpError(400, ["Parameter 'maxResults' must not exceed the limit '200'"])
        names = self._projects[project]["issue_types"]
        page = names[start : start + max(limit, 1)]
        version = "3" if m.group(1) == "3" else "2"
        return Response(
            200,
            {
                "issueTypes": [
                    {k: v for k, v in self._issuetype_json(n, version).items()} for n in page
                ],
                "maxResults": max(limit, 1),
                "startAt": start,
                "total": len(names),
            },
        )

    def _get_issue(self, request: Request, m: re.Match[str]) -> Response:
        version = "3" if m.group(1) == "3" else "2"
        issue = self._get(m.group(2))
        fields = split_csv(request.query.get("fields")) if "fields" in request.query else None
        field_ids = self._select_fields(fields, default="*all")
        properties = split_csv(request.query.get("properties"))
        return Response(
            200,
            self._issue_json(issue, version, field_ids, properties, request.arg("expand") or ""),
        )

    def _payload(self, request: Request) -> dict[str, Any]:
        try:
            body = request.json()
        except ValueError:
            raise HttpError(400, ["Unexpected character in the request body: not JSON."]) from None
        if not isinstance(body, dict):
            raise HttpError(400, ["The request body must be a JSON object."])
        return body

    def _create_issue(self, request: Request, m: re.Match[str]) -> Response:
        version = "3" if m.group(1) == "3" else "2"
        body = self._payload(request)
        fields = body.get("fields") or {}
        errors: dict[str, str] = {}
        project = self._ref_project(fields.get("project"))
        if project is None:
            errors["project"] = "Specify a valid project ID or key"
        itype = self._ref_issuetype(fields.get("issuetype"), project)
        if itype is None:
            errors["issuetype"] = "Specify an issue type"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        if errors:
            raise HttpError(400, [], errors)
        assert project is not None and itype is not None
        now = self.now()
        issue = IssueState(
            id=str(self._next_issue_id),
            key=f"{project}-{self._next_number(project)}",
            project=project,
            issuetype=itype,
            summary="",
            status=self._projects[project]["initial_status"],
            created=now,
            updated=now,
            reporter=self._myself["account_id"] if self._myself else None,
        )
        rest = {k: v for k, v in fields.items() if k not in ("project", "issuetype")}
        # A new issue's first values are not changes: no history for them, as in Jira.
        self._apply_fields(issue, rest, body.get("update") or {}, version, record=False)
        self._next_issue_id += 1
        self._issues[issue.key] = issue
        return Response(
            201,
            {
                "id": issue.id,
                "key": issue.key,
                "self": f"{self.base}/rest/api/{version}/issue/{issue.id}",
            },
        )

    def _edit_issue(self, request: Request, m: re.Match[str]) -> Response:
        issue = self._get(m.group(2))
        body = self._payload(request)
        version = "3" if m.group(1) == "3" else "2"
        self._apply_fields(issue, body.get("fields") or {}, body.get("update") or {}, version)
        issue.updated = self.now()
        return Response(204)

    def _assign_issue(self, request: Request, m: re.Match[str]) -> Response:
        """``PUT /issue/{key}/assignee`` (Assign issue): ``{"accountId": id}`` assigns; ``"-1"``
        gives the project's default assignee (none here). The spec's User bean types
        ``accountId`` as a string, so a null (which Jira's prose says unassigns) is refused like
        any request off the spec. A user who does not exist, or one who cannot be assigned
        issues (a customer, an app), is a 400 naming it."""
        issue = self._get(m.group(2))
        body = self._payload(request)
        refs = [k for k in ("accountId", "name", "key") if k in body]
        if not refs:
            raise HttpError(400, [], {"assignee": "Specify the user to assign the issue to."})
        if len(refs) > 1:
            raise HttpError(400, [], {"assignee": "Specify only one of name, key or accountId."})
        if refs != ["accountId"]:
            # GDPR: Jira Cloud takes only account ids now.
            raise HttpError(
                400, [], {"assignee": "'name' and 'key' are not supported; use accountId."}
            )
        account = body["accountId"]
        if not isinstance(account, str) or not account:
            raise HttpError(400, [], {"assignee": "accountId must be an account id."})
        if account == "-1":
            account = None
        else:
            user = self._users.get(account)
            if user is None:
                raise HttpError(400, [], {"assignee": f"User '{account}' does not exist."})
            if user.get("kind") not in ("agent", None):
                raise HttpError(
                    400, [], {"assignee": f"User '{account}' cannot be assigned issues."}
                )
        version = "3" if m.group(1) == "3" else "2"
        items = self._apply_fields(issue, {"assignee": {"accountId": account}}, {}, version)
        if items:
            issue.updated = self.now()
        return Response(204)

    def _ref_project(self, ref: Any) -> str | None:
        if isinstance(ref, dict):
            ref = ref.get("key") or ref.get("id")
        for key in self._projects:
            if ref is not None and str(ref).upper() in (key, self._project_json(key, "2")["id"]):
                return key
        return None

    def _ref_issuetype(self, ref: Any, project: str | None) -> str | None:
        """An issue type of ``project`` by id, or by the name Jira shows this account (on a
        site in another language "Task" is not a name it knows: send the id)."""
        if isinstance(ref, dict):
            ref = ref.get("id") or ref.get("name")
        if ref is None or project is None:
            return None
        for name in self._projects[project]["issue_types"]:
            if (
                str(ref) == self._type_id(name)
                or str(ref).casefold() == self._shown(name).casefold()
            ):
                return name
        return None

    def _ref_user(self, ref: Any) -> str | None:
        if isinstance(ref, dict):
            ref = ref.get("accountId") or ref.get("id")
        if ref is None:
            return None
        if str(ref) in self._users:
            return str(ref)
        raise ValueError("Specified user does not exist or you do not have required permissions")

    def _apply_fields(
        self,
        issue: IssueState,
        fields: dict[str, Any],
        update: dict[str, Any],
        version: str,
        *,
        record: bool = True,
    ) -> list[dict[str, Any]]:
        """Returns the changelog items of what changed (recorded as one history unless
        ``record`` is False: a transition records them with its status change)."""
        """Validate everything first, then write, so a 400 leaves the issue untouched."""
        if not isinstance(fields, dict) or not isinstance(update, dict):
            raise HttpError(400, ["`fields` and `update` must be JSON objects."])
        errors: dict[str, str] = {}
        writes: list[tuple[str, Any]] = []
        comments: list[str] = []
        for fid, value in fields.items():
            try:
                writes.append((fid, self._parse_field(fid, value, issue, version)))
            except ValueError as exc:
                errors[fid] = str(exc)
        for fid, ops in update.items():
            if not isinstance(ops, list):
                errors[fid] = "Operations must be a list."
                continue
            if fid == "comment":
                for op in ops:
                    body = (op.get("add") or {}).get("body") if isinstance(op, dict) else None
                    if body is None:
                        errors[fid] = "Only 'add' is supported for comments."
                        continue
                    try:
                        comments.append(rich_text(body, version))
                    except ValueError as exc:
                        errors[fid] = str(exc)
                continue
            try:
                writes.append((fid, self._apply_ops(fid, ops, issue, fields, version)))
            except ValueError as exc:
                errors[fid] = str(exc)
        if errors:
            raise HttpError(400, [], errors)
        before = {fid: self._snapshot(issue, fid) for fid, _value in writes}
        for fid, value in writes:
            self._write_field(issue, fid, value)
        items = self._changes(issue, before, {fid: self._snapshot(issue, fid) for fid in before})
        if record:
            self._record_history(issue, items)
        for body in comments:
            self._add_comment(issue, body, public=True)
        return items

    def _apply_ops(
        self, fid: str, ops: list[Any], issue: IssueState, fields: dict[str, Any], version: str
    ) -> Any:
        if fid in fields:
            raise ValueError(f"Field '{fid}' cannot be both in `fields` and `update`.")
        if fid in ("labels", "components"):
            current = list(getattr(issue, fid))
            for op in ops:
                if not isinstance(op, dict) or len(op) != 1:
                    raise ValueError("Each operation must be one of add, remove or set.")
                verb, operand = next(iter(op.items()))
                if verb == "set":
                    current = list(self._parse_field(fid, operand, issue, version))
                elif verb in ("add", "remove"):
                    (item,) = self._parse_field(fid, [operand], issue, version)
                    if verb == "add" and item not in current:
                        current.append(item)
                    if verb == "remove" and item in current:
                        current.remove(item)
                else:
                    raise ValueError(f"Operation '{verb}' is not supported for '{fid}'.")
            return current
        value: Any = None
        for op in ops:
            if not isinstance(op, dict) or "set" not in op:
                raise ValueError(f"Only 'set' is supported for '{fid}'.")
            value = self._parse_field(fid, op["set"], issue, version)
        return value

    def _parse_field(self, fid: str, value: Any, issue: IssueState, version: str) -> Any:
        """Wire value -> stored value; raises ValueError with Jira's per-field message."""
        if fid == "summary":
            if not isinstance(value, str) or not value.strip():
                raise ValueError("You must specify a summary of the issue.")
            if "\n" in value or "\r" in value:
                raise ValueError("The summary is invalid because it contains newline characters.")
            return value
        if fid == "description":
            return rich_text(value, version)
        if fid in ("assignee", "reporter"):
            return self._ref_user(value)
        if fid == "priority":
            ref = value.get("name") or value.get("id") if isinstance(value, dict) else value
            for n, p in enumerate(PRIORITIES, 1):
                if ref is not None and str(ref).casefold() in (p.casefold(), str(n)):
                    return p
            raise ValueError("The priority selected is invalid.")
        if fid == "labels":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError("Labels must be a list of strings.")
            for label in value:
                if not label or any(ch.isspace() for ch in label):
                    raise ValueError(f"The label '{label}' contains spaces which is invalid.")
            return list(value)
        if fid == "components":
            if not isinstance(value, list):
                raise ValueError("Components must be a list.")
            names = []
            for item in value:
                name = item.get("name") if isinstance(item, dict) else item
                if isinstance(item, dict) and not name and item.get("id"):
                    name = next(
                        (n for n, cid in self._component_ids.items() if cid == str(item["id"])),
                        None,
                    )
                if not name:
                    raise ValueError("Component name or id is required.")
                names.append(str(name))
            return names
        if fid == "duedate":
            return self._parse_date(value)
        if fid == "parent":
            ref = value.get("key") or value.get("id") if isinstance(value, dict) else value
            if ref is None:
                return None
            try:
                return self._get(str(ref)).key
            except HttpError:
                raise ValueError(f"Could not find issue by id or key: {ref}") from None
        if fid == "issuetype":
            itype = self._ref_issuetype(value, issue.project)
            if itype is None:
                raise ValueError("The issue type selected is invalid.")
            return itype
        cf = self._custom_by_id(fid)
        if cf is None:
            raise ValueError(
                f"Field '{fid}' cannot be set. It is not on the appropriate screen, or unknown."
            )
        return self._parse_custom(cf, value)

    @staticmethod
    def _parse_date(value: Any) -> date | None:
        if value in (None, ""):
            return None
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"Error parsing date string: {value}") from None

    def _parse_custom(self, cf: CustomFieldDef, value: Any) -> Any:
        if cf.type == "sla":
            raise ValueError(
                f"Field '{cf.id}' cannot be set. It is not on the appropriate screen, or unknown."
            )
        if cf.type == "date":
            return self._parse_date(value)
        if cf.type == "user":
            return self._ref_user(value)
        if cf.type == "text":
            if value is not None and not isinstance(value, str):
                raise ValueError(f"Field '{cf.id}' takes a single line of text.")
            return value
        if cf.type == "organizations":
            names = []
            for item in value or []:
                ref = (item.get("id") or item.get("name")) if isinstance(item, dict) else item
                found = next((n for n, oid in self._orgs.items() if str(ref) in (oid, n)), None)
                if found is None:
                    raise ValueError(f"Organization '{ref}' does not exist.")
                names.append(found)
            return names
        if cf.type == "request_type":
            # Written as the request type's id (a string of digits), as Jira takes it; a name
            # is not a request type reference on write.
            if value in (None, ""):
                return None
            ref = value.get("id") if isinstance(value, dict) else value
            for display in self._request_type_names.values():
                if isinstance(ref, str) and ref == self._request_type_id(display):
                    return display
            raise ValueError(f"The request type '{ref}' does not exist; give its id.")
        if cf.type == "option":
            if value is None:
                return None
            return self._parse_option(cf, value)
        if cf.type == "options":
            if value is None:
                return []
            if not isinstance(value, list):
                raise ValueError("Specify the values as a list of options.")
            return [self._parse_option(cf, v) for v in value]
        return value

    def _parse_option(self, cf: CustomFieldDef, value: Any) -> str:
        if isinstance(value, dict):
            if value.get("value") is not None:
                ref = str(value["value"])
            else:
                ref = str(value.get("id"))
                for option in cf.options:
                    if self._option_json(cf, option, "2")["id"] == ref:
                        return option
        else:
            ref = str(value)
        if ref in cf.options:
            return ref
        raise ValueError(f"Option value '{ref}' is not valid")

    def _write_field(self, issue: IssueState, fid: str, value: Any) -> None:
        attr = {"duedate": "due_date", "issuetype": "issuetype"}.get(fid, fid)
        if fid in SETTABLE_SYSTEM:
            setattr(issue, attr, value)
            if fid == "components":
                for c in value:
                    self._component_id(c)
            return
        cf = self._custom_by_id(fid)
        assert cf is not None
        cf.set(issue, value)
