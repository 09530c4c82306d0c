"""The web viewer: an HTML index at ``/`` and a map page per job at ``/jobs/{id}/viewer``.

Opening the viewer of a job that runs on demand publishes it: the job's existing
``xyz``, ``wmts`` and ``wcs`` services are reused and the missing ones created
(titled ``viewer``), so the page always has tiles to show and the links to copy
work. Opening it never starts or stops a job: a job that is not running on demand
gets a page with a button that starts it (``POST /jobs/{id}/on_demand``, the jobs
API) and reloads. Everything the page loads comes from this server: Leaflet from
the ``xstatic-leaflet`` package, the page's own script, style and SVG chart.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from ondemand.engine import Engine
from ondemand.errors import AuthenticationRequired, OutputOptionInvalid
from ondemand.formats import colormap_names, legend
from ondemand.jobs import JobRecord, JobStore, ServiceRecord
from ondemand.layer import Layer
from ondemand.tiles import WEB_MERCATOR, layer_style, tile_matrix_set, zoom_range

from ..protocol import Protocol, protocols_of
from ..state import run_blocking, state_of
from ..users import current_user
from .signed import signature_config
from .tiles import parse_style

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
TILE_SERVICE = "xyz"
"""The service whose tiles and point values the map shows (the tiles protocol's)."""
ACTIVE_BATCH = frozenset({"queued", "running"})


def leaflet_dir() -> Path:
    """Leaflet's files as shipped by the ``xstatic-leaflet`` package."""
    return Path(str(files("xstatic.pkg.leaflet") / "data"))


@cache
def _template(name: str) -> Template:
    """A page template of ``services/maps/templates`` (``$name`` placeholders)."""
    return Template((TEMPLATES_DIR / name).read_text(encoding="utf-8"))


def prefers_html(request: Request) -> bool:
    """Whether the client asks for HTML rather than JSON (browsers do; curl does not).

    ``?f=html`` / ``?f=json`` decide outright; otherwise ``text/html`` must be listed in
    ``Accept`` with a quality at least that of ``application/json``.
    """
    forced = request.query_params.get("f", "").lower()
    if forced in ("html", "json"):
        return forced == "html"
    quality: dict[str, float] = {}
    for part in request.headers.get("accept", "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[media.lower()] = max(q, quality.get(media.lower(), 0.0))
    html_q = quality.get("text/html", 0.0)
    return html_q > 0 and html_q >= quality.get("application/json", 0.0)


def _json_script(value: Any) -> str:
    """JSON safe to embed in a ``<script type="application/json">`` element."""
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _e(value: object) -> str:
    """HTML-escaped text."""
    return html.escape(str(value), quote=True)


# ------------------------------------------------------------------ index


async def index_page(request: Request) -> Response:
    """``GET /`` for browsers: collections, the caller's jobs with status and links."""
    state = state_of(request)
    collections = "".join(
        f"<tr><td><a href=\"/collections/{_e(c.id)}\">{_e(c.id)}</a></td>"
        f"<td>{_e(c.title)}</td><td>{_e(c.description)}</td></tr>"
        for c in state.catalog
    )
    try:
        user: str | None = current_user(request)
    except AuthenticationRequired:
        if request.query_params.get("login"):
            raise
        user = None
    if user is None:
        jobs = (
            "<p>Jobs are listed for signed-in users: "
            '<a href="/?f=html&amp;login=1">sign in</a>.</p>'
        )
    else:
        jobs = _jobs_table(state.jobs, user)
    page = _template("index.html").substitute(
        collections=collections or '<tr><td colspan="3">No collections</td></tr>',
        jobs=jobs,
        user=_e(user or "not signed in"),
    )
    return HTMLResponse(page)


def _jobs_table(store: JobStore, user: str) -> str:
    """The user's jobs as table rows with their services and viewer links."""
    services: dict[str, list[ServiceRecord]] = {}
    for service in store.list_services(user):
        services.setdefault(service.job_id, []).append(service)
    rows = []
    for job in store.list_jobs(user):
        links = " ".join(
            f'<a href="/services/{_e(s.service_id)}">{_e(s.service_type)}</a>'
            for s in services.get(job.job_id, [])
        )
        rows.append(
            f"<tr><td>{_e(job.title or '')}</td>"
            f'<td><a href="/jobs/{_e(job.job_id)}">{_e(job.job_id)}</a></td>'
            f"<td>{_e(job.mode)}</td><td class=\"status\">{_e(job.status)}</td>"
            f"<td>{_e(job.submitted)}</td><td>{links or '-'}</td>"
            f'<td><a class="viewer" href="/jobs/{_e(job.job_id)}/viewer">'
            "view on a map</a></td></tr>"
        )
    if not rows:
        return "<p>No jobs yet: create one with <code>POST /jobs</code>.</p>"
    head = (
        "<tr><th>Title</th><th>Job</th><th>Mode</th><th>Status</th><th>Submitted</th>"
        "<th>Services</th><th></th></tr>"
    )
    return f'<table id="jobs">{head}{"".join(rows)}</table>'


# ------------------------------------------------------------------ viewer


def viewer_services(
    store: JobStore, job: JobRecord, user: str, kinds: Sequence[str]
) -> dict[str, ServiceRecord]:
    """The job's oldest service of each type in ``kinds``, creating missing ones."""
    found: dict[str, ServiceRecord] = {}
    for service in store.list_services(user):
        if service.job_id == job.job_id and service.service_type in kinds:
            found.setdefault(service.service_type, service)
    for kind in kinds:
        if kind not in found:
            found[kind] = store.create_service(job.job_id, user, kind, {}, "viewer")
    return found


def layer_view(engine: Engine, layer: Layer) -> dict[str, Any]:
    """What the map needs of a layer: extent, zoom levels, dates, bands and default style.

    Blocking (the default style samples the layer once): call it in a worker thread.
    """
    minzoom, maxzoom = zoom_range(layer, tile_matrix_set(layer, WEB_MERCATOR))
    bands = list(layer.bands or ("band",))
    rgb = len(bands) == 3
    colormap, ranges = layer_style(engine, layer, (0, 1, 2) if rgb else (0,))
    return {
        "bounds": list(layer.bounds_wgs84),
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "times": None if layer.times is None else [_iso(t) for t in layer.times],
        "bands": bands,
        "rgb": rgb,
        "style": {
            "colormap": None if rgb else (colormap or "gray"),
            "rescale": [float(v) for v in ranges[0]] if ranges else None,
        },
    }


def _iso(value: Any) -> str:
    """An ISO datetime with ``Z`` for UTC."""
    return str(value.isoformat()).replace("+00:00", "Z")


def viewer_links(
    base: str,
    layer: Layer,
    protocols: Sequence[Protocol],
    services: dict[str, ServiceRecord],
    maxzoom: int,
) -> dict[str, str]:
    """URLs to copy, from every protocol that declares viewer links (WMTS, XYZ, WCS, QGIS)."""
    links: dict[str, str] = {}
    for protocol in protocols:
        if protocol.viewer is not None:
            root = f"{base}/services/{services[protocol.viewer.service_type].service_id}"
            links.update(protocol.viewer.links(root, layer, maxzoom))
    return links


async def viewer_page(request: Request) -> Response:
    """``GET /jobs/{id}/viewer``: the job on a map (publishing it when it runs on demand)."""
    user = current_user(request)
    state = state_of(request)
    job = state.jobs.get_job(request.path_params["job_id"], user)
    if job.mode != "on_demand" or job.status != "running":
        return _stopped_page(job)
    protocols = [p for p in protocols_of(request) if p.viewer is not None]
    kinds = [p.viewer.service_type for p in protocols if p.viewer is not None]
    services = viewer_services(state.jobs, job, user, kinds)
    layer = await run_blocking(request, state.layers.get, state.engine, job)
    view = await run_blocking(request, layer_view, state.engine, layer)
    base = str(request.base_url).rstrip("/")
    sid = services[TILE_SERVICE].service_id
    signature = await run_blocking(request, signature_config, request, services[TILE_SERVICE])
    config = {
        **view,
        "job": {"id": job.job_id, "title": layer.title, "status": job.status, "mode": job.mode},
        "tiles": f"/services/{sid}/xyz",
        "point": f"/services/{sid}/point",
        "signature": signature,
        "renew": f"/jobs/{job.job_id}/viewer/signature?service={sid}",
        "legend": "/viewer/legend.json",
        "colormaps": colormap_names(),
        "links": viewer_links(base, layer, protocols, services, int(view["maxzoom"])),
    }
    page = _template("viewer.html").substitute(
        title=_e(layer.title), job_id=_e(job.job_id), config=_json_script(config)
    )
    return HTMLResponse(page)


def _stopped_page(job: JobRecord) -> Response:
    """The page of a job that does not run on demand: its state and how to start it."""
    batch = job.mode == "batch" and job.status in ACTIVE_BATCH
    action = (
        "<p>The job is running as a batch job; start it on demand when it has finished.</p>"
        f'<p><progress id="progress" max="100" value="{job.progress}"></progress> '
        f'<span id="progress-text">{job.progress}%</span></p>'
        if batch
        else '<p><button id="start" type="button">Start on demand and view</button></p>'
    )
    page = _template("stopped.html").substitute(
        title=_e(job.title or f"Job {job.job_id}"),
        job_id=_e(job.job_id),
        mode=_e(job.mode),
        status=_e(job.status),
        action=action,
    )
    return HTMLResponse(page)


async def legend_json(request: Request) -> Response:
    """``GET /viewer/legend.json?colormap=&rescale=min,max``: color stops of a legend."""
    q = request.query_params
    style = parse_style(q.get("colormap"), q.get("rescale") or "0,1", None)
    if style.rescale is None or len(style.rescale) != 1:
        raise OutputOptionInvalid("A legend needs one rescale range: rescale=min,max")
    stops = legend(style.colormap, style.rescale[0])
    return JSONResponse(
        {"colormap": style.colormap, "rescale": list(style.rescale[0]), "stops": stops}
    )
