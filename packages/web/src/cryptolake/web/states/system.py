"""Data & system: dataHealth per layer and table, quality results, alerts (acknowledged with an
operator key), pipeline runs with their steps (live from the subscription), start a run."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, ClassVar

import reflex as rx

from cryptolake.web import format as fmt
from cryptolake.web import queries
from cryptolake.web.graphql import ApiError, GraphQLError, auth_headers, nodes, subscribe
from cryptolake.web.settings import get_web_settings
from cryptolake.web.states.base import PageState, client

log = logging.getLogger(__name__)


def health_row(t: dict[str, Any]) -> dict[str, str]:
    return {
        "table": str(t.get("table", "")), "layer": str(t.get("layer", "")),
        "rows": fmt.thousands(t.get("rows")),
        "freshness": fmt.duration(t.get("freshnessLagSeconds")),
        "newest": fmt.utc(t.get("newestEvent")),
        "snapshot": str(t.get("lastSnapshotId") or fmt.MISSING),
        "commit": fmt.utc(t.get("lastCommitAt")),
        "quality": str(t.get("qualityStatus", "")),
        "failing": ", ".join(t.get("failingChecks") or []) or "none",
    }


def run_row(r: dict[str, Any]) -> dict[str, str]:
    steps = r.get("steps") or []
    done = sum(1 for s in steps if s.get("status") in ("succeeded", "skipped"))
    return {
        "run": str(r.get("runId", "")), "pipeline": str(r.get("pipeline", "")),
        "status": str(r.get("status", "")), "started": fmt.utc(r.get("startedAt")),
        "ended": fmt.utc(r.get("endedAt")), "progress": f"{done}/{len(steps)} steps",
        "steps": " → ".join(f"{s.get('step')} [{s.get('status')}]" for s in steps),
        "error": str(r.get("error") or ""),
    }


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p.title() for p in rest)


def merge_run_event(runs: dict[str, dict[str, Any]], payload: Any) -> dict[str, dict[str, Any]]:
    """``runs`` (by run id) with one pushed run or step row merged in: a row with a ``step``
    updates (or adds) that step of its run, any other row updates the run itself."""
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            return runs
    if not isinstance(payload, dict):
        return runs
    row = {_camel(k): v for k, v in payload.items()}
    run_id = str(row.get("runId") or "")
    if not run_id:
        return runs
    out = dict(runs)
    run = dict(out.get(run_id) or {"runId": run_id, "pipeline": row.get("pipeline", ""),
                                   "status": "running", "steps": []})
    if row.get("step") and row.get("step") != "*":
        steps = [s for s in run.get("steps") or [] if s.get("step") != row["step"]]
        steps.append({k: row.get(k) for k in ("step", "stepIndex", "status", "startedAt", "endedAt",
                                                "rowsIn", "rowsOut", "rejected", "gate", "error")})
        run["steps"] = sorted(steps, key=lambda s: (s.get("stepIndex") is None, s.get("stepIndex") or 0))
    else:
        run.update({k: v for k, v in row.items() if k != "step" and v is not None})
    out[run_id] = run
    return out


class SystemState(PageState, rx.State):
    trustworthy: str = fmt.MISSING
    failing_total: str = fmt.MISSING
    tables: list[dict[str, str]] = []
    checks: list[dict[str, str]] = []
    alerts: list[dict[str, str]] = []
    runs: list[dict[str, str]] = []
    operator_key: str = ""
    action_result: str = ""
    runs_live: str = "off"
    stale_tables: ClassVar[tuple[str, ...]] = ("",)  # every table counts here

    _runs: dict[str, dict[str, Any]] = {}
    #: acknowledgements the API confirmed to this page (alert id → time): shown even while a
    #: cached alerts answer of the API predates them (the ack lives outside the table)
    _acked: dict[str, str] = {}

    async def _load(self) -> None:
        health = await self._gql(queries.HEALTH)
        if self.api_down:
            return
        h = (health or {}).get("dataHealth") or {}  # an error here leaves the rest readable
        self.trustworthy = {True: "yes", False: "no"}.get(h.get("trustworthy"), fmt.MISSING)  # type: ignore[arg-type]
        self.failing_total = str(h.get("failingChecks", fmt.MISSING))
        self.tables = [health_row(t) for t in h.get("tables") or []]
        data = await self._gql(queries.SYSTEM)
        if data is None:
            return
        self.checks = [{
            "table": str(c.get("tableName", "")), "layer": str(c.get("layer", "")),
            "check": str(c.get("checkName", "")), "outcome": str(c.get("outcome", "")),
            "value": fmt.thousands(c.get("value"), 2) if c.get("value") is not None else fmt.MISSING,
            "message": str(c.get("message") or ""), "checked": fmt.utc(c.get("checkedAt")),
        } for c in nodes(data.get("dqResults"))]
        self.alerts = [{
            "id": str(a.get("alertId", "")), "severity": str(a.get("severity", "")),
            "kind": str(a.get("kind", "")), "subject": str(a.get("subject", "")),
            "message": str(a.get("message", "")), "raised": fmt.utc(a.get("raisedAt")),
            "acknowledged": "yes" if a.get("acknowledged") or str(a.get("alertId")) in self._acked else "no",
        } for a in nodes(data.get("alerts"))]
        self._runs = {str(r.get("runId")): r for r in nodes(data.get("pipelineRuns"))}
        self._show_runs()

    def _show_runs(self) -> None:
        ordered = sorted(self._runs.values(), key=lambda r: str(r.get("startedAt") or ""), reverse=True)
        self.runs = [run_row(r) for r in ordered[:10]]

    def _live_events(self) -> list[Any]:
        return [SystemState.follow_runs]

    @rx.event
    def set_operator_key(self, value: str) -> None:
        self.operator_key = value

    async def _mutate(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any] | None:
        if not self.operator_key:
            self.action_result = "An operator API key is needed (cryptolake api keys create --role operator)."
            return None
        try:
            answer = await client().execute(document, variables or {},
                                            headers=auth_headers(self.operator_key))
        except GraphQLError as exc:
            self.action_result = "Refused: " + "; ".join(exc.messages)
            return None
        except ApiError as exc:
            self.api_down = True
            self.api_error = str(exc)
            return None
        return answer.data

    @rx.event
    async def acknowledge(self, alert_id: str) -> None:
        data = await self._mutate(queries.ACKNOWLEDGE, {"id": alert_id})
        if data:
            ack = data.get("acknowledgeAlert") or {}
            self._acked = {**self._acked, alert_id: str(ack.get("acknowledgedAt", ""))}
            self.action_result = f"Alert {alert_id} acknowledged at {fmt.utc(ack.get('acknowledgedAt'), seconds=True)}."
            await self._refresh()

    @rx.event
    async def run_pipeline(self) -> None:
        data = await self._mutate(queries.RUN_PIPELINE)
        if data:
            t = data.get("runPipeline") or {}
            self.action_result = f"Pipeline run {t.get('runId')} queued ({t.get('status')})."
            await self._refresh()

    @rx.event(background=True)  # type: ignore[operator]
    async def follow_runs(self):  # type: ignore[no-untyped-def]
        """Step progress of pipeline runs, pushed by the ``pipelineRuns`` subscription."""
        async with self:
            session = self._session
        ws_url = get_web_settings().api_ws_url
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            async with self:
                if self._session != session:
                    return
                self.runs_live = "connecting"
            async def subscribed() -> None:
                async with self:
                    self.runs_live = "live"

            try:
                async for data in subscribe(ws_url, queries.PIPELINE_LIVE, on_subscribed=subscribed):
                    event = data.get("pipelineRuns") or {}
                    async with self:
                        if self._session != session:
                            return
                        self._runs = merge_run_event(self._runs, event.get("payload"))
                        self._show_runs()
                        self.runs_live = "live"
            except ApiError as exc:
                log.info("pipeline runs subscription: %s", exc)
                async with self:
                    self.runs_live = "reconnecting"
            await asyncio.sleep(3.0)
