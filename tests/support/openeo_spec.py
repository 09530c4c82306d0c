"""openEO API 1.2's official documents as test fixtures, and a response validator.

The documents come from packages on PyPI, not copied by hand: ``titiler-openeo``
ships openeo-api 1.2.0's ``openapi.yaml`` and ``openeo-driver`` ships openeo-api's
1.x ``errors.json`` and the openeo-processes 1.x definitions. Both are installed
without their dependencies (``.ci/run``), only as data: neither is imported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml

API_PREFIX = "/openeo/1.2"


def _package_file(distribution: str, suffix: str) -> Path:
    """A file of an installed distribution, found through its metadata (never imported)."""
    try:
        files = metadata.files(distribution) or []
    except metadata.PackageNotFoundError:
        pytest.skip(f"{distribution} is not installed (.ci/run installs it with --no-deps)")
    for entry in files:
        if str(entry).replace("\\", "/").endswith(suffix):
            return Path(str(entry.locate()))
    pytest.skip(f"{distribution} has no {suffix}")


@cache
def openapi_document() -> dict[str, Any]:
    """openeo-api 1.2.0's OpenAPI document, served from ``http://localhost``."""
    path = _package_file("titiler-openeo", "titiler/openeo/openapi.yaml")
    document = yaml.safe_load(path.read_text())
    assert document["info"]["version"] == "1.2.0"
    document["servers"] = [{"url": "http://localhost"}]
    for item in document["paths"].values():
        item.pop("servers", None)  # the well-known document sits at the server root
        for operation in item.values():
            if isinstance(operation, dict):
                operation.pop("servers", None)
    # The document's oneOf over a data type's refinements (generic JSON schema, process
    # graph, datacube) cannot hold for any ordinary schema such as {"type": "number"}:
    # it matches all three branches (openeo-api issue #600). They are meant as anyOf.
    single = document["components"]["schemas"]["process_json_schema"]
    single["anyOf"] = single.pop("oneOf")
    return dict(document)


@cache
def official_errors() -> dict[str, Any]:
    """openeo-api 1.x's ``errors.json``: code -> {http, message, ...}."""
    path = _package_file("openeo-driver", "specs/openeo-api/1.x/errors.json")
    return dict(json.loads(path.read_text()))


@cache
def official_process(process_id: str) -> dict[str, Any] | None:
    """The openeo-processes 1.x definition of a process, if there is one."""
    path = _package_file("openeo-driver", "specs/openeo-api/1.x/errors.json")
    definition = path.parents[2] / "openeo-processes" / "1.x" / f"{process_id}.json"
    if not definition.is_file():
        return None
    return dict(json.loads(definition.read_text()))


@dataclass
class _Request:
    """What openapi-core reads of a request."""

    method: str
    path: str
    query: str
    content_type: str = "application/json"
    body: bytes | None = None
    host_url: str = "http://localhost"
    parameters: Any = field(default=None)

    def __post_init__(self) -> None:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import ImmutableMultiDict

        self.parameters = RequestParameters(query=ImmutableMultiDict(parse_qsl(self.query)))


@dataclass
class _Response:
    """What openapi-core reads of a response."""

    status_code: int
    content_type: str
    headers: Any
    data: bytes | None


@cache
def _openapi() -> Any:
    from openapi_core import Config, OpenAPI

    config = Config(extra_media_type_deserializers={"application/geo+json": json.loads})
    return OpenAPI.from_dict(openapi_document(), config=config)


def spec_path(url: str) -> str | None:
    """The path of ``url`` relative to the 1.2 API root (None when outside it)."""
    path = urlsplit(url).path
    if path == "/.well-known/openeo":
        return path
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        inner = path[len(API_PREFIX):] or "/"
        if inner.startswith("/files/"):
            # folders in a file path: one {path} parameter, as the spec describes it
            inner = "/files/" + inner[len("/files/"):].replace("/", "%2F")
        return inner
    return None


def validate_response(
    method: str, url: str, status: int, headers: dict[str, str], body: bytes | None
) -> None:
    """Raise if a response of the 1.2 API does not conform to openeo-api 1.2.0."""
    path = spec_path(url)
    assert path is not None, f"{url} is not an openEO 1.2 URL"
    from werkzeug.datastructures import Headers

    content_type = headers.get("content-type", "")
    request = _Request(method.lower(), path, urlsplit(url).query)
    response = _Response(status, content_type, Headers(list(headers.items())),
                         body if body else None)
    _openapi().validate_response(request, response)


def validate_httpx(response: Any) -> Any:
    """Validate an httpx response of the 1.2 API; return it."""
    validate_response(
        response.request.method,
        str(response.request.url),
        response.status_code,
        {k.lower(): v for k, v in response.headers.items()},
        response.content,
    )
    return response


def requests_hook(checked: list[str]) -> Any:
    """A ``requests`` response hook validating every JSON or empty 1.2 response.

    Binary downloads (GeoTIFF, PNG) are left alone so streams stay streams; the URLs
    validated are appended to ``checked``.
    """

    def hook(response: Any, *args: Any, **kwargs: Any) -> Any:
        url = str(response.request.url)
        if spec_path(url) is None:
            return response
        content_type = response.headers.get("content-type", "")
        if response.request.method == "HEAD":
            return response
        if "json" not in content_type and response.headers.get("content-length") not in (None, "0"):
            return response
        validate_response(
            response.request.method,
            url,
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            response.content,
        )
        checked.append(f"{response.request.method} {spec_path(url)} {response.status_code}")
        return response

    return hook
