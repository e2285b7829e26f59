"""How the daily pipeline's cost grows with the data (``bench/pipeline.py --data DIR``).

Each run replays a part of ``DIR`` through every step of the daily pipeline (replay → Kafka and
Bronze, the Kafka → Bronze catch-up, the Silver Spark jobs, the Silver gate, dbt Gold), in this
process, in private Iceberg namespaces ``bench_<tag>_{bronze,silver,audit,gold,ops}`` and Kafka
topics ``bench_<tag>.*`` — the stack's own tables, topics, stream checkpoint and
``ops.pipeline_runs`` are not touched. Every step is timed around the step itself (the Spark
session is started once before the first Spark step, so its start-up is not in a job's figure).

The part of the data: the replay source's ``fraction`` keeps the records of each file whose event
time lies in the first ``fraction`` of that file's own span (its first .. last record), so every
feed keeps the same share of its history, whatever the files are called. ``newest_day`` splits
off each file's newest day (the records within 24 h of its last one): the full run replays all
but that day and the incremental run then replays just that day on top of the full load, in the
same namespaces, with incremental Silver jobs and an incremental dbt build.

Beside the replay step of each run, a bare confluent-kafka producer (the producer settings of the
stack, the batching of ``bench/ingest.py``) sends the same records (topic, key, value; then again
with the replay's headers) to topics of their own, right after the replay, under the same load.

Runs go from the smallest part to the largest; the load average is sampled every 2 s over each
run (2-core machine shared with other sessions: read the figures with it).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from hashlib import sha256
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SILVER_GOAL = 50_000  # rows/s per Bronze → Silver job, full set
DBT_GOAL = 0.2  # incremental dbt build / full build
REPLAY_GOAL = 0.5  # replay throughput / bare producer throughput


@dataclass
class Figure:
    step: str
    rows_in: int
    rows_out: int
    rejected: int
    seconds: float
    gate: str = "n/a"
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        rows = self.rows_in or self.rows_out
        return rows / self.seconds if self.seconds else 0.0


@dataclass
class Run:
    label: str
    fraction: float
    newest_day: str
    steps: list[Figure] = field(default_factory=list)
    wall_s: float = 0.0
    load_mean: float = 0.0
    load_max: float = 0.0
    bare: dict[str, float] = field(default_factory=dict)

    def step(self, name: str) -> Figure | None:
        return next((f for f in self.steps if f.step == name), None)


class LoadSampler:
    """The 1-minute load average, sampled every 2 s while the block runs."""

    def __init__(self) -> None:
        self.samples: list[float] = [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(2.0):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])


def _namespaces(tag: str) -> dict[str, str]:
    return {k: f"bench_{tag}_{k}" for k in ("bronze", "silver", "audit", "gold", "ops")}


def _private_steps(host: Any, data: Path, tag: str, checkpoint: Path, **replay: Any) -> list[Any]:
    """The daily pipeline's steps, each configured onto the private namespaces of ``tag``."""
    from cryptolake.core.pipeline import daily_pipeline

    ns = _namespaces(tag)
    by_key = {
        "bronze_namespace": ns["bronze"],
        "silver_namespace": ns["silver"],
        "silver_schema": ns["silver"],
        "audit_schema": ns["audit"],
        "published_schema": ns["gold"],
        "ops_namespace": ns["ops"],
    }
    steps = []
    for s in daily_pipeline(host, source="replay"):
        registry = host.sources if s.kind == "ingest" else host.transforms
        fields = registry.get(s.name).config_model.model_fields
        config = {k: v for k, v in by_key.items() if k in fields}
        if s.kind == "ingest":
            config.update(namespace=ns["bronze"], data_dir=str(data), **replay)
        elif s.kind == "gate":
            config["namespace"] = ns[s.name.removeprefix("gate.")]
        elif "checkpoint_dir" in fields:  # the Kafka → Bronze stream: its own query, checkpoint
            config.update(name=f"bench_{tag}", checkpoint_dir=str(checkpoint / s.name))
        steps.append(replace(s, config={**s.config, **config}))
    return steps


