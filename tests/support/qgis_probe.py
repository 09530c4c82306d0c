"""Drive QGIS (Debian's python3-qgis) against a live server; run by Debian's python3.

Not imported by the tests (their interpreter has no QGIS): ``tests/support/qgis.py``
runs it in a subprocess with ``QT_QPA_PLATFORM=offscreen`` and a fresh XDG cache, a
JSON request on stdin, a JSON answer on stdout. Requests:

- ``{"op": "render", "uri", "provider", "extent": [xmin, ymin, xmax, ymax], "crs",
  "size": [w, h], "out"}``: render the layer to a PNG;
- ``{"op": "block", "uri", "provider", "extent", "size": [w, h]}``: band count, CRS and
  band 1 read by the provider over ``extent`` (layer CRS) at ``size``, row by row (null
  for no data);
- ``{"op": "identify", "uri", "provider", "point": [x, y], "extent", "size"}``: the
  identify results in feature mode (attributes of each feature).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsPointXY,
    QgsRaster,
    QgsRasterLayer,
    QgsRectangle,
)
from qgis.PyQt.QtCore import QSize


def _layer(request: dict[str, Any]) -> QgsRasterLayer:
    layer = QgsRasterLayer(request["uri"], "layer", request["provider"])
    if not layer.isValid():
        raise SystemExit(json.dumps({"error": "invalid layer", "uri": request["uri"]}))
    return layer


def render(request: dict[str, Any]) -> dict[str, Any]:
    layer = _layer(request)
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem(request["crs"]))
    settings.setExtent(QgsRectangle(*request["extent"]))
    settings.setOutputSize(QSize(*request["size"]))
    settings.setBackgroundColor(settings.backgroundColor().fromRgba(0))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    return {"saved": bool(image.save(request["out"], "PNG")),
            "errors": [e.message for e in job.errors()]}


def block(request: dict[str, Any]) -> dict[str, Any]:
    layer = _layer(request)
    provider = layer.dataProvider()
    width, height = request["size"]
    data = provider.block(1, QgsRectangle(*request["extent"]), width, height)
    rows = [[None if data.isNoData(r, c) else data.value(r, c) for c in range(width)]
            for r in range(height)]
    return {"bands": layer.bandCount(), "crs": layer.crs().authid(), "rows": rows}


def identify(request: dict[str, Any]) -> dict[str, Any]:
    layer = _layer(request)
    provider = layer.dataProvider()
    x, y = request["point"]
    width, height = request["size"]
    result = provider.identify(QgsPointXY(x, y), QgsRaster.IdentifyFormatFeature,
                               QgsRectangle(*request["extent"]), width, height)
    features = []
    for stores in result.results().values():
        if isinstance(stores, str):
            features.append({"error": stores})
            continue
        for store in stores:
            for feature in store.features():
                names = feature.fields().names()
                features.append({n: feature[n] for n in names})
    return {"valid": result.isValid(), "features": features}


def main() -> None:
    request = json.load(sys.stdin)
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    try:
        answer = {"render": render, "block": block, "identify": identify}[request["op"]](request)
    finally:
        app.exitQgis()
    print(json.dumps(answer, default=str))


if __name__ == "__main__":
    main()
