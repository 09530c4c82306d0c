"""Property-based fuzzing of the graph parser and the OGC KVP parsers.

Whatever the input, only the documented error types may escape: ``OnDemandError``
subclasses from the graph parser and validator, ``OWSException`` or ``OnDemandError``
from the KVP parsers (the endpoints turn exactly those into 4xx answers). Runs are
derandomized so CI is reproducible.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ondemand.catalog import Catalog
from ondemand.coverage import RangeType, coverage_of, window_for
from ondemand.dialects import parse_graph
from ondemand.engine import Engine
from ondemand.errors import OnDemandError
from ondemand.layer import Layer, make_layer
from ondemand.processes import REGISTRY
from ondemand.settings import Settings
from services.ogc.common import Kvp, OWSException
from services.ogc.wcs import endpoints as wcs_service
from services.ogc.wcs.subsets import coverage_request
from services.ogc.wcs.v10 import get_coverage_window
from services.ogc.wcs.v20 import get_coverage_request
from services.ogc.wmts.endpoints import _kvp_tile
from services.ogc.wmts.info import validate_tile
from tests.support.seed import use_case_1_job

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

# --------------------------------------------------------------------------- strategies

KEYS = st.sampled_from([
    "process_id", "args", "arguments", "result", "from_node", "from_parameter",
    "process_graph", "product_id", "imagery", "data", "red", "nir", "left", "right",
    "top", "bottom", "srs", "from", "to", "id", "spatial_extent", "temporal_extent",
    "bands", "west", "east", "south", "north", "crs", "expression", "reducer",
    "dimension", "description", "namespace", "scl_classes",
])
PROCESS_IDS = st.sampled_from([
    "min_time", "max_time", "NDVI", "ndvi", "filter_bbox", "filter_daterange",
    "load_collection", "get_data", "band_math", "reduce_dimension", "mask", "max",
    "mean", "zonal_statistics", "filter_bands", "nope", "", "__import__",
])
NASTY = [10**400, -(10**400), 2**63, 2**31, 1e308, -1e308, -0.0, float("nan"), "\x00", "x" * 3000]
"""Scalars that break numeric conversions: beyond float range, int64, NaN, NUL, long text."""
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | PROCESS_IDS
    | st.sampled_from(["S2_L2A_T32TPS_20M", "B04", "B8A", "EPSG:32632", "2017-01-01", "t"])
    | st.sampled_from(NASTY)
)


def json_like(leaves: st.SearchStrategy[Any] = SCALARS) -> st.SearchStrategy[Any]:
    """Arbitrary JSON-ish documents whose keys are often the graph vocabulary."""
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4)
        | st.dictionaries(KEYS | st.text(max_size=6), inner, max_size=5),
        max_leaves=25,
    )


def _seed_graphs() -> list[Any]:
    nested = use_case_1_job()["process_graph"]
    flat = json.loads((EXAMPLES / "max_ndvi_cloudfree_flat.json").read_text())["process_graph"]
    return [nested, flat, nested["args"]["imagery"]]


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path (keys and indexes) into a JSON document, the root included."""
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from _paths(value, (*prefix, index))


def _mutate(doc: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    """``doc`` with the element at ``path`` replaced, deleted, duplicated or wrapped."""
    if not path:
        return value if action != "wrap" else {"process_graph": doc}
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "delete":
        del parent[last]
    elif action == "wrap":
        wrapped = parent[last]
        parent[last] = [wrapped] if isinstance(value, bool) else {"process_graph": wrapped}
    elif action == "self" and isinstance(parent, dict):
        parent[last] = {"from_node": last} if isinstance(last, str) else value
    elif action == "rename" and isinstance(parent, dict):
        parent[str(value)[:8] if value is not None else ""] = parent.pop(last)
    else:
        parent[last] = copy.deepcopy(doc)  # a copy of the whole graph inside itself
    return doc


@st.composite
def mutated_graphs(draw: st.DrawFn) -> Any:
    """A valid graph with one to three mutations applied."""
    doc = copy.deepcopy(draw(st.sampled_from(_seed_graphs())))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "nasty", "delete", "wrap", "self", "rename",
                                       "nest"]))
        if action == "nasty":
            doc = _mutate(doc, path, "replace", draw(st.sampled_from(NASTY)))
        else:
            doc = _mutate(doc, path, action, draw(json_like()))
    return doc


@st.composite
def graphs_with_a_nasty_leaf(draw: st.DrawFn) -> Any:
    """A valid graph with one scalar (a number, a string) replaced by a nasty scalar."""
    doc = copy.deepcopy(draw(st.sampled_from(_seed_graphs())))
    leaves = [p for p in _paths(doc) if p and _at(doc, p) is not None
              and not isinstance(_at(doc, p), dict | list)]
    return _mutate(doc, draw(st.sampled_from(leaves)), "replace", draw(st.sampled_from(NASTY)))


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


# --------------------------------------------------------------------------- graph parser


@pytest.fixture(scope="module")
def engine(demo_catalog: Catalog) -> Iterator[Engine]:
    engine = Engine(demo_catalog, Settings(max_graph_nodes=50, max_graph_depth=16))
    yield engine
    engine.close()


def _compile_or_documented_error(engine: Engine, doc: Any) -> None:
    """Parse (both entry points) and validate+plan: only OnDemandError may escape."""
    try:
        parse_graph(doc, REGISTRY, max_nodes=50, max_depth=16)
    except OnDemandError:
        pass
    try:
        engine.compile(doc)
    except OnDemandError as exc:
        assert exc.code and exc.message


