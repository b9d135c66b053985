"""Learning: gradient descent on an expression (`minimize`) and the training loop
over rows of data (`train`).

Both reuse one tape: the program is parsed once, and every step runs the forward
pass, the backward pass, and the update `W = W - lr * grad` on the parameters.
Training with mini-batches of more than one row runs each batch through the tape
with whole numpy columns (batch.py); with one row per step (the tutorial's
stochastic gradient descent) it runs the scalar passes.
"""

import math

from ..core.errors import CgraphError, UsageError, not_inputs, unbound_inputs
from ..core.numbers import fmt
from ..core.passes import backward, check_bindings, forward, read_inputs
from ..core.tape import no_gc
from . import optimizers
from .objective import Objective, search_step
from .outfiles import Trace, check_writable, save_params

DIVERGED = 1e150  # |value| beyond this counts as diverging (its square would overflow)


class Outcome:
    """Where a run stopped: `reason` in words, `converged` (stopped by --tol), the
    number of steps (or epochs), the final value (or cost), the parameters, and the
    history: one value per step (minimize) or the mean cost per epoch (train).
    `interrupted`: stopped by Ctrl-C, the parameters are those reached so far."""

    def __init__(self, reason, converged, steps, value, params, gradients, history, interrupted=False,
                 method=None, evaluations=None):
        self.interrupted = interrupted
        self.method = method
        self.evaluations = evaluations
        self.reason = reason
        self.converged = converged
        self.steps = steps
        self.value = value
        self.params = params
        self.gradients = gradients
        self.history = history


def _setup(program, bindings, params):
    g, _ = program.cone()
    if params is None:
        params = list(g.inputs)
    bad = [p for p in params if p not in program.graph.inputs]
    if bad:
        raise not_inputs("--params", bad, program.graph.inputs)
    check_bindings(program, g, bindings, params)
    return g, list(dict.fromkeys(params))


def _lr_hint(lr):
    return "try a smaller --lr than %s" % fmt(lr)


def minimize(program, bindings, params=None, lr=None, steps=1000, tol=1e-10, momentum=None, on_step=None,
             method="gd", memory=None):
    """Minimise the output from `bindings` on `params` (default: every input) by
    `method`: gd (x = x - lr*v, v = momentum*v + grad), adam, newton (the exact
    Hessian, damped, with an Armijo line search) or lbfgs (`memory` pairs, a
    strong Wolfe line search); optimizers.py has the rules. `on_step(step, value,
    params)` sees every step, for --trace. Ctrl-C stops the run: the Outcome has
    `interrupted` set and the parameters reached."""
    lr, momentum, memory = optimizers.method_options(method, lr, momentum, memory)
    g, params = _setup(program, bindings, params)
    # every input read up to the output is bound, and every parameter (one the
    # output does not depend on has gradient 0, and does not move)
    missing = list(dict.fromkeys([n for n in read_inputs(program) + params if n not in bindings]))
    if missing:
        raise unbound_inputs(missing, hint="give every input a starting value")
    obj = Objective(program, g, bindings, params, method == "newton", (forward, backward))
    x = [float(bindings[p]) for p in params]
    searcher, np = None, None
    if method in ("gd", "adam"):
        rule = optimizers.rule(method, len(params), lr, momentum)
        hint = _lr_hint(lr)
    else:
        import numpy as np
        searcher = optimizers.LBFGSMethod(memory) if method == "lbfgs" else None
        hint = "the value may have no minimum"
    prev = None
    known = None  # the value and gradients at x, when a line search has them
    history: list = []
    value, grads, step = math.nan, [0.0] * len(params), 0

    def outcome(reason, converged, interrupted=False):
        return Outcome(reason, converged, step, value, dict(zip(params, x)), dict(zip(params, grads)),
                       history, interrupted, method, obj.counts)

    try:
        with no_gc():
            for step in range(steps + 1):
                if known is None:
                    try:
                        value = obj.value(x)
                        grads = obj.gradient()
                    except CgraphError as e:
                        raise CgraphError("step %d: %s" % (step, e.reason), e.status) from None
                else:
                    value, grads = known
                history.append(value)
                if on_step:
                    on_step(step, value, dict(zip(params, x)))
                if abs(value) > DIVERGED:
                    raise CgraphError("diverged at step %d: the value reached %s" % (step, fmt(value)), hint=hint)
                norm = math.sqrt(sum(d * d for d in grads))
                if norm < tol:
                    return outcome("the gradient's norm %s is below --tol %s" % (fmt(norm), fmt(tol)), True)
                if prev is not None and searcher is None and method != "newton" and abs(value - prev) < tol:
                    return outcome("the value changed by %s, less than --tol %s" % (
                        fmt(abs(value - prev)), fmt(tol)), True)
                if prev is not None and np is not None and abs(value - prev) <= tol * max(abs(value), abs(prev)):
                    return outcome("the value changed by %s of itself, at most --tol %s" % (
                        fmt(abs(value - prev) / (max(abs(value), abs(prev)) or 1.0)), fmt(tol)), True)
                if step == steps:
                    break
                prev = value
                if searcher is None and method != "newton":
                    rule.step(x, grads)
                    for k, p in enumerate(params):
                        if not math.isfinite(x[k]):
                            raise CgraphError("diverged at step %d: %s reached %s" % (step + 1, p, fmt(x[k])),
                                              hint=hint)
                    continue
                known = search_step(np, obj, searcher, x, value, grads, step)
                if known is None:
                    return outcome("no lower value along the search direction at step %d (the line search "
                                   "failed: the limit of precision, or a minimum at a kink)" % step, False)
    except KeyboardInterrupt:
        return outcome("interrupted at step %d" % step, False, True)
    return outcome("reached --steps %d" % steps, False)


