"""Hook specs of the model family: forecasting models trained on Gold."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from cryptolake.core.markers import hookspec

if TYPE_CHECKING:
    from cryptolake.core.registry import ModelRegistry


class ModelSpecs:
    @hookspec
    def cryptolake_register_models(self, registry: ModelRegistry) -> None:
        """Add forecasting models with ``registry.add(ModelPlugin(...))``.

        Called once per plugin host, for every plugin; all results are ignored. The implementation
        is an estimator following the scikit-learn rules (``__init__`` stores parameters, ``fit``
        returns ``self``, ``predict`` returns an array).

        .. versionadded:: 0.1
        """

    @hookspec(firstresult=True)
    def cryptolake_select_champion(
        self, target: str, candidates: Sequence[Mapping[str, object]]
    ) -> str | None:
        """Choose the champion among evaluated ``candidates`` for ``target``, or return ``None``.

        Each candidate is a mapping with at least ``name`` and the walk-forward metrics. The call
        **stops at the first non-None result**; when every plugin returns ``None`` the host keeps
        its default rule (lowest error that beats the naive baseline).

        .. versionadded:: 0.1
        """
