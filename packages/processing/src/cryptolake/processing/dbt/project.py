"""Where the dbt project lives (``transform/``), and which models it declares."""

from __future__ import annotations

from pathlib import Path

from cryptolake.core import ConfigError, get_settings
from cryptolake.processing.dbt.config import PROJECT_DIR_ENV


def find_project_dir() -> Path:
    """The dbt project: ``$CRYPTOLAKE_DBT__PROJECT_DIR``, else ``transform/`` above this file or cwd."""
    configured = get_settings().dbt.project_dir
    if configured is not None:
        path = configured.expanduser()
        if not (path / "dbt_project.yml").is_file():
            raise ConfigError(f"{PROJECT_DIR_ENV}={configured} holds no dbt_project.yml")
        return path
    for base in (Path(__file__).resolve(), Path.cwd().resolve()):
        for parent in (base, *base.parents):
            candidate = parent / "transform" / "dbt_project.yml"
            if candidate.is_file():
                return candidate.parent
    raise ConfigError(
        "cannot find the dbt project (transform/dbt_project.yml); run from the repository or set "
        f"{PROJECT_DIR_ENV}"
    )


def model_names(project_dir: Path) -> list[str]:
    """Every model of the project, by name (its ``.sql`` files under ``models/``)."""
    return sorted(p.stem for p in (project_dir / "models").rglob("*.sql"))
