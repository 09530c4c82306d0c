"""User files in a folder: one folder per user, atomic writes, a size limit, a quota.

A user's files live under ``FILES_ROOT / <user_id>``, where the files root is
``data_dir / "files"`` or a shared folder (``--files-dir``) that every server mounts.
Every path is checked (:func:`~.paths.check_path`) before it touches the disk, and
symlinks inside the folder are never followed.

An upload is written to a temporary file in the user's hidden staging folder
(``.staging``, unreachable by any checked path) and renamed over its target once
complete, so a half-written file is never visible. The writer holds an exclusive
``flock`` on its temporary file: a temporary file nobody holds belongs to an upload
whose process died and is removed (at start, :func:`sweep_uploads`, and before each
of the user's uploads). The quota counts committed files only; commits of one user
are serialised across threads and processes, so concurrent uploads never take the
total over the quota.
"""

from __future__ import annotations

import fcntl
import os
import stat
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ..errors import FilePathInvalid, FileTooLarge, QuotaExceeded, ResourceNotFound
from ..ranges import read_range
from .paths import (
    STAGING,
    TEMP_PREFIX,
    FileInfo,
    check_path,
    check_user_id,
    quota_message,
    too_large_message,
)
from .writing import write_whole

READ_BLOCK = 1024 * 1024
"""Bytes read per step of a download."""
_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class UserFiles:
    """One user's folder: resolve, list, read, write (atomically, within limits), delete."""

    def __init__(self, root: Path, *, max_file_bytes: int, quota_bytes: int) -> None:
        self.root = root
        self.max_file_bytes = max_file_bytes
        self.quota_bytes = quota_bytes

    @classmethod
    def of(cls, files_root: Path, user_id: str, *, max_file_bytes: int,
           quota_bytes: int) -> UserFiles:
        """The files of ``user_id`` under ``files_root`` (``Settings.files_root``)."""
        root = files_root / check_user_id(user_id)
        return cls(root, max_file_bytes=max_file_bytes, quota_bytes=quota_bytes)

    @property
    def user(self) -> str:
        """The user whose files these are."""
        return self.root.name

    def resolve(self, path: str) -> Path:
        """The checked absolute path of ``path`` (which may not exist yet); no symlinks on it."""
        segments = check_path(path)
        current = self.root
        for segment in segments:
            current = current / segment
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                break
            except NotADirectoryError:
                raise FilePathInvalid(f"{path!r} goes through a file, not a folder") from None
            if stat.S_ISLNK(mode):
                raise FilePathInvalid(f"The file path {path!r} goes through a symbolic link")
        return self.root.joinpath(*segments)

    def file(self, path: str) -> Path:
        """The existing regular file at ``path`` (ResourceNotFound otherwise)."""
        target = self.resolve(path)
        try:
            mode = os.lstat(target).st_mode
        except (FileNotFoundError, NotADirectoryError):
            raise ResourceNotFound(f"File {path!r} does not exist") from None
        if not stat.S_ISREG(mode):
            raise ResourceNotFound(f"{path!r} is a folder, not a file")
        return target

    def folder(self, path: str) -> Path:
        """The existing folder at ``path`` (``""`` is the user's root); ResourceNotFound else."""
        target = self.root if path.strip("/") == "" else self.resolve(path.rstrip("/"))
        if not target.is_dir() or target.is_symlink():
            raise ResourceNotFound(f"Folder {path!r} does not exist")
        return target

    def is_folder(self, path: str) -> bool:
        """Whether ``path`` (checked) names an existing folder."""
        return self.resolve(path).is_dir()

    def folder_files(self, path: str) -> list[str]:
        """The files directly in folder ``path`` (``""``: the root), as paths relative to the
        user's folder, sorted; hidden files and symlinks left out. ResourceNotFound if none."""
        folder = self.folder(path)
        return sorted(
            p.relative_to(self.root).as_posix() for p in folder.iterdir()
            if not p.name.startswith(".") and not p.is_symlink() and p.is_file()
        )

    def stat(self, path: str) -> FileInfo:
        """Name, size and modification time of the file at ``path`` (ResourceNotFound else)."""
        info = os.lstat(self.file(path))
        name = "/".join(check_path(path))
        return FileInfo(name, info.st_size, datetime.fromtimestamp(info.st_mtime, UTC))

    def local_path(self, path: str) -> Path | None:
        """The file at ``path`` on this machine's disk (served as is)."""
        return self.file(path)

    def read(self, path: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive) of the file at ``path``, in blocks."""
        with self.file(path).open("rb") as handle:
            yield from read_range(handle, start, end, READ_BLOCK)

    @contextmanager
    def local_copy(self, path: str) -> Iterator[Path]:
        """The file at ``path`` on this machine's disk: the file itself."""
        yield self.file(path)

    def listing(self) -> list[FileInfo]:
        """Every file, recursively, sorted by path (temporary and hidden files left out)."""
        if not self.root.is_dir():
            return []
        out: list[FileInfo] = []
        for folder, dirs, names in os.walk(self.root, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in names:
                if name.startswith("."):
                    continue
                full = Path(folder) / name
                try:
                    info = os.lstat(full)
                except FileNotFoundError:  # deleted or replaced meanwhile
                    continue
                if not stat.S_ISREG(info.st_mode):
                    continue
                out.append(FileInfo(
                    full.relative_to(self.root).as_posix(),
                    info.st_size,
                    datetime.fromtimestamp(info.st_mtime, UTC),
                ))
        return sorted(out, key=lambda f: f.name)

    def used_bytes(self) -> int:
        """Total size of the user's committed files (uploads in progress do not count)."""
        total = 0
        if not self.root.is_dir():
            return 0
        for folder, dirs, names in os.walk(self.root, followlinks=False):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in names:
                if name.startswith("."):
                    continue
                try:
                    info = os.lstat(Path(folder) / name)
                except FileNotFoundError:  # deleted or replaced meanwhile
                    continue
                if stat.S_ISREG(info.st_mode):
                    total += info.st_size
        return total

    def write(self, path: str, chunks: Iterable[bytes]) -> FileInfo:
        """Write ``chunks`` to ``path`` atomically (FileTooLarge / QuotaExceeded over limits)."""
        return write_whole(self.begin(path), chunks)

    def begin(self, path: str) -> Upload:
        """Start an upload to ``path``: write chunks to it, then commit or abort."""
        target = self.resolve(path)
        if target.is_dir():
            raise FilePathInvalid(f"{path!r} is a folder; give a file name")
        for parent in reversed(target.relative_to(self.root).parents):
            folder = self.root / parent
            if folder.exists() and not folder.is_dir():
                raise FilePathInvalid(f"{parent.as_posix()!r} is a file, not a folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        return Upload(self, "/".join(check_path(path)), target)

    def delete(self, path: str) -> None:
        """Delete the file at ``path`` and the folders it leaves empty."""
        with self.lock():
            target = self.file(path)
            target.unlink()
            parent = target.parent
            while parent != self.root and parent.is_relative_to(self.root):
                try:
                    parent.rmdir()
                except OSError:
                    break
                parent = parent.parent

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Serialise commits of this user across threads and processes (exact quota)."""
        with _LOCKS_GUARD:
            local = _LOCKS.setdefault(self.root.resolve(), threading.Lock())
        staging = self.root / STAGING
        staging.mkdir(parents=True, exist_ok=True)
        with local, open(staging / ".commit.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class Upload:
    """An upload in progress: a locked temporary file in the user's staging folder."""

    def __init__(self, files: UserFiles, name: str, target: Path) -> None:
        self._files = files
        self._name = name
        self.target = target
        self._temp = files.root / STAGING / f"{TEMP_PREFIX}{os.urandom(8).hex()}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        self.size = 0
        with files.lock():  # a sweep never sees this file unlocked
            sweep_staging(files.root)
            self._fd = os.open(self._temp, flags, 0o644)
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BaseException:
                self.abort()
                raise
        try:
            self._allowed = files.quota_bytes - files.used_bytes() + self._existing_size()
        except BaseException:
            self.abort()
            raise

    def _existing_size(self) -> int:
        try:
            info = os.lstat(self.target)
        except FileNotFoundError:
            return 0
        return info.st_size if stat.S_ISREG(info.st_mode) else 0

    def write(self, chunk: bytes) -> None:
        """Append a chunk, refusing to go over the file size limit or the quota."""
        self.size += len(chunk)
        if self.size > self._files.max_file_bytes:
            self.abort()
            raise FileTooLarge(too_large_message(self._name, self._files.max_file_bytes))
        if self.size > self._allowed:
            self.abort()
            raise _over_quota(self._files)
        view = memoryview(chunk)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def commit(self) -> FileInfo:
        """Flush, check the quota once more under the user's lock, and rename into place."""
        try:
            os.fsync(self._fd)
            with self._files.lock():
                used = self._files.used_bytes() - self._existing_size()
                if used + self.size > self._files.quota_bytes:
                    raise _over_quota(self._files)
                self._files.resolve(self._name)  # no symlink appeared meanwhile
                try:  # a delete may have removed the (then empty) folder meanwhile
                    self.target.parent.mkdir(parents=True, exist_ok=True)
                except (FileExistsError, NotADirectoryError):
                    raise FilePathInvalid(f"A folder of {self._name!r} is now a file") from None
                os.replace(self._temp, self.target)
                info = os.lstat(self.target)  # under the lock: a delete may follow at once
        finally:
            self.abort()
        return FileInfo(self._name, info.st_size, datetime.fromtimestamp(info.st_mtime, UTC))

    def abort(self) -> None:
        """Drop the temporary file (safe to call twice)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._temp.unlink(missing_ok=True)


def sweep_staging(root: Path) -> int:
    """Remove temporary files of dead uploads from one user's staging folder; how many.

    Call it holding the user's :meth:`UserFiles.lock`.
    """
    try:
        names = os.listdir(root / STAGING)
    except FileNotFoundError:
        return 0
    return sum(_remove_if_dead(root / STAGING / n) for n in names if n.startswith(TEMP_PREFIX))


def sweep_uploads(files_root: Path) -> int:
    """Remove every dead upload's temporary file under the users' files folder (at start);
    older layouts' ones too."""
    removed = 0
    for folder, dirs, names in os.walk(files_root, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        removed += sum(_remove_if_dead(Path(folder) / n) for n in names
                       if n.startswith(TEMP_PREFIX))
        if (Path(folder) / STAGING).is_dir():
            with UserFiles(Path(folder), max_file_bytes=0, quota_bytes=0).lock():
                removed += sweep_staging(Path(folder))
    return removed


def _remove_if_dead(path: Path) -> bool:
    """Unlink ``path`` unless a live upload holds its lock."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    try:
        path.unlink(missing_ok=True)
    finally:
        os.close(fd)
    return True


class LocalFileRoot:
    """Every user's files under one folder of this machine (or a mounted shared folder)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def of(self, user_id: str, *, max_file_bytes: int, quota_bytes: int) -> UserFiles:
        """The files of ``user_id`` with these limits."""
        return UserFiles.of(self.folder, user_id, max_file_bytes=max_file_bytes,
                            quota_bytes=quota_bytes)

    def sweep(self) -> int:
        """Remove dead uploads' temporary files (at start); how many."""
        return sweep_uploads(self.folder)


def _over_quota(files: UserFiles) -> QuotaExceeded:
    return QuotaExceeded(quota_message(files.quota_bytes, files.used_bytes()))
