"""Batch jobs: run a job once over its whole extent on Dask distributed and keep the results.

The job's output window is split into chunks (:mod:`.chunks`); Dask workers evaluate
each chunk with their own engine (:mod:`.worker`); the server writes the chunks into a
tiled GeoTIFF with windowed writes and converts it to a COG or a netCDF file
(:mod:`.assemble`), described by a STAC item (:mod:`.results`). Job state lives in the
job store (:mod:`.store`); :mod:`.runner` queues, runs and recovers jobs.
"""

from __future__ import annotations