@FUZZ
@given(doc=json_like())
def test_arbitrary_documents_raise_only_documented_errors(engine: Engine, doc: Any) -> None:
    _compile_or_documented_error(engine, doc)


@FUZZ
@given(doc=st.fixed_dictionaries({"process_id": PROCESS_IDS, "args": json_like()}))
def test_arbitrary_nested_nodes_raise_only_documented_errors(engine: Engine, doc: Any) -> None:
    _compile_or_documented_error(engine, doc)


@FUZZ
@given(doc=mutated_graphs())
def test_mutated_valid_graphs_raise_only_documented_errors(engine: Engine, doc: Any) -> None:
    _compile_or_documented_error(engine, doc)


@FUZZ
@given(doc=graphs_with_a_nasty_leaf())
def test_nasty_scalars_in_valid_graphs_raise_only_documented_errors(
    engine: Engine, doc: Any
) -> None:
    _compile_or_documented_error(engine, doc)


def test_seed_graphs_compile(engine: Engine) -> None:
    """The mutation seeds are valid: the properties start from real graphs."""
    for doc in _seed_graphs():
        assert engine.compile(doc).graph.nodes


# --------------------------------------------------------------------------- KVP parsers

NAMES = st.sampled_from([
    "SERVICE", "REQUEST", "VERSION", "LAYER", "STYLE", "FORMAT", "TILEMATRIXSET",
    "TILEMATRIX", "TILEROW", "TILECOL", "TIME", "INFOFORMAT", "I", "J", "COVERAGE",
    "COVERAGEID", "CRS", "RESPONSE_CRS", "BBOX", "WIDTH", "HEIGHT", "RESX", "RESY",
    "SUBSET", "SUBSET0", "SUBSETTINGCRS", "OUTPUTCRS", "SCALESIZE", "SIZE", "SCALEFACTOR",
    "SCALEAXES", "SCALEEXTENT", "MEDIATYPE", "ACCEPTVERSIONS", "service", "Request",
])
VALUES = st.sampled_from([
    "", " ", "0", "1", "-1", "2147483648", "9" * 30, "1e999", "nan", "inf", "٣", "²",
    "WMTS", "WCS", "GetTile", "GetCoverage", "1.0.0", "2.0.1", "default", "image/png",
    "image/tiff", "GeoTIFF", "WebMercatorQuad", "WorldCRS84Quad", "EPSG:4326",
    "EPSG:32632", "EPSG:0", "EPSG:999999", "urn:ogc:def:crs:EPSG::4326",
    "http://www.opengis.net/def/crs/EPSG/0/4326", "2017-01-04", "2017-01-04/2017-01-20",
    "9999-99-99", "E(652000,660000)", "N(5161000,5170000)", "E(1,0)", "E(", "ansi(\"x\")",
    "x(1)", "E(0:1)", "E(10)", "Lat(46.6,46.7)", "Long(11,11.1)", "E,EPSG:4326(11,11.1)",
    "652000,5161000,672000,5181000", "0,0,1e12,1e12", "1,0,0,1", "a,b,c,d",
    "-180,-90,180,90", "\x00", "../etc/passwd", "<x/>",
]) | st.text(max_size=20)
KVPS = st.lists(st.tuples(NAMES | st.text(max_size=8), VALUES), max_size=12)
OWS_OR_ENGINE = (OWSException, OnDemandError)


@pytest.fixture(scope="module")
def layer(engine: Engine) -> Layer:
    graph = copy.deepcopy(use_case_1_job()["process_graph"]["args"]["imagery"])
    return make_layer("job1", "NDVI series", engine.compile(graph))


@FUZZ
@given(items=KVPS, name=NAMES)
def test_kvp_accessors_raise_only_ows_exceptions(items: list[tuple[str, str]], name: str) -> None:
    kvp = Kvp(items)
    assert kvp.names() == list(dict.fromkeys(n.lower() for n, _ in items))
    kvp.get(name)
    kvp.getall(name)
    for call in (
        lambda: kvp.require(name),
        lambda: kvp.integer(name),
        lambda: kvp.choice(name, ["GetTile", "image/png"], case=False),
    ):
        try:
            call()
        except OWSException as exc:
            assert exc.locator == name.upper()
            assert exc.http_status == 400


@FUZZ
@given(items=KVPS)
def test_wmts_tile_parser_raises_only_ows_exceptions(
    layer: Layer, items: list[tuple[str, str]]
) -> None:
    kvp = Kvp(items)
    try:
        tile = _kvp_tile(kvp, layer)
        validate_tile(layer, tile)
    except OWS_OR_ENGINE:
        pass


@FUZZ
@given(items=KVPS)
def test_wcs_parsers_raise_only_ows_exceptions(
    layer: Layer, items: list[tuple[str, str]]
) -> None:
    kvp = Kvp(items)
    coverage = coverage_of(layer, RangeType(("ndvi",)))
    for call in (
        lambda: wcs_service._negotiate(kvp, "2.0.1"),
        lambda: wcs_service._operation(kvp),
        lambda: window_for(coverage, coverage_request(coverage, get_coverage_request(kvp))),
        lambda: get_coverage_window(coverage, kvp),
    ):
        try:
            call()
        except OWS_OR_ENGINE:
            pass
