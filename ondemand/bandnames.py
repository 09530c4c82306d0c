"""Common band names (``red``, ``nir`` ...) of well-known Sentinel-2 and Landsat 8/9 bands.

Used where a STAC collection does not give ``eo:bands[].common_name`` itself, so that
``ndvi`` finds red and nir and ``load_collection(bands=["red"])`` works on plain
Sentinel-2 and Landsat catalogs. The names follow the STAC eo extension, except
Landsat's B5: ``nir`` (the band NDVI uses).
"""

from __future__ import annotations

SENTINEL2 = {
    "B01": "coastal", "B02": "blue", "B03": "green", "B04": "red", "B05": "rededge071",
    "B06": "rededge075", "B07": "rededge078", "B08": "nir", "B8A": "nir08", "B09": "nir09",
    "B10": "cirrus", "B11": "swir16", "B12": "swir22",
}
LANDSAT89 = {
    "B1": "coastal", "B2": "blue", "B3": "green", "B4": "red", "B5": "nir", "B6": "swir16",
    "B7": "swir22", "B8": "pan", "B9": "cirrus", "B10": "lwir11", "B11": "lwir12",
}


def known_common_name(band: str, platform: object) -> str | None:
    """The common name of ``band`` of an item of ``platform`` (e.g. ``sentinel-2a``), if known.

    Without a platform, Sentinel-2's two-digit names (``B04``, ``B8A``) are recognised;
    Landsat's one-digit names (``B4``) need a ``landsat-8`` / ``landsat-9`` platform.
    """
    text = str(platform or "").lower()
    if text.startswith("landsat-8") or text.startswith("landsat-9"):
        return LANDSAT89.get(band.upper())
    if text.startswith("sentinel-2") or not text:
        return SENTINEL2.get(band.upper())
    return None
