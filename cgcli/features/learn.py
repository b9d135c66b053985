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
from ..core.passes import backward, check_bindings, forward
from ..core.tape import no_gc

DIVERGED = 1e150  # |value| beyond this counts as diverging (its square would overflow)


class Outcome:
    """Where a run stopped: `reason` in words, `converged` (stopped by --tol), the
    number of steps (or epochs), the final value (or cost), the parameters, and the
    history: one value per step (minimize) or the mean cost per epoch (train)."""

    def __init__(self, reason, converged, steps, value, params, gradients, history):
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


def minimize(program, bindings, params=None, lr=0.1, steps=1000, tol=1e-10, momentum=0.0, on_step=None):
    """Gradient descent from `bindings` on `params` (default: every input).
    `on_step(step, value, params)` sees every step, for --trace."""
    g, params = _setup(program, bindings, params)
    missing = [n for n in g.inputs if n not in bindings]
    if missing:
        raise unbound_inputs(missing, hint="give every input a starting value")
    b = dict(bindings)
    ids = [g.inputs.get(p) for p in params]
    vel = [0.0] * len(params)
    prev = None
    history = []
    with no_gc():
        for step in range(steps + 1):
            try:
                v = forward(g, b)
                gr = backward(g, v)
            except CgraphError as e:
                raise CgraphError("step %d: %s" % (step, e.message)) from None
            value = v[-1]
            grads = [0.0 if i is None else gr[i] for i in ids]
            history.append(value)
            if on_step:
                on_step(step, value, {p: b[p] for p in params})
            if abs(value) > DIVERGED:
                raise CgraphError("diverged at step %d: the value reached %s (try a smaller --lr than %s)"
                                  % (step, fmt(value), fmt(lr)))
            norm = math.sqrt(sum(d * d for d in grads))
            if norm < tol:
                return Outcome("the gradient's norm %s is below --tol %s" % (fmt(norm), fmt(tol)), True, step,
                               value, {p: b[p] for p in params}, dict(zip(params, grads)), history)
            if prev is not None and abs(value - prev) < tol:
                return Outcome("the value changed by %s, less than --tol %s" % (fmt(abs(value - prev)), fmt(tol)),
                               True, step, value, {p: b[p] for p in params}, dict(zip(params, grads)), history)
            if step == steps:
                break
            prev = value
            for k, p in enumerate(params):
                vel[k] = momentum * vel[k] + grads[k]
                b[p] -= lr * vel[k]
    return Outcome("reached --steps %d" % steps, False, steps, value, {p: b[p] for p in params},
                   dict(zip(params, grads)), history)


def descend(program, bindings, params=None, trace=None, **options):
    """`cgraph minimize`: `minimize`, and with `trace` every step written to that CSV file."""
    if trace is None:
        return minimize(program, bindings, params, **options)
    with Trace(trace) as t:
        return minimize(program, bindings, params, on_step=t.step, **options)


# ---- training -----------------------------------------------------------------

def read_columns(rows, names):
    """All rows of a data source as float arrays for `names` (the columns the
    program reads). A bad row stops with its line number."""
    import numpy as np

    from .readers import _numbers
    parts = {n: [] for n in names}
    count = 0
    for chunk in rows.chunks(16384):
        errors = dict(chunk.errors)
        for n in names:
            if chunk.objs is not None:
                col = [o.get(n) for o in chunk.objs]
            else:
                col = chunk.text[rows.columns.index(n)]
            parts[n].append(_numbers(np, chunk, n, col, rows.name, errors))
        if errors:
            raise CgraphError(errors[min(errors)])
        count += len(chunk.lines)
    return {n: (np.concatenate(parts[n]) if parts[n] else np.zeros(0)) for n in names}, count


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
    outcome = train(program, rows, bindings, params, **options)
    if save:
        save_params(save, outcome.params)
    return outcome


