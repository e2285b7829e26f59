"""``cryptolake pipeline run|status``, ``cryptolake worker``, ``cryptolake beat``."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.console import Console, Group
from rich.table import Table

from cryptolake.core.cli._run import parse_time
from cryptolake.core.errors import ConfigError, CryptoLakeError, transient_cause
from cryptolake.core.manager import PluginHost, build_plugin_manager
from cryptolake.core.pipeline import (
    PipelineRun,
    Step,
    daily_pipeline,
    finished_run,
    latest_runs,
    maintenance_pipeline,
    run_in_process,
    steps_of,
)
from cryptolake.core.settings import get_settings

log = logging.getLogger(__name__)

app = typer.Typer(help="Run the pipelines and inspect their runs.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)


_STATUS = {"succeeded": ("green", "ok"), "failed": ("red", "FAILED"), "skipped": ("yellow", "skipped"),
           "running": ("cyan", "running")}


def _steps_table(rows: list[dict[str, Any]]) -> Group:
    """The steps of a run, in 78 columns: the table, then one line per error beneath it.

    Readable in an 80-column terminal and in CI logs (no cut names like "transf…"): numbers are
    right-aligned with thousands separators, a step's name is kept whole, errors are not squeezed
    into a column.
    """
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
    table.add_column("step", no_wrap=True, min_width=24)
    table.add_column("status", no_wrap=True)
    for name, width in (("in", 10), ("out", 10), ("rej", 7), ("secs", 6)):
        table.add_column(name, justify="right", no_wrap=True, max_width=width)
    table.add_column("gate", no_wrap=True)
    errors: list[str] = []
    for r in rows:
        if r["step"] == "*":
            continue
        seconds = (
            (r["ended_at"] - r["started_at"]).total_seconds() if r.get("ended_at") else 0.0
        )
        colour, word = _STATUS.get(r["status"], ("", r["status"]))
        # "<family>:<name>": plugin names are unique across families, so the name alone says it
        label = f"{r['step_index'] + 1:>2} {r['step'].partition(':')[2] or r['step']}"
        table.add_row(
            label, f"[{colour}]{word}[/]" if colour else word,
            f"{r['rows_in'] or 0:,}", f"{r['rows_out'] or 0:,}", f"{r['rejected'] or 0:,}",
            f"{seconds:.1f}", r["gate"] or "-",
        )
        if r.get("error"):
            errors.append(f"[red]step {r['step_index'] + 1} error:[/] {r['error']}")
    return Group(table, *errors)


@app.command("run")
def run(
    pipeline: str = typer.Option("daily", "--pipeline", help="daily or maintenance"),
    source: str = typer.Option("replay", "--source", help="replay (recorded data) or live"),
    start: str | None = typer.Option(None, "--from", help="Window start (UTC)."),
    end: str | None = typer.Option(None, "--to", help="Window end, exclusive (UTC)."),
    via_workers: bool = typer.Option(False, "--via-workers", help="Run the chain on the Celery workers."),
    force: bool = typer.Option(False, "--force", help="Run even if this window already succeeded."),
    timeout: float = typer.Option(3600, "--timeout", help="With --via-workers: seconds to wait."),
    data: Path | None = typer.Option(
        None, "--data", help="With --source replay: a directory of recorded files to replay "
        "instead of the bundled sample (any layout the replay source reads, e.g. ../shared/data).",
    ),
    progress_every: float = typer.Option(
        15.0, "--progress-every", min=1.0,
        help="Not on a terminal (CI logs, pipes): seconds between the running step's progress "
        "lines.",
    ),
) -> None:
    """Run the whole chain and end with a summary table (per step: rows, duration, gate)."""
    host = build_plugin_manager()
    settings = host.settings
    run_ = PipelineRun(
        pipeline=pipeline, source=source, start=parse_time(start, "--from"),
        end=parse_time(end, "--to"), via="workers" if via_workers else "in-process",
    )
    try:
        steps: list[Step] = (
            daily_pipeline(host, source=source) if pipeline == "daily" else maintenance_pipeline(host)
        )
        if data is not None:
            steps = _with_data_dir(host, steps, data, source)
    except CryptoLakeError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    # a run over another directory of recorded files is new work whatever the window
    if not force and data is None and (done := finished_run(settings, run_)) is not None:
        console.print(
            f"[green]nothing to do:[/] run {done['run_id']} already processed this window "
            f"({done['ended_at']:%Y-%m-%d %H:%M} UTC); use --force to run again"
        )
        return
    console.print(f"pipeline [bold]{pipeline}[/] run [bold]{run_.run_id}[/]: "
                  + " → ".join(s.name for s in steps))
    if via_workers:
        _run_on_workers(run_, steps, timeout)
    else:
        from cryptolake.core.cli._progress import StepProgress

        live = StepProgress(len(steps), console, every=progress_every)
        host.register(live.plugin)
        try:
            with live:
                run_in_process(host, run_, steps, progress=live.step, report=live.reported)
        except Exception as exc:
            console.print(_steps_table(steps_of(settings, run_.run_id)))
            console.print(f"[red]pipeline failed:[/] {exc}")
            raise typer.Exit(1) from exc
    rows = steps_of(settings, run_.run_id)
    console.print(_steps_table(rows))
    final = [r for r in rows if r["step"] == "*"]
    if not final or final[-1]["status"] != "succeeded":
        raise typer.Exit(1)


def _with_data_dir(host: PluginHost, steps: list[Step], data: Path, source: str) -> list[Step]:
    """The replay steps read ``data`` (``data_dir`` in their config) instead of the sample."""
    if source != "replay":
        raise ConfigError(f"--data {data} needs --source replay (the live sources fetch from the network)")
    if not data.expanduser().is_dir():
        raise ConfigError(f"--data {data}: no such directory")
    replay = {s.name for s in host.sources if "replay" in s.capabilities}
    where = str(data.expanduser().resolve())
    return [
        replace(s, config={**s.config, "data_dir": where}) if s.kind == "ingest" and s.name in replay else s
        for s in steps
    ]


def _run_on_workers(run_: PipelineRun, steps: list[Step], timeout: float) -> None:
    from cryptolake.core.jobs.worker import build_chain

    settings = get_settings()
    build_chain(run_, steps).apply_async()
    deadline = time.monotonic() + timeout
    seen: set[str] = set()
    outage: str | None = None
    while time.monotonic() < deadline:
        try:
            rows = steps_of(settings, run_.run_id)
        except Exception as exc:
            why = transient_cause(exc)
            if why is None:
                raise
            if outage is None:  # the catalog is restarting: the run goes on on the workers
                console.print(f"  (cannot read ops.pipeline_runs for now: {why.splitlines()[0]}; "
                              "still following)")
            outage = why
            time.sleep(2)
            continue
        if outage is not None:
            console.print("  (ops.pipeline_runs readable again)")
            outage = None
        for r in rows:
            if r["step"] not in seen:
                seen.add(r["step"])
                if r["step"] != "*":
                    console.print(f"  [{r['step_index'] + 1}/{len(steps)}] {r['step']}: {r['status']}")
        if any(r["step"] == "*" for r in rows):
            return
        time.sleep(2)
    console.print(f"[red]timed out[/] after {timeout:.0f}s; the run goes on: "
                  f"cryptolake pipeline status {run_.run_id}")
    raise typer.Exit(1)


@app.command("status")
def status(
    run_id: str | None = typer.Argument(None, help="A run id; default: the latest runs."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The latest runs, or the steps of one run."""
    settings = get_settings()
    if run_id:
        rows = steps_of(settings, run_id)
        if not rows:
            console.print(f"[red]no run {run_id!r} in ops.pipeline_runs[/]")
            raise typer.Exit(1)
        if as_json:
            typer.echo(json.dumps(rows, default=str, indent=2))
        else:
            Console().print(_steps_table(rows))
        return
    runs = latest_runs(settings, limit=20)
    if as_json:
        typer.echo(json.dumps(runs, default=str, indent=2))
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
    table.add_column("run id", no_wrap=True)
    for name in ("pipeline", "source", "status", "started (UTC)"):
        table.add_column(name, no_wrap=True)
    table.add_column("secs", justify="right", no_wrap=True)
    table.add_column("window", overflow="fold")
    errors: list[str] = []
    for r in runs:
        window = (f"{r['window_start']:%Y-%m-%d %H:%M}..{r['window_end']:%Y-%m-%d %H:%M}"
                  if r["window_start"] and r["window_end"] else "undated")
        secs = (r["ended_at"] - r["started_at"]).total_seconds() if r.get("ended_at") else 0
        colour, word = _STATUS.get(r["status"], ("", r["status"]))
        table.add_row(r["run_id"], r["pipeline"], r["source"] or "-",
                      f"[{colour}]{word}[/]" if colour else word,
                      f"{r['started_at']:%m-%d %H:%M:%S}", f"{secs:.0f}", window)
        if r.get("error"):
            errors.append(f"[red]{r['run_id']} error:[/] {r['error']}")
    Console().print(Group(table, *errors))


