"""Encode a result cube in the requested output format."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..cube import Cube
from .checks import check_encodable, renders
from .gtiff import write_gtiff
from .jsonout import write_json
from .netcdf import MEDIA_TYPE as NETCDF_MEDIA_TYPE
from .netcdf import write_netcdf
from .options import OutputSpec
from .render import render
from .rendered import RENDERING_HEADER, write_rendered

GEOTIFF_MEDIA_TYPE = "image/tiff; application=geotiff"
COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "JSON": "application/json",
               "netCDF": NETCDF_MEDIA_TYPE}
EXTENSIONS = {"GTiff": "tif", "PNG": "png", "JPEG": "jpg", "JSON": "json", "netCDF": "nc"}


@dataclass(frozen=True)
class Encoded:
    """An encoded result: the file's bytes, its media type and a file name."""

    content: bytes
    media_type: str
    filename: str
    rendering: str | None = None
    """What rendering made the file 8-bit RGB (a rendered GeoTIFF), or None."""

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers describing the content (``OnDemand-Rendering`` when rendered)."""
        return {} if self.rendering is None else {RENDERING_HEADER: self.rendering}


def encode(cube: Cube, spec: OutputSpec, *, stem: str = "result") -> Encoded:
    """Encode ``cube`` as ``spec`` asks; ``stem`` names the file (``result.tif``).

    GTiff keeps the dtype, grid and mask (see :mod:`~ondemand.formats.gtiff`), unless
    ``compress=JPEG`` needs a rendering (see :mod:`~ondemand.formats.rendered`); PNG
    and JPEG are rendered pictures of the last date (see
    :mod:`~ondemand.formats.render`); JSON holds the values (see
    :mod:`~ondemand.formats.jsonout`); netCDF a CF datacube (see
    :mod:`~ondemand.formats.netcdf`). Raises ``OutputOptionInvalid`` first if the
    options cannot encode this cube (:func:`check_encodable`).
    """
    dates = 1 if cube.times is None else len(cube.times)
    check_encodable(spec, cube.data.dtype, len(cube.bands), date_count=dates, render=True)
    filename = f"{stem}.{EXTENSIONS[spec.format]}"
    if spec.format == "GTiff":
        media_type = COG_MEDIA_TYPE if spec.cog else GEOTIFF_MEDIA_TYPE
        if renders(spec, cube.data.dtype, dates * len(cube.bands)):
            content, note = write_rendered(cube, spec)
            return Encoded(content, media_type, filename, note)
        return Encoded(write_gtiff(cube, spec), media_type, filename)
    if spec.format == "JSON":
        return Encoded(write_json(cube), MEDIA_TYPES["JSON"], filename)
    if spec.format == "netCDF":
        return Encoded(write_netcdf(cube, spec), MEDIA_TYPES["netCDF"], filename)
    return Encoded(render(cube, spec), MEDIA_TYPES[spec.format], filename)
