"""``/jobs/{job_id}/subscribe`` with a real WebSocket client against a live server.

A batch job's updates arrive in order with monotonic progress and the socket closes
(1000) when the job ends; other users' jobs, missing or wrong credentials close with
an error code before any message.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from ondemand.accounts import AccountFile
from ondemand.settings import Settings
from tests.maps.test_viewer_browser import CHROMIUM_FLAGS, chromium_path
from tests.support.batchdata import MIN_NDVI, make_series
from tests.support.live import live_server

ALICE = ("alice", "correct horse")
BOB = ("bob", "battery staple")
ORDER = ["submitted", "queued", "running", "finished"]


def basic(user: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(":".join(user).encode()).decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("subscribe")
    collection = make_series(tmp_path_factory.mktemp("subscribe-data"))
    users = data_dir / "users.json"
    AccountFile(users).add(*ALICE)
    AccountFile(users).add(*BOB)
    settings = Settings(data_dir=data_dir, catalogs=(collection,), users_file=users,
                        batch_workers=1, batch_chunk_size=16, batch_jobs=1)
    # 475 chunks of 16 x 16 px: the run lasts several of its 0.5 s progress checks, so
    # progress between 0 and 100 is recorded and sent even on a fast machine.
    with live_server(settings) as url:
        yield url


def ws_url(base: str, job_id: str, query: str = "") -> str:
    return base.replace("http://", "ws://") + f"/jobs/{job_id}/subscribe{query}"


def new_job(server: str, user: tuple[str, str]) -> str:
    response = httpx.post(f"{server}/jobs", json={"process_graph": MIN_NDVI},
                          headers={"Authorization": basic(user)}, timeout=60)
    assert response.status_code == 200, response.text
    return str(response.json()["job_id"])


def read_all(socket: Any) -> tuple[list[dict[str, Any]], int | None]:
    """Every message until the server closes, and its close code."""
    messages = []
    try:
        while True:
            messages.append(json.loads(socket.recv(timeout=120)))
    except ConnectionClosed as closed:
        return messages, closed.rcvd.code if closed.rcvd else None


def test_batch_updates_arrive_in_order_and_the_socket_closes(server: str) -> None:
    job_id = new_job(server, ALICE)
    with connect(ws_url(server, job_id),
                 additional_headers={"Authorization": basic(ALICE)}) as socket:
        first = json.loads(socket.recv(timeout=30))
        assert first["job_id"] == job_id and first["status"] == "submitted"
        assert set(first) == {"job_id", "status", "progress", "updated", "message"}
        started = httpx.post(f"{server}/jobs/{job_id}/batch",
                             headers={"Authorization": basic(ALICE)}, timeout=60)
        assert started.status_code == 204, started.text
        rest, code = read_all(socket)
    messages = [first, *rest]
    assert code == 1000
    statuses = [m["status"] for m in messages]
    assert statuses[-1] == "finished"
    assert [ORDER.index(s) for s in statuses] == sorted(ORDER.index(s) for s in statuses)
    progress = [m["progress"] for m in messages if m["status"] != "submitted"]
    assert progress == sorted(progress) and progress[-1] == 100
    assert any(0 < p < 100 for p in progress), progress  # batch progress, not just the end
    assert [m["updated"] for m in messages] == sorted(m["updated"] for m in messages)
    assert all(m["job_id"] == job_id for m in messages)
    final = httpx.get(f"{server}/jobs/{job_id}", headers={"Authorization": basic(ALICE)}).json()
    assert final["status"] == "finished" and final["progress"] == 100
    # a job that has already ended: its state once, then the close
    with connect(ws_url(server, job_id),
                 additional_headers={"Authorization": basic(ALICE)}) as again:
        replay, code = read_all(again)
    assert code == 1000 and [m["status"] for m in replay] == ["finished"]


def test_other_users_job_closes_with_4404_and_no_message(server: str) -> None:
    job_id = new_job(server, ALICE)
    with connect(ws_url(server, job_id),
                 additional_headers={"Authorization": basic(BOB)}) as socket:
        messages, code = read_all(socket)
    assert (messages, code) == ([], 4404)


@pytest.mark.parametrize(("headers", "code"), [
    ({}, 4401),
    ({"Authorization": basic(("alice", "wrong password"))}, 4403),
    ({"Authorization": "Bearer not-a-token"}, 4403),
])
def test_bad_credentials_close_with_an_error_code(
    server: str, headers: dict[str, str], code: int
) -> None:
    job_id = new_job(server, ALICE)
    with connect(ws_url(server, job_id), additional_headers=headers) as socket:
        assert read_all(socket) == ([], code)


def test_browsers_send_a_token_in_the_query(server: str) -> None:
    login = httpx.get(f"{server}/auth/login", headers={"Authorization": basic(ALICE)}).json()
    job_id = new_job(server, ALICE)
    delete = httpx.delete(f"{server}/jobs/{job_id}",
                          headers={"Authorization": basic(ALICE)})
    assert delete.status_code == 204
    with connect(ws_url(server, job_id, f"?access_token={login['token']}")) as socket:
        assert read_all(socket) == ([], 4404)
    job_id = new_job(server, ALICE)
    with connect(ws_url(server, job_id, f"?access_token={login['token']}")) as socket:
        first = json.loads(socket.recv(timeout=30))
    assert first["status"] == "submitted" and first["job_id"] == job_id


def test_viewer_shows_a_running_batch_jobs_progress(server: str) -> None:
    """Chromium opens the viewer of a queued batch job: a progress bar fed by the
    WebSocket, and the page reloads (offering to start on demand) once the job ends."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    auth = {"Authorization": basic(ALICE)}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                             args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(
                http_credentials={"username": ALICE[0], "password": ALICE[1]})
            page = context.new_page()
            frames: list[dict[str, Any]] = []
            page.on("websocket", lambda ws: ws.on(
                "framereceived", lambda payload: frames.append(json.loads(payload))))
            blocker, job_id = new_job(server, ALICE), new_job(server, ALICE)
            for job in (blocker, job_id):  # one batch job at a time: job_id waits
                assert httpx.post(f"{server}/jobs/{job}/batch", headers=auth).status_code == 204
            page.goto(f"{server}/jobs/{job_id}/viewer")
            assert page.locator("#progress").count() == 1
            page.wait_for_selector("#start", timeout=180_000)  # reloaded when finished
        finally:
            browser.close()
    assert frames and frames[-1]["status"] == "finished" and frames[-1]["progress"] == 100
    assert {f["job_id"] for f in frames} == {job_id}
    progress = [f["progress"] for f in frames]
    assert progress == sorted(progress)
