"""The fault harness: kill -9 every part of the live path while recorded data streams through it,
then reconcile the lakehouse exactly against an undisturbed run over the same input.

Used by ``tests/chaos/test_chaos.py`` (small input, one fault of each kind) and ``bench/chaos.py``
(more input, several rounds, a report as JSON).

The stack is private: its own ``CRYPTOLAKE_HOME`` (the software under ``opt/`` and ``downloads/``
linked from the main home, so nothing is downloaded) and its own free ports. Killing its services
disturbs nobody who uses the shared stack meanwhile.

One run (reference or chaos) is what a user does: the supervised stream job (Kafka → Bronze) runs,
and ``cryptolake pipeline run --source replay --via-workers --data DIR`` replays the recorded
files into Kafka (Binance) and Bronze (CoinGecko, Fear & Greed) on the Celery worker, waits for
the stream job to have committed everything to Bronze, then runs the Silver steps, the Silver
gate, dbt (Gold) and the Gold gate on the worker. In a chaos run the harness kills, one after the
other at seeded-random moments, the stream job, the worker while it runs a task, Kafka, Trino,
PostgreSQL, S3Proxy and Redis, and brings each back the way the product does: ``stack up`` for a
service (the supervisor), the stream check of the worker (``BronzeStream.ensure_running``) for
the stream job. Tasks are retried by the jobs themselves (``TransientError``, ``acks_late``);
a run that fails anyway is run again over the same input, as an operator would — reruns are
counted in the report, and the reconciliation is exact whatever the number of runs.

Reconciliation, after the last run succeeded and the stream job stopped:

- every table of ``bronze``, ``silver`` and ``gold`` has the same content hash as in the reference
  run: the sum (mod 2**256) of the SHA-256 of each row's canonical form, i.e. a hash of the
  *multiset* of rows, independent of order and of file layout but sensitive to a doubled row;
- columns that record *when* or *by which run* a row was processed are left out
  (:data:`VOLATILE_COLUMNS`): they legitimately differ between two runs over the same input;
- floating-point values are compared to 12 significant digits: a sum of floats depends on the
  order Spark adds them in, and that follows the files a table is made of, which legitimately
  differ when a stream committed in other micro-batches;
- every record Kafka acknowledged (every message in the topics at the end, the replay's and the
  reruns' alike) is in Bronze exactly once: each distinct payload of a topic is in exactly one row
  of the Bronze table its route writes (or of ``bronze.rejects``).

Lost rows are those of the reference missing from the chaos run (and acknowledged payloads missing
from Bronze); doubled rows are rows the chaos run holds more often than the reference does (and
Bronze rows repeating a (natural key, payload) pair).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

FAULT_KINDS = ("stream", "worker", "kafka", "trino", "postgres", "s3", "redis")
SERVICES = ("postgres", "redis", "s3", "kafka", "trino", "worker")
LAYERS = ("bronze", "silver", "gold")

#: Columns left out of the content hash, and why: each records when or by which run a row was
#: processed, not what the row says.
VOLATILE_COLUMNS: dict[str, str] = {
    "ingested_at": "Bronze: the fetch time or the Kafka message timestamp of this run",
    "kafka_offset": "Bronze: where this run's producer put the record; a rerun after a fault "
    "appends copies at later offsets, and Bronze keeps the first one it sees",
    "rejected_at": "rejects: when this run rejected the record",
    "updated_at": "Silver: when the MERGE last wrote the row",
    "detected_at": "Silver anomalies: when the job flagged the row",
    "run_id": "Silver rejects: the pipeline run that dropped the row",
    "loaded_at": "Gold: when dbt (re)built the row",
}
#: Per table, further volatile columns (``bronze.rejects``' origin names the Kafka offset).
VOLATILE_BY_TABLE: dict[str, set[str]] = {"bronze.rejects": {"origin"}}

FLOAT_DIGITS = 12
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "packages/ingest-plugins/src/cryptolake/ingest/replay/sample"
#: A small real input: one coin's minutes and hours, another coin's hours, a websocket capture of
#: trades and klines, the Fear & Greed history and one CoinGecko market chart.
SMALL_INPUT = (
    "binance/klines_1m/BTCUSDT_1m.csv.gz",
    "binance/klines_1h/BTCUSDT_1h.csv.gz",
    "binance/klines_1h/ETHUSDT_1h.csv.gz",
    "websocket",
    "feargreed",
    "coingecko/market_chart_5y_daily/bitcoin.json",
    "coingecko/market_chart_5y_daily/ethereum.json",
)


def log(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def seed_from_env(default: int | None = None) -> int:
    """``CRYPTOLAKE_CHAOS_SEED`` when set, else ``default``, else a fresh random seed."""
    raw = os.environ.get("CRYPTOLAKE_CHAOS_SEED")
    if raw:
        return int(raw)
    return default if default is not None else random.SystemRandom().randrange(1, 2**31)


def make_input(dest: Path, parts: Iterable[str] = SMALL_INPUT, source: Path = SAMPLE) -> Path:
    """A directory of recorded files (links into ``source``) for ``--data``."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in parts:
        src = source / part
        if not src.exists():
            raise FileNotFoundError(f"no recorded file {src}")
        # one link per file: the replay does not descend into linked directories
        files = sorted(p for p in src.rglob("*") if p.is_file()) if src.is_dir() else [src]
        for file in files:
            target = dest / file.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.symlink_to(file)
    return dest


