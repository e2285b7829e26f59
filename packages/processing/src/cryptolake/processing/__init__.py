"""cryptolake-processing: Spark jobs, the dbt runner, Soda quality suites, Iceberg maintenance."""

from __future__ import annotations

__version__ = "0.1.0"
