"""cryptolake-ml: forecasting models, ensemble and walk-forward evaluation (model plugins).

The model family's hook specs live in :mod:`cryptolake.core.hookspecs.models`; this package will
register its estimators through them.
"""

from __future__ import annotations

__version__ = "0.1.0"
