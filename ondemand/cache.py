"""The disk cache of encoded tiles: size-bounded, least-recently-used, checked on read.

Keys hash everything a tile's bytes depend on: the layer's canonical graph hash,
the identity (path + mtime, or STAC ``updated``) of every item its reads can
touch, the window (grid and time selection) and the format and style options. A
changed graph or changed data therefore gets new keys and never serves stale
pixels. Each entry stores a checksum before the bytes; an entry that does not
verify (or cannot be read) is dropped and recomputed, never served.

One :class:`TileCache` directory may be shared by several server processes
(diskcache keeps its index in SQLite). An index SQLite cannot read is moved aside
with its folder at start and the cache starts empty (see :mod:`ondemand.healing`).
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import sqlite3
from pathlib import Path

import diskcache

from .catalog import Collection
from .graph import node_hash
from .grid import graph_items
from .healing import exclusive, heal_disposable
from .layer import Layer
from .window import Window

log = logging.getLogger("ondemand.cache")

_DIGEST = 16
"""Bytes of the blake2b checksum stored before each entry's content."""
_KEY_VERSION = "tile-v1"
"""Bumped when the encoding of tiles changes, so old entries are never served."""


def layer_fingerprint(layer: Layer) -> str:
    """Hash of the layer's graph and of the identity of every item its reads can touch."""
    return layer.derived("fingerprint", lambda: _fingerprint(layer))


def _fingerprint(layer: Layer) -> str:
    compiled = layer.compiled
    parts = [node_hash(compiled.graph, compiled.graph.result)]
    for collection, items in graph_items(compiled):
        parts.extend(f"{collection.id}/{item.id}@{item.identity}" for item in items)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def tile_key(layer: Layer, window: Window, fmt: str, style: str) -> str:
    """The cache key (and ETag) of one encoded tile: a sha256 hex digest.

    Collections searched per request (STAC APIs) add the identity of the items under the
    tile, searched now: a remote item that changed since the layer was built gets new keys.
    """
    parts = [_KEY_VERSION, layer_fingerprint(layer), window.key(), fmt, style]
    for load in layer.compiled.loads:
        collection = load.view.collection
        assert isinstance(collection, Collection)
        if not collection.complete:
            items = collection.search(window.bounds, window.crs, load.view.start, load.view.end)
            parts.extend(f"{collection.id}/{i.id}@{i.identity}" for i in items)
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _checksum(content: bytes) -> bytes:
    return hashlib.blake2b(content, digest_size=_DIGEST).digest()


class TileCache:
    """Encoded tiles on local disk, at most ``size_limit_bytes``, least recently used evicted."""

    def __init__(self, directory: Path, size_limit_bytes: int) -> None:
        self.directory = directory
        with exclusive(directory):
            heal_disposable(directory / "cache.db", folder=directory)
            directory.mkdir(parents=True, exist_ok=True)
            self._cache = diskcache.Cache(
                str(directory),
                size_limit=size_limit_bytes,
                eviction_policy="least-recently-used",
            )

    def get(self, key: str) -> bytes | None:
        """The bytes stored under ``key``; None if absent, unreadable or corrupt (then dropped)."""
        try:
            value = self._cache.get(key, default=None, retry=True)
        except (OSError, sqlite3.Error, pickle.UnpicklingError, EOFError, ValueError) as exc:
            log.warning("tile cache entry %s unreadable (%s); recomputing", key, exc)
            self._discard(key)
            return None
        if value is None:
            return None
        if (
            isinstance(value, bytes)
            and len(value) >= _DIGEST
            and _checksum(value[_DIGEST:]) == value[:_DIGEST]
        ):
            return value[_DIGEST:]
        log.warning("tile cache entry %s is corrupt; recomputing", key)
        self._discard(key)
        return None

    def set(self, key: str, content: bytes) -> None:
        """Store ``content`` under ``key`` with its checksum (failures are logged, not raised)."""
        try:
            self._cache.set(key, _checksum(content) + content, retry=True)
        except (OSError, sqlite3.Error) as exc:
            log.warning("tile cache write of %s failed: %s", key, exc)

    def _discard(self, key: str) -> None:
        try:
            self._cache.delete(key, retry=True)
        except (OSError, sqlite3.Error) as exc:
            log.warning("tile cache delete of %s failed: %s", key, exc)

    @property
    def volume(self) -> int:
        """Bytes the cache occupies on disk."""
        return int(self._cache.volume())

    def __len__(self) -> int:
        return len(self._cache)

    def clear(self) -> None:
        """Remove every entry."""
        self._cache.clear(retry=True)

    def close(self) -> None:
        """Close the SQLite connections of this process."""
        self._cache.close()
