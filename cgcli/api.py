"""The library: cgraph's passes from Python, with no command line in between.

    >>> import cgcli
    >>> r = cgcli.evaluate("(x+y)*z", {"x": 1, "y": 3, "z": -3})
    >>> r.value, r.gradients
    (-12.0, {'x': -3.0, 'y': -3.0, 'z': 4.0})

Every function takes a parsed `Program` or the program text. Nothing here
prints, exits or reads files: a problem is a `CgraphError` whose `message` is
the text `cgraph` prints after `error: ` and whose `status` is the exit status
the command would have (1 for an evaluation or data error, 2 for a usage or
syntax error). numpy is imported only by `columns`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from .core.errors import CgraphError, UsageError
from .core.jacobian import Jacobian
from .core.language import Program
from .core.language import parse_program as _parse_program
from .features.arrays import ColumnsResult
from .features.library import FitResult, MinimizeResult, TrainResult

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import numpy.typing as npt

    from .core.tape import Graph

    FloatArray = npt.NDArray[np.float64]
    BoolArray = npt.NDArray[np.bool_]

__all__ = [
    "CgraphError", "UsageError", "Program", "Result", "Node", "ColumnsResult", "Jacobian",
    "FitResult", "MinimizeResult", "TrainResult",
    "parse", "parse_program", "evaluate", "differentiate", "columns", "fit", "minimize", "train",
]

Source = Union[Program, str]
Names = Union[str, Sequence[str]]

# ---- parsing --------------------------------------------------------------------

def parse(text: str) -> Program:
    """Parse program text (an expression, or `name = expr` statements separated by
    newlines or `;`) into a Program. A syntax error is a CgraphError with status 2
    whose message points at the column (and shows the line with a caret)."""
    if not isinstance(text, str):
        raise UsageError("parse: expected the program as text, not %s" % type(text).__name__)
    return _parse_program(text)


def _program(source: Source, output: Optional[Names] = None) -> Program:
    """The program with `output`'s output; several outputs are left to the caller (_outputs)."""
    prog = source if isinstance(source, Program) else parse(source)
    names = _outputs(output)
    if len(names) == 1:
        prog = prog.select(names[0])
    return prog


def _outputs(output: Optional[Names]) -> List[str]:
    """output="u", "u,v" or ["u", "v"] -> the names; None -> []."""
    from .core.jacobian import output_names
    items = [] if output is None else [output] if isinstance(output, str) else list(output)
    if not all(isinstance(i, str) for i in items):
        raise UsageError("output: expected output names, not %r" % (output,))
    return output_names(items, "output")


def _names(wrt: Optional[Names], what: str = "wrt") -> Optional[List[str]]:
    """"a,b" or ["a", "b"] -> ["a", "b"]; None stays None (every input)."""
    if wrt is None:
        return None
    items = [wrt] if isinstance(wrt, str) else list(wrt)
    out = []
    for item in items:
        if not isinstance(item, str):
            raise UsageError("%s: expected input names, not %r" % (what, item))
        out += [n.strip() for n in item.split(",") if n.strip()]
    return out


def _number(name: str, v: Any) -> float:
    if isinstance(v, (str, bytes, bool)):
        raise UsageError("binding %s: expected a number, not %r" % (name, v))
    try:
        return float(v)
    except (TypeError, ValueError):
        raise UsageError("binding %s: expected a number, not %r" % (name, v)) from None


# ---- one evaluation --------------------------------------------------------------

@dataclass(frozen=True)
class Node:
    """One node of the evaluated graph, as a row of `cgraph eval`'s table."""

    id: int
    name: Optional[str]  # the program's name for it (h@2 for a name bound more than once), or None
    expr: str  # its expression, its inputs written by name where they have one
    op: str  # "var", "const", "add", "mul", "sin", ...
    inputs: Tuple[int, ...]  # the ids of its operands
    value: float
    grad: Optional[float]  # d output / d node; None for a node that depends on no input
    tangent: Optional[float] = None  # with tangent=: d node along the direction (None: depends on no input)


