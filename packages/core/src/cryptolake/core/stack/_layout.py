"""Where the stack keeps its files under ``$CRYPTOLAKE_HOME``.

::

    $CRYPTOLAKE_HOME/
        downloads/           artifacts fetched from Maven Central (checksums verified) + .sha1
        opt/<service>/       unpacked software (trino-server-476, kafka-4.4.0, spark-jars)
        etc/<service>/       rendered configuration, rewritten on every ``up``
        data/<service>/      durable data (PostgreSQL cluster, Redis AOF, S3 objects, Kafka log)
        logs/<service>.log   stdout and stderr of the supervised process
        run/<service>.json   pid file: pid, process start time, command line
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    home: Path

    @property
    def downloads(self) -> Path:
        return self.home / "downloads"

    @property
    def opt(self) -> Path:
        return self.home / "opt"

    def etc(self, service: str) -> Path:
        return self.home / "etc" / service

    def data(self, service: str) -> Path:
        return self.home / "data" / service

    def log(self, service: str) -> Path:
        return self.home / "logs" / f"{service}.log"

    def pidfile(self, service: str) -> Path:
        return self.home / "run" / f"{service}.json"

    @property
    def spark_jars(self) -> Path:
        return self.opt / "spark-jars"

    def ensure(self) -> None:
        for d in (
            self.downloads,
            self.opt,
            self.home / "etc",
            self.home / "data",
            self.home / "logs",
            self.home / "run",
        ):
            d.mkdir(parents=True, exist_ok=True)
