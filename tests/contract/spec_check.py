"""Requests the jobs send and answers the emulators give, checked against the vendors' specs.

The specs are read from ``tests/contract/specs/`` (gzipped copies; ``SPEC_FILES_DIR``
overrides; ``specs/README.md`` says where each comes from): Jira Cloud platform REST v3 and Jira
Service Management (OpenAPI 3.0), the Slack Web API (Swagger 2.0) and the Google Sheets v4
discovery document.
Schemas are checked with ``jsonschema`` (Draft 4 semantics, which OpenAPI 3.0 and Swagger 2.0
schemas follow; OpenAPI's ``nullable`` is turned into a ``null`` type).

What is checked for each `emulators.base.Exchange`:
- the operation exists in the spec (method and path template);
- query parameters the spec declares have its types and enum values, required ones are there;
- a JSON body matches the operation's request schema (``additionalProperties: false`` holds);
- the answer matches the schema declared for its status.

The rule for a whole session is `Violation` free answers, and a request with violations never
accepted (a 2xx; for Slack an ``ok: true``): what the spec refuses, the emulator refuses too.

Where a spec is silent or behind the service, the check follows the vendor's own reference
instead; each such place is an entry of `EXCEPTIONS` with the reason, and nothing else is.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jsonschema import Draft4Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4

from emulators.base import Exchange

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = Path(os.environ.get("SPEC_FILES_DIR") or Path(__file__).with_name("specs"))
"""The vendors' specs, kept with the tests (gzipped, as published; see ``specs/README.md``) so a
fresh clone checks against them; ``SPEC_FILES_DIR`` points elsewhere (plain or gzipped)."""


def _spec_text(path: Path) -> str:
    """A spec file as text, from ``name`` or ``name.gz``."""
    if path.is_file():
        return path.read_text(encoding="utf-8")
    packed = path.with_name(path.name + ".gz")
    return gzip.decompress(packed.read_bytes()).decode("utf-8")


def _spec_present(path: Path) -> bool:
    return path.is_file() or path.with_name(path.name + ".gz").is_file()


JIRA_SPEC = "jira-platform-swagger-v3.v3.json"
JSM_SPEC = "jsm-service_management.json"
SLACK_SPEC = "slack_web_openapi_v2.json"
SHEETS_SPEC = "sheets.v4.json"

EXCEPTIONS: dict[str, str] = {
    "jira-v2-paths": (
        "No v2 spec is published next to v3: /rest/api/2 (and /latest) calls are checked against "
        "the v3 operation of the same path. The two differ only in rich text (comment bodies, "
        "description): v2 takes and gives wiki-markup strings where v3 takes ADF documents, "
        "which the check enforces per version."
    ),
    "jira-undeclared-errors": (
        "Jira answers error statuses an operation does not list (429 and 5xx everywhere, 401 "
        "without content) with its ErrorCollection; JSM with its ErrorResponse. Those answers "
        "are checked against that shape."
    ),
    "jira-untranslated-name": (
        "GET /field answers carry `untranslatedName` (the spec's own example for custom fields "
        "shows it; FieldDetails omits it), and Jira Cloud sends it on issue types too "
        "(IssueTypeDetails and IssueTypeIssueCreateMetadata omit it). It is the only key "
        "allowed beyond those beans."
    ),
    "jira-issue-fields": (
        "IssueBean.fields is typed as a free-form object. Each field the jobs read is checked "
        "against the bean the spec gives for that type elsewhere (UserDetails, StatusDetails, "
        "Priority, IssueTypeDetails, ProjectDetails, ProjectComponent, Resolution, "
        "PageOfComments, LinkedIssue; JSM's OrganizationDTO, CustomerRequestDTO and "
        "SlaInformationDTO for its custom fields). In an issue's `issuelinks` each link holds "
        "only the other end, so IssueLink's requirement of both ends is dropped there."
    ),
    "slack-verbs": (
        "Slack takes every Web API method as GET or POST with arguments in the query string, a "
        "form body, or (where the method lists application/json) a JSON body "
        "(https://api.slack.com/web#basics); the spec lists one verb and one place per method."
    ),
    "slack-json-arguments": (
        "In JSON bodies Slack takes structured arguments (blocks, attachments) as JSON values; "
        "the spec types them as the form-encoded strings."
    ),
    "slack-error-codes": (
        "The 2021 spec's per-method error enums predate codes Slack's method reference lists "
        "now: invalid_blocks, invalid_blocks_format, message_not_found ... (SLACK_ERRORS); "
        "a rate limited call answers HTTP 429 with error `ratelimited` "
        "(https://api.slack.com/apis/rate-limits)."
    ),
    "slack-upload-methods": (
        "files.getUploadURLExternal and files.completeUploadExternal postdate the spec: their "
        "arguments and answers are hand-written from Slack's method reference "
        "(SLACK_UPLOAD_METHODS); the upload URL they return takes the raw bytes and is not a "
        "Web API method."
    ),
    "slack-socket-mode": (
        "apps.connections.open postdates the spec: its arguments and answer are hand-written from "
        "Slack's method reference (SLACK_SOCKET_MODE_METHODS). It takes the app-level token "
        "(xapp-), not the bot token; the WebSocket URL it returns is not a Web API method."
    ),
    "slack-update-blocks": (
        "chat.update's success schema types message.blocks as an object; Slack answers with the "
        "blocks array it stored (as chat.postMessage's message does), so an array is accepted."
    ),
    "google-errors-and-token": (
        "The discovery document has no error schema: errors follow Google's API error model "
        "({error: {code, message, status}}, https://cloud.google.com/apis/design/errors). The "
        "service account's token endpoint is OAuth 2.0 (RFC 6749 section 5, RFC 7523), not part "
        "of the Sheets API; its answers are checked against those RFCs' fields."
    ),
}


@dataclass(frozen=True)
class Violation:
    system: str
    method: str
    path: str
    status: int
    side: str
    """'request' or 'answer'."""
    where: str
    message: str

    def __str__(self) -> str:
        at = f" at {self.where}" if self.where else ""
        return (
            f"{self.system} {self.method} {self.path} -> {self.status}: {self.side}{at}: "
            f"{self.message}"
        )


# -- schema plumbing --------------------------------------------------------------------------

_DROP = {"description", "example", "examples", "externalDocs", "xml", "title", "discriminator"}


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 / Swagger 2.0 schema -> Draft 4 (``nullable`` becomes a null type)."""
    if isinstance(node, list):
        return [_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP or key.startswith("x-"):
            continue
        if key in ("properties", "definitions", "patternProperties"):
            out[key] = {k: _to_json_schema(v) for k, v in value.items()} if value else {}
        else:
            out[key] = _to_json_schema(value)
    if out.pop("nullable", False) is True:
        out = {"anyOf": [out, {"type": "null"}]}
    return out


class SchemaSet:
    """One spec document as a JSON Schema resource; validators by JSON pointer, cached."""

    def __init__(self, uri: str, document: dict[str, Any]) -> None:
        self.uri = uri
        self.document = document
        resource = DRAFT4.create_resource(document)
        self._registry: Registry[Any] = Registry().with_resource(uri, resource)
        self._validators: dict[str, Draft4Validator] = {}
        self._by_identity: dict[int, tuple[Any, Draft4Validator]] = {}

    def validator(self, pointer: str) -> Draft4Validator:
        found = self._validators.get(pointer)
        if found is None:
            found = Draft4Validator({"$ref": f"{self.uri}#{pointer}"}, registry=self._registry)
            self._validators[pointer] = found
        return found

    def inline(self, schema: dict[str, Any]) -> Draft4Validator:
        """A validator for a schema written here, whose ``$ref``s point into this document."""
        known = self._by_identity.get(id(schema))
        if known is not None and known[0] is schema:
            return known[1]
        validator = self._inline(schema)
        self._by_identity[id(schema)] = (schema, validator)
        return validator

    def _inline(self, schema: dict[str, Any]) -> Draft4Validator:
        key = json.dumps(schema, sort_keys=True)
        found = self._validators.get(key)
        if found is None:
            rebased = _rebase(schema, self.uri)
            found = Draft4Validator(rebased, registry=self._registry)
            self._validators[key] = found
        return found

    def errors(self, validator: Draft4Validator, instance: Any) -> list[tuple[str, str]]:
        out = []
        for error in validator.iter_errors(instance):
            where = "/" + "/".join(str(p) for p in error.absolute_path)
            out.append((where, _short(error)))
        return out


def _rebase(schema: Any, uri: str) -> Any:
    if isinstance(schema, list):
        return [_rebase(s, uri) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _rebase(v, uri) for k, v in schema.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        out["$ref"] = uri + ref
    return out


def _short(error: Any) -> str:
    message = str(error.message)
    if error.validator in ("anyOf", "oneOf") and error.context:
        best = min(error.context, key=lambda e: len(list(e.absolute_path)))
        message = f"{message[:120]} ({best.message[:160]})"
    return message[:400]


def _path_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    pattern = "".join("([^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{pattern}$")


@dataclass
class Operation:
    method: str
    template: str
    spec: dict[str, Any]
    regex: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        self.regex = _path_regex(self.template)

    @property
    def literal_length(self) -> int:
        return len(re.sub(r"\{[^}]+\}", "", self.template))


def _operations(paths: Mapping[str, Any]) -> list[Operation]:
    ops = []
    for template, item in paths.items():
        shared = item.get("parameters") or []
        for method, spec in item.items():
            if method in ("parameters", "summary", "description", "servers"):
                continue
            spec = dict(spec)
            spec["parameters"] = [*shared, *(spec.get("parameters") or [])]
            ops.append(Operation(method.upper(), template, spec))
    # Most literal first: /issue/createmeta beats /issue/{issueIdOrKey}.
    ops.sort(key=lambda o: -o.literal_length)
    return ops


def _find(ops: list[Operation], method: str | None, path: str) -> Operation | None:
    for op in ops:
        if (method is None or op.method == method) and op.regex.match(path):
            return op
    return None


def _coerce(value: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        return int(value) if re.fullmatch(r"-?\d+", value) else value
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            return value
    if kind == "boolean":
        return {"true": True, "false": False}.get(value, value)
    return value


def _json_body(exchange: Exchange) -> tuple[Any, str | None]:
    if not exchange.body:
        return None, None
    try:
        return json.loads(exchange.body), None
    except ValueError:
        return None, "the body is not JSON"
    except RecursionError:
        return None, "the body nests deeper than JSON readers go (Jira's stops at 1,000 levels)"


# -- Atlassian (platform and JSM) -------------------------------------------------------------

ADF_DOC = {
    "type": "object",
    "required": ["type", "version", "content"],
    "properties": {
        "type": {"enum": ["doc"]},
        "version": {"enum": [1]},
        "content": {"type": "array"},
    },
    "additionalProperties": False,
}
ADF_NODE = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string"},
        "content": {"type": "array"},
        "text": {"type": "string"},
        "attrs": {"type": "object"},
        "marks": {"type": "array", "items": {"type": "object", "required": ["type"]}},
    },
}
"""The ADF document structure (https://developer.atlassian.com/cloud/jira/platform/apis/
document/structure/): a ``doc`` of version 1 whose content is typed nodes, all the way down.
Checked node by node (`adf_problems`), so a deep document cannot exhaust the stack."""


def adf_problems(value: Any) -> list[tuple[str, str]]:
    problems = []
    doc = Draft4Validator(ADF_DOC)
    node_check = Draft4Validator(ADF_NODE)
    for error in doc.iter_errors(value):
        problems.append(("/" + "/".join(map(str, error.absolute_path)), error.message[:200]))
    if problems:
        return problems
    stack = [(f"/content/{i}", n) for i, n in enumerate(value["content"])]
    while stack and len(problems) < 5:
        where, node = stack.pop()
        for error in node_check.iter_errors(node):
            problems.append((where, error.message[:200]))
        if isinstance(node, dict) and isinstance(node.get("content"), list):
            stack.extend((f"{where}/content/{i}", n) for i, n in enumerate(node["content"]))
    return problems


_C = "#/components/schemas/"
FIELD_BEANS_PLATFORM = {
    "summary": {"type": "string"},
    "status": {"$ref": _C + "StatusDetails"},
    "priority": {"anyOf": [{"$ref": _C + "Priority"}, {"type": "null"}]},
    "assignee": {"anyOf": [{"$ref": _C + "UserDetails"}, {"type": "null"}]},
    "reporter": {"anyOf": [{"$ref": _C + "UserDetails"}, {"type": "null"}]},
    "issuetype": {"$ref": _C + "IssueTypeDetails"},
    "project": {"$ref": _C + "ProjectDetails"},
    "components": {"type": "array", "items": {"$ref": _C + "ProjectComponent"}},
    "resolution": {"anyOf": [{"$ref": _C + "Resolution"}, {"type": "null"}]},
    "labels": {"type": "array", "items": {"type": "string"}},
    "created": {"type": "string"},
    "updated": {"type": "string"},
    "resolutiondate": {"type": ["string", "null"]},
    "duedate": {"type": ["string", "null"]},
    "parent": {"anyOf": [{"$ref": _C + "LinkedIssue"}, {"type": "null"}]},
    "comment": {"$ref": _C + "PageOfComments"},
    "issuelinks": {
        "type": "array",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type"],
            "properties": {
                "id": {"type": "string"},
                "self": {"type": "string"},
                "type": {"$ref": _C + "IssueLinkType"},
                "inwardIssue": {"$ref": _C + "LinkedIssue"},
                "outwardIssue": {"$ref": _C + "LinkedIssue"},
            },
        },
    },
}
FIELD_BEANS_BY_CUSTOM_TYPE: dict[str, tuple[str, dict[str, Any]]] = {
    # (spec, schema) by the field's schema.custom
    "com.atlassian.servicedesk:sd-customer-organizations": (
        "jsm",
        {"type": ["array", "null"], "items": {"$ref": _C + "OrganizationDTO"}},
    ),
    "com.atlassian.servicedesk:vp-origin": (
        "jsm",
        {"anyOf": [{"$ref": _C + "CustomerRequestDTO"}, {"type": "null"}]},
    ),
    "com.atlassian.servicedesk:sd-sla-field": (
        "jsm",
        {"anyOf": [{"$ref": _C + "SlaInformationDTO"}, {"type": "null"}]},
    ),
    "com.atlassian.jira.plugin.system.customfieldtypes:datepicker": (
        "jira",
        {"type": ["string", "null"]},
    ),
    "com.atlassian.jira.plugin.system.customfieldtypes:userpicker": (
        "jira",
        {"anyOf": [{"$ref": _C + "UserDetails"}, {"type": "null"}]},
    ),
    "com.atlassian.jira.plugin.system.customfieldtypes:select": (
        "jira",
        {"anyOf": [{"$ref": _C + "CustomFieldOptionWithId"}, {"type": "null"}]},
    ),
    "com.atlassian.jira.plugin.system.customfieldtypes:multicheckboxes": (
        "jira",
        {"type": ["array", "null"], "items": {"$ref": _C + "CustomFieldOptionWithId"}},
    ),
    "com.atlassian.jira.plugin.system.customfieldtypes:textfield": ("jira", {}),
}


