"""The as-of selector's text → the API's ``asOf``."""

from __future__ import annotations

import pytest

from cryptolake.web.asof import AsOfError, label, parse_as_of


def test_empty_means_now() -> None:
    assert parse_as_of("") is None
    assert parse_as_of("   ") is None
    assert label(None) == "now"


def test_a_snapshot_id() -> None:
    spec = parse_as_of(" 8822780623615519320 ")
    assert spec == {"snapshotId": "8822780623615519320"}
    assert label(spec) == "snapshot 8822780623615519320"


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2024-12-01 12:00", "2024-12-01T12:00:00+00:00"),
        ("2024-12-01T12:00:00+01:00", "2024-12-01T11:00:00+00:00"),
        ("2024-12-01", "2024-12-01T00:00:00+00:00"),
    ],
)
def test_a_time_is_utc(text: str, iso: str) -> None:
    spec = parse_as_of(text)
    assert spec == {"timestamp": iso}
    assert label(spec).endswith(" UTC")


def test_nonsense_is_refused_with_a_hint() -> None:
    with pytest.raises(AsOfError, match="neither a snapshot id nor a time"):
        parse_as_of("yesterday")
