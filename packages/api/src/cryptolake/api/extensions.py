"""Schema extensions: the guard (key, rate, cost), the read cache, and what was read.

Order in the schema: ``Guard`` refuses before anything runs; ``ReadCache`` may answer from Redis
(execution is skipped when it sets the result); ``Snapshots`` puts the snapshot ids read into the
response's ``extensions``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import FieldNode, OperationType, print_ast
from strawberry.extensions import SchemaExtension

from cryptolake.api import metrics
from cryptolake.api.errors import LimitExceededError, NotAuthenticatedError
from cryptolake.api.limits import depth, estimate, largest_page, operation

#: root field → lakehouse tables it reads (filled by the schema from each domain's TABLES)
ROOT_TABLES: dict[str, list[str]] = {}
#: seconds answers of these root fields may be reused even with unchanged snapshots (they
#: depend on the clock too)
SHORT_TTL = {"dataHealth": 5}


def _refuse(ec: Any, error: Any) -> None:
    ec.result = GraphQLExecutionResult(data=None, errors=[error])


class Guard(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        ec = self.execution_context
        ctx = ec.context
        app = ctx.app
        error: Exception | None = None
        if ctx.bad_key:
            error = NotAuthenticatedError("the API key sent is unknown or revoked; create a new one "
                                          "with `cryptolake api keys create`")
        elif ctx.key is None and not app.settings.anonymous_reads:
            error = NotAuthenticatedError("anonymous reads are off on this server: send "
                                          "`Authorization: Bearer <key>`")
        if error is None and ec.graphql_document is not None:
            limits = ctx.limits
            deep = depth(ec.graphql_document, ec.operation_name)
            if deep > app.settings.max_introspection_depth:
                _refuse(ec, LimitExceededError(
                    f"this request nests {deep} levels; at most {app.settings.max_introspection_depth} "
                    "(introspection included) are allowed", limit="depth", max=app.settings.max_introspection_depth))
                yield
                return
            page = largest_page(ec.graphql_document, ec.operation_name, ec.variables)
            cost = estimate(ec.graphql_document, ec.operation_name, ec.variables)
            ctx.extra["cost"] = cost
            if page > limits.max_page_size:
                error = LimitExceededError(
                    f"first: {page} is more than the {limits.max_page_size} rows a page may hold for "
                    f"role {ctx.role}; ask for at most {limits.max_page_size} and follow pageInfo.endCursor",
                    limit="pageSize", max=limits.max_page_size)
            elif cost > limits.max_cost:
                error = LimitExceededError(
                    f"this request would cost about {cost} (rows × fields); role {ctx.role} may "
                    f"ask for {limits.max_cost}: ask for fewer rows (first) or fewer fields",
                    limit="cost", cost=cost, max=limits.max_cost)
        if error is None:
            who = ctx.key.key_id if ctx.key is not None else f"ip:{ctx.client}"
            error = await app.rate_limit(who, ctx.limits.rate_per_minute)
        if error is not None:
            _refuse(ec, error)
        yield


def _root_fields(ec: Any) -> tuple[OperationType | None, list[FieldNode]]:
    if ec.graphql_document is None:
        return None, []
    op = operation(ec.graphql_document, ec.operation_name)
    if op is None:
        return None, []
    fields = [s for s in op.selection_set.selections if isinstance(s, FieldNode)]
    if len(fields) != len(op.selection_set.selections):
        return op.operation, []
    return op.operation, fields


def _has_as_of(f: FieldNode, variables: dict[str, Any]) -> bool:
    from graphql import NullValueNode, VariableNode

    for a in f.arguments or ():
        if a.name.value == "asOf":
            if isinstance(a.value, VariableNode):
                return variables.get(a.value.name.value) is not None
            return not isinstance(a.value, NullValueNode)
    return False


#: Root fields whose answers also depend on state outside Iceberg (alert acknowledgements live in
#: PostgreSQL): their cache keys carry a version that each acknowledgement bumps.
ACK_FIELDS = frozenset({"alerts"})
ACKS_VERSION_KEY = "cryptolake:api:acks:version"


async def bump_acks(redis: Any) -> None:
    """A new acknowledgement: cached answers that show acknowledgements are stale now."""
    if redis is None:
        return
    try:
        await redis.incr(ACKS_VERSION_KEY)
    except Exception:  # Redis down: nothing is cached either
        pass


class ReadCache(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        ec = self.execution_context
        ctx = ec.context
        app = ctx.app
        if ec.result is not None or not app.settings.cache or app.redis is None:
            yield
            return
        op_type, fields = _root_fields(ec)
        names = [f.name.value for f in fields]
        if op_type != OperationType.QUERY or not fields or any(
                n.startswith("__") or not ROOT_TABLES.get(n) for n in names):
            ctx.extra["cache"] = "bypass"
            yield
            return
        variables = ec.variables or {}
        immutable = all(_has_as_of(f, variables) for f in fields)
        snapshots: dict[str, Any] = {}
        if not immutable:
            tables = sorted({t for n in names for t in ROOT_TABLES[n]} | {"ops.dq_results"})
            if "*" in tables:
                tables = None  # type: ignore[assignment]
            snapshots = {k: str(v) for k, v in (await app.lakehouse.current_snapshots(tables)).items()}
        acks = None
        if ACK_FIELDS.intersection(names):
            try:
                acks = await app.redis.get(ACKS_VERSION_KEY)
            except Exception:
                acks = None
        material = json.dumps([print_ast(ec.graphql_document) if ec.graphql_document else ec.query, ec.operation_name, variables, ctx.role,
                               snapshots, acks], sort_keys=True, default=str)
        key = "cryptolake:api:cache:" + hashlib.sha256(material.encode()).hexdigest()
        started = time.perf_counter()
        try:
            raw = await app.redis.get(key)
        except Exception:  # the cache is an optimisation: Redis down means a miss
            raw = None
        if raw is not None:
            entry = json.loads(raw)
            ec.result = GraphQLExecutionResult(data=entry["data"], errors=None)
            ctx.extra.update(cache="hit", cached_snapshots=entry["snapshots"], etag=entry["etag"])
            metrics.CACHE.labels("hit").inc()
            yield
            return
        metrics.CACHE.labels("miss").inc()
        ctx.extra["cache"] = "miss"
        yield
        result = ec.result
        if result is None or getattr(result, "errors", None) or getattr(result, "data", None) is None:
            return
        read = ctx.snapshots_read()
        body = json.dumps({"data": result.data, "snapshots": read}, sort_keys=True, default=str)
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
        ctx.extra["etag"] = etag
        ttl = None if immutable else min([app.settings.cache_ttl_s, *(SHORT_TTL[n] for n in names if n in SHORT_TTL)])
        entry = json.dumps({"data": result.data, "snapshots": read, "etag": etag}, default=str)
        try:
            if ttl is None:
                await app.redis.set(key, entry)
            else:
                await app.redis.set(key, entry, ex=ttl)
        except Exception:
            pass
        ctx.extra["cache_s"] = time.perf_counter() - started


class Snapshots(SchemaExtension):
    def get_results(self) -> dict[str, Any]:
        ctx = self.execution_context.context
        if ctx is None or not hasattr(ctx, "extra"):
            return {}
        snaps = ctx.extra.get("cached_snapshots") or ctx.snapshots_read()
        out: dict[str, Any] = {}
        if snaps:
            out["snapshots"] = snaps
        if "cache" in ctx.extra:
            out["cache"] = ctx.extra["cache"]
        if "cost" in ctx.extra:
            out["cost"] = ctx.extra["cost"]
        etag = ctx.extra.get("etag")
        response = getattr(ctx, "response", None)
        if etag and response is not None and hasattr(response, "headers"):
            response.headers["ETag"] = etag
        return out


_LABELS: set[str] = set()


def _label(name: str | None) -> str:
    """Operation names are client input: bounded in form and number as metric labels."""
    import re

    if not name or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,39}", name):
        return "anonymous"
    if name not in _LABELS and len(_LABELS) >= 200:
        return "other"
    _LABELS.add(name)
    return name


class Metrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ec = self.execution_context
        name = _label(ec.operation_name)
        result = ec.result
        outcome = "error" if result is not None and getattr(result, "errors", None) else "ok"
        metrics.REQUESTS.labels(name, outcome).inc()
        metrics.LATENCY.labels(name).observe(time.perf_counter() - started)
