"""Where finished runs' files are kept: a folder (local or shared) or an S3 bucket.

Layout: ``ROOT/{job_id}/{run_id}/{name}``. A run writes its files in a local staging
folder and publishes them here only once complete, before the run is marked finished,
so every server sharing this storage can hand out any finished run's files and none
is ever seen half-written. Folders go through fsspec's local file system and buckets
through s3fs, with listing caches off: servers must not disagree on what exists.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from fsspec.implementations.local import LocalFileSystem

from ..errors import ResultStorageFailed, StoreConfigInvalid
from ..objectstore import bucket_filesystem, is_bucket, local_folder
from ..ranges import read_range

READ_BLOCK = 1024 * 1024
"""Bytes read from storage per step of a download."""


class ResultStorage:
    """The files of finished batch runs under one root."""

    def __init__(self, fs: Any, root: str, location: str) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.location = location
        """The location as given (``--results``), for messages."""

    @property
    def is_local(self) -> bool:
        """Whether the root is a folder of this machine (or a mounted shared folder)."""
        return isinstance(self.fs, LocalFileSystem)

    def path(self, job_id: str, run_id: str | None = None, name: str | None = None) -> str:
        """The storage path of a job's folder, a run's folder or one file."""
        parts = [self.root, job_id, *(p for p in (run_id, name) if p is not None)]
        return "/".join(parts)

    def check(self) -> None:
        """Fail now, with a message, if the storage cannot be used (no bucket, no folder)."""
        try:
            if self.is_local:
                self.fs.makedirs(self.root, exist_ok=True)
            elif not self.fs.exists(self.root.split("/", 1)[0]):
                raise FileNotFoundError(f"bucket {self.root.split('/', 1)[0]!r} does not exist")
        except Exception as exc:
            raise StoreConfigInvalid(
                f"The results location {self.location!r} cannot be used "
                f"({type(exc).__name__}: {exc}); create it or fix --results"
            ) from exc

    def publish(self, job_id: str, run_id: str, staging: Path, names: list[str]) -> None:
        """Move a complete run's files from the staging folder into the storage."""
        target = self.path(job_id, run_id)
        try:
            if self.is_local:
                self.fs.makedirs(target, exist_ok=True)
            for name in names:
                if self.is_local:
                    shutil.move(staging / name, f"{target}/{name}")
                else:
                    self.fs.put_file(str(staging / name), f"{target}/{name}")
        except Exception as exc:
            raise ResultStorageFailed(
                f"Storing the results in {self.location} failed ({type(exc).__name__}: {exc}); "
                "queue the job again once the storage works"
            ) from exc

    def size(self, job_id: str, run_id: str, name: str) -> int | None:
        """A file's size in bytes, None when it does not exist."""
        try:
            return int(self.fs.size(self.path(job_id, run_id, name)))
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise ResultStorageFailed(
                f"The result storage {self.location} cannot be read right now "
                f"({type(exc).__name__}); retry shortly"
            ) from exc

    def read(self, job_id: str, run_id: str, name: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive) of a file, in blocks."""
        handle: IO[bytes]
        with self.fs.open(self.path(job_id, run_id, name), "rb") as handle:
            yield from read_range(handle, start, end, READ_BLOCK)

    def job_ids(self) -> list[str]:
        """The jobs with a folder in the storage."""
        if not self.fs.exists(self.root):
            return []
        return [
            str(entry).rstrip("/").rsplit("/", 1)[-1]
            for entry in self.fs.ls(self.root, detail=False)
        ]

    def runs(self, job_id: str) -> list[str]:
        """The run folders of a job."""
        folder = self.path(job_id)
        if not self.fs.exists(folder):
            return []
        return [str(e).rstrip("/").rsplit("/", 1)[-1] for e in self.fs.ls(folder, detail=False)]

    def remove_run(self, job_id: str, run_id: str) -> None:
        """Delete one run's files."""
        self._remove(self.path(job_id, run_id))

    def remove_runs(self, job_id: str, keep: str | None = None) -> None:
        """Delete a job's runs except ``keep`` (the whole job's folder when none is kept)."""
        for run_id in self.runs(job_id):
            if run_id != keep:
                self._remove(self.path(job_id, run_id))
        if keep is None:
            self._remove(self.path(job_id))

    def remove_orphans(self, job_ids: set[str]) -> None:
        """Delete the folders of jobs that no longer exist."""
        for job_id in self.job_ids():
            if job_id not in job_ids:
                self._remove(self.path(job_id))

    def _remove(self, path: str) -> None:
        """Delete a folder and everything in it; gone already is fine."""
        try:
            self.fs.rm(path, recursive=True)
        except FileNotFoundError:
            pass


def open_results(location: str | None, data_dir: Path) -> ResultStorage:
    """The storage at ``location``: a folder path or ``file://`` URL, or
    ``s3://BUCKET/PREFIX[?endpoint_url=...]``; None is ``data_dir/results``."""
    if not location:
        folder = (data_dir / "results").resolve()
        return ResultStorage(LocalFileSystem(), folder.as_posix(), str(folder))
    if is_bucket(location):
        fs, root = bucket_filesystem(location, "results location")
        return ResultStorage(fs, root, location)
    if urlsplit(location).scheme in ("", "file"):
        return ResultStorage(LocalFileSystem(), local_folder(location).as_posix(), location)
    raise StoreConfigInvalid(
        f"Unknown results location {location!r}: give a folder or s3://BUCKET/PREFIX"
    )
