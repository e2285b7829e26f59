"""The dbt profile, generated from the CryptoLake settings into ``$CRYPTOLAKE_HOME/dbt``.

No secret lives in the repository; the Trino server takes no password on loopback. dbt's
``target/`` and ``logs/`` go under ``$CRYPTOLAKE_HOME/dbt`` too, so the working tree stays clean.
"""

from __future__ import annotations

from pathlib import Path

from cryptolake.core import Settings


def dbt_home(settings: Settings) -> Path:
    return Path(settings.home) / "dbt"


def write_profile(settings: Settings, schema: str, *, threads: int = 2) -> Path:
    """Write the dbt profile for ``schema`` and return its directory."""
    import yaml  # type: ignore[import-untyped]

    profile = {
        "cryptolake": {
            "target": "lakehouse",
            "outputs": {
                "lakehouse": {
                    "type": "trino",
                    "method": "none",
                    "user": settings.trino.user,
                    "host": settings.trino.host,
                    "port": settings.trino.port,
                    "http_scheme": "http",
                    "database": settings.lakehouse.catalog,
                    "schema": schema,
                    "threads": threads,
                }
            },
        }
    }
    directory = dbt_home(settings) / "profiles" / schema
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "profiles.yml"
    text = yaml.safe_dump(profile, sort_keys=False)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
    return directory