def _jira_document(raw: dict[str, Any]) -> dict[str, Any]:
    doc = _to_json_schema(raw)
    schemas = doc["components"]["schemas"]
    for bean in ("FieldDetails", "IssueTypeDetails", "IssueTypeIssueCreateMetadata"):
        # EXCEPTIONS["jira-untranslated-name"]
        schemas[bean]["properties"]["untranslatedName"] = {"type": "string"}
    # Limits the spec states in words, as schema: "a list of up to 5 issue properties",
    # "accepts max 50 ids".
    search = schemas["SearchAndReconcileRequestBean"]["properties"]
    search["properties"]["maxItems"] = 5
    search["reconcileIssues"]["maxItems"] = 50
    # Options in issue fields carry their id next to self and value (CustomFieldOption has
    # only self and value, for GET /customFieldOption/{id}).
    option = copy.deepcopy(schemas["CustomFieldOption"])
    option["properties"]["id"] = {"type": "string"}
    schemas["CustomFieldOptionWithId"] = option
    return doc


class AtlassianSpecs:
    def __init__(self, directory: Path) -> None:
        self.jira = SchemaSet(
            "urn:jira-platform", _jira_document(json.loads(_spec_text(directory / JIRA_SPEC)))
        )
        self.jsm = SchemaSet(
            "urn:jira-jsm", _to_json_schema(json.loads(_spec_text(directory / JSM_SPEC)))
        )
        self._ops = {
            "jira": _operations(self.jira.document["paths"]),
            "jsm": _operations(self.jsm.document["paths"]),
        }
        self.custom_types: dict[str, str] = {}
        """Custom field id -> schema.custom, learnt from GET /field answers."""

    def check(self, ex: Exchange) -> list[Violation]:
        problems: list[Violation] = []

        def add(side: str, where: str, message: str) -> None:
            problems.append(Violation("jira", ex.method, ex.path, ex.status, side, where, message))

        if ex.path.startswith("/rest/servicedeskapi/"):
            system, version, spec_path = "jsm", None, ex.path
        else:
            m = re.match(r"^/rest/api/(2|3|latest)(/.*)$", ex.path)
            if not m:
                add("request", "", "not a Jira REST path")
                return problems
            version = "3" if m.group(1) == "3" else "2"  # EXCEPTIONS["jira-v2-paths"]
            system, spec_path = "jira", "/rest/api/3" + m.group(2)
        schemas = self.jira if system == "jira" else self.jsm
        op = _find(self._ops[system], ex.method, spec_path)
        if op is None:
            add("request", "", f"no {ex.method} {spec_path} in the {system} spec")
            return problems
        self._check_request(ex, op, schemas, version, add)
        self._check_answer(ex, op, schemas, system, version, add)
        return problems

    # -- requests --
    def _check_request(
        self,
        ex: Exchange,
        op: Operation,
        schemas: SchemaSet,
        version: str | None,
        add: Callable[[str, str, str], None],
    ) -> None:
        for param in op.spec["parameters"]:
            if param.get("in") != "query":
                continue
            name = param["name"]
            schema = param.get("schema") or {}
            values = ex.query.get(name)
            if values is None:
                if param.get("required"):
                    add("request", f"?{name}", "required query parameter missing")
                continue
            if schema.get("type") == "array":
                instance: Any = [_coerce(v, schema.get("items") or {}) for v in values]
            else:
                if len(values) > 1:
                    add("request", f"?{name}", "given more than once")
                instance = _coerce(values[-1], schema)
            for where, message in schemas.errors(schemas.inline(schema), instance):
                add("request", f"?{name}{where if where != '/' else ''}", message)
        body_spec = op.spec.get("requestBody")
        body, problem = _json_body(ex)
        if problem:
            add("request", "", problem)
            return
        if body_spec is None:
            if body is not None:
                add("request", "", "the operation takes no body")
            return
        content = body_spec.get("content") or {}
        schema = (content.get("application/json") or {}).get("schema")
        if body is None:
            if body_spec.get("required"):
                add("request", "", "the operation needs a JSON body")
            return
        if not (ex.headers.get("content-type") or "").startswith("application/json"):
            add("request", "", f"JSON body sent as {ex.headers.get('content-type')!r}")
        if schema is not None:
            for where, message in schemas.errors(schemas.inline(schema), body):
                add("request", where, message)
        self._check_rich_text_request(ex, op, version, body, add)

    def _check_rich_text_request(
        self,
        ex: Exchange,
        op: Operation,
        version: str | None,
        body: Any,
        add: Callable[[str, str, str], None],
    ) -> None:
        if version is None or not isinstance(body, dict):
            return
        texts: list[tuple[str, Any]] = []
        if op.template.endswith("/comment") and "body" in body:
            texts.append(("/body", body["body"]))
        fields = body.get("fields")
        if isinstance(fields, dict) and "description" in fields:
            texts.append(("/fields/description", fields["description"]))
        update = body.get("update")
        if isinstance(update, dict):
            for i, op_ in enumerate(update.get("comment") or []):
                added = op_.get("add") if isinstance(op_, dict) else None
                if isinstance(added, dict) and "body" in added:
                    texts.append((f"/update/comment/{i}/add/body", added["body"]))
        comment = body.get("comment")
        if op.template.endswith("/issueLink") and isinstance(comment, dict) and "body" in comment:
            texts.append(("/comment/body", comment["body"]))
        for where, value in texts:
            self._rich_text(value, version, "request", where, add)

    def _rich_text(
        self,
        value: Any,
        version: str,
        side: str,
        where: str,
        add: Callable[[str, str, str], None],
    ) -> None:
        if value is None:
            return
        if version == "3":
            for at, message in adf_problems(value):
                add(side, where + (at if at != "/" else ""), f"not an ADF document: {message}")
        elif not isinstance(value, str):
            add(side, where, "v2 rich text is a wiki-markup string")

    # -- answers --
    def _check_answer(
        self,
        ex: Exchange,
        op: Operation,
        schemas: SchemaSet,
        system: str,
        version: str | None,
        add: Callable[[str, str, str], None],
    ) -> None:
        body = ex.response_body
        if isinstance(body, bytes):
            add("answer", "", "the answer is not JSON")
            return
        responses = op.spec["responses"]
        declared = responses.get(str(ex.status)) or responses.get("default")
        schema = None
        if declared is not None:
            schema = ((declared.get("content") or {}).get("application/json") or {}).get("schema")
        if ex.status >= 400 and schema is None:
            # EXCEPTIONS["jira-undeclared-errors"]
            schema = {"$ref": _C + ("ErrorCollection" if system == "jira" else "ErrorResponse")}
        if declared is None and ex.status < 400:
            add("answer", "", f"status {ex.status} is not one the operation answers with")
            return
        if schema is None:
            if body is not None:
                add("answer", "", "the operation answers this status without a body")
            return
        if body is None:
            if schema != {}:
                add("answer", "", "empty answer where the spec gives a body")
            return
        for where, message in schemas.errors(schemas.inline(schema), body):
            add("answer", where, message)
        if ex.status < 300 and system == "jira":
            if op.template.endswith("/field"):
                self._learn_fields(body)
            self._check_issue_fields(op, body, version, add)
            if op.template.endswith("/comment") and version is not None:
                comments = body.get("comments") if isinstance(body, dict) else None
                if comments is None and isinstance(body, dict):
                    comments = [body]
                for i, c in enumerate(comments or []):
                    if isinstance(c, dict) and "body" in c:
                        self._rich_text(c["body"], version, "answer", f"/comments/{i}/body", add)

    def _learn_fields(self, body: Any) -> None:
        for f in body if isinstance(body, list) else []:
            custom = (f.get("schema") or {}).get("custom") if isinstance(f, dict) else None
            if custom:
                self.custom_types[str(f["id"])] = str(custom)

    def _check_issue_fields(
        self,
        op: Operation,
        body: Any,
        version: str | None,
        add: Callable[[str, str, str], None],
    ) -> None:
        """EXCEPTIONS["jira-issue-fields"]: each field of each issue against its bean."""
        if not isinstance(body, dict) or version is None:
            return
        if op.template.endswith("/search/jql"):
            issues = [(f"/issues/{i}", issue) for i, issue in enumerate(body.get("issues") or [])]
        elif op.template == "/rest/api/3/issue/{issueIdOrKey}":
            issues = [("", body)]
        else:
            return
        for at, issue in issues:
            fields = issue.get("fields") if isinstance(issue, dict) else None
            for fid, value in (fields or {}).items():
                where = f"{at}/fields/{fid}"
                if fid == "description":
                    self._rich_text(value, version, "answer", where, add)
                    continue
                if fid == "comment" and isinstance(value, dict):
                    for i, c in enumerate(value.get("comments") or []):
                        if isinstance(c, dict):
                            self._rich_text(
                                c.get("body"), version, "answer", f"{where}/comments/{i}/body", add
                            )
                bean = FIELD_BEANS_PLATFORM.get(fid)
                schemas = self.jira
                if bean is None and fid in self.custom_types:
                    spec, bean = FIELD_BEANS_BY_CUSTOM_TYPE.get(
                        self.custom_types[fid], ("jira", None)
                    )
                    schemas = self.jsm if spec == "jsm" else self.jira
                if bean is None:
                    continue
                for w, message in schemas.errors(schemas.inline(bean), value):
                    add("answer", where + (w if w != "/" else ""), message)


