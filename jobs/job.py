"""What a job is: a spec for the registry, and three steps the pipeline calls.

A job module under ``jobs/scheduled/`` defines a ``JobSpec`` and a ``Job`` subclass:
- ``fetch(ctx)`` reads what the rule needs through the adapters (the only I/O); the ledger it
  sees is read-only (`jobs.ledger.base.LedgerReader`);
- ``evaluate(data, ctx)`` calls the pure rule in ``jobs/rules/`` with ``ctx.now`` and config;
- ``plan(work, ctx)`` says *what* to do: actions for the fresh findings (with the steps that
  follow each, see `jobs.model.Action`), and what resolves each record no finding covers.
Silences, dedup, claims, intents, sending, resuming, records and the report belong to the
pipeline (`jobs.pipeline`), never to a job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from jobs.config import JobConfig
from jobs.model import Action, AlertRecord, Evaluation, Finding, RecordKey
from jobs.render.templates import TemplateSpec

if TYPE_CHECKING:
    from jobs.context import RunContext

Data = TypeVar("Data")
C = TypeVar("C", bound=JobConfig)


def config_of(ctx: RunContext, model: type[C]) -> C:
    """The running job's settings section, as its frozen model (validated at load)."""
    config = ctx.job_config
    if not isinstance(config, model):
        raise TypeError(
            f"{ctx.job_name}: settings are {type(config).__name__}, not {model.__name__}"
        )
    return config


@dataclass(frozen=True)
class JobSpec:
    name: str
    description: str
    config_model: type[JobConfig]
    systems: frozenset[str]
    """External systems the job reads or writes; their credentials are checked before it runs."""
    templates: tuple[TemplateSpec, ...] = ()
    default_config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Work(Generic[Data]):
    """What a job plans from."""

    fresh: list[Finding]
    """Findings to act on now: fresh (never sent, a higher tier, or past the re-alert window)
    and claimed by this run."""
    resolving: list[AlertRecord]
    """Open records that no finding covers any more, claimed by this run: the job says what
    resolves each (e.g. rewrites its message); the pipeline closes those it says nothing of."""
    findings: list[Finding]
    """Every finding of the run (also those silenced or already sent), for context."""
    active: list[Finding]
    """The findings neither silenced nor inhibited (fresh or already sent): what still needs
    someone, for lines that show every open ticket as it is now."""
    records: Mapping[RecordKey, AlertRecord]
    """Every record of the job, as read at the start of the run."""
    silenced: Mapping[str, str]
    """Items silenced this run (a silence or the snooze label), with who and until when: an
    open alert of theirs is among ``resolving`` (a silence ends the alert's episode)."""
    data: Data
    """What ``fetch`` returned."""


class Job(Generic[Data]):
    spec: ClassVar[JobSpec]

    def fetch(self, ctx: RunContext) -> Data:
        raise NotImplementedError

    def evaluate(self, data: Data, ctx: RunContext) -> Evaluation:
        raise NotImplementedError

    def plan(self, work: Work[Data], ctx: RunContext) -> list[Action]:
        raise NotImplementedError

    def close(self) -> None:
        """Release what ``fetch`` started beside the run (a helper process); called once the
        run is over, whatever happened."""
