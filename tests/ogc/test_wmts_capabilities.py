"""WMTS capabilities of a layer: schema-valid, exact tile matrix sets, dates, limits, URLs."""

from __future__ import annotations

import copy
import math
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import morecantile
import pytest
from pyproj import Transformer

from ondemand.catalog import Catalog
from ondemand.engine import Engine
from ondemand.layer import Layer, make_layer
from ondemand.settings import Settings
from services.ogc.wmts.capabilities import ServiceInfo, capabilities, tile_limits
from tests.support.seed import use_case_1_job

OGC = Path(__file__).resolve().parents[2].parent / "shared" / "ogc"
NS = {"w": "http://www.opengis.net/wmts/1.0", "ows": "http://www.opengis.net/ows/1.1"}
URL = "http://example.test/services/s1/wmts"


@pytest.fixture(scope="module")
def engine(demo_catalog: Catalog) -> Iterator[Engine]:
    eng = Engine(demo_catalog, Settings())
    yield eng
    eng.close()


def min_graph() -> dict[str, Any]:
    graph: dict[str, Any] = use_case_1_job()["process_graph"]
    return graph


def series_graph() -> dict[str, Any]:
    graph: dict[str, Any] = copy.deepcopy(min_graph()["args"]["imagery"])
    return graph


@pytest.fixture(scope="module")
def layers(engine: Engine) -> dict[str, Layer]:
    return {
        "min": make_layer("jobmin", "Min NDVI", engine.compile(min_graph())),
        "series": make_layer("jobseries", "NDVI series", engine.compile(series_graph())),
    }


def caps(layer: Layer) -> ET.Element:
    return ET.fromstring(capabilities(layer, ServiceInfo(URL, "t")))


@pytest.mark.parametrize("name", ["min", "series"])
def test_capabilities_are_schema_valid(layers: dict[str, Layer], name: str) -> None:
    if not (OGC / "validate.py").is_file():
        pytest.skip(f"the OGC schemas are not at {OGC} (they ship beside the repo)")
    sys.path.insert(0, str(OGC))
    from validate import errors

    assert errors("wmts", capabilities(layers[name], ServiceInfo(URL, "t"))) == []


def test_web_mercator_is_google_maps_compatible_with_exact_scales(
    layers: dict[str, Layer],
) -> None:
    root = caps(layers["min"])
    tms = _tms(root, "WebMercatorQuad")
    assert tms.findtext("w:WellKnownScaleSet", namespaces=NS) == (
        "urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible"
    )
    assert tms.findtext("ows:SupportedCRS", namespaces=NS) == "urn:ogc:def:crs:EPSG::3857"
    matrices = tms.findall("w:TileMatrix", NS)
    # listed down to the first level finer than the 20 m pixels, which span
    # 20 / cos(latitude) Web Mercator metres at the layer's centre
    lat = math.radians(sum(layers["min"].bounds_wgs84[1::2]) / 2)
    native = next(z for z in range(25) if 156543.03392804097 / 2**z <= 20 / math.cos(lat))
    assert native == 13 and len(matrices) == native + 1
    # OGC 07-057r7 Annex E.4: level 0 is 559082264.0287178, each level halves it
    for z, matrix in enumerate(matrices):
        assert matrix.findtext("ows:Identifier", namespaces=NS) == str(z)
        scale = matrix.findtext("w:ScaleDenominator", namespaces=NS)
        assert scale is not None and float(scale) == pytest.approx(559082264.0287178 / 2**z,
                                                                   rel=1e-15)
        assert scale == repr(morecantile.tms.get("WebMercatorQuad").matrix(z).scaleDenominator)
        assert matrix.findtext("w:TopLeftCorner", namespaces=NS) == (
            "-20037508.342789244 20037508.342789244"
        )
        assert matrix.findtext("w:MatrixWidth", namespaces=NS) == str(2**z)


def test_world_crs84_is_written_latitude_first(layers: dict[str, Layer]) -> None:
    tms = _tms(caps(layers["min"]), "WorldCRS84Quad")
    assert tms.findtext("ows:SupportedCRS", namespaces=NS) == "urn:ogc:def:crs:EPSG::4326"
    first = tms.find("w:TileMatrix", NS)
    assert first is not None
    assert first.findtext("w:TopLeftCorner", namespaces=NS) == "90.0 -180.0"
    assert (first.findtext("w:MatrixWidth", namespaces=NS),
            first.findtext("w:MatrixHeight", namespaces=NS)) == ("2", "1")


