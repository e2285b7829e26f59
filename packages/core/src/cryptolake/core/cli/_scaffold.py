"""``cryptolake plugins new NAME --family source|transform|quality|model``: a working plugin.

Writes an installable distribution ``cryptolake-<name>/``: ``pyproject.toml`` (the ``cryptolake``
entry point, a compatible core range), ``src/cryptolake_<name>/{__init__,plugin,config,<impl>}.py``
(a manifest, a pydantic config model, the table contracts it writes, the implementation), a
README and ``tests/`` whose conformance and run tests pass on the first ``pytest``.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from cryptolake.core._version import CORE_API_VERSION

FAMILIES = ("source", "transform", "quality", "model")
NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
#: The cryptolake-core versions a new plugin accepts: this minor release up to the next major.
CORE_RANGE = f">={CORE_API_VERSION},<1"
CORE_API_RANGE = f">={CORE_API_VERSION},<1"


def _t(text: str, **values: str) -> str:
    text = textwrap.dedent(text).lstrip("\n")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


_PYPROJECT = '''
[build-system]
requires = ["setuptools>=77,<81"]
build-backend = "setuptools.build_meta"

[project]
name = "cryptolake-{{name}}"
version = "0.1.0"
description = "CryptoLake {{family}} plugin {{name}}"
requires-python = ">=3.11"
# a compatible range of the core; the exact version is your application's lock's business
dependencies = ["cryptolake-core{{extras}}{{core_range}}"]

[project.optional-dependencies]
test = ["cryptolake-core[testing]{{core_range}}"]

# how CryptoLake finds the plugin: group "cryptolake", name = the manifest's name
[project.entry-points.cryptolake]
{{name}} = "cryptolake_{{name}}.plugin"

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
'''

_README = '''
# cryptolake-{{name}}

A CryptoLake {{family}} plugin, made by `cryptolake plugins new {{name}} --family {{family}}`.

```bash
pip install -e '.[test]'        # the plugin, the core it needs, the test kit
pytest                          # conformance + a real run on a private offline lakehouse
cryptolake plugins list         # {{name}} is listed, enabled
```

- `src/cryptolake_{{name}}/plugin.py`: the manifest, the hooks (the tables it declares, its entries)
- `src/cryptolake_{{name}}/config.py`: the entry's pydantic config model
- `src/cryptolake_{{name}}/{{impl_module}}.py`: the implementation, imported only when it runs
- `tests/test_plugin.py`: `{{Family}}Conformance` in one line, and a run through `run_entry`

Uninstall: `cryptolake plugins remove {{name}} --yes` drops its tables and gate history, then
`pip uninstall cryptolake-{{name}}`. The guide: docs/plugins.md of CryptoLake.
'''

_INIT = '''
"""CryptoLake {{family}} plugin {{name}} (the entry point is :mod:`cryptolake_{{name}}.plugin`)."""
'''

# ------------------------------------------------------------------------------------ source
_SOURCE_CONFIG = '''
"""Configuration of the {{name}}.ticks source (validated before the job runs)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TicksConfig(BaseModel):
    symbols: list[str] = Field(default_factory=lambda: ["XBTUSD"], min_length=1)
    count: int = Field(3, ge=1, le=10_000, description="ticks per symbol per run")
'''

_SOURCE_PLUGIN = '''
"""Plugin {{name}}: the source {{name}}.ticks writes bronze.{{name}}_ticks."""

from __future__ import annotations

from cryptolake.core import (
    Column,
    PartitionField,
    PluginManifest,
    SourcePlugin,
    SourceRegistry,
    TableContract,
    TableRegistry,
    hookimpl,
)
from cryptolake_{{name}}.config import TicksConfig

CRYPTOLAKE_PLUGIN = PluginManifest(
    name="{{name}}", version="0.1.0", core_api="{{core_api}}",
    description="Ticks of {{name}} into Bronze",
)

#: The Bronze table the source writes: declared once, here.
TICKS = TableContract(
    namespace="bronze",
    name="{{name}}_ticks",
    doc="{{name}} ticks as fetched; one row per (symbol, seq).",
    columns=(
        Column("symbol", "string", required=True),
        Column("seq", "long", required=True, doc="the venue's sequence number"),
        Column("price", "double", required=True),
        Column("ingested_at", "timestamptz", required=True),
    ),
    partition_by=(PartitionField("ingested_at", "day"),),
    sort_by=("symbol", "seq"),
    key=("symbol", "seq"),
)


