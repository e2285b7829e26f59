"""Registers: source ``probe.numbers`` → transform ``probe.double`` (silver) → ``gate.silver`` →
transform ``probe.total`` (gold). Tables live in the namespace ``$PROBE_NAMESPACE``.

Environment knobs (read when a step runs, so a test can steer workers):
``PROBE_ROWS`` rows to ingest (default 5), ``PROBE_SLEEP_S`` seconds ``probe.double`` sleeps
before writing, ``PROBE_MARKER`` a file ``probe.double`` appends to when it starts,
``PROBE_GATE_FAIL=1`` makes the gate fail.
"""

from __future__ import annotations

from typing import Any

from cryptolake.core import PluginManifest, SourcePlugin, TransformPlugin, hookimpl

CRYPTOLAKE_PLUGIN = PluginManifest(name="probe", version="0.1.0", core_api=">=0.1,<1")
IMPL = "cryptolake_pipeline_probe.steps"


@hookimpl
def cryptolake_register_sources(registry: Any) -> None:
    registry.add(SourcePlugin(name="probe.numbers", implementation=f"{IMPL}:Numbers",
                              capabilities=frozenset({"replay", "batch"})))


@hookimpl
def cryptolake_register_transforms(registry: Any) -> None:
    registry.add(TransformPlugin(name="probe.double", implementation=f"{IMPL}:Double",
                                 layer="silver", inputs=("bronze.probe",), outputs=("silver.probe",)))
    registry.add(TransformPlugin(name="gate.silver", implementation=f"{IMPL}:Gate",
                                 layer="silver", inputs=("silver.probe",),
                                 outputs=("ops.dq_results",)))
    registry.add(TransformPlugin(name="probe.total", implementation=f"{IMPL}:Total",
                                 layer="gold", inputs=("silver.probe",), outputs=("gold.probe",)))
