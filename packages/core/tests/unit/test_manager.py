from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from _plugins import make_plugin

from cryptolake.core import PluginError, PluginManifest, SourcePlugin, hookimpl


def test_registers_one_entry_per_family_and_attributes_it(make_plugin_host: Any) -> None:
    host = make_plugin_host([make_plugin("demo")])
    assert host.sources.names() == ["demo.ticks"]
    assert host.transforms.names() == ["demo.rollup"]
    assert host.quality.names() == ["demo.checks"]
    assert host.models.names() == ["demo.mean"]
    assert host.sources.get("demo.ticks").plugin == "demo"
    assert host.sources.topics() == ["demo.ticks"]
    (record,) = host.listing()
    assert record.status == "enabled"
    assert sorted(record.families) == ["model", "quality", "source", "transform"]
    assert "demo.rollup" in record.entries


def test_unknown_hook_is_refused_with_the_plugin_named(make_plugin_host: Any) -> None:
    @hookimpl
    def cryptolake_register_widgets(registry: Any) -> None: ...

    bad = make_plugin("typo", cryptolake_register_widgets=cryptolake_register_widgets)
    with pytest.raises(PluginError, match="typo.*cryptolake_register_widgets"):
        make_plugin_host([bad])
    host = make_plugin_host([bad], strict=False)
    (record,) = host.listing()
    assert record.status == "error" and "cryptolake_register_widgets" in (record.error or "")
    assert host.sources.names() == []  # nothing of the bad plugin stays registered


def test_incompatible_core_api_is_reported(make_plugin_host: Any) -> None:
    host = make_plugin_host([make_plugin("future", core_api=">=2,<3")], strict=False)
    (record,) = host.listing()
    assert record.status == "error"
    assert "core API '>=2,<3'" in (record.error or "") and "0.1" in (record.error or "")
    with pytest.raises(PluginError, match="future"):
        make_plugin_host([make_plugin("future", core_api=">=2,<3")])


def test_duplicate_plugin_names_are_refused(make_plugin_host: Any) -> None:
    with pytest.raises(PluginError, match="already taken"):
        make_plugin_host([make_plugin("same"), make_plugin("same")])


def test_missing_manifest_is_refused(make_plugin_host: Any) -> None:
    with pytest.raises(PluginError, match="CRYPTOLAKE_PLUGIN"):
        make_plugin_host([SimpleNamespace()])


def test_blocked_plugin_is_listed_but_not_called(make_plugin_host: Any) -> None:
    host = make_plugin_host([make_plugin("demo"), make_plugin("other")], disabled=["demo"])
    status = {p.name: p.status for p in host.listing()}
    assert status == {"demo": "blocked", "other": "enabled"}
    assert host.sources.names() == ["other.ticks"]


def test_duplicate_entry_names_across_plugins(make_plugin_host: Any) -> None:
    @hookimpl
    def cryptolake_register_sources(registry: Any) -> None:
        registry.add(
            SourcePlugin(name="demo.ticks", implementation="x:y", capabilities=frozenset({"batch"}))
        )

    thief = SimpleNamespace(
        CRYPTOLAKE_PLUGIN=PluginManifest(name="thief", version="1"),
        cryptolake_register_sources=cryptolake_register_sources,
    )
    host = make_plugin_host([make_plugin("demo"), thief], strict=False)
    assert host.sources.get("demo.ticks").plugin == "demo"
    errors = {p.name: p.error for p in host.errors()}
    assert "already registered by plugin 'demo'" in (errors["thief"] or "")


def test_registration_hook_raising_is_contained(make_plugin_host: Any) -> None:
    @hookimpl
    def cryptolake_register_sources(registry: Any) -> None:
        registry.add(
            SourcePlugin(name="half.one", implementation="x:y", capabilities=frozenset({"batch"}))
        )
        raise RuntimeError("boom")

    half = SimpleNamespace(
        CRYPTOLAKE_PLUGIN=PluginManifest(name="half", version="1"),
        cryptolake_register_sources=cryptolake_register_sources,
    )
    host = make_plugin_host([half, make_plugin("demo")], strict=False)
    assert host.sources.names() == ["demo.ticks"]  # half.one was rolled back
    (err,) = host.errors()
    assert err.name == "half" and "RuntimeError: boom" in (err.error or "")
    with pytest.raises(PluginError, match="boom"):
        make_plugin_host([half]).load_registries()


