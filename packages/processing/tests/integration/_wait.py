"""Waiting on the real stack: poll until a condition holds, never a timed assertion."""

from __future__ import annotations

import time
from typing import Any


def wait_for(what: str, predicate: Any, timeout: float, every: float = 1.0) -> Any:
    """``predicate()``'s first truthy value, polled every ``every`` s for up to ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
