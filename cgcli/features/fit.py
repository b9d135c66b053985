"""`cgraph fit`: nonlinear least squares by Levenberg–Marquardt (lm.py).

The program's output is the residual of one row; fit minimises the sum of the
squared residuals over all rows. The residuals and their exact Jacobian (d
residual / d parameter, per row) come from the passes over whole columns
(core/columns.py): the data columns are numpy arrays, the parameters bound
scalars, and one backward pass gives every row's gradient at once. No finite
differences.

At the solution it reports what the certified results of NIST's Statistical
Reference Datasets give: each parameter's standard error sqrt(s^2 diag((J^T J)^-1))
with s^2 = RSS / dof, computed from the singular value decomposition of J (with
its columns scaled to unit norm, so never by forming J^T J), the residual sum of
squares, the residual standard deviation s and the degrees of freedom
dof = rows - parameters.
"""

import math

from ..core.errors import CgraphError, UsageError, not_inputs
from ..core.numbers import fmt
from ..core.passes import check_bindings, forward
from ..core.tape import no_gc
from . import lm
from .learn import check_roles, data_inputs, default_params, read_columns
from .outfiles import check_writable, save_params


class Fit:
    """A finished fit. `params` and `stderr` map each parameter to its value and
    standard error (None when dof <= 0); `rss`, `residual_sd` (None when dof <= 0),
    `dof`, `rows`, `iterations` (Jacobians evaluated), `evaluations` (residual
    evaluations), `converged` and `reason` (why it stopped, in words); `warnings`
    for stderr (a binding the program never reads, a fit that did not converge)."""

    def __init__(self, params, stderr, rss, residual_sd, dof, rows, iterations, evaluations, converged, reason):
        self.params, self.stderr = params, stderr
        self.rss, self.residual_sd, self.dof, self.rows = rss, residual_sd, dof, rows
        self.iterations, self.evaluations = iterations, evaluations
        self.converged, self.reason = converged, reason
        self.warnings = [] if converged else ["%s before converging: the parameters are those reached" % reason]

    def to_dict(self):
        """The JSON object of `--format json` (numbers as Python floats)."""
        return {"params": dict(self.params), "stderr": dict(self.stderr), "rss": self.rss,
                "residual_sd": self.residual_sd, "dof": self.dof, "iterations": self.iterations,
                "converged": self.converged, "reason": self.reason}


class Residuals:
    """The residual program over all rows: `residuals(x)` and `jacobian(x)` for lm.
    The forward values of the last point are kept, so the Jacobian at an accepted
    point costs one backward pass."""

    def __init__(self, np, g, cols, fixed, params, n):
        from ..core import columns as batch
        self.np, self.batch, self.g, self.n = np, batch, g, n
        self.base = dict(cols)
        self.base.update(fixed)
        self.params = params
        self.ids = [g.inputs.get(p) for p in params]
        self.last = None  # (x as a tuple, forward values)

    def _forward(self, x):
        key = tuple(x.tolist())
        if self.last is None or self.last[0] != key:
            c = dict(self.base)
            c.update(zip(self.params, key))
            with self.np.errstate(all="ignore"):
                self.last = key, self.batch.forward(self.np, self.g, c, self.n)
        return self.last[1]

    def residuals(self, x):
        return self._forward(x)[-1]

    def jacobian(self, x):
        np = self.np
        v = self._forward(x)
        with np.errstate(all="ignore"):
            gr = self.batch.backward(np, self.g, v, self.n)
        J = np.zeros((self.n, len(self.ids)))
        for k, i in enumerate(self.ids):
            if i is not None and gr[i] is not None:
                J[:, k] = gr[i]
        return J


def least_squares(program, rows, bindings, params=None, save=None, **options):
    """`cgraph fit`: `params` None means the inputs that are not columns of `rows`;
    with `save`, the fitted parameters are written to that JSON file (what --bind
    reads). `options` are fit_columns's."""
    if params is None:
        params = default_params(program, rows)
    if save is not None:
        check_writable(save, "--save")
    g, params, fixed, data_names, warnings = _check(program, rows, bindings, params)
    lines: list = []
    cols, n = read_columns(rows, data_names, lines)
    unit = getattr(rows, "unit", "line")  # a bad row is named as eval --data names it
    if n == 0:
        raise CgraphError("%s: no rows to fit" % rows.name)
    result = fit_columns(g, cols, n, fixed, {p: bindings[p] for p in params},
                         label=lambda j: "%s %s %d" % (rows.name, unit, lines[j]), **options)
    result.warnings = warnings + result.warnings
    if save is not None:
        save_params(save, result.params)
    return result


def _check(program, rows, bindings, params):
    """The program's cone, the parameters, the fixed inputs and the data columns
    it reads, after the checks train makes (a name both a parameter and a column,
    a parameter with no starting value, an input with neither binding nor column)."""
    g, _ = program.cone()
    bad = [p for p in params if p not in program.graph.inputs]
    if bad:
        raise not_inputs("--params", bad, program.graph.inputs)
    params = list(dict.fromkeys(params))
    _, warnings = check_bindings(program, g, bindings, params)
    check_roles(program, rows, bindings, params)
    unset = [p for p in params if p not in bindings]
    if unset:
        raise UsageError("no starting value for %s (bind %s as NAME=VALUE or use --bind FILE.json)"
                         % (", ".join(unset), "it" if len(unset) == 1 else "them"))
    unused = [p for p in params if p not in g.inputs]
    if unused:
        raise CgraphError("the residual does not depend on %s: the %s cannot be fitted" % (
            ", ".join(unused), "parameter" if len(unused) == 1 else "parameters"))
    fixed = {k: float(v) for k, v in bindings.items() if k not in params}
    data_names = data_inputs(program, rows, bindings, params)
    return g, params, fixed, [n for n in data_names if n in g.inputs], warnings


