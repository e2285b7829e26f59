"""Numbers and times as the pages show them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptolake.web import format as fmt


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (100_000, "100,000.00"),
        (67012.3456, "67,012.35"),
        (1772.99, "1,772.99"),
        (123.4567, "123.457"),
        (1.23456, "1.23456"),
        (0.3681, "0.368100"),
        (0.000123456, "0.000123456"),
        (6.38e-06, "0.00000638000"),
        (1e-8, "0.000000010000"),
        (0, "0.00"),
        (-0.001, "-0.00100000"),
        ("95372.0", "95,372.00"),
    ],
)
def test_prices_keep_six_significant_digits(value: object, text: str) -> None:
    assert fmt.price(value) == text


@pytest.mark.parametrize("value", [None, "", "abc", float("nan"), float("inf"), True, [1]])
def test_missing_values_are_shown_as_missing(value: object) -> None:
    assert fmt.price(value) == fmt.MISSING
    assert fmt.thousands(value) == fmt.MISSING
    assert fmt.percent(value) == fmt.MISSING


@given(st.floats(min_value=1e-8, max_value=1e5, allow_nan=False, allow_infinity=False))
def test_price_round_trips_to_six_significant_digits(value: float) -> None:
    text = fmt.price(value)
    back = Decimal(text.replace(",", ""))
    assert 2 <= fmt.price_decimals(value) <= 12
    # the shown value is the price rounded to its last shown decimal
    assert abs(back - Decimal(repr(value))) <= Decimal(1).scaleb(-fmt.price_decimals(value)) / 2 + Decimal("1e-20")
    if value >= 1:
        integer = text.split(".")[0]
        assert integer == f"{int(integer.replace(',', '')):,}"  # a comma every three digits


def test_thousands_and_compact() -> None:
    assert fmt.thousands(1234567.891) == "1,234,568"
    assert fmt.thousands(1234567.891, 2) == "1,234,567.89"
    assert fmt.thousands(-0.001, 2) == "0.00"
    assert fmt.compact(1_234_567) == "1.23 M"
    assert fmt.compact(3_639_158_392) == "3.64 B"
    assert fmt.compact(999) == "999"


def test_percent_is_signed_and_reads_fractions() -> None:
    assert fmt.percent(1.234) == "+1.23 %"
    assert fmt.percent(-0.022452875, fraction=True) == "-2.25 %"
    assert fmt.percent(0.5, fraction=True, signed=False) == "50.00 %"
    assert fmt.percent(0) == "0.00 %"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("2024-05-01T12:00:00+02:00", "2024-05-01 10:00 UTC"),
        ("2024-12-02T22:00:00Z", "2024-12-02 22:00 UTC"),
        ("2024-12-02 22:00:00", "2024-12-02 22:00 UTC"),  # naive: taken as UTC
        (1714564800, "2024-05-01 12:00 UTC"),
        (1714564800000, "2024-05-01 12:00 UTC"),  # milliseconds
        ("2023-03-28", "2023-03-28 00:00 UTC"),
        ("not a time", fmt.MISSING),
        (None, fmt.MISSING),
    ],
)
def test_times_are_utc_and_say_so(value: object, text: str) -> None:
    assert fmt.utc(value) == text


def test_dates_and_durations() -> None:
    assert fmt.utc("2023-03-28", date_only=True) == "2023-03-28 UTC"
    assert fmt.utc(1714564800, seconds=True) == "2024-05-01 12:00:00 UTC"
    assert fmt.duration(45) == "45 s"
    assert fmt.duration(120) == "2 min"
    assert fmt.duration(3720) == "1 h 2 min"
    assert fmt.duration(200_000) == "2 d 7 h"
    assert fmt.duration(None) == fmt.MISSING
