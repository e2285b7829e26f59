"""The dbt plugin's entry point (``cryptolake = dbt``); it lives in :mod:`cryptolake.processing.dbt.plugin`."""

from cryptolake.processing.dbt.plugin import (
    CRYPTOLAKE_PLUGIN,
    cryptolake_register_commands,
    cryptolake_register_transforms,
)

__all__ = ["CRYPTOLAKE_PLUGIN", "cryptolake_register_commands", "cryptolake_register_transforms"]
