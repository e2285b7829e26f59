"""cryptolake-api: the Strawberry GraphQL data service over Trino."""

from __future__ import annotations

__version__ = "0.1.0"
