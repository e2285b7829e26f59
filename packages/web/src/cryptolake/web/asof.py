"""The as-of selector's text → the API's ``asOf`` input (pure; unit-tested)."""

from __future__ import annotations

from typing import Any

from cryptolake.web import format as fmt


class AsOfError(ValueError):
    """The text is neither a snapshot id nor a time."""


def parse_as_of(text: str) -> dict[str, Any] | None:
    """``""`` → None (now); ``"1234567890123"`` (digits, > 10 of them) → ``{"snapshotId": …}``;
    a time (``2024-12-01 12:00``, ISO-8601, taken as UTC without an offset) →
    ``{"timestamp": "2024-12-01T12:00:00+00:00"}``."""
    text = (text or "").strip()
    if not text:
        return None
    if text.isdigit() and len(text) > 10:
        return {"snapshotId": text}
    dt = fmt.to_datetime(text)
    if dt is None:
        raise AsOfError(f"as-of {text!r} is neither a snapshot id nor a time (YYYY-MM-DD HH:MM, UTC)")
    return {"timestamp": dt.isoformat()}


def label(spec: dict[str, Any] | None) -> str:
    if not spec:
        return "now"
    if "snapshotId" in spec:
        return f"snapshot {spec['snapshotId']}"
    return fmt.utc(spec["timestamp"], seconds=True)
