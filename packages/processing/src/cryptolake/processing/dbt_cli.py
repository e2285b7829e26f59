"""Moved to :mod:`cryptolake.processing.dbt.cli`; kept so existing imports keep working."""

from cryptolake.processing.dbt.cli import dbt_command_cli, register

__all__ = ["dbt_command_cli", "register"]
