"""Meta tests: every hook is documented (in code and in docs/plugins.md) and exercised by a test."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from cryptolake.core.hookspecs import ALL_SPECS, hook_names
from cryptolake.core.manager import HOOK_CALLERS, PluginHost


def _repo_root() -> Path:
    for parent in Path(__file__).resolve().parents:
        if (parent / "docs" / "plugins.md").is_file():
            return parent
    pytest.fail("docs/plugins.md not found above the test file")


HOOKS = hook_names()


def test_there_are_hooks_in_every_family() -> None:
    assert len(ALL_SPECS) == 8
    for spec in ALL_SPECS:
        assert any(n.startswith("cryptolake_") for n in vars(spec)), spec


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_typed_and_documented_in_code(name: str) -> None:
    (fn,) = (vars(s)[name] for s in ALL_SPECS if name in vars(s))
    doc = inspect.getdoc(fn) or ""
    assert ".. versionadded::" in doc, f"{name}: docstring lacks versionadded"
    sig = inspect.signature(fn)
    assert sig.return_annotation is not inspect.Signature.empty, f"{name}: no return type"
    for p in list(sig.parameters.values())[1:]:
        assert p.annotation is not inspect.Parameter.empty, f"{name}: {p.name} is untyped"
    firstresult = fn.cryptolake_spec.get("firstresult", False)
    stated = "first non-None result" in doc
    assert firstresult == stated, f"{name}: docstring must state firstresult semantics"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_in_the_plugin_author_guide(name: str) -> None:
    guide = (_repo_root() / "docs" / "plugins.md").read_text()
    assert re.search(rf"^#### `{name}\(", guide, re.M), f"{name} is not documented in docs/plugins.md"


def _test_functions() -> dict[str, tuple[Path, ast.FunctionDef]]:
    root = _repo_root()
    found: dict[str, tuple[Path, ast.FunctionDef]] = {}
    for pattern in ("packages/*/tests/**/test_*.py", "tests/**/test_*.py"):
        for path in root.glob(pattern):
            if "thirdparty" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test_hook_"):
                    found[node.name] = (path, node)
    return found


def test_every_hook_has_a_typed_caller_on_the_host() -> None:
    assert set(HOOK_CALLERS) == set(HOOKS)
    for hook, attr in HOOK_CALLERS.items():
        assert hasattr(PluginHost, attr), f"{hook}: PluginHost has no {attr}"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_called_by_a_test(name: str) -> None:
    """datasette's rule: a test named ``test_hook_<hook>`` implements the hook and calls it
    through the host's typed method — naming the hook somewhere is not enough."""
    tests = _test_functions()
    assert f"test_hook_{name}" in tests, f"no test_hook_{name}() calls {name}"
    path, fn = tests[f"test_hook_{name}"]
    nodes = list(ast.walk(fn))
    implements = any(isinstance(n, ast.FunctionDef) and n.name == name for n in nodes) or any(
        isinstance(n, ast.Name) and n.id == "Recorder" for n in nodes
    )
    assert implements, f"{path.name}::test_hook_{name} implements no {name}()"
    caller = HOOK_CALLERS[name]
    calls = any(isinstance(n, ast.Attribute) and n.attr == caller for n in nodes)
    assert calls, f"{path.name}::test_hook_{name} never reaches host.{caller}"


def test_code_reaches_hooks_only_through_the_typed_host() -> None:
    """No ``host.hook.<name>(...)``, ``pm.hook``, ``notify("cryptolake_...")`` in package code."""
    root = _repo_root()
    offenders = []
    for path in root.glob("packages/*/src/cryptolake/**/*.py"):
        if path.name == "manager.py" and path.parent.name == "core":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "hook":
                offenders.append(f"{path.relative_to(root)}:{node.lineno}: .hook")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "notify"):
                offenders.append(f"{path.relative_to(root)}:{node.lineno}: .notify()")
    assert not offenders, "call the host's typed methods instead:\n" + "\n".join(offenders)