class Result:
    """The outcome of the forward and backward passes.

    `value` is the output's value and `gradients` maps each reported input (`wrt`,
    else every input the output reads) to d output / d input. `values[i]` and
    `grads[i]` belong to node i of `graph`, the output's cone, whose last node is
    the output; `nodes` lists them with their names and expressions. With `tangent=`:
    `direction`, `tangent` (d output along it) and `tangents[i]` (node i's); else None.
    """

    program: Program
    graph: "Graph"
    value: float
    gradients: Dict[str, float]
    values: List[float]
    grads: List[Optional[float]]
    output: int
    output_name: Optional[str]
    wrt: List[str]
    warnings: List[str]
    direction: Optional[Dict[str, float]]
    tangent: Optional[float]
    tangents: Optional[List[Optional[float]]]

    def __init__(self, core: Any) -> None:
        for k in ("program", "graph", "value", "gradients", "values", "grads", "output", "output_name", "wrt",
                  "warnings", "direction", "tangent", "tangents"):
            setattr(self, k, getattr(core, k))
        self._nodes: Optional[List[Node]] = None

    @property
    def nodes(self) -> List[Node]:
        """Per node: id, name, expression, operation, operands, value and gradient."""
        if self._nodes is None:
            g = self.graph
            names = g.display_names()
            texts = g.exprs()
            ts = self.tangents or [None] * len(g.ops)
            self._nodes = [Node(i, names[i], texts[i], g.ops[i], tuple(g.args[i]), self.values[i], self.grads[i],
                                ts[i]) for i in range(len(g.ops))]
        return self._nodes

    def to_dict(self, summary: bool = False) -> Dict[str, Any]:
        """The object `cgraph eval --format json` prints (non-finite numbers as the
        strings "inf", "-inf", "nan"); with summary, no nodes."""
        from .core.numbers import json_number
        d = {
            "output": self.output_name,
            "value": json_number(self.value),
            "gradients": {k: json_number(v) for k, v in self.gradients.items()},
            "nodes": [] if summary else [
                {"id": n.id, "op": n.op, "expr": n.expr, "inputs": list(n.inputs), "value": json_number(n.value),
                 "grad": None if n.grad is None else json_number(n.grad), "name": n.name}
                for n in self.nodes],
        }
        from .core.forward import json_fields
        return d if self.direction is None else json_fields(d, self.direction, self.tangent, self.tangents)

    def __repr__(self) -> str:
        return "Result(value=%r, gradients=%r)" % (self.value, self.gradients)


def evaluate(program: Source, bindings: Mapping[str, float], *, wrt: Optional[Names] = None,
             output: Optional[Names] = None, nonfinite: bool = False,
             tangent: Optional[Mapping[str, float]] = None) -> Union[Result, Jacobian]:
    """The forward and backward passes of `program` at `bindings` (name -> number).

    `wrt` names the inputs whose gradients are reported (a list, or "a,b"; default:
    every input the output reads); `output` picks a name's newest value as the output
    instead of the last statement's; `nonfinite` lets inf and nan through instead of
    raising at a domain error. Raises CgraphError: status 1 for an unbound input or a
    domain error (the message names the node and its inputs' values), 2 for a usage
    error (a bound constant, a `wrt` name that is not an input, an unknown `output`).
    Several outputs (output=["u", "v"] or "u,v") return a Jacobian: `value[u]`,
    `jacobian[u][x]`, `grads[u][i]` per node, `to_dict()` (one forward pass, a
    backward pass per output; with fewer reported inputs than outputs, `jacobian` by
    a tangent sweep per input, and `grads` by the backward passes on first use).
    `tangent` ({input: number}, others 0): forward mode too ([api.md](docs/api.md)).
    """
    from .core import forward, passes
    prog = _program(program, output)
    b = {name: _number(name, v) for name, v in bindings.items()}
    several = _outputs(output)
    if len(several) > 1:
        if tangent is not None:
            raise UsageError("tangent goes with one output (the tangent is of the output)")
        from .core import jacobian
        return jacobian.evaluate(prog, several, b, wrt=_names(wrt), nonfinite=nonfinite, mode="auto")
    core = passes.evaluate(prog, b, wrt=_names(wrt), nonfinite=nonfinite)
    return Result(core if tangent is None else forward.attach(core, prog, dict(tangent), nonfinite))


# ---- the derivative as text --------------------------------------------------------

def differentiate(program: Source, wrt: Union[None, str, Sequence[Union[str, Sequence[str]]]] = None,
                  order: int = 1, *, output: Optional[Names] = None) -> str:
    """The derivative of the program's output as program text, exactly as
    `cgraph diff` prints it (without the final newline); it parses again.

    `wrt` is as `cgraph diff --wrt`: "x" or ["x", "y"] (or "x,y") gives one
    derivative per name (the default: one per input the output reads); a list of
    lists differentiates once per inner list, as `--wrt` given several times:
    [["x"], ["y"]] is the mixed partial d2/dxdy. `order` repeats a single list of
    names: order=2 with "x" is d2/dx2. Several derivatives, or one with shared
    parts, are a program (`t1 = ...` temporaries, then `d_x = ...` lines); several
    outputs (output=["u", "v"]) a `du_dx = ...` line per output and derivative.
    """
    from .features.derive import diff_text, diff_texts
    prog = _program(program, output)
    several = _outputs(output)
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise UsageError("order: expected a whole number of at least 1, not %r" % (order,))
    if wrt is None and len(several) > 1:
        from .core.jacobian import Outputs
        steps = [list(Outputs(prog, several).graph.inputs)]
    elif wrt is None:
        steps = [list(prog.graph.cone(prog.output)[0].inputs)]
        if not steps[0]:
            raise UsageError("nothing to differentiate: the output reads no inputs (name one with wrt for its 0)")
    elif isinstance(wrt, str):
        steps = [_names(wrt) or []]
    elif all(isinstance(w, str) for w in wrt):
        steps = [_names([w for w in wrt if isinstance(w, str)]) or []]
    else:
        steps = [_names(w) or [] for w in wrt]
    steps = [s for s in steps if s]
    if not steps:
        raise UsageError("wrt: no input names given")
    if order > 1:
        if len(steps) > 1:
            raise UsageError("order repeats a single list of names; %d lists already differentiate %d times"
                             % (len(steps), len(steps)))
        seqs = [(name,) * order for name in steps[0]]
    else:
        seqs = [()]
        for step in steps:
            seqs = [s + (name,) for s in seqs for name in step]
    if len(several) > 1:
        return str(diff_texts(prog, several, list(dict.fromkeys(seqs))))
    return str(diff_text(prog, list(dict.fromkeys(seqs))))


