"""save_result: passes the data through; its format and options choose the encoding.

:func:`output_options` reads them from a graph whose result is ``save_result`` and
:func:`result_output` merges them with a request's ``output`` object: the graph's
``format`` wins, so a graph ending in ``save_result(format="PNG")`` is a PNG however it
is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import OutputFormatUnsupported
from ..formats.options import FORMATS, format_name
from ..graph import Graph, thaw
from .context import EvalContext
from .params import DATA_LEGACY
from .registry import Parameter, Process
from .types import ANY, RASTER_CUBE, TABLE, Check, ValueType

COG_NAMES = frozenset({"cog", "cloud-optimized geotiff", "image/tiff; profile=cloud-optimized"})
"""Format names meaning GTiff with ``cog: true``."""
OFFERED = (*FORMATS, "COG")
"""The format names ``save_result`` offers (media types and case variants are accepted)."""


def save_format(value: Any) -> tuple[str, dict[str, Any]]:
    """``(canonical format, implied options)`` of a ``save_result`` format name.

    Unknown names are :class:`OutputFormatUnsupported` naming the formats offered.
    """
    if isinstance(value, str) and value.strip().lower() in COG_NAMES:
        return "GTiff", {"cog": True}
    try:
        return format_name(value), {}
    except OutputFormatUnsupported:
        raise OutputFormatUnsupported(
            f"Output format {value!r} is not supported; supported formats: {', '.join(OFFERED)}"
        ) from None


def _save_check(c: Check) -> ValueType:
    data = c.type_of("data")
    if data.kind not in (RASTER_CUBE, TABLE, ANY):
        raise c.invalid("data", f"expected a raster or vector cube, got {data.describe()}")
    fmt = c.literal("format")
    if not isinstance(fmt, str) or not fmt:
        raise c.invalid("format", f"expected a format name, got {fmt!r}")
    save_format(fmt)
    if not isinstance(c.literal("options"), Mapping):
        raise c.invalid("options", "expected an object of format options")
    return data


def _save(args: Mapping[str, Any], ctx: EvalContext) -> Any:
    return args["data"]


def output_options(graph: Graph) -> tuple[str, dict[str, Any]] | None:
    """``(format, options)`` of the graph's result when it is a ``save_result``, else None."""
    node = graph.nodes[graph.result]
    if node.process_id != "save_result":
        return None
    options = node.arguments.get("options") or {}
    return str(node.arguments.get("format", "GTiff")), thaw(options)


def result_output(graph: Graph, output: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The ``output`` object to encode a graph's result with.

    Without ``save_result`` at the result, ``output`` as given. With it, its format
    wins and its options apply; the request's ``output`` options are kept only when
    they name the same format (or none), the graph's options overriding them.
    """
    saved = output_options(graph)
    if saved is None:
        return output
    fmt, implied = save_format(saved[0])
    merged: dict[str, Any] = {}
    if output:
        given = output.get("format")
        if given is None or _same_format(given, fmt):
            merged.update({k: v for k, v in output.items() if k != "format"})
    merged.update(implied)
    merged.update(saved[1])
    merged["format"] = fmt
    return merged


def _same_format(value: Any, fmt: str) -> bool:
    try:
        return save_format(value)[0] == fmt
    except OutputFormatUnsupported:
        return False


SAVE_RESULT = Process(
    id="save_result",
    summary="Save processed data",
    description=(
        "Makes the data the graph's result, written in `format` with format `options`. "
        "Raster cubes: GTiff (`COG` is GTiff with `cog: true`), PNG, JPEG, JSON; vector "
        "cubes (aggregate_spatial, zonal_statistics): GeoJSON, CSV, GPKG, JSON. The format "
        "named here wins over a request's `output` format; options are those of "
        "`GET /capabilities/output_formats` (e.g. `{\"compress\": \"lzw\"}`, "
        "`{\"colormap\": \"viridis\", \"rescale\": [0, 1]}`). Within the graph the data "
        "passes through unchanged; openEO 1.x lists its return value as `true`."
    ),
    parameters=(
        Parameter("data", "The raster or vector cube to save.",
                  [{"type": "object", "subtype": RASTER_CUBE},
                   {"type": "object", "subtype": "vector-cube"}]),
        Parameter("format", "Output format name (case-insensitive).",
                  {"type": "string", "subtype": "output-format"},
                  required=False, default="GTiff"),
        Parameter("options", "Format options.", {"type": "object",
                                                 "subtype": "output-format-options"},
                  required=False, default={}),
    ),
    returns={"description": "Always `true`: the data is the graph's result.",
             "schema": {"type": "boolean"}},
    implementation=_save,
    check=_save_check,
    legacy=DATA_LEGACY,
    categories=("cubes", "export"),
)

PROCESSES = (SAVE_RESULT,)
