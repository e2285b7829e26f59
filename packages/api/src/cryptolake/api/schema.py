"""The schema: every domain's root fields, the plugins' fields, the limits and extensions.

``schema`` (module level, the built-in fields) is what ``strawberry export-schema
cryptolake.api.schema:schema`` exports to packages/api/schema.graphql.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)

from cryptolake.api import extensions as ext
from cryptolake.api.errors import ApiError
from cryptolake.api.market import queries as market
from cryptolake.api.models import queries as models
from cryptolake.api.models.mutations import ModelsMutation
from cryptolake.api.pipeline import queries as pipeline
from cryptolake.api.pipeline.mutations import PipelineMutation
from cryptolake.api.quality import queries as quality
from cryptolake.api.quality.mutations import QualityMutation
from cryptolake.api.settings import ApiSettings, get_api_settings
from cryptolake.api.system import queries as system


def should_mask(error: GraphQLError) -> bool:
    """Mask unexpected errors raised while resolving; keep expected ones and validation errors."""
    original = error.original_error
    if isinstance(error, ApiError) or isinstance(original, ApiError):
        return False
    return original is not None


@strawberry.type
class Mutation(PipelineMutation, QualityMutation, ModelsMutation):
    pass


def _query_type(plugin_fields: dict[str, Any]) -> type:
    bases = (market.MarketQuery, quality.QualityQuery, pipeline.PipelineQuery, models.ModelsQuery,
             system.SystemQuery)
    ns: dict[str, Any] = dict(plugin_fields)
    return strawberry.type(type("Query", bases, ns))


def builtin_tables() -> dict[str, list[str]]:
    return {**market.TABLES, **quality.TABLES, **pipeline.TABLES, **models.TABLES, **system.TABLES}


def build_schema(host: Any | None = None, settings: ApiSettings | None = None) -> strawberry.Schema:
    from cryptolake.api import plugins as api_plugins
    from cryptolake.api.subscriptions import Subscription

    s = settings or get_api_settings()
    tables = builtin_tables()
    plugin_fields: dict[str, Any] = {}
    if host is not None:
        reg = api_plugins.collect(host, set(tables))
        for name, tf in reg.fields.items():
            _, fld = api_plugins.build_field(tf)
            py_name = "".join("_" + c.lower() if c.isupper() else c for c in name)
            plugin_fields[py_name] = fld
            tables[name] = [tf.table]
    parser_cache, validation_cache = ParserCache(maxsize=256), ValidationCache(maxsize=256)
    ext.ROOT_TABLES.clear()
    ext.ROOT_TABLES.update(tables)
    return strawberry.Schema(
        query=_query_type(plugin_fields),
        mutation=Mutation,
        subscription=Subscription,
        extensions=[
            lambda: QueryDepthLimiter(max_depth=s.max_depth),
            lambda: MaxAliasesLimiter(max_alias_count=s.max_aliases),
            lambda: MaxTokensLimiter(max_token_count=s.max_tokens),
            lambda: parser_cache,  # one cache for every request
            lambda: validation_cache,
            ext.Metrics,
            ext.Guard,
            ext.ReadCache,
            ext.Snapshots,
            lambda: MaskErrors(should_mask_error=should_mask,
                               error_message="Unexpected error; it was logged on the server."),
        ],
    )


#: the built-in schema (no plugin fields): what packages/api/schema.graphql holds; the server
#: builds its own with the installed plugins' fields added
schema = build_schema(None)
