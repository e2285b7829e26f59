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


def depth(doc: DocumentNode, name: str | None) -> int:
    """Field nesting of the operation, introspection fields included (Strawberry's
    QueryDepthLimiter skips ``__schema``/``__type``, where ``ofType`` chains can nest freely)."""
    op = operation(doc, name)
    if op is None:
        return 0
    frags = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}

    def walk(sel: SelectionSetNode | None, seen: frozenset[str]) -> int:
        if sel is None:
            return 0
        best = 0
        for s in sel.selections:
            if isinstance(s, FieldNode):
                best = max(best, 1 + walk(s.selection_set, seen))
            elif isinstance(s, InlineFragmentNode):
                best = max(best, walk(s.selection_set, seen))
            elif isinstance(s, FragmentSpreadNode) and s.name.value in frags and s.name.value not in seen:
                best = max(best, walk(frags[s.name.value].selection_set, seen | {s.name.value}))
        return best

    return walk(op.selection_set, frozenset())


def largest_page(doc: DocumentNode, name: str | None, variables: dict[str, Any] | None) -> int:
    """The largest ``first`` anywhere in the operation (0 when none)."""
    from graphql import visit
    from graphql.language import Visitor

    op = operation(doc, name)
    if op is None:
        return 0
    found = [0]
    vars_ = variables or {}

    class V(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            v = _arg(node, "first", vars_)
            try:
                found[0] = max(found[0], int(v)) if v is not None else found[0]
            except (TypeError, ValueError):
                pass

    visit(doc, V())
    return found[0]