def descend(program, bindings, params=None, trace=None, **options):
    """`cgraph minimize`: `minimize`, and with `trace` every step written to that CSV
    file (a temporary file beside it, renamed over it when the run ends: a run that
    fails leaves an existing file as it was; one stopped by Ctrl-C keeps its steps)."""
    if trace is None:
        return minimize(program, bindings, params, **options)
    with Trace(trace) as t:
        return minimize(program, bindings, params, on_step=t.step, **options)


# ---- training -----------------------------------------------------------------

def read_columns(rows, names, lines=None):
    """All rows of a data source as float arrays for `names` (the columns the program
    reads); a bad row stops with its line number (row index in Parquet, Arrow and a
    mapping of arrays, library.py). `lines`, a list, gets each row's line (row index)."""
    if hasattr(rows, "arrays"):
        cols, count = rows.arrays(names)
        if lines is not None:
            lines.extend(range(count))
        return cols, count
    import numpy as np

    from .readers import _numbers
    parts = {n: [] for n in names}
    count = 0
    for chunk in rows.chunks(16384):
        errors = dict(chunk.errors)
        for n in names:
            if hasattr(chunk, "floats"):  # Parquet, Arrow (columnar.py): typed columns
                parts[n].append(chunk.floats(np, n, errors))
                continue
            if chunk.objs is not None:
                col = [o.get(n) for o in chunk.objs]
            else:
                col = chunk.text[rows.columns.index(n)]
            parts[n].append(_numbers(np, chunk, n, col, rows.name, errors))
        if errors:
            raise CgraphError(errors[min(errors)])
        count += len(chunk.lines)
        if lines is not None:
            lines.extend(chunk.lines)
    return {n: (np.concatenate(parts[n]) if parts[n] else np.zeros(0)) for n in names}, count


def data_inputs(program, rows, bindings, params):
    """The inputs read up to the output (in its cone or not) that are not bound: each
    must be a column of `rows` (train and fit), else CgraphError naming them."""
    data_names = [n for n in read_inputs(program) if n not in bindings]
    missing = [n for n in data_names if n not in rows.columns]
    if missing:
        raise CgraphError("%s: no column for input%s %s (columns: %s; parameters: %s)" % (
            rows.name, "" if len(missing) == 1 else "s", ", ".join(missing), ", ".join(rows.columns),
            ", ".join(params)))
    return data_names


def check_roles(program, rows, bindings, params):
    """A name that is both a parameter and a column of `rows`, or both bound and a
    column, is a usage error (train and fit)."""
    both = [c for c in rows.columns if c in params]
    if both:
        raise UsageError("%s %s both a parameter and a column of %s" % (
            ", ".join(both), "is" if len(both) == 1 else "are", rows.name))
    bound = [c for c in rows.columns if c in bindings and c in program.graph.inputs]
    if bound:
        raise UsageError("%s %s both bound on the command line and a column of %s" % (
            ", ".join(bound), "is" if len(bound) == 1 else "are", rows.name))


