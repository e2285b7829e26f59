"""Permission classes: mutations need an operator key."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from cryptolake.api.errors import ForbiddenError, NotAuthenticatedError


class IsOperator(BasePermission):
    message = "this mutation needs an operator API key"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        ctx = info.context
        if ctx.key is None:
            raise NotAuthenticatedError(
                "mutations need an API key: send `Authorization: Bearer <key>` "
                "(create one with `cryptolake api keys create --role operator`)")
        if ctx.key.role != "operator":
            raise ForbiddenError(f"key {ctx.key.key_id} has role {ctx.key.role}; mutations need "
                                 "an operator key")
        return True
