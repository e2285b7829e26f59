"""Meta tests: every hook is documented (in code and in docs/plugins.md) and exercised by a test."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from cryptolake.core.hookspecs import ALL_SPECS, hook_names


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


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_exercised_by_a_test(name: str) -> None:
    root = _repo_root()
    me = Path(__file__).resolve()
    files = [
        p
        for pattern in ("packages/*/tests/**/*.py", "tests/**/*.py")
        for p in root.glob(pattern)
        if p.resolve() != me and "thirdparty" not in p.parts
    ]
    assert any(name in p.read_text() for p in files), f"no test exercises {name}"
