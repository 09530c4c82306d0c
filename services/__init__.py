"""The HTTP layer: a thin starlette application over the ondemand engine."""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