def test_autoload_off_discovers_nothing(make_plugin_host: Any) -> None:
    assert make_plugin_host([], autoload=False).listing() == []


def test_firstresult_hook_stops_at_first_answer(make_plugin_host: Any) -> None:
    class Claims:
        CRYPTOLAKE_PLUGIN = PluginManifest(name="claims", version="1")

        @hookimpl
        def cryptolake_detect_layout(self, path: Any, head: bytes) -> str | None:
            return "csv-demo" if head.startswith(b"a,b") else None

    class Declines:
        CRYPTOLAKE_PLUGIN = PluginManifest(name="declines", version="1")

        @hookimpl
        def cryptolake_detect_layout(self, path: Any, head: bytes) -> str | None:
            return None

        @hookimpl
        def cryptolake_select_champion(self, target: str, candidates: Any) -> str | None:
            return min(candidates, key=lambda c: c["mae"])["name"]

    host = make_plugin_host([Claims(), Declines()])
    assert host.detect_layout(path=Path("x.csv"), head=b"a,b\n1,2") == "csv-demo"
    assert host.detect_layout(path=Path("x.bin"), head=b"\x00") is None
    cands = [{"name": "gbm", "mae": 2.0}, {"name": "rf", "mae": 1.5}]
    assert host.select_champion(target="return_1h", candidates=cands) == "rf"
    assert make_plugin_host([Claims()]).select_champion(target="t", candidates=cands) is None


def test_a_raising_firstresult_hook_is_skipped_not_fatal(
    make_plugin_host: Any, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        CRYPTOLAKE_PLUGIN = PluginManifest(name="broken", version="1")

        @hookimpl(tryfirst=True)
        def cryptolake_detect_layout(self, path: Any, head: bytes) -> str | None:
            raise UnicodeDecodeError("utf-8", head, 0, 1, "not text")

    class Claims:
        CRYPTOLAKE_PLUGIN = PluginManifest(name="claims", version="1")

        @hookimpl
        def cryptolake_detect_layout(self, path: Any, head: bytes) -> str | None:
            return "csv-demo"

    host = make_plugin_host([Claims(), Broken()], strict=True)
    assert host.detect_layout(path=Path("x.csv"), head=b"\xff") == "csv-demo"
    assert "plugin broken failed in cryptolake_detect_layout" in caplog.text


@pytest.mark.parametrize("option", ["wrapper", "hookwrapper"])
def test_wrapper_implementations_are_refused_at_registration(
    make_plugin_host: Any, option: str
) -> None:
    marker = hookimpl(wrapper=True) if option == "wrapper" else hookimpl(hookwrapper=True)

    class Wraps:
        CRYPTOLAKE_PLUGIN = PluginManifest(name="wraps", version="1")

        @marker
        def cryptolake_before_job(self, job: Any) -> Any:
            return (yield)

    host = make_plugin_host([Wraps()], strict=False)
    assert host.plugins["wraps"].status == "error"
    assert "wrapper" in (host.plugins["wraps"].error or "")
    assert host.pm.get_plugin("wraps") is None  # not left half-registered
    with pytest.raises(PluginError, match="wrappers are not supported"):
        make_plugin_host([Wraps()], strict=True)


def test_the_raw_hook_relay_and_notify_are_deprecated(make_plugin_host: Any) -> None:
    host = make_plugin_host([])
    with pytest.warns(DeprecationWarning, match="typed methods"):
        host.hook  # noqa: B018
    with pytest.warns(DeprecationWarning, match="typed method"):
        host.notify("cryptolake_before_job", job=None)
