"""Hook specs of the command line: plugins add their own ``cryptolake`` sub-commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptolake.core.markers import hookspec

if TYPE_CHECKING:
    from cryptolake.core.commands import CommandRegistry


class CliSpecs:
    @hookspec
    def cryptolake_register_commands(self, commands: CommandRegistry) -> None:
        """Add sub-commands with ``commands.group("quality").command("run")(function)``.

        ``commands.group(name, help)`` returns the typer app of an existing group (``ingest``,
        ``transform``, ``pipeline``…) or creates a new one. Called once per ``cryptolake``
        invocation, for every plugin; all results are ignored. Keep the plugin module light: import
        heavy libraries inside the command functions.

        .. versionadded:: 0.1
        """
