"""The engine facade: compile graphs once, evaluate them on windows, encode results.

A graph's result is a raster or a table (:class:`ResultKind`); the engine tells which,
and everything that stores or encodes results asks it rather than looking at value
types. How an evaluation runs, under the synchronous limits or through the cache, is a
:class:`Policy` the caller names.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .catalog import Catalog
from .cube import Cube
from .errors import ArgumentInvalid, OutputFormatUnsupported
from .evaluate import NO_LIMITS, BytesCache, CompiledGraph, Limits, compile_graph, evaluate
from .formats import Encoded, OutputSpec, check_encodable, encode, parse_output
from .formats.options import RASTER_FORMATS, TABLE_FORMATS, Format
from .formats.tables import encode_table
from .gdalenv import gdal_options
from .grid import default_window
from .processes import REGISTRY, Registry
from .processes.output import result_output
from .processes.resample import planned_grid
from .processes.types import ANY, RASTER_CUBE, TABLE
from .read import RasterReader
from .settings import Settings
from .table import Table
from .userfiles import FileStore
from .window import Window


class ResultKind(Enum):
    """What a graph returns, and so how its result is encoded and stored."""

    RASTER = "raster"
    TABLE = "table"

    @property
    def formats(self) -> tuple[Format, ...]:
        """The output formats that hold this kind of result."""
        return TABLE_FORMATS if self is ResultKind.TABLE else RASTER_FORMATS

    def check_format(self, spec: OutputSpec) -> None:
        """OutputFormatUnsupported unless ``spec``'s format holds this kind of result."""
        if spec.format not in self.formats:
            other = "rasters" if self is ResultKind.TABLE else "tables (zonal_statistics)"
            raise OutputFormatUnsupported(
                f"The process graph returns a {self.value}; format {spec.format} holds "
                f"{other}. Use one of {', '.join(self.formats)}"
            )


@dataclass(frozen=True)
class Policy:
    """How one evaluation runs: under the synchronous limits or not, through the cache or not.

    The two are independent choices with one exception: a limited evaluation never uses
    the cache, because a result or read taken from it is not counted against the pixel,
    date and time limits, which would then depend on what the cache happens to hold.
    """

    limits: bool
    """Apply the settings' pixel, date and time limits of synchronous requests."""
    cache: bool
    """Keep and reuse results and reads of small windows in the engine's cache (if any)."""

    def __post_init__(self) -> None:
        if self.limits and self.cache:
            raise ValueError("a limited evaluation cannot use the cache (its limits must hold)")


LIMITED = Policy(limits=True, cache=False)
"""Synchronous requests (``/jobs/execute``, WCS GetCoverage): limits hold, no cache."""
CACHED = Policy(limits=False, cache=True)
"""Map tiles and points (windows bounded by the protocol) and batch runs: no limits, cached."""


