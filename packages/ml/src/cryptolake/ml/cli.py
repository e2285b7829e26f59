"""``cryptolake ml train|evaluate|predict|score|rebuild|models`` (through the commands hook)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import typer

SYMBOLS = typer.Option([], "--symbol", "-s", help="Only this symbol (repeatable; default: all).")
FAST = typer.Option(False, "--fast", help="Small, fast settings (demo, tests).")
GOLD = typer.Option("gold", "--gold-namespace", help="Namespace of the Gold tables to read.")
ML = typer.Option("ml", "--ml-namespace", help="Namespace of the ml.* tables.")


def _config(symbols: list[str], fast: bool, gold: str, ml: str) -> dict[str, Any]:
    return {"symbols": symbols or None, "fast": fast, "gold_namespace": gold, "ml_namespace": ml}


def _host() -> Any:
    from cryptolake.core.manager import build_plugin_manager

    return build_plugin_manager()


def _enqueue(task: str, config: dict[str, Any], wait: bool, timeout: float) -> None:
    """Send ``task`` to the workers; print the run id; optionally wait for the run's end."""
    import uuid

    from cryptolake.core.jobs.worker import get_app
    from cryptolake.core.settings import get_settings

    run_id = uuid.uuid4().hex[:12]
    get_app().send_task(task, kwargs={"config": config, "run_id": run_id})
    typer.echo(f"{task} enqueued as run {run_id} (cryptolake pipeline status {run_id})", err=True)
    if not wait:
        return
    from cryptolake.core.pipeline import steps_of

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = {r["step"]: r for r in steps_of(get_settings(), run_id)}
        if "*" in done:
            status = done["*"]["status"]
            typer.echo(f"run {run_id} {status}" + (f": {done['*']['error']}" if done["*"]["error"] else ""))
            raise typer.Exit(0 if status == "succeeded" else 1)
        time.sleep(2)
    typer.echo(f"run {run_id} did not finish within {timeout:.0f} s", err=True)
    raise typer.Exit(1)


def _in_process(step: str, config: dict[str, Any]) -> Any:
    from cryptolake.ml.jobs import run_ml_step

    run_id, outcome = run_ml_step(_host(), step, config)
    typer.echo(f"{step}: run {run_id} {outcome.status} ({outcome.rows_out} rows out)", err=True)
    return outcome


def train_command(
    symbols: list[str] = SYMBOLS,
    fast: bool = FAST,
    in_process: bool = typer.Option(False, "--in-process", help="Run here, not on the workers."),
    wait: bool = typer.Option(False, "--wait", help="Wait for the run to finish."),
    timeout: float = typer.Option(1800, "--timeout", help="Seconds to wait with --wait."),
    gold: str = GOLD,
    ml: str = ML,
    if_changed: bool = typer.Option(
        False, "--if-changed",
        help="Skip when every champion was trained on the Gold snapshots published now."),
) -> None:
    """Retrain every model (task cryptolake.ml.retrain_models), evaluate, register, promote."""
    config = _config(symbols, fast, gold, ml)
    if if_changed:
        current = trained_on_current_gold(gold, ml)
        if current:
            typer.echo(f"models are current: every champion was trained on the published Gold "
                       f"snapshots {current}; nothing to retrain (without --if-changed it retrains)",
                       err=True)
            return
    if in_process:
        _in_process("ml.retrain", config)
        models_command(ml=ml, as_json=False, all_states=False)
        return
    _enqueue("cryptolake.ml.retrain_models", config, wait, timeout)


def trained_on_current_gold(gold: str, ml: str) -> dict[str, int] | None:
    """The Gold snapshot ids every champion was trained on, when they are the ones a retrain
    would read now (the latest publication); ``None`` when a retrain would see other data, or
    there is no champion, or the registry cannot be read."""
    from cryptolake.core.settings import get_settings
    from cryptolake.ml.features._sources import current_snapshots
    from cryptolake.ml.registry import ModelStore

    settings = get_settings()
    try:
        champions = [r for r in ModelStore(settings, ml).models() if r["state"] == "champion"]
        now = current_snapshots(settings, gold).snapshot_ids
    except Exception:  # no registry or no Gold yet: a retrain decides what to say
        return None
    if not champions or any(
            json.loads(r.get("trained_snapshots_json") or "{}") != now for r in champions):
        return None
    return dict(sorted(now.items()))


