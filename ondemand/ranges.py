"""Reading a byte range of an open file in blocks (downloads of results and users' files)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

__all__ = ["read_range"]


def read_range(handle: IO[bytes], start: int, end: int, block: int) -> Iterator[bytes]:
    """Bytes ``start`` to ``end`` (exclusive) of ``handle``, at most ``block`` at a time;
    stops early at the end of the file."""
    handle.seek(start)
    left = end - start
    while left > 0:
        data = handle.read(min(block, left))
        if not data:
            return
        left -= len(data)
        yield data
