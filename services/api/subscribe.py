"""``/jobs/{job_id}/subscribe``: a job's status and batch progress over a WebSocket.

The draft reserves the endpoint; the protocol is this server's: after the handshake
(credentials as for the REST API: an ``Authorization`` header, or ``?access_token=``
for browsers, which cannot set headers on WebSockets) the server sends one JSON
message ``{"job_id", "status", "progress", "updated", "message"}`` with the job's
current state, then one per change, and closes with 1000 once the job has ended
(finished, error, canceled). Refusals are close codes after the handshake:
4401 (no credentials), 4403 (wrong credentials), 4404 (no such job of the caller's).
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import anyio.to_thread
from starlette.websockets import WebSocket, WebSocketDisconnect

from ondemand.errors import AuthenticationFailed, AuthenticationRequired, ResourceNotFound
from ondemand.jobs import JobRecord

from ..users import LOCAL_USER

ENDED = ("finished", "error", "canceled")
POLL_SECONDS = 0.25
"""How often the job store is read for changes (batch progress is written per chunk)."""
CLOSE_CODES: dict[type[Exception], int] = {
    AuthenticationRequired: 4401,
    AuthenticationFailed: 4403,
    ResourceNotFound: 4404,
}


def job_message(job: JobRecord) -> dict[str, Any]:
    """One update: the job's status, progress (0-100), last change and a sentence."""
    if job.error:
        message = job.error
    elif job.mode == "batch" and job.status == "running":
        message = f"batch run {job.progress}% done"
    else:
        message = f"job {job.status}" + (f" ({job.mode})" if job.mode != "none" else "")
    return {"job_id": job.job_id, "status": job.status, "progress": job.progress,
            "updated": job.updated, "message": message}


def _user(websocket: WebSocket) -> str:
    """The caller, authenticated like the REST API (or the local user without accounts)."""
    state = websocket.app.state.ondemand
    if state.auth is None:
        return LOCAL_USER
    header = websocket.headers.get("authorization")
    token = websocket.query_params.get("access_token")
    if not header and token:
        header = f"Bearer {token}"
    user = state.auth.user(header)
    assert isinstance(user, str)
    return user


async def subscribe(websocket: WebSocket) -> None:
    """Send a job's updates until it ends or the client goes away."""
    await websocket.accept()
    state = websocket.app.state.ondemand
    job_id = websocket.path_params["job_id"]
    try:
        user = await anyio.to_thread.run_sync(_user, websocket)
        job = await anyio.to_thread.run_sync(state.jobs.get_job, job_id, user)
    except (AuthenticationRequired, AuthenticationFailed, ResourceNotFound) as exc:
        await websocket.close(code=CLOSE_CODES[type(exc)], reason=exc.message[:120])
        return
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_watch_disconnect, websocket, tasks.cancel_scope)
        try:
            await _send_updates(websocket, state.jobs, job, user)
        except (WebSocketDisconnect, OSError):  # the client went away mid-send
            pass
        tasks.cancel_scope.cancel()


async def _watch_disconnect(websocket: WebSocket, scope: anyio.CancelScope) -> None:
    """Stop the updates when the client goes away (it sends nothing else)."""
    try:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
    except RuntimeError:  # the server closed first
        pass
    scope.cancel()


async def _send_updates(websocket: WebSocket, jobs: Any, job: JobRecord, user: str) -> None:
    """One message now and one per change; close when the job ends or is deleted."""
    last: dict[str, Any] | None = None
    while True:
        message = job_message(job)
        if message != last:
            await websocket.send_text(json.dumps(message))
            last = message
        if job.status in ENDED:
            await websocket.close(code=1000, reason=f"job {job.status}")
            return
        await anyio.sleep(POLL_SECONDS)
        try:
            job = await anyio.to_thread.run_sync(jobs.get_job, job.job_id, user)
        except ResourceNotFound:
            await websocket.close(code=4404, reason="The job was deleted")
            return
