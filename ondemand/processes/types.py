"""Types shared by process declarations: catalog protocols, value types, the check context."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from rasterio.crs import CRS

from ..errors import ArgumentInvalid


class BandLike(Protocol):
    """What processes read of a catalog band."""

    @property
    def name(self) -> str:
        """The band's name (also the asset key)."""

    @property
    def common_name(self) -> str | None:
        """The band's common name (``red``, ``nir``), if any."""


class CollectionLike(Protocol):
    """What processes read of a catalog collection."""

    @property
    def id(self) -> str:
        """The collection id."""

    @property
    def bands(self) -> Sequence[BandLike]:
        """All bands, in order."""

    @property
    def crs(self) -> CRS:
        """The collection's native CRS."""

    @property
    def interval(self) -> tuple[datetime, datetime]:
        """First and last acquisition datetime."""

    def band(self, ref: str | int) -> BandLike:
        """Resolve a band by name, band id, common name or number (else BandNotFound)."""


class CatalogLike(Protocol):
    """What validation reads of a catalog."""

    def get(self, collection_id: str) -> CollectionLike:
        """The collection of this id or alias (else CollectionNotFound)."""


RASTER_CUBE = "raster-cube"
VECTOR_CUBE = "vector-cube"
"""A table of values per geometry (aggregate_spatial): kind ``table`` at run time."""
ARRAY = "array"
NUMBER = "number"
INTEGER = "integer"
PROCESS_GRAPH = "process-graph"
ANY = "any"
TABLE = "table"
"""A table of rows (``zonal_statistics``, ``aggregate_spatial``): GPKG, GeoJSON, CSV, JSON."""


@dataclass(frozen=True, eq=False)
class ValueType:
    """The statically known type of a node's output or of a child-graph parameter.

    ``kind`` is ``raster-cube``, ``array`` (the labelled values a reducer gets),
    ``number``, ``integer``, ``boolean``, ``string``, ``null``, ``object``,
    ``process-graph``, ``table`` or ``any``. For cubes and arrays ``bands`` lists the band
    labels when known and ``collection`` is set while the value is still a lazy
    view of that collection (bands resolve through it, masks by class can read it).
    For arrays ``dimension`` names the dimension being reduced.
    """

    kind: str
    has_time: bool = False
    bands: tuple[str, ...] | None = None
    collection: CollectionLike | None = None
    dimension: str | None = None

    def describe(self) -> str:
        """A short text for error messages."""
        if self.kind == RASTER_CUBE:
            dims = ("t, " if self.has_time else "") + "bands, y, x"
            return f"a raster cube ({dims})"
        if self.kind == ARRAY:
            return f"an array over {self.dimension or 'a dimension'}"
        return f"a {self.kind}"


def kind_of(value: Any) -> str:
    """The kind of a JSON literal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, Sequence):
        return ARRAY
    return ANY


def schema_kinds(schema: Any) -> frozenset[str]:
    """The kinds a parameter schema (or a list of alternatives) accepts (``any``: no limit)."""
    if isinstance(schema, Sequence) and not isinstance(schema, str):
        alternatives: set[str] = set()
        for sub in schema:
            alternatives |= schema_kinds(sub)
        return frozenset(alternatives)
    if "anyOf" in schema:
        out: set[str] = set()
        for sub in schema["anyOf"]:
            out |= schema_kinds(sub)
        return frozenset(out)
    subtype = schema.get("subtype")
    if subtype == VECTOR_CUBE:
        return frozenset({VECTOR_CUBE, TABLE})
    if subtype in (RASTER_CUBE, PROCESS_GRAPH):
        return frozenset({subtype})
    types = schema.get("type")
    if types is None:
        return frozenset({ANY})
    kinds: set[str] = set()
    for t in [types] if isinstance(types, str) else types:
        kinds |= {NUMBER, INTEGER} if t == NUMBER else {t}
    return frozenset(kinds)


def accepts(schema: Any, kind: str) -> bool:
    """Whether a value of ``kind`` may be passed to a parameter of ``schema``."""
    kinds = schema_kinds(schema)
    return ANY in kinds or kind == ANY or kind in kinds


ChildChecker = Callable[[str, Mapping[str, ValueType]], ValueType]
"""``(argument, parameter types) -> result type`` of a child graph argument."""


@dataclass(frozen=True)
class Check:
    """What a process's validation hook sees of one node.

    ``args`` holds canonical arguments: JSON literals as given, and a
    :class:`ValueType` where the value comes from another node or a parameter.
    """

    node_id: str
    process_id: str
    args: Mapping[str, Any]
    catalog: CatalogLike
    child: ChildChecker
    graphs: Mapping[str, Any] = field(default_factory=dict)
    """The child graphs (:class:`~ondemand.graph.Graph`) given, by argument name."""

    @property
    def where(self) -> str:
        """``Node 'x' (process)`` for messages."""
        return f"Node {self.node_id!r} ({self.process_id})"

    def invalid(self, name: str, message: str) -> ArgumentInvalid:
        """An ArgumentInvalid naming this node and argument."""
        return ArgumentInvalid(f"{self.where}: argument {name!r}: {message}")

    def type_of(self, name: str) -> ValueType:
        """The type of an argument (literal or computed)."""
        value = self.args.get(name)
        if isinstance(value, ValueType):
            return value
        return ValueType(kind_of(value))

    def literal(self, name: str) -> Any:
        """The literal value of an argument; computed inputs are ArgumentInvalid here."""
        value = self.args.get(name)
        if isinstance(value, ValueType):
            raise self.invalid(name, "must be a literal value, not the result of another process")
        return value

    def number(self, name: str, *, optional: bool = False) -> float | None:
        """A finite literal number argument (``None`` allowed when ``optional``)."""
        value = self.literal(name)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value
        ):
            raise self.invalid(name, f"expected a number, got {value!r}")
        return float(value)

    def cube(self, name: str = "data") -> ValueType:
        """The type of a raster-cube argument (ArgumentInvalid for anything else)."""
        t = self.type_of(name)
        if t.kind not in (RASTER_CUBE, ANY):
            raise self.invalid(name, f"expected a raster cube, got {t.describe()}")
        return t

    def timed_cube(self, name: str = "data") -> ValueType:
        """The type of a raster-cube argument that still has its time dimension."""
        t = self.cube(name)
        if not t.has_time:
            raise self.invalid(name, "the cube has no time dimension (it was already reduced)")
        return t

    def time_dimension(self, name: str = "dimension") -> None:
        """Check that a temporal ``dimension`` argument names the cube's (``t``) or is null."""
        if self.literal(name) not in (None, "t"):
            raise self.invalid(name, f"no temporal dimension {self.literal(name)!r}; "
                               "the cube's is 't'")

    def child_graph(self, name: str, params: Mapping[str, ValueType]) -> ValueType:
        """Check the child graph ``name`` with ``params`` and ``context``; its result type."""
        if self.type_of(name).kind != PROCESS_GRAPH:
            raise self.invalid(name, "expected a child process graph {\"process_graph\": {...}}")
        return self.child(name, {**params, "context": self.type_of("context")})
