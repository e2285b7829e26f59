"""A local SparkSession wired to the shared Iceberg catalog, S3 and Kafka — offline.

The jars (Iceberg Spark runtime, iceberg-aws-bundle, the PostgreSQL JDBC driver and the Spark–Kafka
connector) are fetched once by ``cryptolake stack setup`` into
``$CRYPTOLAKE_HOME/opt/spark-jars`` and passed by path, so no Ivy resolution happens at run time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptolake.core.errors import ServiceError
from cryptolake.core.settings import Settings, get_settings

#: Configuration keys whose values Spark masks (UI, event log, EXPLAIN, errors).
REDACTION_REGEX = r"(?i)secret|password|token|access[.\-]?key|credential"


def spark_jars(settings: Settings | None = None) -> list[Path]:
    s = settings or get_settings()
    jar_dir = s.home / "opt" / "spark-jars"
    jars = sorted(jar_dir.glob("*.jar"))
    if not (jar_dir / ".complete").exists() or not jars:
        raise ServiceError(
            "spark",
            f"the Iceberg/Kafka jars are missing from {jar_dir}",
            "run `cryptolake stack setup`",
        )
    return jars


def _java() -> Path | None:
    """The ``java`` PySpark's launcher runs: ``$JAVA_HOME/bin/java``, else the one on ``PATH``."""
    home = os.environ.get("JAVA_HOME")
    found = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not found or not Path(found).exists():
        return None
    return Path(found).resolve()


def class_archive(settings: Settings | None = None) -> Path | None:
    """Where the drivers' class-data sharing archive (:mod:`._spark_cds`) for this JDK, PySpark
    and jars lives (it may not exist yet); ``None`` when the setting is off or no ``java``."""
    s = settings or get_settings()
    if not s.spark.class_archive:
        return None
    java = _java()
    if java is None:
        return None
    try:
        import pyspark
    except ImportError:  # a light install without Spark: nothing to record or map
        return None

    digest = hashlib.sha256(str(java).encode())
    release = java.parent.parent / "release"
    if release.is_file():
        digest.update(release.read_bytes())
    jars = Path(pyspark.__file__).parent / "jars"
    digest.update(pyspark.__version__.encode())
    digest.update("\n".join(sorted(p.name for p in jars.glob("*.jar"))).encode())
    name = f"driver-{pyspark.__version__}-{digest.hexdigest()[:12]}.jsa"
    return s.home / "opt" / "spark-cds" / name


def spark_conf(settings: Settings | None = None) -> dict[str, str]:
    """The Spark configuration for the lakehouse catalog (without jars)."""
    s = settings or get_settings()
    cat = f"spark.sql.catalog.{s.lakehouse.catalog}"
    pg = s.postgres
    java_options = s.spark.driver_java_options or ""
    archive = class_archive(s)
    if archive is not None and archive.is_file():  # recorded by `stack setup` (_spark_cds)
        java_options = f"{java_options} -XX:SharedArchiveFile={archive}".strip()
    return {
        "spark.master": s.spark.master,
        "spark.driver.memory": s.spark.driver_memory,
        **({"spark.driver.extraJavaOptions": java_options} if java_options else {}),
        "spark.sql.shuffle.partitions": str(s.spark.shuffle_partitions),
        "spark.driver.host": s.spark.driver_host,
        "spark.driver.bindAddress": s.spark.driver_bind_address,
        # Spark shows its configuration in the UI, event logs and errors: mask every credential
        "spark.redaction.regex": REDACTION_REGEX,
        "spark.sql.redaction.options.regex": REDACTION_REGEX,
        "spark.ui.enabled": "false",
        # no console bars ("[Stage 12:==>  (2 + 2) / 4]"): they fill CI logs with \r lines;
        # a step's progress reaches the CLI through its job's reports (spark/_progress.py)
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        "spark.sql.defaultCatalog": s.lakehouse.catalog,
        cat: "org.apache.iceberg.spark.SparkCatalog",
        f"{cat}.type": "jdbc",
        f"{cat}.uri": f"jdbc:postgresql://{pg.host}:{pg.port}/{pg.database}",
        f"{cat}.jdbc.user": pg.user,
        f"{cat}.jdbc.password": pg.password.get_secret_value(),
        f"{cat}.jdbc.schema-version": "V1",
        f"{cat}.warehouse": f"s3://{s.s3.bucket}",
        f"{cat}.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        f"{cat}.s3.endpoint": s.s3.endpoint,
        f"{cat}.s3.path-style-access": "true",
        f"{cat}.s3.access-key-id": s.s3.access_key,
        f"{cat}.s3.secret-access-key": s.s3.secret_key.get_secret_value(),
        f"{cat}.client.region": s.s3.region,
        # S3A, for checkpoints on S3 (CRYPTOLAKE_SPARK__CHECKPOINT_ROOT=s3a://…)
        "spark.hadoop.fs.s3a.endpoint": s.s3.endpoint,
        "spark.hadoop.fs.s3a.endpoint.region": s.s3.region,
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.access.key": s.s3.access_key,
        "spark.hadoop.fs.s3a.secret.key": s.s3.secret_key.get_secret_value(),
        "spark.hadoop.fs.s3a.connection.ssl.enabled": str(
            s.s3.endpoint.startswith("https")
        ).lower(),
        **cluster_conf(s),
    }


def cluster_conf(settings: Settings) -> dict[str, str]:
    """What a job needs on a cluster master (``spark://…``, ``yarn``, ``k8s://…``): bounded
    executors and cores per application (two applications — the stream and a batch job — share
    the cluster), the driver's Python on the executors. Nothing in ``local`` mode."""
    import sys

    sp = settings.spark
    if sp.master.startswith("local"):
        return {}
    return {
        "spark.executor.memory": sp.executor_memory,
        "spark.executor.cores": "1",
        "spark.cores.max": str(sp.cores_max),
        "spark.pyspark.python": sys.executable,
        # a lost executor (its worker stopped) is replaced and its tasks rerun elsewhere
        "spark.task.maxFailures": "8",
        "spark.stage.maxConsecutiveAttempts": "8",
    }


def checkpoint_location(name: str, settings: Settings | None = None) -> str:
    """Where the stream ``name`` keeps its checkpoint: under ``spark.checkpoint_root`` (a
    directory or an ``s3a://`` URI), by default ``$CRYPTOLAKE_HOME/data/spark-checkpoints``."""
    s = settings or get_settings()
    root = s.spark.checkpoint_root or str(s.home / "data" / "spark-checkpoints")
    return f"{root.rstrip('/')}/{name}"


def spark_session(
    app_name: str, settings: Settings | None = None, extra_conf: Mapping[str, str] | None = None
) -> Any:
    """Build (or reuse) a SparkSession on the shared catalog, bounded driver memory: ``local[2]``
    in this process by default, or a client of the cluster ``spark.master`` names."""
    import os

    from pyspark.sql import SparkSession

    s = settings or get_settings()
    os.environ.setdefault("SPARK_LOCAL_IP", s.spark.driver_bind_address)
    conf = spark_conf(s)
    conf["spark.jars"] = ",".join(str(p) for p in spark_jars(s))
    conf.update(extra_conf or {})
    builder = SparkSession.builder.appName(app_name)
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
