"""The Spark driver's class-data sharing (CDS) archive: its classes loaded and parsed once, mapped
by every later driver JVM.

A cold driver spends most of its first seconds loading and linking ~20,000 classes (Spark SQL,
Iceberg, Parquet, Kafka). ``stack setup`` records them once into a dynamic CDS archive
(``-XX:ArchiveClassesAtExit``) under ``$CRYPTOLAKE_HOME/opt/spark-cds`` — one file per JDK,
PySpark version and Spark jars, so a changed JDK or Spark records a new one — and
:func:`cryptolake.core.clients.spark.spark_conf` hands it to every driver
(``-XX:SharedArchiveFile``). Without it (``CRYPTOLAKE_SPARK__CLASS_ARCHIVE=false``, or not recorded
yet) the driver starts as before.

A truncated archive crashes the JVM that maps it (SIGBUS in ``FileMapInfo``), so a recording is
written to a temporary file, checked by a second driver that must map it (``-Xshare:on``) and run a
job, and only then renamed into place.

The recording workload needs no service: a file-system Iceberg catalog in a temporary directory
(create, insert, MERGE, read back), JSON parsing, a window and a Parquet round trip.

    python -m cryptolake.core.clients._spark_cds record|verify ARCHIVE
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable

from cryptolake.core.clients.spark import class_archive
from cryptolake.core.settings import Settings, get_settings


def record(settings: Settings | None = None,
           report: Callable[[str], None] | None = None) -> bool:
    """Record, check and install the archive if it is missing; True when one was recorded.

    ``report(message)`` hears of progress. A recording that fails or does not check out is
    removed and reported; the drivers then run without an archive."""
    s = settings or get_settings()
    archive = class_archive(s)
    if archive is None or archive.exists():
        return False
    say = report or (lambda _m: None)
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_name(f"{archive.name}.{os.getpid()}.tmp")
    log = s.home / "logs" / "spark-cds.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CRYPTOLAKE_HOME": str(s.home)}
    try:
        with log.open("w") as out:
            for action in ("record", "verify"):
                say(f"Spark driver class archive: {action} ({archive.name})")
                done = subprocess.run(
                    [sys.executable, "-m", __name__, action, str(tmp)],
                    stdout=out, stderr=subprocess.STDOUT, env=env, timeout=600, check=False,
                )
                if done.returncode != 0 or not tmp.is_file():
                    say(f"Spark driver class archive: {action} failed (exit "
                        f"{done.returncode}); drivers start without one — see {log}")
                    return False
        tmp.replace(archive)
        return True
    except subprocess.TimeoutExpired:
        say(f"Spark driver class archive: timed out; drivers start without one — see {log}")
        return False
    finally:
        tmp.unlink(missing_ok=True)


def _workload(java_options: str) -> None:
    """Build a driver with ``java_options`` and run the kinds of work the jobs do."""
    from cryptolake.core.clients.spark import spark_session

    s = get_settings()
    with tempfile.TemporaryDirectory(prefix="cryptolake-cds-") as tmp:
        base = s.spark.driver_java_options or ""
        session = spark_session(
            "cryptolake-class-archive",
            s.model_copy(update={"spark": s.spark.model_copy(update={"class_archive": False})}),
            extra_conf={
                "spark.driver.extraJavaOptions": f"{base} {java_options}".strip(),
                "spark.sql.catalog.cds": "org.apache.iceberg.spark.SparkCatalog",
                "spark.sql.catalog.cds.type": "hadoop",
                "spark.sql.catalog.cds.warehouse": f"file://{tmp}/warehouse",
            },
        )
        proc = session.sparkContext._gateway.proc  # the driver JVM (spark-submit execs java)
        session.sql("CREATE NAMESPACE IF NOT EXISTS cds.probe")
        session.sql(
            "CREATE TABLE cds.probe.t (symbol string, ts timestamp, price decimal(18,8), "
            "n bigint) USING iceberg PARTITIONED BY (months(ts))"
        )
        rows = session.sql(
            "SELECT concat('S', id % 3) AS symbol, timestamp_seconds(id * 3600) AS ts, "
            "CAST(id AS decimal(18,8)) AS price, id AS n FROM range(2000)"
        )
        rows.writeTo("cds.probe.t").append()
        rows.where("n % 2 = 0").createOrReplaceTempView("src")
        session.sql(
            "MERGE INTO cds.probe.t t USING src s ON t.symbol = s.symbol AND t.ts = s.ts "
            "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
        )
        session.sql(
            "SELECT symbol, max(price), count(*) FROM (SELECT *, row_number() OVER "
            "(PARTITION BY symbol ORDER BY ts DESC) AS rn FROM cds.probe.t) WHERE rn <= 10 "
            "GROUP BY symbol"
        ).collect()
        session.sql("SELECT from_json('{\"a\": 1}', 'a int').a").collect()
        rows.write.mode("overwrite").parquet(f"{tmp}/p")
        assert session.read.parquet(f"{tmp}/p").count() == 2000
        session.stop()
        # the archive is written when the JVM exits: end it (EOF on its stdin) and wait
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(timeout=300)


def main(argv: list[str]) -> int:
    action, archive = argv
    if action == "record":
        _workload(f"-XX:ArchiveClassesAtExit={archive}")
    elif action == "verify":
        _workload(f"-Xshare:on -XX:SharedArchiveFile={archive}")
    else:
        raise SystemExit(f"usage: python -m {__name__} record|verify ARCHIVE")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
