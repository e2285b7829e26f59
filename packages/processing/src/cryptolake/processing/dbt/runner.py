"""Run the dbt-trino project in-process, with dbt's programmatic ``dbtRunner``.

Everything runs offline: no package downloads, no usage statistics, no version check.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptolake.core import (
    ConfigError,
    Settings,
    TerminalError,
    TransientError,
    get_settings,
)
from cryptolake.processing.dbt.config import AUDIT_SCHEMA
from cryptolake.processing.dbt.profile import dbt_home, write_profile
from cryptolake.processing.dbt.project import find_project_dir, model_names

log = logging.getLogger(__name__)

COMMANDS = ("build", "run", "test", "docs", "freshness", "compile", "parse", "seed")
#: Commands whose ``--select`` must match at least one node.
SELECTING = frozenset({"build", "run", "test", "compile", "seed", "freshness"})


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
    #: For models: the rows the adapter reports written (a MERGE's inserted + updated rows).
    rows_affected: int | None = None

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
        args += ["--vars", json.dumps(dict(vars), sort_keys=True, default=str)]
    return args


def _node_results(result: Any) -> list[DbtNodeResult]:
    nodes: list[DbtNodeResult] = []
    for r in getattr(result, "results", None) or []:
        node = getattr(r, "node", None)
        unique_id = getattr(node, "unique_id", None) or getattr(r, "unique_id", "?")
        status = getattr(r, "status", "")
        response = getattr(r, "adapter_response", None) or {}
        affected = response.get("rows_affected") if isinstance(response, dict) else None
        nodes.append(
            DbtNodeResult(
                unique_id=str(unique_id),
                status=str(getattr(status, "value", status)),
                execution_time=float(getattr(r, "execution_time", 0.0) or 0.0),
                message=str(getattr(r, "message", "") or ""),
                failures=getattr(r, "failures", None),
                attached_node=getattr(node, "attached_node", None),
                rows_affected=int(affected) if isinstance(affected, int | float) else None,
            )
        )
    return nodes


#: dbt's per-node result events: each carries the node's index and the run's total
_RESULT_EVENTS = frozenset({"LogModelResult", "LogTestResult", "LogSeedResult",
                            "LogSnapshotResult", "LogNodeResult", "SkippingDetails"})


def _progress_callback(command: str, progress: Callable[[int, int | None, str], None]
                       ) -> Callable[[Any], None]:
    def on_event(event: Any) -> None:
        try:
            if event.info.name not in _RESULT_EVENTS:
                return
            data = event.data
            index, total = int(getattr(data, "index", 0) or 0), int(getattr(data, "total", 0) or 0)
            node = getattr(getattr(data, "node_info", None), "node_name", "") or getattr(
                data, "name", "") or getattr(data, "description", "")
            status = str(getattr(data, "status", "") or "")
            progress(index, total or None, f"dbt {command}: {node} {status}".strip())
        except Exception:  # a display problem must never fail the dbt run
            log.debug("dbt progress callback failed", exc_info=True)

    return on_event


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
    require_match: bool | None = None,
    progress: Callable[[int, int | None, str], None] | None = None,
) -> DbtRun:
    """Run one dbt command against the lakehouse and return what every node did.

    ``schema`` is where the models are written (the audit schema of write-audit-publish by
    default), ``silver_schema`` where the sources are read (default ``silver``). Never raises for
    failing models or tests — check :attr:`DbtRun.success` — but raises
    :class:`~cryptolake.core.TransientError` when Trino cannot be reached,
    :class:`~cryptolake.core.TerminalError` when dbt itself cannot run, and
    :class:`~cryptolake.core.ConfigError` when ``select`` matches no node (``require_match``,
    default: whenever ``select`` is given to a command that selects).

    ``progress(done, total, message)`` is called as each node finishes (dbt's own "3 of 12 OK"
    result events), so a caller can show the run moving.
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
    callbacks = [_progress_callback(command, progress)] if progress is not None else []
    outcome = dbtRunner(callbacks=callbacks).invoke(args)
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
    must_match = bool(select) and command in SELECTING if require_match is None else require_match
    if must_match and not run.nodes:
        known = model_names(project_dir)
        raise ConfigError(
            f"dbt {command} --select {' '.join(select)} matches no model, test or source; "
            f"models: {', '.join(known)}"
        )
    for node in run.failures:
        log.warning("dbt %s: %s %s: %s", command, node.unique_id, node.status, node.message)
    log.info("dbt %s finished in %.1fs: %s", command, run.duration_s, run.summary())
    return run
