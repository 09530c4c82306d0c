"""The OpenAPI 3 description of the 2018 draft's JSON API: its paths and components.

Written by hand as the contract; ``services.api.openapi`` assembles the document from
every protocol's fragment (this one is the draft API's) and ``tests/api/test_openapi.py``
checks it against the application's routes and a live server.
"""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}
_JSON = "application/json"


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": _ERROR}}}


_ERRORS: dict[str, Any] = {
    "400": _error("Invalid request: the code names what is wrong (see errors.md)"),
    "401": _error("No credentials (a WWW-Authenticate: Basic challenge is sent)"),
    "403": _error("Wrong credentials, unknown or expired token"),
    "404": _error("No such resource, or it belongs to another user"),
    "413": _error("Over a configured limit (body, pixels, dates, time-out, file size)"),
    "503": _error("Too many evaluations at once; retry after Retry-After seconds"),
}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


def _binary(description: str, *media: str) -> dict[str, Any]:
    content = {m: {"schema": {"type": "string", "format": "binary"}} for m in media}
    return {"description": description, "content": content}


def _op(
    summary: str,
    responses: dict[str, Any],
    *,
    tag: str,
    params: tuple[str, ...] = (),
    body: dict[str, Any] | None = None,
    errors: tuple[str, ...] = ("400", "401", "403", "404"),
    public: bool = False,
    query: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "responses": {**responses, **{code: _ERRORS[code] for code in errors}},
    }
    parameters = [{"$ref": f"#/components/parameters/{p}"} for p in params] + (query or [])
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = body
    if public:
        op["security"] = []
    return op


def _body(schema: str, required: bool = True) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {"required": required, "content": {_JSON: {"schema": ref}}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


_NO_CONTENT = {"204": {"description": "Done"}}
_EVAL_ERRORS = ("400", "401", "403", "404", "413", "503")
_RESULTS = ("image/tiff", "image/png", "image/jpeg", "application/json",
            "application/geopackage+sqlite3", "application/geo+json", "text/csv")

_FILE_OPS: dict[str, Any] = {
    "get": _op("Download a file", {"200": _binary("The file", "application/octet-stream")},
               tag="Files", params=("user_id", "path")),
    "put": _op(
        "Upload a file (raw body or the multipart field 'file'); written atomically",
        _NO_CONTENT,
        tag="Files",
        params=("user_id", "path"),
        body={"required": True, "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}}}},
        }},
        errors=("400", "401", "403", "404", "413"),
    ),
    "delete": _op("Delete a file", _NO_CONTENT, tag="Files", params=("user_id", "path")),
}
_FILE_LIST = {"get": _op("List the user's files", {"200": _json(
    {"type": "array", "items": _ref("FileInfo")})}, tag="Files", params=("user_id",))}

