"""The financier onboarding sheet as a `jobs.model.SheetTab`, from Google Sheets or a file.

Both sources give the same shape, so the job cannot tell them apart:
- every cell is a ``str`` (empty cells are ``""``), as the sheet shows it;
- columns are the spreadsheet letters ``A``, ``B``, ... ``Z``, ``AA`` (the SOP says
  "Column B" and "Column L");
- rows are numbered from 1 as shown in the spreadsheet, so an alert can say "row 14" and a
  person finds it; header and blank rows are kept (the job interprets them);
- trailing empty rows and cells are dropped, as the Sheets API does, so a file export and
  the live sheet compare equal.

Google access goes through gspread's HTTP client with service-account credentials and the
read-only scope. gspread hard-codes ``https://sheets.googleapis.com``; when ``api_url`` is set
(SHEETS_API_URL, the local emulator) a transport adapter sends those requests there instead.
gspread, google-auth and openpyxl are imported inside functions: only this job loads them.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

from jobs.adapters.http import (
    CallCounter,
    CredentialError,
    PermanentError,
    RetryBudget,
    TransientError,
    call_with_retry,
    parse_retry_after,
)
from jobs.model import SheetTab

T = TypeVar("T")

SYSTEM = "sheets"
GOOGLE_SHEETS_URL = "https://sheets.googleapis.com"
READONLY_SCOPES = ("https://www.googleapis.com/auth/spreadsheets.readonly",)
_SECOND_TAB_HINT = "(the SOP's 'second tab' is index 1)"


# -- column letters ----------------------------------------------------------------------------
def column_letter(n: int) -> str:
    """1-based column number to its letters: 1 -> "A", 12 -> "L", 27 -> "AA"."""
    if n < 1:
        raise ValueError(f"column numbers start at 1, got {n}")
    letters = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def column_index(letter: str) -> int:
    """Column letters to the 1-based number: "A" -> 1, "l" -> 12, "AA" -> 27."""
    if not re.fullmatch(r"[A-Za-z]{1,3}", letter):
        raise ValueError(f"{letter!r} is not a column letter (e.g. B)")
    n = 0
    for ch in letter.upper():
        n = n * 26 + ord(ch) - ord("A") + 1
    return n


# -- the common shape --------------------------------------------------------------------------
def tab_from_rows(rows: Sequence[Sequence[Any]]) -> SheetTab:
    """Rows of cells (top row = spreadsheet row 1) to the `SheetTab` described above."""
    lines = [[_cell_text(c) for c in row] for row in rows]
    for line in lines:
        while line and line[-1] == "":
            line.pop()
    while lines and not lines[-1]:
        lines.pop()
    width = max((len(line) for line in lines), default=0)
    return SheetTab(
        columns=tuple(column_letter(i) for i in range(1, width + 1)),
        rows=tuple(tuple(line + [""] * (width - len(line))) for line in lines),
    )


def _cell_text(value: Any) -> str:
    """A cell as the sheet displays it (number formats aside)."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN: nothing in the cell
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# -- files -------------------------------------------------------------------------------------
def read_sheet_file(path: str, tab_index: int) -> SheetTab:
    """A local export of the sheet: ``.csv`` (one tab, ``tab_index`` ignored) or ``.xlsx``."""
    source = Path(path)
    suffix = source.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        raise PermanentError(
            SYSTEM, f"{path}: unsupported sheet file type {suffix or '(none)'}; use .csv or .xlsx"
        )
    if not source.is_file():
        raise PermanentError(SYSTEM, f"sheet file {path} does not exist")
    if suffix == ".csv":
        # utf-8-sig: Excel writes a byte-order mark that would otherwise end up in cell A1.
        data = source.read_bytes()
        # Excel writes a byte-order mark that would otherwise end up in cell A1.
        start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
        try:
            text = data[start:].decode("utf-8")
        except UnicodeDecodeError as exc:
            offset = start + exc.start  # in the file, as a hex editor shows it
            raise PermanentError(
                SYSTEM,
                f"{path}: not UTF-8 text (byte 0x{data[offset]:02x} at offset {offset}); "
                "export the sheet as CSV UTF-8",
            ) from None
        return tab_from_rows(list(csv.reader(io.StringIO(text, newline=""))))
    return tab_from_rows(_xlsx_rows(source, tab_index))