def evaluate_command(
    symbols: list[str] = SYMBOLS,
    fast: bool = FAST,
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Read recorded files (the shared data set's layout) instead of Gold."
    ),
    models: list[str] = typer.Option([], "--model", "-m", help="Only this model (repeatable)."),
    horizons: list[int] = typer.Option([1, 24], "--horizon", help="Horizon in hours (repeatable)."),
    as_json: Path | None = typer.Option(None, "--json", help="Write the report as JSON here ('-': stdout)."),
    write: bool = typer.Option(True, "--write/--no-write", help="Append the rows to ml.evaluations."),
    per_symbol: bool = typer.Option(True, "--per-symbol/--pooled-only", help="Rows per coin too."),
    gold: str = GOLD,
    ml: str = ML,
) -> None:
    """Purged walk-forward + held-out evaluation of every model and baseline, both horizons."""
    from cryptolake.ml.evaluation import evaluate_horizon, format_table, now, report_rows, verdict
    from cryptolake.ml.features import build_dataset, compute_frame, load_csv_dir
    from cryptolake.ml.models import specs_for, window_for
    from cryptolake.ml.training import TrainOptions, load_frame

    host = _host()
    opts = TrainOptions(symbols=symbols or None, fast=fast, horizons=tuple(horizons),
                        gold_namespace=gold, ml_namespace=ml, models=models or None)
    if data_dir is not None:
        candles, fear_greed = load_csv_dir(data_dir, symbols or None)
        frame, source = compute_frame(candles, fear_greed, opts.horizons), str(data_dir)
    else:
        frame, snap = load_frame(host, opts)
        source = json.dumps(snap.snapshot_ids)
    settings = opts.eval_settings()
    specs = specs_for(host.models, fast=fast, only=models or None)
    rows = []
    for h in opts.horizons:
        data = build_dataset(frame, h, window_for(fast))
        result = evaluate_horizon(data, specs, settings, progress=lambda m: typer.echo(m, err=True))
        rows.extend(report_rows(result, settings.block_hours, per_symbol=per_symbol))
    typer.echo(f"source: {source}")
    typer.echo(f"walk-forward: {settings.n_folds} reported folds, embargo = horizon, "
               f"held out: the last {settings.holdout_days:g} days; 95 % block bootstrap "
               f"({settings.block_hours} h blocks)")
    typer.echo(format_table(rows))
    typer.echo("")
    for r in rows:
        if not r.is_baseline and r.symbol == "ALL":
            typer.echo(verdict(r))
    stamp = now()
    if as_json is not None:
        text = json.dumps([r.as_record(stamp) for r in rows], default=str, indent=1)
        if str(as_json) == "-":
            sys.stdout.write(text + "\n")
        else:
            as_json.write_text(text)
    if write:
        from cryptolake.ml.registry import ModelStore

        ModelStore(host.settings, ml).append("evaluations", [r.as_record(stamp) for r in rows])


def predict_command(
    symbols: list[str] = SYMBOLS,
    via_workers: bool = typer.Option(False, "--via-workers", help="Enqueue cryptolake.ml.predict."),
    gold: str = GOLD,
    ml: str = ML,
    if_changed: bool = typer.Option(
        False, "--if-changed",
        help="Skip when every serving model already predicted on the Gold snapshot published now."),
) -> None:
    """The champion and the challenger predict the latest bar (ml.predictions + Kafka)."""
    config = {**_config(symbols, False, gold, ml), "if_changed": if_changed}
    if via_workers:
        _enqueue("cryptolake.ml.predict", config, wait=False, timeout=0)
        return
    if if_changed:  # asked before a run is recorded, as `ml train --if-changed` does
        from cryptolake.core.settings import get_settings
        from cryptolake.ml.serving import PredictOptions, predictions_current

        try:
            current = predictions_current(get_settings(), PredictOptions(
                gold, ml, symbols or None, if_changed=True))
        except Exception:  # no registry or no Gold yet: the run decides what to say
            current = None
        if current is not None:
            typer.echo(f"predictions are current: every serving model predicted on the "
                       f"published Gold snapshot {current}; nothing to predict (without "
                       "--if-changed it predicts again)", err=True)
            return
        config["if_changed"] = False  # just asked: the run need not read the same tables again
    _in_process("ml.predict", config)


