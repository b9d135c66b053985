"""`cgcli.fit`, `cgcli.minimize` and `cgcli.train`: the commands' loops (fit.py,
learn.py) with a mapping of columns instead of a file, typed results instead of
rendering, and the usage errors worded for arguments instead of options.

The JSON objects that `cgraph fit`, `minimize` and `train` print with `--format
json` are built here (`fit_json`, `outcome_json`), once: present/ prints them and
the results' `to_dict()` returns them.
"""

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..core.errors import CgraphError, UsageError
from ..core.numbers import json_number

# ---- the JSON objects of --format json ---------------------------------------------


def fit_json(fit: Any) -> Dict[str, Any]:
    """A Fit (fit.py) as the object `cgraph fit --format json` prints."""
    obj: Dict[str, Any] = fit.to_dict()
    obj["params"] = {k: json_number(v) for k, v in obj["params"].items()}
    obj["stderr"] = {k: None if v is None else json_number(v) for k, v in obj["stderr"].items()}
    obj["rss"] = json_number(obj["rss"])
    if obj["residual_sd"] is not None:
        obj["residual_sd"] = json_number(obj["residual_sd"])
    return obj


def outcome_json(outcome: Any, kind: str) -> Dict[str, Any]:
    """An Outcome (learn.py) as the object `cgraph minimize` (kind "minimize") or
    `cgraph train` ("train") prints with --format json. A method other than gd
    (an optimizer other than sgd) adds its name, and minimize's its evaluations."""
    count = "steps" if kind == "minimize" else "epochs"
    what = "value" if kind == "minimize" else "cost"
    obj: Dict[str, Any] = {
        "reason": outcome.reason, "converged": outcome.converged, count: outcome.steps,
        what: json_number(outcome.value),
        "params": {k: json_number(v) for k, v in outcome.params.items()},
        "gradients": {k: json_number(v) for k, v in outcome.gradients.items()}}
    if kind == "train":
        obj["costs"] = [json_number(c) for c in outcome.history]
    obj.update(method_fields(outcome, kind))
    return obj


def method_fields(outcome: Any, kind: str) -> Dict[str, Any]:
    """The keys a method other than gd (minimize) or sgd (train) adds: its name
    (`method`, `optimizer`) and, for minimize, the evaluations of the value, the
    gradient and (newton) the Hessian. The defaults add nothing: their output is
    what it was before there were methods."""
    m = getattr(outcome, "method", None)
    if m in (None, "gd", "sgd"):
        return {}
    if kind == "train":
        return {"optimizer": m}
    return {"method": m, "evaluations": dict(outcome.evaluations or {})}


# ---- the results ----------------------------------------------------------------------


@dataclass(frozen=True)
class FitResult:
    """What `cgcli.fit` returns: `params` and `stderr` (parameter -> value, standard
    error; None when dof <= 0), `rss`, `residual_sd` (None when dof <= 0), `dof`,
    `rows`, `iterations` (Jacobians evaluated), `evaluations` (of the residuals),
    `converged`, `reason` (why it stopped, in words) and `warnings` (what `cgraph
    fit` writes on stderr: a name in start the program never reads, no convergence)."""

    params: Dict[str, float]
    stderr: Dict[str, Optional[float]]
    rss: float
    residual_sd: Optional[float]
    dof: int
    rows: int
    iterations: int
    evaluations: int
    converged: bool
    reason: str
    warnings: List[str]
    _json: Dict[str, Any] = field(repr=False, compare=False)

    def to_dict(self) -> Dict[str, Any]:
        """The object `cgraph fit --format json` prints."""
        return _copy(self._json)


