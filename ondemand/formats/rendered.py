"""GeoTIFFs rendered to 8-bit RGB: what ``compress=JPEG`` writes for data that is not.

JPEG holds 8-bit data and YCbCr needs three bands, so a GeoTIFF asked with
``compress=JPEG`` (or ``photometric=YCBCR``, or ``jpeg_quality``) of a result that is
not already 8-bit RGB is rendered first, exactly as map tiles are (1 band through the
colormap over its range, 3 bands stretched; ``colormap`` and ``rescale`` override),
then written as GDAL writes ``-co COMPRESS=JPEG -co PHOTOMETRIC=YCBCR`` with a mask:
three uint8 bands, tiled, JPEG in YCbCr (RGB if asked), no-data in an internal mask
band (those pixels are black), on the result's grid. :func:`write_rendered` says
what was done, for the ``OnDemand-Rendering`` response header.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from rasterio.io import MemoryFile

from ..cube import Cube
from .gtiff import creation_options
from .options import OutputSpec
from .render import masked_black, render_rgb
from .values import Photometric

RENDERING_HEADER = "OnDemand-Rendering"
"""Response header naming the rendering applied to a GeoTIFF (absent when none was)."""


def write_rendered(cube: Cube, spec: OutputSpec) -> tuple[bytes, str]:
    """The cube's one date, rendered and written as ``spec`` asks; and what was done."""
    data = cube.data.reshape(-1, *cube.data.shape[2:])
    rendered = render_rgb(data, spec.colormap, None if spec.rescale is None else spec.rescale)
    rgb = masked_black(rendered.rgb, rendered.mask)
    photometric: Photometric = "RGB" if spec.photometric == "RGB" else "YCBCR"
    options = creation_options(replace(spec, photometric=None if spec.cog else photometric))
    profile: dict[str, Any] = {
        "driver": "COG" if spec.cog else "GTiff",
        "width": cube.width,
        "height": cube.height,
        "count": 3,
        "dtype": "uint8",
        "crs": cube.crs,
        "transform": cube.transform,
        "nodata": None,
        **options,
    }
    with MemoryFile() as memfile:
        with memfile.open(**profile) as dst:
            dst.write(np.ascontiguousarray(rgb))
            if rendered.mask.any():
                dst.write_mask(np.where(rendered.mask, np.uint8(0), np.uint8(255)))
            for index, colour in enumerate(("red", "green", "blue"), start=1):
                dst.set_band_description(index, colour)
            dst.update_tags(rendered_from=",".join(cube.bands), style=rendered.describe())
        content = bytes(memfile.read())
    dtype = np.dtype(cube.data.dtype).name
    note = (
        f"rendered to 8-bit RGB with {rendered.describe()} for compress=JPEG "
        f"({'YCbCr' if photometric == 'YCBCR' else 'RGB'}); no-data is the mask band; "
        f"compress=DEFLATE keeps the {dtype} values"
    )
    return content, note
