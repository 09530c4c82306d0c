"""The engine facade: compile graphs once, evaluate them on windows, encode results."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from .catalog import Catalog
from .cube import Cube
from .errors import ArgumentInvalid, OutputFormatUnsupported
from .evaluate import NO_LIMITS, BytesCache, CompiledGraph, Limits, compile_graph, evaluate
from .formats import Encoded, OutputSpec, check_encodable, encode, parse_output
from .formats.options import RASTER_FORMATS, TABLE_FORMATS
from .formats.tables import encode_table
from .grid import default_window
from .processes.zonal import TABLE
from .read import RasterReader
from .settings import Settings
from .userfiles import UserFiles
from .window import Window


class Engine:
    """Holds the catalog and the shared reader; every protocol evaluates through it."""

    def __init__(self, catalog: Catalog, settings: Settings) -> None:
        self.catalog = catalog
        self.settings = settings
        self.reader = RasterReader(threads=settings.read_threads)
        self.cache: BytesCache | None = None

    def close(self) -> None:
        """Stop the read threads."""
        self.reader.close()

    def compile(self, doc: Any) -> CompiledGraph:
        """Parse, validate and plan a process graph in either dialect."""
        return compile_graph(
            doc,
            self.catalog,
            max_nodes=self.settings.max_graph_nodes,
            max_depth=self.settings.max_graph_depth,
        )

    def evaluate(
        self,
        compiled: CompiledGraph,
        window: Window,
        *,
        limited: bool = True,
        user_files: UserFiles | None = None,
    ) -> Any:
        """Evaluate on ``window``; ``limited`` applies the synchronous limits of the settings.

        ``user_files`` are the calling user's files (regions of zonal_statistics).
        """
        return evaluate(
            compiled,
            window,
            self.reader,
            limits=self.limits() if limited else NO_LIMITS,
            user_files=user_files,
            cache=None if limited else self.cache,
        )

    def use_cache(self, cache: BytesCache | None) -> None:
        """Keep results and reads of small unlimited windows (map tiles) in ``cache``.

        Limited (synchronous) evaluations never use it, so their limits hold whatever the
        cache holds.
        """
        self.cache = cache

    def limits(self) -> Limits:
        """Pixel, date and time limits of one synchronous evaluation starting now."""
        return Limits(
            max_pixels=self.settings.max_pixels,
            max_dates=self.settings.max_dates,
            deadline=time.monotonic() + self.settings.eval_timeout_seconds,
        )

    def output_window(self, compiled: CompiledGraph, spec: OutputSpec) -> Window:
        """The window of a download: the graph's bbox on the native grid, or as ``spec`` asks."""
        crs = None if spec.crs is None else str(spec.crs)
        if isinstance(spec.crs, int):
            crs = f"EPSG:{spec.crs}"
        return default_window(
            compiled,
            crs=crs,
            resolution=spec.resolution,
            width=spec.width,
            height=spec.height,
            resampling=spec.resampling,
        )

    def execute(
        self, doc: Any, output: Mapping[str, Any] | None, user_files: UserFiles | None = None
    ) -> Encoded:
        """Synchronous execution: compile, evaluate on the output window, encode.

        A table result (zonal_statistics) is encoded in a table format (GPKG, GeoJSON,
        CSV, JSON); ``user_files`` are the calling user's files.
        """
        spec = parse_output(output)
        compiled = self.compile(doc)
        if compiled.result_type.kind == TABLE:
            from .zonal import zonal_table

            if spec.format not in TABLE_FORMATS:
                raise OutputFormatUnsupported(
                    f"The process graph returns a table; format {spec.format} holds rasters. "
                    f"Use one of {', '.join(TABLE_FORMATS)}"
                )
            return encode_table(zonal_table(self, compiled, user_files, limited=True), spec)
        if spec.format not in RASTER_FORMATS:
            raise OutputFormatUnsupported(
                f"Format {spec.format} holds tables (zonal_statistics); for a raster use one "
                f"of {', '.join(RASTER_FORMATS)}"
            )
        window = self.output_window(compiled, spec)
        result = self.evaluate(compiled, window)
        if not isinstance(result, Cube):
            raise ArgumentInvalid(
                f"The process graph returns {type(result).__name__}, not a raster; "
                "this output format needs a raster result"
            )
        check_encodable(spec, result.data.dtype, len(result.bands), date_count=result.data.shape[0])
        return encode(result, spec)