# -- Slack ------------------------------------------------------------------------------------

SLACK_ERRORS: dict[str, set[str]] = {
    # From each method's page at https://docs.slack.dev/reference/methods/ (errors section).
    "chat.postMessage": {"invalid_blocks", "invalid_blocks_format", "ratelimited"},
    "chat.update": {"invalid_blocks", "invalid_blocks_format", "ratelimited", "no_text"},
    "users.lookupByEmail": {"ratelimited", "invalid_arguments"},
    "conversations.open": {"ratelimited", "users_list_not_supplied", "not_implemented"},
    "auth.test": {"ratelimited"},
    "chat.postEphemeral": {"invalid_blocks", "invalid_blocks_format", "ratelimited"},
    "users.info": {"ratelimited"},
    "conversations.list": {"invalid_cursor", "invalid_limit", "ratelimited"},
    "conversations.members": {"ratelimited"},
    "usergroups.users.list": {"no_such_subteam", "ratelimited"},
}
"""EXCEPTIONS["slack-error-codes"]: codes beyond the spec's enums, per method."""

_SLACK_FILE = {
    "type": "object",
    "required": ["id"],
    "properties": {"id": {"type": "string"}, "title": {"type": ["string", "null"]}},
}
SLACK_UPLOAD_METHODS: dict[str, dict[str, Any]] = {
    # EXCEPTIONS["slack-upload-methods"], from
    # https://docs.slack.dev/reference/methods/files.getUploadURLExternal and
    # https://docs.slack.dev/reference/methods/files.completeUploadExternal
    "files.getUploadURLExternal": {
        "consumes": ["application/x-www-form-urlencoded"],
        "arguments": {
            "filename": {"type": "string", "required": True},
            "length": {"type": "integer", "required": True},
            "alt_txt": {"type": "string"},
            "snippet_type": {"type": "string"},
        },
        "ok": {
            "type": "object",
            "additionalProperties": False,
            "required": ["ok", "upload_url", "file_id"],
            "properties": {
                "ok": {"enum": [True]},
                "upload_url": {"type": "string"},
                "file_id": {"type": "string"},
            },
        },
        "errors": {"invalid_arguments", "not_authed", "invalid_auth", "ratelimited"},
    },
    "files.completeUploadExternal": {
        "consumes": ["application/x-www-form-urlencoded", "application/json"],
        "arguments": {
            "files": {"type": "json-array", "required": True, "items": _SLACK_FILE},
            "channel_id": {"type": "string"},
            "channels": {"type": "string"},
            "initial_comment": {"type": "string"},
            "thread_ts": {"type": "string"},
            "blocks": {"type": "string"},
        },
        "ok": {
            "type": "object",
            "additionalProperties": False,
            "required": ["ok", "files"],
            "properties": {
                "ok": {"enum": [True]},
                "files": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id"],
                        "properties": {
                            "id": {"type": "string"},
                            "title": {"type": ["string", "null"]},
                            "name": {"type": "string"},
                        },
                    },
                },
            },
        },
        "errors": {
            "invalid_arguments",
            "file_not_found",
            "channel_not_found",
            "not_authed",
            "invalid_auth",
            "ratelimited",
        },
    },
}


