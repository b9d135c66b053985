"""The passes over whole columns: each node's value is a numpy array (one entry
per row), so one loop over the tape serves a chunk of rows.

The numpy rows of the primitive table follow IEEE-754: a domain error gives inf
or nan in that row instead of raising. `bad_rows` finds the rows where a value
or a gradient is not finite, so that the caller can report them (it re-runs such
a row through the scalar passes, which name the node and the values).
"""

import math

from .primitives import PRIMITIVES, VARIADIC, numpy_namespace, partials
from .tape import CONST, VAR


def forward(np, g, columns, size):
    """Values of every node; `columns` maps each input to an array of `size` rows or a float.

    A node that depends on no column is a numpy scalar, not a Python float, so that
    it follows IEEE-754 as the columns do (1/0 is inf, not a ZeroDivisionError):
    the caller finds the row and re-runs it through the scalar passes."""
    v = [None] * len(g.ops)
    ops, args = g.ops, g.args
    f64 = np.float64
    for i, op in enumerate(ops):
        if op == CONST:
            v[i] = f64(g.attr[i])
        elif op == VAR:
            x = columns[g.attr[i]]
            v[i] = x if getattr(x, "shape", None) == (size,) else f64(x)
        else:
            p = PRIMITIVES[op]
            xs = [v[a] for a in args[i]]
            v[i] = p.vf(np, xs) if p.arity == VARIADIC else p.vf(np, *xs)
    # a node that depends on no column is a float: give every node its rows
    return [x if getattr(x, "shape", None) == (size,) else np.full(size, x, dtype=float) for x in v]


def backward(np, g, v, size):
    """Gradients of the output (the last node) for every node that depends on an
    input; 0.0 or arrays. Nodes that depend on no input get None."""
    n = len(g.ops)
    gr = [0.0] * n
    gr[-1] = np.ones(size)
    dep = g.depends
    m = numpy_namespace(np)
    for i in range(n - 1, -1, -1):
        op = g.ops[i]
        if op == VAR or op == CONST or not dep[i]:
            continue
        u = gr[i]
        args = g.args[i]
        ds = partials(PRIMITIVES[op], m, [v[a] for a in args], v[i], [dep[a] for a in args])
        for a, d in zip(args, ds):
            if dep[a]:
                gr[a] = gr[a] + u * d
    return [(x if getattr(x, "shape", None) == (size,) else np.full(size, x, dtype=float)) if dep[i] else None
            for i, x in enumerate(gr)]


def run(g, columns, size, blocks=True):
    """Forward and backward over `size` rows at once. Returns (values, grads): per node
    its values and its gradient (None for a node that depends on no input). A wide
    graph runs as block operations (core/blocks.py; `blocks` False: never), whose
    results are sequences (Values, Grads) that index as the lists do."""
    import numpy as np
    plan = None
    if blocks and size > 1:
        from .blocks import plan_for
        plan = plan_for(g)
    with np.errstate(all="ignore"):
        if plan is not None and plan.step(size) == size:
            V, G = plan.run(np, columns, size)
            return Values(plan, V), Grads(plan, G)
        if plan is not None:  # a block of rows at a time: the output's values, the inputs' gradients
            vals, grads, bad_v, bad_g = _run_rows(np, plan, columns, size, [plan.out], list(plan.var_rows.values()))
            return Values(plan, None, vals, bad_v), Grads(plan, None, grads, bad_g)
        v = forward(np, g, columns, size)
        gr = backward(np, g, v, size)
    return v, gr


