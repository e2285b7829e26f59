"""The per-request context: who is asking, their limits, the readers used, the DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strawberry.fastapi import BaseContext

from cryptolake.api.auth import ApiKey
from cryptolake.api.settings import RoleLimits

if TYPE_CHECKING:
    from cryptolake.api.lakehouse import Reader
    from cryptolake.api.loaders import Loaders
    from cryptolake.api.state import ApiState


@dataclass
class Context(BaseContext):
    app: ApiState = None  # type: ignore[assignment]
    key: ApiKey | None = None
    #: a key was presented but is unknown or revoked
    bad_key: bool = False
    client: str = "anonymous"
    readers: list[tuple[str, Reader]] = field(default_factory=list)
    loaders: Loaders = None  # type: ignore[assignment]
    subscriptions: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__()

    @property
    def role(self) -> str:
        return self.key.role if self.key is not None else "anonymous"

    @property
    def limits(self) -> RoleLimits:
        return self.app.settings.limits(self.role)

    def snapshots_read(self) -> dict[str, Any]:
        """``table`` → snapshot id read (a list when one table was read at several)."""
        out: dict[str, Any] = {}
        for _, r in self.readers:
            for table, sid in r.read.items():
                value = str(sid) if sid is not None else None
                if table in out and out[table] != value:
                    prev = out[table] if isinstance(out[table], list) else [out[table]]
                    if value not in prev:
                        prev.append(value)
                    out[table] = prev
                else:
                    out[table] = value
        return out