PATHS: dict[str, dict[str, Any]] = {
    "/": {"get": _op("API version and the endpoints of this server", {"200": _json(
        _ref("Capabilities"))}, tag="Capabilities", public=True, errors=())},
    "/openapi.json": {"get": _op("This OpenAPI description", {"200": _json(
        {"type": "object"})}, tag="Capabilities", public=True, errors=())},
    "/capabilities/output_formats": {"get": _op("Output formats and their options", {
        "200": _json({"type": "object"})}, tag="Capabilities", public=True, errors=())},
    "/capabilities/services": {"get": _op("Service type names", {"200": _json(
        {"type": "array", "items": {"type": "string"}})}, tag="Capabilities", public=True,
        errors=())},
    "/data": {"get": _op("Collections (the draft's form)", {"200": _json(
        {"type": "array", "items": _ref("DataSummary")})}, tag="EO Data Discovery",
        public=True, errors=(), query=[{"name": "qname", "in": "query", "required": False,
                                        "schema": {"type": "string"}}])},
    "/data/{product_id}": {"get": _op("One collection (the draft's form)", {"200": _json(
        {"type": "object"})}, tag="EO Data Discovery", params=("product_id",), public=True,
        errors=("404",))},
    "/collections": {"get": _op("Collections as STAC", {"200": _json(
        {"type": "object", "required": ["collections", "links"]})}, tag="EO Data Discovery",
        public=True, errors=())},
    "/collections/{collection_id}": {"get": _op("One collection as STAC", {"200": _json(
        {"type": "object", "required": ["id"]})}, tag="EO Data Discovery",
        params=("collection_id",), public=True, errors=("404",))},
    "/processes": {"get": _op("Every process", {"200": _json({"type": "array"})},
                              tag="Process Discovery", public=True, errors=())},
    "/processes/{process_id}": {"get": _op("One process's declaration", {"200": _json(
        {"type": "object"})}, tag="Process Discovery", params=("process_id",), public=True,
        errors=("404",))},
    "/auth/login": {"get": _op("Exchange HTTP Basic credentials for a token", {"200": _json(
        _ref("Token"))}, tag="Authentication", errors=("401", "403"))},
    "/auth/logout": {"post": _op("Revoke the Bearer token sent", _NO_CONTENT,
                                 tag="Authentication", errors=("401",))},
    "/auth/register": {"post": _op("Create an account (--allow-registration only)", {"200": _json(
        {"type": "string"}, "The new user id")}, tag="Authentication", public=True,
        body={"required": True, "content": {_JSON: {"schema": {"type": "string"}}}},
        errors=("400", "403"))},
    "/process_graphs": {
        "get": _op("Ids of the caller's stored graphs", {"200": _json(
            {"type": "array", "items": {"type": "string"}})}, tag="Process Graph Management",
            errors=("401", "403")),
        "post": _op("Store a valid graph", {"200": _json({"type": "object", "required": [
            "process_graph_id"]})}, tag="Process Graph Management",
            body=_body("ProcessGraph"), errors=("400", "401", "403", "413", "503"))},
    "/process_graphs/{process_graph_id}": {
        "get": _op("A stored graph", {"200": _json(_ref("ProcessGraph"))},
                   tag="Process Graph Management", params=("process_graph_id",)),
        "put": _op("Replace a stored graph", _NO_CONTENT, tag="Process Graph Management",
                   params=("process_graph_id",), body=_body("ProcessGraph"),
                   errors=("400", "401", "403", "404", "413", "503")),
        "delete": _op("Delete a stored graph", _NO_CONTENT, tag="Process Graph Management",
                      params=("process_graph_id",))},
    "/udf_runtimes": {"get": _op("UDF runtimes: none", {"200": _json(
        {"type": "array", "maxItems": 0})}, tag="UDF Runtime Discovery", public=True,
        errors=())},
    "/udf_runtimes/{lang}/{udf_type}": {"get": _op("No UDF runtime: always 404", {},
        tag="UDF Runtime Discovery", params=("lang", "udf_type"), public=True,
        errors=("404",))},
    "/credits": {"get": _op("Credits: Infinity (no billing)", {"200": {"description": "OK",
        "content": {"text/plain": {"schema": {"type": "string", "enum": ["Infinity"]}}}}},
        tag="User Content", errors=("401", "403"))},
    "/process_graphs/validate": {"post": _op(
        "Validate a process graph (either dialect): 204 when valid", _NO_CONTENT,
        tag="Process Graph Management", body=_body("ProcessGraphBody"),
        errors=("400", "401", "403", "413", "503"))},
    "/jobs/execute": {"post": _op(
        "Evaluate a graph on its native window and return the result file",
        {"200": _binary("The result", *_RESULTS)}, tag="Job Management",
        body=_body("ProcessGraphBody"), errors=("400", "401", "403", "413", "503"))},
    "/jobs": {
        "get": _op("The caller's jobs", {"200": _json({"type": "array", "items": _ref("Job")})},
                   tag="Job Management", errors=("401", "403")),
        "post": _op("Validate and store a job", {"200": _json(_ref("Job"))},
                    tag="Job Management", body=_body("JobBody"),
                    errors=("400", "401", "403", "413", "503")),
    },
    "/jobs/on_demand": {"post": _op("Create a job and start it on demand", {"200": _json(
        _ref("Job"))}, tag="Job Management", body=_body("JobBody"),
        errors=("400", "401", "403", "413", "503"))},
    "/jobs/{job_id}": {
        "get": _op("A job with its graph", {"200": _json(_ref("Job"))}, tag="Job Management",
                   params=("job_id",)),
        "patch": _op("Replace a job's graph, output or title", _NO_CONTENT,
                     tag="Job Management", params=("job_id",), body=_body("JobPatch"),
                     errors=("400", "401", "403", "404", "413", "503")),
        "delete": _op("Delete a job and its services", _NO_CONTENT, tag="Job Management",
                      params=("job_id",)),
    },
    "/jobs/{job_id}/on_demand": {
        "post": _op("Start the job on demand (publishable)", _NO_CONTENT,
                    tag="Job Management", params=("job_id",)),
        "delete": _op("Stop on-demand processing", _NO_CONTENT, tag="Job Management",
                      params=("job_id",)),
    },
    "/jobs/{job_id}/cancel": {"patch": _op("Stop on-demand processing (the draft's form)", {
        "200": {"description": "Stopped"}}, tag="Job Management", params=("job_id",))},
    "/jobs/{job_id}/on_demand/download": {"get": _op("Links to the job's results", {
        "200": _json({"type": "array", "items": _ref("Link")})}, tag="Job Management",
        params=("job_id",))},
    "/jobs/{job_id}/on_demand/result.{ext}": {"get": _op(
        "Evaluate the job's default view: tif, png, jpg or json",
        {"200": _binary("The result", *_RESULTS)}, tag="Job Management",
        params=("job_id", "ext"), errors=_EVAL_ERRORS)},
    "/jobs/{job_id}/batch": {
        "post": _op("Queue the job as a batch job", _NO_CONTENT, tag="Batch Jobs",
                    params=("job_id",), body=_body("BatchBody", required=False),
                    errors=("400", "401", "403", "404", "413")),
        "delete": _op("Cancel the batch run and delete its results", _NO_CONTENT,
                      tag="Batch Jobs", params=("job_id",)),
    },
    "/jobs/{job_id}/queue": {"patch": _op("Queue the job as a batch job (the draft's form)",
                                          _NO_CONTENT, tag="Batch Jobs", params=("job_id",),
                                          body=_body("BatchBody", required=False),
                                          errors=("400", "401", "403", "404", "413"))},
    "/jobs/{job_id}/batch/download": {"get": _op("Links to the batch results", {
        "200": _json({"type": "array", "items": _ref("Link")})}, tag="Batch Jobs",
        params=("job_id",))},
    "/jobs/{job_id}/download": {"get": _op("Links to the batch results (the draft's form)", {
        "200": _json({"type": "array", "items": _ref("Link")})}, tag="Batch Jobs",
        params=("job_id",))},
    "/jobs/{job_id}/results/{name}": {"get": _op("One batch result file", {
        "200": _binary("The file", *_RESULTS)}, tag="Batch Jobs", params=("job_id", "name"))},
    "/services": {
        "get": _op("The caller's services", {"200": _json(
            {"type": "array", "items": _ref("Service")})}, tag="Web Service Management",
            errors=("401", "403")),
        "post": _op("Publish a job as WMTS, XYZ, TMS or WCS", {"200": _json(_ref("Service"))},
                    tag="Web Service Management", body=_body("ServiceBody"),
                    errors=("400", "401", "403", "404", "413")),
    },
    "/services/{service_id}": {
        "get": _op("A service", {"200": _json(_ref("Service"))}, tag="Web Service Management",
                   params=("service_id",)),
        "patch": _op("Change a service's args or title", _NO_CONTENT,
                     tag="Web Service Management", params=("service_id",),
                     body=_body("ServicePatch"), errors=("400", "401", "403", "404", "413")),
        "delete": _op("Delete a service", _NO_CONTENT, tag="Web Service Management",
                      params=("service_id",)),
    },
    "/files/{user_id}": _FILE_LIST,
    "/files/{user_id}/{path}": _FILE_OPS,
    "/users/{user_id}/files": _FILE_LIST,
    "/users/{user_id}/files/{path}": _FILE_OPS,
}
"""Every JSON API path and operation."""