def _run_rows(np, plan, columns, size, vrows, grows):
    """A run a block of rows at a time (plan.step), reusing one V and one G (fresh
    memory for every block costs more than the block's arithmetic): the rows
    `vrows` of V and `grows` of G over all `size` rows ({row: array}), and the masks
    of the rows where any value, and where any gradient, is not finite."""
    step = plan.step(size)
    V, G, E = plan.scratch(np, step)
    vals = {r: np.empty(size) for r in vrows}
    grads = {r: np.empty(size) for r in grows}
    bad_v, bad_g = np.empty(size, dtype=bool), np.empty(size, dtype=bool)
    for lo in range(0, size, step):
        hi = min(size, lo + step)
        n = hi - lo
        part = {k: (x[lo:hi] if getattr(x, "shape", None) == (size,) else x) for k, x in columns.items()}
        Vc, Gc, Ec = (V, G, E) if n == step else (V[:, :n], G[:, :n], E[:, :n])
        plan.fill(np, Vc, part, n)
        plan.forward(np, Vc)
        Gc[...] = 0.0
        plan.backward(np, Vc, Gc, Ec)
        for r, a in vals.items():
            a[lo:hi] = Vc[r]
        for r, a in grads.items():
            a[lo:hi] = Gc[r]
        bad_v[lo:hi] = ~np.isfinite(Vc).all(axis=0)
        bad_g[lo:hi] = ~np.isfinite(Gc).all(axis=0)
    return vals, grads, bad_v, bad_g


def bad_rows(np, values, grads):
    """A boolean mask of the rows where any value or gradient is not finite. Over a
    block run's values every node's row is checked at once; a fused inner node of a
    sum is not kept, but a non-finite one makes the sum non-finite too."""
    if isinstance(values, Values):
        # a run a block of rows at a time has the masks; else V and G are checked whole
        bad = values.bad.copy() if values.bad is not None else ~np.isfinite(values.V).all(axis=0)
        if isinstance(grads, Grads):
            return bad | (grads.bad if grads.bad is not None else ~np.isfinite(grads.G).all(axis=0))
        for x in grads:
            if x is not None:
                bad |= ~np.isfinite(x)
        return bad
    bad = None
    for x in values:
        m = ~np.isfinite(x)
        bad = m if bad is None else (bad | m)
    for x in grads:
        if x is not None:
            bad |= ~np.isfinite(x)
    return bad


def values(g, columns, size, outs):
    """The values of the nodes `outs` of `g` over `size` rows (a forward pass over the
    columns, IEEE-754 as `run`): how derivative nodes built on a graph are evaluated."""
    import numpy as np
    with np.errstate(all="ignore"):
        v = forward(np, g, columns, size)
    return [v[o] for o in outs]


# ---- the block path (core/blocks.py): its results as the per-node passes give them ----

class Batches:
    """A training loop's mini-batches through the plan with SGD (features/learn.py): the
    data as one (inputs x rows) array, the parameters as one vector, so that a batch is
    a few numpy calls. `plan` is None when the per-node passes are used instead."""

    def __init__(self, np, g, cols, data_names, fixed, params):
        from .blocks import plan_for
        self.plan = p = plan_for(g)
        if p is None:
            return
        names = [k for k in data_names if k in p.var_rows]
        consts = [k for k in fixed if k in p.var_rows]
        self.params = [k for k in params if k in p.var_rows]
        if set(names) | set(consts) | set(self.params) != set(p.var_rows):
            self.plan = None
            return
        self.data = np.stack([np.asarray(cols[k], dtype=float) for k in names]) if names else None
        self.drows = np.array([p.var_rows[k] for k in names], dtype=np.intp)
        self.frows = np.array([p.var_rows[k] for k in consts], dtype=np.intp)
        self.fvals = np.array([float(fixed[k]) for k in consts])[:, None]
        self.prows = np.array([p.var_rows[k] for k in self.params], dtype=np.intp)

        self.x = None  # the parameters as a vector while batches run here (flush() writes them back)

    def step(self, np, theta, idx, lr, rule=None):
        """One batch and its update of the parameters (SGD, or `rule.step` on lists of
        floats: features/optimizers.py): the batch's total cost, or None
        (nothing updated) when a cost or gradient is not finite: the caller's per-node
        step then names the row and the node. `theta` is read on the first step after
        a flush(), and is stale until the next flush()."""
        p = self.plan
        if self.x is None:
            self.x = np.array([theta[k] for k in self.params])
        V = p.new(np, len(idx))
        if self.data is not None:
            V[self.drows] = self.data[:, idx]
        if len(self.frows):
            V[self.frows] = self.fvals
        V[self.prows] = self.x[:, None]
        with np.errstate(all="ignore"):
            p.forward(np, V)
            G = p.backward(np, V)
            cost = float(V[p.out].sum())
            grads = G[self.prows].mean(axis=1)
        if not (math.isfinite(cost) and np.isfinite(grads).all()):
            return None
        if rule is None:
            self.x -= lr * grads
        else:  # the same floats as the per-node path's update: the rule works on lists
            x = self.x.tolist()
            rule.step(x, grads.tolist())
            self.x = np.array(x)
        return cost

    def flush(self, theta):
        """Write the parameters back into `theta`; the next step reads it again."""
        if self.plan is not None and self.x is not None:
            theta.update(zip(self.params, self.x.tolist()))
            self.x = None


