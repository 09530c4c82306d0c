"""Facts of the official openEO processes 1.2 definitions that our declarations must match.

The fixture ``tests/engine/data/openeo-processes-1.2.json`` holds, per process we
implement, its parameter names in order, which are optional, and the (type, subtype)
pairs each parameter schema and the return schema allow: no prose. Regenerate it
from a checkout of https://github.com/Open-EO/openeo-processes at tag 1.2.0::

    python -m tests.support.openeo_facts /path/to/openeo-processes > \\
        tests/engine/data/openeo-processes-1.2.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).resolve().parents[1] / "engine" / "data" / "openeo-processes-1.2.json"
PROCESSES = (
    "load_collection filter_bbox filter_temporal filter_bands filter_spatial ndvi "
    "normalized_difference reduce_dimension min max mean median sd variance sum count first "
    "last quantiles apply apply_dimension add subtract multiply divide power sqrt absolute ln "
    "log exp clip linear_scale_range eq neq gt gte lt lte between and or not xor if "
    "array_element mask mask_polygon merge_cubes rename_labels aggregate_temporal_period "
    "resample_spatial resample_cube_spatial aggregate_spatial save_result"
).split()


def kinds(schema: Any) -> set[str]:
    """``type/subtype`` pairs a schema (or a list of alternatives) allows; ``any`` if unlimited."""
    if isinstance(schema, list):
        out: set[str] = set()
        for sub in schema:
            out |= kinds(sub)
        return out
    if "anyOf" in schema and "type" not in schema:
        return kinds(schema["anyOf"])
    types = schema.get("type")
    if types is None:
        return {"any"}
    subtype = schema.get("subtype")
    return {f"{t}/{subtype}" if subtype else t for t in ([types] if isinstance(types, str)
                                                           else types)}


def facts(folder: Path) -> dict[str, Any]:
    """The facts of every process of :data:`PROCESSES` from the definitions in ``folder``."""
    out: dict[str, Any] = {}
    for pid in PROCESSES:
        doc = json.loads((folder / f"{pid}.json").read_text())
        out[pid] = {
            "parameters": [
                {"name": p["name"], "optional": bool(p.get("optional", False)),
                 "kinds": sorted(kinds(p["schema"]))}
                for p in doc["parameters"]
            ],
            "returns": sorted(kinds(doc["returns"]["schema"])),
        }
    return out


if __name__ == "__main__":
    print(json.dumps(facts(Path(sys.argv[1])), indent=1, sort_keys=True))
