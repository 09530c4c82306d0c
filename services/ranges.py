"""Downloads with HTTP Range support from any byte source (folders, buckets).

One ``bytes=`` range (``a-b``, ``a-`` or ``-n``) is answered with 206 and
Content-Range; a range past the end with 416; several ranges, or a malformed header,
with the whole file (a server may ignore Range, RFC 9110 section 14.2).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Literal
from urllib.parse import quote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")

Reader = Callable[[int, int], Iterator[bytes]]
"""Yields the bytes from ``start`` to ``end`` (exclusive)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | Literal[False]:
    """``(start, end)`` (end exclusive) of a single satisfiable range; None for the whole
    file; False when the range cannot be satisfied."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.groups()
    if not first:
        length = int(last)
        if length == 0:
            return False
        return max(0, size - length), size
    start = int(first)
    end = size if not last else min(size, int(last) + 1)
    if start >= size or end <= start:
        return False
    return start, end


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` value downloading as ``filename`` (RFC 6266: names that
    are not plain ASCII, or need quoting, as ``filename*=utf-8''...``)."""
    quoted = quote(filename)
    if quoted != filename:
        return f"attachment; filename*=utf-8''{quoted}"
    return f'attachment; filename="{filename}"'


def ranged_response(
    request: Request, size: int, reader: Reader, media_type: str, filename: str
) -> Response:
    """The file (or the requested range of it), streamed from ``reader`` off the event loop."""
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": attachment(filename),
    }
    wanted = parse_range(request.headers.get("range"), size)
    if wanted is False:
        headers["Content-Range"] = f"bytes */{size}"
        return Response(status_code=416, headers=headers)
    start, end = (0, size) if wanted is None else wanted
    headers["Content-Length"] = str(end - start)
    status = 200
    if wanted is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    if request.method == "HEAD":  # the size without reading the file
        response = Response(status_code=status, media_type=media_type, headers=headers)
        response.headers["Content-Length"] = str(end - start)
        return response
    return StreamingResponse(
        _stream(reader, start, end), status_code=status, media_type=media_type, headers=headers
    )


async def _stream(reader: Reader, start: int, end: int) -> AsyncIterator[bytes]:
    """The reader's blocks, each read in a worker thread."""
    blocks = reader(start, end)
    while True:
        block = await anyio.to_thread.run_sync(next, blocks, None)
        if block is None:
            return
        yield block
