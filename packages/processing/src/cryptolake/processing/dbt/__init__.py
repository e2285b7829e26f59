"""Gold with the dbt-trino project in ``transform/``: run, audit, publish.

- :mod:`~.project` — where the project is, which models it declares;
- :mod:`~.profile` — the profile generated from the settings into ``$CRYPTOLAKE_HOME/dbt``;
- :mod:`~.runner` — :func:`run_dbt`, dbt's programmatic ``dbtRunner`` in-process, offline;
- :mod:`~.config` — :class:`DbtBuildConfig`, the audit/published schema names, the marts;
- :mod:`~.job` — :class:`DbtGoldJob`, the ``dbt.gold`` transform (incremental by Silver change);
- :mod:`~.publish` — audited marts copied, one atomic publication record, rollback on failure;
- :mod:`~.cli` / :mod:`~.plugin` — ``cryptolake transform dbt …`` and the plugin registration.

The CLI calls :func:`dbt_command` (``cryptolake transform dbt [build|test|docs] [--select …]``).
"""

from cryptolake.processing.dbt.config import (
    AUDIT_SCHEMA,
    MART_PARTITIONING,
    MARTS,
    PROJECT_DIR_ENV,
    PUBLISHED_SCHEMA,
    SILVER_INPUTS,
    DbtBuildConfig,
)
from cryptolake.processing.dbt.job import DbtGoldJob, dbt_check_results, dbt_command
from cryptolake.processing.dbt.profile import dbt_home, write_profile
from cryptolake.processing.dbt.project import find_project_dir, model_names
from cryptolake.processing.dbt.publish import publish_gold, publish_marts, rollback, table_snapshots
from cryptolake.processing.dbt.runner import (
    COMMANDS,
    DbtNodeResult,
    DbtRun,
    build_args,
    run_dbt,
)

__all__ = [
    "AUDIT_SCHEMA",
    "COMMANDS",
    "MARTS",
    "MART_PARTITIONING",
    "PROJECT_DIR_ENV",
    "PUBLISHED_SCHEMA",
    "SILVER_INPUTS",
    "DbtBuildConfig",
    "DbtGoldJob",
    "DbtNodeResult",
    "DbtRun",
    "build_args",
    "dbt_check_results",
    "dbt_command",
    "dbt_home",
    "find_project_dir",
    "model_names",
    "publish_gold",
    "publish_marts",
    "rollback",
    "run_dbt",
    "table_snapshots",
    "write_profile",
]