@hookimpl
def cryptolake_register_tables(tables: TableRegistry) -> None:
    tables.add(TICKS)


@hookimpl
def cryptolake_register_sources(registry: SourceRegistry) -> None:
    registry.add(
        SourcePlugin(
            name="{{name}}.ticks",
            implementation="cryptolake_{{name}}.source:TicksSource",
            config_model=TicksConfig,
            capabilities=frozenset({"batch", "incremental"}),
            bronze_tables=(TICKS.identifier,),
            description="Ticks per symbol; a rerun adds only what is new",
        )
    )
'''

_SOURCE_IMPL = '''
"""The {{name}}.ticks job: fetch, then append what Bronze does not hold yet (idempotent)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cryptolake.core import JobContext, JobResult, ensure_table
from cryptolake_{{name}}.config import TicksConfig
from cryptolake_{{name}}.plugin import TICKS


class TicksSource:
    def __init__(self, config: TicksConfig) -> None:
        self.config = config

    def fetch(self) -> list[dict[str, Any]]:
        """Replace with the venue's API (import its client here, inside the method)."""
        return [
            {"symbol": s, "seq": i, "price": 100.0 + i}
            for s in self.config.symbols
            for i in range(self.config.count)
        ]

    def run(self, ctx: JobContext) -> JobResult:
        import pyarrow as pa

        records = self.fetch()
        table = ensure_table(ctx.catalog(), TICKS, namespace=ctx.namespace("bronze"))
        held = {
            (r["symbol"], r["seq"])
            for r in table.scan(selected_fields=("symbol", "seq")).to_arrow().to_pylist()
        }
        now = datetime.now(UTC)
        new = [{**r, "ingested_at": now} for r in records if (r["symbol"], r["seq"]) not in held]
        snapshot = None
        if new:
            table.append(pa.Table.from_pylist(new, schema=TICKS.arrow_schema()))
            snapshot = table.current_snapshot().snapshot_id
            ctx.committed(TICKS.identifier, snapshot, len(new))
        return JobResult(rows_in=len(records), rows_out=len(new),
                         snapshot_ids={TICKS.identifier: snapshot})
'''

_SOURCE_TEST = '''
"""The plugin's own tests: conformance in one line, then a real run on a private lakehouse."""

from __future__ import annotations

from typing import Any

import cryptolake_{{name}}.plugin as plugin
from cryptolake.core.testing import SourceConformance

CONFIG = {"symbols": ["XBTUSD", "ETHUSD"], "count": 3}


class TestConformance(SourceConformance, plugin=plugin):
    example_config = CONFIG


def test_the_source_lands_rows_in_bronze_and_a_rerun_adds_none(
    run_entry: Any, lakehouse_sandbox: Any
) -> None:
    first = run_entry(plugin, "{{name}}.ticks", CONFIG)
    assert first.rows_out == 6
    rows = lakehouse_sandbox.read("bronze.{{name}}_ticks")
    assert sorted((r["symbol"], r["seq"]) for r in rows)[:2] == [("ETHUSD", 0), ("ETHUSD", 1)]
    again = run_entry(plugin, "{{name}}.ticks", CONFIG)
    assert again.rows_out == 0
    assert len(lakehouse_sandbox.read("bronze.{{name}}_ticks")) == 6
