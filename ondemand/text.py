"""Free text users give the server (titles): checked once, so every output can carry it.

A title ends up in JSON, HTML and OGC capabilities (XML 1.0). XML 1.0 cannot carry
most control characters at all, so titles with them are refused when they are
created or changed; :func:`xml_safe` removes them from any text written as XML.
"""

from __future__ import annotations

import re

from .errors import ArgumentInvalid

MAX_TITLE_CHARS = 1000
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 cannot carry (and DEL): C0 controls except tab, LF and CR."""


def check_title(value: object, field: str = "title") -> str | None:
    """``value`` if it is null or a usable title; ArgumentInvalid (400) naming the problem."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ArgumentInvalid(f'"{field}" must be a string')
    if len(value) > MAX_TITLE_CHARS:
        raise ArgumentInvalid(f'"{field}" is longer than {MAX_TITLE_CHARS} characters')
    bad = _NOT_XML.search(value)
    if bad is not None:
        raise ArgumentInvalid(
            f'"{field}" contains the control character U+{ord(bad.group()):04X} at position '
            f"{bad.start()}; titles may hold any text but control characters"
        )
    return value


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", text)


_ABSOLUTE = re.compile(r"(?<![\w:/])(?:/[^\s/'\"(),;]+)+/([^\s/'\"(),;]+)")
"""An absolute POSIX path; group 1 is its last segment."""


def file_label(path: object, base: object = None) -> str:
    """How messages name a file: a URL as it is, a local file relative to ``base`` (when
    under it) or by its folder and name, never by its absolute path on the server."""
    text = str(path)
    if "://" in text:
        return text
    if base is not None:
        prefix = str(base).rstrip("/") + "/"
        if text.startswith(prefix):
            return text[len(prefix):]
    parts = text.rstrip("/").rsplit("/", 2)
    return "/".join(parts[-2:]) if len(parts) > 2 else parts[-1]


def without_paths(text: str, *known: str) -> str:
    """``text`` (an error message) with server paths reduced to their file names."""
    for path in known:
        if path:
            text = text.replace(path, path.rstrip("/").rsplit("/", 1)[-1])
    return _ABSOLUTE.sub(r"\1", text)