SLACK_SOCKET_MODE_METHODS: dict[str, dict[str, Any]] = {
    # EXCEPTIONS["slack-socket-mode"], from
    # https://docs.slack.dev/reference/methods/apps.connections.open
    "apps.connections.open": {
        "consumes": ["application/x-www-form-urlencoded"],
        "arguments": {},
        "ok": {
            "type": "object",
            "additionalProperties": False,
            "required": ["ok", "url"],
            "properties": {"ok": {"enum": [True]}, "url": {"type": "string"}},
        },
        "errors": {"not_authed", "invalid_auth", "ratelimited", "not_allowed_token_type"},
    },
}


class SlackSpecs:
    def __init__(self, directory: Path) -> None:
        self.schemas = SchemaSet(
            "urn:slack", _to_json_schema(json.loads(_spec_text(directory / SLACK_SPEC)))
        )
        self.paths = self.schemas.document["paths"]

    def check(self, ex: Exchange) -> list[Violation]:
        problems: list[Violation] = []

        def add(side: str, where: str, message: str) -> None:
            problems.append(Violation("slack", ex.method, ex.path, ex.status, side, where, message))

        if ex.path.startswith("/upload/"):
            return problems  # EXCEPTIONS["slack-upload-methods"]: raw bytes, not a method
        m = re.match(r"^/api/([A-Za-z.]+)$", ex.path)
        if not m:
            add("request", "", "not a Web API method path")
            return problems
        method = m.group(1)
        if ex.method not in ("GET", "POST"):  # EXCEPTIONS["slack-verbs"]
            add("request", "", "Slack methods take GET or POST")
        content_type = (ex.headers.get("content-type") or "").split(";")[0].strip()
        args, is_json = self._arguments(ex, content_type, add)
        if method in SLACK_UPLOAD_METHODS or method in SLACK_SOCKET_MODE_METHODS:
            self._check_upload(method, ex, args, content_type, add)
            return problems
        item = self.paths.get(f"/{method}")
        if item is None:
            add("request", "", f"no method {method} in the spec")
            return problems
        op = next(iter(item.values()))
        consumes = op.get("consumes") or ["application/x-www-form-urlencoded"]
        if ex.body and content_type not in consumes:
            add("request", "", f"{method} does not take {content_type or 'that body'}")
        if is_json and "token" in args:
            add("request", "/token", "a JSON body cannot carry the token (Authorization header)")
        for param in op.get("parameters") or []:
            name = param["name"]
            if name == "token":
                continue  # in the Authorization header, which recording leaves out
            if name not in args:
                if param.get("required"):
                    add("request", f"/{name}", "required argument missing")
                continue
            self._check_argument(name, param, args[name], is_json, add)
        self._check_slack_answer(method, op, ex, add)
        return problems

    def _arguments(
        self, ex: Exchange, content_type: str, add: Callable[[str, str, str], None]
    ) -> tuple[dict[str, Any], bool]:
        args: dict[str, Any] = {k: v[-1] for k, v in ex.query.items()}
        if not ex.body:
            return args, False
        if content_type == "application/json":
            try:
                body = json.loads(ex.body)
            except ValueError:
                add("request", "", "the JSON body is not JSON")
                return args, True
            if not isinstance(body, dict):
                add("request", "", "the JSON body is not an object")
                return args, True
            args.update(body)
            return args, True
        if content_type == "application/x-www-form-urlencoded":
            form = parse_qs(ex.body.decode(errors="replace"), keep_blank_values=True)
            args.update({k: v[-1] for k, v in form.items()})
        return args, False

    def _check_argument(
        self,
        name: str,
        param: Mapping[str, Any],
        value: Any,
        is_json: bool,
        add: Callable[[str, str, str], None],
    ) -> None:
        kind = param.get("type")
        if is_json:
            if kind == "boolean" and not isinstance(value, bool | str):
                add("request", f"/{name}", f"expected a boolean, got {value!r}")
            elif kind == "integer" and not isinstance(value, int | str):
                add("request", f"/{name}", f"expected an integer, got {value!r}")
            elif kind == "string" and not isinstance(value, str):
                # EXCEPTIONS["slack-json-arguments"]: structured arguments as JSON values.
                if name not in ("blocks", "attachments") or not isinstance(value, list):
                    add("request", f"/{name}", f"expected a string, got {type(value).__name__}")
            return
        text = str(value)
        if kind == "boolean" and text.lower() not in ("true", "false", "1", "0"):
            add("request", f"/{name}", f"expected a boolean, got {text!r}")
        elif kind == "integer" and not re.fullmatch(r"-?\d+", text):
            add("request", f"/{name}", f"expected an integer, got {text!r}")
        if param.get("enum") and text not in param["enum"]:
            add("request", f"/{name}", f"{text!r} is not one of {param['enum']}")

    def _check_slack_answer(
        self, method: str, op: Mapping[str, Any], ex: Exchange, add: Callable[[str, str, str], None]
    ) -> None:
        body = ex.response_body
        if not isinstance(body, dict):
            add("answer", "", "the answer is not a JSON object")
            return
        if body.get("ok") is True:
            schema = ((op.get("responses") or {}).get("200") or {}).get("schema")
            if ex.status != 200:
                add("answer", "", f"ok: true with HTTP {ex.status}")
            if schema is None:
                return
            instance = body
            if method == "chat.update" and isinstance(
                (body.get("message") or {}).get("blocks"), list
            ):
                # EXCEPTIONS["slack-update-blocks"]
                instance = copy.deepcopy(body)
                instance["message"]["blocks"] = {}
            for where, message in self.schemas.errors(self.schemas.inline(schema), instance):
                add("answer", where, message)
            return
        code = body.get("error")
        schema = ((op.get("responses") or {}).get("default") or {}).get("schema")
        if ex.status == 429 and code == "ratelimited":  # EXCEPTIONS["slack-error-codes"]
            return
        if code in SLACK_ERRORS.get(method, set()):
            schema = None
            if set(body) - {"ok", "error", "errors", "response_metadata", "warning", "needed"}:
                add("answer", "", f"unexpected keys in an error answer: {sorted(body)}")
        if schema is None:
            if not isinstance(code, str):
                add("answer", "/error", "an error answer names its error")
            return
        for where, message in self.schemas.errors(self.schemas.inline(schema), body):
            add("answer", where, message)

    def _check_upload(
        self,
        method: str,
        ex: Exchange,
        args: Mapping[str, Any],
        content_type: str,
        add: Callable[[str, str, str], None],
    ) -> None:
        spec = SLACK_UPLOAD_METHODS.get(method) or SLACK_SOCKET_MODE_METHODS[method]
        if ex.body and content_type not in spec["consumes"]:
            add("request", "", f"{method} does not take {content_type or 'that body'}")
        for name, rule in spec["arguments"].items():
            if name not in args:
                if rule.get("required"):
                    add("request", f"/{name}", "required argument missing")
                continue
            value = args[name]
            if rule["type"] == "integer" and not re.fullmatch(r"\d+", str(value)):
                add("request", f"/{name}", f"expected an integer, got {value!r}")
            if rule["type"] == "json-array":
                parsed = value
                if isinstance(value, str):
                    try:
                        parsed = json.loads(value)
                    except ValueError:
                        add("request", f"/{name}", "not a JSON array")
                        continue
                validator = Draft4Validator(
                    {"type": "array", "minItems": 1, "items": rule["items"]}
                )
                for error in validator.iter_errors(parsed):
                    add("request", f"/{name}", error.message)
        body = ex.response_body
        if not isinstance(body, dict):
            add("answer", "", "the answer is not a JSON object")
            return
        if body.get("ok") is True:
            for error in Draft4Validator(spec["ok"]).iter_errors(body):
                add("answer", "/" + "/".join(map(str, error.absolute_path)), error.message)
        elif body.get("error") not in spec["errors"]:
            add("answer", "/error", f"{body.get('error')!r} is not an error {method} answers")