# ------------------------------------------------------------------------------ private stack
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def private_env(root: Path, main_home: Path) -> dict[str, str]:
    """The environment of a private stack under ``root``: its home (software linked from
    ``main_home``) and free ports. Kept in ``root/env.json`` so a later run reuses it."""
    saved = root / "env.json"
    if saved.exists():
        return dict(json.loads(saved.read_text()))
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    for part in ("opt", "downloads"):
        if not (home / part).exists():
            (home / part).symlink_to(main_home / part)
    env = {
        "CRYPTOLAKE_HOME": str(home),
        "CRYPTOLAKE_POSTGRES__PORT": str(_free_port()),
        "CRYPTOLAKE_REDIS__PORT": str(_free_port()),
        "CRYPTOLAKE_S3__ENDPOINT": f"http://127.0.0.1:{_free_port()}",
        "CRYPTOLAKE_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{_free_port()}",
        "CRYPTOLAKE_KAFKA__CONTROLLER_PORT": str(_free_port()),
        "CRYPTOLAKE_TRINO__PORT": str(_free_port()),
        "CRYPTOLAKE_TRINO__HEAP": "1G",
        # the private worker serves no /metrics: the shared worker holds the default port
        "CRYPTOLAKE_JOBS__WORKER_METRICS_PORT": "0",
        "CRYPTOLAKE_JOBS__BEAT_METRICS_PORT": "0",
        "CRYPTOLAKE_STREAM__METRICS_PORT": "0",
        # a task of a worker killed -9 is redelivered after this (the default is 6 h). It must
        # be longer than any step takes: Redis redelivers a task unacknowledged for longer even
        # while it still runs (acks_late), and the chain then forks — seen here with 90 s, when
        # a Spark step took minutes on a loaded machine (harmless, the jobs are idempotent, but
        # every later step ran twice)
        "CRYPTOLAKE_JOBS__VISIBILITY_TIMEOUT_S": "900",
        "CRYPTOLAKE_LOG__FORMAT": "text",
        "CRYPTOLAKE_PLUGINS__STRICT": "true",
    }
    saved.write_text(json.dumps(env, indent=1))
    return env


class ChaosStack:
    """A private stack (infrastructure + one Celery worker) whose parts the harness may kill."""

    def __init__(self, env: Mapping[str, str], apply_env: Callable[[Mapping[str, str]], None]):
        self.env = dict(env)
        self._apply_env = apply_env
        self.apply()

    def apply(self, **extra: str) -> None:
        """Make this stack's settings (plus ``extra``) the ones of this process and its
        children, and forget cached settings."""
        from cryptolake.core.settings import get_settings

        self.env.update(extra)
        self._apply_env(self.env)
        get_settings.cache_clear()

    @property
    def settings(self) -> Any:
        from cryptolake.core.settings import get_settings

        return get_settings()

    @property
    def stack(self) -> Any:
        from cryptolake.core.stack import Stack

        return Stack(self.settings)

    @property
    def home(self) -> Path:
        return Path(self.env["CRYPTOLAKE_HOME"])

    def up(self, names: Iterable[str] = SERVICES) -> float:
        t0 = time.monotonic()
        self.stack.up(list(names))
        return time.monotonic() - t0

    def down(self) -> None:
        from cryptolake.processing.spark import stop_stream

        stop_stream(settings=self.settings, timeout=30)
        self.stack.down()

    def unhealthy(self, names: Iterable[str] = SERVICES) -> list[str]:
        return [
            f"{s.service}: {s.error or 'down'}"
            for s in self.stack.status(list(names))
            if not s.healthy
        ]

    def pidfile(self, service: str) -> Path:
        return self.home / "run" / f"{service}.json"


