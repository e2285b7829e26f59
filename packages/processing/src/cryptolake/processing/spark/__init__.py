"""Spark jobs: Kafka → Bronze stream, Bronze → Silver MERGE jobs, VWAP and anomalies.

Each job is a transform entry (see :mod:`cryptolake.processing.spark.plugin`); the stream also
runs as a supervised process (:mod:`cryptolake.processing.spark.supervisor`). Importing this
package does not import pyspark.
"""

from __future__ import annotations

from cryptolake.processing.spark.supervisor import (
    StreamStatus,
    kill_stream,
    start_stream,
    stop_stream,
    stream_status,
)

__all__ = ["StreamStatus", "kill_stream", "start_stream", "stop_stream", "stream_status"]
