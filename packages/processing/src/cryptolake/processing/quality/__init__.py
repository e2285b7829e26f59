"""Soda quality suites and write-audit-publish gates for every layer.

CLI entry points (``cryptolake quality run [--layer …]`` / ``cryptolake quality report``):
:func:`quality_run` and :func:`quality_report`.
"""

from __future__ import annotations

from cryptolake.processing.quality.api import quality_report, quality_run
from cryptolake.processing.quality.gate import GateReport, audit, write_audit_publish

__all__ = ["GateReport", "audit", "quality_report", "quality_run", "write_audit_publish"]