# ------------------------------------------------------------------------------ one run
@dataclass
class Fault:
    kind: str
    round: int
    at_s: float = 0.0  # seconds into the chaos phase when it was injected
    during: str = ""  # what ran then (the pipeline step, or "idle")
    injected: bool = False
    recovered: bool = False
    recover_s: float | None = None
    error: str = ""


@dataclass
class Run:
    run_ids: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def reruns(self) -> int:
        return max(0, len(self.run_ids) - 1)


def _stream_state(settings: Any) -> str:
    from cryptolake.processing.spark import stream_status

    try:
        return str(stream_status(settings=settings).state)
    except Exception as exc:  # a status file half written counts as unknown
        return f"unknown ({exc})"


def _start_stream(stack: ChaosStack) -> None:
    from cryptolake.core.clients import ensure_topics, topic_name
    from cryptolake.processing.spark import start_stream
    from cryptolake.processing.spark.stream import StreamConfig

    config = StreamConfig()
    ensure_topics([topic_name(t, stack.settings) for t in config.topics], stack.settings)
    start_stream(config, stack.settings, wait_running=600)


def _steps(settings: Any, run_id: str) -> list[dict[str, Any]]:
    from cryptolake.core.pipeline import steps_of

    return steps_of(settings, run_id)


class Pipeline:
    """``cryptolake pipeline run --via-workers`` in a subprocess, followed through
    ``ops.pipeline_runs`` (tolerant of the moments when a killed service cannot answer)."""

    def __init__(self, stack: ChaosStack, data: Path, logs: Path) -> None:
        self.stack, self.data, self.logs = stack, data, logs
        self.proc: subprocess.Popen[str] | None = None
        self.run_id: str | None = None
        self.started = 0.0
        self._log: Path | None = None

    def start(self, n: int) -> None:
        self._log = self.logs / f"pipeline-{n}.log"
        self.started = time.monotonic()
        self.run_id = None
        with self._log.open("w") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "cryptolake.core.cli",
                    "pipeline",
                    "run",
                    "--source",
                    "replay",
                    "--via-workers",
                    "--force",
                    "--data",
                    str(self.data),
                    "--timeout",
                    "86400",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )

    def _find_run_id(self) -> str | None:
        if self.run_id is None and self._log is not None:
            found = re.search(r"\brun ([0-9a-f]{12})\b", self._log.read_text())
            self.run_id = found.group(1) if found else None
        return self.run_id

    def status(self) -> tuple[str, str]:
        """(``running`` | ``succeeded`` | ``failed`` | ``lost``, the step running now)."""
        run_id = self._find_run_id()
        if run_id is None:
            if self.proc is not None and self.proc.poll() is not None:
                return "lost", ""  # the CLI died before it sent the chain
            return "running", "sending"
        try:
            rows = _steps(self.stack.settings, run_id)
        except Exception:  # PostgreSQL or S3 is down for a moment
            return "running", "?"
        final = next((r for r in rows if r["step"] == "*"), None)
        if final is not None:
            return str(final["status"]), ""
        done = [r for r in rows if r["step"] != "*"]
        return "running", (f"after {done[-1]['step']}" if done else "ingest")

    def wait(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state, _ = self.status()
            if state != "running":
                self.stop_cli()
                return state
            time.sleep(3)
        self.stop_cli()
        return "stuck"

    def stop_cli(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)

    def tail(self) -> str:
        return self._log.read_text()[-4000:] if self._log and self._log.exists() else ""


def drop_views(settings: Any) -> list[str]:
    """Drop every view of the catalog (dbt's staging models) through Trino: pyiceberg's SQL
    catalog lists no views, and a namespace holding one cannot be dropped."""
    from cryptolake.core.clients import query

    cat = settings.lakehouse.catalog
    views = query(
        f"SELECT table_schema, table_name FROM {cat}.information_schema.views "
        "WHERE table_schema <> 'information_schema'",
        settings=settings,
    )
    for schema, name in views:
        query(f'DROP VIEW IF EXISTS {cat}."{schema}"."{name}"', settings=settings)
    return [f"{schema}.{name}" for schema, name in views]


def reset_lakehouse(stack: ChaosStack, label: str) -> None:
    """An empty lakehouse and a fresh stream for the next run: the worker stopped and the
    broker purged (no task of an earlier run may write into the next one), the stream job
    stopped and its checkpoint removed, every view and table dropped (files too), the configured
    namespaces created again, a new Kafka topic prefix (``<label>.``) and a worker that reads it."""
    import redis

    from cryptolake.core.clients import load_catalog
    from cryptolake.core.testing.stack import drop_namespace
    from cryptolake.processing.spark import stop_stream
    from cryptolake.processing.spark.stream import StreamConfig

    stack.stack.down(["worker"])
    for db in (stack.settings.jobs.broker_db, stack.settings.jobs.result_db):
        client = redis.Redis.from_url(stack.settings.redis_url(db))
        try:
            client.flushdb()
        finally:
            client.close()
    stop_stream(settings=stack.settings, timeout=60)
    shutil.rmtree(StreamConfig().checkpoint(stack.settings), ignore_errors=True)
    drop_views(stack.settings)
    catalog = load_catalog(stack.settings)
    for ns, *_rest in catalog.list_namespaces():
        drop_namespace(ns, stack.settings)
    for ns in stack.settings.lakehouse.namespaces:
        catalog.create_namespace_if_not_exists(ns)
    stack.apply(CRYPTOLAKE_KAFKA__TOPIC_PREFIX=f"{label}.")
    stack.stack.up(["worker"])


def run_pipeline_to_success(pipeline: Pipeline, run: Run, *, max_runs: int, timeout: float) -> None:
    """Run until one run succeeds (a failed run is run again over the same input)."""
    while True:
        if pipeline.proc is None:
            pipeline.start(len(run.run_ids))
        state = pipeline.wait(timeout)
        run.run_ids.append(pipeline.run_id or "?")
        run.statuses.append(state)
        log(f"pipeline run {pipeline.run_id}: {state}")
        if state == "succeeded":
            return
        if len(run.run_ids) >= max_runs:
            raise AssertionError(
                f"{len(run.run_ids)} pipeline runs did not succeed ({run.statuses}); last log:\n"
                + pipeline.tail()
            )
        pipeline.proc = None


# ------------------------------------------------------------------------------ faults
def _wait(what: str, predicate: Callable[[], Any], timeout: float, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got = predicate()
        except Exception:  # a service is still coming back
            got = None
        if got:
            return got
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def _worker_busy(stack: ChaosStack) -> bool:
    """True while the worker executes a task (Celery's ``inspect active``)."""
    from cryptolake.core.jobs.worker import make_app

    app = make_app(stack.settings)
    try:
        active = app.control.inspect(timeout=2.0).active() or {}
    finally:
        app.close()
    return any(tasks for tasks in active.values())


def _kill_group(pidfile: Path) -> bool:
    from cryptolake.core import supervisor

    return bool(supervisor.kill(pidfile))


def inject(
    stack: ChaosStack,
    fault: Fault,
    rnd: random.Random,
    t0: float,
    doing: Callable[[], str],
    *,
    precondition_timeout: float = 600,
) -> None:
    """Kill -9 ``fault.kind`` (when it can hurt: the worker while it runs a task, the stream job
    while it runs), hold the outage a seeded-random moment, bring it back the product's way and
    wait until it is healthy again."""
    from cryptolake.processing.spark import kill_stream
    from cryptolake.processing.spark.stream import BronzeStream

    settings = stack.settings
    try:
        if fault.kind == "worker":
            _wait(
                "the worker to run a task",
                lambda: _worker_busy(stack),
                precondition_timeout,
                every=0.2,
            )
        elif fault.kind == "stream":
            _wait(
                "the stream job to run",
                lambda: _stream_state(settings) == "running",
                precondition_timeout,
            )
        fault.during = doing()
        fault.at_s = time.monotonic() - t0
        killed_at = time.monotonic()
        if fault.kind == "stream":
            fault.injected = kill_stream(settings=settings)
        else:
            fault.injected = _kill_group(stack.pidfile(fault.kind))
        log(
            f"kill -9 {fault.kind} at {fault.at_s:.0f}s (during {fault.during}): "
            f"{'done' if fault.injected else 'NOT RUNNING'}"
        )
        time.sleep(rnd.uniform(0.5, 4.0))  # the outage
        if fault.kind == "stream":
            # what the worker's periodic stream check does (check_stream → ensure_running)
            BronzeStream().ensure_running(stack.settings)
            _wait(
                "the stream job to run again",
                lambda: _stream_state(stack.settings) == "running",
                600,
            )
        else:
            for attempt in (1, 2, 3):  # `up` gives up on a service slow to come back; again
                try:
                    stack.stack.up([fault.kind])
                    break
                except Exception as exc:
                    log(f"stack up {fault.kind} (attempt {attempt}): {exc}")
                    if attempt == 3:
                        raise
            _wait(f"{fault.kind} healthy", lambda: not stack.unhealthy([fault.kind]), 600)
        fault.recover_s = time.monotonic() - killed_at
        fault.recovered = True
        log(f"{fault.kind} recovered in {fault.recover_s:.1f}s")
    except Exception as exc:  # reported, and the test fails on it
        fault.error = f"{type(exc).__name__}: {exc}"
        log(f"{fault.kind}: {fault.error}")


# ------------------------------------------------------------------------------ hashing
def _canonical(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return f"{value:.{FLOAT_DIGITS}g}"
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def row_digest(row: Mapping[str, Any], skip: set[str]) -> str:
    canonical = {k: _canonical(v) for k, v in sorted(row.items()) if k not in skip}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class TableDigest:
    rows: int
    content_hash: str
    digests: Counter[str] = field(repr=False)
    skipped: list[str] = field(default_factory=list)


def _rows(settings: Any, ident: str) -> list[dict[str, Any]]:
    from cryptolake.core.clients import load_catalog

    return load_catalog(settings).load_table(ident).scan().to_arrow().to_pylist()  # type: ignore[no-any-return]


def digest_table(settings: Any, ident: str) -> TableDigest:
    """The table's content hash. ``kafka_topic`` is compared without the run's topic prefix
    (each run has its own: ``reference.``, ``chaos.``)."""
    rows = _rows(settings, ident)
    prefix = settings.kafka.topic_prefix
    for r in rows:
        topic = r.get("kafka_topic")
        if prefix and isinstance(topic, str) and topic.startswith(prefix):
            r["kafka_topic"] = topic[len(prefix) :]
    skip = set(VOLATILE_COLUMNS) | VOLATILE_BY_TABLE.get(ident, set())
    digests = Counter(row_digest(r, skip) for r in rows)
    total = sum(int(d, 16) * n for d, n in digests.items()) % 2**256
    present = sorted(skip & set(rows[0])) if rows else []
    return TableDigest(len(rows), f"{total:064x}", digests, present)


def digest_layers(settings: Any, layers: Iterable[str] = LAYERS) -> dict[str, TableDigest]:
    from cryptolake.core.clients import load_catalog

    catalog = load_catalog(settings)
    out = {}
    for layer in layers:
        for ident in sorted(catalog.list_tables(layer)):
            name = ".".join(ident)
            out[name] = digest_table(settings, name)
    return out


# ------------------------------------------------------------------------------ ledger
@dataclass
class Ledger:
    """Kafka against Bronze: acknowledged distinct payloads and where they landed."""

    acked_messages: int = 0
    acked_payloads: int = 0
    lost: list[str] = field(default_factory=list)
    doubled: int = 0


def kafka_payloads(settings: Any, topics: Iterable[str]) -> tuple[int, dict[str, set[str]]]:
    """Every message in ``topics`` now (earliest to the end offsets): how many, and the SHA-256
    of each distinct payload per topic."""
    from confluent_kafka import Consumer, TopicPartition

    from cryptolake.core.clients import consumer_config

    consumer = Consumer(
        consumer_config(
            f"chaos-ledger-{time.time_ns()}", settings, **{"auto.offset.reset": "earliest"}
        )
    )
    found: dict[str, set[str]] = {}
    count = 0
    try:
        metadata = consumer.list_topics(timeout=30)
        assignment, ends = [], {}
        for topic in topics:
            if topic not in metadata.topics:
                continue
            found[topic] = set()
            for p in metadata.topics[topic].partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
                if high > low:
                    assignment.append(TopicPartition(topic, p, low))
                    ends[(topic, p)] = high
        consumer.assign(assignment)
        pending = dict(ends)
        idle_since = time.monotonic()
        while pending:
            msg = consumer.poll(1.0)
            if msg is None:
                if time.monotonic() - idle_since > 120:
                    raise TimeoutError(f"Kafka stopped delivering; still missing {pending}")
                continue
            if msg.error():
                continue
            idle_since = time.monotonic()
            count += 1
            tp = (str(msg.topic()), int(msg.partition() or 0))
            found[tp[0]].add(hashlib.sha256(msg.value() or b"").hexdigest())
            if int(msg.offset() or 0) + 1 >= pending.get(tp, 0):
                pending.pop(tp, None)
    finally:
        consumer.close()
    return count, found


def reconcile_kafka(settings: Any) -> Ledger:
    """Each distinct payload acknowledged by Kafka is in Bronze once; Bronze repeats no
    (natural key, payload) pair."""
    from cryptolake.core.clients import load_catalog
    from cryptolake.core.tables import get_contract

    catalog = load_catalog(settings)
    prefix = settings.kafka.topic_prefix
    stored: dict[str, Counter[str]] = {}
    ledger = Ledger()
    for _, name in catalog.list_tables("bronze"):
        rows = _rows(settings, f"bronze.{name}")
        if not rows:
            continue
        if "kafka_topic" in rows[0]:
            for r in rows:
                if r.get("kafka_topic"):
                    digest = r.get("payload_sha256") or r.get("raw_sha256")  # rejects: raw_sha256
                    stored.setdefault(r["kafka_topic"], Counter())[str(digest)] += 1
        try:
            key = [*get_contract(f"bronze.{name}").key, "payload_sha256"]
        except Exception:  # a table without a contract has no natural key
            continue
        if all(k in rows[0] for k in key):
            seen = Counter(tuple(str(r[k]) for k in key) for r in rows)
            ledger.doubled += sum(n - 1 for n in seen.values())
    topics = [t for t in stored] + [
        f"{prefix}{t}"
        for t in ("binance.aggtrade", "binance.kline_1m", "binance.kline_1h", "binance.kline_1d")
        if f"{prefix}{t}" not in stored
    ]
    ledger.acked_messages, acked = kafka_payloads(settings, topics)
    for topic, payloads in acked.items():
        ledger.acked_payloads += len(payloads)
        have = stored.get(topic, Counter())
        ledger.lost += [f"{topic}:{p[:12]}" for p in sorted(payloads - set(have))]
        # a stored payload repeated under another natural key is not a double; the natural-key
        # check above counts doubles
    return ledger


# ------------------------------------------------------------------------------ report
@dataclass
class TableDiff:
    table: str
    reference_rows: int
    chaos_rows: int
    equal: bool
    lost: int
    doubled: int


@dataclass
class Report:
    seed: int
    rounds: int
    input_files: int
    faults: list[Fault]
    tables: list[TableDiff]
    ledger: Ledger
    reference_s: float
    chaos_s: float
    pipeline_runs: list[str]
    healthy_after: list[str]

    @property
    def lost(self) -> int:
        return sum(t.lost for t in self.tables) + len(self.ledger.lost)

    @property
    def doubled(self) -> int:
        return sum(t.doubled for t in self.tables) + self.ledger.doubled

    @property
    def injected(self) -> int:
        return sum(f.injected for f in self.faults)

    @property
    def recovered(self) -> int:
        return sum(f.recovered for f in self.faults)

    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.doubled == 0
            and self.injected == len(self.faults)
            and self.recovered == len(self.faults)
            and all(t.equal for t in self.tables)
            and not self.healthy_after
            and bool(self.tables)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "rounds": self.rounds,
            "ok": self.ok(),
            "faults_injected": self.injected,
            "faults_recovered": self.recovered,
            "records_lost": self.lost,
            "records_doubled": self.doubled,
            "faults": [asdict(f) for f in self.faults],
            "tables": [asdict(t) for t in self.tables],
            "kafka": {
                "acked_messages": self.ledger.acked_messages,
                "acked_payloads": self.ledger.acked_payloads,
                "lost": self.ledger.lost[:50],
                "doubled": self.ledger.doubled,
            },
            "reference_s": round(self.reference_s, 1),
            "chaos_s": round(self.chaos_s, 1),
            "pipeline_runs": self.pipeline_runs,
            "unhealthy_after": self.healthy_after,
            "volatile_columns": VOLATILE_COLUMNS,
            "float_digits": FLOAT_DIGITS,
        }

    def table(self) -> str:
        """The report in at most 80 columns."""
        out = [
            f"chaos seed {self.seed}: {self.rounds} round(s), {self.input_files} input "
            f"files, pipeline runs {' '.join(self.pipeline_runs)}",
            f"{'fault':<9}{'round':>5}{'at s':>7}  {'during':<28}{'kill':>5}{'back':>5}"
            f"{'recover s':>10}",
        ]
        for f in self.faults:
            rec = f"{f.recover_s:.1f}" if f.recover_s is not None else "-"
            out.append(
                f"{f.kind:<9}{f.round:>5}{f.at_s:>7.0f}  {f.during[:27]:<28}"
                f"{'yes' if f.injected else 'NO':>5}{'yes' if f.recovered else 'NO':>5}"
                f"{rec:>10}"
            )
            if f.error:
                out.append(f"  error: {f.error[:70]}")
        out.append(
            f"{'table':<34}{'ref rows':>9}{'rows':>9}{'equal':>7}{'lost':>7}" f"{'doubled':>9}"
        )
        for t in self.tables:
            out.append(
                f"{t.table[:33]:<34}{t.reference_rows:>9}{t.chaos_rows:>9}"
                f"{'yes' if t.equal else 'NO':>7}{t.lost:>7}{t.doubled:>9}"
            )
        out.append(
            f"kafka: {self.ledger.acked_messages} acked messages, "
            f"{self.ledger.acked_payloads} distinct payloads, "
            f"{len(self.ledger.lost)} not in Bronze, {self.ledger.doubled} doubled"
        )
        out.append(
            f"faults injected {self.injected}/{len(self.faults)}, recovered "
            f"{self.recovered}, records lost {self.lost}, doubled {self.doubled}; "
            f"reference {self.reference_s:.0f}s, chaos {self.chaos_s:.0f}s"
        )
        if self.healthy_after:
            out.append("unhealthy after the run: " + "; ".join(self.healthy_after)[:66])
        return "\n".join(line[:80] for line in out)


def compare(
    reference: Mapping[str, TableDigest], chaos: Mapping[str, TableDigest]
) -> list[TableDiff]:
    out = []
    for name in sorted(set(reference) | set(chaos)):
        ref = reference.get(name)
        got = chaos.get(name)
        ref_d = ref.digests if ref else Counter()
        got_d = got.digests if got else Counter()
        out.append(
            TableDiff(
                table=name,
                reference_rows=ref.rows if ref else 0,
                chaos_rows=got.rows if got else 0,
                equal=(
                    ref is not None and got is not None and ref.content_hash == got.content_hash
                ),
                lost=sum((ref_d - got_d).values()),
                doubled=sum((got_d - ref_d).values()),
            )
        )
    return out


# ------------------------------------------------------------------------------ the harness
@dataclass
class ChaosConfig:
    data: Path
    seed: int
    rounds: int = 1
    faults: tuple[str, ...] = FAULT_KINDS
    gap_s: tuple[float, float] = (2.0, 20.0)  # seeded-random wait before each fault
    max_runs: int = 4
    #: one pipeline run may take this long before it counts as stuck: the reference run of the
    #: small input took 57 min on 2 cores at load average 30 (12 min at load 10)
    run_timeout_s: float = 1800.0
    #: keep the reference digests here and reuse them while the input and the code are the same
    reference_cache: Path | None = None


def _reference_key(data: Path) -> str:
    """What the reference depends on: the input files and the code (commit + uncommitted)."""
    h = hashlib.sha256()
    for p in sorted(data.rglob("*")):
        if p.is_file():
            h.update(f"{p.relative_to(data)}:{p.stat().st_size}\n".encode())
    for args in (["rev-parse", "HEAD"], ["diff", "HEAD", "--", "packages", "transform"]):
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=False)
        h.update(out.stdout)
    return h.hexdigest()


def _load_reference(cache: Path, key: str) -> tuple[dict[str, TableDigest], float] | None:
    if not cache.exists():
        return None
    raw = json.loads(cache.read_text())
    if raw.get("key") != key:
        return None
    tables = {
        name: TableDigest(t["rows"], t["content_hash"], Counter(t["digests"]), t["skipped"])
        for name, t in raw["tables"].items()
    }
    return tables, float(raw["seconds"])


def _save_reference(
    cache: Path, key: str, tables: Mapping[str, TableDigest], seconds: float
) -> None:
    cache.write_text(
        json.dumps(
            {
                "key": key,
                "seconds": seconds,
                "tables": {
                    name: {
                        "rows": t.rows,
                        "content_hash": t.content_hash,
                        "digests": dict(t.digests),
                        "skipped": t.skipped,
                    }
                    for name, t in tables.items()
                },
            }
        )
    )


def _one_reference_run(
    stack: ChaosStack, cfg: ChaosConfig, logs: Path
) -> tuple[dict[str, TableDigest], float]:
    reset_lakehouse(stack, "reference")
    t0 = time.monotonic()
    _start_stream(stack)
    run = Run()
    run_pipeline_to_success(
        Pipeline(stack, cfg.data, logs / "reference"), run, max_runs=1, timeout=cfg.run_timeout_s
    )
    from cryptolake.processing.spark import stop_stream

    stop_stream(settings=stack.settings, timeout=120)
    seconds = time.monotonic() - t0
    return digest_layers(stack.settings), seconds


def run_chaos(stack: ChaosStack, cfg: ChaosConfig, logs: Path) -> Report:
    """The reference run, then the chaos run, then the reconciliation."""
    for kind in cfg.faults:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(FAULT_KINDS)}")
    (logs / "reference").mkdir(parents=True, exist_ok=True)
    (logs / "chaos").mkdir(parents=True, exist_ok=True)
    log(f"seed {cfg.seed} (set CRYPTOLAKE_CHAOS_SEED={cfg.seed} to repeat); input {cfg.data}")
    rnd = random.Random(cfg.seed)
    key = _reference_key(cfg.data)
    cached = _load_reference(cfg.reference_cache, key) if cfg.reference_cache else None
    if cached is not None:
        reference, reference_s = cached
        log(f"reference digests reused from {cfg.reference_cache}")
    else:
        reference, reference_s = _one_reference_run(stack, cfg, logs)
        if cfg.reference_cache:
            _save_reference(cfg.reference_cache, key, reference, reference_s)
    log(
        f"reference run: {reference_s:.0f}s, {len(reference)} tables, "
        f"{sum(t.rows for t in reference.values())} rows"
    )

    reset_lakehouse(stack, "chaos")
    t0 = time.monotonic()
    _start_stream(stack)
    pipeline = Pipeline(stack, cfg.data, logs / "chaos")
    run = Run()
    faults: list[Fault] = []
    pipeline.start(0)

    def doing() -> str:
        state, step = pipeline.status()
        return step if state == "running" else f"run {state}"

    for rnd_no in range(1, cfg.rounds + 1):
        order = list(cfg.faults)
        rnd.shuffle(order)
        for kind in order:
            time.sleep(rnd.uniform(*cfg.gap_s))
            state, _ = pipeline.status()
            if state != "running":
                # the run ended (succeeded or failed) before every fault was injected: run again
                # over the same input, so the next fault also hits work in progress
                run.run_ids.append(pipeline.run_id or "?")
                run.statuses.append(state)
                log(f"pipeline run {pipeline.run_id}: {state}; starting another run")
                pipeline.stop_cli()
                pipeline.start(len(run.run_ids))
            fault = Fault(kind, rnd_no)
            inject(stack, fault, rnd, t0, doing)
            faults.append(fault)
    run_pipeline_to_success(
        pipeline, run, max_runs=len(run.run_ids) + cfg.max_runs, timeout=cfg.run_timeout_s
    )
    from cryptolake.processing.spark import stop_stream

    stop_stream(settings=stack.settings, timeout=120)
    chaos_s = time.monotonic() - t0
    chaos = digest_layers(stack.settings)
    ledger = reconcile_kafka(stack.settings)
    unhealthy = stack.unhealthy()
    return Report(
        seed=cfg.seed,
        rounds=cfg.rounds,
        input_files=sum(1 for p in cfg.data.rglob("*") if p.is_file()),
        faults=faults,
        tables=compare(reference, chaos),
        ledger=ledger,
        reference_s=reference_s,
        chaos_s=chaos_s,
        pipeline_runs=[f"{i}:{s}" for i, s in zip(run.run_ids, run.statuses, strict=True)],
        healthy_after=unhealthy,
    )


def scratch(prefix: str) -> Path:
    base = Path(tempfile.gettempdir()) / "cryptolake-tests"
    base.mkdir(exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))


def open_stack(
    root: Path, main_home: Path, apply_env: Callable[[Mapping[str, str]], None]
) -> ChaosStack:
    """Bring the private stack under ``root`` up (reused when it already runs)."""
    stack = ChaosStack(private_env(root, main_home), apply_env)
    log(f"private stack in {stack.home}: up")
    seconds = stack.up()
    log(f"private stack up in {seconds:.0f}s")
    return stack