def _bare_producer(host: Any, replay_config: Any, prefix: str) -> dict[str, float]:
    """Seconds a bare producer takes for the replay's Kafka records: plain, then with headers."""
    from ingest import bare  # bench/ingest.py

    from cryptolake.core.clients import ensure_topics
    from cryptolake.ingest.replay.jobs import load

    merged, _, _ = load(host, replay_config)
    records = [rec for *_, rec in merged if rec.topic is not None]
    topics = {r.topic: f"{prefix}bare.{r.topic}" for r in records}
    ensure_topics(topics.values(), host.settings)
    plain = [(topics[r.topic], r.key.encode(), r.payload, None) for r in records]
    fetched = str(int(time.time() * 1000)).encode()
    with_headers = [
        (t, k, v, [("source", b"replay.recorded"), ("layout", r.layout.encode()),
                   ("origin", r.origin.encode()), ("fetched_at", fetched),
                   ("payload_sha256", sha256(v).hexdigest().encode())])
        for (t, k, v, _), r in zip(plain, records, strict=True)
    ]
    return {
        "records": len(records),
        "bytes": sum(len(r.payload) for r in records),
        "bare_s": bare(host.settings, plain),
        "bare_headers_s": bare(host.settings, with_headers),
    }


def _settings_for(prefix: str) -> Any:
    """The process's settings with the Kafka topic prefix ``prefix`` (read again from the env)."""
    from cryptolake.core import get_settings

    os.environ["CRYPTOLAKE_KAFKA__TOPIC_PREFIX"] = prefix
    get_settings.cache_clear()
    return get_settings()


def _run(run: Run, host: Any, steps: list[Any], log: Any) -> None:
    from cryptolake.core.errors import QualityGateFailed
    from cryptolake.core.pipeline import PipelineRun, StepOutcome, execute_step

    pipeline_run = PipelineRun(pipeline="daily", source="replay", start=None, end=None,
                               via="bench")
    prefix = host.settings.kafka.topic_prefix
    with LoadSampler() as load:
        t_run = time.perf_counter()
        for index, step in enumerate(steps):
            if step.heavy:
                _warm_spark(log)
            log(f"  {run.label}: {step.name} ...")
            t0 = time.perf_counter()
            try:
                outcome = execute_step(host, pipeline_run, index, step, record=False)
            except QualityGateFailed as exc:  # a cost figure all the same; the chain goes on
                log(f"    gate failed: {exc}")
                outcome = StepOutcome(step=step, status="failed", gate="fail")
            seconds = time.perf_counter() - t0
            run.steps.append(Figure(step.name, outcome.rows_in, outcome.rows_out,
                                    outcome.rejected, seconds, outcome.gate, outcome.phases))
            log(f"    {outcome.rows_in:,} in, {outcome.rows_out:,} out, {seconds:.1f} s"
                + (f" ({_phases(outcome.phases)})" if outcome.phases else ""))
            if step.kind == "ingest":
                entry = host.sources.get(step.name)
                run.bare = _bare_producer(host, entry.configure(step.config), prefix)
                run.bare["replay_s"] = seconds
                log(f"    bare producer: {run.bare['bare_s']:.1f} s, "
                    f"with headers {run.bare['bare_headers_s']:.1f} s")
        run.wall_s = time.perf_counter() - t_run
    run.load_mean = sum(load.samples) / len(load.samples)
    run.load_max = max(load.samples)


_SPARK: list[object] = []


def _warm_spark(log: Any) -> None:
    """Start this process's Spark session once, untimed, before the first Spark step."""
    if not _SPARK:
        from cryptolake.core.clients import spark_session

        log(f"  starting the Spark session (load {os.getloadavg()[0]:.1f}) ...")
        session = spark_session("cryptolake-bench-growth")
        session.range(1).count()
        _SPARK.append(session)


def _phases(phases: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in phases.items())


def _cleanup(settings: Any, tag: str, checkpoint: Path) -> None:
    sys.path.insert(0, str(ROOT / "packages/processing/tests/integration"))
    from _gold_env import drop_schema

    from cryptolake.core.clients import delete_topics
    from cryptolake.core.testing.stack import drop_namespace

    for schema in reversed(list(_namespaces(tag).values())):
        try:
            drop_schema(settings, schema)
        except Exception as exc:  # - fall back to the catalog
            print(f"  drop {schema} through Trino failed ({exc}); dropping through the catalog",
                  file=sys.stderr)
            try:
                drop_namespace(schema, settings)
            except Exception as exc2:
                print(f"  could not drop {schema}: {exc2}", file=sys.stderr)
        for kind in ("target", "profiles"):
            shutil.rmtree(Path(settings.home) / "dbt" / kind / schema, ignore_errors=True)
    from confluent_kafka.admin import AdminClient

    from cryptolake.core.clients import admin_config

    prefix = f"bench_{tag}."
    topics = AdminClient(admin_config(settings)).list_topics(timeout=30).topics
    delete_topics([t for t in topics if t.startswith(prefix)], settings)
    shutil.rmtree(checkpoint, ignore_errors=True)


