"""The WMTS 1.0.0 capabilities document of one published job (one layer).

Valid against the WMTS 1.0 schemas (with the 1.0.1 correction). The layer is
offered in every tile matrix set of :func:`ondemand.tms.tms_ids`: WebMercatorQuad
(well-known scale set GoogleMapsCompatible), WorldCRS84Quad (written in
``urn:ogc:def:crs:EPSG::4326``, latitude first) and the layer's native grid.
Coordinates follow the axis order of their CRS; scale denominators and corners are
written with full ``repr`` precision.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache

from morecantile import Tile, TileMatrixSet
from pyproj import CRS as ProjCRS
from rasterio.crs import CRS

from ondemand.formats import colormap_names
from ondemand.layer import Layer
from ondemand.tms import (
    WEB_MERCATOR,
    layer_bounds_in,
    tile_matrix_set,
    tms_crs,
    tms_ids,
    zoom_range,
)

from ..common import XLINK, XSI, xml_bytes

WMTS_NS = "http://www.opengis.net/wmts/1.0"
OWS_NS = "http://www.opengis.net/ows/1.1"
WMTS_SCHEMA = "http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd"
GOOGLE_MAPS_COMPATIBLE = "urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible"
WGS84_URN = "urn:ogc:def:crs:EPSG::4326"
DEFAULT_STYLE = "default"
TIME_DIMENSION = "Time"

FORMATS: dict[str, str] = {"image/png": "png", "image/jpeg": "jpg", "image/tiff": "tif"}
"""Tile media types and their REST file extensions (TIFF tiles are float32 data)."""
GML_FORMAT = "application/vnd.ogc.gml"
INFO_FORMATS: dict[str, str] = {
    "application/json": "json",
    "text/plain": "txt",
    "text/xml": "xml",
    GML_FORMAT: "gml",
}
"""GetFeatureInfo media types and their REST file extensions. GML comes last: QGIS uses
the last feature format listed for its feature mode, and parses only GML there."""
_EPS = 1e-9
@dataclass(frozen=True)
class ServiceInfo:
    """What the document says about the service itself."""

    url: str
    """The KVP endpoint, ``{base}/services/{id}/wmts``."""
    title: str
    abstract: str = ""

    @property
    def capabilities_url(self) -> str:
        """The RESTful capabilities document."""
        return f"{self.url}/1.0.0/WMTSCapabilities.xml"

    @property
    def tile_url(self) -> str:
        """The RESTful tile path prefix (the layer identifier follows)."""
        return f"{self.url}/tile/1.0.0"


CURATED_STYLES = ("rdylgn", "viridis", "gray", "greys", "magma", "rdbu", "brbg")
"""Colormaps advertised as styles of a 1-band layer (diverging ones suit NDVI-like data).

