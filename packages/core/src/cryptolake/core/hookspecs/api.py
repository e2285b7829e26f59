"""Hook specs of the GraphQL API: plugins expose their tables as types and root fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from cryptolake.core.markers import hookspec


class ApiFieldRegistry(Protocol):
    """What ``cryptolake_register_api_fields`` receives (implemented by cryptolake-api)."""

    def add_table(self, name: str, *, table: str, type_name: str, columns: Mapping[str, str],
                  order_by: Sequence[str] = (), description: str = "") -> None: ...


class ApiSpecs:
    @hookspec
    def cryptolake_register_api_fields(self, registry: ApiFieldRegistry) -> None:
        """Expose a lakehouse table in the GraphQL API with ``registry.add_table(name, table=...,
        type_name=..., columns={"col": "Int" | "Float" | "String" | "Boolean" | "DateTime" |
        "Date"}, order_by=(...))``.

        The API adds a type ``type_name`` and a root field ``name`` answering a cursor connection
        (``first``, ``after``, ``asOf``) read through the same pinned, parameterised reader as the
        built-in fields (snapshot ids in the response's ``extensions``, a ``quality`` field, the
        cache and the cost limit). Called once per API schema build, for every plugin; all results
        are ignored; a plugin that raises is logged and its fields are left out.

        .. versionadded:: 0.2
        """
