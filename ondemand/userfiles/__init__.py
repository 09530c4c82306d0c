"""Users' uploaded files: one folder per user, confined paths, atomic writes, a size
limit, a quota; kept in a folder (:mod:`.local`) or an S3 bucket (:mod:`.bucket`).

Both stores answer the same :class:`FileStore` interface, so the HTTP API and the
readers (zonal statistics regions, batch tables) do not know which one they use. An
upload is never visible half-written, a failed one leaves nothing, and commits of one
user are serialised (across servers too) so concurrent uploads never pass the quota.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from ..errors import StoreConfigInvalid
from ..objectstore import bucket_filesystem, check_scheme, is_bucket, local_folder
from ..store.base import Database
from .bucket import BucketFileRoot, BucketFiles
from .local import LocalFileRoot, Upload, UserFiles, sweep_staging, sweep_uploads
from .paths import (
    MAX_PATH_BYTES,
    MAX_SEGMENT_BYTES,
    STAGING,
    TEMP_PREFIX,
    FileInfo,
    check_path,
    check_user_id,
)


class UploadWriter(Protocol):
    """An upload in progress: chunks in, then commit (visible at once, whole) or abort."""

    size: int

    def write(self, chunk: bytes) -> None:
        """Append a chunk (FileTooLarge / QuotaExceeded over the limits, upload aborted)."""

    def commit(self) -> FileInfo:
        """Make the file visible, whole, if the quota allows (QuotaExceeded otherwise)."""

    def abort(self) -> None:
        """Drop what was written (safe to call twice)."""


class FileStore(Protocol):
    """One user's files, wherever they are kept."""

    max_file_bytes: int
    quota_bytes: int

    @property
    def user(self) -> str:
        """The user whose files these are."""

    def is_folder(self, path: str) -> bool:
        """Whether ``path`` (checked) names an existing folder."""

    def folder_files(self, path: str) -> list[str]:
        """The files directly in folder ``path``, relative to the user's folder, sorted."""

    def stat(self, path: str) -> FileInfo:
        """The file at ``path`` (ResourceNotFound when there is none)."""

    def local_path(self, path: str) -> Path | None:
        """The file on this machine's disk, or None when it must be read with :meth:`read`."""

    def read(self, path: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive) of the file, in blocks."""

    def local_copy(self, path: str) -> AbstractContextManager[Path]:
        """The file as a local file while the block runs (readers needing a path)."""

    def listing(self) -> list[FileInfo]:
        """Every committed file, sorted by path."""

    def used_bytes(self) -> int:
        """Total size of the committed files."""

    def write(self, path: str, chunks: Iterable[bytes]) -> FileInfo:
        """Write a whole file atomically."""

    def begin(self, path: str) -> UploadWriter:
        """Start an upload to ``path``."""

    def delete(self, path: str) -> None:
        """Delete the file at ``path``."""


class FileRoot(Protocol):
    """Where every user's files are kept."""

    def of(self, user_id: str, *, max_file_bytes: int, quota_bytes: int) -> FileStore:
        """The files of ``user_id`` with these limits."""

    def sweep(self) -> int:
        """Remove what uploads of dead processes left (at start); how many."""


def check_apart(files: FileRoot, results_root: str, results_location: str) -> None:
    """StoreConfigInvalid when the users' files and the batch results share a folder or a
    prefix (old results are deleted by prefix: users' files there would go with them)."""
    if isinstance(files, BucketFileRoot):
        root, where = files.root, files.location
    elif isinstance(files, LocalFileRoot):
        root, where = files.folder.as_posix(), str(files.folder)
    else:
        return
    a, b = root.rstrip("/") + "/", results_root.rstrip("/") + "/"
    if a.startswith(b) or b.startswith(a):
        raise StoreConfigInvalid(
            f"Users' files ({where}) and batch results ({results_location}) overlap; "
            "give --files-dir and --results locations apart from each other"
        )


def open_files(location: str | Path | None, data_dir: Path, database: Database) -> FileRoot:
    """The users' files at ``location`` (``--files-dir``): a folder path or ``file://`` URL,
    or ``s3://BUCKET/PREFIX[?endpoint_url=...]`` (commits then lock in ``database``);
    None is ``data_dir/files``. A bucket that does not exist stops the server here."""
    if location is None or location == "":
        return LocalFileRoot((data_dir / "files").resolve())
    if not is_bucket(location):
        if isinstance(location, str):
            check_scheme(location, "files location", "--files-dir")
        return LocalFileRoot(local_folder(location))
    assert isinstance(location, str)
    fs, root = bucket_filesystem(location, "files location")
    files = BucketFileRoot(fs, root, location, database, data_dir / "tmp" / "files")
    try:
        files.check()
    except Exception as exc:
        raise StoreConfigInvalid(
            f"The files location {location!r} cannot be used "
            f"({type(exc).__name__}: {exc}); create it or fix --files-dir"
        ) from exc
    return files


__all__ = [
    "MAX_PATH_BYTES",
    "MAX_SEGMENT_BYTES",
    "STAGING",
    "TEMP_PREFIX",
    "BucketFileRoot",
    "BucketFiles",
    "FileInfo",
    "FileRoot",
    "FileStore",
    "LocalFileRoot",
    "Upload",
    "UploadWriter",
    "UserFiles",
    "check_apart",
    "check_path",
    "check_user_id",
    "open_files",
    "sweep_staging",
    "sweep_uploads",
]
