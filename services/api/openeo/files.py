"""User files in openEO 1.2's shape: ``GET /files`` and ``GET/PUT/DELETE /files/{path}``.

The storage is the draft's ``/users/{user_id}/files``: a file uploaded through one
API is listed and readable through the other (polygons for aggregate_spatial or
zonal_statistics, for instance).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.userfiles import FileInfo

from ..files import file_response, files_of, store_body
from .auth import user_of


def file_json(info: FileInfo) -> dict[str, Any]:
    """One file of a listing: ``{"path", "size", "modified"}``."""
    entry = info.to_json()
    return {"path": entry["name"], "size": entry["size"], "modified": entry["modified"]}


async def list_files(request: Request) -> Response:
    """``GET /files``: the caller's files."""
    await user_of(request)
    files = files_of(request)
    listing = await anyio.to_thread.run_sync(files.listing)
    return JSONResponse({"files": [file_json(f) for f in listing], "links": []})


async def download(request: Request) -> Response:
    """``GET /files/{path}``: the file's bytes."""
    await user_of(request)
    return await file_response(request, files_of(request), request.path_params["path"])


async def upload(request: Request) -> Response:
    """``PUT /files/{path}``: store the raw body atomically; 200 with the file's entry."""
    await user_of(request)
    files = files_of(request)
    name = request.path_params["path"]
    await store_body(request, files, name)
    listing = await anyio.to_thread.run_sync(files.listing)
    for info in listing:
        if info.name == name.strip("/"):
            return JSONResponse(file_json(info))
    return JSONResponse({"path": name})


async def delete(request: Request) -> Response:
    """``DELETE /files/{path}``: remove the file."""
    await user_of(request)
    files = files_of(request)
    await anyio.to_thread.run_sync(files.delete, request.path_params["path"])
    return Response(status_code=204)
