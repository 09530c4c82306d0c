"""A whole file written through an upload: every chunk, then commit; abort on any failure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from .paths import FileInfo

__all__ = ["write_whole"]


class _Upload(Protocol):
    def write(self, chunk: bytes) -> None: ...

    def commit(self) -> FileInfo: ...

    def abort(self) -> None: ...


def write_whole(upload: _Upload, chunks: Iterable[bytes]) -> FileInfo:
    """Write ``chunks`` to ``upload`` and commit it; abort it if anything fails."""
    try:
        for chunk in chunks:
            upload.write(chunk)
    except BaseException:
        upload.abort()
        raise
    return upload.commit()
