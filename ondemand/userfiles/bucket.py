"""User files in an S3 bucket: ``BUCKET/PREFIX/<user_id>/<path>``, shared by every server.

An upload streams into an S3 multipart upload of its final key, in parts of
:data:`PART_BYTES` (at most one part is held in memory), and is completed only once the
whole body arrived and the quota was checked under the user's lock: until then the
object does not exist, so a half-written file is never visible; a failed or aborted
upload is aborted in S3 and leaves nothing. Multipart uploads of servers that died
are aborted at start once idle for :data:`STALE_UPLOAD_SECONDS`.

The user's lock is the shared job store's (``Transaction.lock``: a PostgreSQL advisory
lock, or SQLite's single writer), so commits and deletes of one user are serialised
across every server; the quota counts the committed objects under the user's prefix.
S3 has no folders: a folder exists while a file is in it, and a file and a folder of
one name are refused as on a disk.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Concatenate, ParamSpec, TypeVar

from ..errors import (
    FilePathInvalid,
    FileStorageFailed,
    FileTooLarge,
    OnDemandError,
    QuotaExceeded,
    ResourceNotFound,
)
from ..ranges import read_range
from ..store.base import Database
from .paths import FileInfo, check_path, check_user_id, quota_message, too_large_message
from .writing import write_whole

PART_BYTES = 5 * 1024 * 1024
"""Bytes of an upload buffered before they go to S3 as one part (S3's smallest part)."""
READ_BLOCK = 1024 * 1024
"""Bytes a download hands on per step."""
FETCH_BYTES = 8 * 1024 * 1024
"""Bytes fetched from the bucket per request of a download (held in memory meanwhile)."""
STALE_UPLOAD_SECONDS = 24 * 3600.0
"""Idle time (no part sent) after which an unfinished upload belongs to a dead server."""
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()
log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def reaching(location: str) -> Iterator[None]:
    """Turn a failure to reach the bucket into FileStorageFailed (503, retry shortly)."""
    try:
        yield
    except OnDemandError:
        raise
    except Exception as exc:
        raise FileStorageFailed(
            f"The storage of users' files ({location}) cannot be used right now "
            f"({type(exc).__name__}); retry shortly"
        ) from exc


def _guarded(method: Callable[Concatenate[BucketFiles, P], R]
             ) -> Callable[Concatenate[BucketFiles, P], R]:
    """A method whose bucket failures are FileStorageFailed."""
    def wrapper(self: BucketFiles, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with reaching(self.location):
            return method(self, *args, **kwargs)
    wrapper.__doc__, wrapper.__name__ = method.__doc__, method.__name__
    return wrapper


class BucketFiles:
    """One user's files in the bucket: list, read, write (atomically, within limits), delete."""

    def __init__(self, root: BucketFileRoot, user: str, *, max_file_bytes: int,
                 quota_bytes: int) -> None:
        self._root = root
        self.fs = root.fs
        self.user = check_user_id(user)
        self.prefix = f"{root.root}/{self.user}"
        self.max_file_bytes = max_file_bytes
        self.quota_bytes = quota_bytes
        self.location = root.location

    def key(self, path: str) -> str:
        """The checked object key of ``path``; FilePathInvalid if it goes through a file."""
        segments = check_path(path)
        for depth in range(1, len(segments)):
            if self._is_file(f"{self.prefix}/{'/'.join(segments[:depth])}"):
                raise FilePathInvalid(f"{path!r} goes through a file, not a folder")
        return f"{self.prefix}/{'/'.join(segments)}"

    def _is_file(self, key: str) -> bool:
        try:
            return bool(self.fs.info(key)["type"] == "file")
        except FileNotFoundError:
            return False

    def _is_folder(self, key: str) -> bool:
        bucket, _, prefix = key.partition("/")
        found = self.fs.call_s3("list_objects_v2", Bucket=bucket, Prefix=prefix.rstrip("/") + "/",
                                MaxKeys=1)
        return bool(found.get("KeyCount", 0))

    @_guarded
    def is_folder(self, path: str) -> bool:
        """Whether ``path`` (checked) names a folder holding files."""
        return self._is_folder(self.key(path))

    @_guarded
    def stat(self, path: str) -> FileInfo:
        """Name, size and modification time of the file at ``path`` (ResourceNotFound else)."""
        key = self.key(path)
        try:
            info = self.fs.info(key)
        except FileNotFoundError:
            raise ResourceNotFound(f"File {path!r} does not exist") from None
        if info["type"] != "file":
            raise ResourceNotFound(f"{path!r} is a folder, not a file")
        return FileInfo("/".join(check_path(path)), int(info["size"]), _modified(info))

    def local_path(self, path: str) -> Path | None:
        """None: the file is in the bucket, read it with :meth:`read`."""
        return None

    def read(self, path: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive) of the file at ``path``, in blocks."""
        handle: IO[bytes]
        with self.fs.open(self.key(path), "rb", block_size=FETCH_BYTES) as handle:
            yield from read_range(handle, start, end, READ_BLOCK)

    @contextmanager
    def local_copy(self, path: str) -> Iterator[Path]:
        """The file at ``path`` copied to a temporary file (same name), deleted afterwards."""
        info = self.stat(path)
        self._root.scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self._root.scratch) as folder:
            target = Path(folder) / info.name.rsplit("/", 1)[-1]
            with reaching(self.location):
                self.fs.get_file(self.key(path), str(target))
            yield target

    @_guarded
    def folder_files(self, path: str) -> list[str]:
        """The files directly in folder ``path`` (``""``: the root), relative to the user's
        folder, sorted; ResourceNotFound when the folder holds nothing."""
        folder = self.prefix if path.strip("/") == "" else self.key(path.rstrip("/"))
        names = [f.name for f in self.listing()
                 if f"{self.prefix}/{f.name}".rsplit("/", 1)[0] == folder]
        if not names and not self._is_folder(folder):
            raise ResourceNotFound(f"Folder {path!r} does not exist")
        return names

    @_guarded
    def listing(self) -> list[FileInfo]:
        """Every committed file, sorted by path (hidden keys left out)."""
        try:
            found = self.fs.find(self.prefix, detail=True)
        except FileNotFoundError:
            return []
        out = []
        for key, info in found.items():
            name = str(key)[len(self.prefix) + 1:]
            if not name or info.get("type") != "file":
                continue
            if any(s.startswith(".") or s == "" for s in name.split("/")):
                continue
            out.append(FileInfo(name, int(info["size"]), _modified(info)))
        return sorted(out, key=lambda f: f.name)

    def used_bytes(self) -> int:
        """Total size of the user's committed files (uploads in progress do not count)."""
        return sum(f.size for f in self.listing())

    def write(self, path: str, chunks: Iterable[bytes]) -> FileInfo:
        """Write ``chunks`` to ``path`` atomically (FileTooLarge / QuotaExceeded over limits)."""
        return write_whole(self.begin(path), chunks)

    @_guarded
    def begin(self, path: str) -> BucketUpload:
        """Start an upload to ``path``: write chunks to it, then commit or abort."""
        key = self.key(path)
        if self._is_folder(key):
            raise FilePathInvalid(f"{path!r} is a folder; give a file name")
        return BucketUpload(self, "/".join(check_path(path)), key)

    @_guarded
    def delete(self, path: str) -> None:
        """Delete the file at ``path`` (its folders go with their last file)."""
        with self.lock():
            self.stat(path)
            self.fs.rm_file(self.key(path))

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Serialise commits and deletes of this user across threads and servers."""
        with _LOCKS_GUARD:
            local = _LOCKS.setdefault(self.prefix, threading.Lock())
        with local, self._root.database.transaction() as tx:
            tx.lock(f"ondemand-user-files:{self.prefix}")
            yield


class BucketUpload:
    """An upload in progress: an S3 multipart upload of the final key, not yet completed."""

    def __init__(self, files: BucketFiles, name: str, key: str) -> None:
        self._files = files
        self._name = name
        self.key = key
        self.size = 0
        self._handle: Any = None
        existing = self._existing_size()
        self._allowed = files.quota_bytes - files.used_bytes() + existing
        self._handle = files.fs.open(key, "wb", block_size=PART_BYTES, autocommit=False)

    def _existing_size(self) -> int:
        try:
            info = self._files.fs.info(self.key)
        except FileNotFoundError:
            return 0
        return int(info["size"]) if info["type"] == "file" else 0

    def write(self, chunk: bytes) -> None:
        """Append a chunk, refusing to go over the file size limit or the quota."""
        self.size += len(chunk)
        if self.size > self._files.max_file_bytes:
            self.abort()
            raise FileTooLarge(too_large_message(self._name, self._files.max_file_bytes))
        if self.size > self._allowed:
            self.abort()
            raise QuotaExceeded(
                quota_message(self._files.quota_bytes, self._files.used_bytes())
            )
        try:
            with reaching(self._files.location):
                self._handle.write(chunk)
        except BaseException:
            self.abort()
            raise

    def commit(self) -> FileInfo:
        """Send the last part, check the quota once more under the user's lock, complete."""
        files = self._files
        try:
            with reaching(files.location):
                info = self._complete()
        finally:
            self.abort()
        return FileInfo(self._name, int(info["size"]), _modified(info))

    def _complete(self) -> dict[str, Any]:
        """Send the last part; under the lock check the quota and the path, complete."""
        files = self._files
        self._handle.close()  # the last part is sent; the object is not there yet
        with files.lock():
            used = files.used_bytes() - self._existing_size()
            if used + self.size > files.quota_bytes:
                raise QuotaExceeded(quota_message(files.quota_bytes, files.used_bytes()))
            files.key(self._name)  # no file took the place of a folder meanwhile
            if files._is_folder(self.key):
                raise FilePathInvalid(f"{self._name!r} is now a folder")
            self._handle.commit()
            self._handle = None
            return dict(files.fs.info(self.key))  # under the lock: a delete may follow

    def abort(self) -> None:
        """Abort the multipart upload (safe to call twice)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.closed = True
            try:
                handle.discard()
            except Exception:  # unreachable now: swept at a start once idle for long
                log.warning("aborting an upload to %s failed", self.key, exc_info=True)


class BucketFileRoot:
    """Every user's files under ``BUCKET/PREFIX``."""

    def __init__(self, fs: Any, root: str, location: str, database: Database,
                 scratch: Path) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.location = location
        self.database = database
        self.scratch = scratch
        """Local folder of the temporary copies readers get (:meth:`BucketFiles.local_copy`)."""

    def of(self, user_id: str, *, max_file_bytes: int, quota_bytes: int) -> BucketFiles:
        """The files of ``user_id`` with these limits."""
        return BucketFiles(self, user_id, max_file_bytes=max_file_bytes, quota_bytes=quota_bytes)

    def check(self) -> None:
        """OSError (FileNotFoundError) now if the bucket does not exist."""
        bucket = self.root.split("/", 1)[0]
        if not self.fs.exists(bucket):
            raise FileNotFoundError(f"bucket {bucket!r} does not exist")

    def sweep(self, older_than: float = STALE_UPLOAD_SECONDS) -> int:
        """Abort unfinished multipart uploads under the root that sent nothing for
        ``older_than`` seconds (their servers died); how many."""
        bucket, _, prefix = self.root.partition("/")
        removed = 0
        now = time.time()
        for upload in self.fs.list_multipart_uploads(bucket):
            key = str(upload.get("Key", ""))
            if prefix and not key.startswith(prefix + "/"):
                continue
            if now - self._last_activity(bucket, key, upload) >= older_than:
                self.fs.abort_mpu(bucket, key, upload["UploadId"])
                removed += 1
        return removed

    def _last_activity(self, bucket: str, key: str, upload: dict[str, Any]) -> float:
        """When an unfinished upload last sent a part (else when it started), epoch seconds.

        A live upload sends a part every :data:`PART_BYTES`; the parts' times are also
        the ones S3-compatible servers keep most faithfully."""
        parts = self.fs.call_s3("list_parts", Bucket=bucket, Key=key,
                                UploadId=upload["UploadId"]).get("Parts", [])
        stamps = [p["LastModified"] for p in parts if isinstance(p.get("LastModified"), datetime)]
        if not stamps and isinstance(upload.get("Initiated"), datetime):
            stamps = [upload["Initiated"]]
        return max(s.timestamp() for s in stamps) if stamps else time.time()


def _modified(info: dict[str, Any]) -> datetime:
    """An object's LastModified as an aware datetime."""
    stamp = info.get("LastModified") or info.get("mtime")
    if isinstance(stamp, datetime):
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(stamp or 0), UTC)
