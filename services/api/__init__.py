"""The API adapters. This package is the 2018 API draft's JSON API (discovery, jobs,
batch, services, files, authentication); :mod:`.openeo` is openEO 1.2 over the same
application services.

The draft's errors are JSON ``{"code", "message"}`` (its numeric codes); its OpenAPI
fragment is :mod:`.schema`.
"""

from __future__ import annotations

from ..protocol import Access, Endpoint, Protocol, Socket
from . import (
    auth,
    batch,
    discovery,
    execute,
    files,
    jobs,
    openapi,
    process_graphs,
    reserved,
    services,
    subscribe,
)
from .schema import PATHS

PUBLIC, USER = Access.PUBLIC, Access.USER
GET, POST, PATCH, PUT, DELETE = ("GET",), ("POST",), ("PATCH",), ("PUT",), ("DELETE",)
_FILES = ("/files/{user_id}", "/users/{user_id}/files")
_FILE = tuple(prefix + "/{path:filepath}" for prefix in _FILES)

PROTOCOL = Protocol(
    name="API draft",
    endpoints=(
        Endpoint("/", discovery.capabilities, GET, PUBLIC),
        Endpoint("/capabilities/output_formats", discovery.get_output_formats, GET, PUBLIC),
        Endpoint("/data", discovery.list_data, GET, PUBLIC),
        Endpoint("/data/{product_id:path}", discovery.get_data, GET, PUBLIC),
        Endpoint("/collections", discovery.list_collections, GET, PUBLIC),
        Endpoint("/collections/{collection_id}", discovery.get_collection, GET, PUBLIC),
        Endpoint("/processes", discovery.list_processes, GET, PUBLIC),
        Endpoint("/processes/{process_id}", discovery.get_process, GET, PUBLIC),
        # login checks the Basic credentials it exchanges; logout revokes the token it gets
        Endpoint("/auth/login", auth.login, GET, PUBLIC),
        Endpoint("/auth/logout", auth.logout, POST, PUBLIC),
        Endpoint("/jobs/execute", execute.execute, POST, USER),
        Endpoint("/process_graphs/validate", execute.validate_graph, POST, USER),
        Endpoint("/process_graphs", process_graphs.list_graphs, GET, USER),
        Endpoint("/process_graphs", process_graphs.store_graph, POST, USER),
        Endpoint("/process_graphs/{process_graph_id}", process_graphs.get_graph, GET, USER),
        Endpoint("/process_graphs/{process_graph_id}", process_graphs.replace_graph, PUT, USER),
        Endpoint("/process_graphs/{process_graph_id}", process_graphs.delete_graph, DELETE,
                 USER),
        # registration is refused unless the operator allows it (--allow-registration)
        Endpoint("/auth/register", reserved.register, POST, PUBLIC),
        Endpoint("/udf_runtimes", reserved.udf_runtimes, GET, PUBLIC),
        Endpoint("/udf_runtimes/{lang}/{udf_type}", reserved.udf_description, GET, PUBLIC),
        Endpoint("/credits", reserved.credits_, GET, USER),
        *(Endpoint(prefix, files.list_files, GET, USER) for prefix in _FILES),
        *(Endpoint(path, files.download, GET, USER) for path in _FILE),
        *(Endpoint(path, files.upload, PUT, USER) for path in _FILE),
        *(Endpoint(path, files.delete, DELETE, USER) for path in _FILE),
        Endpoint("/jobs", jobs.list_jobs, GET, USER),
        Endpoint("/jobs", jobs.create_job, POST, USER),
        Endpoint("/jobs/on_demand", jobs.create_on_demand_job, POST, USER),
        Endpoint("/jobs/{job_id}", jobs.get_job, GET, USER),
        Endpoint("/jobs/{job_id}", jobs.patch_job, PATCH, USER),
        Endpoint("/jobs/{job_id}", jobs.delete_job, DELETE, USER),
        Socket("/jobs/{job_id}/subscribe", subscribe.subscribe),
        Endpoint("/jobs/{job_id}/on_demand", jobs.start_on_demand, POST, USER),
        Endpoint("/jobs/{job_id}/on_demand", jobs.stop_on_demand, DELETE, USER),
        Endpoint("/jobs/{job_id}/cancel", jobs.stop_on_demand, PATCH, USER),
        Endpoint("/jobs/{job_id}/on_demand/download", jobs.on_demand_download, GET, USER),
        Endpoint("/jobs/{job_id}/on_demand/result.{ext}", jobs.on_demand_result, GET, USER),
        Endpoint("/jobs/{job_id}/batch", batch.start_batch, POST, USER),
        Endpoint("/jobs/{job_id}/batch", batch.cancel_batch, DELETE, USER),
        Endpoint("/jobs/{job_id}/queue", batch.queue_job, PATCH, USER),
        Endpoint("/jobs/{job_id}/batch/download", batch.download_links, GET, USER),
        Endpoint("/jobs/{job_id}/download", batch.download_links, GET, USER),
        Endpoint("/jobs/{job_id}/results/{name}", batch.download_result, GET, USER),
        Endpoint("/capabilities/services", services.list_service_types, GET, PUBLIC),
        Endpoint("/services", services.list_services, GET, USER),
        Endpoint("/services", services.create_service, POST, USER),
        Endpoint("/services/{service_id}", services.get_service, GET, USER),
        Endpoint("/services/{service_id}", services.patch_service, PATCH, USER),
        Endpoint("/services/{service_id}", services.delete_service, DELETE, USER),
        Endpoint("/openapi.json", openapi.openapi_json, GET, PUBLIC),
    ),
    openapi=PATHS,
    undocumented={
        "/jobs/{job_id}/subscribe": "WebSocket of job updates (its protocol: docs/batch.md)",
    },
)
