"""The registry through which plugins add ``cryptolake`` sub-commands."""

from __future__ import annotations

import logging

import typer

from cryptolake.core.manager import PluginHost

log = logging.getLogger(__name__)


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
        if name not in self._groups:
            self._groups[name] = typer.Typer(help=help or None, no_args_is_help=True)
            self._new.append(name)
        return self._groups[name]

    def mount_new_groups(self) -> None:
        for name in self._new:
            self.root.add_typer(self._groups[name], name=name)
        self._new.clear()

    def load_plugins(self, host: PluginHost) -> None:
        """Let every plugin add its commands; a plugin that fails is logged and skipped."""
        host.notify("cryptolake_register_commands", commands=self)
        self.mount_new_groups()
