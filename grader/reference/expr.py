"""Compiles the assignment spec's restricted expression language into functions over `Node`s.

The language: names (a parameter may have a dotted name, `model.linear.weight`), numbers, `+ - * / ** @`,
unary `-` and `+`, parentheses, and calls of exp log sigmoid tanh relu sum mean transpose (sum and mean may
take `axis=` a whole number), linear(x, W[, b]) and the losses mse bce bce_logits cross_entropy (which may
take `reduction="mean"|"sum"|"none"`, as torch's do). The text is parsed
with `ast.parse` and every syntax node is checked against that list; nothing is ever evaluated by
Python. Whatever else appears is refused with an `ExpressionError` that says what and where.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .engine import FUNCTIONS as ELEMENTARY, Node
from .losses import LAYERS_AND_LOSSES, REDUCTIONS

MAX_LENGTH = 10_000

OPERATORS: dict[type, tuple[str, Callable]] = {
    ast.Add: ("+", lambda a, b: a + b),
    ast.Sub: ("-", lambda a, b: a - b),
    ast.Mult: ("*", lambda a, b: a * b),
    ast.Div: ("/", lambda a, b: a / b),
    ast.Pow: ("**", lambda a, b: a**b),
    ast.MatMult: ("@", lambda a, b: a @ b),
}
REFUSED_OPERATORS = {ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<", ast.RShift: ">>",
                     ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.Invert: "~", ast.Not: "not"}
AXIS_FUNCTIONS = {"sum", "mean"}
# every function of the language: name -> (callable, (fewest, most) positional arguments, takes reduction=)
FUNCTION_TABLE: dict[str, tuple[Callable, tuple[int, int], bool]] = {
    **{name: (function, (1, 1), False) for name, function in ELEMENTARY.items()},
    **LAYERS_AND_LOSSES,
}
FUNCTIONS = {name: entry[0] for name, entry in FUNCTION_TABLE.items()}
FUNCTION_LIST = ", ".join(FUNCTIONS)

# (what it is, in words) for constructs that are refused whatever they contain
REFUSED_KINDS: dict[type, str] = {
    ast.Lambda: "a lambda", ast.IfExp: "a conditional (... if ... else ...)",
    ast.ListComp: "a comprehension", ast.SetComp: "a comprehension", ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension", ast.NamedExpr: 'an assignment ":="', ast.JoinedStr: "an f-string",
    ast.List: "a list", ast.Tuple: "a tuple", ast.Set: "a set", ast.Dict: "a dict",
    ast.Compare: "a comparison", ast.BoolOp: '"and" / "or"', ast.Await: '"await"',
    ast.Yield: '"yield"', ast.YieldFrom: '"yield"', ast.Starred: 'unpacking with "*"',
    ast.Slice: "a slice",
}


class ExpressionError(ValueError):
    """An expression the language does not allow, or cannot evaluate; `col` is 1-based (0 if unknown)."""

    def __init__(self, message: str, col: int = 0, line: int = 1):
        super().__init__(message)
        self.message = message
        self.col = col
        self.line = line


Compiled = Callable[[Mapping[str, Node]], Node]


@dataclass(frozen=True)
class CompiledExpression:
    """A checked expression; `evaluate` builds its graph of `Node`s for given values of its names."""

    text: str
    names: frozenset[str]
    _run: Compiled = field(repr=False, compare=False)

    def evaluate(self, env: Mapping[str, Node | np.ndarray | float]) -> Node:
        missing = sorted(self.names - env.keys())
        if missing:
            raise ExpressionError(f'no value given for {", ".join(map(repr, missing))} in "{self.text}"')
        nodes = {name: value if isinstance(value, Node) else Node(value) for name, value in env.items()
                 if name in self.names}
        with np.errstate(all="ignore"):  # inf and nan are results to report, as torch would give them
            result = self._run(nodes)
        return result if isinstance(result, Node) else Node(result)


def compile_expression(text: str, allowed_names: set[str] | None = None) -> CompiledExpression:
    """Check `text` against the language and compile it; raises ExpressionError if it is not allowed."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is too long ({len(text)} characters, at most {MAX_LENGTH})")
    if not text.strip():
        raise ExpressionError("the expression is empty")
    # ast.parse refuses leading blanks (an indent): strip them, but count columns in `text` as given
    body = text.strip()
    lead = text[: len(text) - len(text.lstrip())]
    compiler = _Compiler(body, allowed_names, lead.count("\n"), len(lead.rpartition("\n")[2]))
    try:
        tree = ast.parse(body, mode="eval")
    except SyntaxError as error:
        raise compiler.located_error(f"not a valid expression: {error.msg}", error.lineno or 1,
                                     error.offset or 1) from None
    except (ValueError, RecursionError, MemoryError) as error:  # e.g. nesting too deep for the parser
        raise ExpressionError(f"the expression cannot be read: {error or type(error).__name__}") from None
    try:
        run = compiler.compile(tree.body)
    except RecursionError:
        raise ExpressionError("the expression is nested too deeply") from None
    return CompiledExpression(text, frozenset(compiler.names), _constant_node(run))


