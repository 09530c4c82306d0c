"""Reducers over time that take one date at a time: running min, max, sum, moments...

Each holds O(bands x y x x) state and gives exactly what the whole-stack reducer of
:mod:`.math` gives on the stacked dates (same float precision, same order of
additions); ``sd`` uses Welford's running moments, equal to the two-pass formula up
to float rounding. Median and quantiles need every value and have no running form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from .math import _finish

RUNNING = ("min", "max", "mean", "sum", "count", "first", "last", "sd")
"""Reducer names with a running form."""


class Running:
    """Fold dates into a reduction: :meth:`add` each ``(bands, y, x)`` layer, then ``result``."""

    def __init__(self, ignore_nodata: bool = True) -> None:
        self.ignore_nodata = ignore_nodata
        self.dates = 0
        self._any_masked: np.ndarray | None = None

    def add(self, layer: np.ma.MaskedArray) -> None:
        """Fold one date's values (masked and non-finite values do not contribute)."""
        mask = np.ma.getmaskarray(layer)
        if self._any_masked is None:
            self._any_masked = mask.copy()
            self._start(layer)
        elif not self.ignore_nodata:
            self._any_masked |= mask
        self._add(layer, mask)
        self.dates += 1

    def result(self) -> np.ma.MaskedArray:
        """The reduction of every date added so far, ``(bands, y, x)``."""
        if self._any_masked is None:
            raise ValueError("no date was added")
        out, empty = self._result()
        if out.dtype.kind in "iu":
            return np.ma.MaskedArray(out, mask=np.zeros(out.shape, bool))
        return _finish(out, empty if self.ignore_nodata else empty | self._any_masked)

    def _start(self, layer: np.ma.MaskedArray) -> None:
        raise NotImplementedError

    def _add(self, layer: np.ma.MaskedArray, mask: np.ndarray) -> None:
        raise NotImplementedError

    def _result(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


def _as_float64(layer: np.ma.MaskedArray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values as float64 and where they count (unmasked and finite), as ``math._valid``."""
    values = np.asarray(np.ma.getdata(layer), dtype=np.float64)
    return values, ~mask & np.isfinite(values)


class _Extreme(Running):
    """Running min or max in the data's own float precision (exact)."""

    largest = False

    def _start(self, layer: np.ma.MaskedArray) -> None:
        dtype = layer.dtype if layer.dtype.kind == "f" else np.dtype(np.float64)
        fill = dtype.type(-np.inf if self.largest else np.inf)
        self._fill = fill
        self._acc = np.full(layer.shape, fill, dtype)
        self._seen = np.zeros(layer.shape, bool)

    def _add(self, layer: np.ma.MaskedArray, mask: np.ndarray) -> None:
        values = np.asarray(np.ma.getdata(layer), dtype=self._acc.dtype)
        ok = ~mask & np.isfinite(values)
        pick = np.maximum if self.largest else np.minimum
        pick(self._acc, np.where(ok, values, self._fill), out=self._acc)
        self._seen |= ok

    def _result(self) -> tuple[np.ndarray, np.ndarray]:
        return self._acc, ~self._seen


class RunningMin(_Extreme):
    """Smallest valid value."""


class RunningMax(_Extreme):
    """Largest valid value."""

    largest = True


class RunningSum(Running):
    """Sum (and count) of valid values in float64, added date after date."""

    def _start(self, layer: np.ma.MaskedArray) -> None:
        self._sum = np.zeros(layer.shape, np.float64)
        self._n = np.zeros(layer.shape, np.int64)

    def _add(self, layer: np.ma.MaskedArray, mask: np.ndarray) -> None:
        values, ok = _as_float64(layer, mask)
        self._sum += np.where(ok, values, 0.0)
        self._n += ok

    def _result(self) -> tuple[np.ndarray, np.ndarray]:
        return self._sum, self._n == 0


class RunningMean(RunningSum):
    """Mean of valid values."""

    def _result(self) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):
            return self._sum / self._n, self._n == 0


class RunningCount(RunningSum):
    """Number of valid values (int32; every date with ``ignore_nodata`` false)."""

    def _result(self) -> tuple[np.ndarray, np.ndarray]:
        if self.ignore_nodata:
            count = self._n.astype(np.int32)
        else:
            count = np.full(self._n.shape, self.dates, np.int32)
        return count, np.zeros(count.shape, bool)


class RunningFirst(Running):
    """First valid value (with ``ignore_nodata`` false: the first date's value)."""

    last = False

    def _start(self, layer: np.ma.MaskedArray) -> None:
        self._value = np.zeros(layer.shape, np.float64)
        self._seen = np.zeros(layer.shape, bool)

    def _add(self, layer: np.ma.MaskedArray, mask: np.ndarray) -> None:
        values, ok = _as_float64(layer, mask)
        if not self.ignore_nodata:
            if self.last or self.dates == 0:
                self._value, self._seen = values, ok
            return
        take = ok if self.last else ok & ~self._seen
        np.copyto(self._value, values, where=take)
        self._seen |= ok

    def _result(self) -> tuple[np.ndarray, np.ndarray]:
        return self._value, ~self._seen

    def result(self) -> np.ma.MaskedArray:
        """The picked values; with ``ignore_nodata`` false masked only where that date is."""
        if not self.ignore_nodata and self._any_masked is not None:
            return _finish(self._value, ~self._seen)
        return super().result()


class RunningLast(RunningFirst):
    """Last valid value (with ``ignore_nodata`` false: the last date's value)."""

    last = True


class RunningSd(Running):
    """Sample standard deviation by Welford's running mean and sum of squared deviations."""

    def _start(self, layer: np.ma.MaskedArray) -> None:
        self._n = np.zeros(layer.shape, np.int64)
        self._mean = np.zeros(layer.shape, np.float64)
        self._m2 = np.zeros(layer.shape, np.float64)

    def _add(self, layer: np.ma.MaskedArray, mask: np.ndarray) -> None:
        values, ok = _as_float64(layer, mask)
        self._n += ok
        delta = np.where(ok, values - self._mean, 0.0)
        with np.errstate(all="ignore"):
            self._mean += np.where(ok, delta / self._n, 0.0)
        self._m2 += np.where(ok, delta * (values - self._mean), 0.0)

    def _result(self) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):
            return np.sqrt(self._m2 / (self._n - 1)), self._n < 2


_CLASSES: Mapping[str, Callable[[bool], Running]] = {
    "min": RunningMin, "max": RunningMax, "mean": RunningMean, "sum": RunningSum,
    "count": RunningCount, "first": RunningFirst, "last": RunningLast, "sd": RunningSd,
}


def running(name: str, ignore_nodata: bool = True) -> Running:
    """A fresh running reducer for ``name`` (one of :data:`RUNNING`)."""
    return _CLASSES[name](ignore_nodata)
