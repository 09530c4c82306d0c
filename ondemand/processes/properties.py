"""Metadata filters of load_collection: keep the items whose properties pass every condition.

``properties`` maps a STAC property name (``eo:cloud_cover``, ``platform`` ...) to a
child graph with the parameter ``value`` that computes true or false, e.g.
``{"eo:cloud_cover": {"process_graph": {"c": {"process_id": "lte", "arguments":
{"x": {"from_parameter": "value"}, "y": 20}, "result": true}}}}``. An item lacking the
property gets ``value: null`` (and comparisons with null are not true).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from ..catalog import Collection, Item
from ..errors import ArgumentInvalid, CatalogInvalid, NoData
from ..graph import ParamRef
from .context import CollectionView
from .registry import Parameter
from .types import PROCESS_GRAPH, Check, ValueType

PROPERTIES = Parameter(
    "properties",
    "Conditions on item properties (all must be true), or null.",
    [{"type": "object", "subtype": "metadata-filter",
      "additionalProperties": {"type": "object", "subtype": PROCESS_GRAPH, "parameters": [
          {"name": "value", "description": "The property's value.",
           "schema": {"description": "Any data type."}}],
          "returns": {"description": "Whether to keep the item.",
                      "schema": {"type": "boolean"}}}},
     {"type": "null"}],
    required=False,
)


def check_properties(c: Check) -> None:
    """Validation: properties is null or an object of child graphs (checked by the validator)."""
    value = c.args.get("properties")
    if value is None:
        return
    if not isinstance(value, ValueType) and value != {}:
        raise c.invalid("properties", "expected an object mapping property names to "
                        "{\"process_graph\": ...} conditions")


def _passes(item: Item, conditions: Mapping[str, Callable[..., Any]]) -> bool:
    for name, condition in conditions.items():
        value = item.datetime.isoformat() if name == "datetime" else item.properties.get(name)
        if condition(value=value) is not True:
            return False
    return True


_QUERY_OPS = {"eq": "eq", "neq": "neq", "lt": "lt", "lte": "lte", "gt": "gt", "gte": "gte"}
_DEFAULTS: dict[str, Any] = {"delta": None, "case_sensitive": True}
_MIRRORED = {"lt": "gt", "lte": "gte", "gt": "lt", "gte": "lte", "eq": "eq", "neq": "neq"}


def stac_query(conditions: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The conditions a STAC API can apply itself, in its ``query`` extension's form.

    Only one-node comparisons of ``value`` with a number or string translate (``lte`` of
    ``eo:cloud_cover`` and 20 -> ``{"eo:cloud_cover": {"lte": 20}}``); the server still
    applies every condition to what the API returns.
    """
    query: dict[str, dict[str, Any]] = {}
    for name, condition in conditions.items():
        graph = getattr(condition, "graph", None)
        if graph is None or len(graph.nodes) != 1 or name == "datetime":
            continue
        node = graph.nodes[graph.result]
        op = _QUERY_OPS.get(node.process_id)
        x, y = node.arguments.get("x"), node.arguments.get("y")
        extra = {k: v for k, v in node.arguments.items() if k not in ("x", "y")}
        if op is None or any(_DEFAULTS.get(k, object()) != v for k, v in extra.items()):
            continue  # e.g. eq with a delta or case-insensitive: the server applies it
        if isinstance(x, ParamRef) and x.name == "value" and _literal(y):
            query.setdefault(name, {})[op] = y
        elif isinstance(y, ParamRef) and y.name == "value" and _literal(x):
            query.setdefault(name, {})[_MIRRORED[op]] = x
    return query


def _literal(value: Any) -> bool:
    """A number or string (not a bool, not a reference)."""
    return isinstance(value, int | float | str) and not isinstance(value, bool)


def filter_items(view: CollectionView, conditions: Mapping[str, Any]) -> CollectionView:
    """The view on a copy of its collection holding only the items that pass."""
    collection = view.collection
    if not isinstance(collection, Collection):
        raise ArgumentInvalid("load_collection: properties need a catalog collection")
    try:
        narrowed = collection.where(lambda item: _passes(item, conditions),
                                    stac_query(conditions))
    except CatalogInvalid:
        raise NoData(
            f"No item of collection {collection.id!r} passes the properties filter on "
            f"{', '.join(conditions)}"
        ) from None
    return dataclasses.replace(view, collection=narrowed)
