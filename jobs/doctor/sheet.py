"""The financier's onboarding sheet: the service account's token, the sheet shared with it,
the tab, and columns that hold names and statuses where the settings say. The tab is read as
the job reads it (`jobs.rules.onboarding_missing_ticket.read_onboarding_sheet`)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jobs.adapters.http import AdapterError, CredentialError, PermanentError
from jobs.doctor import Check, Outcome, Site, fail, missing_env, ok, skip
from jobs.model import SheetTab

JOB = "onboarding_missing_ticket"
CREDENTIALS = "google credentials"
SHARED = "sheet shared"
TAB = "sheet tab"
COLUMNS = "sheet columns"
FILE = "sheet file"

_DATE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")
_NUMBER = re.compile(r"^[\d\s.,%$+-]+$")
_EMAIL = re.compile(r"^\S+@\S+\.\S+$")


def sheet_checks(site: Site) -> Iterator[Check]:
    if JOB not in site.needs.systems.get("sheets", ()):
        yield Check("sheet", lambda s: skip(f"{JOB} is disabled: no job reads the sheet"))
        return
    if site.settings.sheet.source == "file":
        yield Check(FILE, sheet_file)
        yield Check(COLUMNS, columns, (FILE,))
        return
    yield Check(CREDENTIALS, google_credentials)
    yield Check(SHARED, shared, (CREDENTIALS,))
    yield Check(TAB, tab, (SHARED,))
    yield Check(COLUMNS, columns, (TAB,))


def google_credentials(site: Site) -> Outcome:
    """A token for the service account, proven by a metadata read of the sheet: a 403 or 404
    answer still means Google took the token (the next check reads what they mean)."""
    missing = missing_env(site.env, ("GOOGLE_SERVICE_ACCOUNT_FILE",))
    if missing:
        return fail(
            "GOOGLE_SERVICE_ACCOUNT_FILE not set (sheet.source is google)",
            "point GOOGLE_SERVICE_ACCOUNT_FILE at the service account's JSON key",
        )
    key = site.settings.sheet.key
    if not key:
        return fail("sheet.key is empty (sheet.source is google)", "set sheet.key")
    adapter = site.sheets
    try:
        site.memo["sheet tabs"] = adapter.tab_titles(key)
    except CredentialError as exc:
        if exc.status != 403:
            return fail(
                str(exc).removeprefix("sheets: "),
                "check the key file is the service account's current key (not revoked)",
            )
        site.memo["sheet error"] = exc
    except PermanentError as exc:
        if exc.status != 404:
            raise
        site.memo["sheet error"] = exc
    return ok(f"service account {adapter.client_email} got a token")


def shared(site: Site) -> Outcome:
    key = site.settings.sheet.key
    email = site.sheets.client_email
    error: AdapterError | None = site.memo.get("sheet error")
    if error is not None and error.status == 403:
        return fail(
            f"{email} may not read the sheet {key}", f"share the sheet with {email} as Viewer"
        )
    if error is not None:
        return fail(f"no spreadsheet has the key {key}", "set sheet.key to the id in its URL")
    return ok(f"{email} can read {key}")


def tab(site: Site) -> Outcome:
    titles: list[str] = site.memo["sheet tabs"]
    index = site.settings.sheet.tab_index
    if not 0 <= index < len(titles):
        shown = ", ".join(f"{n} {t!r}" for n, t in enumerate(titles))
        return fail(
            f"sheet.tab_index {index} (tab {index + 1}) does not exist; the sheet has "
            f"{len(titles)} tab{'s' if len(titles) != 1 else ''} ({shown})",
            "set sheet.tab_index (0-based: the SOP's second tab is 1)",
        )
    return ok(f"tab {index + 1} of {len(titles)} is {titles[index]!r}")


def sheet_file(site: Site) -> Outcome:
    from jobs.adapters.sheets import read_sheet_file

    sheet = site.settings.sheet
    if not sheet.path:
        return fail("sheet.path is empty (sheet.source is file)", "set sheet.path")
    site.memo["sheet frame"] = read_sheet_file(sheet.path, sheet.tab_index)
    return ok(f"{sheet.path} reads")


def columns(site: Site) -> Outcome:
    """Column B (names) and L (statuses) as the settings name them: a header row the job
    recognises, and below it values that look like account names and statuses."""
    from jobs.rules.onboarding_missing_ticket import (
        OnboardingMissingTicketConfig,
        SheetLayout,
        read_onboarding_sheet,
    )

    sheet = site.settings.sheet
    frame: SheetTab | None = site.memo.get("sheet frame")
    if frame is None:
        assert sheet.key is not None
        frame = site.sheets.read_values(sheet.key, site.memo["sheet tabs"][sheet.tab_index])
    config = site.settings.jobs[JOB]
    labels = (
        tuple(config.header_labels) if isinstance(config, OnboardingMissingTicketConfig) else ()
    )
    layout = SheetLayout(sheet.name_column, sheet.status_column, labels, where="the sheet")
    read = read_onboarding_sheet(frame, layout)
    b, l_ = sheet.name_column, sheet.status_column
    if not read.usable:
        return fail(
            f"no header row: column {b} and column {l_} never read like "
            f"{labels[0] if labels else 'a name'!r} and 'Status' on one row",
            f"set sheet.name_column / status_column to the columns of the account name and "
            f"status, or jobs.{JOB}.header_labels to the header's words",
        )
    names = [row.name for row in read.rows]
    statuses = [row.status for row in read.rows if row.status]
    header = read.header_rows[0]
    if not names:
        return ok(f"header on row {header}, no accounts below it yet")
    odd_names = [n for n in names if not _looks_like_name(n)]
    if len(odd_names) * 2 > len(names):
        return fail(
            f"column {b} holds values like {odd_names[0]!r}, not account names",
            "set sheet.name_column to the column of the account name",
        )
    odd_statuses = [s for s in statuses if not _looks_like_status(s)]
    if not statuses or len(odd_statuses) * 2 > len(statuses):
        example = repr(odd_statuses[0]) if odd_statuses else "nothing"
        return fail(
            f"column {l_} holds {example}, not statuses, below the header on row {header}",
            "set sheet.status_column to the column of the financier's decision",
        )
    approved = {s.casefold() for s in sheet.approved_statuses}
    count = sum(1 for s in statuses if " ".join(s.split()).casefold() in approved)
    return ok(
        f"header on row {header}; {len(names)} accounts in {b} (e.g. {names[0]!r}), statuses "
        f"in {l_} (e.g. {statuses[0]!r}; {count} {'/'.join(sheet.approved_statuses)})"
    )


def _looks_like_name(text: str) -> bool:
    return (
        any(c.isalpha() for c in text)
        and not _EMAIL.match(text)
        and not _DATE.match(text)
        and "://" not in text
    )


def _looks_like_status(text: str) -> bool:
    return (
        _looks_like_name(text)
        and not _NUMBER.match(text)
        and len(text) <= 40
        and len(text.split()) <= 5
    )
