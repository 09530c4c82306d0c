"""Shared OGC web service helpers: KVP parsing, OWS exception reports, XML writing.

Used by every OGC endpoint (WMTS and WCS). Parameter names of a KVP request
are case-insensitive (OWS 1.1 section 11.5.2); their values are not. Errors answer
an ``ows:ExceptionReport`` (OWS 1.1 for WMTS 1.0 and WCS 1.1, OWS 2.0 for WCS 2.0)
with the standard exception codes and the HTTP status of WMTS 07-057r7 table 28.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from starlette.datastructures import QueryParams
from starlette.responses import Response

from ondemand import errors
from ondemand.text import xml_safe

from ..errors import CODE_STATUS, ExceptionCode, OgcDialect, error_headers, error_row

OWS_NAMESPACES = {
    "1.1": "http://www.opengis.net/ows/1.1",
    "2.0": "http://www.opengis.net/ows/2.0",
}
"""Namespace of the OWS Common version an exception report is written in."""

OWS_SCHEMAS = {
    "1.1": "http://schemas.opengis.net/ows/1.1.0/owsExceptionReport.xsd",
    "2.0": "http://schemas.opengis.net/ows/2.0/owsExceptionReport.xsd",
}
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XLINK = "http://www.w3.org/1999/xlink"

XML_MEDIA_TYPE = "application/xml"


@dataclass
class OWSException(Exception):
    """One OGC exception: code, locator (the parameter at fault) and a message.

    ``status`` overrides the code's HTTP status (a 404 for an unknown service is
    ``NoApplicableCode`` with status 404).
    """

    code: ExceptionCode
    message: str
    locator: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    """Extra response headers (an authentication challenge)."""

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def http_status(self) -> int:
        """The HTTP status of the response carrying this exception."""
        return self.status if self.status is not None else CODE_STATUS[self.code]


def missing(name: str, what: str = "") -> OWSException:
    """``MissingParameterValue`` for the parameter ``name``."""
    detail = f": {what}" if what else ""
    return OWSException("MissingParameterValue", f"Parameter {name} is missing{detail}", name)


def invalid(name: str, message: str) -> OWSException:
    """``InvalidParameterValue`` for the parameter ``name``."""
    return OWSException("InvalidParameterValue", message, name)


class Kvp:
    """Query parameters with case-insensitive names; values keep their case."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in items:
            self._values.setdefault(name.lower(), []).append(value)

    @classmethod
    def of(cls, params: QueryParams | Mapping[str, str]) -> Kvp:
        """Parse starlette query params (every repeated value kept) or a plain mapping."""
        if isinstance(params, QueryParams):
            return cls(params.multi_items())
        return cls(params.items())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def names(self) -> list[str]:
        """Every parameter name given (lower case), in first-seen order."""
        return list(self._values)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name`` (blank counts as absent), else ``default``."""
        values = self._values.get(name.lower())
        if not values or not values[0].strip():
            return default
        return values[0].strip()

    def getall(self, name: str) -> list[str]:
        """Every value of a repeated parameter (WCS ``SUBSET``), in order."""
        return list(self._values.get(name.lower(), []))

    def require(self, name: str, what: str = "") -> str:
        """The value of ``name``, or ``MissingParameterValue`` naming it."""
        value = self.get(name)
        if value is None:
            raise missing(name.upper(), what)
        return value

    def integer(self, name: str, minimum: int = 0) -> int:
        """A required integer parameter of at least ``minimum``."""
        text = self.require(name)
        try:
            value = int(text)
        except ValueError:
            raise invalid(name.upper(), f"{name.upper()}={text!r} is not an integer") from None
        if value < minimum:
            raise invalid(name.upper(), f"{name.upper()}={value} must be at least {minimum}")
        return value

    def choice(self, name: str, allowed: Iterable[str], *, case: bool = True) -> str:
        """A required value among ``allowed`` (exact case unless ``case`` is False)."""
        text = self.require(name)
        options = list(allowed)
        for option in options:
            if text == option or (not case and text.lower() == option.lower()):
                return option
        raise invalid(
            name.upper(), f"{name.upper()}={text!r} is not one of: {', '.join(options)}"
        )


def ogc_exception(
    exc: errors.OnDemandError, dialect: OgcDialect = "ows", locator: str | None = None
) -> OWSException:
    """The OGC exception of an engine error in ``dialect``, from the one error table.

    The table's locator wins; else ``locator`` (the parameter being checked).
    """
    row = error_row(exc)
    chosen = row.ogc(dialect)
    status = chosen.status
    if status is None and chosen.code == "NoApplicableCode":
        status = row.status
    return OWSException(
        chosen.code,
        exc.message,
        chosen.locator or locator,
        status,
        error_headers(exc),
    )


def as_ogc(exc: Exception, dialect: OgcDialect) -> OWSException:
    """``exc`` (an OWSException or an engine error) as an OWSException of ``dialect``."""
    if isinstance(exc, OWSException):
        return exc
    if isinstance(exc, errors.OnDemandError):
        return ogc_exception(exc, dialect)
    raise exc


def exception_report(
    exceptions: Iterable[OWSException],
    *,
    version: str = "1.0.0",
    ows: Literal["1.1", "2.0"] = "1.1",
) -> bytes:
    """An ``ows:ExceptionReport`` document; ``version`` is the service's version."""
    namespace = OWS_NAMESPACES[ows]
    root = ET.Element(
        "ows:ExceptionReport",
        {
            "xmlns:ows": namespace,
            "xmlns:xsi": XSI,
            "xsi:schemaLocation": f"{namespace} {OWS_SCHEMAS[ows]}",
            "version": version,
            "xml:lang": "en",
        },
    )
    for exc in exceptions:
        attributes: dict[str, str] = {"exceptionCode": exc.code}
        if exc.locator:
            attributes["locator"] = exc.locator
        node = ET.SubElement(root, "ows:Exception", attributes)
        ET.SubElement(node, "ows:ExceptionText").text = exc.message
    return xml_bytes(root)


def exception_response(
    exc: OWSException, *, version: str = "1.0.0", ows: Literal["1.1", "2.0"] = "1.1"
) -> Response:
    """An HTTP response carrying one exception in a report, with its status."""
    return Response(
        exception_report([exc], version=version, ows=ows),
        status_code=exc.http_status,
        media_type=XML_MEDIA_TYPE,
        headers=exc.headers,
    )


def sub_element(
    parent: ET.Element, tag: str, text: str | None = None, **attrs: str
) -> ET.Element:
    """A child element with optional text and attributes."""
    node = ET.SubElement(parent, tag, attrs)
    if text is not None:
        node.text = text
    return node


def xml_number(value: float) -> str:
    """A number written with full precision (``repr`` of the float)."""
    return repr(float(value))


def xml_bytes(root: ET.Element) -> bytes:
    """Serialize an element tree with an XML declaration, UTF-8 (always well-formed XML:
    characters XML 1.0 cannot carry are removed from texts and attribute values)."""
    for node in root.iter():
        if node.text:
            node.text = xml_safe(node.text)
        if node.tail:
            node.tail = xml_safe(node.tail)
        for name, value in node.attrib.items():
            node.attrib[name] = xml_safe(value)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body