def train(program, rows, bindings, params, lr=0.1, epochs=100, batch_size=1, shuffle=True, seed=0,
          tol=0.0, on_epoch=None):
    """The training loop: per epoch, per mini-batch of rows, forward, backward and
    `W = W - lr * mean gradient`; stop after `epochs` or when the epoch's mean cost
    changes by less than `tol`. `bindings` hold the parameters' starting values
    and any other fixed inputs; every other input is a column of `rows`."""
    import numpy as np

    from ..core import columns as batch
    g, params = _setup(program, bindings, params)
    unset = [p for p in params if p not in bindings]
    if unset:
        raise UsageError("no starting value for %s (bind %s as NAME=VALUE, use --bind FILE.json, or --init-seed N)"
                         % (", ".join(unset), "it" if len(unset) == 1 else "them"))
    both = [c for c in rows.columns if c in params]
    if both:
        raise UsageError("%s %s both a parameter and a column of %s" % (
            ", ".join(both), "is" if len(both) == 1 else "are", rows.name))
    fixed = {k: v for k, v in bindings.items() if k not in params}
    data_names = [n for n in g.inputs if n not in bindings]
    missing = [n for n in data_names if n not in rows.columns]
    if missing:
        raise CgraphError("%s: no column for input%s %s (columns: %s; parameters: %s)" % (
            rows.name, "" if len(missing) == 1 else "s", ", ".join(missing), ", ".join(rows.columns),
            ", ".join(params)))
    cols, n = read_columns(rows, data_names)
    if n == 0:
        raise CgraphError("%s: no rows to train on" % rows.name)
    theta = {p: float(bindings[p]) for p in params}
    ids = [g.inputs.get(p) for p in params]
    rng = np.random.default_rng(seed)
    history = []
    reason, converged = "reached --epochs %d" % epochs, False
    order = np.arange(n)
    with no_gc():
        for epoch in range(1, epochs + 1):
            if shuffle:
                rng.shuffle(order)
            total = 0.0
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                m = len(idx)
                if m == 1:  # the scalar passes: one row, one step (the tutorial's loop)
                    j = int(idx[0])
                    b = {k: float(cols[k][j]) for k in data_names}
                    b.update(fixed)
                    b.update(theta)
                    try:
                        v = forward(g, b)
                        gr = backward(g, v)
                    except CgraphError as e:
                        raise CgraphError("epoch %d, row %d: %s" % (epoch, j + 1, e.message)) from None
                    cost = v[-1]
                    grads = [0.0 if i is None else gr[i] for i in ids]
                else:
                    c = {k: cols[k][idx] for k in data_names}
                    c.update(fixed)
                    c.update(theta)
                    v, gr = batch.run(g, c, m)
                    costs = v[-1]
                    cost = float(costs.sum())
                    grads = _means(np, gr, ids)
                    if not math.isfinite(cost) or not all(map(math.isfinite, grads)):
                        bad = int(idx[np.flatnonzero(batch.bad_rows(np, v, [gr[i] for i in ids if i is not None]))[0]])
                        raise CgraphError("epoch %d, row %d: the cost or a gradient is not finite (inf or nan); "
                                          "try a smaller --lr than %s" % (epoch, bad + 1, fmt(lr)))
                total += cost
                for k, p in enumerate(params):
                    theta[p] -= lr * grads[k]
            mean = total / n
            history.append(mean)
            if not math.isfinite(mean) or abs(mean) > DIVERGED:
                raise CgraphError("diverged at epoch %d: the mean cost reached %s (try a smaller --lr than %s)"
                                  % (epoch, fmt(mean), fmt(lr)))
            if on_epoch:
                on_epoch(epoch, mean, theta)
            if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
                reason = "the epoch's mean cost changed by %s, less than --tol %s" % (
                    fmt(abs(history[-1] - history[-2])), fmt(tol))
                converged = True
                break
    final, grads = _mean_cost(g, cols, fixed, theta, n, ids)
    return Outcome(reason, converged, len(history), final, theta, dict(zip(params, grads)), history)


def _mean_cost(g, cols, fixed, theta, n, ids):
    """The mean cost over all rows at the final parameters, and its gradient."""
    from ..core import columns as batch
    c = dict(cols)
    c.update(fixed)
    c.update(theta)
    v, gr = batch.run(g, c, n)
    import numpy as np
    return float(v[-1].mean()), _means(np, gr, ids)


def _means(np, gr, ids):
    """The batch means of the parameters' gradient columns, in one numpy call
    (the same numbers as one .mean() per column; a call per column was a fifth of a step)."""
    cols = [gr[i] for i in ids if i is not None and gr[i] is not None]
    means = iter(np.stack(cols).mean(axis=1).tolist() if cols else [])
    return [0.0 if i is None or gr[i] is None else next(means) for i in ids]


# ---- files: --trace and --save ------------------------------------------------

class Trace:
    """--trace FILE: a CSV of step, value and the parameters, written as the steps go.
    A context manager; `step` is minimize's on_step."""

    def __init__(self, path):
        self.fh = _open_for_writing(path)
        self.header = False

    def step(self, step, value, params):
        if not self.header:
            self.fh.write(",".join(["step", "value"] + list(params)) + "\n")
            self.header = True
        self.fh.write(",".join([str(step), repr(value)] + [repr(v) for v in params.values()]) + "\n")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()
        return False


def save_params(path, params):
    """--save FILE.json: the learned parameters as a JSON object (what --bind reads)."""
    import json
    fh = _open_for_writing(path)
    try:
        with fh:
            json.dump(params, fh, indent=1)
            fh.write("\n")
    except OSError as e:
        raise UsageError("cannot write %s: %s" % (path, e.strerror or e)) from None


def _open_for_writing(path):
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as e:
        raise UsageError("cannot write %s: %s" % (path, e.strerror or e)) from None