def score_command(
    via_workers: bool = typer.Option(False, "--via-workers", help="Enqueue cryptolake.ml.score."),
    gold: str = GOLD,
    ml: str = ML,
) -> None:
    """Score every prediction whose target candle has landed (ml.prediction_scores), once."""
    config = _config([], False, gold, ml)
    if via_workers:
        _enqueue("cryptolake.ml.score", config, wait=False, timeout=0)
        return
    _in_process("ml.score", config)


def rebuild_command(model_id: str = typer.Argument(..., help="A model id (or its prefix)."),
                    ml: str = ML) -> None:
    """Retrain MODEL from its recorded snapshots and parameters; exit 1 unless its predictions
    are reproduced exactly."""
    from cryptolake.ml.training import rebuild

    result = rebuild(_host(), model_id, ml_namespace=ml)
    word = "exactly reproduced" if result.exact else "NOT reproduced"
    typer.echo(f"{result.model_id}: predictions on {result.rows} recorded rows {word} "
               f"(max |difference| = {result.max_abs_diff:.3g})")
    if not result.exact:
        raise typer.Exit(1)


def models_command(
    ml: str = ML,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    all_states: bool = typer.Option(False, "--all", help="Retired versions too."),
) -> None:
    """The registered models: state, horizon, walk-forward accuracy with its interval."""
    from cryptolake.core.settings import get_settings
    from cryptolake.ml.registry import ModelStore

    rows = [r for r in ModelStore(get_settings(), ml).models()
            if all_states or r["state"] != "retired"]
    if as_json:
        typer.echo(json.dumps(rows, default=str, indent=1))
        return
    typer.echo(f"{'model_id':<32}{'state':<11}{'h':>3} {'wf acc [95% CI]':<22}{'best base':>9}")
    for r in rows:
        m = json.loads(r["metrics_json"] or "{}")
        acc = (f"{m['walk_forward_accuracy']:.3f} [{m['walk_forward_ci_low']:.3f},"
               f"{m['walk_forward_ci_high']:.3f}]") if "walk_forward_accuracy" in m else "-"
        base = f"{m['walk_forward_best_baseline_accuracy']:.3f}" if m.get(
            "walk_forward_best_baseline_accuracy") is not None else "-"
        typer.echo(f"{r['model_id'][:31]:<32}{r['state']:<11}{r['horizon_h']:>3} {acc:<22}{base:>9}")
    for r in rows:
        if r["state"] in ("champion", "challenger"):
            typer.echo(_verdict_of(r))


def _verdict_of(row: dict[str, Any]) -> str:
    m = json.loads(row["metrics_json"] or "{}")
    if "walk_forward_accuracy" not in m:
        return f"{row['model_id']} ({row['state']}): not evaluated"
    beats = bool(m.get("walk_forward_beats_baseline"))
    return (f"{row['name']} ({row['state']}, {row['horizon_h']} h): walk-forward accuracy "
            f"{m['walk_forward_accuracy']:.3f} [{m['walk_forward_ci_low']:.3f}, "
            f"{m['walk_forward_ci_high']:.3f}]; its lower bound "
            f"{'beats' if beats else 'does NOT beat'} the best baseline "
            f"({m['walk_forward_best_baseline_accuracy']:.3f} on the same rows)"
            + ("." if beats else ": no demonstrated edge."))


def register(commands: Any) -> None:
    group = commands.group("ml", "Forecasting models: train, evaluate, predict, score, rebuild.")
    group.command("train")(train_command)
    group.command("evaluate")(evaluate_command)
    group.command("predict")(predict_command)
    group.command("score")(score_command)
    group.command("rebuild")(rebuild_command)
    group.command("models")(models_command)
