"""User files: ``/files/{user_id}[/{path}]`` and the same under ``/users/{user_id}/files``.

``PUT`` takes the file as the raw request body or as the ``file`` field of a
``multipart/form-data`` body (the draft's form); ``GET`` on the folder lists files,
on a path downloads it; ``DELETE`` removes it. ``me`` means the caller; another
user's files are not found (404). Bad paths are 400, files over the size limit or
the quota 413.
"""

from __future__ import annotations

from functools import partial

import anyio.to_thread
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from ondemand.errors import ArgumentInvalid, FileTooLarge, ResourceNotFound
from ondemand.userfiles import FileStore, UploadWriter

from ..ranges import ranged_response
from ..state import state_of
from ..users import current_user, resolve_user

MULTIPART_OVERHEAD = 64 * 1024
"""Bytes a multipart body may carry beyond the file itself (boundaries, part headers)."""
COPY_CHUNK = 1024 * 1024


class FilePathConvertor(Convertor[str]):
    """Like starlette's ``path`` but also matching control characters, so they get a 400."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        """The path as given."""
        return value

    def to_string(self, value: str) -> str:
        """The path as given."""
        return value


register_url_convertor("filepath", FilePathConvertor())


def files_of(request: Request, user_id: str = "me") -> FileStore:
    """The files of ``user_id`` (``me`` = the caller); another user's are ResourceNotFound."""
    caller = current_user(request)
    user = resolve_user(request, user_id)
    if user != caller:
        raise ResourceNotFound(f"No files of user {user_id!r} are available to you")
    state = state_of(request)
    return state.files.of(user, max_file_bytes=state.settings.max_file_bytes,
                          quota_bytes=state.settings.user_quota_bytes)


async def list_files(request: Request) -> Response:
    """``GET /files/{user_id}``: every file with its size and modification time."""
    files = files_of(request, request.path_params["user_id"])
    listing = await anyio.to_thread.run_sync(files.listing)
    return JSONResponse([f.to_json() for f in listing])


async def download(request: Request) -> Response:
    """``GET /files/{user_id}/{path}``: the file's bytes."""
    if request.path_params["path"] == "":
        return await list_files(request)
    files = files_of(request, request.path_params["user_id"])
    return await file_response(request, files, request.path_params["path"])


async def file_response(request: Request, files: FileStore, name: str) -> Response:
    """The file ``name`` as a download, from the disk or the bucket (HEAD and Range work)."""
    path = await anyio.to_thread.run_sync(files.local_path, name)
    if path is not None:
        return FileResponse(path, media_type="application/octet-stream", filename=path.name)
    info = await anyio.to_thread.run_sync(files.stat, name)
    basename = info.name.rsplit("/", 1)[-1]
    return ranged_response(request, info.size, partial(files.read, name),
                           "application/octet-stream", basename)


async def upload(request: Request) -> Response:
    """``PUT /files/{user_id}/{path}``: store the body (or its ``file`` part) atomically."""
    files = files_of(request, request.path_params["user_id"])
    name = request.path_params["path"]
    content_type = request.headers.get("content-type", "")
    declared = request.headers.get("content-length")
    limit = files.max_file_bytes
    if content_type.startswith("multipart/form-data"):
        if declared is None or not declared.isdigit():
            raise ArgumentInvalid("A multipart upload needs a Content-Length header")
        if int(declared) > limit + MULTIPART_OVERHEAD:
            raise FileTooLarge(f"File {name!r} is over the limit of {limit:,} bytes")
        writer = await anyio.to_thread.run_sync(files.begin, name)
        try:
            await _copy_form(request, writer)
        except BaseException:
            writer.abort()
            raise
        await anyio.to_thread.run_sync(writer.commit)
    else:
        await store_body(request, files, name)
    return Response(status_code=204)


async def store_body(request: Request, files: FileStore, name: str) -> None:
    """Stream the raw request body into the file ``name``, committed whole or not at all
    (a declared Content-Length over the limit is refused before anything is written)."""
    limit = files.max_file_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise FileTooLarge(f"File {name!r} is over the limit of {limit:,} bytes")
    writer = await anyio.to_thread.run_sync(files.begin, name)
    try:
        async for chunk in request.stream():
            if chunk:
                await anyio.to_thread.run_sync(writer.write, chunk)
    except BaseException:
        writer.abort()
        raise
    await anyio.to_thread.run_sync(writer.commit)


async def _copy_form(request: Request, writer: UploadWriter) -> None:
    """Copy the ``file`` field of a multipart body into ``writer``."""
    async with request.form(max_files=1, max_fields=16) as form:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise ArgumentInvalid('A multipart upload needs the file in a field named "file"')
        while chunk := await part.read(COPY_CHUNK):
            await anyio.to_thread.run_sync(writer.write, chunk)


async def delete(request: Request) -> Response:
    """``DELETE /files/{user_id}/{path}``: remove the file."""
    files = files_of(request, request.path_params["user_id"])
    await anyio.to_thread.run_sync(files.delete, request.path_params["path"])
    return Response(status_code=204)


