"""The orchestration behind ``cryptolake stack setup | up | status | down | logs``."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptolake.core import supervisor as _supervisor
from cryptolake.core.errors import ServiceError
from cryptolake.core.settings import Settings, get_settings
from cryptolake.core.stack import _maven, bootstrap
from cryptolake.core.stack._layout import Layout
from cryptolake.core.stack.services import (
    INFRA_SERVICES,
    SERVICE_NAMES,
    Service,
    cluster_companions,
    make_services,
    preload_clients,
)

#: (service, message) — progress for the CLI; the service is "stack" for whole-stack steps.
Reporter = Callable[[str, str], None]

#: Services a service cannot work without (``up trino`` also brings these up).
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    "trino": ("postgres", "s3"),
    "worker": ("postgres", "redis", "s3", "kafka", "trino"),
    "beat": ("redis",),
    # its probe is a GraphQL query answered from Trino; keys and rate limits live in Redis
    "api": ("trino", "redis"),
}


def _quiet(service: str, message: str) -> None:
    pass


@dataclass
class ServiceStatus:
    service: str
    running: bool
    healthy: bool
    pid: int | None
    ports: list[int]
    version: str
    data_dir: str
    rss_mb: float | None
    log: str
    java: str | None = None
    error: str | None = None


@dataclass
class UpResult:
    started: list[str] = field(default_factory=list)
    already_running: list[str] = field(default_factory=list)
    bootstrap: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


class Stack:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.layout = Layout(self.settings.home)
        self.services: dict[str, Service] = make_services(self.settings, self.layout)
        #: every service of this configuration, in start order (SERVICE_NAMES on one node)
        self.names: tuple[str, ...] = tuple(self.services)
        self._companions = cluster_companions(self.services)

    # ------------------------------------------------------------------------------- selection
    def infra(self) -> tuple[str, ...]:
        """The lakehouse's own services (what the test fixtures start): INFRA_SERVICES, plus on
        a local cluster the other brokers, the Trino workers and the Spark standalone cluster."""
        extra = tuple(n for n in self.names if n not in SERVICE_NAMES)
        return (*INFRA_SERVICES, *extra)

    def depends_on(self, name: str) -> tuple[str, ...]:
        """Services whose bootstrap ``name`` waits for."""
        deps = DEPENDS_ON.get(name, ())
        if name == "worker" and "spark-master" in self.services:
            deps = (*deps, "spark-master")
        return deps

    def resolve(self, names: Iterable[str] | None) -> list[str]:
        chosen = list(names or self.names)
        unknown = [n for n in chosen if n not in self.services]
        if unknown:
            raise ServiceError(
                unknown[0], "no such service", f"choose from {', '.join(self.names)}"
            )
        closed: set[str] = set()
        todo = list(chosen)
        while todo:
            n = todo.pop()
            if n not in closed:
                closed.add(n)
                todo.extend(self.depends_on(n))
                todo.extend(self._companions.get(n, ()))
        return [n for n in self.names if n in closed]

    # ----------------------------------------------------------------------------------- setup
    def setup(self, report: Reporter = _quiet) -> dict[str, bool]:
        """Install every service and the Spark jars; returns {part: fetched-anything}."""
        self.layout.ensure()
        fetched: dict[str, bool] = {}
        for name, svc in self.services.items():
            fetched[name] = svc.install(functools.partial(report, name))
            report(name, "installed")
        fetched["spark"] = self.install_spark_jars(lambda msg: report("spark", msg))
        from cryptolake.core.clients._spark_cds import record

        # the drivers' class archive (once per JDK and Spark, ~50 s): every driver starts faster
        record(self.settings, lambda msg: report("spark", msg))
        report("spark", "installed")
        return fetched

    def installed(self) -> bool:
        """Whether every service and the Spark jars are installed (cheap: no checksums)."""
        try:
            for svc in self.services.values():
                svc.check_installed()
        except ServiceError:
            return False
        return (self.layout.spark_jars / ".complete").exists()

    def spark_artifacts(self) -> list[_maven.Artifact]:
        sp = self.settings.spark
        return [
            _maven.Artifact(
                "org.apache.iceberg", "iceberg-spark-runtime-4.1_2.13", sp.iceberg_version
            ),
            _maven.Artifact("org.apache.iceberg", "iceberg-aws-bundle", sp.iceberg_version),
            _maven.Artifact("org.postgresql", "postgresql", sp.postgres_jdbc_version),
            _maven.Artifact(
                "org.apache.spark", "spark-sql-kafka-0-10_2.13", sp.kafka_connector_version
            ),
            _maven.Artifact(
                "org.apache.spark",
                "spark-token-provider-kafka-0-10_2.13",
                sp.kafka_connector_version,
            ),
            # runtime dependencies of the connector that pyspark does not ship
            _maven.Artifact("org.apache.kafka", "kafka-clients", "3.9.1"),
            _maven.Artifact("org.apache.commons", "commons-pool2", "2.12.1"),
        ]

    def install_spark_jars(self, report: Callable[[str], None]) -> bool:
        dest = self.layout.spark_jars
        arts = self.spark_artifacts()
        key = "\n".join(a.coords for a in arts) + "\n"
        marker = dest / ".complete"
        fetched = False
        paths = []
        for art in arts:
            report(art.coords)
            path, got = _maven.fetch("spark", art, self.layout.downloads)
            fetched |= got
            paths.append(path)
        if marker.exists() and marker.read_text() == key and not fetched:
            return False
        dest.mkdir(parents=True, exist_ok=True)
        for old in dest.glob("*.jar"):
            old.unlink()
        for path in paths:
            link = dest / path.name
            link.symlink_to(path)
        marker.write_text(key)
        return fetched

    @contextlib.contextmanager
    def _locked(self, report: Reporter) -> Iterator[None]:
        """One ``up``/``down`` at a time per home: concurrent callers (several test sessions, a
        developer and CI) would otherwise start the same service twice."""
        self.layout.ensure()
        with (self.layout.home / "run" / "stack.lock").open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                report("stack", "waiting for another `up`/`down` on this home to finish")
                fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # -------------------------------------------------------------------------------------- up
    def up(
        self,
        names: Iterable[str] | None = None,
        report: Reporter = _quiet,
        *,
        bootstrap_steps: bool = True,
        no_wait: Iterable[str] = (),
    ) -> UpResult:
        """Start what is not running, wait until every chosen service is healthy, bootstrap.

        The services in ``no_wait`` are started but not waited for (nor bootstrapped), and the
        services that depend on them do not wait for them either: ``make demo`` lets the
        pipeline's Spark steps run while Trino starts (its Trino steps wait for it), and a
        second ``up`` waits for everything."""
        t0 = time.monotonic()
        with self._locked(report):
            result = self._up(names, report, bootstrap_steps, frozenset(no_wait))
        result.seconds = time.monotonic() - t0
        return result

    def _up(self, names: Iterable[str] | None, report: Reporter, bootstrap_steps: bool,
            no_wait: frozenset[str] = frozenset()) -> UpResult:
        chosen = self.resolve(names)
        unknown = sorted(no_wait - set(chosen))
        if unknown:
            raise ServiceError(unknown[0], "asked not to be waited for, but not being started",
                               f"choose among {', '.join(chosen)}")
        result = UpResult()
        # remembered for `stack status | down | logs` run without --profile on this home
        (self.layout.home / "run" / "profile").write_text(self.settings.stack.profile + "\n")
        procs: dict[str, Any] = {}
        # 1. find what already runs; check and start the rest (Trino first: it is the slowest)
        to_start = []
        for name in chosen:
            tracked = _supervisor.running(self.layout.pidfile(name))
            if tracked is not None:
                result.already_running.append(name)
            else:
                to_start.append(name)
        # preflight, cheapest and most fundamental first: a JDK, the install, free ports
        for name in to_start:
            if self.services[name].java_min is not None:
                self.services[name].java()
        for name in to_start:
            self.services[name].check_installed()
        for name in list(to_start):
            if self._adopt_orphan(name):
                to_start.remove(name)
                result.already_running.append(name)
        for name in to_start:
            svc = self.services[name]
            self._reap_leftovers(name)
            for port in svc.ports():
                holder = _supervisor.port_holder(port)
                if holder is not None:
                    raise ServiceError(
                        name,
                        f"port {port} on 127.0.0.1 is already taken by {holder}",
                        f"stop that process or choose another port "
                        f"({self._port_setting(name, port)})",
                    )
        for name in sorted(to_start, key=lambda n: not n.startswith("trino")):
            svc = self.services[name]
            report(name, "preparing")
            svc.prepare()
            launch = svc.launch()
            procs[name] = _supervisor.start(
                name,
                launch.command,
                pidfile=self.layout.pidfile(name),
                log=self.layout.log(name),
                cwd=launch.cwd,
                env=launch.env,
                user=launch.user,
            )
            result.started.append(name)
            report(name, f"started (pid {procs[name].pid})")

        # 2. wait for every service to answer a real probe, bootstrapping as they come up
        errors: list[ServiceError] = []
        healthy: dict[str, threading.Event] = {n: threading.Event() for n in chosen}
        boot_done: dict[str, threading.Event] = {n: threading.Event() for n in chosen}
        lock = threading.Lock()

        def wait_one(name: str) -> None:
            try:
                # a service's start deadline runs from when what it needs is up: on two busy
                # cores the cluster's Trino alone can take longer than the API's whole timeout
                for dep in self.depends_on(name):
                    if dep in no_wait:
                        continue
                    boot_done[dep].wait()
                    if not healthy[dep].is_set():
                        raise ServiceError(
                            name,
                            f"not waited for: {dep}, which it needs, did not come up",
                            f"see the error for {dep} above",
                        )
                self._wait_healthy(name, procs.get(name), report)
                if bootstrap_steps:
                    out = self._bootstrap(name, report)
                    if out is not None:
                        with lock:
                            result.bootstrap[name] = out
                healthy[name].set()
                report(name, "healthy")
            except ServiceError as exc:
                with lock:
                    errors.append(exc)
            except Exception as exc:
                with lock:
                    errors.append(
                        ServiceError(
                            name, f"bootstrap failed: {exc}", f"see `cryptolake stack logs {name}`"
                        )
                    )
            finally:
                boot_done[name].set()

        waited = [n for n in chosen if n not in no_wait]
        for name in chosen:
            if name in no_wait:
                report(name, "started, not waited for")
        preload_clients()
        with ThreadPoolExecutor(max_workers=max(1, len(waited))) as pool:
            list(pool.map(wait_one, waited))
        if errors:
            raise errors[0]
        return result

    def _port_setting(self, name: str, port: int) -> str:
        if name.startswith("kafka-"):
            return "CRYPTOLAKE_KAFKA__BOOTSTRAP_SERVERS, CRYPTOLAKE_KAFKA__CONTROLLER_PORT"
        if name.startswith("trino-worker-"):
            return "CRYPTOLAKE_TRINO__PORT (workers use the next ports)"
        if name.startswith("spark-"):
            return "CRYPTOLAKE_SPARK__MASTER_PORT (the workers use the next ports)"
        return {
            "postgres": "CRYPTOLAKE_POSTGRES__PORT",
            "redis": "CRYPTOLAKE_REDIS__PORT",
            "s3": "CRYPTOLAKE_S3__ENDPOINT",
            "kafka": (
                "CRYPTOLAKE_KAFKA__CONTROLLER_PORT"
                if port == self.settings.kafka.controller_port
                else "CRYPTOLAKE_KAFKA__BOOTSTRAP_SERVERS"
            ),
            "trino": "CRYPTOLAKE_TRINO__PORT",
        }[name]

    def _adopt_orphan(self, name: str) -> bool:
        """A process running exactly our command for this service, whose pid file was lost (say,
        to a crash between start and pid file), is taken back rather than reported as a stranger
        on our port."""
        svc = self.services[name]
        if not svc.ports():
            return False
        pid = _supervisor.port_holder_pid(svc.ports()[0])
        if pid is None:
            return False
        try:
            ours = svc.launch().command
        except Exception:
            return False
        if _supervisor.cmdline(pid) != ours:
            return False
        return _supervisor.adopt(name, pid, self.layout.pidfile(name)) is not None

    def _reap_leftovers(self, name: str) -> None:
        """Kill what is left of our dead process's group (PostgreSQL backends after kill -9)."""
        import os
        import signal

        tracked = _supervisor.read_pidfile(self.layout.pidfile(name))
        if tracked is None:
            return
        for pid in _supervisor.group_pids(tracked.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while _supervisor.group_pids(tracked.pid) and time.monotonic() < deadline:
            time.sleep(0.1)

    def _wait_healthy(self, name: str, proc: Any, report: Reporter) -> None:
        svc = self.services[name]
        deadline = time.monotonic() + svc.start_timeout
        last: Exception | None = None
        report(name, "waiting for a healthy probe")
        pidfile = self.layout.pidfile(name)
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise ServiceError(
                    name,
                    f"exited during start (exit code {proc.returncode}): "
                    f"{self._last_log_line(name)}",
                    f"see `cryptolake stack logs {name}` ({self.layout.log(name)})",
                )
            if proc is None and _supervisor.running(pidfile) is None:
                raise ServiceError(
                    name, "stopped while `up` was waiting for it", "run `cryptolake stack up` again"
                )
            try:
                svc.probe(timeout=5.0)
                return
            except Exception as exc:
                last = exc
            time.sleep(0.5)
        raise ServiceError(
            name,
            f"not healthy after {svc.start_timeout:.0f}s: {last}",
            f"see `cryptolake stack logs {name}`",
        )

    def _last_log_line(self, name: str) -> str:
        try:
            lines = self.layout.log(name).read_text(errors="replace").splitlines()
        except OSError:
            return "no log"
        keep = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("====")]
        for ln in reversed(keep[-40:]):
            low = ln.lower()
            if any(w in low for w in ("error", "fatal", "exception", "failed", "panic")):
                return ln[:300]
        return keep[-1][:300] if keep else "no output"

    def _bootstrap(self, name: str, report: Reporter) -> Any:
        s = self.settings
        if name == "postgres":
            report(name, "bootstrapping the Iceberg JDBC catalog")
            created_db = bootstrap.ensure_catalog_database(s)
            bootstrap.ensure_catalog_tables(s)
            created_ns = bootstrap.ensure_namespaces(s)
            return {"database_created": created_db, "namespaces_created": created_ns}
        if name == "s3":
            report(name, f"bucket {s.s3.bucket}")
            return {"bucket_created": bootstrap.ensure_bucket(s)}
        if name == "kafka":
            report(name, "topics declared by plugins")
            return {"topics_created": bootstrap.ensure_declared_topics(s)}
        if name == "trino":
            report(name, f"checking catalog {s.lakehouse.catalog}")
            bootstrap.verify_trino_catalog(s)
            return None
        return None

    # ---------------------------------------------------------------------------------- status
    def status(self, names: Iterable[str] | None = None) -> list[ServiceStatus]:
        chosen = list(names or self.names)

        def one(name: str) -> ServiceStatus:
            svc = self.services[name]
            tracked = _supervisor.running(self.layout.pidfile(name))
            healthy, error = False, None
            if tracked is not None:
                try:
                    svc.probe(timeout=3.0)
                    healthy = True
                except Exception as exc:
                    error = str(exc)[:200] or type(exc).__name__
            else:
                error = "not running"
            java = None
            if svc.java_min is not None:
                try:
                    runtime = svc.java()
                    java = runtime.describe() if runtime else None
                except ServiceError as exc:
                    java = f"missing: {exc.cause}"
            try:
                version = svc.version()
            except Exception:
                version = "?"
            return ServiceStatus(
                service=name,
                running=tracked is not None,
                healthy=healthy,
                pid=tracked.pid if tracked else None,
                ports=svc.ports(),
                version=version,
                data_dir=str(svc.data_dir),
                rss_mb=(round(_supervisor.rss_bytes(tracked.pid) / 2**20, 1) if tracked else None),
                log=str(self.layout.log(name)),
                java=java,
                error=error,
            )

        preload_clients()
        with ThreadPoolExecutor(max_workers=len(chosen)) as pool:
            return list(pool.map(one, chosen))

    # ------------------------------------------------------------------------------------ down
    def down(self, names: Iterable[str] | None = None, report: Reporter = _quiet) -> list[str]:
        """Stop the chosen services that this stack started (reverse start order).

        Stopping the whole stack (no ``names``) first stops the other processes supervised from
        this home (``run/*.json`` that name no service: the stream job, which plugins start),
        since they depend on the services and would only fail without them.
        """
        chosen = list(names or self.names)
        stopped = []
        with self._locked(report):
            if names is None:
                for pidfile in sorted((self.layout.home / "run").glob("*.json")):
                    if pidfile.stem not in self.services and _supervisor.stop(pidfile):
                        stopped.append(pidfile.stem)
                        report(pidfile.stem, "stopped")
            for name in reversed(self.names):
                if name not in chosen:
                    continue
                svc = self.services[name]
                if _supervisor.stop(
                    self.layout.pidfile(name), sig=svc.stop_signal, timeout=svc.stop_timeout
                ):
                    stopped.append(name)
                    report(name, "stopped")
        return stopped

    def log_path(self, name: str) -> Path:
        if name not in self.services:
            raise ServiceError(name, "no such service", f"choose from {', '.join(self.names)}")
        return self.layout.log(name)


def status_dicts(statuses: list[ServiceStatus]) -> list[dict[str, Any]]:
    return [asdict(s) for s in statuses]