def worker(
    queues: str = typer.Option("cryptolake.light,cryptolake.heavy", "--queues", "-Q"),
    concurrency: int = typer.Option(1, "--concurrency", "-c"),
    name: str = typer.Option("cryptolake@%h", "--name", "-n"),
) -> None:
    """Start a Celery worker (the heavy queue must run with concurrency 1).

    Serves Prometheus metrics of every job it runs on ``CRYPTOLAKE_JOBS__WORKER_METRICS_PORT``.
    """
    settings = get_settings()
    _metrics("worker", settings.jobs.worker_metrics_port)
    from cryptolake.core.jobs.worker import app as celery_app
    from cryptolake.core.jobs.worker import restore_orphaned_tasks

    if settings.jobs.restore_orphans_at_start:
        try:
            restore_orphaned_tasks(celery_app)
        except Exception as exc:  # Redis not up yet: the visibility timeout still applies
            log.warning("could not look for tasks of a stopped worker: %s", exc)
    celery_app.worker_main(
        ["worker", "-Q", queues, "-c", str(concurrency), "-n", name, "--loglevel",
         settings.log.level, "-P", "prefork", "--without-gossip", "--without-mingle"]
    )


def beat() -> None:
    """Start Celery beat with the configured schedules (daily pipeline, maintenance, stream check).

    Serves Prometheus metrics (tasks sent per schedule) on ``CRYPTOLAKE_JOBS__BEAT_METRICS_PORT``.
    """
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)  # the schedule state file lives there
    if _metrics("beat", settings.jobs.beat_metrics_port):
        from celery import signals

        from cryptolake.core.metrics import count_beat_send

        signals.before_task_publish.connect(count_beat_send, weak=False,
                                            dispatch_uid="cryptolake.metrics.beat")
    from cryptolake.core.jobs.worker import app as celery_app

    celery_app.start(["beat", "--loglevel", settings.log.level])


def _metrics(service: str, port: int) -> int:
    """Multiprocess metrics for this process tree and their endpoint; the port bound (0: none)."""
    if not port:
        return 0
    try:
        from cryptolake.core import metrics
    except ImportError:  # pragma: no cover - the [metrics] extra is not installed
        console.print(f"[yellow]no metrics:[/] install cryptolake-core[metrics] for /metrics of {service}")
        return 0
    settings = get_settings()
    metrics.prepare_multiprocess(settings.home / "data" / "metrics", service)
    return metrics.serve(port, settings.jobs.metrics_host)