def _xlsx_rows(source: Path, tab_index: int) -> list[tuple[Any, ...]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # data_only: the values Excel last calculated, not formulas, like the Sheets UI shows.
        workbook = load_workbook(source, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise PermanentError(SYSTEM, f"{source}: not a readable Excel workbook ({exc})") from None
    try:
        tabs = workbook.worksheets
        if not 0 <= tab_index < len(tabs):
            raise PermanentError(
                SYSTEM,
                f"file {source} has {len(tabs)} tabs; tab index {tab_index} "
                f"{_SECOND_TAB_HINT} does not exist",
            )
        sheet = tabs[tab_index]
        # min_row/min_col 1: openpyxl otherwise starts at the first used cell, shifting rows.
        return list(
            sheet.iter_rows(
                min_row=1,
                min_col=1,
                max_row=sheet.max_row,
                max_col=sheet.max_column,
                values_only=True,
            )
        )
    finally:
        workbook.close()


# -- Google Sheets -----------------------------------------------------------------------------
class SheetsAdapter:
    """A Google Sheet by key, via gspread with service-account credentials (read-only scope)."""

    def __init__(
        self,
        *,
        service_account_file: str,
        counter: CallCounter,
        budget: RetryBudget,
        api_url: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        from google.auth.transport.requests import AuthorizedSession
        from google.oauth2.service_account import Credentials
        from gspread.http_client import HTTPClient

        try:
            credentials = Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                service_account_file, scopes=list(READONLY_SCOPES)
            )
        except (OSError, ValueError, KeyError) as exc:
            # The message names the file and the problem, never the key material.
            raise CredentialError(
                SYSTEM,
                f"GOOGLE_SERVICE_ACCOUNT_FILE {service_account_file} is not a usable "
                f"service-account key file ({type(exc).__name__}: {str(exc)[:120]})",
            ) from None
        self.client_email: str = credentials.service_account_email
        self._budget = budget
        transport = _transport_class()(counter, api_url)
        # A busy token endpoint is one failure for the run's retry policy, not google-auth's
        # own retry loop (three tries with sleeps, inside each of our attempts: 18 s against a
        # 5 s budget). The token request is not an API call of the job: not counted.
        token_transport = _transport_class()(CallCounter(), api_url)
        session = AuthorizedSession(  # type: ignore[no-untyped-call]
            credentials,
            auth_request=_fail_fast_auth_request(token_transport),
            refresh_timeout=timeout,
        )
        session.mount("https://", transport)
        session.mount("http://", transport)
        self._http = HTTPClient(credentials, session=session)
        self._http.set_timeout(timeout)

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        counter: CallCounter,
        budget: RetryBudget,
        timeout: float = 30.0,
    ) -> SheetsAdapter:
        """The adapter the environment describes: ``GOOGLE_SERVICE_ACCOUNT_FILE`` (the
        caller checked it is set) and ``SHEETS_API_URL`` (the emulator's, when set)."""
        return cls(
            service_account_file=env["GOOGLE_SERVICE_ACCOUNT_FILE"],
            counter=counter,
            budget=budget,
            api_url=env.get("SHEETS_API_URL") or None,
            timeout=timeout,
        )

    def __repr__(self) -> str:
        return f"SheetsAdapter(client_email={self.client_email!r})"

    def read_tab(self, key: str, tab_index: int) -> SheetTab:
        """Every row of one tab (0-based ``tab_index``) in the shape described in the module."""
        titles = self.tab_titles(key)
        if not 0 <= tab_index < len(titles):
            raise PermanentError(
                SYSTEM,
                f"sheet {key} has {len(titles)} tabs; tab index {tab_index} {_SECOND_TAB_HINT} "
                "does not exist",
            )
        if not titles[tab_index]:
            raise PermanentError(
                SYSTEM, f"spreadsheets.get {key}: tab {tab_index} has no title in the answer"
            )
        return self.read_values(key, titles[tab_index])

    def tab_titles(self, key: str) -> list[str]:
        """The spreadsheet's tabs, in order (one metadata read, ``spreadsheets.get``); a tab
        the answer gives no title is an empty string."""
        metadata = self._call("spreadsheets.get", key, lambda: self._http.fetch_sheet_metadata(key))
        tabs = metadata.get("sheets", []) if isinstance(metadata, dict) else None
        if not isinstance(tabs, list):
            raise PermanentError(
                SYSTEM, f"spreadsheets.get {key}: the answer has no list of sheets (tabs)"
            )
        titles = []
        for tab in tabs:
            properties = tab.get("properties") if isinstance(tab, dict) else None
            title = properties.get("title") if isinstance(properties, dict) else None
            titles.append(title if isinstance(title, str) else "")
        return titles

    def read_values(self, key: str, title: str) -> SheetTab:
        """Every row of the tab called ``title``, in the shape described in the module."""
        from gspread.utils import absolute_range_name

        # The whole tab: a range of just the (quoted) title. FORMATTED_VALUE gives the text
        # people see (dates and numbers as displayed), which is what the SOP's words match.
        answer = self._call(
            "spreadsheets.values.get",
            key,
            lambda: self._http.values_get(
                key,
                absolute_range_name(title),
                params={"majorDimension": "ROWS", "valueRenderOption": "FORMATTED_VALUE"},
            ),
        )
        return tab_from_rows(checked_values(answer, f"spreadsheets.values.get {key}"))

    def _call(self, what: str, key: str, fn: Callable[[], T]) -> T:
        def attempt() -> T:
            return _mapped(what, key, self.client_email, fn)

        return call_with_retry(SYSTEM, attempt, self._budget)


_CELL_TYPES = (str, int, float, bool)


def checked_values(answer: Any, what: str) -> list[list[Any]]:
    """A ValueRange's ``values``: rows of cells (text, numbers, booleans). Absent is an empty
    tab, as the API leaves it out then; any other shape is a read failure, never rows made of
    the characters of a string."""
    if not isinstance(answer, dict):
        raise PermanentError(SYSTEM, f"{what}: the answer is {type(answer).__name__}, not a range")
    values = answer.get("values", [])
    if not isinstance(values, list):
        raise PermanentError(
            SYSTEM, f"{what}: values is {type(values).__name__}, not a list of rows"
        )
    for n, row in enumerate(values, start=1):
        if not isinstance(row, list):
            raise PermanentError(SYSTEM, f"{what}: row {n} is {type(row).__name__}, not a row")
        for cell in row:
            if cell is not None and not isinstance(cell, _CELL_TYPES):
                raise PermanentError(
                    SYSTEM, f"{what}: row {n} holds a {type(cell).__name__}, not a cell value"
                )
    return values


def _mapped(what: str, key: str, client_email: str, fn: Callable[[], T]) -> T:
    import requests
    from google.auth import exceptions as auth_errors
    from gspread.exceptions import APIError

    try:
        return fn()
    except APIError as exc:
        status = exc.response.status_code
        message = str(exc.error.get("message", ""))[:300]
        if status in (408, 429) or status >= 500:
            raise TransientError(
                SYSTEM,
                f"{what} {key}: HTTP {status} {message}",
                status,
                retry_after=parse_retry_after(exc.response.headers.get("Retry-After")),
            ) from None
        if status == 401:
            raise CredentialError(
                SYSTEM,
                f"{what} {key}: Google rejected the service account's token ({message})",
                401,
            ) from None
        if status == 403:
            raise CredentialError(
                SYSTEM,
                f"{what} {key}: {client_email} may not read this sheet; share it with that "
                f"address as Viewer ({message})",
                403,
            ) from None
        if status == 404:
            raise PermanentError(
                SYSTEM, f"{what}: no spreadsheet with key {key} (check sheet.key)", 404
            ) from None
        raise PermanentError(SYSTEM, f"{what} {key}: HTTP {status} {message}", status) from None
    except auth_errors.RefreshError as exc:
        if getattr(exc, "retryable", False):
            raise TransientError(SYSTEM, f"token endpoint unavailable ({exc})") from None
        raise CredentialError(
            SYSTEM, f"the token endpoint refused service account {client_email} ({exc})"
        ) from None
    except (auth_errors.TransportError, requests.ConnectionError, requests.Timeout) as exc:
        raise TransientError(SYSTEM, f"{what} {key}: connection failed ({exc})") from None
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise PermanentError(SYSTEM, f"{what} {key}: malformed answer ({exc})") from None


def _fail_fast_auth_request(transport: Any) -> Any:
    """A google-auth request over ``transport`` that raises at once on a retryable status."""
    import requests
    from google.auth import exceptions as auth_errors
    from google.auth.transport.requests import Request

    class FailFastRequest(Request):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            response = super().__call__(*args, **kwargs)  # type: ignore[no-untyped-call]
            if response.status in (408, 429) or response.status >= 500:
                raise auth_errors.TransportError(  # type: ignore[no-untyped-call]
                    f"token endpoint answered HTTP {response.status}"
                )
            return response

    session = requests.Session()
    session.mount("https://", transport)
    session.mount("http://", transport)
    return FailFastRequest(session)


@functools.cache
def _transport_class() -> type:
    """Built on first use so importing this module does not import requests."""
    from requests import PreparedRequest, Response
    from requests.adapters import HTTPAdapter
    from requests.utils import get_environ_proxies

    class SheetsTransport(HTTPAdapter):
        """Counts every API request and, for the emulator, sends Google's URLs to ``api_url``."""

        def __init__(self, counter: CallCounter, api_url: str | None) -> None:
            super().__init__()
            self.counter = counter
            self.api_url = api_url.rstrip("/") if api_url else None

        def send(
            self,
            request: PreparedRequest,
            stream: bool = False,
            timeout: Any = None,
            verify: bool | str = True,
            cert: Any = None,
            proxies: Mapping[str, str] | None = None,
        ) -> Response:
            url = request.url or ""
            if self.api_url and url.startswith(GOOGLE_SHEETS_URL + "/"):
                request.url = self.api_url + url[len(GOOGLE_SHEETS_URL) :]
                # Proxies were chosen for Google's host; choose again for the new one.
                proxies = get_environ_proxies(request.url)
            self.counter.add(SYSTEM)
            return super().send(request, stream, timeout, verify, cert, proxies)

    return SheetsTransport
