"""The documentation stays true to the code."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from ondemand.processes.docs import render_reference

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_process_reference_is_current() -> None:
    assert (DOCS / "processes.md").read_text() == render_reference(), (
        "docs/processes.md is stale: run `python -m ondemand.processes.docs > docs/processes.md`"
    )


def test_documented_examples_run(client: TestClient) -> None:
    for path in sorted((DOCS / "examples").glob("*.json")):
        body = json.loads(path.read_text())
        response = client.post("/jobs/execute", json=body)
        assert response.status_code == 200, f"{path.name}: {response.text}"
