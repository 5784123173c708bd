"""The JSON run report (``--report PATH``): what was found, what was done, what it cost."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jobs.model import Action, DataProblem, Finding
from jobs.secrets import redact_data


class ActionStatus:
    SENT = "sent"
    SUPPRESSED_DUPLICATE = "suppressed_duplicate"
    DRY_RUN = "dry_run"
    FAILED = "failed"
    PENDING = "pending"
    """Not sent this run: an earlier attempt's outcome is checked once it has settled."""


@dataclass
class ActionRecord:
    kind: str
    target: str
    items: list[str]
    status: str
    error: str | None = None
    reason: str | None = None
    text: str | None = None

    @classmethod
    def of(cls, action: Action, status: str, **extra: Any) -> ActionRecord:
        target = action.target
        shown = target if isinstance(target, str) else f"<{target.field} of step {target.step + 1}>"
        return cls(kind=str(action.kind), target=shown, items=action.items, status=status, **extra)


@dataclass
class RunReport:
    job: str
    run_id: str
    started_at: datetime
    now: datetime
    dry_run: bool
    finished_at: datetime | None = None
    examined: int = 0
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[dict[str, Any]] = field(default_factory=list)
    actions: list[ActionRecord] = field(default_factory=list)
    problems: list[DataProblem] = field(default_factory=list)
    api_calls: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    exit_code: int = 0

    @property
    def failed(self) -> bool:
        return bool(self.errors) or any(a.status == ActionStatus.FAILED for a in self.actions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "run_id": self.run_id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "examined": self.examined,
            "findings": [
                {
                    "item": f.item,
                    "rule": f.rule,
                    "severity": str(f.severity),
                    "episode": f.episode,
                    "summary": f.summary,
                    "facts": dict(f.facts),
                }
                for f in self.findings
            ],
            "suppressed": self.suppressed,
            "actions": [asdict(a) for a in self.actions],
            "data_problems": [asdict(p) for p in self.problems],
            "api_calls": self.api_calls,
            "errors": self.errors,
            "notes": self.notes,
            "exit_code": self.exit_code,
        }

    def failure_reason(self) -> str:
        """Why the run failed, in one line: its first error, else its first failed action."""
        if self.errors:
            return self.errors[0]
        for action in self.actions:
            if action.status == ActionStatus.FAILED:
                return f"{action.kind} {action.target} failed: {action.error or action.reason}"
        return ""

    def summary_line(self) -> str:
        sent = sum(a.status == ActionStatus.SENT for a in self.actions)
        failed = sum(a.status == ActionStatus.FAILED for a in self.actions)
        dry = sum(a.status == ActionStatus.DRY_RUN for a in self.actions)
        calls = ", ".join(f"{k}={v}" for k, v in self.api_calls.items())
        return (
            f"{self.job}: examined={self.examined} findings={len(self.findings)} "
            f"suppressed={len(self.suppressed)} sent={sent} dry_run={dry} failed={failed} "
            f"problems={len(self.problems)} errors={len(self.errors)} calls[{calls}]"
        )


class ReportPathError(Exception):
    """``--report PATH`` cannot be written; the message is one line naming the path."""


REPORT_MODE = 0o600
REPORT_DIR_MODE = 0o700


class ReportFile:
    """Where ``--report`` goes, checked before the run sends anything.

    `prepare` refuses a directory, a device or FIFO (``/dev/full``), and a folder that cannot
    be written, so the job stops with exit 2 before its first send rather than failing after
    it. `write` replaces the file atomically (a reader never sees half a report), private to
    its owner (0600: the report quotes ticket text), with every secret redacted.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def prepare(cls, path: Path) -> ReportFile:
        shown = str(path)
        if shown.strip() == "":
            raise ReportPathError("--report: an empty path")
        if path.is_dir():
            raise ReportPathError(f"--report {shown}: is a directory; give a file name")
        if path.exists() and not path.is_file():
            raise ReportPathError(
                f"--report {shown}: is not a regular file (a device or pipe); give a file name"
            )
        folder = path.parent
        try:
            folder.mkdir(mode=REPORT_DIR_MODE, parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".check")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise ReportPathError(
                f"--report {shown}: cannot write in {folder} ({exc.strerror or exc})"
            ) from None
        return cls(path)

    def write(self, reports: list[RunReport]) -> None:
        """One report object for one job, a list for ``run all``; raises ReportPathError."""
        payload: Any = reports[0].to_dict() if len(reports) == 1 else [r.to_dict() for r in reports]
        write_private(self.path, report_text(redact_data(payload)), what="--report")


def report_text(payload: dict[str, Any] | list[dict[str, Any]]) -> str:
    """The report as JSON laid out for a reader: one member of a report per line, and each
    item of its lists (a finding, an action, a problem) on a line of its own, so
    ``grep CS-503 report.json`` shows that ticket's whole finding.

    Every line is encoded by the standard library's C encoder: ``indent=2`` takes its pure
    Python encoder for the whole file, 27 ms against 7 for a report of 961 findings.
    """
    if isinstance(payload, list):  # `run all`: a list of reports
        if not payload:
            return "[]\n"
        return "[\n" + ",\n".join(_report_lines(r, "  ") for r in payload) + "\n]\n"
    return _report_lines(payload, "") + "\n"


def _report_lines(report: dict[str, Any], pad: str) -> str:
    members = []
    for name, value in report.items():
        head = f"{pad}  {_json(name)}: "
        if isinstance(value, list) and value:
            items = ",\n".join(f"{pad}    {_json(item)}" for item in value)
            members.append(f"{head}[\n{items}\n{pad}  ]")
        else:
            members.append(head + _json(value))
    if not members:
        return pad + "{}"
    return f"{pad}{{\n" + ",\n".join(members) + f"\n{pad}}}"


def _json(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def write_private(path: Path, text: str, *, what: str, mode: int = REPORT_MODE) -> None:
    """Write ``text`` to ``path`` atomically with ``mode``; ReportPathError on failure."""
    tmp: str | None = None
    try:
        path.parent.mkdir(mode=REPORT_DIR_MODE, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise ReportPathError(f"{what} {path}: not written ({exc.strerror or exc})") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def write_reports(path: Path, reports: list[RunReport]) -> None:
    """Write ``reports`` to ``path`` (see `ReportFile`)."""
    ReportFile.prepare(path).write(reports)
