"""Output formats: option parsing, encoders (GTiff/COG, PNG, JPEG, JSON) and map rendering."""

from __future__ import annotations

from .checks import check_encodable
from .colormaps import LegendStop, colormap_lut, colormap_names, legend
from .encode import Encoded, encode
from .options import FORMATS, OutputSpec, format_name, output_formats, parse_output
from .render import default_style, render, render_image

__all__ = [
    "FORMATS",
    "Encoded",
    "LegendStop",
    "OutputSpec",
    "check_encodable",
    "colormap_lut",
    "colormap_names",
    "default_style",
    "encode",
    "format_name",
    "legend",
    "output_formats",
    "parse_output",
    "render",
    "render_image",
]
