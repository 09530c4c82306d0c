"""Band-math expressions: an allow-list parse with ``ast``, evaluation with numexpr.

Allowed: band names, numbers, ``+ - * / **`` (the exponent must be a number of at
most :data:`MAX_EXPONENT` in magnitude), comparisons, ``& | ~``, ``where(c, a, b)``
and the math functions in :data:`FUNCTIONS`. Nothing is ever passed to ``eval``;
numexpr only sees text that passed the allow-list. Several expressions may be
separated by ``;`` (one output band each).

Before numexpr sees an expression its operand kinds are checked (bands are numbers;
comparisons give conditions): ``& | ~`` and the first argument of ``where`` take
conditions, arithmetic and functions take numbers, literals are at most
:data:`MAX_LITERAL` in magnitude, and integer literals reach numexpr as floats. Any
error numexpr still raises becomes an ArgumentInvalid naming the expression.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numexpr
import numpy as np

from ..errors import ArgumentInvalid

MAX_LENGTH = 2000
MAX_EXPONENT = 16
MAX_LITERAL = 1e38
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
    compiled: str = ""

    def evaluate(self, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        """Evaluate with numexpr on arrays keyed by the expression's names."""
        local = {name: arrays[name] for name in self.names}
        try:
            out = numexpr.evaluate(self.compiled or self.text, local_dict=local,
                                   global_dict={})
        except (NotImplementedError, ValueError, TypeError, KeyError, OverflowError,
                ZeroDivisionError, SyntaxError, RuntimeError) as exc:
            raise ArgumentInvalid(f"cannot evaluate {self.text!r}: {exc}") from None
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
            if not math.isfinite(node.value) or abs(node.value) > MAX_LITERAL:
                raise ArgumentInvalid(f"the number {_token(text, node)} in {text!r} is not "
                                      f"finite or larger than {MAX_LITERAL:g} in magnitude")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            _check_exponent(text, node.right)
        elif isinstance(node, ast.Compare) and len(node.ops) != 1:
            raise ArgumentInvalid(f"chained comparison {_token(text, node)!r} is not allowed; "
                                  "use (a < b) & (b < c)")
    assert isinstance(tree, ast.Expression)
    _kind(text, tree.body)
    return Expression(text, tuple(names), ast.unparse(_FloatLiterals().visit(tree)))


_BOOL, _NUMBER = "a condition", "a number"


def _kind(text: str, node: ast.expr) -> str:
    """The kind of value ``node`` gives; ArgumentInvalid where an operand has the wrong kind."""
    if isinstance(node, ast.Name | ast.Constant):
        return _NUMBER
    if isinstance(node, ast.Compare):
        left, right = _kind(text, node.left), _kind(text, node.comparators[0])
        if left != right or (left == _BOOL and not isinstance(node.ops[0], ast.Eq | ast.NotEq)):
            raise ArgumentInvalid(f"cannot compare {left} with {right} in {_token(text, node)!r}"
                                  f" (expression {text!r})")
        return _BOOL
    if isinstance(node, ast.UnaryOp):
        want = _BOOL if isinstance(node.op, ast.Invert) else _NUMBER
        _expect(text, node.operand, want, node)
        return want
    if isinstance(node, ast.BinOp):
        want = _BOOL if isinstance(node.op, ast.BitAnd | ast.BitOr) else _NUMBER
        _expect(text, node.left, want, node)
        _expect(text, node.right, want, node)
        return want
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    if node.func.id == "where":
        _expect(text, node.args[0], _BOOL, node)
        kind = _kind(text, node.args[1])
        _expect(text, node.args[2], kind, node)
        return kind
    for arg in node.args:
        _expect(text, arg, _NUMBER, node)
    return _NUMBER


def _expect(text: str, node: ast.expr, want: str, parent: ast.AST) -> None:
    got = _kind(text, node)
    if got != want:
        hint = ("; & | ~ combine conditions such as (B04 > 0.2), not band values"
                if want == _BOOL else "; use where(condition, 1, 0) for a number")
        raise ArgumentInvalid(f"{_token(text, node)!r} is {got} but {_token(text, parent)!r} "
                              f"needs {want} (expression {text!r}){hint}")


class _FloatLiterals(ast.NodeTransformer):
    """Integer literals as floats, so numexpr never computes in (overflowing) integers."""

    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        assert isinstance(node.value, int | float)
        return ast.Constant(float(node.value))


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
