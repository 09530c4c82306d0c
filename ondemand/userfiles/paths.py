"""What every user-file store shares: path and user-id checks, listing entries, messages.

Every path is checked before it reaches a disk or a bucket (:func:`check_path`): no
``..``, ``.`` or empty segments, no absolute paths or drive letters, no backslashes,
control characters or NUL, nothing still URL-encoded after the one decoding HTTP does,
no segment starting with a dot, segments of at most 255 bytes and paths of at most 1024.
Names are stored in Unicode NFC, so the NFC and NFD spellings of one name are one file.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote

from ..errors import FilePathInvalid

MAX_SEGMENT_BYTES = 255
MAX_PATH_BYTES = 1024
TEMP_PREFIX = ".upload-"
STAGING = ".staging"
_USER_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}")
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class FileInfo:
    """One file of a listing: path relative to the user's folder, size, modification time."""

    name: str
    size: int
    modified: datetime

    def to_json(self) -> dict[str, object]:
        """The draft's listing entry ``{"name", "size", "modified"}``."""
        stamp = self.modified.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"name": self.name, "size": self.size, "modified": stamp}


def check_user_id(user_id: str) -> str:
    """A user id usable as a folder name (FilePathInvalid otherwise)."""
    if not _USER_ID.fullmatch(user_id) or user_id in (".", ".."):
        raise FilePathInvalid(f"User id {user_id!r} is not valid")
    return user_id


def check_path(path: str) -> tuple[str, ...]:
    """The segments of a relative file path, or FilePathInvalid saying what is wrong."""
    if not isinstance(path, str) or not path:
        raise FilePathInvalid("The file path is empty")
    path = unicodedata.normalize("NFC", path)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        raise FilePathInvalid("The file path contains NUL or control characters")
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise FilePathInvalid(f"The file path is longer than {MAX_PATH_BYTES} bytes")
    if "\\" in path:
        raise FilePathInvalid("The file path contains a backslash; separate folders with '/'")
    if path.startswith("/") or _DRIVE.match(path):
        raise FilePathInvalid(
            f"The file path {path!r} is absolute; give it relative to your folder"
        )
    if unquote(path) != path:
        raise FilePathInvalid(f"The file path {path!r} is still URL-encoded (encode it once)")
    segments = tuple(path.split("/"))
    for segment in segments:
        if segment in ("", ".", ".."):
            raise FilePathInvalid(
                f"The file path {path!r} has an empty, '.' or '..' segment"
            )
        if segment.startswith("."):
            raise FilePathInvalid(f"File and folder names cannot start with a dot: {segment!r}")
        if len(segment.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES:
            raise FilePathInvalid(f"A file or folder name is longer than {MAX_SEGMENT_BYTES} bytes")
    return segments


def quota_message(quota_bytes: int, used_bytes: int) -> str:
    """The QuotaExceeded message: the quota, what is used, what to do."""
    return (
        f"The upload would take your files over your quota of {quota_bytes:,} bytes "
        f"({used_bytes:,} bytes used); delete files first"
    )


def too_large_message(name: str, max_file_bytes: int) -> str:
    """The FileTooLarge message of an upload over the size limit."""
    return f"File {name!r} is over the limit of {max_file_bytes:,} bytes"