def init_params(params, seed, scale=1.0):
    """Small random starting values, uniform in [-scale, scale], reproducible from `seed`."""
    import numpy as np
    rng = np.random.default_rng(seed)
    return {p: float(x) for p, x in zip(params, rng.uniform(-scale, scale, len(params)))}


def default_params(program, rows):
    """The parameters `train` learns when none are named: the inputs that are not columns of `rows`."""
    names = [n for n in program.graph.inputs if n not in rows.columns]
    if not names:
        raise UsageError("every input of the program is a column of %s: name the parameters with --params"
                         % rows.name)
    return names


def fit(program, rows, bindings, params=None, init_seed=None, save=None, **options):
    """`cgraph train`: `train` with the defaults filled in. `params` None: the
    inputs that are not columns; with `init_seed`, the parameters not bound start
    at small random values (init_params); with `save`, the learned parameters
    are written to that JSON file. `options` are train's."""
    if params is None:
        params = default_params(program, rows)
    bindings = dict(bindings)
    if init_seed is not None:
        bindings.update(init_params([p for p in params if p not in bindings], init_seed))
    if save is not None:
        check_writable(save, "--save")
    outcome = train(program, rows, bindings, params, **options)
    if save is not None:
        save_params(save, outcome.params)
    return outcome


def train(program, rows, bindings, params, lr=0.1, epochs=100, batch_size=1, shuffle=True, seed=0,
          tol=0.0, on_epoch=None, optimizer="sgd", momentum=None):
    """The training loop: per epoch, per mini-batch of rows, forward, backward and
    the `optimizer`'s update with the mean gradient (sgd: `W = W - lr * gradient`;
    momentum: heavy-ball with `momentum`, default 0.9; adam: Adam with step size
    lr); stop after `epochs` or when the epoch's mean cost
    changes by less than `tol`. `bindings` hold the parameters' starting values
    and any other fixed inputs; every other input is a column of `rows`. Ctrl-C
    stops the loop: the Outcome has `interrupted` set and the parameters reached."""
    import numpy as np

    from ..core import columns as batch
    momentum = optimizers.optimizer_options(optimizer, momentum)
    g, params = _setup(program, bindings, params)
    check_roles(program, rows, bindings, params)
    unset = [p for p in params if p not in bindings]
    if unset:
        raise UsageError("no starting value for %s (bind %s as NAME=VALUE, use --bind FILE.json, or --init-seed N)"
                         % (", ".join(unset), "it" if len(unset) == 1 else "them"))
    fixed = {k: v for k, v in bindings.items() if k not in params}
    data_names = data_inputs(program, rows, bindings, params)
    data_names = [n for n in data_names if n in g.inputs]
    cols, n = read_columns(rows, data_names)
    if n == 0:
        raise CgraphError("%s: no rows to train on" % rows.name)
    theta = {p: float(bindings[p]) for p in params}
    ids = [g.inputs.get(p) for p in params]
    rng = np.random.default_rng(seed)
    rule = None if optimizer == "sgd" else optimizers.rule(optimizer, len(params), lr, momentum)
    history: list = []
    reason, converged, interrupted = "reached --epochs %d" % epochs, False, False
    order = np.arange(n)
    epoch = 0
    fast = None
    if batch_size > 1:  # mini-batches: whole-array operations (core/blocks.py)
        from ..core.columns import Batches
        fast = Batches(np, g, cols, data_names, fixed, params)
        if rule is not None and fast.plan is not None and fast.params != list(params):
            fast = None  # a parameter the program never reads: the rule's state is per parameter
    try:
        with no_gc():
            for epoch in range(1, epochs + 1):
                if shuffle:
                    rng.shuffle(order)
                total = 0.0
                for start in range(0, n, batch_size):
                    idx = order[start:start + batch_size]
                    if fast is not None and fast.plan is not None and len(idx) > 1:
                        cost = fast.step(np, theta, idx, lr, rule)
                        if cost is not None:  # a finite batch, the parameters updated
                            total += cost / n
                            continue
                        fast.flush(theta)
                    if len(idx) == 1:  # the scalar passes: one row, one step (the tutorial's loop)
                        if fast is not None:
                            fast.flush(theta)
                        cost, grads = _row_step(g, cols, data_names, fixed, theta, ids, epoch, int(idx[0]))
                    else:
                        cost, grads = _batch_step(np, batch, g, cols, data_names, fixed, theta, ids, epoch, idx,
                                                  lr)
                    total += cost / n  # the mean as it goes: no overflow of a total the mean does not reach
                    if rule is None:
                        for k, p in enumerate(params):
                            theta[p] -= lr * grads[k]
                    else:
                        x = [theta[p] for p in params]
                        rule.step(x, grads)
                        theta.update(zip(params, x))
                if fast is not None:
                    fast.flush(theta)
                mean = total
                if not math.isfinite(mean) or abs(mean) > DIVERGED:
                    raise CgraphError("diverged at epoch %d: the mean cost reached %s" % (epoch, fmt(mean)),
                                      hint=_lr_hint(lr))
                history.append(mean)
                if on_epoch:
                    on_epoch(epoch, mean, theta)
                if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
                    reason = "the epoch's mean cost changed by %s, less than --tol %s" % (
                        fmt(abs(history[-1] - history[-2])), fmt(tol))
                    converged = True
                    break
    except KeyboardInterrupt:
        reason, interrupted = "interrupted in epoch %d" % epoch, True
    if fast is not None:
        fast.flush(theta)
    final, grads = _mean_cost(g, cols, fixed, theta, n, ids)
    return Outcome(reason, converged, len(history), final, theta, dict(zip(params, grads)), history, interrupted,
                   optimizer)