'''

# ---------------------------------------------------------------------------------- transform
_TRANSFORM_CONFIG = '''
"""Configuration of the {{name}}.scaled transform."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ScaledConfig(BaseModel):
    factor: float = Field(2.0, gt=0, description="what every value is multiplied by")
'''

_TRANSFORM_PLUGIN = '''
"""Plugin {{name}}: the transform {{name}}.scaled reads bronze.{{name}}_values and writes
silver.{{name}}_scaled."""

from __future__ import annotations

from cryptolake.core import (
    Column,
    PluginManifest,
    TableContract,
    TableRegistry,
    TransformPlugin,
    TransformRegistry,
    hookimpl,
)
from cryptolake_{{name}}.config import ScaledConfig

CRYPTOLAKE_PLUGIN = PluginManifest(
    name="{{name}}", version="0.1.0", core_api="{{core_api}}",
    description="Scales values from Bronze into Silver",
)

#: The input. A real transform usually reads a table someone else declares (a core table such as
#: bronze.binance_klines, or another plugin's); this one declares its own to stay self-contained.
VALUES = TableContract(
    namespace="bronze", name="{{name}}_values",
    columns=(Column("n", "long", required=True), Column("value", "double", required=True)),
    key=("n",),
)
#: The output: every table a transform writes has a contract.
SCALED = TableContract(
    namespace="silver", name="{{name}}_scaled",
    columns=(Column("n", "long", required=True), Column("value", "double", required=True)),
    key=("n",),
)


@hookimpl
def cryptolake_register_tables(tables: TableRegistry) -> None:
    tables.add(VALUES)
    tables.add(SCALED)


@hookimpl
def cryptolake_register_transforms(registry: TransformRegistry) -> None:
    registry.add(
        TransformPlugin(
            name="{{name}}.scaled",
            implementation="cryptolake_{{name}}.transform:Scale",
            config_model=ScaledConfig,
            capabilities=frozenset({"idempotent"}),
            engine="python",
            inputs=(VALUES.identifier,),
            outputs=(SCALED.identifier,),
            layer="silver",
            description="value × factor, rebuilt in full (idempotent)",
        )
    )
'''

_TRANSFORM_IMPL = '''
"""The {{name}}.scaled job: read the input, rebuild the output in one overwrite (idempotent)."""

from __future__ import annotations

from cryptolake.core import JobContext, JobResult, ensure_table
from cryptolake_{{name}}.config import ScaledConfig
from cryptolake_{{name}}.plugin import SCALED, VALUES


class Scale:
    def __init__(self, config: ScaledConfig) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        import pyarrow as pa

        catalog = ctx.catalog()
        source = ensure_table(catalog, VALUES, namespace=ctx.namespace("bronze"))
        rows = source.scan().to_arrow().to_pylist()
        out = [{"n": r["n"], "value": r["value"] * self.config.factor} for r in rows]
        target = ensure_table(catalog, SCALED, namespace=ctx.namespace("silver"))
        target.overwrite(pa.Table.from_pylist(out, schema=SCALED.arrow_schema()))
        snapshot = target.current_snapshot().snapshot_id
        ctx.committed(SCALED.identifier, snapshot, len(out))
        return JobResult(rows_in=len(rows), rows_out=len(out),
                         snapshot_ids={SCALED.identifier: snapshot})
'''

_TRANSFORM_TEST = '''
"""The plugin's own tests: conformance in one line, then a real run on a private lakehouse."""

from __future__ import annotations

from typing import Any

import cryptolake_{{name}}.plugin as plugin
from cryptolake.core.testing import TransformConformance


class TestConformance(TransformConformance, plugin=plugin):
    example_config = {"factor": 3.0}


def test_the_transform_writes_silver_from_bronze_and_reruns_the_same(
    run_entry: Any, lakehouse_sandbox: Any
) -> None:
    lakehouse_sandbox.write(plugin.VALUES, [{"n": 1, "value": 1.5}, {"n": 2, "value": 2.0}])
    for _ in range(2):  # a rerun yields the same table
        result = run_entry(plugin, "{{name}}.scaled", {"factor": 3.0})
        assert result.rows_in == 2 and result.rows_out == 2
        rows = sorted(lakehouse_sandbox.read("silver.{{name}}_scaled"), key=lambda r: r["n"])
        assert rows == [{"n": 1, "value": 4.5}, {"n": 2, "value": 6.0}]
