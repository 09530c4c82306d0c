"""aggregate_temporal_period: reduce the dates of each calendar period (day … decade).

Each period present in the data becomes one time step, labelled with the period's
first instant (UTC): a month ``2018-03`` is ``2018-03-01T00:00:00Z``, the season
``djf`` of 2018 starts on 2017-12-01, the third dekad of a month on its 21st.
Periods without any date are not added.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from ..cube import Cube
from ..errors import ArgumentInvalid
from .context import EvalContext, LabelledArray, as_cube
from .params import CUBE_RETURNS, DATA
from .reduce import _field
from .registry import Parameter, Process
from .types import ANY, ARRAY, INTEGER, NUMBER, PROCESS_GRAPH, RASTER_CUBE, Check, ValueType


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _day(t: datetime) -> datetime:
    return datetime(t.year, t.month, t.day, tzinfo=UTC)


def _dekad(t: datetime) -> datetime:
    return datetime(t.year, t.month, min(21, (t.day - 1) // 10 * 10 + 1), tzinfo=UTC)


def _season(t: datetime, months: int, first: int) -> datetime:
    """Start of the ``months``-long season that ``t`` falls in, seasons starting at ``first``."""
    shifted = (t.month - first) % 12
    start_month = (t.month - shifted % months - 1) % 12 + 1
    year = t.year - (1 if start_month > t.month else 0)
    return datetime(year, start_month, 1, tzinfo=UTC)


PERIODS: Mapping[str, Callable[[datetime], datetime]] = {
    "hour": lambda t: datetime(t.year, t.month, t.day, t.hour, tzinfo=UTC),
    "day": _day,
    "week": lambda t: _day(t) - timedelta(days=t.weekday()),
    "dekad": _dekad,
    "month": lambda t: datetime(t.year, t.month, 1, tzinfo=UTC),
    "season": lambda t: _season(t, 3, 12),
    "tropical-season": lambda t: _season(t, 6, 11),
    "year": lambda t: datetime(t.year, 1, 1, tzinfo=UTC),
    "decade": lambda t: datetime(t.year - t.year % 10, 1, 1, tzinfo=UTC),
    "decade-ad": lambda t: datetime(t.year - (t.year - 1) % 10, 1, 1, tzinfo=UTC),
}
"""Period name -> the start of the period holding an instant (UTC)."""


def period_groups(times: tuple[datetime, ...], period: str) -> dict[datetime, list[int]]:
    """Indices of ``times`` per period start, in time order."""
    start_of = PERIODS[period]
    groups: dict[datetime, list[int]] = {}
    for i, t in enumerate(times):
        groups.setdefault(start_of(_utc(t)), []).append(i)
    return dict(sorted(groups.items()))


def _check(c: Check) -> ValueType:
    cube = c.timed_cube()
    if c.literal("period") not in PERIODS:
        raise c.invalid("period", f"expected one of {', '.join(PERIODS)}, got "
                        f"{c.literal('period')!r}")
    c.time_dimension()
    result = c.child_graph("reducer", {"data": ValueType(ARRAY, dimension="t")})
    if result.kind not in (NUMBER, INTEGER, "null", ANY):
        raise c.invalid("reducer", f"must compute one value per pixel, not {result.describe()}")
    return ValueType(RASTER_CUBE, has_time=True, bands=cube.bands)


def _aggregate(args: Mapping[str, Any], ctx: EvalContext) -> Cube:
    cube = as_cube(args["data"], ctx)
    if cube.times is None:
        raise ArgumentInvalid("aggregate_temporal_period: the cube has no time dimension")
    steps = []
    groups = period_groups(cube.times, args["period"])
    for indices in groups.values():
        part = cube.data[indices]
        stack = LabelledArray(part, tuple(cube.times[i].isoformat() for i in indices))
        steps.append(_field(args["reducer"](data=stack, context=args["context"]),
                            cube.data.shape[1:]))
    data = np.ma.MaskedArray(np.stack([np.ma.getdata(s) for s in steps]),
                             mask=np.stack([np.ma.getmaskarray(s) for s in steps]))
    return cube.with_data(data, times=tuple(groups))


AGGREGATE_TEMPORAL_PERIOD = Process(
    id="aggregate_temporal_period",
    summary="Temporal aggregations based on calendar hierarchies",
    description="Reduces the dates of each calendar period with the child graph `reducer` "
                "(e.g. `mean`): hour, day, week (ISO, from Monday), dekad (days 1-10, 11-20, "
                "21-end of month), month, season (djf, mam, jja, son), tropical-season (ndjfma, "
                "mjjaso), year, decade (2010-2019) or decade-ad (2011-2020). Each period with "
                "data becomes one time step labelled with its first instant in UTC (the season "
                "djf of 2018 starts on 2017-12-01).",
    parameters=(
        DATA,
        Parameter("period", "The calendar period.", {"type": "string", "enum": list(PERIODS)}),
        Parameter("reducer", "A child process graph reducing the period's values to one.",
                  {"type": "object", "subtype": PROCESS_GRAPH, "parameters": [
                      {"name": "data", "description": "The values of one period.",
                       "schema": {"type": "array", "subtype": "labeled-array"}},
                      {"name": "context", "description": "The `context` argument.",
                       "schema": {"description": "Any data type."}}]}),
        Parameter("dimension", "The temporal dimension (null or 't').",
                  {"type": ["string", "null"]}, required=False),
        Parameter("context", "Data passed to the reducer.", {"description": "Any data type."},
                  required=False),
    ),
    returns=CUBE_RETURNS,
    implementation=_aggregate,
    check=_check,
    categories=("cubes", "aggregate & resample"),
)

PROCESSES = (AGGREGATE_TEMPORAL_PERIOD,)