def _row_step(g, cols, data_names, fixed, theta, ids, epoch, j):
    """One row through the scalar passes: (cost, the parameters' gradients)."""
    b = {k: float(cols[k][j]) for k in data_names}
    b.update(fixed)
    b.update(theta)
    try:
        v = forward(g, b)
        gr = backward(g, v)
    except CgraphError as e:
        raise CgraphError("epoch %d, row %d: %s" % (epoch, j + 1, e.reason), e.status) from None
    return v[-1], [0.0 if i is None else gr[i] for i in ids]


def _batch_step(np, batch, g, cols, data_names, fixed, theta, ids, epoch, idx, lr):
    """A mini-batch through the column passes: (the batch's total cost, the
    parameters' mean gradients). A row whose cost or gradient is not finite is
    run again through the scalar passes, which name the node (as with one row
    per batch); a batch whose every row is finite but whose sum overflows says so."""
    m = len(idx)
    c = {k: cols[k][idx] for k in data_names}
    c.update(fixed)
    c.update(theta)
    v, gr = batch.run(g, c, m)
    with np.errstate(all="ignore"):
        cost = float(v[-1].sum())
        grads = _means(np, gr, ids)
    if math.isfinite(cost) and all(map(math.isfinite, grads)):
        return cost, grads
    mask = batch.bad_rows(np, v, [gr[i] for i in ids if i is not None])
    rows = np.flatnonzero(mask)
    if len(rows):
        j = int(idx[rows[0]])
        _row_step(g, cols, data_names, fixed, theta, ids, epoch, j)  # raises, naming the node
        raise CgraphError("epoch %d, row %d: the cost or a gradient is not finite (inf or nan)" % (epoch, j + 1),
                          hint=_lr_hint(lr))
    raise CgraphError("epoch %d: the %s of a batch of %d rows overflows (beyond the largest double, about "
                      "1.8e308), though every row's is finite" % (
                          epoch, "total cost" if not math.isfinite(cost) else "mean gradient", m),
                      hint="use a smaller --batch-size, or scale the data down")


def _mean_cost(g, cols, fixed, theta, n, ids):
    """The mean cost over all rows at the final parameters, and its gradient."""
    from ..core import columns as batch
    c = dict(cols)
    c.update(fixed)
    c.update(theta)
    out, gr = batch.totals(g, c, n, ids)
    import numpy as np
    return float(out.mean()), _means(np, dict(zip(ids, gr)), ids)


def _means(np, gr, ids):
    """The batch means of the parameters' gradient columns, in one numpy call
    (the same numbers as one .mean() per column; a call per column was a fifth of a step)."""
    cols = [gr[i] for i in ids if i is not None and gr[i] is not None]
    means = iter(np.stack(cols).mean(axis=1).tolist() if cols else [])
    return [0.0 if i is None or gr[i] is None else next(means) for i in ids]
