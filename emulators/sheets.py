"""A loopback Google Sheets API v4 (the read calls gspread 6 makes) and OAuth2 token endpoint.

Contract points that matter to the adapter
(https://developers.google.com/sheets/api/reference/rest):
- ``GET /v4/spreadsheets/{key}`` answers metadata: ``properties.title`` and
  ``sheets[].properties`` (sheetId, title, index, gridProperties) in tab order;
- ``GET /v4/spreadsheets/{key}/values/{range}`` answers ``{range, majorDimension, values}``;
  ranges are A1 notation with optional quoted sheet names (``'It''s'!A1:C``); "empty trailing
  rows and columns are omitted", so rows come back ragged and ``values`` is absent when empty;
- every /v4 call needs ``Authorization: Bearer <access token>``; errors are
  ``{"error": {"code", "message", "status"}}`` (401 UNAUTHENTICATED, 403 PERMISSION_DENIED,
  404 NOT_FOUND, 429 RESOURCE_EXHAUSTED, 500 INTERNAL, 503 UNAVAILABLE);
- a service account gets its token with the JWT bearer grant (RFC 7523) at its key file's
  ``token_uri``: an RS256-signed assertion whose ``kid`` names the key.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from emulators.base import Emulator, Request, Response

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
DEFAULT_CLIENT_EMAIL = "sla-monitor@everbright-support.iam.gserviceaccount.com"

_GOOGLE_STATUS = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: (
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
    ),
    403: ("PERMISSION_DENIED", "The caller does not have permission"),
    404: ("NOT_FOUND", "Requested entity was not found."),
    429: (
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute "
        "per user' of service 'sheets.googleapis.com'.",
    ),
    500: ("INTERNAL", "Internal error encountered."),
    503: ("UNAVAILABLE", "The service is currently unavailable."),
}

Cell = str | int | float | bool | None

# Parameters every Google API method takes (the discovery document's top-level "parameters").
_GLOBAL_PARAMETERS = {
    "$.xgafv": ("1", "2"),
    "access_token": None,
    "alt": ("json", "media", "proto"),
    "callback": None,
    "fields": None,
    "key": None,
    "oauth_token": None,
    "prettyPrint": ("true", "false"),
    "quotaUser": None,
    "upload_protocol": None,
    "uploadType": None,
}
_RENDER = {
    "dateTimeRenderOption": ("SERIAL_NUMBER", "FORMATTED_STRING"),
    "majorDimension": ("DIMENSION_UNSPECIFIED", "ROWS", "COLUMNS"),
    "valueRenderOption": ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"),
}
_METHOD_PARAMETERS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "spreadsheets.get": {
        "includeGridData": ("true", "false"),
        "excludeTablesInBandedRanges": ("true", "false"),
        "ranges": None,
        "commentsViewMode": (
            "COMMENTS_VIEW_MODE_UNSPECIFIED",
            "COMMENTS_VIEW_MODE_DEFAULT_FOR_CURRENT_ACCESS",
            "COMMENTS_VIEW_MODE_OMITTED",
            "COMMENTS_VIEW_MODE_INCLUDED",
        ),
    },
    "spreadsheets.values.get": dict(_RENDER),
    "spreadsheets.values.batchGet": {**_RENDER, "ranges": None},
}
"""Query parameters per method and their allowed values (None: any), from the Sheets v4
discovery document; Google refuses any other ("Cannot bind query parameter")."""


def _bad_parameter(request: Request, method: str) -> Response | None:
    allowed = {**_GLOBAL_PARAMETERS, **_METHOD_PARAMETERS[method]}
    for name, values in request.query.items():
        if name not in allowed:
            message = (
                f'Invalid JSON payload received. Unknown name "{name}": '
                "Cannot bind query parameter. Field '{name}' could not be found in request message."
            )
            return Response(400, google_error(400, message))
        choices = allowed[name]
        for value in values:
            if choices is not None and value not in choices:
                message = f"Invalid value at '{name}' ({value})"
                return Response(400, google_error(400, message))
    return None


@dataclass
class ServiceAccountKey:
    client_email: str
    private_key_id: str
    public_key: rsa.RSAPublicKey


def google_error(status: int, message: str | None = None) -> dict[str, Any]:
    name, default = _GOOGLE_STATUS.get(status, ("UNKNOWN", "Unknown error."))
    return {"error": {"code": status, "message": message or default, "status": name}}


def write_service_account_file(
    directory: str | Path,
    token_uri: str,
    *,
    client_email: str = DEFAULT_CLIENT_EMAIL,
    file_name: str = "service-account.json",
) -> tuple[Path, ServiceAccountKey]:
    """A Google service-account key file with a freshly generated RSA key.

    Real google-auth loads it unchanged; ``token_uri`` decides where tokens come from.
    """
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key = ServiceAccountKey(client_email, secrets.token_hex(20), private_key.public_key())
    project = client_email.split("@")[-1].split(".")[0]
    info = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": key.private_key_id,
        "private_key": pem,
        "client_email": client_email,
        "client_id": str(secrets.randbelow(10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
        + client_email.replace("@", "%40"),
        "universe_domain": "googleapis.com",
    }
    path = Path(directory) / file_name
    path.write_text(json.dumps(info, indent=2), encoding="utf-8")
    path.chmod(0o600)
    return path, key


class SheetsEmulator(Emulator):
    name = "sheets"

    def __init__(
        self,
        spreadsheets: dict[str, list[dict[str, Any]]],
        *,
        titles: dict[str, str] | None = None,
        latency: float = 0.0,
    ) -> None:
        super().__init__(latency=latency)
        self.spreadsheets = {
            key: [{"title": t["title"], "rows": [list(r) for r in t.get("rows", [])]} for t in tabs]
            for key, tabs in spreadsheets.items()
        }
        self._initial = json.dumps(self.spreadsheets)
        self.titles = dict(titles or {})
        self.unshared: set[str] = set()
        """Keys the service account may not read (403), as when the sheet is not shared."""
        self.keys: dict[str, ServiceAccountKey] = {}
        self.tokens: dict[str, str] = {}
        """Issued access token -> client email."""
        self.route("POST", r"/token", self._token)
        self.route("GET", r"/v4/spreadsheets/([^/:]+)/values:batchGet", self._batch_get)
        self.route("GET", r"/v4/spreadsheets/([^/:]+)/values/([^/]+)", self._values_get)
        self.route("GET", r"/v4/spreadsheets/([^/:]+)", self._metadata)

    # -- test helpers ------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        """What SHEETS_API_URL should be set to (stands in for https://sheets.googleapis.com)."""
        return self.url

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def service_account_file(
        self, directory: str | Path, *, client_email: str = DEFAULT_CLIENT_EMAIL
    ) -> Path:
        """A key file whose token_uri is this emulator; its key is the only one accepted."""
        path, key = write_service_account_file(directory, self.token_uri, client_email=client_email)
        with self._lock:
            self.keys[key.private_key_id] = key
        return path

    def reset(self) -> None:
        """Back to the initial cells; forget calls, faults, tokens and sharing changes."""
        with self._lock:
            self.spreadsheets = json.loads(self._initial)
            self.unshared.clear()
            self.tokens.clear()
            self.calls.clear()
            self._faults.clear()

    def revoke_tokens(self) -> None:
        """Expire every access token, as Google does after an hour or a key rotation."""
        with self._lock:
            self.tokens.clear()

    # -- OAuth2 token endpoint ---------------------------------------------------------------
    def _token(self, request: Request, match: re.Match[str]) -> Response:
        form = request.form()
        if form.get("grant_type") != JWT_BEARER:
            return _oauth_error(
                "unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type', '')}"
            )
        try:
            header_b64, claims_b64, signature_b64 = form.get("assertion", "").split(".")
            header = json.loads(_b64decode(header_b64))
            claims = json.loads(_b64decode(claims_b64))
            signature = _b64decode(signature_b64)
        except ValueError:
            return _oauth_error("invalid_grant", "Invalid JWT: could not decode the assertion.")
        key = self.keys.get(str(header.get("kid")))
        if key is None or header.get("alg") != "RS256" or claims.get("iss") != key.client_email:
            return _oauth_error("invalid_grant", "Invalid grant: account not found")
        try:
            key.public_key.verify(
                signature,
                f"{header_b64}.{claims_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        now = time.time()
        iat, exp = float(claims.get("iat", 0)), float(claims.get("exp", 0))
        if exp - iat > 3600 or exp < now - 300 or iat > now + 300:
            return _oauth_error(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
                "timeframe. Check your iat and exp values in the JWT claim.",
            )
        # google-auth always addresses the assertion to Google's endpoint, whatever token_uri is.
        if claims.get("aud") not in (GOOGLE_TOKEN_AUDIENCE, self.token_uri) or not claims.get(
            "scope"
        ):
            return _oauth_error("invalid_grant", "Invalid JWT: Failed audience check.")
        token = "ya29.emulator-" + secrets.token_urlsafe(24)
        self.tokens[token] = key.client_email
        return Response(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    # -- Sheets API ----------------------------------------------------------------------------
    def _authorized(self, request: Request, key: str) -> Response | list[dict[str, Any]]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in self.tokens:
            return Response(401, google_error(401), {"WWW-Authenticate": 'Bearer realm="Google"'})
        tabs = self.spreadsheets.get(key)
        if tabs is None:
            return Response(404, google_error(404))
        if key in self.unshared:
            return Response(403, google_error(403))
        return tabs

    def _metadata(self, request: Request, match: re.Match[str]) -> Response:
        bad = _bad_parameter(request, "spreadsheets.get")
        if bad is not None:
            return bad
        key = unquote(match.group(1))
        tabs = self._authorized(request, key)
        if isinstance(tabs, Response):
            return tabs
        return Response(
            200,
            {
                "spreadsheetId": key,
                "properties": {
                    "title": self.titles.get(key, key),
                    "locale": "en_US",
                    "autoRecalc": "ON_CHANGE",
                    "timeZone": "America/Los_Angeles",
                },
                "sheets": [{"properties": _sheet_properties(i, tab)} for i, tab in enumerate(tabs)],
                "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{key}/edit",
            },
        )

    def _values_get(self, request: Request, match: re.Match[str]) -> Response:
        bad = _bad_parameter(request, "spreadsheets.values.get")
        if bad is not None:
            return bad
        key = unquote(match.group(1))
        tabs = self._authorized(request, key)
        if isinstance(tabs, Response):
            return tabs
        value_range = _value_range(tabs, unquote(match.group(2)), request)
        if isinstance(value_range, Response):
            return value_range
        return Response(200, value_range)

    def _batch_get(self, request: Request, match: re.Match[str]) -> Response:
        bad = _bad_parameter(request, "spreadsheets.values.batchGet")
        if bad is not None:
            return bad
        key = unquote(match.group(1))
        tabs = self._authorized(request, key)
        if isinstance(tabs, Response):
            return tabs
        ranges = []
        for a1 in request.query.get("ranges", []):
            value_range = _value_range(tabs, a1, request)
            if isinstance(value_range, Response):
                return value_range
            ranges.append(value_range)
        return Response(200, {"spreadsheetId": key, "valueRanges": ranges})

    # -- vendor-specific error shapes --------------------------------------------------------
    def not_found(self, request: Request) -> Response:
        return Response(404, google_error(404, f"Method not found: {request.path}"))

    def fault_body(self, status: int) -> Any:
        return google_error(status)


# -- A1 ranges and values --------------------------------------------------------------------------
def column_letters(n: int) -> str:
    letters = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - ord("A") + 1
    return n


def _quoted_title(title: str) -> str:
    # Google quotes sheet names in returned ranges unless they are plain words.
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not re.fullmatch(
        r"[A-Za-z]{1,3}\d+", title
    ):
        return title
    return "'" + title.replace("'", "''") + "'"


def _grid_size(tab: dict[str, Any]) -> tuple[int, int]:
    rows = tab["rows"]
    width = max((len(r) for r in rows), default=0)
    return max(1000, len(rows)), max(26, width)


def _sheet_properties(index: int, tab: dict[str, Any]) -> dict[str, Any]:
    row_count, column_count = _grid_size(tab)
    # The first tab of a new spreadsheet is gid 0; later tabs get large pseudo-random ids.
    sheet_id = 0 if index == 0 else 100_000_000 + index * 7_919_113
    return {
        "sheetId": sheet_id,
        "title": tab["title"],
        "index": index,
        "sheetType": "GRID",
        "gridProperties": {"rowCount": row_count, "columnCount": column_count},
    }


_CELL = re.compile(r"^([A-Za-z]{0,3})(\d*)$")


def _split_range(a1: str) -> tuple[str | None, str]:
    if a1.startswith("'"):
        i, name = 1, ""
        while i < len(a1):
            if a1[i] == "'":
                if a1[i + 1 : i + 2] == "'":
                    name, i = name + "'", i + 2
                    continue
                rest = a1[i + 1 :]
                if rest and not rest.startswith("!"):
                    raise ValueError(a1)
                return name, rest[1:]
            name, i = name + a1[i], i + 1
        raise ValueError(a1)
    if "!" in a1:
        sheet, _, cells = a1.partition("!")
        return sheet, cells
    return None, a1


def _value_range(
    tabs: list[dict[str, Any]], a1: str, request: Request
) -> dict[str, Any] | Response:
    bad = Response(400, google_error(400, f"Unable to parse range: {a1}"))
    try:
        sheet, cells = _split_range(a1)
    except ValueError:
        return bad
    by_title = {t["title"]: t for t in tabs}
    if sheet is None and cells in by_title:
        sheet, cells = cells, ""
    tab = by_title.get(sheet) if sheet is not None else (tabs[0] if tabs else None)
    if tab is None:
        return bad
    row_count, column_count = _grid_size(tab)
    bounds = [1, 1, row_count, column_count]  # first row, first col, last row, last col
    if cells:
        ends = cells.split(":")
        parsed = [_CELL.match(e) for e in ends]
        if len(ends) > 2 or not all(parsed) or not cells.replace(":", ""):
            return bad
        start, end = parsed[0], parsed[-1]  # "A1" alone is a one-cell range
        assert start is not None and end is not None
        (c0, r0), (c1, r1) = start.groups(), end.groups()
        bounds = [
            int(r0) if r0 else 1,
            _column_number(c0) if c0 else 1,
            int(r1) if r1 else row_count,
            _column_number(c1) if c1 else column_count,
        ]
        if bounds[0] > bounds[2] or bounds[1] > bounds[3] or 0 in bounds:
            return bad
    first_row, first_col, last_row, last_col = bounds
    render = request.arg("valueRenderOption", "FORMATTED_VALUE") or "FORMATTED_VALUE"
    grid = [
        [
            _render(row[c - 1] if c - 1 < len(row) else None, render)
            for c in range(first_col, last_col + 1)
        ]
        for row in (
            tab["rows"][r - 1] if r - 1 < len(tab["rows"]) else []
            for r in range(first_row, min(last_row, len(tab["rows"])) + 1)
        )
    ]
    dimension = request.arg("majorDimension", "ROWS") or "ROWS"
    if dimension == "DIMENSION_UNSPECIFIED":
        dimension = "ROWS"
    if dimension == "COLUMNS":
        grid = [list(col) for col in zip(*grid, strict=False)] if grid else []
    elif dimension != "ROWS":
        return Response(400, google_error(400, f"Invalid value at 'major_dimension' ({dimension})"))
    body: dict[str, Any] = {
        "range": f"{_quoted_title(tab['title'])}!{column_letters(first_col)}{first_row}"
        f":{column_letters(last_col)}{last_row}",
        "majorDimension": dimension,
    }
    values = _trim(grid)
    if values:
        body["values"] = values
    return body


def _render(value: Cell, option: str) -> Any:
    if value is None:
        return ""
    if option == "FORMATTED_VALUE":
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return value


def _trim(grid: list[list[Any]]) -> list[list[Any]]:
    """Drop empty trailing cells of each line and empty trailing lines, as the API does."""
    lines = []
    for line in grid:
        end = len(line)
        while end and line[end - 1] == "":
            end -= 1
        lines.append(line[:end])
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _oauth_error(error: str, description: str) -> Response:
    return Response(400, {"error": error, "error_description": description})
