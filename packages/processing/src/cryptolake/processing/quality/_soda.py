"""Run SodaCL against the lakehouse over Trino with Soda Core v3, offline.

Soda's usage statistics are switched off before Soda is imported (its global config lives under
``$CRYPTOLAKE_HOME/soda/config.yml`` with ``send_anonymous_usage_stats: false``) and telemetry is
disabled on every scan.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptolake.core import Settings

log = logging.getLogger(__name__)

DATA_SOURCE = "lakehouse"
_configured = False
_configure_lock = threading.Lock()  # suites of a gate may scan from several threads


@dataclass(frozen=True)
class SodaOutcome:
    """One Soda check result, by the check's ``name``."""

    name: str
    table: str
    outcome: str  # pass | warn | fail | error
    value: float | None
    message: str


def _silence_telemetry(home: Path) -> None:
    global _configured
    with _configure_lock:
        if _configured:
            return
        config = home / "soda" / "config.yml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("send_anonymous_usage_stats: false\n")
        from soda.common.config_helper import ConfigHelper

        if getattr(ConfigHelper, "_ConfigHelper__instance", None) is None:
            ConfigHelper.get_instance(str(config))
        else:  # already created by someone else: switch it off in place
            ConfigHelper.get_instance().config["send_anonymous_usage_stats"] = False
        _configured = True


def data_source_yaml(settings: Settings, schema: str) -> str:
    import yaml  # type: ignore[import-untyped]

    return yaml.safe_dump(
        {
            f"data_source {DATA_SOURCE}": {
                "type": "trino",
                "host": settings.trino.host,
                "port": settings.trino.port,
                "http_scheme": "http",
                "catalog": settings.lakehouse.catalog,
                "schema": schema,
                "username": settings.trino.user,
                "auth_type": "NoAuthentication",
            }
        },
        sort_keys=False,
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        f = float(value)
        return f if math.isfinite(f) else None
    return None


def run_sodacl(
    settings: Settings,
    schema: str,
    sodacl: str,
    *,
    expected: Sequence[str] = (),
    scan_name: str = "cryptolake",
) -> list[SodaOutcome]:
    """Run the SodaCL document on ``schema``; every name in ``expected`` gets a result.

    A check Soda could not evaluate (a failing query, a missing table) comes back as ``error``
    with Soda's error log as the message.
    """
    _silence_telemetry(Path(settings.home))
    from soda.scan import Scan

    scan = Scan()
    scan.disable_telemetry()
    scan.set_data_source_name(DATA_SOURCE)
    scan.set_scan_definition_name(scan_name)
    scan.add_configuration_yaml_str(data_source_yaml(settings, schema))
    scan.add_sodacl_yaml_str(sodacl)
    scan.execute()
    errors = scan.get_error_logs_text() or ""
    outcomes: dict[str, SodaOutcome] = {}
    for check in getattr(scan, "_checks", []):
        name = str(getattr(check, "name", "") or check.check_cfg.source_line)
        table = ""
        partition = getattr(check, "partition", None)
        if partition is not None and getattr(partition, "table", None) is not None:
            table = str(partition.table.table_name)
        value = _number(getattr(check, "check_value", None))
        if check.outcome is None:
            outcome, message = "error", errors.strip()[:2000] or "Soda could not evaluate the check"
        else:
            outcome = check.outcome.value
            message = f"{check.check_cfg.source_line}: value {getattr(check, 'check_value', None)}"
        outcomes[name] = SodaOutcome(name, table, outcome, value, message)
    for name in expected:
        if name not in outcomes:
            outcomes[name] = SodaOutcome(
                name, "", "error", None, errors.strip()[:2000] or "Soda produced no result"
            )
    if errors:
        log.warning("soda scan %s on %s logged errors: %s", scan_name, schema, errors[:2000])
    return list(outcomes.values())
