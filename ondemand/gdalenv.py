"""GDAL configuration for reading cloud-optimized GeoTIFFs over HTTP(S) and S3 cheaply."""

from __future__ import annotations

from .settings import Settings

COG_DEFAULTS: dict[str, str] = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.TIF,.tiff,.TIFF",
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
    "GDAL_HTTP_MULTIPLEX": "YES",
    "VSI_CACHE": "TRUE",
    "VSI_CACHE_SIZE": str(64 * 1024 * 1024),
    "CPL_VSIL_CURL_CACHE_SIZE": str(256 * 1024 * 1024),
    "GDAL_INGESTED_BYTES_AT_OPEN": "32768",
}
"""What makes a remote COG read cost a few ranged GETs: no directory listings or sidecar
probes, merged consecutive ranges, HTTP/2 multiplexing, cached headers and blocks."""


def gdal_options(settings: Settings) -> dict[str, str]:
    """The GDAL options every read runs with: the COG defaults, time-outs and retries,
    ``AWS_NO_SIGN_REQUEST`` when asked, then the user's ``--gdal KEY=VALUE`` overrides."""
    options = dict(COG_DEFAULTS)
    options["GDAL_HTTP_TIMEOUT"] = str(max(1, round(settings.http_timeout)))
    options["GDAL_HTTP_CONNECTTIMEOUT"] = str(max(1, round(min(settings.http_timeout, 10))))
    options["GDAL_HTTP_MAX_RETRY"] = str(max(0, settings.http_retries))
    options["GDAL_HTTP_RETRY_DELAY"] = "0.5"
    if settings.aws_no_sign_request:
        options["AWS_NO_SIGN_REQUEST"] = "YES"
    options.update(dict(settings.gdal_config))
    return {k: v for k, v in options.items() if v != ""}
