"""The ``dbt.gold`` transform: Gold built from what changed in Silver, audited, published.

Incremental by upstream change
    Every Silver MERGE stamps the rows it inserts or changes with ``updated_at``. A Gold build
    records, in its publication, the newest ``updated_at`` of each Silver input it read (its
    *watermark*). The next build passes the previous watermarks to dbt (var ``changed_since``):
    the models rebuild exactly the (symbol, day) keys whose Silver rows changed since — plus the
    neighbours their windows depend on — whatever the age of those days. A backfill of 2021
    history reaches Gold in the next run, and its cost tracks the backfill's size, not the
    table's. No watermark (first build, another Silver namespace, ``--full-refresh``): everything.

Pinned Silver
    With ``read_published_silver`` the sources read Silver at the snapshots of its latest
    publication (committed by the Silver gate), so an unaudited Silver write never reaches Gold.

Unchanged input
    A build whose pinned Silver snapshots, dbt project (every file of it) and settings are those
    the latest Gold publication was built from, with published Gold untouched since, could only
    write the same rows and pass the same dbt tests: it runs neither (``skip_unchanged``), and
    audits published Gold with the Gold Soda suites (time-dependent checks such as freshness
    still run and alarm). ``--full-refresh`` always builds.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from cryptolake.core import (
    CheckResult,
    JobContext,
    JobResult,
    QualityGateFailed,
    Settings,
    TerminalError,
    get_settings,
)
from cryptolake.processing._laps import Laps
from cryptolake.processing.dbt.config import SILVER_INPUTS, DbtBuildConfig
from cryptolake.processing.dbt.project import find_project_dir
from cryptolake.processing.dbt.publish import publish_gold, rollback, table_snapshots
from cryptolake.processing.dbt.runner import DbtRun, run_dbt

log = logging.getLogger(__name__)


def dbt_check_results(runs: Sequence[DbtRun]) -> list[tuple[str, CheckResult]]:
    """dbt model and test outcomes as quality results (suite ``dbt``)."""
    out: list[tuple[str, CheckResult]] = []
    for run in runs:
        for node in run.nodes:
            if node.resource_type not in ("model", "test"):
                continue
            outcome = {"success": "pass", "pass": "pass", "warn": "warn", "skipped": "error",
                       "fail": "fail"}.get(node.status, "error")
            model = node.model or node.name
            out.append(
                (
                    "dbt",
                    CheckResult(
                        check="dbt_model" if node.resource_type == "model" else node.name,
                        table=f"gold.{model}",
                        outcome=outcome,
                        value=float(node.failures) if node.failures is not None else None,
                        message=(node.message or node.status)[:2000],
                    ),
                )
            )
    return out


def silver_watermarks(
    settings: Settings, silver_schema: str, pins: dict[str, int | None]
) -> dict[str, str | None]:
    """The newest ``updated_at`` of each Silver input (at its pinned snapshot), ISO 8601."""
    from cryptolake.core.clients import connect

    out: dict[str, str | None] = {}
    conn = connect(settings)
    try:
        cur = conn.cursor()
        for table in SILVER_INPUTS:
            version = f" FOR VERSION AS OF {pins[table]}" if pins.get(table) else ""
            try:
                cur.execute(
                    f"SELECT max(updated_at) FROM {settings.lakehouse.catalog}."
                    f'"{silver_schema}"."{table}"{version}'
                )
                (value,), = cur.fetchall()
            except Exception as exc:  # a Silver table that does not exist yet
                log.debug("no watermark for %s.%s: %s", silver_schema, table, exc)
                value = None
            out[table] = value.isoformat() if isinstance(value, datetime) else None
    finally:
        conn.close()
    return out


class DbtGoldJob:
    """Gold with write-audit-publish: dbt run + test into the audit schema, gate, publish.

    Implements :class:`cryptolake.core.Job`. ``ctx.params`` may override ``silver_schema``,
    ``audit_schema``, ``published_schema``, ``ops_namespace`` and ``full_refresh`` (tests point
    them at a private namespace).
    """

    def __init__(self, config: BaseModel) -> None:
        if not isinstance(config, DbtBuildConfig):
            config = DbtBuildConfig.model_validate(config.model_dump())
        self.config = config
        self.last_run: DbtRun | None = None
        self.runs: list[DbtRun] = []

    def _param(self, ctx: JobContext, name: str) -> Any:
        return ctx.params.get(name, getattr(self.config, name))

    def _inputs(
        self, ctx: JobContext, silver: str, published: str, ops_ns: str | None, full: bool
    ) -> tuple[dict[str, int | None], dict[str, str | None], dict[str, Any], Any]:
        """(Silver pins, changed_since per Silver table, the inputs to record, the latest Gold
        publication or ``None`` for a full build)."""
        from cryptolake.core.pipeline import latest_publication

        settings, cfg = ctx.settings, self.config
        pins: dict[str, int | None] = {}
        silver_pub = None
        if cfg.read_published_silver:
            silver_pub = latest_publication(settings, "silver", silver, ops_namespace=ops_ns)
            if silver_pub is not None:
                pins = {t: silver_pub.tables[t] for t in SILVER_INPUTS if t in silver_pub.tables}
        last = None if full else latest_publication(settings, "gold", published,
                                                    ops_namespace=ops_ns)
        changed_since: dict[str, str | None] = {}
        if last is not None and last.inputs.get("silver_schema") == silver:
            # read at published snapshots, a table's changes since the last build all carry a
            # later updated_at (its Silver jobs run one after the other, after that publication):
            # no slack needed. Read at the heads, a write may race the build: re-read a margin.
            pinned = bool(last.inputs.get("silver_snapshots")) and bool(pins)
            slack = timedelta(minutes=0 if pinned else cfg.change_slack_minutes)
            for table, mark in (last.inputs.get("watermarks") or {}).items():
                changed_since[table] = (
                    (datetime.fromisoformat(mark) - slack).isoformat() if mark else None
                )
        inputs = {
            "fingerprint": self._fingerprint(ctx),
            "silver_schema": silver,
            "silver_publication": silver_pub.publication_id if silver_pub else None,
            "silver_snapshots": pins,
            "watermarks": silver_watermarks(settings, silver, pins),
            "changed_since": changed_since,
            "previous_gold": last.publication_id if last else None,
        }
        return pins, changed_since, inputs, last

    def _fingerprint(self, ctx: JobContext) -> str:
        """A hash of what, besides Silver, decides the build: every file of the dbt project and
        this job's settings and parameters."""
        digest = hashlib.sha256()
        project = find_project_dir()
        skip = {"target", "logs", "dbt_packages", "__pycache__"}
        for path in sorted(project.rglob("*")):
            rel = path.relative_to(project)
            if path.is_file() and not skip & set(rel.parts):
                digest.update(rel.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        config = self.config.model_dump(mode="json", exclude={"full_refresh"})
        params = {k: v for k, v in ctx.params.items() if k != "full_refresh"}
        digest.update(json.dumps([config, params], sort_keys=True, default=str).encode())
        return digest.hexdigest()

    def _unchanged(self, ctx: JobContext, published: str, inputs: dict[str, Any],
                   last: Any) -> bool:
        """Whether this build would read exactly the input of ``last`` (the latest Gold
        publication) with published Gold still as ``last`` left it."""
        pins = inputs["silver_snapshots"]
        if not self.config.skip_unchanged or not pins or any(v is None for v in pins.values()):
            return False
        if last is None:
            return False
        same = all(last.inputs.get(k) == inputs[k]
                   for k in ("fingerprint", "silver_schema", "silver_snapshots"))
        if not same:
            return False
        now = table_snapshots(ctx.settings, published)
        # published Gold written (or rolled back) since: build
        return all(now.get(t) == sid for t, sid in last.tables.items())

    def run(self, ctx: JobContext) -> JobResult:
        from cryptolake.processing.quality.gate import audit

        cfg = self.config
        audit_schema = self._param(ctx, "audit_schema")
        published = self._param(ctx, "published_schema")
        silver = self._param(ctx, "silver_schema")
        ops_ns = self._param(ctx, "ops_namespace")
        full = bool(self._param(ctx, "full_refresh"))
        clock = Laps()
        pins, changed_since, inputs, last = self._inputs(ctx, silver, published, ops_ns, full)
        if self._unchanged(ctx, published, inputs, last):
            clock.lap("inputs")
            result = self._audit_unchanged(ctx, last, published, silver, ops_ns)
            clock.lap("audit")
            result.details["seconds"] = clock.seconds
            return result
        clock.lap("inputs")
        dbt_vars = {
            **cfg.vars,
            "silver_snapshots": {k: v for k, v in pins.items() if v is not None},
            "changed_since": {k: v for k, v in changed_since.items() if v is not None},
        }
        common: dict[str, Any] = {
            "select": cfg.select,
            "exclude": cfg.exclude,
            "schema": audit_schema,
            "silver_schema": silver,
            "vars": dbt_vars,
            "settings": ctx.settings,
            "threads": cfg.threads,
            "progress": ctx.report,
        }
        before = table_snapshots(ctx.settings, audit_schema)
        try:
            # write: every model into the audit schema, then every dbt test on it
            model_run = run_dbt("run", full_refresh=full, **common)
            clock.lap("dbt_run")
            test_run = run_dbt("test", require_match=False, **common)
            clock.lap("dbt_test")
            self.runs = [model_run, test_run]
            self.last_run = DbtRun(
                command="build",
                args=model_run.args,
                success=model_run.success and test_run.success,
                nodes=model_run.nodes + test_run.nodes,
                duration_s=model_run.duration_s + test_run.duration_s,
            )
            # audit: dbt's results and the Gold Soda suites on the audit schema
            report = audit(
                ctx, "gold", namespace=audit_schema, extra=dbt_check_results(self.runs),
                config=self._suite_config(ctx, silver, dbt_vars["silver_snapshots"]),
                ops_namespace=ops_ns, threads=cfg.suite_threads,
            )
            clock.lap("audit")
        except (QualityGateFailed, TerminalError, KeyboardInterrupt):
            # the audit area goes back to what it was; nothing was published
            rollback(ctx.settings, audit_schema, before)
            raise
        rows = {n.name: n.rows_affected for n in model_run.nodes
                if n.resource_type == "model" and n.rows_affected is not None}
        result = JobResult(
            rows_in=0,
            details={
                "dbt": self.last_run.summary(),
                "checks": len(report.results),
                "audit_schema": audit_schema,
                "published": False,
                "gate": "pass",  # audit() raised QualityGateFailed otherwise
                "incremental": "changed since " + ", ".join(
                    f"{k} {v}" for k, v in sorted(dbt_vars["changed_since"].items())
                ) if dbt_vars["changed_since"] else "everything",
                "rows_written": rows,
                "silver_snapshots": dbt_vars["silver_snapshots"],
                "seconds": clock.seconds,
                "slowest_models": _slowest(model_run, "model"),
                "slowest_tests": _slowest(test_run, "test"),
            },
        )
        if not cfg.publish:
            return result
        # publish: the audited marts replace the published ones, then one atomic record
        written: dict[str, int] = {}
        snapshots, pub = publish_gold(
            ctx.settings, audit_schema=audit_schema, published_schema=published,
            run_id=ctx.run_id, inputs=inputs, ops_namespace=ops_ns, rows_out=written,
        )
        result.snapshot_ids = snapshots
        result.rows_out = sum(written.values())
        result.details["published"] = True
        result.details["publication"] = pub.publication_id
        clock.lap("publish")
        for table, snapshot in snapshots.items():
            ctx.committed(table, snapshot, written.get(table, 0))
        return result

    def _suite_config(self, ctx: JobContext, silver: str,
                      pins: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The Gold Soda suites' settings (read by each suite's ``configure``)."""
        cfg = self.config
        return {
            e.name: {
                "gap_tolerance": cfg.gap_tolerance,
                "gap_window_days": cfg.gap_window_days,
                "max_staleness_hours": cfg.max_staleness_hours,
                "silver_namespace": silver,
                "silver_snapshots": pins,
            }
            for e in ctx.host.quality.for_layer("gold")
        }

    def _audit_unchanged(self, ctx: JobContext, last: Any, published: str, silver: str,
                         ops_ns: str | None) -> JobResult:
        from cryptolake.processing.quality.gate import audit

        pins = {k: v for k, v in last.inputs["silver_snapshots"].items() if v is not None}
        log.info("dbt.gold: Silver, the dbt project and the settings are those of Gold "
                 "publication %s; no dbt build, the Gold suites audit published Gold",
                 last.publication_id)
        ctx.report(0, None, f"unchanged since Gold publication {last.publication_id}")
        report = audit(ctx, "gold", namespace=published,
                       config=self._suite_config(ctx, silver, pins), ops_namespace=ops_ns,
                       threads=self.config.suite_threads)
        return JobResult(
            rows_in=0,
            details={
                "dbt": "not run: input unchanged",
                "unchanged_since": last.publication_id,
                "checks": len(report.results),
                "audit_schema": published,
                "published": False,
                "gate": "pass",  # audit() raised QualityGateFailed otherwise
                "incremental": "nothing: the input of publication " + last.publication_id,
                "rows_written": {},
                "silver_snapshots": pins,
            },
        )


def _slowest(run: DbtRun, kind: str, n: int = 3) -> dict[str, float]:
    """The ``n`` longest ``kind`` nodes of ``run`` (name → seconds), for the step's details."""
    nodes = sorted((x for x in run.nodes if x.resource_type == kind),
                   key=lambda x: x.execution_time, reverse=True)[:n]
    return {x.name: round(x.execution_time, 2) for x in nodes}


def dbt_command(
    command: str = "build",
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    full_refresh: bool = False,
    publish: bool = True,
    settings: Settings | None = None,
) -> DbtRun:
    """What ``cryptolake transform dbt COMMAND [--select …] [--full-refresh]`` runs.

    ``build`` is write-audit-publish: dbt builds into the audit schema, the Gold quality gate
    checks it, and the marts are published only when it passes (``publish=False`` stops after
    the audit). ``test`` and ``docs`` run dbt on the audit schema and publish nothing. Raises
    :class:`~cryptolake.core.QualityGateFailed` when the gate refuses,
    :class:`~cryptolake.core.ConfigError` when ``select`` matches nothing, and
    :class:`~cryptolake.core.TerminalError` when dbt models or tests fail.
    """
    if command == "build":
        from cryptolake.core import build_plugin_manager, run_job

        settings = settings or get_settings()
        job = DbtGoldJob(
            DbtBuildConfig(
                select=list(select), exclude=list(exclude), full_refresh=full_refresh,
                publish=publish,
            )
        )
        host = build_plugin_manager(settings)
        ctx = JobContext(kind="transform", name="dbt.gold", settings=settings, host=host)
        run_job(ctx, job.run)
        assert job.last_run is not None
        return job.last_run
    run = run_dbt(command, select=select, exclude=exclude, settings=settings)
    if not run.success:
        failed = ", ".join(f"{n.name} ({n.status})" for n in run.failures) or run.error or "?"
        raise TerminalError(f"dbt {command} failed: {failed}")
    return run
