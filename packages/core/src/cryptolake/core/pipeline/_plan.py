from __future__ import annotations

from collections.abc import Iterable

from cryptolake.core.errors import ConfigError
from cryptolake.core.manager import PluginHost
from cryptolake.core.pipeline._model import Step
from cryptolake.core.registry import TransformPlugin

HEAVY_ENGINES = frozenset({"spark", "dbt"})


def order_transforms(transforms: Iterable[TransformPlugin]) -> list[TransformPlugin]:
    """Dependency order: a transform comes after every transform producing one of its inputs.

    Ties keep name order, so the plan is deterministic. A cycle is a configuration error.
    """
    pending = sorted(transforms, key=lambda t: t.name)
    producers: dict[str, set[str]] = {}
    for t in pending:
        for out in t.outputs:
            producers.setdefault(out, set()).add(t.name)
    names = {t.name for t in pending}
    deps = {
        t.name: {p for i in t.inputs for p in producers.get(i, set()) if p != t.name} & names
        for t in pending
    }
    ordered: list[TransformPlugin] = []
    done: set[str] = set()
    while pending:
        ready = [t for t in pending if deps[t.name] <= done]
        if not ready:
            raise ConfigError(
                "transforms depend on each other in a cycle: "
                + ", ".join(f"{t.name} <- {sorted(deps[t.name])}" for t in pending)
            )
        for t in ready:
            ordered.append(t)
            done.add(t.name)
        pending = [t for t in pending if t.name not in done]
    return ordered


def _layer_steps(host: PluginHost, layer: str) -> list[Step]:
    """The layer's transforms in dependency order, then its gate. In the Bronze layer the
    streaming transforms (Kafka → Bronze) take part as a catch-up step: every record the sources
    produced to Kafka is in Bronze before Silver reads it."""
    transforms = [
        t
        for t in host.transforms
        if t.layer == layer
        and (layer == "bronze" or "streaming" not in t.capabilities)
        and not t.name.startswith("gate.")
    ]
    steps = [
        Step("transform", t.name, heavy=t.engine in HEAVY_ENGINES) for t in order_transforms(transforms)
    ]
    gate = f"gate.{layer}"
    if gate in host.transforms:
        steps.append(Step("gate", gate))
    return steps


def daily_pipeline(host: PluginHost, *, source: str = "replay") -> list[Step]:
    """The daily chain: sources → Bronze → Silver → Silver gate → Gold → Gold gate."""
    if source == "replay":
        sources = [Step("ingest", s.name) for s in host.sources if "replay" in s.capabilities]
    elif source == "live":
        sources = [
            Step("ingest", s.name)
            for s in host.sources
            if "batch" in s.capabilities and "replay" not in s.capabilities
        ]
    else:
        raise ConfigError(f"unknown pipeline source {source!r}; use replay or live")
    if not sources:
        raise ConfigError(f"no source for --source {source} is registered (cryptolake ingest list)")
    return [
        *sources,
        *_layer_steps(host, "bronze"),
        *_layer_steps(host, "silver"),
        *_layer_steps(host, "gold"),
    ]


def maintenance_pipeline(host: PluginHost) -> list[Step]:
    """Iceberg maintenance: every transform of the ``maintenance`` layer."""
    return [
        Step("transform", t.name, heavy=True) for t in host.transforms if t.layer == "maintenance"
    ]
