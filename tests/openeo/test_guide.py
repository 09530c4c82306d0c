"""docs/openeo-client.md stays true: its Python blocks run, in order, against a live
server on the demo data."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ondemand.demo import ensure_demo_catalog
from ondemand.settings import Settings
from tests.support.live import live_server
from tests.support.netcdf import netcdf_bands

pytest.importorskip("openeo", reason="the openeo client is a test dependency")

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "openeo-client.md"


def test_the_guide_runs_end_to_end(demo_data_dir: Path, tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.S)
    assert len(blocks) >= 6
    settings = Settings(data_dir=tmp_path / "server", catalogs=tuple(
        ensure_demo_catalog(demo_data_dir)), batch_workers=1, batch_jobs=1)
    work = tmp_path / "work"
    work.mkdir()
    (work / "fields.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    here = Path.cwd()
    os.chdir(work)
    try:
        with live_server(settings) as url:
            namespace: dict[str, object] = {}
            for block in blocks:
                exec(block.replace("http://127.0.0.1:8000", url), namespace)  # noqa: S102
    finally:
        os.chdir(here)
    assert (work / "ndvi_max.tif").stat().st_size > 0
    assert (work / "ndvi_max.png").read_bytes().startswith(b"\x89PNG")
    assert (work / "ndvi-max-job" / "result.tif").is_file()
    assert (work / "ndvi.nc").read_bytes()[:4] == b"\x89HDF"
    batch, sync = netcdf_bands(work / "ndvi-series-job" / "result.nc"), netcdf_bands(
        work / "ndvi.nc")
    assert len(batch) == len(sync) > 1
    for (values, tags, _), (same, same_tags, _) in zip(batch, sync, strict=True):
        assert tags == same_tags and values.count() > 0
        assert (values.mask == same.mask).all() and (values == same).all()
    assert (work / "ndvi_max_udp.tif").read_bytes() == (work / "ndvi_max.tif").read_bytes()
