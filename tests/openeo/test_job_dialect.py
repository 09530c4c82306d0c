"""A graph keeps the meaning of the API it was written for in every path that runs it:
a 1.2 batch job and a 1.2 XYZ service exclude the temporal_extent's end date exactly as
1.2's synchronous /result does, while the same graph sent to the draft includes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import morecantile
import numpy as np
import pytest
import requests
from rasterio.io import MemoryFile

from tests.openeo.conftest import ALICE, COLLECTIONS

openeo = pytest.importorskip("openeo")

BBOX = {"west": -74.3, "south": 39.6, "east": -73.0, "north": 40.9}
"""Inside path/row 013032, whose scenes of 2018-01-31, 04-05 and 04-21 cover it."""
LAST = "2018-04-21"
"""An acquisition date, given as the temporal_extent's end."""


def cube(con: Any, end: str = LAST) -> Any:
    """NDVI max over time from 2018-01-01 to ``end``."""
    return con.load_collection(
        COLLECTIONS[0], spatial_extent=BBOX, temporal_extent=["2018-01-01", end],
        bands=["B4", "B5"],
    ).ndvi().max_time()


def _values(content: bytes) -> np.ma.MaskedArray:
    with MemoryFile(content) as mem, mem.open() as ds:
        return ds.read(1, masked=True)


def _same(a: np.ma.MaskedArray, b: np.ma.MaskedArray) -> bool:
    return bool(
        np.array_equal(np.ma.getmaskarray(a), np.ma.getmaskarray(b))
        and np.array_equal(a.compressed(), b.compressed())
    )


def draft_execute(server: dict[str, Any], graph: dict[str, Any]) -> np.ma.MaskedArray:
    """The graph run by the draft's /jobs/execute (its meanings: inclusive end)."""
    response = requests.post(f"{server['url']}/jobs/execute", auth=ALICE, timeout=120,
                             json={"process_graph": graph, "output": {"format": "GTiff"}})
    assert response.status_code == 200, response.text
    return _values(response.content)


def draft_xyz(server: dict[str, Any], graph: dict[str, Any]) -> str:
    """An XYZ service of the graph created through the draft; its tile URL template."""
    job = requests.post(f"{server['url']}/jobs", auth=ALICE, json={"process_graph": graph},
                        timeout=60)
    assert job.status_code == 200, job.text
    service = requests.post(f"{server['url']}/services", auth=ALICE, timeout=60,
                            json={"job_id": job.json()["job_id"], "type": "xyz"})
    assert service.status_code == 200, service.text
    return f"{server['url']}/services/{service.json()['service_id']}/xyz/{{z}}/{{x}}/{{y}}.png"


def tile(url: str) -> np.ndarray:
    """The zoom 8 tile over the box's centre, as RGBA pixels."""
    lon, lat = (BBOX["west"] + BBOX["east"]) / 2, (BBOX["south"] + BBOX["north"]) / 2
    t = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, 8)
    response = requests.get(url.format(z=t.z, x=t.x, y=t.y), timeout=120)
    assert response.status_code == 200, response.text
    with MemoryFile(response.content) as mem, mem.open() as png:
        return png.read()


@pytest.fixture(scope="module")
def sync_result(alice: Any, tmp_path_factory: pytest.TempPathFactory) -> np.ma.MaskedArray:
    """1.2's synchronous result: the end date excluded."""
    path = tmp_path_factory.mktemp("dialect") / "sync.tif"
    cube(alice).download(path, format="GTiff")
    return _values(path.read_bytes())


def test_the_draft_includes_the_end_date_that_1_2_excludes(
    alice: Any, server: dict[str, Any], sync_result: np.ma.MaskedArray
) -> None:
    graph = cube(alice).flat_graph()
    inclusive = draft_execute(server, graph)
    day_before = draft_execute(server, cube(alice, "2018-04-20").flat_graph())
    assert inclusive.count() > 500
    assert not _same(inclusive, sync_result)  # 2018-04-21 raises the maximum somewhere
    assert _same(day_before, sync_result)  # 1.2's [start, end) is the draft's [start, end - 1]


def test_a_1_2_batch_job_excludes_the_end_date(
    alice: Any, tmp_path: Path, sync_result: np.ma.MaskedArray
) -> None:
    job = cube(alice).create_job(out_format="GTiff", title="exclusive end")
    job.start_and_wait(max_poll_interval=1)
    files = job.get_results().download_files(tmp_path)
    (tif,) = [f for f in files if f.suffix == ".tif"]
    assert _same(_values(tif.read_bytes()), sync_result)
    job.delete()


def test_a_1_2_xyz_service_excludes_the_end_date(alice: Any, server: dict[str, Any]) -> None:
    service = cube(alice).tiled_viewing_service(type="XYZ")
    served = tile(service.describe_service()["url"])
    day_before = tile(draft_xyz(server, cube(alice, "2018-04-20").flat_graph()))
    inclusive = tile(draft_xyz(server, cube(alice).flat_graph()))
    assert (served[3] > 0).mean() > 0.5
    np.testing.assert_array_equal(served, day_before)
    assert not np.array_equal(served, inclusive)
    service.delete_service()


def test_the_draft_sees_a_1_2_job_and_a_1_2_patch_keeps_its_meaning(
    alice: Any, server: dict[str, Any], sync_result: np.ma.MaskedArray
) -> None:
    job = alice.create_job(cube(alice, "2018-01-02").flat_graph())
    patched = requests.patch(
        f"{server['url']}/openeo/1.2/jobs/{job.job_id}", timeout=60,
        headers={"Authorization": f"Bearer basic//{_token(server)}"},
        json={"process": {"process_graph": cube(alice).flat_graph()}},
    )
    assert patched.status_code == 204, patched.text
    result = requests.get(f"{server['url']}/jobs/{job.job_id}/on_demand/result.tif",
                          auth=ALICE, timeout=120)
    assert result.status_code == 200, result.text
    assert _same(_values(result.content), sync_result)
    job.delete()


def _token(server: dict[str, Any]) -> str:
    response = requests.get(f"{server['url']}/openeo/1.2/credentials/basic", auth=ALICE,
                            timeout=30)
    return str(response.json()["access_token"])
