"""``cryptolake plugins remove NAME``: what uninstalling a plugin leaves behind, dropped.

A plugin's data is the tables it declared (``cryptolake_register_tables``: ``host.tables``
knows the owner of each) and the quality-gate history of its suites (rows of ``ops.dq_results``
whose ``suite`` is one of its quality entries). The core's own tables are never dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptolake.core.errors import PluginError
from cryptolake.core.manager import PluginHost
from cryptolake.core.tables import CORE_OWNER


@dataclass
class RemovalPlan:
    plugin: str
    distribution: str | None
    tables: list[str] = field(default_factory=list)
    suites: list[str] = field(default_factory=list)


def plan_removal(host: PluginHost, name: str) -> RemovalPlan:
    """What removing plugin ``name`` drops (it must still be installed: the host reads its
    declarations)."""
    if name == CORE_OWNER or name not in host.plugins:
        known = ", ".join(sorted(host.plugins)) or "none"
        raise PluginError(name, f"no installed plugin named {name!r} (installed: {known}); "
                                f"its declarations are needed to know its tables")
    host.load_registries()
    return RemovalPlan(
        plugin=name,
        distribution=host.plugins[name].distribution,
        tables=[c.identifier for c in host.tables.of_plugin(name)],
        suites=sorted(e.name for e in host.quality if e.plugin == name),
    )


def execute_removal(
    plan: RemovalPlan, catalog: Any, namespace: Callable[[str], str] = lambda layer: layer
) -> dict[str, Any]:
    """Drop the plan's tables (their files too) and delete its suites' gate history."""
    from pyiceberg.exceptions import NoSuchTableError
    from pyiceberg.expressions import In

    dropped, missing = [], []
    for ident in plan.tables:
        layer, _, name = ident.partition(".")
        try:
            catalog.purge_table(f"{namespace(layer)}.{name}")
            dropped.append(ident)
        except NoSuchTableError:
            missing.append(ident)
    history = 0
    if plan.suites:
        try:
            results = catalog.load_table(f"{namespace('ops')}.dq_results")
        except NoSuchTableError:
            results = None
        if results is not None:
            mine = In(term="suite", literals=tuple(plan.suites))
            history = results.scan(row_filter=mine).to_arrow().num_rows
            if history:
                results.delete(mine)
    return {"dropped": dropped, "missing": missing, "gate_rows_deleted": history}
