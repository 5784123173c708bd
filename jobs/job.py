"""What a job is: a spec for the registry, and three steps the pipeline calls.

A job module under ``jobs/tasks/`` defines a ``JobSpec`` and a ``Job`` subclass:
- ``fetch(ctx)`` reads what the rule needs through the adapters (the only I/O);
- ``evaluate(data, ctx)`` calls the pure rule in ``jobs/rules/`` with ``ctx.now`` and config;
- ``plan(findings, ctx)`` turns the findings that survived silences and dedup into actions.
Silences, dedup, sending, recording and the report belong to the pipeline, never to a job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from jobs.config import JobConfig
from jobs.model import Action, Evaluation, Finding
from jobs.render.templates import TemplateSpec

if TYPE_CHECKING:
    from jobs.context import RunContext


@dataclass(frozen=True)
class JobSpec:
    name: str
    description: str
    config_model: type[JobConfig]
    systems: frozenset[str]
    """External systems the job reads or writes; their credentials are checked before it runs."""
    templates: tuple[TemplateSpec, ...] = ()
    default_config: Mapping[str, Any] = field(default_factory=dict)


class Job:
    spec: ClassVar[JobSpec]

    def fetch(self, ctx: RunContext) -> Any:
        raise NotImplementedError

    def evaluate(self, data: Any, ctx: RunContext) -> Evaluation:
        raise NotImplementedError

    def plan(self, findings: list[Finding], ctx: RunContext) -> list[Action]:
        raise NotImplementedError

    def after_run(self, ctx: RunContext, data: Any, evaluation: Evaluation) -> list[Action]:
        """Follow-up actions that are not tied to a new finding (e.g. resolving an open alert).

        Called after ``plan``'s actions ran; default: none.
        """
        return []
