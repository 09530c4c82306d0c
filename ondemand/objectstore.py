"""Locations given as a folder, a ``file://`` URL or ``s3://BUCKET/PREFIX[?options]``.

Batch results (``--results``) and users' files (``--files-dir``) take the same forms.
A bucket goes through s3fs with listing caches off (servers must not disagree on what
exists); credentials come from the environment or the machine, as for any S3 client.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import fsspec

from .errors import StoreConfigInvalid

S3_OPTIONS = ("endpoint_url", "region_name")
"""Query parameters of an ``s3://`` location passed to the S3 client."""


def is_bucket(location: str | Path | None) -> bool:
    """Whether ``location`` is an ``s3://`` URL."""
    return isinstance(location, str) and urlsplit(location).scheme == "s3"


def local_folder(location: str | Path) -> Path:
    """The folder named by a path or ``file://`` URL, absolute."""
    if isinstance(location, Path):
        return location.resolve()
    parts = urlsplit(location)
    return Path(parts.path if parts.scheme == "file" else location).resolve()


def bucket_filesystem(location: str, what: str) -> tuple[Any, str]:
    """The s3fs file system and the ``BUCKET/PREFIX`` root of an ``s3://`` location
    (``what`` names the setting in messages, e.g. ``results location``)."""
    parts = urlsplit(location)
    if not parts.netloc:
        raise StoreConfigInvalid(f"The {what} {location!r} names no bucket")
    query = dict(parse_qsl(parts.query))
    unknown = set(query) - set(S3_OPTIONS)
    if unknown:
        raise StoreConfigInvalid(
            f"Unknown options {sorted(unknown)} in {location!r}; use {', '.join(S3_OPTIONS)}"
        )
    fs = fsspec.filesystem(
        "s3", client_kwargs=dict(query), use_listings_cache=False, skip_instance_cache=True
    )
    return fs, f"{parts.netloc}{parts.path}".rstrip("/")


def check_scheme(location: str, what: str, flag: str) -> None:
    """StoreConfigInvalid unless ``location`` is a folder, ``file://`` or ``s3://``."""
    if urlsplit(location).scheme not in ("", "file", "s3"):
        raise StoreConfigInvalid(
            f"Unknown {what} {location!r}: give a folder or s3://BUCKET/PREFIX ({flag})"
        )