@dataclass(frozen=True)
class MinimizeResult:
    """What `cgcli.minimize` returns: `reason`, `converged`, `steps`, `value` (at
    `params`), `params`, `gradients` there, `history` (the value per step), `method`,
    `evaluations` (of the value, the gradient and, for newton, the Hessian) and
    `interrupted` (Ctrl-C stopped the run: the parameters are those reached)."""

    reason: str
    converged: bool
    steps: int
    value: float
    params: Dict[str, float]
    gradients: Dict[str, float]
    history: List[float] = field(repr=False)
    method: str
    evaluations: Dict[str, int]
    interrupted: bool
    _json: Dict[str, Any] = field(repr=False, compare=False)

    def to_dict(self) -> Dict[str, Any]:
        """The object `cgraph minimize --format json` prints."""
        return _copy(self._json)


@dataclass(frozen=True)
class TrainResult:
    """What `cgcli.train` returns: `reason`, `converged`, `epochs` run, `cost` (the
    mean cost over all rows at `params`), `params`, `gradients` (of the mean cost),
    `costs` (the mean cost per epoch, as it went), `optimizer` and `interrupted`."""

    reason: str
    converged: bool
    epochs: int
    cost: float
    params: Dict[str, float]
    gradients: Dict[str, float]
    costs: List[float] = field(repr=False)
    optimizer: str
    interrupted: bool
    _json: Dict[str, Any] = field(repr=False, compare=False)

    def to_dict(self) -> Dict[str, Any]:
        """The object `cgraph train --format json` prints."""
        return _copy(self._json)


def _copy(obj: Dict[str, Any]) -> Dict[str, Any]:
    import copy
    return copy.deepcopy(obj)


# ---- data as a mapping of columns -----------------------------------------------------


class MappingRows:
    """A mapping of column name -> array-like (or one number for every row) in the
    place of a data file: `name` and `columns` for the messages and checks of
    fit.py and learn.py, `arrays` for learn.read_columns."""

    name = "data"
    unit = "row"  # a row is named by its 0-based index: `data row 2`

    def __init__(self, data: Any) -> None:
        cols = getattr(data, "columns", None)
        try:
            keys = list(cols) if cols is not None else list(data.keys())
        except (AttributeError, TypeError):
            raise UsageError("data: expected a mapping of column name -> array-like, not %s"
                             % type(data).__name__) from None
        self.data = data
        self.columns = [str(k) for k in keys]

    def arrays(self, names: List[str]) -> Tuple[Dict[str, Any], int]:
        import numpy as np

        from .arrays import _rows_of, read_arrays
        cols, size = read_arrays(np, self.data, names)
        if size is None:
            size = _rows_of(self.data) if self.columns else 0
        return {k: (np.full(size, a) if isinstance(a, float) else a) for k, a in cols.items()}, size


# ---- the messages: arguments, not options ---------------------------------------------

_WORDS = [
    ("bind it as NAME=VALUE or use --bind FILE.json", "give it a starting value in start"),
    ("bind them as NAME=VALUE or use --bind FILE.json", "give them starting values in start"),
    ("bind it as NAME=VALUE, use --bind FILE.json, or --init-seed N", "give it a starting value in start, or init_seed"),
    ("bind them as NAME=VALUE, use --bind FILE.json, or --init-seed N",
     "give them starting values in start, or init_seed"),
    ("bound on the command line and a column of", "given in start and a column of"),
    ("--batch-size", "batch_size"), ("--max-iter", "max_iter"), ("--init-seed", "init_seed"),
]
_OPTIONS = ("params", "method", "optimizer", "momentum", "memory", "lr", "steps", "epochs", "tol")


def _reword(text: str) -> str:
    for old, new in _WORDS:
        text = text.replace(old, new)
    for name in _OPTIONS:
        text = text.replace("--" + name, name)
    return text


