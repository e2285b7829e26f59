"""Pure renderers of each service's configuration (unit-tested without services)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

from cryptolake.core.settings import Settings


def s3_port(settings: Settings) -> int:
    return urlparse(settings.s3.endpoint).port or 80


def kafka_port(settings: Settings) -> int:
    first = settings.kafka.bootstrap_servers.split(",")[0]
    return int(first.rsplit(":", 1)[1])


def kafka_host(settings: Settings) -> str:
    return settings.kafka.bootstrap_servers.split(",")[0].rsplit(":", 1)[0]


def write_private(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` readable by its owner only (0600 from the first byte).

    The file is written next to ``path`` and renamed over it, so no reader ever sees it with
    wider permissions or half written; used for every file that holds a secret.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(content)
    os.chmod(tmp, 0o600)  # whatever the umask
    os.replace(tmp, path)


def properties(values: Mapping[str, object]) -> str:
    return "".join(f"{k}={v}\n" for k, v in values.items())


def heap_bytes(heap: str) -> int:
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", heap.strip())
    if not m:
        raise ValueError(f"not a JVM heap size: {heap!r}")
    n, unit = int(m.group(1)), m.group(2).lower()
    return n * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[unit]


def redis_conf(settings: Settings, data_dir: Path) -> str:
    r = settings.redis
    return "\n".join(
        [
            f"bind {r.host}",
            f"port {r.port}",
            "protected-mode yes",
            f"requirepass {r.password.get_secret_value()}",
            "daemonize no",
            f"dir {data_dir}",
            "appendonly yes",
            "appendfsync everysec",
            "save 3600 1 300 100 60 10000",
            "dbfilename dump.rdb",
            "loglevel notice",
            'logfile ""',
            "",
        ]
    )


def postgres_args(settings: Settings, data_dir: Path) -> list[str]:
    pg = settings.postgres
    return [
        "-D",
        str(data_dir),
        "-c",
        f"listen_addresses={pg.host}",
        "-c",
        f"port={pg.port}",
        "-c",
        "unix_socket_directories=",
        "-c",
        "max_connections=200",
        "-c",
        "shared_buffers=128MB",
        "-c",
        "fsync=on",
        "-c",
        "logging_collector=off",
    ]


def s3proxy_properties(settings: Settings, data_dir: Path) -> str:
    s3 = settings.s3
    host = urlparse(s3.endpoint).hostname or "127.0.0.1"
    return properties(
        {
            "s3proxy.endpoint": f"http://{host}:{s3_port(settings)}",
            "s3proxy.authorization": "aws-v2-or-v4",
            "s3proxy.identity": s3.access_key,
            "s3proxy.credential": s3.secret_key.get_secret_value(),
            "jclouds.provider": "filesystem",
            "jclouds.filesystem.basedir": str(data_dir),
            "jclouds.region": s3.region,
            "s3proxy.ignore-unknown-headers": "true",
        }
    )


def local_brokers(settings: Settings) -> list[tuple[str, int]]:
    """(host, port) of each broker the local stack runs: on the cluster profile one per
    bootstrap server; otherwise the first one only (the others may be anybody's)."""
    brokers = settings.kafka.broker_addresses
    return brokers if settings.stack.profile == "cluster" else brokers[:1]


def kafka_controller_port(settings: Settings, index: int = 0) -> int:
    """KRaft controller port of local broker ``index`` (the setting + 100 × index)."""
    return settings.kafka.controller_port + 100 * index


def kafka_server_properties(settings: Settings, data_dir: Path, index: int = 0) -> str:
    """``server.properties`` of local broker ``index`` (node id ``index + 1``).

    The local stack runs one combined broker + controller per :func:`local_brokers` entry:
    with one, exactly the single-node layout; with several, one KRaft quorum of them all,
    internal topics replicated on up to three brokers and ``min.insync.replicas`` from the
    settings, as on a real cluster."""
    k = settings.kafka
    brokers = local_brokers(settings)
    host, port = brokers[index]
    cport = kafka_controller_port(settings, index)
    voters = ",".join(
        f"{i + 1}@{h}:{kafka_controller_port(settings, i)}" for i, (h, _) in enumerate(brokers)
    )
    internal_rf = min(3, len(brokers))
    internal_isr = min(k.min_insync_replicas, internal_rf)
    values: dict[str, object] = {
        "process.roles": "broker,controller",
        "node.id": index + 1,
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{cport}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": 1,
        "offsets.topic.replication.factor": internal_rf,
        "transaction.state.log.replication.factor": internal_rf,
        "transaction.state.log.min.isr": internal_isr,
        "share.coordinator.state.topic.replication.factor": internal_rf,
        "share.coordinator.state.topic.min.isr": internal_isr,
        "group.initial.rebalance.delay.ms": 0,
        "auto.create.topics.enable": "false",
        "log.retention.hours": 168,
        "num.network.threads": 2,
        "num.io.threads": 2,
        "background.threads": 2,
    }
    if len(brokers) > 1:
        values |= {
            "default.replication.factor": min(k.replication_factor, len(brokers)),
            "min.insync.replicas": min(k.min_insync_replicas, len(brokers)),
            "num.replica.fetchers": 1,
            "unclean.leader.election.enable": "false",
        }
    return properties(values)


KAFKA_LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRefs = stdout
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = WARN
"""


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def trino_memory(heap: str) -> dict[str, str]:
    """Per-node query memory and headroom that fit in ``heap`` (per-node + headroom < heap)."""
    total_mb = heap_bytes(heap) // (1 << 20)
    per_node = int(total_mb * 0.4)
    headroom = int(total_mb * 0.3)
    return {
        "query.max-memory": f"{per_node}MB",
        "query.max-memory-per-node": f"{per_node}MB",
        "memory.heap-headroom-per-node": f"{headroom}MB",
    }


def trino_worker_port(settings: Settings, index: int) -> int:
    """HTTP port of local Trino worker ``index`` (the coordinator's port + 1 + index)."""
    return settings.trino.port + 1 + index


def trino_files(
    settings: Settings, etc: Path, data_dir: Path, install: Path, worker: int | None = None
) -> dict[str, str]:
    """The files of Trino's ``etc/`` (relative name -> content): the coordinator's, or with
    ``worker`` set, those of local worker node ``worker`` (announcing itself to the coordinator).

    With ``trino.workers`` > 0 the coordinator schedules no work on itself, as on a cluster."""
    t, pg, s3 = settings.trino, settings.postgres, settings.s3
    if not _loopback(t.bind_host) and not t.expose_without_auth:
        from cryptolake.core.errors import ConfigError

        raise ConfigError(
            f"CRYPTOLAKE_TRINO__BIND_HOST={t.bind_host} would expose Trino, which has no "
            "authentication here, beyond this machine; keep 127.0.0.1, or set "
            "CRYPTOLAKE_TRINO__EXPOSE_WITHOUT_AUTH=true behind a firewall (see docs/deploy.md)"
        )
    config: dict[str, object]
    if worker is None:
        config = {
            "coordinator": "true",
            "node-scheduler.include-coordinator": "false" if t.workers else "true",
            "http-server.http.port": t.port,
        }
        heap, node_id = t.heap, "cryptolake-1"
    else:
        config = {"coordinator": "false", "http-server.http.port": trino_worker_port(settings, worker)}
        heap, node_id = t.worker_heap, f"cryptolake-worker-{worker + 1}"
    config |= {
        "discovery.uri": f"http://{t.host}:{t.port}",
        "catalog.config-dir": str(etc / "catalog"),
        "plugin.dir": str(install / "plugin"),
        "task.concurrency": 2,
        **({"query.min-expire-age": "5m"} if worker is None else {}),
        **trino_memory(heap),
    }
    lakehouse = {
        "connector.name": "iceberg",
        "iceberg.catalog.type": "jdbc",
        "iceberg.jdbc-catalog.catalog-name": settings.lakehouse.catalog,
        "iceberg.jdbc-catalog.driver-class": "org.postgresql.Driver",
        "iceberg.jdbc-catalog.connection-url": f"jdbc:postgresql://{pg.host}:{pg.port}/{pg.database}",
        "iceberg.jdbc-catalog.connection-user": pg.user,
        "iceberg.jdbc-catalog.connection-password": pg.password.get_secret_value(),
        "iceberg.jdbc-catalog.default-warehouse-dir": f"s3://{s3.bucket}",
        "fs.native-s3.enabled": "true",
        "s3.endpoint": s3.endpoint,
        "s3.region": s3.region,
        "s3.path-style-access": "true",
        "s3.aws-access-key": s3.access_key,
        "s3.aws-secret-key": s3.secret_key.get_secret_value(),
    }
    jvm = [
        "-server",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-XX:G1HeapRegionSize=32M",
        "-XX:+ExplicitGCInvokesConcurrent",
        "-XX:+ExitOnOutOfMemoryError",
        "-XX:-OmitStackTraceInFastThrow",
        "-XX:ReservedCodeCacheSize=256M",
        "-XX:PerMethodRecompilationCutoff=10000",
        "-XX:PerBytecodeRecompilationCutoff=10000",
        "-XX:+EnableDynamicAgentLoading",
        "-Djdk.attach.allowAttachSelf=true",
        "-Djdk.nio.maxCachedBufferSize=2000000",
        "-Dfile.encoding=UTF-8",
        "--enable-native-access=ALL-UNNAMED",
    ]
    return {
        "node.properties": properties(
            {
                "node.environment": "cryptolake",
                "node.id": node_id,
                "node.data-dir": str(data_dir),
                "node.bind-ip": t.bind_host,
                "node.internal-address": t.host,
            }
        ),
        "config.properties": properties(config),
        "jvm.config": "\n".join(jvm) + "\n",
        "log.properties": "io.trino=INFO\n",
        f"catalog/{settings.lakehouse.catalog}.properties": properties(lakehouse),
        "catalog/tpch.properties": properties({"connector.name": "tpch"}),
        "catalog/memory.properties": properties(
            {"connector.name": "memory", "memory.max-data-per-node": "128MB"}
        ),
    }