Every other colormap name is still accepted as a style (:func:`accepts_style`); listing
all 211 would make the document ~50 KB and every client list hundreds of layers."""


def styles(layer: Layer) -> list[str]:
    """Advertised style identifiers: ``default``, and a few colormaps for 1-band results."""
    if layer.bands is not None and len(layer.bands) != 1:
        return [DEFAULT_STYLE]
    return [DEFAULT_STYLE, *CURATED_STYLES]


def accepts_style(layer: Layer, style: str) -> bool:
    """Whether ``style`` is one a tile may name: advertised, or any colormap (1-band layers)."""
    if style in styles(layer):
        return True
    return len(styles(layer)) > 1 and style in colormap_names()


def capabilities(layer: Layer, service: ServiceInfo) -> bytes:
    """The capabilities document of ``service`` publishing ``layer``."""
    root = ET.Element(
        "Capabilities",
        {
            "xmlns": WMTS_NS,
            "xmlns:ows": OWS_NS,
            "xmlns:xlink": XLINK,
            "xmlns:xsi": XSI,
            "xsi:schemaLocation": f"{WMTS_NS} {WMTS_SCHEMA}",
            "version": "1.0.0",
        },
    )
    _service_identification(root, service)
    provider = ET.SubElement(root, "ows:ServiceProvider")
    _text(provider, "ows:ProviderName", "ondemand")
    ET.SubElement(provider, "ows:ServiceContact")
    _operations(root, service)
    contents = ET.SubElement(root, "Contents")
    sets = [tile_matrix_set(layer, tms_id) for tms_id in tms_ids(layer)]
    _layer(contents, layer, service, sets)
    for tms in sets:
        _tile_matrix_set(contents, tms, advertised_levels(layer, tms))
    ET.SubElement(root, "ServiceMetadataURL", {"xlink:href": service.capabilities_url})
    return xml_bytes(root)


def _text(parent: ET.Element, tag: str, text: str, attrib: dict[str, str] | None = None) -> None:
    ET.SubElement(parent, tag, attrib or {}).text = text


def _service_identification(root: ET.Element, service: ServiceInfo) -> None:
    ident = ET.SubElement(root, "ows:ServiceIdentification")
    _text(ident, "ows:Title", service.title)
    if service.abstract:
        _text(ident, "ows:Abstract", service.abstract)
    _text(ident, "ows:ServiceType", "OGC WMTS")
    _text(ident, "ows:ServiceTypeVersion", "1.0.0")


def _operations(root: ET.Element, service: ServiceInfo) -> None:
    meta = ET.SubElement(root, "ows:OperationsMetadata")
    rest = {
        "GetCapabilities": service.capabilities_url,
        "GetTile": f"{service.tile_url}/",
        "GetFeatureInfo": f"{service.tile_url}/",
    }
    for name, rest_url in rest.items():
        http = ET.SubElement(
            ET.SubElement(ET.SubElement(meta, "ows:Operation", {"name": name}), "ows:DCP"),
            "ows:HTTP",
        )
        for href, encoding in ((f"{service.url}?", "KVP"), (rest_url, "RESTful")):
            get = ET.SubElement(http, "ows:Get", {"xlink:href": href})
            constraint = ET.SubElement(get, "ows:Constraint", {"name": "GetEncoding"})
            _text(ET.SubElement(constraint, "ows:AllowedValues"), "ows:Value", encoding)


def _layer(
    contents: ET.Element, layer: Layer, service: ServiceInfo, sets: list[TileMatrixSet]
) -> None:
    node = ET.SubElement(contents, "Layer")
    _text(node, "ows:Title", layer.title)
    west, south, east, north = layer.bounds_wgs84
    wgs84 = ET.SubElement(node, "ows:WGS84BoundingBox", {"crs": "urn:ogc:def:crs:OGC:2:84"})
    _text(wgs84, "ows:LowerCorner", _pair(west, south))
    _text(wgs84, "ows:UpperCorner", _pair(east, north))
    _text(node, "ows:Identifier", layer.id)
    _bounding_boxes(node, layer, sets)
    for style in styles(layer):
        attrib = {"isDefault": "true"} if style == DEFAULT_STYLE else {}
        style_node = ET.SubElement(node, "Style", attrib)
        _text(style_node, "ows:Title", _style_title(style))
        _text(style_node, "ows:Identifier", style)
    for media_type in FORMATS:
        _text(node, "Format", media_type)
    for media_type in INFO_FORMATS:
        _text(node, "InfoFormat", media_type)
    if layer.times is not None:
        dim = ET.SubElement(node, "Dimension")
        _text(dim, "ows:Title", "Acquisition date")
        _text(dim, "ows:Identifier", TIME_DIMENSION)
        _text(dim, "ows:UOM", "ISO8601")
        assert layer.default_time is not None
        _text(dim, "Default", layer.default_time.date().isoformat())
        for time in layer.times:
            _text(dim, "Value", time.date().isoformat())
    for tms in sets:
        link = ET.SubElement(node, "TileMatrixSetLink")
        _text(link, "TileMatrixSet", tms.id or "")
        limits = ET.SubElement(link, "TileMatrixSetLimits")
        levels = advertised_levels(layer, tms)
        for z, (min_row, max_row, min_col, max_col) in tile_limits(layer, tms, levels).items():
            entry = ET.SubElement(limits, "TileMatrixLimits")
            _text(entry, "TileMatrix", str(z))
            _text(entry, "MinTileRow", str(min_row))
            _text(entry, "MaxTileRow", str(max_row))
            _text(entry, "MinTileCol", str(min_col))
            _text(entry, "MaxTileCol", str(max_col))
    dimension = f"/{{{TIME_DIMENSION}}}" if layer.has_time else ""
    prefix = f"{service.tile_url}/{layer.id}/{{Style}}{dimension}/{{TileMatrixSet}}/{{TileMatrix}}"
    for media_type, ext in FORMATS.items():
        template = f"{prefix}/{{TileRow}}/{{TileCol}}.{ext}"
        attrib = {"format": media_type, "resourceType": "tile", "template": template}
        ET.SubElement(node, "ResourceURL", attrib)
    for media_type, ext in INFO_FORMATS.items():
        template = f"{prefix}/{{TileRow}}/{{TileCol}}/{{J}}/{{I}}.{ext}"
        attrib = {"format": media_type, "resourceType": "FeatureInfo", "template": template}
        ET.SubElement(node, "ResourceURL", attrib)


def _bounding_boxes(node: ET.Element, layer: Layer, sets: list[TileMatrixSet]) -> None:
    """One ``ows:BoundingBox`` per CRS: the native one first, then each tile matrix set's.

    GDAL's WMTS driver looks for a box in each set's CRS; missing one, it reprojects
    another and prints projection errors.
    """
    boxes: dict[str, tuple[bool, tuple[float, float, float, float]]] = {}
    urn, swap = crs_urn(layer.native_crs)
    boxes[urn] = (swap, layer.native_bounds)
    for tms in sets:
        urn, swap = crs_urn(tms_crs(tms))
        boxes.setdefault(urn, (swap, layer_bounds_in(layer, tms)))
    for urn, (swap, (left, bottom, right, top)) in boxes.items():
        box = ET.SubElement(node, "ows:BoundingBox", {"crs": urn})
        _text(box, "ows:LowerCorner", _pair(left, bottom, swap))
        _text(box, "ows:UpperCorner", _pair(right, top, swap))


def _style_title(style: str) -> str:
    if style == DEFAULT_STYLE:
        return "Default (NDVI-like data: red-yellow-green over -1..1; else a stretch)"
    if style.endswith("_r"):
        return f"Colormap {style[:-2]} (reversed)"
    return f"Colormap {style}"


def advertised_levels(layer: Layer, tms: TileMatrixSet) -> range:
    """The tile matrices the document lists: from the set's first level to the first at
    least as fine as the layer's native pixels.

    Deeper levels are still served; clients magnify the deepest level listed, and GDAL's
    WMTS driver sizes its dataset from it (a 3 km layer is not 53 million pixels wide).
    """
    return range(tms.minzoom, zoom_range(layer, tms)[1] + 1)


def tile_limits(
    layer: Layer, tms: TileMatrixSet, levels: range | None = None
) -> dict[int, tuple[int, int, int, int]]:
    """``{level: (min_row, max_row, min_col, max_col)}`` of the tiles touching the layer
    (every level of ``tms`` unless ``levels`` is given)."""
    left, bottom, right, top = layer_bounds_in(layer, tms)
    limits: dict[int, tuple[int, int, int, int]] = {}
    for z in levels if levels is not None else range(tms.minzoom, tms.maxzoom + 1):
        matrix = tms.matrix(z)
        origin = tms.xy_bounds(Tile(0, 0, z))
        width = matrix.cellSize * matrix.tileWidth
        height = matrix.cellSize * matrix.tileHeight

        def clip(value: float, size: int) -> int:
            return min(max(int(value), 0), size - 1)

        min_col = clip(math.floor((left - origin.left) / width + _EPS), matrix.matrixWidth)
        max_col = clip(math.ceil((right - origin.left) / width - _EPS) - 1, matrix.matrixWidth)
        min_row = clip(math.floor((origin.top - top) / height + _EPS), matrix.matrixHeight)
        max_row = clip(math.ceil((origin.top - bottom) / height - _EPS) - 1, matrix.matrixHeight)
        limits[z] = (min_row, max(min_row, max_row), min_col, max(min_col, max_col))
    return limits


def _tile_matrix_set(contents: ET.Element, tms: TileMatrixSet, levels: range) -> None:
    node = ET.SubElement(contents, "TileMatrixSet")
    if tms.title:
        _text(node, "ows:Title", tms.title)
    _text(node, "ows:Identifier", tms.id or "")
    urn, swap = crs_urn(tms_crs(tms))
    _text(node, "ows:SupportedCRS", urn)
    if tms.id == WEB_MERCATOR:
        _text(node, "WellKnownScaleSet", GOOGLE_MAPS_COMPATIBLE)
    for z in levels:
        matrix = tms.matrix(z)
        origin = tms.xy_bounds(Tile(0, 0, z))
        entry = ET.SubElement(node, "TileMatrix")
        _text(entry, "ows:Identifier", str(z))
        _text(entry, "ScaleDenominator", repr(float(matrix.scaleDenominator)))
        _text(entry, "TopLeftCorner", _pair(origin.left, origin.top, swap))
        _text(entry, "TileWidth", str(matrix.tileWidth))
        _text(entry, "TileHeight", str(matrix.tileHeight))
        _text(entry, "MatrixWidth", str(matrix.matrixWidth))
        _text(entry, "MatrixHeight", str(matrix.matrixHeight))


def _pair(x: float, y: float, swap: bool = False) -> str:
    """``x y`` (east, north) as text, in the CRS's axis order when ``swap``."""
    first, second = (y, x) if swap else (x, y)
    return f"{float(first)!r} {float(second)!r}"


def crs_urn(crs: CRS) -> tuple[str, bool]:
    """The ``urn:ogc:def:crs:EPSG::code`` of a CRS and whether its first axis is north.

    OGC:CRS84 (longitude, latitude) is written as EPSG:4326 (latitude first).
    """
    return _crs_urn(crs.to_string())


@lru_cache(maxsize=64)
def _crs_urn(text: str) -> tuple[str, bool]:
    proj = ProjCRS.from_user_input(text)
    if proj.equals(ProjCRS.from_user_input("OGC:CRS84")):
        return WGS84_URN, True
    epsg = proj.to_epsg()
    if epsg is None:
        return proj.to_string(), False
    north_first = proj.axis_info[0].direction.lower() in ("north", "south")
    return f"urn:ogc:def:crs:EPSG::{epsg}", north_first
