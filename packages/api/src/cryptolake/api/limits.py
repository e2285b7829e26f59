"""The cost of a request, estimated before it runs: rows × fields.

Strawberry has no cost extension. Each field costs one per row it is resolved for; a field with a
``first`` argument multiplies its children by the page size asked for (the default page when not
given), a list without pagination by its declared size. The estimate uses the variables, so
``first: $n`` counts as what ``$n`` is.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

from cryptolake.api.common import DEFAULT_PAGE

#: rows estimated for list fields that take no page size
LIST_SIZES = {"coins": 50, "marketOverview": 50, "modelComparison": 50, "tables": 60,
              "steps": 30, "services": 3, "failedChecks": 20, "failingChecks": 20}


def _arg(field: FieldNode, name: str, variables: dict[str, Any]) -> Any:
    for a in field.arguments or ():
        if a.name.value == name:
            v = a.value
            if isinstance(v, VariableNode):
                return variables.get(v.name.value)
            return getattr(v, "value", None)
    return None


def operation(doc: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        ops = [o for o in ops if o.name and o.name.value == name]
    return ops[0] if len(ops) == 1 else None


def estimate(doc: DocumentNode, name: str | None, variables: dict[str, Any] | None) -> int:
    op = operation(doc, name)
    if op is None:
        return 0
    variables = variables or {}
    frags = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}

    def cost(sel: SelectionSetNode | None, mult: int, seen: frozenset[str]) -> int:
        if sel is None:
            return 0
        total = 0
        for s in sel.selections:
            if isinstance(s, FieldNode):
                total += mult
                if s.selection_set is not None:
                    first = _arg(s, "first", variables)
                    name = s.name.value
                    if first is not None or name in ("candles", "trades", "vwap", "anomalies",
                                                     "marketDaily", "fearGreed", "dqResults", "alerts",
                                                     "pipelineRuns", "predictionHistory"):
                        try:
                            factor = max(1, int(first)) if first is not None else DEFAULT_PAGE
                        except (TypeError, ValueError):
                            factor = DEFAULT_PAGE
                    else:
                        factor = LIST_SIZES.get(name, 1)
                    total += cost(s.selection_set, mult * factor, seen)
            elif isinstance(s, InlineFragmentNode):
                total += cost(s.selection_set, mult, seen)
            elif isinstance(s, FragmentSpreadNode):
                fname = s.name.value
                if fname in frags and fname not in seen:
                    total += cost(frags[fname].selection_set, mult, seen | {fname})
        return total

    return cost(op.selection_set, 1, frozenset())
