"""Shared OGC helpers: case-insensitive KVP, exception reports (schema-valid), error mapping."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from starlette.datastructures import QueryParams

from ondemand import errors
from services.ogc.common import (
    Kvp,
    OWSException,
    exception_report,
    exception_response,
    ogc_exception,
)

OGC = Path(__file__).resolve().parents[2].parent / "shared" / "ogc"
OWS = "{http://www.opengis.net/ows/1.1}"


@pytest.fixture(scope="module")
def schema_errors():  # type: ignore[no-untyped-def]
    """``errors(kind, xml)`` of the offline OGC validator beside the repo."""
    if not (OGC / "validate.py").is_file():
        pytest.skip(f"the OGC schemas are not at {OGC} (they ship beside the repo)")
    sys.path.insert(0, str(OGC))
    from validate import errors as validate

    return validate


def test_kvp_names_are_case_insensitive_values_keep_case() -> None:
    kvp = Kvp.of(QueryParams("SeRvIcE=WMTS&request=GetTile&Layer=Abc&layer=second&TIME="))
    assert kvp.get("service") == "WMTS"
    assert kvp.get("REQUEST") == "GetTile"
    assert kvp.get("LAYER") == "Abc"
    assert kvp.getall("Layer") == ["Abc", "second"]
    assert "time" in kvp
    assert kvp.get("time") is None
    assert kvp.get("absent", "x") == "x"


@pytest.mark.parametrize(
    ("query", "call", "code", "locator"),
    [
        pytest.param("", lambda k: k.require("TileRow"), "MissingParameterValue", "TILEROW",
                     id="missing"),
        pytest.param("tilerow=", lambda k: k.require("TileRow"), "MissingParameterValue",
                     "TILEROW", id="blank-is-missing"),
        pytest.param("tilerow=a", lambda k: k.integer("TileRow"), "InvalidParameterValue",
                     "TILEROW", id="not-an-integer"),
        pytest.param("tilerow=-1", lambda k: k.integer("TileRow"), "InvalidParameterValue",
                     "TILEROW", id="negative"),
        pytest.param("format=image/PNG", lambda k: k.choice("Format", ["image/png"]),
                     "InvalidParameterValue", "FORMAT", id="enumeration-is-case-sensitive"),
    ],
)
def test_kvp_errors_name_the_parameter(query: str, call, code: str, locator: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OWSException) as caught:
        call(Kvp.of(QueryParams(query)))
    assert (caught.value.code, caught.value.locator, caught.value.http_status) == (
        code, locator, 400)


def test_kvp_values() -> None:
    kvp = Kvp.of({"TileRow": "12", "service": "wmts"})
    assert kvp.integer("tilerow") == 12
    assert kvp.choice("SERVICE", ["WMTS", "WMS"], case=False) == "WMTS"


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        pytest.param(errors.TileOutOfRange("row 9 > 3"), "TileOutOfRange", 400, id="tile"),
        pytest.param(errors.ArgumentMissing("x"), "MissingParameterValue", 400, id="missing"),
        pytest.param(errors.ArgumentInvalid("x"), "InvalidParameterValue", 400, id="invalid"),
        pytest.param(errors.OutputOptionInvalid("x"), "InvalidParameterValue", 400,
                     id="output-option"),
        pytest.param(errors.ResourceNotFound("x"), "NoApplicableCode", 404, id="not-found"),
        pytest.param(errors.PixelLimitExceeded("x"), "NoApplicableCode", 413, id="too-large"),
    ],
)
def test_engine_errors_map_to_codes_and_statuses(
    error: errors.OnDemandError, code: str, status: int
) -> None:
    mapped = ogc_exception(error, "ows", "TIME")
    assert (mapped.code, mapped.http_status, mapped.locator, mapped.message) == (
        code, status, "TIME", error.message)


@pytest.mark.parametrize(
    "exc",
    [
        pytest.param(OWSException("MissingParameterValue", "TILEROW is missing", "TILEROW"),
                     id="with-locator"),
        pytest.param(OWSException("NoApplicableCode", "Service 'x' <unknown> & gone", None, 404),
                     id="escaped-no-locator"),
        pytest.param(OWSException("OperationNotSupported", "GetMap", "REQUEST"),
                     id="operation"),
    ],
)
def test_exception_report_is_schema_valid(schema_errors, exc: OWSException) -> None:  # type: ignore[no-untyped-def]
    body = exception_report([exc])
    assert schema_errors("ows11", body) == []
    root = ET.fromstring(body)
    assert root.tag == f"{OWS}ExceptionReport"
    assert root.get("version") == "1.0.0"
    node = root.find(f"{OWS}Exception")
    assert node is not None
    assert node.get("exceptionCode") == exc.code
    assert node.get("locator") == exc.locator
    assert node.findtext(f"{OWS}ExceptionText") == exc.message


def test_exception_report_ows20_is_schema_valid(schema_errors) -> None:  # type: ignore[no-untyped-def]
    body = exception_report(
        [OWSException("InvalidParameterValue", "bad subset", "SUBSET")], version="2.0.1", ows="2.0"
    )
    assert schema_errors("ows20", body) == []


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        pytest.param(OWSException("OperationNotSupported", "x", "REQUEST"), 501, id="501"),
        pytest.param(OWSException("TileOutOfRange", "x", "TILEROW"), 400, id="400"),
        pytest.param(OWSException("NoApplicableCode", "x", None, 404), 404, id="override"),
    ],
)
def test_exception_response_status(exc: OWSException, status: int) -> None:
    response = exception_response(exc)
    assert response.status_code == status
    assert response.media_type == "application/xml"
    assert bytes(response.body).startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
