"""The openEO 1.2 process listing: shape, and signatures against the official definitions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ondemand.processes import OPENEO_REGISTRY, REGISTRY, openeo_process_list
from tests.support.openeo_facts import FIXTURE, kinds

OFFICIAL: dict[str, Any] = json.loads(FIXTURE.read_text())
LISTED = {p["id"]: p for p in openeo_process_list(OPENEO_REGISTRY)["processes"]}
UNSUPPORTED = {
    ("filter_bands", "wavelengths"): "bands are picked by name, id or common name only",
}
"""Official optional parameters we leave out, and why."""
NARROWER = {
    ("mask", "replacement"): "replacement values are numbers (or null: no-data)",
    ("mask_polygon", "replacement"): "replacement values are numbers (or null: no-data)",
}
"""Official parameter kinds we do not accept, and why."""


def test_listing_has_the_12_shape() -> None:
    body = openeo_process_list()
    assert set(body) == {"processes", "links"} and body["links"] == []
    ids = [p["id"] for p in body["processes"]]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == len(REGISTRY)
    for process in body["processes"]:
        assert set(process) == {"id", "summary", "description", "categories", "parameters",
                                "returns"}
        assert process["description"] and process["summary"]
        assert {"description", "schema"} <= set(process["returns"])
        for param in process["parameters"]:
            assert {"name", "description", "schema"} <= set(param)
            assert isinstance(param["schema"], dict | list)
            if param.get("optional"):
                assert "default" in param
    json.dumps(body, allow_nan=False)


@pytest.mark.parametrize("pid", sorted(OFFICIAL))
def test_signature_matches_the_official_definition(pid: str) -> None:
    ours = LISTED[pid]
    official = OFFICIAL[pid]
    by_name = {p["name"]: p for p in ours["parameters"]}
    names = [p["name"] for p in official["parameters"] if (pid, p["name"]) not in UNSUPPORTED]
    assert [p["name"] for p in ours["parameters"] if p["name"] in names] == names
    for spec in official["parameters"]:
        if (pid, spec["name"]) in UNSUPPORTED:
            continue
        param = by_name[spec["name"]]
        if spec["optional"]:
            assert param.get("optional"), f"{pid}.{spec['name']} must be optional"
        allowed = kinds(param["schema"])
        if "any" in allowed:
            continue
        missing = [k for k in spec["kinds"] if k not in allowed and k != "any"]
        if (pid, spec["name"]) in NARROWER:
            missing = [k for k in missing if k not in ("boolean", "string")]
        assert not missing, f"{pid}.{spec['name']} does not accept {missing}"
        if "any" in spec["kinds"]:
            assert "any" in allowed, f"{pid}.{spec['name']} must accept any value"
    extra = [p for p in ours["parameters"] if p["name"] not in names]
    assert all(p.get("optional") for p in extra), f"{pid}: extra parameters must be optional"
    returned = kinds(ours["returns"]["schema"])
    assert "any" in returned or set(official["returns"]) - {"any"} <= returned