# ---- many evaluations at once -------------------------------------------------------

def columns(program: Source, data: Mapping[str, Any], *, wrt: Optional[Names] = None, output: Optional[Names] = None,
            nonfinite: bool = False, hessian: bool = False) -> ColumnsResult:
    """One evaluation per row, all rows at once through numpy, as `cgraph eval --data`.

    `data` maps each input the program reads to an array-like of rows (a numpy
    array, a list, a pandas or Polars Series) or to one number that holds for every
    row; anything with `name in data` and `data[name]` works (a dict, a Ray numpy
    batch, a pandas or Polars DataFrame). Entries the program does not read are left
    alone (they only tell the number of rows when no input is an array).

    Returns a ColumnsResult: "value" and "grad_NAME" arrays (with `hessian`, also
    "hess_A_B" for each pair A <= B of the reported inputs: the second derivatives,
    from one symbolic graph run over the columns), and `errors`, the rows that went
    wrong, each re-run through the scalar passes for its message. Bad rows do not
    raise; a missing input, a non-numeric column or columns of different lengths do
    (CgraphError, status 1), as do the usage errors of `evaluate`. Several outputs
    (output=["u", "v"]): "value_u", then "grad_u_x" per output and input (`outputs`,
    `jacobian`); not with hessian.
    """
    from .features import arrays
    return arrays.columns(_program(program, output), data, _outputs(output), _names(wrt), nonfinite, hessian)


# ---- fitting and minimising ------------------------------------------------------------

def fit(program: Source, data: Mapping[str, Any], params: Optional[Names], start: Mapping[str, float], *,
        ftol: float = 1e-15, xtol: float = 1e-12, gtol: float = 0.0, max_iter: int = 1000) -> FitResult:
    """Nonlinear least squares, as `cgraph fit`: the program's output is one row's
    residual, and Levenberg–Marquardt minimises their sum of squares over the rows
    of `data` (column name -> array-like, or one number for every row, as `columns`
    takes). `params` ("b1,b2", a list, or None: the inputs that are not columns of
    `data`) start at their values in `start`; the other names in `start` are held
    fixed. Returns a FitResult (`to_dict()` is what `cgraph fit --format json`
    prints). Raises CgraphError as the command does (a missing column, a residual
    that is not finite at the start, a singular Jacobian at the solution), with
    arguments named where the command names options.
    """
    from .features import library
    return library.fit(_program(program), data, _names(params, "params"), start, ftol, xtol, gtol, max_iter)


def minimize(program: Source, start: Mapping[str, float], params: Optional[Names] = None, method: str = "gd", *,
             lr: Optional[float] = None, steps: int = 1000, tol: float = 1e-10, momentum: Optional[float] = None,
             memory: Optional[int] = None) -> MinimizeResult:
    """Minimise the program's output over `params` (default: every input) from
    `start` (name -> number; it binds every input), as `cgraph minimize`: `method`
    gd (lr, default 0.1; momentum), adam (lr), newton or lbfgs (memory, default 10),
    until the tolerance `tol` or `steps`. Returns a MinimizeResult (`to_dict()` is
    what `cgraph minimize --format json` prints); a run that diverges raises.
    """
    from .features import library
    return library.minimize(_program(program), start, _names(params, "params"), method, lr, steps, tol, momentum,
                            memory)


def train(program: Source, data: Mapping[str, Any], params: Optional[Names] = None,
          start: Optional[Mapping[str, float]] = None, *, optimizer: str = "sgd", lr: float = 0.1,
          momentum: Optional[float] = None, epochs: int = 100, batch_size: int = 1, shuffle: bool = True,
          seed: int = 0, tol: float = 0.0, init_seed: Optional[int] = None) -> TrainResult:
    """The training loop of `cgraph train` over the rows of `data` (as `fit` takes
    it): the program's output is one row's cost; `params` (default: the inputs that
    are not columns) start at `start` (or, with `init_seed`, small random values),
    and `optimizer` sgd, momentum or adam updates them per mini-batch of
    `batch_size` rows for `epochs` passes (rows shuffled from `seed` unless
    `shuffle` is False). Returns a TrainResult (`to_dict()` is what
    `cgraph train --format json` prints).
    """
    from .features import library
    return library.train(_program(program), data, _names(params, "params"), start, optimizer, lr, momentum, epochs,
                         batch_size, shuffle, seed, tol, init_seed)


parse_program = parse  # the name of 0.1, kept