def test_native_set_is_the_layer_grid(layers: dict[str, Layer]) -> None:
    tms = _tms(caps(layers["min"]), "UTM32N-20m")
    assert tms.findtext("ows:SupportedCRS", namespaces=NS) == "urn:ogc:def:crs:EPSG::32632"
    matrices = tms.findall("w:TileMatrix", NS)
    finest = matrices[-1]
    # 20 km at 20 m = 1000 px = 4 tiles of 256 px; scale = 20 m / 0.28 mm
    assert finest.findtext("w:TopLeftCorner", namespaces=NS) == "652000.0 5181000.0"
    assert finest.findtext("w:MatrixWidth", namespaces=NS) == "4"
    assert float(finest.findtext("w:ScaleDenominator", namespaces=NS) or 0) == pytest.approx(
        20 / 0.00028)


def test_layer_metadata(layers: dict[str, Layer]) -> None:
    layer = _layer(caps(layers["min"]))
    assert layer.findtext("ows:Identifier", namespaces=NS) == "jobmin"
    assert layer.findtext("ows:Title", namespaces=NS) == "Min NDVI"
    box = layer.find("ows:BoundingBox", NS)
    assert box is not None and box.get("crs") == "urn:ogc:def:crs:EPSG::32632"
    assert box.findtext("ows:LowerCorner", namespaces=NS) == "652000.0 5161000.0"
    assert box.findtext("ows:UpperCorner", namespaces=NS) == "672000.0 5181000.0"
    wgs = layer.find("ows:WGS84BoundingBox", NS)
    assert wgs is not None
    lon, lat = Transformer.from_crs(32632, 4326, always_xy=True).transform(652000, 5161000)
    low = [float(v) for v in (wgs.findtext("ows:LowerCorner", namespaces=NS) or "").split()]
    assert low[0] <= lon + 1e-9 and low[1] <= lat + 1e-9
    assert [f.text for f in layer.findall("w:Format", NS)] == [
        "image/png", "image/jpeg", "image/tiff"]
    styles = layer.findall("w:Style", NS)
    assert styles[0].get("isDefault") == "true"
    identifiers = [s.findtext("ows:Identifier", namespaces=NS) for s in styles]
    assert identifiers[0] == "default" and {"viridis", "rdylgn", "gray"} <= set(identifiers)
    assert layer.find("w:Dimension", NS) is None
    templates = [r.get("template") for r in layer.findall("w:ResourceURL", NS)]
    assert f"{URL}/tile/1.0.0/jobmin/{{Style}}/{{TileMatrixSet}}/{{TileMatrix}}/{{TileRow}}/" \
           "{TileCol}.png" in templates


def test_time_dimension_lists_the_dates(layers: dict[str, Layer]) -> None:
    layer = _layer(caps(layers["series"]))
    dim = layer.find("w:Dimension", NS)
    assert dim is not None
    assert dim.findtext("ows:Identifier", namespaces=NS) == "Time"
    assert dim.findtext("w:Default", namespaces=NS) == "2017-01-24"
    assert [v.text for v in dim.findall("w:Value", NS)] == [
        "2017-01-04", "2017-01-14", "2017-01-24"]
    templates = [r.get("template") for r in layer.findall("w:ResourceURL", NS)]
    assert f"{URL}/tile/1.0.0/jobseries/{{Style}}/{{Time}}/{{TileMatrixSet}}/{{TileMatrix}}/" \
           "{TileRow}/{TileCol}.tif" in templates


@pytest.mark.parametrize("z", [0, 5, 9, 12, 13])  # 13: the deepest level listed
def test_web_mercator_limits_cover_the_layer(layers: dict[str, Layer], z: int) -> None:
    layer = layers["min"]
    tms = morecantile.tms.get("WebMercatorQuad")
    west, south, east, north = layer.bounds_wgs84
    # independent: morecantile's tile of each corner of the WGS84 extent
    top_left, bottom_right = tms.tile(west, north, z), tms.tile(east, south, z)
    min_row, max_row, min_col, max_col = tile_limits(layer, tms)[z]
    assert (min_row, max_row, min_col, max_col) == (
        top_left.y, bottom_right.y, top_left.x, bottom_right.x)
    limits = _layer(caps(layer)).find(
        f"w:TileMatrixSetLink[w:TileMatrixSet='WebMercatorQuad']/w:TileMatrixSetLimits/"
        f"w:TileMatrixLimits[w:TileMatrix='{z}']", NS)
    assert limits is not None
    assert limits.findtext("w:MinTileCol", namespaces=NS) == str(top_left.x)
    assert limits.findtext("w:MaxTileRow", namespaces=NS) == str(bottom_right.y)


def _tms(root: ET.Element, identifier: str) -> ET.Element:
    for tms in root.findall("w:Contents/w:TileMatrixSet", NS):
        if tms.findtext("ows:Identifier", namespaces=NS) == identifier:
            return tms
    raise AssertionError(f"no TileMatrixSet {identifier}")


def _layer(root: ET.Element) -> ET.Element:
    layer = root.find("w:Contents/w:Layer", NS)
    assert layer is not None
    return layer
