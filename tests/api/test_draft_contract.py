"""The 2018 draft's own contract (``seed/openapi.json``) checked against a live server.

schemathesis reads the draft's OpenAPI description, sends bounded, derandomized
generated requests to every operation and checks that no answer is a 5xx, that every
status code is one the draft documents and that every body matches the draft's schema.
Operations with ids in their path get real ones (deletions keep generated ids): a
fixture creates a job, a service, a stored process graph and a file first.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from ondemand.accounts import AccountFile
from ondemand.demo import ensure_demo_catalog
from ondemand.settings import Settings
from tests.support.live import live_server
from tests.support.seed import use_case_1_job

SEED = Path(__file__).resolve().parents[2].parent / "shared" / "seed" / "openapi.json"
USER = ("alice", "correct horse")
BASIC = "Basic " + base64.b64encode(":".join(USER).encode()).decode()
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def draft_server(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live server with one account and registration allowed (its own data dir)."""
    if not SEED.is_file():
        pytest.skip(f"the draft's description is not at {SEED} (it ships beside the repo)")
    catalogs = tuple(ensure_demo_catalog(demo_data_dir))
    data_dir = tmp_path_factory.mktemp("draft")
    AccountFile(data_dir / "users.json").add(*USER)
    settings_ = Settings(data_dir=data_dir, catalogs=catalogs, users_file=data_dir / "users.json",
                         max_file_bytes=64 * 1024, user_quota_bytes=256 * 1024,
                         allow_registration=True)
    with live_server(settings_) as url:
        yield url


@pytest.fixture(scope="module")
def known_ids(draft_server: str) -> dict[str, str]:
    """A job, a service, a stored graph and a file created before the generated requests."""
    headers = {"Authorization": BASIC}
    with httpx.Client(base_url=draft_server, headers=headers, timeout=60) as http:
        job = http.post("/jobs", json=use_case_1_job())
        assert job.status_code == 200, job.text
        graph = http.post("/process_graphs", json=use_case_1_job()["process_graph"])
        assert graph.status_code == 200, graph.text
        service = http.post("/services", json={"job_id": job.json()["job_id"], "type": "wmts"})
        assert service.status_code == 200, service.text
        upload = http.put("/files/me/known.txt", content=b"hello")
        assert upload.status_code == 204, upload.text
    return {
        "job_id": job.json()["job_id"],
        "service_id": service.json()["service_id"],
        "process_graph_id": graph.json()["process_graph_id"],
        "user_id": "me",
        "path": "known.txt",
        "product_id": "S2_L2A_T32TPS_20M",
        "process_id": "NDVI",
    }


@pytest.fixture(scope="module")
def draft_schema(draft_server: str, known_ids: dict[str, str]) -> Any:
    """The draft's description bound to the live server (the draft's base path dropped)."""
    schema = schemathesis.openapi.from_dict(corrected_draft(json.loads(SEED.read_text())))
    schema.config.update(base_url=draft_server)
    return schema


LOGIN = {
    "type": "object",
    "required": ["user_id", "token"],
    "properties": {"user_id": {"type": "string"}, "token": {"type": "string"}},
}
"""What ``GET /auth/login`` answers according to the draft's own text and example; its
schema says ``string`` (docs/process-graphs.md lists the draft's contradictions)."""


def corrected_draft(draft: dict[str, Any]) -> dict[str, Any]:
    """The draft with its one self-contradictory response schema read as it means."""
    fixed = copy.deepcopy(draft)
    login = fixed["paths"]["/auth/login"]["get"]["responses"]["200"]["content"]
    assert login["application/json"]["schema"] == {"type": "string"}
    assert set(login["application/json"]["examples"]["response"]["value"]) == {"user_id", "token"}
    login["application/json"]["schema"] = LOGIN
    return fixed


def test_the_correction_changes_only_the_login_schema() -> None:
    """Apart from the login answer the draft is checked as written."""
    if not SEED.is_file():
        pytest.skip(f"the draft's description is not at {SEED} (it ships beside the repo)")
    draft = json.loads(SEED.read_text())
    fixed = corrected_draft(draft)
    fixed["paths"]["/auth/login"] = draft["paths"]["/auth/login"]
    assert fixed == draft


schema = schemathesis.pytest.from_fixture("draft_schema")


@schema.parametrize()
@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_server_answers_as_the_draft_describes(
    case: Any, draft_server: str, known_ids: dict[str, str]
) -> None:
    """No 5xx, only the draft's status codes, bodies valid against the draft's schemas."""
    if case.path_parameters and case.method.upper() != "DELETE":
        for name in list(case.path_parameters):
            if name in known_ids:
                case.path_parameters[name] = known_ids[name]
    case.call_and_validate(base_url=draft_server, headers={"Authorization": BASIC},
                           checks=CHECKS)

