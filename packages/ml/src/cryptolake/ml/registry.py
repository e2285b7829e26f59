"""The model registry: ``ml.models`` in Iceberg, artifacts in the S3 warehouse, promotion rules.

States: a freshly trained version is a **candidate**; the retrain decides which versions serve:
one **champion** and one **challenger** per horizon (A/B — at first the ensemble and the TFT);
every version they replace becomes **retired**.

The promotion rule (:func:`decide_roles`), on the walk-forward rows every model of the retrain
was scored on:

1. no champion yet: the ensemble (else the most accurate model) becomes champion, the TFT (else
   the next best) challenger;
2. otherwise the new versions of the serving names take their roles, and the challenger
   **replaces the champion only when it is better on the same rows beyond the interval** — the
   95 % block-bootstrap interval of the paired accuracy difference lies above 0;
3. after the first retrain, the most accurate other candidate replaces the challenger under the
   same rule against the challenger;
4. a plugin's ``cryptolake_select_champion`` may name the champion instead (first non-None).

Each new champion version fires ``cryptolake_model_promoted``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from cryptolake.ml.evaluation import paired_difference

if TYPE_CHECKING:
    from cryptolake.core.settings import Settings

log = logging.getLogger(__name__)

STATES = ("candidate", "challenger", "champion", "retired")
SERVING = ("champion", "challenger")


def new_model_id(name: str, trained_at: datetime, salt: str) -> str:
    digest = hashlib.sha256(f"{name}|{trained_at.isoformat()}|{salt}".encode()).hexdigest()[:4]
    return f"{name}-{trained_at:%Y%m%dT%H%M}-{digest}"


@dataclass
class RoleDecision:
    roles: dict[str, str]  # model name -> champion | challenger | candidate
    reasons: list[str] = field(default_factory=list)

    def name_of(self, role: str) -> str | None:
        return next((n for n, r in self.roles.items() if r == role), None)


def decide_roles(
    current: Mapping[str, str],
    candidates: Sequence[str],
    probs: Mapping[str, np.ndarray],
    y: np.ndarray,
    times: np.ndarray,
    *,
    block_hours: int = 168,
    select: Callable[[list[dict[str, Any]]], str | None] | None = None,
    preferred: tuple[str, str] = ("ensemble", "tft"),
) -> RoleDecision:
    """Roles of this retrain's versions, by name. ``current`` maps role -> name now serving."""
    acc = {n: float(np.mean((probs[n] >= 0.5) == y)) if len(y) else 0.0 for n in candidates}
    ranked = sorted(candidates, key=lambda n: (-acc[n], n))
    reasons: list[str] = []
    if not candidates:
        return RoleDecision({}, ["no candidates"])
    champion: str | None = current.get("champion") if current.get("champion") in candidates else None
    challenger: str | None = (
        current.get("challenger") if current.get("challenger") in candidates else None
    )

    def beats(a: str, b: str) -> bool:
        diff, low, high = paired_difference(probs[a], probs[b], y, times, block_hours)
        ok = low > 0
        reasons.append(f"{a} vs {b}: accuracy difference {diff:+.4f} [{low:+.4f}, {high:+.4f}]"
                       f" -> {'beyond' if ok else 'within'} the interval")
        return ok

    first = champion is None
    if champion is None:
        champion = preferred[0] if preferred[0] in candidates else ranked[0]
        reasons.append(f"no champion yet: {champion} becomes champion")
    if challenger is None or challenger == champion:
        pool = [preferred[1]] if preferred[1] in candidates and preferred[1] != champion else []
        pool += [n for n in ranked if n != champion]
        challenger = pool[0] if pool else None
    if challenger is not None and beats(challenger, champion):
        champion, challenger = challenger, champion
        reasons.append(f"{champion} replaces {challenger} as champion")
    for other in [] if first else ranked:
        if other in (champion, challenger) or challenger is None:
            continue
        if acc[other] > acc[challenger] and beats(other, challenger):
            reasons.append(f"{other} replaces {challenger} as challenger")
            challenger = other
        break  # only the most accurate other candidate may challenge
    if select is not None:
        listing = [{"name": n, "accuracy": acc[n]} for n in candidates]
        chosen = select(listing)
        if chosen and chosen in candidates and chosen != champion:
            reasons.append(f"a plugin's cryptolake_select_champion chose {chosen}")
            if challenger == chosen:
                challenger = champion
            champion = chosen
    roles = {n: "candidate" for n in candidates}
    roles[champion] = "champion"
    if challenger is not None:
        roles[challenger] = "challenger"
    return RoleDecision(roles, reasons)