'''

# ------------------------------------------------------------------------------------ quality
_QUALITY_CONFIG = '''
"""Configuration of the {{name}}.checks suite."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ChecksConfig(BaseModel):
    min_rows: int = Field(1, ge=0, description="fewer rows than this fails the gate")
'''

_QUALITY_PLUGIN = '''
"""Plugin {{name}}: the quality suite {{name}}.checks gates silver on silver.{{name}}_values."""

from __future__ import annotations

from cryptolake.core import (
    Column,
    PluginManifest,
    QualityRegistry,
    QualitySuitePlugin,
    TableContract,
    TableRegistry,
    hookimpl,
)
from cryptolake_{{name}}.config import ChecksConfig

CRYPTOLAKE_PLUGIN = PluginManifest(
    name="{{name}}", version="0.1.0", core_api="{{core_api}}",
    description="Checks on silver.{{name}}_values",
)

#: The table the suite checks (declared here to stay self-contained; a suite usually checks a
#: table the core or another plugin declares).
VALUES = TableContract(
    namespace="silver", name="{{name}}_values",
    columns=(Column("n", "long", required=True), Column("value", "double")),
    key=("n",),
)


@hookimpl
def cryptolake_register_tables(tables: TableRegistry) -> None:
    tables.add(VALUES)


@hookimpl
def cryptolake_register_quality_suites(registry: QualityRegistry) -> None:
    registry.add(
        QualitySuitePlugin(
            name="{{name}}.checks",
            implementation="cryptolake_{{name}}.checks:Checks",
            config_model=ChecksConfig,
            capabilities=frozenset({"python"}),
            layer="silver",
            tables=(VALUES.identifier,),
            description="row count, no null values",
        )
    )
'''

_QUALITY_IMPL = '''
"""The {{name}}.checks suite: one CheckResult per check (outcomes: pass | warn | fail | error)."""

from __future__ import annotations

from cryptolake.core import CheckResult, JobContext
from cryptolake_{{name}}.config import ChecksConfig
from cryptolake_{{name}}.plugin import VALUES


class Checks:
    def __init__(self, config: ChecksConfig) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> list[CheckResult]:
        from pyiceberg.exceptions import NoSuchTableError

        ident = ctx.identifier(VALUES.identifier)
        try:
            table = ctx.catalog().load_table(ident)
        except NoSuchTableError:
            return [CheckResult("table exists", VALUES.identifier, "error",
                                message=f"{ident} does not exist")]
        snapshot = table.current_snapshot()
        sid = snapshot.snapshot_id if snapshot else None
        rows = table.scan().to_arrow().to_pylist()
        nulls = sum(1 for r in rows if r["value"] is None)
        return [
            CheckResult(f"row_count >= {self.config.min_rows}", VALUES.identifier,
                        "pass" if len(rows) >= self.config.min_rows else "fail",
                        float(len(rows)), sid),
            CheckResult("missing_count(value) = 0", VALUES.identifier,
                        "pass" if nulls == 0 else "fail", float(nulls), sid),
        ]
'''

_QUALITY_TEST = '''
"""The plugin's own tests: conformance in one line, then the suite run on a private lakehouse."""

from __future__ import annotations

from typing import Any

import cryptolake_{{name}}.plugin as plugin
from cryptolake.core.testing import QualityConformance


class TestConformance(QualityConformance, plugin=plugin):
    example_config = {"min_rows": 1}


def test_the_suite_passes_good_rows_and_fails_bad_ones(
    run_entry: Any, lakehouse_sandbox: Any
) -> None:
    missing = run_entry(plugin, "{{name}}.checks")
    assert [r.outcome for r in missing] == ["error"]
    lakehouse_sandbox.write(plugin.VALUES, [{"n": 1, "value": 1.0}, {"n": 2, "value": None}])
    results = {r.check: r for r in run_entry(plugin, "{{name}}.checks", {"min_rows": 2})}
    assert results["row_count >= 2"].outcome == "pass"
    assert results["missing_count(value) = 0"].failed
