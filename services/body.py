"""Reading request bodies: size-limited, strict JSON (no NaN/Infinity)."""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.requests import Request

from ondemand.errors import ArgumentInvalid, ProcessGraphInvalid, RequestTooLarge


def _reject_constant(name: str) -> Any:
    """JSON has no NaN or Infinity; Python's parser accepts them unless told not to."""
    raise ArgumentInvalid(f"{name} is not a valid JSON number")


def _finite_float(text: str) -> float:
    """A JSON number as a float; one beyond the float range (``1e999``) is refused."""
    value = float(text)
    if not math.isfinite(value):
        raise ArgumentInvalid(f"{text[:40]} is out of range for a JSON number")
    return value


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The whole body, refusing to buffer more than ``max_bytes``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise RequestTooLarge(f"Request body of {declared} bytes is over the limit of {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise RequestTooLarge(f"Request body is over the limit of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, max_bytes: int) -> Any:
    """The body parsed as strict JSON; malformed JSON is ProcessGraphInvalid (400)."""
    raw = await read_body(request, max_bytes)
    if not raw.strip():
        return None
    try:
        return json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProcessGraphInvalid(f"Request body is not valid JSON: {exc}") from None
    except ArgumentInvalid:
        raise
    except ValueError as exc:  # an integer of more digits than Python converts (4300)
        raise ProcessGraphInvalid(f"Request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ProcessGraphInvalid("Request body nests JSON too deeply") from None