def _constant_node(run) -> Compiled:
    if callable(run):
        return run
    return lambda env: Node(run)


class _Compiler:
    """Turns checked syntax nodes into closures; a subtree without names folds to a float64 number."""

    def __init__(self, text: str, allowed_names: set[str] | None, line_shift: int = 0, col_shift: int = 0):
        self.lines = text.splitlines() or [""]
        self.allowed = None if allowed_names is None else frozenset(allowed_names)
        self.names: set[str] = set()
        self.line_shift, self.col_shift = line_shift, col_shift  # blanks stripped before the text

    def error(self, message: str, node: ast.AST) -> ExpressionError:
        line = getattr(node, "lineno", 1)
        offset = getattr(node, "col_offset", 0)
        # ast counts UTF-8 bytes; people count characters
        col = len(self.lines[line - 1].encode()[:offset].decode(errors="ignore")) + 1
        return self.located_error(message, line, col)

    def located_error(self, message: str, line: int, col: int) -> ExpressionError:
        """An error at 1-based (line, col) of the stripped text, placed in the text as given."""
        return ExpressionError(message, col + (self.col_shift if line == 1 else 0), line + self.line_shift)

    def source(self, node: ast.AST) -> str:
        return ast.get_source_segment("\n".join(self.lines), node) or ast.unparse(node)

    def compile(self, node: ast.AST):
        """A closure env -> Node, or a np.float64 if the subtree is a constant."""
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted is not None and self.allowed is not None and dotted in self.allowed:
                self.names.add(dotted)  # a parameter named by its module path, model.linear.weight
                return lambda env: env[dotted]
            raise self.error(f'attribute access "{self.source(node)}" is not allowed', node)
        if isinstance(node, ast.Subscript):
            raise self.error(f'indexing "{self.source(node)}" is not allowed', node)
        kind = REFUSED_KINDS.get(type(node), type(node).__name__)
        raise self.error(f'{kind} ("{self.source(node)}") is not allowed in an expression', node)

    def constant(self, node: ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            what = "text" if isinstance(value, str | bytes) else "the value"
            raise self.error(f"{what} {self.source(node)} is not allowed: only numbers", node)
        try:
            return np.float64(value)
        except OverflowError:
            raise self.error(f"the number {self.source(node)[:20]}... is too large", node) from None

    def name(self, node: ast.Name):
        name = node.id
        if name in FUNCTIONS:
            raise self.error(f'"{name}" is a function: call it, as in {name}(x)', node)
        if self.allowed is not None and name not in self.allowed:
            known = ", ".join(sorted(self.allowed)) or "none"
            raise self.error(f'unknown name "{name}": the names allowed here are {known}', node)
        self.names.add(name)
        return lambda env: env[name]

    def binary(self, node: ast.BinOp):
        op = type(node.op)
        if op not in OPERATORS:
            symbol = REFUSED_OPERATORS.get(op, type(node.op).__name__)
            hint = " (for a power write **)" if op is ast.BitXor else ""
            raise self.error(f'operator "{symbol}" is not allowed: operators are + - * / ** @{hint}', node)
        apply = OPERATORS[op][1]
        left, right = self.compile(node.left), self.compile(node.right)
        if not callable(left) and not callable(right):
            with np.errstate(all="ignore"), self.located(node):
                return np.float64(apply(Node(left), right).value)
        left_run = left if callable(left) else (lambda env, c=left: c)
        right_run = right if callable(right) else (lambda env, c=right: c)

        def run(env):
            a, b = left_run(env), right_run(env)
            try:  # not `with self.located(node)`: a generator context per operation, at every step of every check
                return apply(a, b)
            except (ValueError, IndexError) as error:
                raise self.failed(error, node) from None

        return run

    def unary(self, node: ast.UnaryOp):
        if isinstance(node.op, ast.UAdd):
            return self.compile(node.operand)
        if not isinstance(node.op, ast.USub):
            symbol = REFUSED_OPERATORS.get(type(node.op), type(node.op).__name__)
            raise self.error(f'operator "{symbol}" is not allowed: operators are + - * / ** @', node)
        operand = self.compile(node.operand)
        if not callable(operand):
            return -operand
        return lambda env: -operand(env)

    def call(self, node: ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute):
            raise self.error(f'attribute access "{self.source(func)}" is not allowed: '
                             f'call functions by their bare name, e.g. sum(x)', func)
        if not isinstance(func, ast.Name) or func.id not in FUNCTIONS:
            raise self.error(f'"{self.source(func)}(...)" is not allowed: functions are {FUNCTION_LIST}', node)
        name = func.id
        function, (fewest, most), takes_reduction = FUNCTION_TABLE[name]
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise self.error(f'unpacking with "*" is not allowed in {name}(...)', node)
        if not fewest <= len(node.args) <= most:
            if most == 1:
                raise self.error(f"{name}() takes exactly one argument, got {len(node.args)}", node)
            wanted = str(fewest) if fewest == most else f"{fewest} or {most}"
            raise self.error(f"{name}() takes {wanted} arguments, got {len(node.args)}", node)
        kwargs: dict = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise self.error(f'unpacking with "**" is not allowed in {name}(...)', node)
            if keyword.arg == "axis" and name in AXIS_FUNCTIONS:
                kwargs["axis"] = self.axis(keyword.value, name)
            elif keyword.arg == "reduction" and takes_reduction:
                kwargs["reduction"] = self.reduction(keyword.value, name)
            else:
                allowed = ("only axis=" if name in AXIS_FUNCTIONS
                           else 'only reduction="mean"|"sum"|"none"' if takes_reduction else "none")
                raise self.error(f'keyword "{keyword.arg}=" is not allowed in {name}(...): keywords: {allowed}',
                                 keyword)
        arguments = [self.compile(arg) for arg in node.args]

        def run(env):
            values = [a(env) if callable(a) else a for a in arguments]
            try:
                return function(*values, **kwargs)
            except (ValueError, IndexError) as error:
                raise self.failed(error, node) from None

        return run

    def reduction(self, node: ast.AST, name: str) -> str:
        if not (isinstance(node, ast.Constant) and node.value in REDUCTIONS):
            raise self.error(f'{name}(..., reduction=...) needs "mean", "sum" or "none"', node)
        return node.value

    def axis(self, node: ast.AST, name: str) -> int:
        sign = 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            sign = -1 if isinstance(node.op, ast.USub) else 1
            node = node.operand
        if not (isinstance(node, ast.Constant) and type(node.value) is int and node.value < 64):
            raise self.error(f"{name}(..., axis=...) needs a whole number such as 0 or -1", node)
        return sign * node.value

    @contextlib.contextmanager
    def located(self, node: ast.AST):
        """Turns numpy's complaints (shapes that do not fit, an axis out of range) into an ExpressionError."""
        try:
            yield
        except (ValueError, IndexError) as error:
            raise self.failed(error, node) from None

    def failed(self, error: ValueError | IndexError, node: ast.AST) -> ExpressionError:
        """numpy's complaint about `node` as an ExpressionError placed at it (one raised deeper stays as it is)."""
        if isinstance(error, ExpressionError):
            return error
        return self.error(f'cannot compute "{self.source(node)}": {error}', node)


def _dotted(node: ast.AST) -> str | None:
    """'model.linear.weight' for a chain of attributes on a name; None for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])
