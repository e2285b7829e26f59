"""Types shared by every domain: ``asOf``, cursors and connections, filters, ``quality``."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import strawberry
from strawberry.types import Info

from cryptolake.api.errors import BadArgumentError, BadCursorError, LimitExceededError
from cryptolake.api.lakehouse import AsOfSpec, MissingTableError, Reader
from cryptolake.api.values import Quality, utc

if TYPE_CHECKING:
    from cryptolake.api.context import Context

T = TypeVar("T")

DEFAULT_PAGE = 100


@strawberry.input(one_of=True, description="Read a past state: one of a snapshot id or a time.")
class AsOf:
    snapshot_id: strawberry.ID | None = strawberry.UNSET
    timestamp: datetime | None = strawberry.UNSET

    def spec(self) -> AsOfSpec:
        if self.snapshot_id not in (None, strawberry.UNSET):
            try:
                return AsOfSpec(snapshot_id=int(str(self.snapshot_id)))
            except ValueError:
                raise BadArgumentError(
                    f"asOf.snapshotId {self.snapshot_id!r} is not a snapshot id (an integer)"
                ) from None
        ts = self.timestamp
        if ts in (None, strawberry.UNSET):
            raise BadArgumentError("asOf needs snapshotId or timestamp")
        assert isinstance(ts, datetime)
        return AsOfSpec(timestamp=ts if ts.tzinfo else ts.replace(tzinfo=UTC))


@strawberry.enum
class Order(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.input(description="Comparison operators on a number; all given must hold.")
class FloatFilter:
    eq: float | None = None
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None


_OPS = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def filter_sql(column: str, f: FloatFilter | None) -> tuple[list[str], list[Any]]:
    """SQL conditions for one whitelisted column and their parameters."""
    if f is None:
        return [], []
    conds, params = [], []
    for name, op in _OPS.items():
        value = getattr(f, name)
        if value is not None:
            conds.append(f"{column} {op} ?")
            params.append(float(value))
    return conds, params


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    start_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of results; pass pageInfo.endCursor as `after` for the next.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of the edges, for convenience.")
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime | date) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, kinds: tuple[type, ...]) -> list[Any] | None:
    """The key values in ``cursor``, typed by ``kinds`` (datetime, date, int, str, float)."""
    if cursor in (None, ""):
        return None
    assert cursor is not None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise ValueError
        out: list[Any] = []
        for kind, v in zip(kinds, raw, strict=True):
            if kind is datetime:
                d = datetime.fromisoformat(v)
                out.append(d if d.tzinfo else d.replace(tzinfo=UTC))
            elif kind is date:
                out.append(date.fromisoformat(v))
            else:
                out.append(kind(v))
        return out
    except Exception:
        raise BadCursorError(
            f"cursor {cursor[:40]!r} is not one this field returned; pass a pageInfo.endCursor "
            "or an edge cursor from an earlier answer of the same field"
        ) from None


def page_size(info: Info, first: int | None) -> int:
    ctx: Context = info.context
    cap = ctx.limits.max_page_size
    n = DEFAULT_PAGE if first is None else first
    if n < 1:
        raise BadArgumentError(f"first must be at least 1, not {n}")
    if n > cap:
        raise LimitExceededError(
            f"first: {n} is more than the {cap} rows a page may hold for role {ctx.role}; "
            f"ask for at most {cap} and follow pageInfo.endCursor",
            limit="pageSize", max=cap,
        )
    return n


def connection(nodes: list[Any], n: int, key: Any) -> Connection[Any]:
    """A page from ``n + 1`` fetched nodes; ``key(node)`` gives the cursor's key values."""
    more = len(nodes) > n
    nodes = nodes[:n]
    edges = [Edge(cursor=encode_cursor(key(x)), node=x) for x in nodes]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None,
                           start_cursor=edges[0].cursor if edges else None),
    )


def reader(info: Info, as_of: AsOf | None, primary: str | None = None) -> Reader:
    """A reader pinned for this root field; what it reads is reported in ``extensions``."""
    ctx: Context = info.context
    spec = as_of.spec() if as_of is not None else AsOfSpec()
    r = Reader(ctx.app.lakehouse, spec, primary)
    ctx.readers.append((str(info.path.key), r))
    return r


async def quality_of(info: Info, table: str, r: Reader | None) -> Quality:
    ctx: Context = info.context
    return await ctx.loaders.quality(r).load(table)  # type: ignore[no-any-return]


__all__ = ["AsOf", "Connection", "Edge", "FloatFilter", "MissingTableError", "Order", "PageInfo",
           "Quality", "connection", "decode_cursor", "encode_cursor", "filter_sql", "page_size",
           "quality_of", "reader", "utc"]
