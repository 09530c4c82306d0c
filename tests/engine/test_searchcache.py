"""The STAC API search cache (bounded, time-limited, one computation per key) and the
coarse bbox grid that lets the tiles of a map share searches."""

from __future__ import annotations

import threading
import time

import morecantile
import pytest

from ondemand.catalog.api import snap_bbox
from ondemand.catalog.searchcache import SearchCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_values_expire_after_their_time() -> None:
    clock = Clock()
    cache: SearchCache[int] = SearchCache(10, 5.0, clock)
    calls: list[int] = []
    assert cache.get("k", lambda: calls.append(1) or 1) == 1
    clock.now = 4.9
    assert cache.get("k", lambda: calls.append(2) or 2) == 1
    clock.now = 5.1
    assert cache.get("k", lambda: calls.append(3) or 3) == 3
    assert calls == [1, 3] and cache.misses == 2


def test_least_recently_used_is_evicted() -> None:
    cache: SearchCache[str] = SearchCache(2, 60.0)
    cache.get("a", lambda: "a")
    cache.get("b", lambda: "b")
    cache.get("a", lambda: "again")  # a is now the most recent
    cache.get("c", lambda: "c")  # evicts b
    assert cache.get("a", lambda: "new a") == "a"
    assert cache.get("b", lambda: "new b") == "new b"


def test_failures_are_not_cached() -> None:
    cache: SearchCache[int] = SearchCache(2, 60.0)

    def fail() -> int:
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        cache.get("k", fail)
    assert cache.get("k", lambda: 7) == 7


def test_concurrent_callers_share_one_computation() -> None:
    cache: SearchCache[int] = SearchCache(4, 60.0)
    started = threading.Event()
    calls: list[int] = []

    def slow() -> int:
        calls.append(1)
        started.set()
        time.sleep(0.2)
        return 42

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", slow)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [42] * 8 and calls == [1]


@pytest.mark.parametrize("zoom", [6, 10, 14])
def test_a_map_of_100_tiles_needs_at_most_9_searches(zoom: int) -> None:
    tms = morecantile.tms.get("WebMercatorQuad")
    corner = tms.tile(11.3, 46.5, zoom)
    cells = set()
    for dx in range(10):
        for dy in range(10):
            b = tms.bounds(morecantile.Tile(corner.x + dx, corner.y + dy, zoom))
            snapped = snap_bbox((b.left, b.bottom, b.right, b.top))
            assert snapped[0] <= b.left and snapped[2] >= b.right
            assert snapped[1] <= b.bottom and snapped[3] >= b.top
            cells.add(snapped)
    assert len(cells) <= 9


def test_antimeridian_bbox_becomes_all_longitudes() -> None:
    west, south, east, north = snap_bbox((179.0, -10.0, -179.0, -9.0))
    assert (west, east) == (-180.0, 180.0) and south <= -10.0 and north >= -9.0
