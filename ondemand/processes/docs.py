"""Render the process reference (``docs/processes.md``) from the declarations.

``python -m ondemand.processes.docs > docs/processes.md``; a test keeps the page current.
"""

from __future__ import annotations

import json
from typing import Any

from . import REGISTRY
from .registry import Registry


def _schema_text(schema: Any) -> str:
    """A short type text for a parameter schema (or a list of alternatives)."""
    if isinstance(schema, list):
        return " or ".join(dict.fromkeys(_schema_text(s) for s in schema))
    if isinstance(schema, dict):
        if "subtype" in schema:
            return str(schema["subtype"])
        if "anyOf" in schema:
            return " or ".join(_schema_text(s) for s in schema["anyOf"])
        kind = schema.get("type")
        if isinstance(kind, list):
            return " or ".join(str(k) for k in kind)
        if kind is not None:
            return str(kind)
    return "any"


def render_reference(registry: Registry = REGISTRY) -> str:
    """The Markdown reference of every process of ``registry``."""
    lines = [
        "# Processes",
        "",
        "Generated from the process declarations (`python -m ondemand.processes.docs`);",
        "the same declarations drive validation and `GET /processes`. Every process",
        "accepts its openEO 1.x arguments; the draft's names (`imagery`, `left`/`right`/",
        "`top`/`bottom`/`srs`, `from`/`to`, `data_id`) are accepted where listed.",
        "",
    ]
    for process in sorted(registry, key=lambda p: p.id):
        described = registry.describe(process.id)
        aliases = process.aliases
        lines.append(f"## `{process.id}`")
        lines.append("")
        if aliases:
            lines.append("Also: " + ", ".join(f"`{a}`" for a in aliases) + ".")
            lines.append("")
        lines.append(str(described.get("description") or described.get("summary", "")))
        lines.append("")
        lines.append("| argument | type | required | description |")
        lines.append("|---|---|---|---|")
        for param in described.get("parameters", []):
            required = "no" if param.get("optional") else "yes"
            default = param.get("default")
            text = str(param.get("description", "")).replace("\n", " ")
            if default is not None:
                text += f" Default: `{json.dumps(default)}`."
            schema = _schema_text(param.get("schema"))
            lines.append(f"| `{param['name']}` | {schema} | {required} | {text} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_reference(), end="")