def totals(g, columns, size, ids, chunk=2048):
    """The output's values over `size` rows and the gradients of the nodes `ids` (None
    where an id is None or the node has none), `chunk` rows at a time (the block plan's
    arrays are nodes x rows: a chunk keeps them in cache)."""
    import numpy as np
    out = np.empty(size)
    grads = [None if i is None else np.empty(size) for i in ids]
    for lo in range(0, size, chunk):
        hi = min(size, lo + chunk)
        part = {k: (v[lo:hi] if getattr(v, "shape", None) == (size,) else v) for k, v in columns.items()}
        v, gr = run(g, part, hi - lo)
        out[lo:hi] = v[-1]
        for k, i in enumerate(ids):
            col = grads[k]
            if i is not None and col is not None:
                if gr[i] is None:
                    grads[k] = None
                else:
                    col[lo:hi] = gr[i]
    return out, grads


class Values:
    """Every node's values from a block run, as the per-node passes give them: its row
    of V, or for a fused inner node its prefix of the sum (made when asked for). A run
    a block of rows at a time keeps only some rows (`kept`, {row: array}) and the mask
    of the rows where a value is not finite (`bad`); asking for another node's values
    is a LookupError."""

    def __init__(self, plan, V, kept=None, bad=None):
        self.plan, self.V, self.kept, self.bad = plan, V, kept, bad

    def __len__(self):
        return len(self.plan.row)

    def _row(self, r):
        if self.kept is not None:
            if r not in self.kept:
                raise LookupError("values of this node are not kept by a run in blocks of rows")
            return self.kept[r]
        return self.V[r]

    def __getitem__(self, i):
        plan = self.plan
        if i < 0:
            i += len(plan.row)
        f = plan.fused.get(i)
        if f is None:
            return self._row(plan.row[i])
        rows, signs = f
        acc = self._row(rows[0]).copy()
        for r, sg in zip(rows[1:], signs[1:]):
            if sg == 1.0:
                acc += self._row(r)
            else:
                acc -= self._row(r)
        return acc

    def __iter__(self):
        return (self[i] for i in range(len(self)))


class Grads:
    """Every node's gradient rows from a block run (None for a node that depends on no
    input); from a run in blocks of rows, the inputs' only (`kept`) and the mask of the
    rows where any gradient is not finite (`bad`)."""

    def __init__(self, plan, G, kept=None, bad=None):
        self.plan, self.G, self.kept, self.bad = plan, G, kept, bad

    def __len__(self):
        return len(self.plan.row)

    def __getitem__(self, i):
        plan = self.plan
        if i < 0:
            i += len(plan.row)
        if not plan.dep[i]:
            return None
        r = plan.row[i]
        if self.kept is not None:
            if r not in self.kept:
                raise LookupError("gradients of this node are not kept by a run in blocks of rows")
            return self.kept[r]
        return self.G[r]

    def __iter__(self):
        return (self[i] for i in range(len(self)))
