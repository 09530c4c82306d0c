"""``GET /processes``: the registry's processes as openEO 1.2 process descriptions.

:func:`processes_document` is the one place the 1.2 listing is built; each
process's declaration (parameters with their JSON schemas, return value) is the
source, so validation and this listing never disagree.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.errors import ProcessUnsupported
from ondemand.processes import OPENEO_REGISTRY, Process, Registry


def data_types(schema: Any) -> Any:
    """A schema as 1.x lists alternatives: a list of schemas instead of a top-level anyOf."""
    if isinstance(schema, dict) and set(schema) == {"anyOf"} and isinstance(schema["anyOf"], list):
        return [data_types(s) for s in schema["anyOf"]]
    if isinstance(schema, dict) and isinstance(schema.get("parameters"), list):
        return {**schema, "parameters": [_parameter(p) for p in schema["parameters"]]}
    return schema


def _parameter(parameter: Any) -> Any:
    """A parameter (or return value) description with its schema in 1.x's shape."""
    if isinstance(parameter, dict) and "schema" in parameter:
        return {**parameter, "schema": data_types(parameter["schema"])}
    return parameter


def process_description(process: Process) -> dict[str, Any]:
    """One process in openEO 1.2's shape."""
    described = process.openeo_description()
    return {
        "id": process.id,
        "summary": process.summary,
        "description": process.description,
        "categories": list(process.categories),
        "parameters": [_parameter(p) for p in described["parameters"]],
        "returns": _parameter(described["returns"]),
    }


def processes_document(registry: Registry = OPENEO_REGISTRY) -> dict[str, Any]:
    """The body of ``GET /processes``: ``{"processes": [...], "links": []}``."""
    return {"processes": [process_description(p) for p in registry], "links": []}


async def list_processes(request: Request) -> Response:
    """``GET /processes``."""
    return JSONResponse(processes_document())


async def get_process(request: Request) -> Response:
    """``GET /processes/{process_id}`` (an extra: 1.2 clients filter the list)."""
    process_id = request.path_params["process_id"]
    if process_id not in OPENEO_REGISTRY:
        raise ProcessUnsupported(f"Process {process_id!r} is not supported; see GET /processes")
    return JSONResponse(process_description(OPENEO_REGISTRY.get(process_id)))
