"""The passes over whole columns: each node's value is a numpy array (one entry
per row), so one loop over the tape serves a chunk of rows.

The numpy rows of the primitive table follow IEEE-754: a domain error gives inf
or nan in that row instead of raising. `bad_rows` finds the rows where a value
or a gradient is not finite, so that the caller can report them (it re-runs such
a row through the scalar passes, which name the node and the values).
"""

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


def run(g, columns, size):
    """Forward and backward over `size` rows at once. Returns (values, grads)."""
    import numpy as np
    with np.errstate(all="ignore"):
        v = forward(np, g, columns, size)
        gr = backward(np, g, v, size)
    return v, gr


def bad_rows(np, values, grads):
    """A boolean mask of the rows where any value or gradient is not finite."""
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
