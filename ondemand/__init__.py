"""ondemand: on-demand evaluation of Earth-observation process graphs on any window."""

from __future__ import annotations

from .cube import Cube
from .engine import Engine
from .evaluate import CompiledGraph, compile_graph, evaluate
from .window import Window

__all__ = ["CompiledGraph", "Cube", "Engine", "Window", "compile_graph", "evaluate"]
__version__ = "0.1.0"