def _until(steps: list[Any], until: str | None) -> list[Any]:
    """The steps up to and including the one named ``until`` (all without it)."""
    if until is None:
        return steps
    names = [s.name for s in steps]
    if until not in names:
        raise SystemExit(f"--until {until}: not a step of the daily pipeline ({', '.join(names)})")
    return steps[: names.index(until) + 1]


def _label(fraction: float) -> str:
    return {0.25: "1/4", 0.5: "1/2", 1.0: "all"}.get(fraction, f"{fraction:g}")


def growth(data: Path, fractions: list[float], *, incremental: bool, as_json: bool,
           keep: bool, save: Path | None = None, until: str | None = None) -> None:
    from cryptolake.core import build_plugin_manager

    data = data.expanduser().resolve()
    if not data.is_dir():
        raise SystemExit(f"--data {data}: no such directory")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    runs: list[Run] = []
    for fraction in sorted(fractions):
        last = fraction == max(fractions) and incremental
        tag = uuid.uuid4().hex[:8]
        settings = _settings_for(f"bench_{tag}.")
        host = build_plugin_manager(settings)
        checkpoint = Path(tempfile.mkdtemp(prefix=f"bench_{tag}_"))
        try:
            run = Run(_label(fraction) + (" - newest day" if last else ""), fraction,
                      "exclude" if last else "include")
            steps = _until(_private_steps(host, data, tag, checkpoint, fraction=fraction,
                                          newest_day=run.newest_day), until)
            _run(run, host, steps, log)
            runs.append(run)
            if save is not None:  # what has run so far, should a later run not finish
                save.write_text(json.dumps(_report(runs, data), indent=2))
            if last:
                day = Run("new day", fraction, "only")
                steps = _until(_private_steps(host, data, tag, checkpoint, fraction=fraction,
                                              newest_day="only"), until)
                _run(day, host, steps, log)
                runs.append(day)
        finally:
            if keep:
                log(f"kept: namespaces bench_{tag}_*, topics bench_{tag}.*, {checkpoint}")
            else:
                _cleanup(settings, tag, checkpoint)
    report = _report(runs, data)
    if save is not None:
        save.write_text(json.dumps(report, indent=2))
    show(report, as_json=as_json)


def show(report: dict[str, Any], *, as_json: bool = False) -> None:
    """Print a report: the tables, or JSON."""
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)


def _report(runs: list[Run], data: Path) -> dict[str, Any]:
    out: dict[str, Any] = {
        "data": str(data),
        "cpus": os.cpu_count(),
        "runs": [
            {**{k: v for k, v in asdict(r).items() if k != "steps"},
             "steps": [{**asdict(f), "rows_per_s": round(f.rate)} for f in r.steps]}
            for r in runs
        ],
    }
    # the targets are on the full set: the run of all of it (less the newest day, if one follows)
    full = next((r for r in runs if r.fraction >= 1 and r.newest_day != "only"), None)
    day = next((r for r in runs if r.newest_day == "only"), None)
    targets: dict[str, Any] = {}
    if full is not None:
        silver = {f.step: round(f.rate) for f in full.steps
                  if f.step.startswith("silver.") and f.rows_in}
        targets["silver_rows_per_s"] = {
            "goal": SILVER_GOAL, "per_job": silver,
            "met": bool(silver) and all(v >= SILVER_GOAL for v in silver.values()),
        }
        if full.bare:
            ratio = full.bare["bare_s"] / full.bare["replay_s"]
            targets["replay_vs_bare"] = {
                "goal": REPLAY_GOAL, "ratio": round(ratio, 3),
                "ratio_with_headers": round(full.bare["bare_headers_s"] / full.bare["replay_s"], 3),
                "met": ratio >= REPLAY_GOAL,
            }
    if full is not None and day is not None:
        out["incremental"] = {
            f.step: round(d.seconds / f.seconds, 3)
            for f in full.steps if (d := day.step(f.step)) is not None and f.seconds
        }
        if "dbt.gold" in out["incremental"]:
            ratio = out["incremental"]["dbt.gold"]
            targets["dbt_incremental_vs_full"] = {
                "goal": DBT_GOAL, "ratio": ratio, "met": ratio <= DBT_GOAL,
            }
    out["targets"] = targets
    return out


