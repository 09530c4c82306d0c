"""A polygon over the demo's Sentinel2-L1C collection, uploaded by the zonal statistics tests."""

from __future__ import annotations

from typing import Any

POLYGON: dict[str, Any] = {
    "type": "Feature",
    "properties": {"name": "field A", "crop": 3},
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [[16.30, 47.90], [16.36, 47.90], [16.36, 47.95], [16.31, 47.96], [16.30, 47.90]]
        ],
    },
}
NAME = "polygon1.json"
