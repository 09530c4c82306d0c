"""The API draft's own requests, extracted verbatim from ``../shared/seed``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SEED = Path(__file__).resolve().parents[2].parent / "shared" / "seed"

_BLOCK = re.compile(r"```\n(.*?)```", re.S)


def request_bodies(document: str) -> list[dict[str, Any]]:
    """Every JSON request body of a seed document, in order (``Body:`` blocks of requests)."""
    if not SEED.is_dir():
        import pytest

        pytest.skip(f"the API draft is not at {SEED} (it ships beside the repo)")
    text = (SEED / document).read_text()
    bodies: list[dict[str, Any]] = []
    for block in _BLOCK.findall(text):
        if "Body:" not in block or not block.lstrip().startswith(("Header:", "POST", "PUT", "GET")):
            continue
        if "HTTP/1.1 200" in block.split("Body:")[0]:
            continue  # a response
        raw = block.split("Body:", 1)[1].strip()
        if raw.startswith("{"):
            bodies.append(json.loads(raw))
    return bodies


def first_execute_example() -> dict[str, Any]:
    """``jobs.md``: the synchronous min-NDVI GeoTIFF request."""
    return next(
        b for b in request_bodies("jobs.md") if b["process_graph"]["process_id"] == "min_time"
    )


def use_case_1_job() -> dict[str, Any]:
    """``poc.md`` use case 1, step 3: the min-NDVI job (image collection as product_id)."""
    return next(
        b
        for b in request_bodies("poc.md")
        if "process_graph" in b and b["process_graph"]["process_id"] == "min_time"
    )


def zonal_draft_request() -> dict[str, Any]:
    """The draft's zonal statistics job (jobs.md, use case 3), verbatim."""
    return next(b for b in request_bodies("jobs.md")
                if b["process_graph"]["process_id"] == "zonal_statistics")