# -- storage ---------------------------------------------------------------------------------


class ModelStore:
    """``<namespace>.models`` and the artifacts under ``s3://<bucket>/<namespace>/models/``."""

    def __init__(self, settings: Settings, namespace: str = "ml") -> None:
        self.settings = settings
        self.namespace = namespace

    def _table(self, contract: Any) -> Any:
        from cryptolake.core.clients import load_catalog
        from cryptolake.core.tables import ensure_table

        return ensure_table(load_catalog(self.settings), contract, namespace=self.namespace)

    def table(self, name: str) -> Any:
        from cryptolake.ml import tables

        return self._table({c.name: c for c in tables.ALL}[name])

    def append(self, name: str, rows: list[dict[str, Any]]) -> int | None:
        import pyarrow as pa

        from cryptolake.ml import tables

        if not rows:
            return None
        contract = {c.name: c for c in tables.ALL}[name]
        table = self._table(contract)
        from cryptolake.core.clients import transaction

        with transaction(table) as tx:
            tx.append(pa.Table.from_pylist(rows, schema=contract.arrow_schema()))
        snap = table.current_snapshot()
        return int(snap.snapshot_id) if snap else None

    def rows(self, name: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.table(name).scan().to_arrow().to_pylist()
        return rows

    def models(self) -> list[dict[str, Any]]:
        return sorted(self.rows("models"), key=lambda r: (r["trained_at"], r["model_id"]))

    def get(self, model_id: str) -> dict[str, Any]:
        from cryptolake.core.errors import ConfigError

        for row in self.models():
            if row["model_id"] == model_id or row["model_id"].startswith(model_id):
                return row
        raise ConfigError(f"no model {model_id!r} in {self.namespace}.models (cryptolake ml models)")

    def serving(self, horizon: int) -> dict[str, dict[str, Any]]:
        """role -> model row of the versions serving at ``horizon``."""
        return {r["state"]: r for r in self.models()
                if r["horizon_h"] == horizon and r["state"] in SERVING}

    def replace_models(self, rows: list[dict[str, Any]]) -> None:
        """Rewrite ``models`` whole (a small table; states change in place, one snapshot)."""
        import pyarrow as pa

        from cryptolake.ml import tables

        table = self._table(tables.MODELS)
        table.overwrite(pa.Table.from_pylist(rows, schema=tables.MODELS.arrow_schema()))

    # artifacts

    def artifact_key(self, model_id: str) -> str:
        return f"{self.namespace}/models/{model_id}/model.pkl"

    def save_artifact(self, model_id: str, payload: dict[str, Any]) -> str:
        from cryptolake.core.clients import s3_client

        key = self.artifact_key(model_id)
        s3_client(self.settings).put_object(
            Bucket=self.settings.s3.bucket, Key=key, Body=pickle.dumps(payload, protocol=5)
        )
        return f"s3://{self.settings.s3.bucket}/{key}"

    def load_artifact(self, uri: str) -> dict[str, Any]:
        from cryptolake.core.clients import s3_client

        bucket, _, key = uri.removeprefix("s3://").partition("/")
        body = s3_client(self.settings).get_object(Bucket=bucket, Key=key)["Body"].read()
        payload: dict[str, Any] = pickle.loads(body)  # - our own warehouse
        return payload


def metrics_of(row: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in json.loads(row.get("metrics_json") or "{}").items()
            if isinstance(v, int | float)}
