"""Parsing both dialects, canonical hashes, structural errors and validation errors."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from ondemand.catalog import Catalog
from ondemand.dialects import parse_graph
from ondemand.errors import (
    ArgumentInvalid,
    ArgumentMissing,
    ArgumentUnsupported,
    BandNotFound,
    CollectionNotFound,
    InvalidCRS,
    OnDemandError,
    ProcessGraphInvalid,
    ProcessGraphMissing,
    ProcessUnsupported,
)
from ondemand.graph import ChildGraph, NodeRef, ParamRef, node_hash
from ondemand.processes import REGISTRY, describe, list_processes
from ondemand.processes.validate import validate_graph
from tests.support.processes import CATALOG, S2

# The draft's example (jobs.md "Retrieval of a GeoTIFF" and poc.md use case 1), with the
# draft's own swapped top/bottom.
DRAFT_GET_DATA = {
    "process_graph": {
        "process_id": "min_time",
        "args": {"imagery": {"process_id": "NDVI", "args": {
            "imagery": {"process_id": "filter_daterange", "args": {
                "imagery": {"process_id": "filter_bbox", "args": {
                    "imagery": {"process_id": "get_data", "args": {"data_id": S2.id}},
                    "left": 652000, "right": 672000, "top": 5161000, "bottom": 5181000,
                    "srs": "EPSG:32632"}},
                "from": "2017-01-01", "to": "2017-01-31"}},
            "red": "B04", "nir": "B8A"}}},
    },
    "output": {"format": "GTiff", "tiled": True, "compress": "jpeg"},
}


def _product_id_variant() -> dict[str, Any]:
    doc = copy.deepcopy(DRAFT_GET_DATA["process_graph"])
    bbox = doc["args"]["imagery"]["args"]["imagery"]["args"]["imagery"]["args"]
    bbox["imagery"] = {"product_id": S2.id}
    return doc


OPENEO_FLAT = {
    "load": {"process_id": "load_collection", "arguments": {"id": S2.id}},
    "bbox": {"process_id": "filter_bbox", "arguments": {
        "data": {"from_node": "load"},
        "extent": {"west": 652000, "east": 672000, "south": 5161000, "north": 5181000,
                   "crs": 32632}}},
    "dates": {"process_id": "filter_temporal", "arguments": {
        "data": {"from_node": "bbox"}, "extent": ["2017-01-01", "2017-01-31"]}},
    "ndvi": {"process_id": "ndvi", "arguments": {
        "data": {"from_node": "dates"}, "red": "B04", "nir": "B8A", "target_band": None}},
    "min": {"process_id": "min_time", "arguments": {"data": {"from_node": "ndvi"}},
            "result": True},
}

OPENEO_RENAMED = {  # other node ids, other order, floats, draft names in the flat form
    "z9": {"process_id": "min_time", "args": {"imagery": {"from_node": "a1"}}, "result": True},
    "a1": {"process_id": "NDVI", "arguments": {"data": {"from_node": "b2"}, "nir": "B8A",
                                               "red": "B04"}},
    "b2": {"process_id": "filter_daterange", "arguments": {
        "data": {"from_node": "c3"}, "from": "2017-01-01", "to": "2017-01-31"}},
    "c3": {"process_id": "filter_bbox", "arguments": {
        "data": {"from_node": "d4"}, "left": 652000.0, "right": 672000.0, "top": 5181000,
        "bottom": 5161000, "srs": "EPSG:32632"}},
    "d4": {"process_id": "get_data", "arguments": {"product_id": S2.id}},
}


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param(DRAFT_GET_DATA, id="draft-get_data-with-output"),
        pytest.param(_product_id_variant(), id="draft-product_id"),
        pytest.param(OPENEO_FLAT, id="openeo-flat"),
        pytest.param({"process_graph": OPENEO_FLAT}, id="openeo-wrapped"),
        pytest.param(OPENEO_RENAMED, id="openeo-renamed-nodes"),
    ],
)
def test_draft_example_has_one_hash_in_every_dialect(doc: dict[str, Any]) -> None:
    graph = parse_graph(doc, REGISTRY)
    validate_graph(graph, CATALOG, REGISTRY)
    assert graph.hash() == parse_graph(OPENEO_FLAT, REGISTRY).hash()
    result = graph.nodes[graph.result]
    assert result.process_id == "min_time"
    ndvi = graph.nodes[result.arguments["data"].node_id]
    assert (ndvi.process_id, ndvi.arguments["red"], ndvi.arguments["nir"]) == ("ndvi", "B04",
                                                                              "B8A")
    bbox = next(n for n in graph.nodes.values() if n.process_id == "filter_bbox")
    assert dict(bbox.arguments["extent"]) == {"west": 652000, "east": 672000, "south": 5161000,
                                              "north": 5181000, "crs": "EPSG:32632"}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param(("ndvi", "red"), "B02", id="other-band"),
        pytest.param(("dates", "extent"), ["2017-01-01", "2017-01-30"], id="other-dates"),
        pytest.param(("load", "id"), "other", id="other-collection"),
    ],
)
def test_hash_changes_with_any_argument(path: tuple[str, str], value: Any) -> None:
    doc = copy.deepcopy(OPENEO_FLAT)
    doc[path[0]]["arguments"][path[1]] = value
    assert parse_graph(doc, REGISTRY).hash() != parse_graph(OPENEO_FLAT, REGISTRY).hash()


def test_node_hash_is_shared_by_equal_subgraphs_and_cached() -> None:
    graph = parse_graph(DRAFT_GET_DATA, REGISTRY)
    flat = parse_graph(OPENEO_FLAT, REGISTRY)
    assert "hashes" not in graph._memo
    nested_ndvi = graph.nodes[graph.result].arguments["data"].node_id
    assert node_hash(graph, nested_ndvi) == node_hash(flat, "ndvi")
    assert node_hash(flat, "ndvi") != node_hash(flat, "min")
    assert set(graph._memo["hashes"]) == set(graph.nodes)


def test_child_graph_is_parsed_with_parameters() -> None:
    doc = {
        "load": {"process_id": "load_collection", "arguments": {"id": S2.id}},
        "r": {"process_id": "reduce_dimension", "result": True, "arguments": {
            "data": {"from_node": "load"}, "dimension": "t",
            "reducer": {"process_graph": {"m": {
                "process_id": "mean", "result": True,
                "arguments": {"data": {"from_parameter": "data"}}}}},
        }},
    }
    graph = parse_graph(doc, REGISTRY)
    reducer = graph.nodes["r"].arguments["reducer"]
    assert isinstance(reducer, ChildGraph)
    assert reducer.graph.nodes["m"].arguments["data"] == ParamRef("data")
    assert graph.nodes["r"].arguments["data"] == NodeRef("load")
    validate_graph(graph, CATALOG, REGISTRY)


def _chain(depth: int) -> dict[str, Any]:
    doc: dict[str, Any] = {"product_id": S2.id}
    for _ in range(depth):
        doc = {"process_id": "min_time", "args": {"imagery": doc}}
    return doc


def _flat_chain(length: int) -> dict[str, Any]:
    doc: dict[str, Any] = {"n0": {"process_id": "load_collection", "arguments": {"id": S2.id}}}
    for i in range(1, length):
        data = {"from_node": f"n{i - 1}"}
        doc[f"n{i}"] = {"process_id": "save_result", "arguments": {"data": data}}
    doc[f"n{length - 1}"]["result"] = True
    return doc


def _deep_literal(depth: int) -> dict[str, Any]:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return {"a": {"process_id": "save_result", "result": True,
                  "arguments": {"data": 1, "options": value}}}


LOAD = {"process_id": "load_collection", "arguments": {"id": S2.id}}

STRUCTURE_ERRORS = [
    pytest.param(None, ProcessGraphMissing, "No process graph", id="none"),
    pytest.param({}, ProcessGraphMissing, "No process graph", id="empty"),
    pytest.param({"process_graph": {}}, ProcessGraphMissing, "No process graph", id="empty-wrap"),
    pytest.param([1], ProcessGraphInvalid, "JSON object", id="list"),
    pytest.param({"a": 5}, ProcessGraphInvalid, "'a'", id="node-not-object"),
    pytest.param({"a": {"process_id": "ndvi", "arguments": {"data": {"from_node": "a"}},
                        "result": True}}, ProcessGraphInvalid, "'a' refers to itself",
                 id="self-reference"),
    pytest.param({"a": {"process_id": "ndvi", "arguments": {"data": {"from_node": "b"}},
                        "result": True},
                  "b": {"process_id": "ndvi", "arguments": {"data": {"from_node": "a"}}}},
                 ProcessGraphInvalid, "cycle through node 'a'", id="cycle"),
    pytest.param({"a": {"process_id": "ndvi", "arguments": {"data": {"from_node": "zz"}},
                        "result": True}}, ProcessGraphInvalid, "'a' refers to unknown node 'zz'",
                 id="dangling"),
    pytest.param({"a": LOAD}, ProcessGraphInvalid, "no node is marked", id="no-result"),
    pytest.param({"a": {**LOAD, "result": True}, "b": {**LOAD, "result": True}},
                 ProcessGraphInvalid, "several result nodes: a, b", id="two-results"),
    pytest.param({"a": {**LOAD, "result": "yes"}}, ProcessGraphInvalid, "'a': 'result'",
                 id="result-not-bool"),
    pytest.param({"a": {**LOAD, "result": True, "colour": 1}}, ProcessGraphInvalid,
                 "'a' has unknown keys", id="unknown-node-key"),
    pytest.param({"a": {"process_id": "teleport", "arguments": {}, "result": True}},
                 ProcessUnsupported, "'a': process 'teleport'", id="unknown-process"),
    pytest.param({"process_id": "zonal_histogram", "args": {"imagery": {"product_id": "x"}}},
                 ProcessUnsupported, "'zonal_histogram'", id="nested-unknown"),
    pytest.param({"a": {"process_id": "linear_scale_range", "result": True,
                        "arguments": {"x": 1, "inputMin": float("nan"), "inputMax": 2}}},
                 ArgumentInvalid, "'a': argument 'inputMin'", id="nan"),
    pytest.param({"a": {"process_id": "linear_scale_range", "result": True,
                        "arguments": {"x": [float("inf")], "inputMin": 0, "inputMax": 2}}},
                 ArgumentInvalid, "'a': argument 'x'", id="infinity-in-list"),
    pytest.param({"a": {"process_id": "ndvi", "result": True,
                        "arguments": {"data": {"from_node": "b", "x": 1}}}},
                 ProcessGraphInvalid, "exactly one key", id="bad-reference"),
    pytest.param({"process_id": "filter_bbox", "args": {"imagery": {"product_id": "x"},
                                                        "left": 1, "right": 2, "top": 3}},
                 ArgumentMissing, "argument 'bottom'", id="draft-bbox-incomplete"),
    pytest.param({"process_id": "filter_bbox", "args": {"data": {"product_id": "x"},
                                                        "imagery": {"product_id": "x"}}},
                 ArgumentInvalid, "'imagery' duplicates 'data'", id="draft-and-canonical"),
    pytest.param(_chain(500), ProcessGraphInvalid, "nested deeper than 64", id="deep-nested"),
    pytest.param(_chain(5000), ProcessGraphInvalid, "nested deeper than 64",
                 id="very-deep-nested"),
    pytest.param(_flat_chain(80), ProcessGraphInvalid, "deeper than 64", id="deep-flat"),
    pytest.param(_flat_chain(250), ProcessGraphInvalid, "more than 200 nodes", id="too-many"),
    pytest.param(_deep_literal(100), ProcessGraphInvalid, "'a': argument 'options' is nested",
                 id="deep-literal"),
]


@pytest.mark.parametrize(("doc", "error", "fragment"), STRUCTURE_ERRORS)
def test_structure_errors(doc: Any, error: type[OnDemandError], fragment: str) -> None:
    with pytest.raises(error) as info:
        parse_graph(doc, REGISTRY)
    assert type(info.value) is error
    assert fragment in info.value.message


def _node(pid: str, **arguments: Any) -> dict[str, Any]:
    return {"load": LOAD, "x": {"process_id": pid, "result": True,
                                "arguments": {"data": {"from_node": "load"}, **arguments}}}


REDUCE_BANDS = {"process_graph": {"e": {"process_id": "array_element", "result": True,
                                        "arguments": {"data": {"from_parameter": "data"},
                                                      "label": "B99"}}}}
BBOX = {"west": 652000, "east": 672000, "south": 5161000, "north": 5181000, "crs": "EPSG:32632"}

VALIDATION_ERRORS = [
    pytest.param({"a": {"process_id": "load_collection", "arguments": {}, "result": True}},
                 ArgumentMissing, "'a' (load_collection): required argument 'id'", id="missing"),
    pytest.param(_node("ndvi", colour="red"), ArgumentUnsupported, "'x' (ndvi): argument 'colour'",
                 id="unsupported"),
    pytest.param({"a": {"process_id": "load_collection", "arguments": {"id": "S9"},
                        "result": True}}, CollectionNotFound, "'a' (load_collection)",
                 id="unknown-collection"),
    pytest.param(_node("ndvi", red="B99"), BandNotFound, "'x' (ndvi): argument 'red'",
                 id="unknown-band"),
    pytest.param(_node("filter_bands", bands=["B02", "B77"]), BandNotFound,
                 "'x' (filter_bands): argument 'bands'", id="unknown-band-in-list"),
    pytest.param({"a": {"process_id": "ndvi", "arguments": {"data": 5}, "result": True}},
                 ArgumentInvalid, "'a' (ndvi): argument 'data': expected raster-cube, got 5",
                 id="ndvi-of-number"),
    pytest.param({"load": LOAD, "m": {"process_id": "min_time",
                                      "arguments": {"data": {"from_node": "load"}}},
                  "x": {"process_id": "max_time", "arguments": {"data": {"from_node": "m"}},
                        "result": True}},
                 ArgumentInvalid, "'x' (max_time): argument 'data': the cube has no time",
                 id="time-reduced-twice"),
    pytest.param(_node("filter_bbox", extent={**BBOX, "west": 700000}), ArgumentInvalid,
                 "'x' (filter_bbox): argument 'extent': west", id="west-greater-than-east"),
    pytest.param(_node("filter_bbox", extent={**BBOX, "crs": "EPSG:999999"}), InvalidCRS,
                 "'x' (filter_bbox): argument 'extent'", id="bad-crs"),
    pytest.param(_node("filter_temporal", extent=["2017-13-01", None]), ArgumentInvalid,
                 "'x' (filter_temporal): argument 'extent': '2017-13-01'", id="bad-date"),
    pytest.param(_node("filter_temporal", extent=["2017-02-01", "2017-01-01"]), ArgumentInvalid,
                 "'x' (filter_temporal): argument 'extent': start", id="dates-reversed"),
    pytest.param(_node("filter_temporal", extent=[None, None]), ArgumentInvalid,
                 "both be null", id="dates-open"),
    pytest.param(_node("reduce_dimension", dimension="bands", reducer=REDUCE_BANDS),
                 BandNotFound, "'e' (array_element): argument 'label'", id="reducer-bad-label"),
    pytest.param(_node("reduce_dimension", dimension="x", reducer=REDUCE_BANDS),
                 ArgumentInvalid, "'x' (reduce_dimension): argument 'dimension'", id="bad-dim"),
    pytest.param(_node("reduce_dimension", dimension="t", reducer={"process_graph": {
        "e": {"process_id": "ndvi", "result": True,
              "arguments": {"data": {"from_parameter": "data"}}}}}),
                 ArgumentInvalid, "'e' (ndvi): argument 'data': expected raster-cube, got an array",
                 id="ndvi-in-reducer"),
    pytest.param({"load": LOAD, "x": {"process_id": "ndvi", "result": True,
                                      "arguments": {"data": {"from_parameter": "data"}}}},
                 ArgumentInvalid, "parameter 'data' is not defined", id="unbound-parameter"),
    pytest.param(_node("mask"), ArgumentInvalid, "'x' (mask): argument 'mask': give exactly one",
                 id="mask-without-mask"),
    pytest.param(_node("mask", scl_classes=[3], scl_band="QA"), BandNotFound,
                 "'x' (mask): argument 'scl_band'", id="mask-unknown-scl"),
    pytest.param(_node("linear_scale_range", inputMin=1, inputMax=1), ArgumentInvalid,
                 "'x' (linear_scale_range): argument 'inputMax'", id="empty-input-range"),
    pytest.param(_node("band_math", expression="B04 + nope"), BandNotFound,
                 "'x' (band_math): argument 'expression'", id="band-math-unknown-band"),
]


@pytest.mark.parametrize(("doc", "error", "fragment"), VALIDATION_ERRORS)
def test_validation_errors(doc: Any, error: type[OnDemandError], fragment: str) -> None:
    graph = parse_graph(doc, REGISTRY)
    with pytest.raises(error) as info:
        validate_graph(graph, CATALOG, REGISTRY)
    assert type(info.value) is error
    assert fragment in info.value.message


INJECTIONS = [
    pytest.param("__import__('os').system('id')", "__import__", id="import"),
    pytest.param("__import__('os')", "function '__import__' is not allowed", id="import-call"),
    pytest.param("B04.__class__", "B04.__class__", id="dunder-attribute"),
    pytest.param("B04.real", "B04.real", id="attribute"),
    pytest.param("(lambda: B04)()", "lambda", id="lambda"),
    pytest.param("B04 ** 1000000", "exponent '1000000'", id="huge-exponent"),
    pytest.param("B04 ** B08", "exponent 'B08'", id="variable-exponent"),
    pytest.param("2 ** 10 ** 10", "exponent '10 ** 10'", id="tower"),
    pytest.param("[B04][0]", "[B04]", id="subscript"),
    pytest.param("'a' * 10", "'a'", id="string"),
    pytest.param("open('/etc/passwd')", "'open'", id="builtin-call"),
    pytest.param("B04 if B08 else 1", "B04 if B08 else 1", id="conditional"),
    pytest.param("where(B04 > 0, 1)", "where() takes 3", id="arity"),
    pytest.param("_x + 1", "'_x'", id="private-name"),
    pytest.param("0 < B04 < 1", "chained comparison", id="chained"),
    pytest.param("B04 +", "cannot parse", id="syntax"),
    pytest.param("(" * 300 + "B04" + ")" * 300, "cannot parse", id="deep-parentheses"),
    pytest.param("B04;", "empty expression", id="empty-part"),
    pytest.param("B04 + " * 400 + "1", "longer than", id="too-long"),
    pytest.param("~B04", "'B04' is a number but '~B04' needs a condition", id="invert-band"),
    pytest.param("B04 | B08", "needs a condition", id="or-bands"),
    pytest.param("B04 & 1.5", "needs a condition", id="and-literal"),
    pytest.param("where(B04, B04, 1) ** -16", "needs a condition", id="where-band-condition"),
    pytest.param("where(B04 > 0, B04 > 1, 1)", "needs a condition", id="where-mixed-branches"),
    pytest.param("(B04 > 0) * 2", "use where(condition, 1, 0)", id="condition-arithmetic"),
    pytest.param("sqrt(B04 > 0)", "needs a number", id="condition-function"),
    pytest.param("(B04 > 0) < 1", "cannot compare", id="condition-compared-with-number"),
    pytest.param("B04 + " + "9" * 40, "larger than 1e+38", id="huge-literal"),
    pytest.param("B04 * 1e39", "larger than 1e+38", id="huge-float-literal"),
]


@pytest.mark.parametrize(("expression", "fragment"), INJECTIONS)
def test_band_math_rejects_unsafe_expressions(expression: str, fragment: str) -> None:
    graph = parse_graph(_node("band_math", expression=expression), REGISTRY)
    with pytest.raises(ArgumentInvalid) as info:
        validate_graph(graph, CATALOG, REGISTRY)
    assert "'x' (band_math): argument 'expression'" in info.value.message
    assert fragment in info.value.message


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("NDVI", "ndvi"), ("ndvi", "ndvi"), ("get_data", "load_collection"),
     ("filter_daterange", "filter_temporal"), ("min_time", "min_time")],
)
def test_describe_resolves_aliases_in_both_shapes(name: str, canonical: str) -> None:
    doc = describe(name)
    assert doc["process_id"] == doc["id"] == canonical
    declared = REGISTRY.get(canonical).parameters
    assert list(doc["args"])[: len(declared)] == [p.name for p in declared]
    assert [p["name"] for p in doc["parameters"]] == [p.name for p in declared]
    for p in declared:
        assert doc["args"][p.name]["required"] is p.required
        assert ("optional" in next(q for q in doc["parameters"] if q["name"] == p.name)) is (
            not p.required)
    assert doc["returns"]["schema"]


def test_list_processes_is_sorted_and_complete() -> None:
    ids = [p["id"] for p in list_processes()]
    assert ids == sorted(ids)
    for pid in ("load_collection", "filter_bbox", "filter_temporal", "filter_bands", "ndvi",
                "normalized_difference", "reduce_dimension", "band_math", "linear_scale_range",
                "mask", "save_result", "array_element", "sd", "median_time", "count_time"):
        assert pid in ids


def test_register_returns_a_new_registry() -> None:
    proc = REGISTRY.get("ndvi")
    renamed = type(proc)(**{**proc.__dict__, "id": "my_ndvi", "aliases": ()})
    bigger = REGISTRY.register(renamed)
    assert "my_ndvi" in bigger and "my_ndvi" not in REGISTRY
    assert len(bigger) == len(REGISTRY) + 1
    with pytest.raises(ValueError, match="already registered"):
        REGISTRY.register(proc)
    graph = parse_graph({"a": {"process_id": "my_ndvi", "result": True,
                               "arguments": {"data": 1}}}, bigger)
    assert graph.nodes["a"].process_id == "my_ndvi"
    with pytest.raises(ProcessUnsupported):
        parse_graph({"a": {"process_id": "my_ndvi", "result": True, "arguments": {}}}, REGISTRY)


@pytest.mark.parametrize(
    ("collection", "arguments", "error"),
    [
        pytest.param("s2-l2a-29rkh", {"red": "B04", "nir": "B8A"}, None, id="band-names"),
        pytest.param("s2-l2a-29rkh", {}, None, id="known-sentinel-2-common-names"),
        pytest.param("s2-ndvi-slovenia", {}, BandNotFound, id="no-common-names-known"),
    ],
)
def test_validate_against_the_real_catalog(
    shared_data: Path, collection: str, arguments: dict[str, Any],
    error: type[OnDemandError] | None
) -> None:
    catalog = Catalog.load([shared_data / collection / "collection.json"])
    doc = {"process_id": "min_time", "args": {"imagery": {"process_id": "NDVI", "args": {
        "imagery": {"product_id": collection}, **arguments}}}}
    graph = parse_graph(doc, REGISTRY)
    if error is None:
        validate_graph(graph, catalog, REGISTRY)
    else:
        with pytest.raises(error, match="argument 'red'"):
            validate_graph(graph, catalog, REGISTRY)


@pytest.mark.parametrize(
    ("process_id", "draft_names"),
    [
        pytest.param("filter_bbox", {"imagery", "left", "right", "top", "bottom", "srs"},
                     id="filter_bbox"),
        pytest.param("filter_daterange", {"imagery", "from", "to"}, id="filter_daterange"),
        pytest.param("get_data", {"data_id", "product_id"}, id="get_data"),
    ],
)
def test_describe_lists_draft_argument_names(process_id: str, draft_names: set[str]) -> None:
    args = describe(process_id)["args"]
    assert draft_names <= set(args)
    assert not any(args[name]["required"] for name in draft_names)
