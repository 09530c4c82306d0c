"""Band-math expressions: an allow-list parse with ``ast``, evaluation with numexpr.

Allowed: band names, numbers, ``+ - * / **`` (the exponent must be a number of at
most :data:`MAX_EXPONENT` in magnitude), comparisons, ``& | ~``, ``where(c, a, b)``
and the math functions in :data:`FUNCTIONS`. Nothing is ever passed to ``eval``;
numexpr only sees text that passed the allow-list. Several expressions may be
separated by ``;`` (one output band each).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass

import numexpr
import numpy as np

from ..errors import ArgumentInvalid

MAX_LENGTH = 2000
MAX_EXPONENT = 16
FUNCTIONS: Mapping[str, int] = {
    "where": 3, "abs": 1, "sqrt": 1, "exp": 1, "expm1": 1, "log": 1, "log10": 1, "log1p": 1,
    "sin": 1, "cos": 1, "tan": 1, "arcsin": 1, "arccos": 1, "arctan": 1, "arctan2": 2,
    "sinh": 1, "cosh": 1, "tanh": 1, "arcsinh": 1, "arccosh": 1, "arctanh": 1,
    "floor": 1, "ceil": 1,
}
"""Allowed functions and their number of arguments."""

_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.BitAnd, ast.BitOr)
_UNARY = (ast.UAdd, ast.USub, ast.Invert)
_COMPARE = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Call, ast.Name, ast.Constant,
          ast.Load, *_BINOPS, *_UNARY, *_COMPARE)


@dataclass(frozen=True)
class Expression:
    """One checked expression and the band names it reads."""

    text: str
    names: tuple[str, ...]

    def evaluate(self, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        """Evaluate with numexpr on arrays keyed by the expression's names."""
        local = {name: arrays[name] for name in self.names}
        out = numexpr.evaluate(self.text, local_dict=local, global_dict={})
        return np.asarray(out)


def parse_expressions(text: object) -> tuple[Expression, ...]:
    """Check ``;``-separated expressions against the allow-list (ArgumentInvalid on the token)."""
    if not isinstance(text, str) or not text.strip():
        raise ArgumentInvalid(f"expected an expression string, got {text!r}")
    if len(text) > MAX_LENGTH:
        raise ArgumentInvalid(f"the expression is longer than {MAX_LENGTH} characters")
    parts = [p.strip() for p in text.split(";")]
    if any(not p for p in parts):
        raise ArgumentInvalid(f"empty expression in {text!r}")
    return tuple(_parse_one(p) for p in parts)


def _parse_one(text: str) -> Expression:
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        detail = getattr(exc, "msg", None) or type(exc).__name__
        raise ArgumentInvalid(f"cannot parse {text!r}: {detail}") from None
    names: dict[str, None] = {}
    calls: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            raise ArgumentInvalid(f"{_token(text, node)!r} is not allowed in an expression")
        if isinstance(node, ast.Call):
            _check_call(text, node)
            calls.add(id(node.func))
        elif isinstance(node, ast.Name) and id(node) not in calls:
            if node.id.startswith("_") or node.id in FUNCTIONS:
                raise ArgumentInvalid(f"{node.id!r} is not allowed as a band name")
            names[node.id] = None
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise ArgumentInvalid(f"{_token(text, node)!r} is not allowed in an expression")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            _check_exponent(text, node.right)
        elif isinstance(node, ast.Compare) and len(node.ops) != 1:
            raise ArgumentInvalid(f"chained comparison {_token(text, node)!r} is not allowed; "
                                  "use (a < b) & (b < c)")
    return Expression(text, tuple(names))


def _check_call(text: str, node: ast.Call) -> None:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        raise ArgumentInvalid(f"function {_token(text, node.func)!r} is not allowed")
    if node.keywords:
        raise ArgumentInvalid(f"keyword arguments in {_token(text, node)!r} are not allowed")
    if len(node.args) != FUNCTIONS[node.func.id] or any(
        isinstance(a, ast.Starred) for a in node.args
    ):
        raise ArgumentInvalid(
            f"{node.func.id}() takes {FUNCTIONS[node.func.id]} argument(s): {_token(text, node)!r}"
        )


def _check_exponent(text: str, node: ast.expr) -> None:
    value = node
    sign = 1
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub | ast.UAdd):
        sign = -1 if isinstance(value.op, ast.USub) else 1
        value = value.operand
    if (
        not isinstance(value, ast.Constant)
        or isinstance(value.value, bool)
        or not isinstance(value.value, int | float)
        or abs(sign * value.value) > MAX_EXPONENT
    ):
        raise ArgumentInvalid(
            f"exponent {_token(text, node)!r} must be a number between -{MAX_EXPONENT} and "
            f"{MAX_EXPONENT}"
        )


def _token(text: str, node: ast.AST) -> str:
    return ast.get_source_segment(text, node) or type(node).__name__
