from __future__ import annotations

import json
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from cryptolake.core import CommandRegistry, PluginManifest, hookimpl
from cryptolake.core.cli import build_app

runner = CliRunner()
app = build_app()


def test_version() -> None:
    out = runner.invoke(app, ["--version"])
    assert out.exit_code == 0 and out.stdout.startswith("cryptolake 0.1.0 (core API 0.1)")


def test_config_show_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTOLAKE_S3__SECRET_KEY", "very-secret-value")
    from cryptolake.core.settings import get_settings

    get_settings.cache_clear()
    out = runner.invoke(app, ["config", "show", "--json"])
    get_settings.cache_clear()
    assert out.exit_code == 0
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows["CRYPTOLAKE_S3__SECRET_KEY"]["value"] == "********"
    assert rows["CRYPTOLAKE_S3__SECRET_KEY"]["source"] == "environment"
    assert "very-secret-value" not in out.stdout
    assert rows["CRYPTOLAKE_TRINO__PORT"]["source"] == "default"


def test_bad_settings_fail_with_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptolake.core.settings import get_settings

    monkeypatch.setenv("CRYPTOLAKE_MODE", "production")
    get_settings.cache_clear()
    out = runner.invoke(app, ["config", "show"])
    get_settings.cache_clear()
    assert out.exit_code == 2
    assert "placeholder secret" in out.output


def test_plugins_add_commands_to_existing_and_new_groups(make_plugin_host: Any) -> None:
    class Commands:
        CRYPTOLAKE_PLUGIN = PluginManifest(name="cmds", version="1")

        @hookimpl
        def cryptolake_register_commands(self, commands: CommandRegistry) -> None:
            @commands.group("ingest").command("hello")
            def hello(name: str = "world") -> None:
                typer.echo(f"hello {name}")

            @commands.group("widgets", help="Widget tools.").command("count")
            def count() -> None:
                typer.echo("3 widgets")

    root = typer.Typer()
    registry = CommandRegistry(root)
    ingest = typer.Typer()

    @ingest.command("list")
    def _list() -> None:
        typer.echo("sources")

    registry.add_core_group("ingest", ingest)
    make_plugin_host([Commands()]).register_commands(registry)
    assert runner.invoke(root, ["ingest", "hello", "--name", "lake"]).stdout == "hello lake\n"
    assert runner.invoke(root, ["ingest", "list"]).stdout == "sources\n"
    assert runner.invoke(root, ["widgets", "count"]).stdout == "3 widgets\n"


def test_the_app_is_built_from_the_host_and_plugin_commands_do_not_leak(
    make_plugin_host: Any,
) -> None:
    class Hello:
        CRYPTOLAKE_PLUGIN = PluginManifest(name="hello", version="1")

        @hookimpl
        def cryptolake_register_commands(self, commands: CommandRegistry) -> None:
            commands.group("ingest").command("hello")(lambda: typer.echo("hi"))

    with_plugin = build_app(make_plugin_host([Hello()]))
    assert runner.invoke(with_plugin, ["ingest", "hello"]).stdout == "hi\n"
    # the core's ingest group is copied per app: another app never sees that plugin's command
    without = build_app(make_plugin_host([]))
    assert runner.invoke(without, ["ingest", "hello"]).exit_code != 0
    assert runner.invoke(without, ["ingest", "--help"]).exit_code == 0


def test_a_plugin_whose_command_hook_raises_is_skipped(
    make_plugin_host: Any, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        CRYPTOLAKE_PLUGIN = PluginManifest(name="broken", version="1")

        @hookimpl
        def cryptolake_register_commands(self, commands: CommandRegistry) -> None:
            raise ImportError("no module named heavy_thing")

    built = build_app(make_plugin_host([Broken()]))
    assert runner.invoke(built, ["--version"]).exit_code == 0
    assert "plugin broken failed in cryptolake_register_commands" in caplog.text


def test_bad_set_option_is_refused() -> None:
    from cryptolake.core.cli._run import parse_sets

    assert parse_sets(["speed=3600", "symbols=[\"BTCUSDT\"]", "name=x"]) == {
        "speed": 3600, "symbols": ["BTCUSDT"], "name": "x"
    }
    with pytest.raises(typer.BadParameter, match="key=value"):
        parse_sets(["speed"])