class Engine:
    """Holds the catalog, the shared reader and the cache; every protocol evaluates through it."""

    def __init__(
        self, catalog: Catalog, settings: Settings, cache: BytesCache | None = None
    ) -> None:
        """``cache`` keeps results and reads of evaluations whose policy asks for it."""
        self.catalog = catalog
        self.settings = settings
        self.reader = RasterReader(threads=settings.read_threads, gdal=gdal_options(settings))
        self.cache = cache

    def close(self) -> None:
        """Stop the read threads."""
        self.reader.close()

    def compile(self, doc: Any, registry: Registry = REGISTRY) -> CompiledGraph:
        """Parse, validate and plan a process graph in either form.

        ``registry`` decides the meanings: the draft's (default) or openEO 1.x's
        (``OPENEO_REGISTRY``: exclusive end dates).
        """
        return compile_graph(
            doc,
            self.catalog,
            max_nodes=self.settings.max_graph_nodes,
            max_depth=self.settings.max_graph_depth,
            registry=registry,
        )

    def result_kind(self, compiled: CompiledGraph) -> ResultKind:
        """Raster or table; a graph returning anything else (a number …) is ArgumentInvalid."""
        kind = compiled.result_type.kind
        if kind == TABLE:
            return ResultKind.TABLE
        if kind in (RASTER_CUBE, ANY):
            return ResultKind.RASTER
        raise ArgumentInvalid(
            f"The process graph returns {compiled.result_type.describe()}, neither a raster "
            "nor a table (zonal_statistics)"
        )

    def evaluate(
        self,
        compiled: CompiledGraph,
        window: Window,
        *,
        policy: Policy = LIMITED,
        user_files: FileStore | None = None,
    ) -> Any:
        """Evaluate on ``window`` as ``policy`` says (limits, cache).

        ``user_files`` are the calling user's files (regions of zonal_statistics).
        """
        return evaluate(
            compiled,
            window,
            self.reader,
            limits=self.limits() if policy.limits else NO_LIMITS,
            user_files=user_files,
            cache=self.cache if policy.cache else None,
        )

    def evaluate_table(
        self,
        compiled: CompiledGraph,
        *,
        policy: Policy = LIMITED,
        user_files: FileStore | None = None,
    ) -> Table:
        """Evaluate a graph whose result is a table on its output window.

        Table processes read what they need on their own grids (zonal statistics: the
        items' native pixels under the polygons); the window gives the area and dates.
        """
        window = self.output_window(compiled, OutputSpec())
        result = self.evaluate(compiled, window, policy=policy, user_files=user_files)
        if not isinstance(result, Table):
            raise ArgumentInvalid(
                f"The process graph returns {type(result).__name__}, not a table"
            )
        return result

    def limits(self) -> Limits:
        """Pixel, date and time limits of one synchronous evaluation starting now."""
        return Limits(
            max_pixels=self.settings.max_pixels,
            max_dates=self.settings.max_dates,
            deadline=time.monotonic() + self.settings.eval_timeout_seconds,
        )

    def output_window(self, compiled: CompiledGraph, spec: OutputSpec) -> Window:
        """The window of a download: the graph's bbox on the native grid, or as ``spec`` asks.

        Without a CRS or resolution in ``spec``, a graph's resample_spatial decides them.
        """
        crs = None if spec.crs is None else str(spec.crs)
        if isinstance(spec.crs, int):
            crs = f"EPSG:{spec.crs}"
        resolution = spec.resolution
        if crs is None and resolution is None:
            crs, resolution = planned_grid(compiled.graph)
        return default_window(
            compiled,
            crs=crs,
            resolution=resolution,
            width=spec.width,
            height=spec.height,
            resampling=spec.resampling,
        )

    def execute(
        self,
        doc: Any,
        output: Mapping[str, Any] | None,
        user_files: FileStore | None = None,
        registry: Registry = REGISTRY,
    ) -> Encoded:
        """Synchronous execution: compile, evaluate on the output window, encode.

        A table result (zonal_statistics) is encoded in a table format (GPKG, GeoJSON,
        CSV, JSON); ``user_files`` are the calling user's files. A graph ending in
        ``save_result`` is encoded in its format and options (see :func:`result_output`).
        """
        parse_output(output)
        compiled = self.compile(doc, registry)
        spec = parse_output(result_output(compiled.graph, output))
        kind = self.result_kind(compiled)
        kind.check_format(spec)
        if kind is ResultKind.TABLE:
            return encode_table(self.evaluate_table(compiled, user_files=user_files), spec)
        window = self.output_window(compiled, spec)
        result = self.evaluate(compiled, window)
        if not isinstance(result, Cube):
            raise ArgumentInvalid(
                f"The process graph returns {type(result).__name__}, not a raster; "
                "this output format needs a raster result"
            )
        check_encodable(
            spec, result.data.dtype, len(result.bands), date_count=result.data.shape[0],
            render=True,
        )
        return encode(result, spec)
