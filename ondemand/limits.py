"""What one synchronous evaluation may hold in memory, read and spend in time.

``max_pixels`` counts the pixels one evaluation pass holds at once: a read of the
whole time series holds window x dates x bands; a reduction over time that streams
(see :mod:`ondemand.stream`) holds window x bands x the dates of one group, whatever
the number of dates. The time budget (``deadline``) bounds everything else.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .errors import EvaluationTimedOut, PixelLimitExceeded


@dataclass(frozen=True)
class Limits:
    """What one synchronous evaluation may hold, read and how long it may take."""

    max_pixels: int | None = None
    """Pixels one pass holds at once (window x bands x dates read together)."""
    max_dates: int | None = None
    """Dates read by one load (streamed or not)."""
    deadline: float | None = None
    """``time.monotonic()`` after which reading stops with EvaluationTimedOut."""

    def check_time(self) -> None:
        """Raise EvaluationTimedOut once the deadline has passed."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise EvaluationTimedOut(
                "The evaluation took longer than the time-out for synchronous requests; use a "
                "smaller area, fewer dates, a coarser resolution, or a batch job"
            )

    def check_dates(self, count: int, collection_id: str) -> None:
        """PixelLimitExceeded when one load reads more than ``max_dates`` dates."""
        if self.max_dates is not None and count > self.max_dates:
            raise PixelLimitExceeded(
                f"The request reads {count} dates of {collection_id!r}, over the "
                f"limit of {self.max_dates} for synchronous requests; narrow the date range or "
                "use a batch job"
            )

    def check_pixels(self, held: int) -> None:
        """PixelLimitExceeded when a pass holds more than ``max_pixels`` pixels at once."""
        if self.max_pixels is not None and held > self.max_pixels:
            raise PixelLimitExceeded(
                f"The request holds {held:,} pixels at once (window x bands x dates read "
                f"together), over the limit of {self.max_pixels:,} for synchronous requests; "
                "use a smaller area or date range, a coarser output resolution, or a batch job"
            )


NO_LIMITS = Limits()
