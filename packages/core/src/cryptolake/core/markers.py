"""The pluggy markers of the ``cryptolake`` project name.

Plugins decorate their hook implementations with :data:`hookimpl`.
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "cryptolake"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
