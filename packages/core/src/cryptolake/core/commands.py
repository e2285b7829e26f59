"""The registry through which plugins add ``cryptolake`` sub-commands. A leaf module.

A plugin's ``cryptolake_register_commands(commands)`` hook receives a :class:`CommandRegistry`::

    @hookimpl
    def cryptolake_register_commands(commands: CommandRegistry) -> None:
        commands.group("quality", "Quality gates.").command("run")(run_gate)

.. versionadded:: 0.1
"""

from __future__ import annotations

import typer


class CommandRegistry:
    """Groups of the root app by name; plugins add commands to existing groups or new ones."""

    def __init__(self, root: typer.Typer) -> None:
        self.root = root
        self._groups: dict[str, typer.Typer] = {}
        self._new: list[str] = []

    def add_core_group(self, name: str, group: typer.Typer) -> None:
        self._groups[name] = group
        self.root.add_typer(group, name=name)

    def group(self, name: str, help: str = "") -> typer.Typer:
        """The typer app of group ``name`` (``ingest``, ``transform``…), created if new."""
        if name not in self._groups:
            self._groups[name] = typer.Typer(help=help or None, no_args_is_help=True)
            self._new.append(name)
        return self._groups[name]

    def names(self) -> list[str]:
        return sorted(self._groups)

    def mount_new_groups(self) -> None:
        """Attach the groups plugins created to the root app (the host calls it)."""
        for name in self._new:
            self.root.add_typer(self._groups[name], name=name)
        self._new.clear()
