"""Configurable limits: dates, time-out, back-pressure, body size."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ondemand.errors import ServerBusy
from ondemand.settings import Settings
from services import create_app
from services.gate import EvaluationGate
from tests.support.seed import first_execute_example


def _execute_body() -> dict[str, object]:
    body = first_execute_example()
    body["output"] = {"format": "GTiff"}
    return body


@pytest.fixture()
def limited(demo_data_dir: Path, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    settings = Settings(data_dir=demo_data_dir, demo=True, **request.param)
    with TestClient(create_app(settings)) as client:
        yield client


def test_gate_bounds_per_client_and_overall() -> None:
    gate = EvaluationGate(workers=1, queue=1, per_client=1)
    with gate.admit("a"):
        with pytest.raises(ServerBusy, match="yours"):
            with gate.admit("a"):
                pass
        with gate.admit("b"):
            with pytest.raises(ServerBusy, match="busy"):
                with gate.admit("c"):
                    pass
    assert gate.admitted == 0
    with gate.admit("a"):
        assert gate.admitted == 1


@pytest.mark.parametrize("limited", [{"max_concurrent_per_user": 1}], indirect=True)
def test_busy_client_gets_503_with_retry_after(limited: TestClient) -> None:
    state = limited.app.state.ondemand  # type: ignore[attr-defined]
    with state.gate.admit("user:local"):
        response = limited.post("/jobs/execute", json=_execute_body())
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert limited.post("/jobs/execute", json=_execute_body()).status_code == 200


@pytest.mark.parametrize("limited", [{"max_dates": 2}], indirect=True)
def test_too_many_dates_is_413(limited: TestClient) -> None:
    response = limited.post("/jobs/execute", json=_execute_body())
    assert response.status_code == 413
    assert "3 dates" in response.json()["message"] and "limit of 2" in response.json()["message"]


@pytest.mark.parametrize("limited", [{"eval_timeout_seconds": 0.0}], indirect=True)
def test_time_out_is_413(limited: TestClient) -> None:
    response = limited.post("/jobs/execute", json=_execute_body())
    assert response.status_code == 413
    assert "time-out" in response.json()["message"]


@pytest.mark.parametrize("limited", [{"max_body_bytes": 1000}], indirect=True)
def test_large_body_is_413(limited: TestClient) -> None:
    response = limited.post(
        "/jobs/execute",
        content=b"{" + b" " * 5000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert "1000" in response.json()["message"]
