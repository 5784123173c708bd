"""Rendering of the emulated desk as Jira's JSON (shared by every endpoint group)."""

from __future__ import annotations

from typing import Any

from emulators.adf import text_to_adf
from emulators.jira.model import (
    ACCOUNT_TYPES,
    CATEGORY_JSON,
    ISSUE_EXPAND,
    PRIORITIES,
    SYSTEM_FIELDS,
    CommentState,
    CustomFieldDef,
    IssueState,
    jira_time,
    sd_time,
)


class Rendering:
    """How the desk's state looks on the wire: users, statuses, issues and their fields."""

    @property
    def base(self) -> str:
        return self.url if self._server is not None else "http://jira.emulator.invalid"

    def _user_json(self, account_id: str | None, version: str = "2") -> dict[str, Any] | None:
        if not account_id:
            return None
        user = self._users.get(account_id)
        if user is None:
            return None
        out: dict[str, Any] = {
            "self": f"{self.base}/rest/api/{version}/user?accountId={account_id}",
            "accountId": account_id,
            "accountType": ACCOUNT_TYPES[user["kind"]],
            "avatarUrls": {"48x48": f"{self.base}/avatar/{account_id}.png"},
            "displayName": user["display_name"],
            "active": True,
            "timeZone": user.get("time_zone") or "UTC",
        }
        if user.get("email") and not user.get("hide_email"):
            # Cloud leaves the address out when the profile's privacy settings hide it.
            out["emailAddress"] = user["email"]
        return out

    def _category(self, project: str, status: str) -> str:
        for s in self._projects[project]["statuses"]:
            if s["name"].casefold() == status.casefold():
                return str(s["category"])
        return "indeterminate"

    def _status_json(self, project: str, status: str, version: str) -> dict[str, Any]:
        category = CATEGORY_JSON[self._category(project, status)]
        return {
            "self": f"{self.base}/rest/api/{version}/status/{self._status_id(status)}",
            "description": "",
            "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
            "name": status,
            "id": self._status_id(status),
            "statusCategory": {
                "self": f"{self.base}/rest/api/{version}/statuscategory/{category['id']}",
                **category,
            },
        }

    def _priority_json(self, name: str | None, version: str) -> dict[str, Any] | None:
        if not name:
            return None
        pid = str(PRIORITIES.index(name) + 1) if name in PRIORITIES else "3"
        return {
            "self": f"{self.base}/rest/api/{version}/priority/{pid}",
            "iconUrl": f"{self.base}/images/icons/priorities/{name.lower()}.svg",
            "name": name,
            "id": pid,
        }

    def _issuetype_json(self, name: str, version: str) -> dict[str, Any]:
        tid = self._type_id(name)
        return {
            "self": f"{self.base}/rest/api/{version}/issuetype/{tid}",
            "id": tid,
            "description": "",
            "iconUrl": f"{self.base}/images/icons/issuetypes/{tid}.svg",
            "name": self._shown(name),
            "untranslatedName": name,
            "subtask": False,
            "hierarchyLevel": 1 if name == "Epic" else 0,
        }

    def _project_json(self, key: str, version: str) -> dict[str, Any]:
        project = self._projects[key]
        pid = str(10000 + list(self._projects).index(key))
        return {
            "self": f"{self.base}/rest/api/{version}/project/{pid}",
            "id": pid,
            "key": key,
            "name": project["name"],
            "projectTypeKey": project["type"],
            "simplified": False,
        }

    def _body(self, text: str, version: str) -> Any:
        if version == "3":
            return text_to_adf(text, lambda aid: (self._users.get(aid) or {}).get("display_name"))
        return text

    def _comment_json(
        self, issue: IssueState, c: CommentState, version: str, with_properties: bool = False
    ) -> dict[str, Any]:
        author = self._user_json(c.author, version)
        out: dict[str, Any] = {
            "self": f"{self.base}/rest/api/{version}/issue/{issue.id}/comment/{c.id}",
            "id": c.id,
            "author": author,
            "body": self._body(c.body, version),
            "updateAuthor": author,
            "created": jira_time(c.created),
            "updated": jira_time(c.updated),
            "jsdPublic": c.public,
        }
        if with_properties:
            out["properties"] = [{"key": k, "value": v} for k, v in c.properties.items()]
        return out

    def _brief_issue(self, key: str, version: str) -> dict[str, Any]:
        other = self._issues[key]
        fields: dict[str, Any] = {
            "summary": other.summary,
            "status": self._status_json(other.project, other.status, version),
            "issuetype": self._issuetype_json(other.issuetype, version),
        }
        if other.priority:
            # The linked issue's Fields bean has no null priority: absent when unset.
            fields["priority"] = self._priority_json(other.priority, version)
        return {
            "id": other.id,
            "key": other.key,
            "self": f"{self.base}/rest/api/{version}/issue/{other.id}",
            "fields": fields,
        }

    def _link_type_json(self, name: str, version: str) -> dict[str, Any]:
        index, lt = next((i, t) for i, t in enumerate(self._link_types) if t["name"] == name)
        lid = str(10000 + index)
        return {
            "id": lid,
            "name": lt["name"],
            "inward": lt["inward"],
            "outward": lt["outward"],
            "self": f"{self.base}/rest/api/{version}/issueLinkType/{lid}",
        }

    def _links_json(self, issue: IssueState, version: str) -> list[dict[str, Any]]:
        out = []
        for link in self._links:
            if issue.key not in (link.source, link.target):
                continue
            entry: dict[str, Any] = {
                "id": link.id,
                "self": f"{self.base}/rest/api/{version}/issueLink/{link.id}",
                "type": self._link_type_json(link.type, version),
            }
            # The source reads the outward phrase, so it sees the other end as `outwardIssue`.
            if link.source == issue.key:
                entry["outwardIssue"] = self._brief_issue(link.target, version)
            else:
                entry["inwardIssue"] = self._brief_issue(link.source, version)
            out.append(entry)
        return out

    def _custom_json(self, issue: IssueState, cf: CustomFieldDef, version: str) -> Any:
        value = cf.get(issue)
        if cf.type == "organizations":
            org_base = f"{self.base}/rest/servicedeskapi/organization"
            return [
                {
                    "id": self._orgs.get(name, "0"),
                    "name": name,
                    "_links": {"self": f"{org_base}/{self._orgs.get(name)}"},
                }
                for name in value or []
            ]
        if cf.type == "request_type":
            if not value:
                return None
            return {
                "_links": {
                    "jiraRest": f"{self.base}/rest/api/2/issue/{issue.id}",
                    "web": f"{self.base}/servicedesk/customer/portal/1/{issue.key}",
                    "self": f"{self.base}/rest/servicedeskapi/request/{issue.id}",
                },
                "requestType": self._request_type_json(value),
                "currentStatus": {
                    "status": issue.status,
                    "statusCategory": self._category(issue.project, issue.status).upper(),
                    "statusDate": sd_time(issue.updated),
                },
            }
        if cf.type == "sla":
            return self._sla_json(issue, cf)
        if cf.type == "date":
            return value.isoformat() if value else None
        if cf.type == "user":
            return self._user_json(value, version)
        if cf.type == "options":
            return [self._option_json(cf, v, version) for v in value] if value else None
        if cf.type == "option":
            return self._option_json(cf, value, version) if value else None
        return value

    def _request_type_json(self, name: str) -> dict[str, Any]:
        """A customer request type as JSM's RequestTypeDTO (one service desk, id 1)."""
        rid = self._request_type_id(name)
        return {
            "_expands": ["field"],
            "id": rid,
            "_links": {"self": f"{self.base}/rest/servicedeskapi/servicedesk/1/requesttype/{rid}"},
            "name": name,
            "description": "",
            "helpText": "",
            "serviceDeskId": "1",
            "portalId": "1",
            "groupIds": [],
        }

    def _option_json(self, cf: CustomFieldDef, value: str, version: str) -> dict[str, Any]:
        oid = str(cf.number * 10 + (cf.options.index(value) if value in cf.options else 0))
        return {
            "self": f"{self.base}/rest/api/{version}/customFieldOption/{oid}",
            "value": value,
            "id": oid,
        }

    def _field_value(
        self, issue: IssueState, fid: str, version: str, comment_limit: int | None
    ) -> Any:
        if fid == "summary":
            return issue.summary
        if fid == "description":
            return self._body(issue.description, version) if issue.description else None
        if fid == "status":
            return self._status_json(issue.project, issue.status, version)
        if fid == "project":
            return self._project_json(issue.project, version)
        if fid == "issuetype":
            return self._issuetype_json(issue.issuetype, version)
        if fid in ("created", "updated"):
            return jira_time(getattr(issue, fid))
        if fid == "resolutiondate":
            return jira_time(issue.resolved) if issue.resolved else None
        if fid == "resolution":
            if not issue.resolved:
                return None
            return {
                "self": f"{self.base}/rest/api/{version}/resolution/10000",
                "id": "10000",
                "description": "Work has been completed on this issue.",
                "name": "Done",
            }
        if fid in ("assignee", "reporter"):
            return self._user_json(getattr(issue, fid), version)
        if fid == "priority":
            return self._priority_json(issue.priority, version)
        if fid == "labels":
            return list(issue.labels)
        if fid == "components":
            return [
                {
                    "self": f"{self.base}/rest/api/{version}/component/{self._component_id(c)}",
                    "id": self._component_id(c),
                    "name": c,
                }
                for c in issue.components
            ]
        if fid == "comment":
            total = len(issue.comments)
            shown = issue.comments if comment_limit is None else issue.comments[:comment_limit]
            return {
                "comments": [self._comment_json(issue, c, version) for c in shown],
                "self": f"{self.base}/rest/api/{version}/issue/{issue.id}/comment",
                "maxResults": comment_limit if comment_limit is not None else total,
                "total": total,
                "startAt": 0,
            }
        if fid == "issuelinks":
            return self._links_json(issue, version)
        if fid == "duedate":
            return issue.due_date.isoformat() if issue.due_date else None
        if fid == "parent":
            return (
                self._brief_issue(issue.parent, version) if issue.parent in self._issues else None
            )
        cf = self._custom_by_id(fid)
        if cf is not None:
            return self._custom_json(issue, cf, version)
        return None

    def _custom_by_id(self, fid: str) -> CustomFieldDef | None:
        return next((c for c in self._custom if c.id == fid), None)

    def _all_field_ids(self, navigable_only: bool = False) -> list[str]:
        ids = [
            fid
            for fid, _n, _s, _c, nav in SYSTEM_FIELDS
            if fid != "issuekey" and (nav or not navigable_only)
        ]
        return ids + [c.id for c in self._custom]

    def _resolve_field_name(self, name: str) -> str | None:
        folded = name.casefold()
        for fid, fname, _schema, clauses, _nav in SYSTEM_FIELDS:
            if folded in (fid.casefold(), fname.casefold(), *(c.casefold() for c in clauses)):
                return "key" if fid == "issuekey" else fid
        for cf in self._custom:
            names = (cf.id, self._shown(cf.name), *cf.clause_names)
            if folded in (n.casefold() for n in names):
                return cf.id
        return None

    def _select_fields(self, requested: list[str] | None, default: str) -> list[str]:
        """Jira's ``fields`` parameter: ids or names, ``*all``, ``*navigable``, ``-field``."""
        items = requested if requested is not None else [default]
        chosen: list[str] = []
        excluded: set[str] = set()
        for item in items:
            item = item.strip()
            if not item:
                continue
            if item == "*all":
                chosen.extend(self._all_field_ids())
            elif item == "*navigable":
                chosen.extend(self._all_field_ids(navigable_only=True))
            elif item.startswith("-"):
                fid = self._resolve_field_name(item[1:])
                if fid:
                    excluded.add(fid)
            else:
                fid = self._resolve_field_name(item)
                if fid and fid not in ("key", "id"):
                    chosen.append(fid)
        seen: list[str] = []
        for fid in chosen:
            if fid not in excluded and fid not in seen:
                seen.append(fid)
        return seen

    def _issue_json(
        self,
        issue: IssueState,
        version: str,
        field_ids: list[str],
        properties: list[str] | None = None,
        expand: str = "",
        comment_limit: int | None = None,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "expand": ISSUE_EXPAND,
            "id": issue.id,
            "self": f"{self.base}/rest/api/{version}/issue/{issue.id}",
            "key": issue.key,
        }
        if field_ids:
            out["fields"] = {
                fid: self._field_value(issue, fid, version, comment_limit) for fid in field_ids
            }
        if properties:
            wanted = (
                list(issue.properties)
                if "*all" in properties
                else [p for p in properties if p in issue.properties]
            )
            out["properties"] = {p: issue.properties[p] for p in wanted}
        if "names" in expand.split(","):
            out["names"] = self._names(field_ids)
        if "changelog" in expand.split(","):
            out["changelog"] = self._changelog_in_issue(issue, version)
        return out

    def _names(self, field_ids: list[str]) -> dict[str, str]:
        names = {fid: self._shown(fname) for fid, fname, *_ in SYSTEM_FIELDS}
        names.update({c.id: self._shown(c.name) for c in self._custom})
        return {fid: names.get(fid, fid) for fid in field_ids}
