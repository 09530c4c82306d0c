"""Inlining user-defined process calls and the draft's process_graph references, on the
JSON documents alone (no server)."""

from __future__ import annotations

from typing import Any

import pytest

from ondemand.errors import (
    ArgumentInvalid,
    ProcessGraphInvalid,
    ProcessUnsupported,
    ResourceNotFound,
)
from ondemand.graphref import graph_id_of, resolve_graph_references
from ondemand.processes import OPENEO_REGISTRY
from ondemand.udp import inline_user_processes

DATA = {"from_parameter": "data"}
SCALE = {
    "process_graph": {
        "m": {"process_id": "reduce_dimension", "arguments": {
            "data": DATA, "dimension": "t", "reducer": {"process_graph": {
                "r": {"process_id": "max", "arguments": {"data": DATA}, "result": True}}}}},
        "s": {"process_id": "apply", "result": True, "arguments": {
            "data": {"from_node": "m"}, "process": {"process_graph": {
                "x": {"process_id": "multiply", "result": True, "arguments": {
                    "x": {"from_parameter": "x"}, "y": {"from_parameter": "factor"}}}}}}},
    },
    "parameters": [{"name": "data"}, {"name": "factor", "optional": True, "default": 1}],
}


def call(**arguments: Any) -> dict[str, Any]:
    return {
        "load": {"process_id": "load_collection", "arguments": {"id": "c"}},
        "udp": {"process_id": "scale", "namespace": "user", "arguments": arguments},
        "save": {"process_id": "save_result", "result": True,
                 "arguments": {"data": {"from_node": "udp"}, "format": "GTiff"}},
    }


def lookup(stored: dict[str, Any]) -> Any:
    return lambda name: stored.get(name)


def test_a_call_is_replaced_by_the_stored_nodes_with_its_arguments() -> None:
    out = inline_user_processes(call(data={"from_node": "load"}, factor=10),
                                lookup({"scale": SCALE}), OPENEO_REGISTRY)
    assert set(out) == {"load", "udp/m", "udp", "save"}
    assert out["udp/m"]["arguments"]["data"] == {"from_node": "load"}
    reducer = out["udp/m"]["arguments"]["reducer"]["process_graph"]["r"]
    assert reducer["arguments"]["data"] == DATA  # the reducer's own parameter
    assert out["udp"]["arguments"]["data"] == {"from_node": "udp/m"}
    multiply = out["udp"]["arguments"]["process"]["process_graph"]["x"]["arguments"]
    assert multiply == {"x": {"from_parameter": "x"}, "y": 10}
    assert "result" not in out["udp"] and out["save"]["result"] is True


def test_defaults_fill_left_out_parameters_and_unknown_ones_are_refused() -> None:
    out = inline_user_processes(call(data={"from_node": "load"}), lookup({"scale": SCALE}),
                                OPENEO_REGISTRY)
    assert out["udp"]["arguments"]["process"]["process_graph"]["x"]["arguments"]["y"] == 1
    with pytest.raises(ArgumentInvalid, match="colour"):
        inline_user_processes(call(data={"from_node": "load"}, colour=1),
                              lookup({"scale": SCALE}), OPENEO_REGISTRY)
    with pytest.raises(ArgumentInvalid, match="'data' is missing"):
        inline_user_processes(call(), lookup({"scale": SCALE}), OPENEO_REGISTRY)


def test_unknown_user_processes_and_self_calls_are_refused() -> None:
    with pytest.raises(ProcessUnsupported, match="scale"):
        inline_user_processes(call(data=1), lookup({}), OPENEO_REGISTRY)
    loop = {"process_graph": {"a": {"process_id": "scale", "namespace": "user",
                                    "arguments": {}, "result": True}}}
    with pytest.raises(ProcessGraphInvalid, match="call itself"):
        inline_user_processes(call(), lookup({"scale": loop}), OPENEO_REGISTRY)


def test_graphs_without_calls_come_back_unchanged() -> None:
    doc = {"process_graph": call(data=1)}
    doc["process_graph"]["udp"]["process_id"] = "absolute"
    doc["process_graph"]["udp"].pop("namespace")
    assert inline_user_processes(doc, lookup({}), OPENEO_REGISTRY) is doc


@pytest.mark.parametrize(("uri", "error"), [
    ("http://[::1", ArgumentInvalid),
    ("http://elsewhere.example/process_graphs/a", ArgumentInvalid),
    ("http://testserver/process_graphs/a?x=1", ArgumentInvalid),
    ("http://testserver/users/bob/process_graphs/a", ResourceNotFound),
])
def test_bad_references(uri: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        graph_id_of(uri, "alice", {"testserver"})


def test_references_nest_and_stop_at_a_cycle() -> None:
    inner = {"process_id": "NDVI", "args": {"imagery": {"product_id": "c"}}}
    outer = {"process_id": "max_time", "args": {"imagery": {
        "process_id": "process_graph", "args": {"imagery": {"product_id": "c"},
                                                "uri": "/process_graphs/inner"}}}}
    stored = {"inner": inner, "outer": outer}
    doc = {"process_id": "process_graph",
           "args": {"imagery": {"product_id": "d"}, "uri": "/process_graphs/outer"}}
    out = resolve_graph_references(doc, "alice", stored.__getitem__, None)
    assert out == {"process_id": "max_time", "args": {"imagery": {
        "process_id": "NDVI", "args": {"imagery": {"product_id": "d"}}}}}
    stored["inner"] = {"process_id": "process_graph", "args": {
        "imagery": {"product_id": "c"}, "uri": "/process_graphs/outer"}}
    with pytest.raises(ProcessGraphInvalid, match="deep"):
        resolve_graph_references(doc, "alice", stored.__getitem__, None)


def test_calls_repeated_in_calls_stop_at_the_node_budget() -> None:
    def fan(inner: str) -> dict[str, Any]:
        nodes = {f"c{i}": {"process_id": inner, "namespace": "user", "arguments": {}}
                 for i in range(10)}
        nodes["c0"]["result"] = True
        return {"process_graph": nodes}

    stored = {f"p{level}": fan(f"p{level + 1}") for level in range(10)}
    stored["p10"] = {"process_graph": {"x": {"process_id": "absolute",
                                             "arguments": {"x": 1}, "result": True}}}
    doc = {"a": {"process_id": "p0", "namespace": "user", "arguments": {}, "result": True}}
    with pytest.raises(ProcessGraphInvalid, match="more than 200 nodes"):
        inline_user_processes(doc, lookup(stored), OPENEO_REGISTRY)


def test_references_repeated_in_references_stop_at_the_budget() -> None:
    def fan(inner: str) -> dict[str, Any]:
        ref = {"process_id": "process_graph", "args": {
            "imagery": {"product_id": "c"}, "uri": f"/process_graphs/{inner}"}}
        return {"process_id": "merge_cubes", "args": {"cube1": ref, "cube2": ref}}

    stored = {f"f{level}": fan(f"f{level + 1}") for level in range(10)}
    stored["f10"] = {"product_id": "c"}
    doc = {"process_id": "process_graph",
           "args": {"imagery": {"product_id": "d"}, "uri": "/process_graphs/f0"}}
    with pytest.raises(ProcessGraphInvalid, match="more than 5 stored graphs"):
        resolve_graph_references(doc, "alice", stored.__getitem__, None, 5)
