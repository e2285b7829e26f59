"""Run the dbt-trino project in ``transform/`` in-process, with dbt's programmatic ``dbtRunner``.

The profile is generated from the CryptoLake settings at run time into
``$CRYPTOLAKE_HOME/dbt/profiles/<schema>/profiles.yml`` (no secrets in the repository; the Trino
server takes no password on loopback). dbt's ``target/`` and ``logs/`` go under
``$CRYPTOLAKE_HOME/dbt`` too, so the working tree stays clean. Everything runs offline: no package
downloads, no usage statistics, no version check.

Gold is built with write-audit-publish (see :mod:`cryptolake.processing.quality.gate`): dbt
writes into the audit schema (``gold_audit`` by default), the Gold quality gate checks it, and
only then are the marts copied into the published ``gold`` schema.

The CLI calls :func:`dbt_command` (``cryptolake transform dbt [build|test|docs] [--select …]``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from cryptolake.core import (
    CheckResult,
    ConfigError,
    JobContext,
    JobResult,
    Settings,
    TerminalError,
    TransientError,
    get_settings,
)

log = logging.getLogger(__name__)

#: Environment variable naming the dbt project directory (default: ``transform/`` of the repo).
PROJECT_DIR_ENV = "CRYPTOLAKE_DBT__PROJECT_DIR"
#: Schema dbt writes into (the audit side of write-audit-publish).
AUDIT_SCHEMA = "gold_audit"
#: Schema readers use (the publish side).
PUBLISHED_SCHEMA = "gold"
#: Models copied from the audit schema into the published schema.
MARTS: tuple[str, ...] = (
    "dim_coins",
    "dim_dates",
    "fact_market_daily",
    "fact_price_hourly",
    "market_ohlc",
)
#: Partitioning of the published marts (the same as the dbt models declare).
MART_PARTITIONING: dict[str, tuple[str, ...]] = {
    "dim_coins": (),
    "dim_dates": (),
    "fact_market_daily": ("year(date)",),
    "fact_price_hourly": ("month(open_time)",),
    "market_ohlc": ("timeframe", "year(bucket_start)"),
}
COMMANDS = ("build", "run", "test", "docs", "freshness", "compile", "parse", "seed")


@dataclass(frozen=True)
class DbtNodeResult:
    """The outcome of one dbt node (model, test, source freshness…)."""

    unique_id: str
    status: str
    execution_time: float = 0.0
    message: str = ""
    failures: int | None = None
    #: For tests: the unique id of the model the test is attached to.
    attached_node: str | None = None

    @property
    def resource_type(self) -> str:
        return self.unique_id.split(".", 1)[0]

    @property
    def name(self) -> str:
        parts = self.unique_id.split(".")
        return parts[2] if len(parts) > 2 else self.unique_id

    @property
    def model(self) -> str | None:
        """The model this node is (models) or tests (tests), by name."""
        if self.resource_type == "model":
            return self.name
        if self.attached_node:
            return self.attached_node.split(".")[-1]
        return None

    @property
    def failed(self) -> bool:
        return self.status in ("error", "fail", "runtime error")


@dataclass
class DbtRun:
    """What one dbt invocation did."""

    command: str
    args: list[str]
    success: bool
    nodes: list[DbtNodeResult] = field(default_factory=list)
    duration_s: float = 0.0
    error: str | None = None

    @property
    def failures(self) -> list[DbtNodeResult]:
        return [n for n in self.nodes if n.failed]

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for n in self.nodes:
            counts[n.status] = counts.get(n.status, 0) + 1
        return counts


def find_project_dir() -> Path:
    """The dbt project: ``$CRYPTOLAKE_DBT__PROJECT_DIR``, else ``transform/`` above this file or cwd."""
    configured = get_settings().dbt.project_dir
    if configured is not None:
        path = configured.expanduser()
        if not (path / "dbt_project.yml").is_file():
            raise ConfigError(f"{PROJECT_DIR_ENV}={configured} holds no dbt_project.yml")
        return path
    for base in (Path(__file__).resolve(), Path.cwd().resolve()):
        for parent in (base, *base.parents):
            candidate = parent / "transform" / "dbt_project.yml"
            if candidate.is_file():
                return candidate.parent
    raise ConfigError(
        "cannot find the dbt project (transform/dbt_project.yml); run from the repository or set "
        f"{PROJECT_DIR_ENV}"
    )


def dbt_home(settings: Settings) -> Path:
    return Path(settings.home) / "dbt"


def write_profile(settings: Settings, schema: str, *, threads: int = 2) -> Path:
    """Write the dbt profile for ``schema`` and return its directory."""
    import yaml  # type: ignore[import-untyped]

    profile = {
        "cryptolake": {
            "target": "lakehouse",
            "outputs": {
                "lakehouse": {
                    "type": "trino",
                    "method": "none",
                    "user": settings.trino.user,
                    "host": settings.trino.host,
                    "port": settings.trino.port,
                    "http_scheme": "http",
                    "database": settings.lakehouse.catalog,
                    "schema": schema,
                    "threads": threads,
                }
            },
        }
    }
    directory = dbt_home(settings) / "profiles" / schema
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "profiles.yml"
    text = yaml.safe_dump(profile, sort_keys=False)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
    return directory


def _offline_env() -> None:
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    os.environ["DBT_VERSION_CHECK"] = "false"
    os.environ.setdefault("DBT_PRINTER_WIDTH", "100")


def build_args(
    command: str,
    *,
    project_dir: Path,
    profiles_dir: Path,
    target_path: Path,
    log_path: Path,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    full_refresh: bool = False,
    vars: Mapping[str, Any] | None = None,
) -> list[str]:
    """The dbt command line for ``command`` (``docs`` means ``docs generate``)."""
    import json

    if command not in COMMANDS:
        raise ConfigError(f"unknown dbt command {command!r}; use one of {', '.join(COMMANDS)}")
    head = {"docs": ["docs", "generate"], "freshness": ["source", "freshness"]}.get(command, [command])
    args = [
        *head,
        "--project-dir", str(project_dir),
        "--profiles-dir", str(profiles_dir),
        "--target-path", str(target_path),
        "--log-path", str(log_path),
    ]
    if select:
        args += ["--select", *select]
    if exclude:
        args += ["--exclude", *exclude]
    if full_refresh and command in ("build", "run", "seed"):
        args.append("--full-refresh")
    if vars:
        args += ["--vars", json.dumps(dict(vars), sort_keys=True)]
    return args


def _node_results(result: Any) -> list[DbtNodeResult]:
    nodes: list[DbtNodeResult] = []
    for r in getattr(result, "results", None) or []:
        node = getattr(r, "node", None)
        unique_id = getattr(node, "unique_id", None) or getattr(r, "unique_id", "?")
        status = getattr(r, "status", "")
        nodes.append(
            DbtNodeResult(
                unique_id=str(unique_id),
                status=str(getattr(status, "value", status)),
                execution_time=float(getattr(r, "execution_time", 0.0) or 0.0),
                message=str(getattr(r, "message", "") or ""),
                failures=getattr(r, "failures", None),
                attached_node=getattr(node, "attached_node", None),
            )
        )
    return nodes


def run_dbt(
    command: str = "build",
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    full_refresh: bool = False,
    schema: str = AUDIT_SCHEMA,
    silver_schema: str | None = None,
    vars: Mapping[str, Any] | None = None,
    settings: Settings | None = None,
    project_dir: Path | None = None,
    threads: int = 2,
) -> DbtRun:
    """Run one dbt command against the lakehouse and return what every node did.

    ``schema`` is where the models are written (the audit schema of write-audit-publish by
    default), ``silver_schema`` where the sources are read (default ``silver``). Never raises for
    failing models or tests — check :attr:`DbtRun.success` — but raises
    :class:`~cryptolake.core.TransientError` when Trino cannot be reached and
    :class:`~cryptolake.core.TerminalError` when dbt itself cannot run.
    """
    from dbt.cli.main import dbtRunner

    settings = settings or get_settings()
    project_dir = project_dir or find_project_dir()
    _offline_env()
    home = dbt_home(settings)
    all_vars = dict(vars or {})
    if silver_schema:
        all_vars["silver_schema"] = silver_schema
    args = build_args(
        command,
        project_dir=project_dir,
        profiles_dir=write_profile(settings, schema, threads=threads),
        target_path=home / "target" / schema,
        log_path=home / "logs",
        select=select,
        exclude=exclude,
        full_refresh=full_refresh,
        vars=all_vars,
    )
    log.info("dbt %s", " ".join(args))
    started = time.perf_counter()
    outcome = dbtRunner().invoke(args)
    run = DbtRun(
        command=command,
        args=args,
        success=bool(outcome.success),
        nodes=_node_results(outcome.result),
        duration_s=time.perf_counter() - started,
    )
    if outcome.exception is not None:
        message = f"{type(outcome.exception).__name__}: {outcome.exception}"
        run.error = message
        lowered = message.lower()
        if "connection refused" in lowered or "max retries exceeded" in lowered:
            raise TransientError(
                f"dbt {command}: Trino at {settings.trino.host}:{settings.trino.port} is not "
                f"reachable ({message}); start the stack with `cryptolake stack up`"
            ) from outcome.exception
        raise TerminalError(f"dbt {command} could not run: {message}") from outcome.exception
    for node in run.failures:
        log.warning("dbt %s: %s %s: %s", command, node.unique_id, node.status, node.message)
    log.info("dbt %s finished in %.1fs: %s", command, run.duration_s, run.summary())
    return run


def publish_marts(
    *,
    settings: Settings | None = None,
    audit_schema: str = AUDIT_SCHEMA,
    published_schema: str = PUBLISHED_SCHEMA,
    tables: Sequence[str] = MARTS,
    rows_out: dict[str, int] | None = None,
) -> dict[str, int | None]:
    """Copy the audited marts into the published schema; returns table → new snapshot id.

    Each table is replaced atomically with ``CREATE OR REPLACE TABLE … AS SELECT`` (an Iceberg
    replace keeps the table's history, so ``FOR VERSION AS OF`` still reads earlier states).
    """
    from cryptolake.core.clients import connect

    settings = settings or get_settings()
    catalog = settings.lakehouse.catalog
    conn = connect(settings)
    snapshots: dict[str, int | None] = {}
    try:
        cur = conn.cursor()
        cur.execute(f'CREATE SCHEMA IF NOT EXISTS {catalog}."{published_schema}"')
        cur.fetchall()
        for table in tables:
            parts = MART_PARTITIONING.get(table, ())
            with_clause = (
                " WITH (partitioning = ARRAY[" + ", ".join(f"'{p}'" for p in parts) + "])"
                if parts
                else ""
            )
            cur.execute(
                f'CREATE OR REPLACE TABLE {catalog}."{published_schema}"."{table}"{with_clause} '
                f'AS SELECT * FROM {catalog}."{audit_schema}"."{table}"'
            )
            rows = cur.fetchall()
            written = int(rows[0][0]) if rows and rows[0] and rows[0][0] is not None else 0
            cur.execute(
                f'SELECT snapshot_id FROM {catalog}."{published_schema}"."{table}$snapshots" '
                "ORDER BY committed_at DESC LIMIT 1"
            )
            row = cur.fetchone()
            ident = f"{published_schema}.{table}"
            snapshots[ident] = int(row[0]) if row else None
            if rows_out is not None:
                rows_out[ident] = written
            log.info("published %s.%s -> %s (%d rows)", audit_schema, table, ident, written)
    finally:
        conn.close()
    return snapshots


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
    :class:`~cryptolake.core.QualityGateFailed` when the gate refuses, and
    :class:`~cryptolake.core.TerminalError` when dbt models or tests fail.
    """
    if command == "build":
        from cryptolake.core import JobContext, build_plugin_manager, run_job

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


class DbtBuildConfig(BaseModel):
    """Configuration of the ``dbt.gold`` transform."""

    select: list[str] = Field(default_factory=list, description="dbt --select")
    exclude: list[str] = Field(default_factory=list, description="dbt --exclude")
    full_refresh: bool = Field(False, description="rebuild incremental models from scratch")
    publish: bool = Field(True, description="publish the marts when the gate passes")
    silver_schema: str = Field("silver", description="namespace of the Silver tables")
    audit_schema: str = Field(AUDIT_SCHEMA, description="namespace dbt writes and the gate audits")
    published_schema: str = Field(PUBLISHED_SCHEMA, description="namespace readers use")
    ops_namespace: str | None = Field(None, description="namespace of dq_results/alerts (ops)")
    gap_tolerance: int = Field(0, description="missing buckets the Gold gate tolerates per table")
    gap_window_days: int | None = Field(7, description="Gold gate looks for gaps in the last N days")
    max_staleness_hours: float = Field(48.0, description="Gold freshness limit (loaded_at)")
    vars: dict[str, Any] = Field(default_factory=dict, description="extra dbt vars")
    threads: int = Field(2, ge=1)


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


class DbtGoldJob:
    """Gold with write-audit-publish: dbt run + test into the audit schema, gate, publish.

    Implements :class:`cryptolake.core.Job`. ``ctx.params`` may override ``silver_schema``,
    ``audit_schema``, ``published_schema`` and ``full_refresh`` (tests point them at a private
    namespace).
    """

    def __init__(self, config: BaseModel) -> None:
        if not isinstance(config, DbtBuildConfig):
            config = DbtBuildConfig.model_validate(config.model_dump())
        self.config = config
        self.last_run: DbtRun | None = None
        self.runs: list[DbtRun] = []

    def _param(self, ctx: JobContext, name: str) -> Any:
        return ctx.params.get(name, getattr(self.config, name))

    def run(self, ctx: JobContext) -> JobResult:
        from cryptolake.processing.quality.gate import audit

        cfg = self.config
        audit_schema = self._param(ctx, "audit_schema")
        published = self._param(ctx, "published_schema")
        common: dict[str, Any] = {
            "select": cfg.select,
            "exclude": cfg.exclude,
            "schema": audit_schema,
            "silver_schema": self._param(ctx, "silver_schema"),
            "vars": cfg.vars,
            "settings": ctx.settings,
            "threads": cfg.threads,
        }
        # write: every model into the audit schema, then every dbt test on it
        model_run = run_dbt("run", full_refresh=bool(self._param(ctx, "full_refresh")), **common)
        test_run = run_dbt("test", **common)
        self.runs = [model_run, test_run]
        self.last_run = DbtRun(
            command="build",
            args=model_run.args,
            success=model_run.success and test_run.success,
            nodes=model_run.nodes + test_run.nodes,
            duration_s=model_run.duration_s + test_run.duration_s,
        )
        # audit: dbt's results and the Gold Soda suites on the audit schema
        suite_config = {
            e.name: {
                "gap_tolerance": cfg.gap_tolerance,
                "gap_window_days": cfg.gap_window_days,
                "max_staleness_hours": cfg.max_staleness_hours,
            }
            for e in ctx.host.quality.for_layer("gold")
        }
        report = audit(
            ctx, "gold", namespace=audit_schema, extra=dbt_check_results(self.runs),
            config=suite_config, ops_namespace=self._param(ctx, "ops_namespace"),
        )
        result = JobResult(
            rows_in=0,
            details={
                "dbt": self.last_run.summary(),
                "checks": len(report.results),
                "audit_schema": audit_schema,
                "published": False,
                "gate": "pass",  # audit() raised QualityGateFailed otherwise
            },
        )
        if not cfg.publish:
            return result
        # publish: the audited marts replace the published ones
        written: dict[str, int] = {}
        snapshots = publish_marts(
            settings=ctx.settings, audit_schema=audit_schema, published_schema=published,
            rows_out=written,
        )
        result.snapshot_ids = snapshots
        result.rows_out = sum(written.values())
        result.details["published"] = True
        for table, snapshot in snapshots.items():
            ctx.committed(table, snapshot, written.get(table, 0))
        return result
