"""The JSM "Time to first response" SLA field and its JQL state."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from emulators import jql
from emulators.jira.model import (
    CustomFieldDef,
    IssueState,
    duration_json,
    sd_time,
)


class SlaClock:
    """ "Time to first response" as JSM computes it with a 24x7 calendar."""

    def _first_response_stop(self, issue: IssueState) -> datetime | None:
        """SLA stop: the first public comment by an agent, or resolution, whichever came first."""
        stops = [
            c.created
            for c in issue.comments
            if c.public and (self._users.get(c.author or "") or {}).get("kind") == "agent"
        ]
        if issue.resolved:
            stops.append(issue.resolved)
        return min(stops) if stops else None

    def _sla_state(self, issue: IssueState) -> jql.SlaState | None:
        if self._projects[issue.project]["type"] != "service_desk":
            return None
        cfg = issue.sla.get("first_response") or {}
        goal: timedelta = cfg.get("goal") or timedelta(hours=2)
        stop = self._first_response_stop(issue)
        if stop is not None:
            elapsed = stop - issue.created
            return jql.SlaState(
                running=False,
                paused=False,
                breached=elapsed > goal,
                completed=True,
                ever_breached=elapsed > goal,
                remaining=goal - elapsed,
                elapsed=elapsed,
            )
        now = self.now()
        end = now
        if cfg.get("paused"):
            end = min(max(cfg.get("paused_at") or issue.updated, issue.created), now)
        elapsed = end - issue.created
        return jql.SlaState(
            running=not cfg.get("paused"),
            paused=bool(cfg.get("paused")),
            breached=elapsed > goal,
            completed=False,
            ever_breached=elapsed > goal,
            remaining=goal - elapsed,
            elapsed=elapsed,
        )

    def _sla_json(self, issue: IssueState, definition: CustomFieldDef) -> dict[str, Any] | None:
        state = self._sla_state(issue)
        if state is None:
            return None
        cfg = issue.sla.get("first_response") or {}
        goal: timedelta = cfg.get("goal") or timedelta(hours=2)
        out: dict[str, Any] = {
            "id": "1",
            "name": definition.name,
            "_links": {"self": f"{self.base}/rest/servicedeskapi/request/{issue.id}/sla/1"},
            "completedCycles": [],
            "slaDisplayFormat": "NEW_SLA_FORMAT",
        }
        cycle: dict[str, Any] = {
            "startTime": sd_time(issue.created),
            "breached": state.breached,
            "goalDuration": duration_json(goal),
            "elapsedTime": duration_json(state.elapsed),
            "remainingTime": duration_json(state.remaining or timedelta(0)),
        }
        if state.completed:
            stop = self._first_response_stop(issue)
            assert stop is not None
            cycle["stopTime"] = sd_time(stop)
            cycle["breachTime"] = sd_time(issue.created + goal)
            out["completedCycles"] = [cycle]
        else:
            # JSM only promises a breach time while the clock runs.
            if not state.paused:
                cycle["breachTime"] = sd_time(issue.created + goal)
            cycle["paused"] = state.paused
            cycle["withinCalendarHours"] = True
            out["ongoingCycle"] = cycle
        return out
