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


def filter_items(view: CollectionView, conditions: Mapping[str, Any]) -> CollectionView:
    """The view on a copy of its collection holding only the items that pass."""
    collection = view.collection
    if not isinstance(collection, Collection):
        raise ArgumentInvalid("load_collection: properties need a catalog collection")
    try:
        narrowed = collection.where(lambda item: _passes(item, conditions))
    except CatalogInvalid:
        raise NoData(
            f"No item of collection {collection.id!r} passes the properties filter on "
            f"{', '.join(conditions)}"
        ) from None
    return dataclasses.replace(view, collection=narrowed)
