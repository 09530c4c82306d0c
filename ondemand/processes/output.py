"""save_result: passes the cube through; its format and options are read from the graph."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..graph import Graph
from .context import EvalContext
from .params import CUBE_RETURNS, DATA, DATA_LEGACY
from .registry import Parameter, Process
from .types import Check, ValueType


def _save_check(c: Check) -> ValueType:
    cube = c.cube()
    fmt = c.literal("format")
    if not isinstance(fmt, str) or not fmt:
        raise c.invalid("format", f"expected a format name, got {fmt!r}")
    if not isinstance(c.literal("options"), Mapping):
        raise c.invalid("options", "expected an object of format options")
    return cube


def _save(args: Mapping[str, Any], ctx: EvalContext) -> Any:
    return args["data"]


def output_options(graph: Graph) -> tuple[str, dict[str, Any]] | None:
    """``(format, options)`` of the graph's result when it is a ``save_result``, else None."""
    node = graph.nodes[graph.result]
    if node.process_id != "save_result":
        return None
    options = node.arguments.get("options") or {}
    return str(node.arguments.get("format", "GTiff")), _thaw(options)


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


SAVE_RESULT = Process(
    id="save_result",
    summary="Save processed data",
    description=(
        "Marks the cube as the result, to be written in `format` (e.g. GTiff, PNG, JSON) "
        "with format `options` (e.g. {\"compress\": \"deflate\"}). The cube passes through "
        "unchanged; format and options are checked by the encoder."
    ),
    parameters=(
        DATA,
        Parameter("format", "Output format name.", {"type": "string", "subtype": "output-format"},
                  required=False, default="GTiff"),
        Parameter("options", "Format options.", {"type": "object",
                                                 "subtype": "output-format-options"},
                  required=False, default={}),
    ),
    returns=CUBE_RETURNS,
    implementation=_save,
    check=_save_check,
    legacy=DATA_LEGACY,
    categories=("cubes", "export"),
)

PROCESSES = (SAVE_RESULT,)
