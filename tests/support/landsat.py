"""A live server publishing the 17-date Landsat NDVI series (``landsat8-ny-2018``) as
WMTS and WCS services, for the tests of clients nobody here wrote (GDAL, OWSLib, QGIS)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx

from ondemand.settings import Settings
from tests.support.live import live_server

COLLECTION = "landsat8-ny-2018"
NDVI_SERIES: dict[str, Any] = {
    "process_id": "NDVI",
    "args": {
        "imagery": {
            "process_id": "filter_daterange",
            "args": {"imagery": {"product_id": COLLECTION}, "from": "2018-01-01",
                     "to": "2018-12-31"},
        },
        "red": "B4",
        "nir": "B5",
    },
}
"""NDVI of every Landsat scene of 2018 over New York (B4 red, B5 near infrared)."""


@dataclass(frozen=True)
class Series:
    """The published series: the server, the job and its service URLs."""

    base_url: str
    job_id: str
    wmts: str
    """The WMTS KVP endpoint (``.../wmts``)."""
    wcs: str

    @property
    def capabilities(self) -> str:
        """The WMTS REST capabilities document."""
        return f"{self.wmts}/1.0.0/WMTSCapabilities.xml"

    @property
    def coverage(self) -> str:
        """The WCS coverage identifier."""
        return f"job_{self.job_id}"


def acquisition_days(shared_data: Path) -> list[date]:
    """The distinct acquisition days of the collection's items, read from their STAC JSON."""
    days = set()
    for item in (shared_data / COLLECTION).glob("*/*.json"):
        stamp = json.loads(item.read_text())["properties"]["datetime"]
        days.add(datetime.fromisoformat(stamp.replace("Z", "+00:00")).date())
    return sorted(days)


@contextmanager
def published_series(shared_data: Path, data_dir: Path) -> Iterator[Series]:
    """Serve the collection on 127.0.0.1 and publish the NDVI series as WMTS and WCS."""
    settings = Settings(data_dir=data_dir, catalogs=(shared_data / COLLECTION / "collection.json",))
    with live_server(settings) as url, httpx.Client(base_url=url, timeout=120) as http:
        job = http.post("/jobs", json={"process_graph": NDVI_SERIES, "title": "Landsat NDVI"})
        assert job.status_code == 200, job.text
        job_id = job.json()["job_id"]
        urls = {}
        for kind in ("wmts", "wcs"):
            service = http.post("/services", json={"job_id": job_id, "type": kind})
            assert service.status_code == 200, service.text
            urls[kind] = service.json()["service_url"]
        yield Series(url, job_id, urls["wmts"], urls["wcs"])
