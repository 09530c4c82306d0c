"""GetFeatureInfo as a GML 2 feature collection, the answer QGIS parses in feature mode.

QGIS's WMS/WMTS provider reads feature info in ``application/vnd.ogc.gml`` with its GML
parser (the schema guessed from the document): a ``wfs:FeatureCollection`` whose
``gml:featureMember`` holds one feature with a ``gml:Point`` geometry and one element per
attribute. One feature per request: the pixel, its tile, its date and each band's value
(empty where masked).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from ..common import sub_element, xml_bytes, xml_number

GML2 = "http://www.opengis.net/gml"
WFS = "http://www.opengis.net/wfs"
ONDEMAND = "urn:ondemand:featureinfo"
FEATURE = "pixel"
"""The feature type name QGIS shows for the answer."""
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def field_name(band: str) -> str:
    """A band name usable as an XML element name (``band_1`` for ``1``)."""
    return band if _NAME.match(band) and not band.lower().startswith("xml") else f"band_{band}"


def feature_collection(
    info: Mapping[str, object],
    values: Mapping[str, float | None],
    point: tuple[float, float],
    srs: str,
) -> bytes:
    """The pixel as one GML 2 feature: ``info`` fields, then each band's value."""
    root = ET.Element(
        "wfs:FeatureCollection", {"xmlns:wfs": WFS, "xmlns:gml": GML2, "xmlns:od": ONDEMAND}
    )
    member = sub_element(root, "gml:featureMember")
    feature = sub_element(member, f"od:{FEATURE}", fid=f"{FEATURE}.1")
    geometry = sub_element(feature, "od:geometry")
    where = sub_element(geometry, "gml:Point", srsName=srs)
    sub_element(where, "gml:coordinates", f"{xml_number(point[0])},{xml_number(point[1])}")
    for key, value in info.items():
        sub_element(feature, f"od:{key}", "" if value is None else str(value))
    for band, number in values.items():
        sub_element(feature, f"od:{field_name(band)}", "" if number is None else repr(number))
    return xml_bytes(root)