def _param(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", **schema}}


COMPONENTS: dict[str, Any] = {
    "securitySchemes": {
        "Basic": {"type": "http", "scheme": "basic"},
        "Bearer": {"type": "http", "scheme": "bearer",
                   "description": "A token from GET /auth/login"},
    },
    "parameters": {
        "product_id": _param("product_id", "Collection id"),
        "collection_id": _param("collection_id", "Collection id"),
        "process_id": _param("process_id", "Process id (aliases resolve)"),
        "job_id": _param("job_id", "Job id"),
        "service_id": _param("service_id", "Service id (32 hex digits)"),
        "user_id": _param("user_id", "User id; 'me' is the caller"),
        "path": _param("path", "File path relative to the user's folder"),
        "ext": _param("ext", "Result format", enum=["tif", "png", "jpg", "json"]),
        "name": _param("name", "Result file name (from the download links)"),
        "process_graph_id": _param("process_graph_id", "Stored process graph id"),
        "lang": _param("lang", "UDF language"),
        "udf_type": _param("udf_type", "UDF type"),
    },
    "schemas": {
        "Error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
                "message": {"type": "string"},
            },
        },
        "Capabilities": {
            "type": "object",
            "required": ["version", "endpoints"],
            "properties": {
                "version": {"type": "string"},
                "api_version": {"type": "string"},
                "backend_version": {"type": "string"},
                "title": {"type": "string"},
                "description": {"type": "string"},
                "endpoints": {"type": "array", "items": {
                    "type": "object", "required": ["path", "methods"],
                    "properties": {"path": {"type": "string"},
                                   "methods": {"type": "array",
                                               "items": {"type": "string"}}}}},
            },
        },
        "DataSummary": {
            "type": "object",
            "required": ["product_id"],
            "properties": {"product_id": {"type": "string"},
                           "description": {"type": "string"},
                           "source": {"type": "string"}},
        },
        "ProcessGraph": {
            "description": "The draft's nested form ({process_id, args}) or the openEO 1.x "
                           "flat form ({node: {process_id, arguments, result}})",
            "type": "object",
        },
        "Output": {
            "type": "object",
            "required": ["format"],
            "properties": {"format": {"type": "string"}},
            "description": "Output format and its options (GET /capabilities/output_formats)",
        },
        "ProcessGraphBody": {
            "type": "object",
            "required": ["process_graph"],
            "properties": {"process_graph": _ref("ProcessGraph"), "output": _ref("Output")},
        },
        "JobBody": {
            "type": "object",
            "required": ["process_graph"],
            "properties": {"process_graph": _ref("ProcessGraph"), "output": _ref("Output"),
                           "title": {"type": "string"}},
        },
        "JobPatch": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": False,
            "properties": {"process_graph": _ref("ProcessGraph"),
                           "output": {"nullable": True, "allOf": [_ref("Output")]},
                           "title": {"type": "string", "nullable": True}},
        },
        "BatchBody": {
            "type": "object",
            "properties": {"output": _ref("Output")},
        },
        "Job": {
            "type": "object",
            "required": ["job_id", "mode", "status", "submitted", "user_id"],
            "properties": {
                "job_id": {"type": "string"},
                "title": {"type": "string"},
                "mode": {"type": "string"},
                "status": {"type": "string"},
                "submitted": {"type": "string"},
                "updated": {"type": "string"},
                "user_id": {"type": "string"},
                "consumed_credits": {"type": "number"},
                "progress": {"type": "integer"},
                "process_graph": _ref("ProcessGraph"),
                "output": {"type": "object"},
                "links": {"type": "array", "items": _ref("Link")},
            },
        },
        "ServiceBody": {
            "type": "object",
            "required": ["job_id", "type"],
            "properties": {
                "job_id": {"type": "string"},
                "type": {"type": "string", "enum": []},
                "args": {"type": "object"},
                "title": {"type": "string"},
            },
        },
        "ServicePatch": {
            "type": "object",
            "properties": {"args": {"type": "object"}, "title": {"type": "string"}},
        },
        "Service": {
            "type": "object",
            "required": ["service_id", "service_url", "service_type", "job_id"],
            "properties": {
                "service_id": {"type": "string"},
                "service_url": {"type": "string"},
                "service_type": {"type": "string"},
                "service_args": {"type": "object"},
                "job_id": {"type": "string"},
                "title": {"type": "string"},
                "created": {"type": "string"},
                "capabilities_url": {"type": "string"},
                "links": {"type": "array", "items": _ref("Link")},
            },
        },
        "Link": {
            "type": "object",
            "required": ["href"],
            "properties": {"href": {"type": "string"}, "rel": {"type": "string"},
                           "type": {"type": "string"}, "title": {"type": "string"}},
        },
        "FileInfo": {
            "type": "object",
            "required": ["name", "size", "modified"],
            "properties": {"name": {"type": "string"}, "size": {"type": "integer"},
                           "modified": {"type": "string"}},
        },
        "Token": {
            "type": "object",
            "required": ["user_id", "token", "expires"],
            "properties": {"user_id": {"type": "string"}, "token": {"type": "string"},
                           "expires": {"type": "integer"}},
        },
    },
}
