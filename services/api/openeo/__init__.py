"""openEO API 1.2 at ``/openeo/1.2/``: a thin adapter over the shared application.

Jobs, services, files, users and the engine are the draft's; this package only
translates shapes. :data:`PROTOCOL` mounts the API and answers ``/.well-known/openeo``.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route, Router

from ...protocol import Access, Endpoint, Mounted, Protocol
from . import collections, discovery, files, jobs, process_graphs, processes, result, services
from .auth import API_PREFIX, credentials_basic, me
from .errors import OpenEOErrors

ROUTES: list[BaseRoute] = [
    Route("/", discovery.capabilities, methods=["GET"]),
    Route("/conformance", discovery.conformance, methods=["GET"]),
    Route("/collections", collections.list_collections, methods=["GET"]),
    Route("/collections/{collection_id}", collections.get_collection, methods=["GET"]),
    Route("/processes", processes.list_processes, methods=["GET"]),
    Route("/processes/{process_id}", processes.get_process, methods=["GET"]),
    Route("/file_formats", discovery.file_formats, methods=["GET"]),
    Route("/service_types", discovery.service_types, methods=["GET"]),
    Route("/udf_runtimes", discovery.udf_runtimes, methods=["GET"]),
    Route("/credentials/basic", credentials_basic, methods=["GET"]),
    Route("/me", me, methods=["GET"]),
    Route("/result", result.process_result, methods=["POST"]),
    Route("/validation", result.validate, methods=["POST"]),
    Route("/jobs", jobs.list_jobs, methods=["GET"]),
    Route("/jobs", jobs.create_job, methods=["POST"]),
    Route("/jobs/{job_id}", jobs.get_job, methods=["GET"]),
    Route("/jobs/{job_id}", jobs.patch_job, methods=["PATCH"]),
    Route("/jobs/{job_id}", jobs.delete_job, methods=["DELETE"]),
    Route("/jobs/{job_id}/results", jobs.get_results, methods=["GET"]),
    Route("/jobs/{job_id}/results", jobs.start_job, methods=["POST"]),
    Route("/jobs/{job_id}/results", jobs.cancel_job, methods=["DELETE"]),
    Route("/jobs/{job_id}/results/assets/{name}", jobs.download_asset, methods=["GET"]),
    Route("/jobs/{job_id}/logs", jobs.get_logs, methods=["GET"]),
    Route("/services", services.list_services, methods=["GET"]),
    Route("/services", services.create_service, methods=["POST"]),
    Route("/services/{service_id}", services.get_service, methods=["GET"]),
    Route("/services/{service_id}", services.patch_service, methods=["PATCH"]),
    Route("/services/{service_id}", services.delete_service, methods=["DELETE"]),
    Route("/process_graphs", process_graphs.list_processes, methods=["GET"]),
    Route("/process_graphs/{process_graph_id}", process_graphs.get_process, methods=["GET"]),
    Route("/process_graphs/{process_graph_id}", process_graphs.put_process, methods=["PUT"]),
    Route("/process_graphs/{process_graph_id}", process_graphs.delete_process,
          methods=["DELETE"]),
    Route("/files", files.list_files, methods=["GET"]),
    Route("/files/{path:filepath}", files.download, methods=["GET"]),
    Route("/files/{path:filepath}", files.upload, methods=["PUT"]),
    Route("/files/{path:filepath}", files.delete, methods=["DELETE"]),
]
"""The 1.2 endpoints, relative to :data:`API_PREFIX`."""

PROTOCOL = Protocol(
    name="openEO 1.2",
    endpoints=(
        Endpoint("/.well-known/openeo", discovery.well_known, ("GET",), Access.PUBLIC),
        Mounted(API_PREFIX, OpenEOErrors(Router(routes=ROUTES)), Access.OWN),
    ),
    undocumented={
        API_PREFIX: "openEO API 1.2, described by openeo-api's own openapi.yaml (its tests "
        "validate every answer against it)",
        "/.well-known/openeo": "openEO version discovery, in openeo-api's own openapi.yaml",
    },
)
"""The version list at the root and the 1.2 API, mounted with its own router, its own
authentication (``basic//`` Bearer tokens, :mod:`.auth`) and its own error answers
(:class:`.errors.OpenEOErrors`); its secondary services are the shared ones."""
