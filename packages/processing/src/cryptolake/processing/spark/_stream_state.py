"""What the Bronze stream and its supervisor share: the stream's config and its status file.

A leaf module: :mod:`~cryptolake.processing.spark.stream` (the query) and
:mod:`~cryptolake.processing.spark.supervisor` (the process) both import it, neither imports the
other's module at import time.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cryptolake.core.errors import ConfigError
from cryptolake.core.settings import Settings
from cryptolake.processing.spark import _routes


class StreamConfig(BaseSettings):
    """The Bronze stream. Environment: ``CRYPTOLAKE_STREAM__<FIELD>`` (e.g. ``…__TRIGGER_SECONDS``)."""

    model_config = SettingsConfigDict(env_prefix="CRYPTOLAKE_STREAM__", extra="ignore")

    name: str = Field("bronze", pattern=r"^[a-z0-9_-]+$",
                      description="names the checkpoint, pid file, status file and log")
    trigger_seconds: float = Field(30.0, gt=0, description="micro-batch interval")
    bronze_namespace: str = "bronze"
    topics: list[str] = Field(
        default_factory=lambda: [r.topic for r in _routes.DEFAULT_ROUTES],
        description="topics to ingest (without the configured prefix); each needs a route",
    )
    max_offsets_per_trigger: int | None = Field(
        200_000, ge=1, description="bound on records per micro-batch (memory on 2 cores)"
    )
    starting_offsets: str = Field("earliest", description="where a fresh checkpoint starts")
    checkpoint_dir: Path | None = Field(
        None, description="default $CRYPTOLAKE_HOME/data/spark-checkpoints/<name>"
    )
    max_restarts: int = Field(5, ge=0, description="query restarts after a failure, per hour")
    restart_backoff_s: float = Field(5.0, ge=0)
    vwap: bool = Field(False, description="also keep silver.vwap fresh from Kafka (watermarked)")
    silver_namespace: str = "silver"
    vwap_window_minutes: int = Field(5, ge=1)
    vwap_slide_minutes: int = Field(1, ge=1)
    vwap_watermark_minutes: int = Field(10, ge=0)
    metrics_port: int = Field(
        19103, ge=0, le=65535, description="port of the stream's Prometheus /metrics (0: none)"
    )
    metrics_host: str = Field("127.0.0.1", description="interface of the stream's /metrics")
    compact_interval_s: float = Field(
        120.0, ge=0, description="compact the Bronze tables this often while streaming, next to "
        "the query in the same Spark session (0: leave it to `cryptolake maintenance run`)"
    )
    compact_min_files: int = Field(
        6, ge=2, description="files in a partition before the stream compacts it"
    )
    compact_target_file_mb: int = Field(128, ge=1)
    compact_max_manifests: int = Field(
        20, ge=1, description="rewrite the manifests when a table has more than this many"
    )
    expire_after_hours: float | None = Field(
        None, ge=0, description="when set, the stream also expires its tables' snapshots older "
        "than this (keeping `expire_retain_last`); else the daily maintenance does"
    )
    expire_retain_last: int = Field(50, ge=5)
    pause_after_commit_s: float = Field(
        0.0, ge=0, description="fault-injection aid for crash tests: sleep after the Iceberg "
        "commits, before Spark records the batch as done"
    )

    def checkpoint(self, settings: Settings) -> Path:
        """``checkpoint_dir``, else ``<CRYPTOLAKE_SPARK__CHECKPOINT_ROOT>/<name>`` (default
        ``$CRYPTOLAKE_HOME/data/spark-checkpoints/<name>``)."""
        if self.checkpoint_dir is not None:
            return self.checkpoint_dir
        from cryptolake.core.clients.spark import checkpoint_location

        location = checkpoint_location(self.name, settings)
        if "://" in location and not location.startswith("file://"):
            raise ConfigError(
                f"stream {self.name!r}: CRYPTOLAKE_SPARK__CHECKPOINT_ROOT={location.rsplit('/', 1)[0]}"
                " is an object store; the stream's catch-up and id marker read the checkpoint "
                "as files, so use a shared volume path (see docs/deploy.md)"
            )
        return Path(location.removeprefix("file://"))

    def routes(self) -> list[_routes.Route]:
        known = {r.topic: r for r in _routes.DEFAULT_ROUTES}
        missing = [t for t in self.topics if t not in known]
        if missing:
            raise ConfigError(
                f"stream {self.name!r}: no Bronze route for topic(s) {missing}; "
                f"known: {sorted(known)}"
            )
        return [known[t] for t in self.topics]


# -- the status file shared with the supervisor ----------------------------------------------


def status_path(settings: Settings, name: str) -> Path:
    return settings.home / "run" / f"stream-{name}.status.json"


def write_status(settings: Settings, name: str, **values: Any) -> dict[str, Any]:
    path = status_path(settings, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        current = json.loads(path.read_text())
    except (OSError, ValueError):
        current = {}
    current.update(values, updated_at=datetime.now(UTC).isoformat())
    tmp = path.with_suffix(f".{uuid.uuid4().hex[:6]}.tmp")
    tmp.write_text(json.dumps(current, default=str, indent=1))
    tmp.replace(path)
    return current


def read_status(settings: Settings, name: str) -> dict[str, Any]:
    try:
        return dict(json.loads(status_path(settings, name).read_text()))
    except (OSError, ValueError):
        return {}