# -- Google Sheets ----------------------------------------------------------------------------

GOOGLE_ERROR = {
    # EXCEPTIONS["google-errors-and-token"]
    "type": "object",
    "additionalProperties": False,
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "status"],
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "status": {"type": "string"},
                "details": {"type": "array"},
                "errors": {"type": "array"},
            },
            "additionalProperties": False,
        }
    },
}
OAUTH_TOKEN_OK = {
    "type": "object",
    "required": ["access_token", "token_type"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string"},
        "expires_in": {"type": "integer"},
        "scope": {"type": "string"},
        "id_token": {"type": "string"},
    },
    "additionalProperties": False,
}
OAUTH_TOKEN_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "enum": [
                "invalid_request",
                "invalid_client",
                "invalid_grant",
                "unauthorized_client",
                "unsupported_grant_type",
                "invalid_scope",
            ]
        },
        "error_description": {"type": "string"},
        "error_uri": {"type": "string"},
    },
    "additionalProperties": False,
}


def _discovery_schema(node: Any) -> Any:
    """Discovery schema -> Draft 4: bare ``$ref`` names, ``any``, closed objects."""
    if isinstance(node, list):
        return [_discovery_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("description", "enumDescriptions", "id", "readOnly", "deprecated"):
            continue
        if key == "properties":
            out[key] = {k: _discovery_schema(v) for k, v in value.items()}
        elif key == "$ref":
            out[key] = f"#/schemas/{value}"
        elif key == "type" and value == "any":
            continue
        elif key == "format":
            continue
        else:
            out[key] = _discovery_schema(value)
    if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
        out["additionalProperties"] = False
    if node.get("type") == "string" and node.get("format") in ("int64", "uint64"):
        out["pattern"] = r"^-?\d+$"
    return out


class SheetsSpecs:
    def __init__(self, directory: Path) -> None:
        raw = json.loads(_spec_text(directory / SHEETS_SPEC))
        self.document = {"schemas": {k: _discovery_schema(v) for k, v in raw["schemas"].items()}}
        self.schemas = SchemaSet("urn:sheets", self.document)
        self.global_parameters = raw["parameters"]
        self.methods: list[tuple[re.Pattern[str], dict[str, Any]]] = []

        def walk(resource: Mapping[str, Any]) -> None:
            for method in (resource.get("methods") or {}).values():
                path = "/" + method["flatPath"]
                self.methods.append((_path_regex(path), method))
            for child in (resource.get("resources") or {}).values():
                walk(child)

        walk(raw)
        self.methods.sort(key=lambda m: -len(m[1]["flatPath"].replace("{", "").split("}")[0]))

    def check(self, ex: Exchange) -> list[Violation]:
        problems: list[Violation] = []

        def add(side: str, where: str, message: str) -> None:
            problems.append(
                Violation("sheets", ex.method, ex.path, ex.status, side, where, message)
            )

        if ex.path == "/token":
            self._check_token(ex, add)
            return problems
        method = next(
            (
                m
                for regex, m in self.methods
                if m["httpMethod"] == ex.method and regex.match(ex.path)
            ),
            None,
        )
        if method is None:
            add("request", "", "no such method in the Sheets discovery document")
            return problems
        params = {**self.global_parameters, **method.get("parameters", {})}
        for name, values in ex.query.items():
            spec = params.get(name)
            if spec is None:
                add("request", f"?{name}", "not a parameter of this method")
                continue
            if spec.get("location") != "query":
                add("request", f"?{name}", "a path parameter given in the query")
            for value in values:
                if spec.get("enum") and value not in spec["enum"]:
                    add("request", f"?{name}", f"{value!r} is not one of {spec['enum']}")
                if spec.get("type") == "boolean" and value not in ("true", "false"):
                    add("request", f"?{name}", f"{value!r} is not a boolean")
        body = ex.response_body
        if ex.status >= 400:
            validator = Draft4Validator(GOOGLE_ERROR)
        else:
            ref = (method.get("response") or {}).get("$ref")
            if ref is None:
                return problems
            validator = self.schemas.validator(f"/schemas/{ref}")
        for error in validator.iter_errors(body):
            add("answer", "/" + "/".join(map(str, error.absolute_path)), error.message[:300])
        return problems

    def _check_token(self, ex: Exchange, add: Callable[[str, str, str], None]) -> None:
        form = parse_qs(ex.body.decode(errors="replace"))
        if "grant_type" not in form or "assertion" not in form:
            add("request", "", "a JWT bearer grant needs grant_type and assertion (RFC 7523)")
        schema = OAUTH_TOKEN_OK if ex.status == 200 else OAUTH_TOKEN_ERROR
        for error in Draft4Validator(schema).iter_errors(ex.response_body):
            add("answer", "/" + "/".join(map(str, error.absolute_path)), error.message)


# -- all together ------------------------------------------------------------------------------


class SpecBook:
    """The four specs, loaded once; `check` routes an exchange to the right one."""

    def __init__(self, directory: Path = SPEC_DIR) -> None:
        self.atlassian = AtlassianSpecs(directory)
        self.slack = SlackSpecs(directory)
        self.sheets = SheetsSpecs(directory)

    def check(self, exchange: Exchange) -> list[Violation]:
        if exchange.emulator == "jira":
            return self.atlassian.check(exchange)
        if exchange.emulator == "slack":
            return self.slack.check(exchange)
        if exchange.emulator == "sheets":
            return self.sheets.check(exchange)
        return []


@cache
def spec_book() -> SpecBook:
    return SpecBook(SPEC_DIR)


def specs_available() -> bool:
    return all(
        _spec_present(SPEC_DIR / name) for name in (JIRA_SPEC, JSM_SPEC, SLACK_SPEC, SHEETS_SPEC)
    )


@dataclass
class Recorder:
    """Collects every exchange of every emulator while installed (`Emulator.observers`)."""

    exchanges: list[Exchange] = field(default_factory=list)

    def __call__(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)

    def __enter__(self) -> Recorder:
        from emulators.base import Emulator

        Emulator.observers.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        from emulators.base import Emulator

        Emulator.observers.remove(self)


def judge(exchanges: Iterable[Exchange], *, requests_must_be_valid: bool) -> list[Violation]:
    """Violations that break the rule (module docstring). Injected faults are not judged: they
    are a test's deliberate misbehaviour, not the emulated service's."""
    book = spec_book()
    out: list[Violation] = []
    for exchange in exchanges:
        if exchange.fault:
            continue
        found = book.check(exchange)
        answers = [v for v in found if v.side == "answer"]
        requests = [v for v in found if v.side == "request"]
        out.extend(answers)
        if requests and (requests_must_be_valid or not _refused(exchange)):
            out.extend(requests)
    return out


def _refused(exchange: Exchange) -> bool:
    """An error status; for Slack (errors are HTTP 200) an ``ok: false`` answer too."""
    if exchange.status >= 400:
        return True
    body = exchange.response_body
    return exchange.emulator == "slack" and isinstance(body, dict) and body.get("ok") is False