def _print(report: dict[str, Any]) -> None:
    print(f"data: {report['data']}  ({report['cpus']} CPUs)")
    runs = report["runs"]
    for r in runs:
        print(f"\n{r['label']} (fraction {r['fraction']:g}, newest day {r['newest_day']}): "
              f"{r['wall_s']:.1f} s, load avg {r['load_mean']:.1f} (max {r['load_max']:.1f})")
        print(f"{'step':22} {'rows in':>9} {'rows out':>9} {'rej':>5} {'secs':>7} {'rows/s':>8}"
              f" {'gate':>4}")
        for f in r["steps"]:
            gate = "-" if f["gate"] == "n/a" else f["gate"]
            print(f"{f['step']:22} {f['rows_in']:9,} {f['rows_out']:9,} {f['rejected']:5,} "
                  f"{f['seconds']:7.1f} {f['rows_per_s']:8,} {gate:>4}")
        if b := r["bare"]:
            n = b["records"]
            print(f"  Kafka records {n:,} ({b['bytes'] / 1e6:.1f} MB): replay step "
                  f"{n / b['replay_s']:,.0f}/s, bare {n / b['bare_s']:,.0f}/s")
            print(f"  ratio replay/bare {b['bare_s'] / b['replay_s']:.2f} "
                  f"(with headers {b['bare_headers_s'] / b['replay_s']:.2f})")
    growth = [r for r in runs if r["newest_day"] != "only"]
    if len(growth) > 1:
        print("\ngrowth: seconds and rows in per step")
        head = f"{'step':22}" + "".join(f" {r['label'][:3] + ' s':>7} {'rows':>9}" for r in growth)
        print(head[:80])
        for i, f in enumerate(growth[0]["steps"]):
            line = f"{f['step']:22}"
            for r in growth:
                g = r["steps"][i]
                line += f" {g['seconds']:7.1f} {max(g['rows_in'], g['rows_out']):9,}"
            print(line[:80])
        a, z = growth[0], growth[-1]
        print(f"\n{'step':24} {'rows x':>8} {'secs x':>8} {'rows/s ' + a['label'][:3]:>12} "
              f"{'rows/s ' + z['label'][:3]:>12}   ({z['label'][:3]} vs {a['label'][:3]})")
        for fa, fz in zip(a["steps"], z["steps"], strict=True):
            ra = max(fa["rows_in"], fa["rows_out"])
            rz = max(fz["rows_in"], fz["rows_out"])
            rows_x = f"{rz / ra:8.2f}" if ra else f"{'-':>8}"
            print(f"{fa['step']:24} {rows_x} {fz['seconds'] / fa['seconds']:8.2f} "
                  f"{fa['rows_per_s']:12,} {fz['rows_per_s']:12,}")
    if inc := report.get("incremental"):
        full = next(r for r in runs if r["newest_day"] == "exclude")
        day = next(r for r in runs if r["newest_day"] == "only")
        print("\nincremental: one new day on top of the full load")
        print(f"{'step':24} {'full rows':>10} {'full s':>8} {'day rows':>9} {'day s':>7} "
              f"{'ratio s':>8}")
        for f, d in zip(full["steps"], day["steps"], strict=True):
            print(f"{f['step']:24} {max(f['rows_in'], f['rows_out']):10,} {f['seconds']:8.1f} "
                  f"{max(d['rows_in'], d['rows_out']):9,} {d['seconds']:7.1f} "
                  f"{inc.get(f['step'], 0):8.3f}")
        print("\nwhere the seconds went: each job's phases (full load | new day)")
        for f, d in zip(full["steps"], day["steps"], strict=True):
            if f.get("phases") or d.get("phases"):
                print(f"  {f['step']}")
                print(f"    full: {_phases(f.get('phases') or {})}")
                print(f"    day:  {_phases(d.get('phases') or {})}")
    t = report["targets"]
    print("\ntargets")
    if s := t.get("silver_rows_per_s"):
        for job, rate in s["per_job"].items():
            print(f"  {job:30} {rate:10,} rows/s  goal >= {s['goal']:,}: "
                  f"{'met' if rate >= s['goal'] else 'NOT met'}")
    if d := t.get("dbt_incremental_vs_full"):
        print(f"  dbt incremental / full build   {d['ratio']:10.3f}  goal <= {d['goal']}: "
              f"{'met' if d['met'] else 'NOT met'}")
    if r := t.get("replay_vs_bare"):
        print(f"  replay / bare producer         {r['ratio']:10.3f}  goal >= {r['goal']}: "
              f"{'met' if r['met'] else 'NOT met'}")
