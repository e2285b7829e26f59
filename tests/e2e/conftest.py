"""Fixtures shared by the end-to-end tests (the API's: tests/e2e/_api.py)."""

from _api import api, example_site, loaded_lakehouse, ticks_table  # noqa: F401
