"""What the application holds while it runs: settings, catalog, engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request

from ondemand.catalog import Catalog
from ondemand.demo import ensure_demo_catalog
from ondemand.engine import Engine
from ondemand.settings import Settings


@dataclass
class AppState:
    """The running server's shared objects, built once at start-up."""

    settings: Settings
    catalog: Catalog
    engine: Engine

    def close(self) -> None:
        """Release threads and files."""
        self.engine.close()


def build_state(settings: Settings) -> AppState:
    """Load (and on first start generate) the catalogs and build the engine."""
    paths: list[Path] = list(settings.catalogs)
    if settings.uses_demo:
        paths += ensure_demo_catalog(settings.data_dir)
    catalog = Catalog.load(paths)
    return AppState(settings=settings, catalog=catalog, engine=Engine(catalog, settings))


def state_of(request: Request) -> AppState:
    """The application state of the app serving ``request``."""
    state = request.app.state.ondemand
    assert isinstance(state, AppState)
    return state