def fit_columns(g, cols, n, fixed, start, ftol=1e-15, xtol=1e-12, gtol=0.0, max_iter=1000, label=None):
    """Fit the parameters `start` (name: starting value) of the residual graph `g`
    over `n` rows of `cols` (name: array), the inputs `fixed` held. Returns a Fit.
    `label(j)` names row j in a message (default: `row j`, its 0-based index)."""
    label = label or (lambda j: "row %d" % j)
    import numpy as np
    params = list(start)
    prob = Residuals(np, g, cols, fixed, params, n)
    x0 = np.array([float(start[p]) for p in params])
    _check_finite(np, g, prob, x0, cols, fixed, params, "at the starting values", label)
    try:
        with no_gc(), np.errstate(all="ignore"):
            sol = lm.lm(np, prob.residuals, prob.jacobian, x0, ftol=ftol, xtol=xtol, gtol=gtol, max_iter=max_iter)
    except KeyboardInterrupt:
        raise CgraphError("interrupted", 130) from None
    x = sol.x
    _check_finite(np, g, prob, x, cols, fixed, params, "at the solution", label)
    J = prob.jacobian(x)
    f = prob.residuals(x)
    rss = float(f @ f)
    dof = n - len(params)
    _check_rank(np, J, params)
    if dof > 0:
        s2 = rss / dof
        se = _stderr(np, J, s2)
        stderr = dict(zip(params, se))
        sd = math.sqrt(s2)
    else:
        stderr, sd = {p: None for p in params}, None
    reason = lm.reason_text(sol.info, ftol, xtol, gtol, max_iter)
    return Fit(dict(zip(params, x.tolist())), stderr, rss, sd, dof, n, sol.iterations, sol.nfev,
               sol.converged, reason)


def _check_finite(np, g, prob, x, cols, fixed, params, where, label):
    """Every residual and every entry of the Jacobian finite at x, or the first
    bad row named, with the node (by the scalar passes) when the residual is not finite."""
    r = prob.residuals(x)
    J = prob.jacobian(x)
    bad = ~np.isfinite(r) | ~np.all(np.isfinite(J), axis=1)
    if not bad.any():
        return
    j = int(np.flatnonzero(bad)[0])
    b = {k: (float(c[j]) if getattr(c, "shape", None) else float(c)) for k, c in cols.items()}
    b.update(fixed)
    b.update(zip(params, x.tolist()))
    try:
        forward(g, b)
    except CgraphError as e:
        raise CgraphError("%s, %s: %s" % (label(j), where, e.reason), e.status) from None
    what = "residual" if not math.isfinite(float(r[j])) else "Jacobian"
    raise CgraphError("%s, %s: the %s is not finite (%s)" % (
        label(j), where, what, ", ".join("%s=%s" % (p, fmt(v)) for p, v in zip(params, x.tolist()))))


def _scaled_svd(np, J):
    norms = np.linalg.norm(J, axis=0)
    scale = np.where(norms > 0, norms, 1.0)
    _, s, Vt = np.linalg.svd(J / scale, full_matrices=False)
    return norms, scale, s, Vt


def _check_rank(np, J, params):
    """A singular Jacobian at the solution is an error naming the parameters: those
    the residual does not move (a zero column), or those of the direction that
    changes the residuals least (the last right singular vector)."""
    norms, _, s, Vt = _scaled_svd(np, J)
    zero = [p for p, c in zip(params, norms) if c == 0]
    if zero:
        raise CgraphError("the Jacobian is singular at the solution: the residuals do not change with %s"
                          % ", ".join(zero), hint="fix %s or change the model" % ("it" if len(zero) == 1 else "them"))
    if len(s) < len(params) or s[-1] <= s[0] * max(J.shape) * lm.EPS:
        v = np.abs(Vt[-1]) if len(s) == len(params) else np.ones(len(params))
        names = [p for p, w in zip(params, v) if w >= 0.1 * v.max()]
        raise CgraphError("the Jacobian is singular at the solution: %s cannot be told apart from the data "
                          "(condition number %s)" % (", ".join(names), "%.3g" % float(s[0] / s[-1]) if s[-1] > 0 else
                                                     "inf"), hint="fix one of them, reparametrise, or add rows")


def _stderr(np, J, s2):
    """sqrt(s2 * diag((J^T J)^-1)) from the SVD of J with unit columns:
    (J^T J)^-1 = C^-1 V S^-2 V^T C^-1, C the column norms."""
    _, scale, s, Vt = _scaled_svd(np, J)
    d = np.sum((Vt / s[:, None]) ** 2, axis=0)
    return (np.sqrt(s2 * d) / scale).tolist()