class _Arguments:
    """A context manager: a CgraphError raised inside names arguments, not options."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
        if isinstance(exc, CgraphError):
            hint = None if exc.hint is None else _reword(exc.hint)
            new = (UsageError(_reword(exc.reason), hint) if isinstance(exc, UsageError) else
                   CgraphError(_reword(exc.reason), exc.status, hint))
            raise new from None
        return False


def _whole(name: str, v: Any, least: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < least:
        raise UsageError("%s: expected a whole number of at least %d, not %r" % (name, least, v))
    return v


def _real(name: str, v: Any, positive: bool = False, below_one: bool = False) -> float:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    ok = ok and (v > 0 if positive else v >= 0) and (not below_one or v < 1)
    if not ok:
        what = "a positive number" if positive else "a number in [0, 1)" if below_one else "a number >= 0"
        raise UsageError("%s: expected %s, not %r" % (name, what, v))
    return float(v)


def _bindings(start: Any) -> Dict[str, float]:
    if start is None:
        return {}
    if not hasattr(start, "items"):
        raise UsageError("start: expected a mapping of name -> number, not %s" % type(start).__name__)
    out = {}
    for k, v in start.items():
        if isinstance(v, (str, bytes, bool)) or not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
            raise UsageError("start %s: expected a number, not %r" % (k, v))
        out[str(k)] = float(v)
    return out


# ---- the functions -------------------------------------------------------------------


def fit(prog: Any, data: Any, params: Optional[List[str]], start: Any, ftol: Any, xtol: Any, gtol: Any,
        max_iter: Any) -> FitResult:
    """api.fit: `cgraph fit` over `data`."""
    from .fit import least_squares
    opts = dict(ftol=_real("ftol", ftol), xtol=_real("xtol", xtol), gtol=_real("gtol", gtol),
                max_iter=_whole("max_iter", max_iter, 1))
    with _Arguments():
        r = least_squares(prog, MappingRows(data), _bindings(start), params, None, **opts)
    return FitResult(dict(r.params), dict(r.stderr), r.rss, r.residual_sd, r.dof, r.rows, r.iterations,
                     r.evaluations, r.converged, r.reason, [_reword(w) for w in r.warnings], fit_json(r))


def minimize(prog: Any, start: Any, params: Optional[List[str]], method: str, lr: Any, steps: Any, tol: Any,
             momentum: Any, memory: Any) -> MinimizeResult:
    """api.minimize: `cgraph minimize` from `start`."""
    from . import learn
    opts = dict(lr=None if lr is None else _real("lr", lr, positive=True), steps=_whole("steps", steps, 0),
                tol=_real("tol", tol), momentum=None if momentum is None else _real("momentum", momentum,
                                                                                    below_one=True),
                memory=None if memory is None else _whole("memory", memory, 1))
    with _Arguments():
        o = learn.minimize(prog, _bindings(start), params, method=method, **opts)
    return MinimizeResult(o.reason, o.converged, o.steps, o.value, dict(o.params), dict(o.gradients),
                          list(o.history), o.method, dict(o.evaluations or {}), o.interrupted,
                          outcome_json(o, "minimize"))


def train(prog: Any, data: Any, params: Optional[List[str]], start: Any, optimizer: str, lr: Any, momentum: Any,
          epochs: Any, batch_size: Any, shuffle: bool, seed: Any, tol: Any, init_seed: Any) -> TrainResult:
    """api.train: `cgraph train` over `data`."""
    from . import learn
    opts = dict(lr=_real("lr", lr, positive=True), epochs=_whole("epochs", epochs, 1),
                batch_size=_whole("batch_size", batch_size, 1), shuffle=bool(shuffle), seed=_whole("seed", seed, 0),
                tol=_real("tol", tol), optimizer=optimizer,
                momentum=None if momentum is None else _real("momentum", momentum, below_one=True))
    seed0 = None if init_seed is None else _whole("init_seed", init_seed, 0)
    with _Arguments():
        o = learn.fit(prog, MappingRows(data), _bindings(start), params, seed0, None, **opts)
    return TrainResult(o.reason, o.converged, o.steps, o.value, dict(o.params), dict(o.gradients),
                       list(o.history), o.method, o.interrupted, outcome_json(o, "train"))
