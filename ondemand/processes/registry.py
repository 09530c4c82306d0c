"""Process declarations and the immutable registry that holds them.

A :class:`Process` is declared once: id, aliases, description, parameters (with a
JSON-schema-ish ``schema``), return value, the draft's argument names, a validation
hook and the implementation. Parsing, validation, ``GET /processes`` and evaluation
all read that one declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import ArgumentInvalid, ProcessUnsupported
from ..graph import thaw
from .types import Check, ValueType

Implementation = Callable[[Mapping[str, Any], Any], Any]
"""``(arguments, ctx) -> value``: inputs arrive evaluated, child graphs as callables."""

Normalizer = Callable[[str, dict[str, Any]], dict[str, Any]]
"""``(node_id, arguments) -> arguments``: reshape the draft's arguments (tolerant of bad values)."""

Checker = Callable[[Check], ValueType]

DRAFT = "draft"
"""The 2018 draft's meanings: inclusive end dates (``/`` and ``/jobs/execute``)."""
OPENEO = "openeo"
"""openEO 1.x meanings: left-closed date intervals (the end is excluded)."""
"""Validate one node's arguments (types of inputs already known) and return its output type."""


@dataclass(frozen=True)
class Parameter:
    """One declared parameter of a process."""

    name: str
    description: str
    schema: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    """A JSON schema, or a list of alternatives (as openEO 1.2 writes them)."""
    required: bool = True
    default: Any = None

    def describe(self) -> dict[str, Any]:
        """The openEO 1.x parameter description."""
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "schema": thaw(self.schema),
        }
        if not self.required:
            out["optional"] = True
            out["default"] = thaw(self.default)
        return out


@dataclass(frozen=True)
class Process:
    """A process: its declaration, validation hook and implementation."""

    id: str
    summary: str
    description: str
    parameters: tuple[Parameter, ...]
    returns: Mapping[str, Any]
    implementation: Implementation
    check: Checker
    aliases: tuple[str, ...] = ()
    legacy: Mapping[str, str] = field(default_factory=dict)
    """The draft's argument names mapped to canonical ones (``imagery`` -> ``data``)."""
    normalize: Normalizer | None = None
    draft_args: Mapping[str, str] = field(default_factory=dict)
    """Draft argument names ``normalize`` reshapes (``left`` ...), with descriptions."""
    categories: tuple[str, ...] = ()
    openeo_normalize: Normalizer | None = None
    """Reshape openEO 1.x arguments to the canonical (draft) meaning (exclusive end dates)."""

    def parameter(self, name: str) -> Parameter | None:
        """The declared parameter of this name, if any."""
        for p in self.parameters:
            if p.name == name:
                return p
        return None

    def canonical_arguments(
        self, node_id: str, arguments: Mapping[str, Any], dialect: str = DRAFT
    ) -> dict[str, Any]:
        """Rename the draft's argument names, reshape them, and fill declared defaults.

        Unknown names are kept (validation reports them); giving both a draft name
        and its canonical name is an :class:`ArgumentInvalid`. In the ``openeo``
        dialect, ``openeo_normalize`` then rewrites 1.x meanings into canonical ones.
        """
        out: dict[str, Any] = {}
        for name, value in arguments.items():
            target = self.legacy.get(name, name)
            if target in out:
                raise ArgumentInvalid(
                    f"Node {node_id!r} ({self.id}): argument {name!r} duplicates {target!r}"
                )
            out[target] = value
        if self.normalize is not None:
            out = self.normalize(node_id, out)
        if dialect == OPENEO and self.openeo_normalize is not None:
            out = self.openeo_normalize(node_id, out)
        for p in self.parameters:
            if not p.required and p.name not in out:
                out[p.name] = p.default
        return out

    def openeo_description(self) -> dict[str, Any]:
        """The openEO 1.2 process description (``GET /processes`` of 1.2 lists these)."""
        return {
            "id": self.id,
            "summary": self.summary,
            "description": self.description,
            "categories": list(self.categories),
            "parameters": [p.describe() for p in self.parameters],
            "returns": thaw(self.returns),
        }

    def describe(self) -> dict[str, Any]:
        """The declaration in the draft's shape and openEO 1.x shape, merged in one dict.

        The draft-shape ``args`` lists the canonical parameters and then the draft's
        argument names that are accepted for them (never required).
        """
        args: dict[str, Any] = {}
        for p in self.parameters:
            entry: dict[str, Any] = {"description": p.description, "required": p.required}
            if not p.required:
                entry["default"] = thaw(p.default)
            args[p.name] = entry
        for old, new in self.legacy.items():
            args.setdefault(
                old, {"description": f"The draft's name for `{new}`.", "required": False}
            )
        for old, text in self.draft_args.items():
            args.setdefault(old, {"description": text, "required": False})
        return {
            "process_id": self.id,
            "id": self.id,
            "summary": self.summary,
            "description": self.description,
            "categories": list(self.categories),
            "args": args,
            "parameters": [p.describe() for p in self.parameters],
            "returns": thaw(self.returns),
        }