'''

# -------------------------------------------------------------------------------------- model
_MODEL_CONFIG = '''
"""The hyper-parameters of the {{name}}.drift model (the estimator's __init__ takes the same)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DriftConfig(BaseModel):
    shrink: float = Field(0.0, ge=0, le=1, description="pull the forecast towards zero")
'''

_MODEL_PLUGIN = '''
"""Plugin {{name}}: the forecasting model {{name}}.drift."""

from __future__ import annotations

from cryptolake.core import ModelPlugin, ModelRegistry, PluginManifest, hookimpl
from cryptolake_{{name}}.config import DriftConfig

CRYPTOLAKE_PLUGIN = PluginManifest(
    name="{{name}}", version="0.1.0", core_api="{{core_api}}",
    description="A drift forecaster",
)


@hookimpl
def cryptolake_register_models(registry: ModelRegistry) -> None:
    registry.add(
        ModelPlugin(
            name="{{name}}.drift",
            implementation="cryptolake_{{name}}.model:DriftForecaster",
            config_model=DriftConfig,
            capabilities=frozenset({"regression"}),
            target="return_1h",
            description="the mean past return, shrunk",
        )
    )
'''

_MODEL_IMPL = '''
"""A scikit-learn-style estimator: __init__ stores parameters, fit returns self."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DriftForecaster:
    def __init__(self, shrink: float = 0.0) -> None:
        self.shrink = shrink

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"shrink": self.shrink}

    def set_params(self, **params: Any) -> DriftForecaster:
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def fit(self, X: Sequence[Any], y: Sequence[float]) -> DriftForecaster:
        self.drift_ = (sum(y) / len(y)) * (1.0 - self.shrink)
        return self

    def predict(self, X: Sequence[Any]) -> list[float]:
        return [self.drift_ for _ in X]
'''

_MODEL_TEST = '''
"""The plugin's own tests: conformance in one line, then fit and predict."""

from __future__ import annotations

import cryptolake_{{name}}.plugin as plugin
from cryptolake.core.testing import ModelConformance
from cryptolake_{{name}}.model import DriftForecaster


class TestConformance(ModelConformance, plugin=plugin):
    example_config = {"shrink": 0.5}


def test_fit_returns_self_and_predicts_the_shrunk_drift() -> None:
    model = DriftForecaster(shrink=0.5)
    assert model.fit([[0], [1], [2], [3]], [0.01, 0.03, -0.01, 0.01]) is model
    assert model.predict([[4], [5]]) == [0.005, 0.005]
'''

TEMPLATES: dict[str, dict[str, str]] = {
    "source": {"config": _SOURCE_CONFIG, "plugin": _SOURCE_PLUGIN, "impl": _SOURCE_IMPL,
               "test": _SOURCE_TEST, "module": "source", "extras": "[lakehouse]"},
    "transform": {"config": _TRANSFORM_CONFIG, "plugin": _TRANSFORM_PLUGIN, "impl": _TRANSFORM_IMPL,
                  "test": _TRANSFORM_TEST, "module": "transform", "extras": "[lakehouse]"},
    "quality": {"config": _QUALITY_CONFIG, "plugin": _QUALITY_PLUGIN, "impl": _QUALITY_IMPL,
                "test": _QUALITY_TEST, "module": "checks", "extras": "[lakehouse]"},
    "model": {"config": _MODEL_CONFIG, "plugin": _MODEL_PLUGIN, "impl": _MODEL_IMPL,
              "test": _MODEL_TEST, "module": "model", "extras": ""},
}


def scaffold(name: str, family: str, dest: Path) -> Path:
    """Write the distribution ``dest/cryptolake-<name>`` and return its path."""
    if not NAME.match(name):
        raise ValueError(f"plugin name {name!r} must be lower-case letters, digits and _ "
                         f"(2-31 characters, starting with a letter), e.g. 'kraken'")
    if family not in FAMILIES:
        raise ValueError(f"family {family!r} is not one of {', '.join(FAMILIES)}")
    root = dest / f"cryptolake-{name}"
    if root.exists():
        raise FileExistsError(f"{root} exists; choose another name or directory")
    t = TEMPLATES[family]
    values = {"name": name, "family": family, "Family": family.capitalize(),
              "core_range": CORE_RANGE, "core_api": CORE_API_RANGE, "extras": t["extras"],
              "impl_module": t["module"]}
    pkg = root / "src" / f"cryptolake_{name}"
    files = {
        root / "pyproject.toml": _PYPROJECT,
        root / "README.md": _README,
        pkg / "__init__.py": _INIT,
        pkg / "config.py": t["config"],
        pkg / "plugin.py": t["plugin"],
        pkg / f"{t['module']}.py": t["impl"],
        root / "tests" / "test_plugin.py": t["test"],
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_t(text, **values))
    return root
