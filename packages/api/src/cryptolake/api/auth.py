"""API keys: created once (printed once), stored as a SHA-256 hash in PostgreSQL, revocable.

A key reads ``clk_<id>_<secret>`` with 32 random bytes of secret, so a plain SHA-256 (no salt, no
stretching) is safe to store: there is nothing to guess. Roles: ``reader`` (queries and
subscriptions) and ``operator`` (also mutations). Alert acknowledgements live here too (the
``ops.alerts`` table is append-only).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    insert,
    select,
    update,
)

ROLES = ("reader", "operator")
metadata = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

alert_acks = Table(
    "api_alert_acks",
    metadata,
    Column("alert_id", String(200), primary_key=True),
    Column("acknowledged_at", DateTime(timezone=True), nullable=False),
    Column("key_id", String(16)),
    Column("note", String(1000)),
)


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_key_id(key: str) -> str | None:
    parts = key.split("_")
    return parts[1] if len(parts) == 3 and parts[0] == "clk" else None


class KeyStore:
    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._ready = False
        self._seen: dict[str, tuple[float, ApiKey | None]] = {}

    def ensure(self) -> None:
        if not self._ready:
            metadata.create_all(self.engine, checkfirst=True)
            self._ready = True

    def create(self, name: str, role: str) -> tuple[str, ApiKey]:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        self.ensure()
        key_id = secrets.token_hex(4)
        key = f"clk_{key_id}_{secrets.token_urlsafe(32).replace('_', '-')}"
        now = datetime.now(UTC)
        with self.engine.begin() as c:
            c.execute(insert(api_keys).values(key_id=key_id, name=name, role=role,
                                              key_hash=hash_key(key), created_at=now))
        return key, ApiKey(key_id, name, role, now, None)

    def listing(self) -> list[ApiKey]:
        self.ensure()
        with self.engine.connect() as c:
            rows = c.execute(select(api_keys).order_by(api_keys.c.created_at)).all()
        return [ApiKey(r.key_id, r.name, r.role, r.created_at, r.revoked_at) for r in rows]

    def revoke(self, key_id: str) -> bool:
        self.ensure()
        with self.engine.begin() as c:
            res = c.execute(update(api_keys).where(api_keys.c.key_id == key_id,
                                                   api_keys.c.revoked_at.is_(None))
                            .values(revoked_at=datetime.now(UTC)))
        self._seen.clear()
        return bool(res.rowcount)

    def verify(self, key: str, cache_s: float = 2.0) -> ApiKey | None:
        """The active key ``key`` is, or ``None`` (unknown or revoked). Answers are reused for
        ``cache_s`` seconds, so a revocation takes effect within that time in every process."""
        h = hash_key(key)
        hit = self._seen.get(h)
        if hit is not None and time.monotonic() - hit[0] < cache_s:
            return hit[1]
        self.ensure()
        with self.engine.connect() as c:
            r = c.execute(select(api_keys).where(api_keys.c.key_hash == h)).first()
        found = ApiKey(r.key_id, r.name, r.role, r.created_at, r.revoked_at) if r else None
        if found is not None and not found.active:
            found = None
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[h] = (time.monotonic(), found)
        return found

    def acknowledge(self, alert_id: str, key_id: str | None, note: str | None) -> datetime:
        self.ensure()
        now = datetime.now(UTC)
        with self.engine.begin() as c:
            existing = c.execute(select(alert_acks.c.acknowledged_at)
                                 .where(alert_acks.c.alert_id == alert_id)).first()
            if existing is not None:
                return existing[0]  # type: ignore[no-any-return]
            c.execute(insert(alert_acks).values(alert_id=alert_id, acknowledged_at=now,
                                                key_id=key_id, note=note))
        return now

    def acknowledged(self, alert_ids: list[str]) -> dict[str, datetime]:
        if not alert_ids:
            return {}
        self.ensure()
        with self.engine.connect() as c:
            rows = c.execute(select(alert_acks.c.alert_id, alert_acks.c.acknowledged_at)
                             .where(alert_acks.c.alert_id.in_(alert_ids))).all()
        return {a: t for a, t in rows}

    def all_acknowledged(self) -> set[str]:
        self.ensure()
        with self.engine.connect() as c:
            return {r[0] for r in c.execute(select(alert_acks.c.alert_id)).all()}