class Registry:
    """An immutable set of processes, looked up by id or alias (case-sensitive, then not).

    ``dialect`` (:data:`DRAFT` or :data:`OPENEO`) says how parsed arguments are read;
    :meth:`openeo` is the same processes read with openEO 1.x meanings.
    """

    def __init__(self, processes: Iterable[Process] = (), dialect: str = DRAFT) -> None:
        if dialect not in (DRAFT, OPENEO):
            raise ValueError(f"Unknown dialect {dialect!r}")
        self.dialect = dialect
        by_id: dict[str, Process] = {}
        names: dict[str, str] = {}
        for proc in processes:
            for name in (proc.id, *proc.aliases):
                if name in names and names[name] != proc.id:
                    raise ValueError(f"Process name {name!r} is used by {names[name]!r}")
                names[name] = proc.id
            by_id[proc.id] = proc
        self._processes: Mapping[str, Process] = MappingProxyType(by_id)
        self._names: Mapping[str, str] = MappingProxyType(names)
        self._folded: Mapping[str, str] = MappingProxyType(
            {name.lower(): pid for name, pid in names.items()}
        )

    def register(self, *processes: Process, overwrite: bool = False) -> Registry:
        """Return a new registry with ``processes`` added (replacing same ids if ``overwrite``)."""
        for proc in processes:
            if proc.id in self._processes and not overwrite:
                raise ValueError(f"Process {proc.id!r} is already registered")
        new_ids = {p.id for p in processes}
        kept = [p for pid, p in self._processes.items() if pid not in new_ids]
        return Registry([*kept, *processes], self.dialect)

    def openeo(self) -> Registry:
        """The same processes, with arguments read as openEO 1.x defines them."""
        return Registry(self._processes.values(), OPENEO)

    def canonical_id(self, name: str) -> str | None:
        """The canonical id of a process id or alias, or ``None``."""
        return self._names.get(name) or self._folded.get(name.lower())

    def get(self, name: str) -> Process:
        """The process of this id or alias, else :class:`ProcessUnsupported`."""
        pid = self.canonical_id(name)
        if pid is None:
            raise ProcessUnsupported(f"Process {name!r} is not supported")
        return self._processes[pid]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.canonical_id(name) is not None

    def __iter__(self) -> Iterator[Process]:
        return iter(sorted(self._processes.values(), key=lambda p: p.id))

    def __len__(self) -> int:
        return len(self._processes)

    @property
    def aliases(self) -> Mapping[str, str]:
        """Every accepted name (ids and aliases) mapped to its canonical id."""
        return self._names

    def describe(self, name: str) -> dict[str, Any]:
        """``GET /processes/{id}``: one process description (alias-aware)."""
        return self.get(name).describe()

    def list_processes(self) -> list[dict[str, Any]]:
        """``GET /processes``: every process description, sorted by id."""
        return [p.describe() for p in self]
