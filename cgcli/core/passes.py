"""The forward and backward passes over a tape.

Forward is one loop up the tape, backward one loop down it: the output's
gradient is 1 and each node adds `upstream * local derivative` to each of its
inputs (a node used many times, a shared weight, gets the sum). Nothing recurses.

A domain error (log(0), 1/0, sqrt(-1), overflow) stops the pass and is reported
with the node's expression and its inputs' values. With `nonfinite=True` the
failing node is computed by the primitive's numpy row instead, which follows
IEEE-754, and the pass goes on from the next node.
"""

import math
import operator
from typing import Dict, List, Optional

from .errors import CgraphError, UsageError, not_inputs, unbound_inputs
from .numbers import fmt
from .primitives import CONSTANTS, PRIMITIVES, SCALAR, VARIADIC, numpy_namespace, partials
from .tape import CONST, K_ADD, K_CONST, K_LEFT, K_NEG, K_PRODUCT, K_RIGHT, K_SUB, K_UNARY, UNARY, VAR, no_gc


class Result:
    """The passes' outcome. `values[i]` and `grads[i]` belong to node i of `graph`
    (the output's cone); `grads[i]` is None for a node that depends on no input.
    With a direction (core/forward.py `attach`), `tangents[i]` and `tangent`."""

    direction = tangents = tangent = None  # forward mode's, when asked for

    def __init__(self, program, graph, values, grads, wrt, warnings):
        self.program = program
        self.graph = graph
        self.values = values
        self.grads = grads
        self.output = len(graph) - 1
        self.output_name = program.output_name
        self.value = values[-1]
        self.wrt = wrt
        inputs = graph.inputs
        if len(wrt) == len(inputs) and all(map(operator.eq, wrt, inputs)):  # the usual case: every input
            self.gradients = dict(zip(wrt, map(grads.__getitem__, inputs.values())))
        else:
            self.gradients = {name: (grads[inputs[name]] if name in inputs else 0.0) for name in wrt}
        self.warnings = warnings


def read_inputs(program):
    """The inputs the program reads up to its output's statement, in the output's
    cone or not: each must be bound (the output does not depend on one outside the
    cone, and its gradient is 0). Nodes are made in source order, so these are the
    inputs whose node comes before the output's; an input only a later statement
    reads (the label of a loss after `--output out`) need not be bound."""
    out = program.output
    inputs = program.graph.inputs
    if not inputs or next(reversed(inputs.values())) <= out:  # ids grow in order of first read
        return list(inputs)
    return [name for name, i in inputs.items() if i <= out]


def check_bindings(program, cone, bindings, wrt=None):
    """Validate bindings and --wrt. Returns (wrt names, warnings). `cone` is the
    output's subgraph: by default gradients are reported for its inputs; an input
    the program reads outside it may be named, and its gradient is 0."""
    g = program.graph
    if not CONSTANTS.keys().isdisjoint(bindings):
        name = next(name for name in bindings if name in CONSTANTS)
        raise UsageError("%s is a constant and cannot be bound" % name)
    warnings = [] if g.inputs.keys() >= bindings.keys() else [
        "%s is bound but the program never reads it" % name for name in bindings if name not in g.inputs]
    if wrt is None:
        return read_inputs(program), warnings
    bad = [w for w in wrt if w not in g.inputs]
    if bad:
        raise not_inputs("--wrt", bad, g.inputs)
    return list(dict.fromkeys(wrt)), warnings


def evaluate(program, bindings: Dict[str, float], wrt: Optional[List[str]] = None,
             nonfinite: bool = False) -> Result:
    """Forward and backward passes of `program` at `bindings` (name -> float)."""
    with no_gc():
        g, _ = program.cone()
        wrt, warnings = check_bindings(program, g, bindings, wrt)
        missing = [] if bindings.keys() >= program.graph.inputs.keys() else [
            name for name in read_inputs(program) if name not in bindings]
        if missing:
            raise unbound_inputs(missing)
        values = forward(g, bindings, nonfinite)
        grads = backward(g, values, nonfinite)
        return Result(program, g, values, grads, wrt, warnings)


# ---- forward ----------------------------------------------------------------

def forward(g, bindings, nonfinite=False):
    """Every node's value, inputs first: one loop up the tape."""
    v = list(g.attr)  # a constant's value; every other slot is written below
    for name, i in g.inputs.items():
        x = v[i] = float(bindings[name])
        if not nonfinite and not math.isfinite(x):
            raise _domain_error(g, v, i, None)
    code = g.fcode
    start = 0
    while True:
        o = -1
        try:
            for o, f, a, b in (code if start == 0 else code[start:]):
                if b >= 0:
                    v[o] = f(v[a], v[b])
                elif b == UNARY:
                    v[o] = f(v[a])
                else:
                    v[o] = f([v[j] for j in a])
            break
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            if not nonfinite:
                raise _domain_error(g, v, o, exc) from None
            v[o] = _ieee_value(g, v, o)
            start = next(k for k, c in enumerate(code) if c[0] == o) + 1
    # the sum is finite only if every value is (one inf or nan makes it inf or nan);
    # only when it is not (or it overflowed) look for the culprit
    if not nonfinite and not math.isfinite(sum(v)) and not all(map(math.isfinite, v)):
        o = next(i for i, x in enumerate(v) if not math.isfinite(x))
        raise _domain_error(g, v, o, OverflowError())
    return v


def _ieee_value(g, v, o):
    import numpy as np
    p = PRIMITIVES[g.ops[o]]
    xs = [np.float64(v[a]) for a in g.args[o]]
    with np.errstate(all="ignore"):
        r = p.vf(np, xs) if p.arity == VARIADIC else p.vf(np, *xs)
    return float(r)


# ---- backward ---------------------------------------------------------------

def backward(g, v, nonfinite=False, seed=1.0):
    """Every node's gradient of the output (the last node): the output's is `seed`,
    and each node adds upstream * local derivative to its inputs' gradients, one
    loop down the tape. Nodes that depend on no input are skipped (grad None)."""
    n = len(g.ops)
    gr: list = [0.0] * n
    if n:
        gr[-1] = seed
    code = g.bcode
    start = len(code)
    m = SCALAR
    while True:
        o = -1
        try:
            for o, k, df, a, b in reversed(code[:start]) if start < len(code) else reversed(code):
                u = gr[o]
                if k == K_PRODUCT:
                    gr[a] += u * v[b]
                    gr[b] += u * v[a]
                elif k == K_ADD:
                    gr[a] += u
                    gr[b] += u
                elif k == K_UNARY:
                    gr[a] += u * df(m, v[a], v[o])
                elif k == K_SUB:
                    gr[a] += u
                    gr[b] -= u
                elif k == K_NEG:
                    gr[a] -= u
                elif k == K_LEFT:
                    gr[a] += u * df(v[a], v[b], v[o])
                elif k == K_RIGHT:
                    gr[b] += u * df(v[a], v[b], v[o])
                elif k == K_CONST:
                    gr[a] += u * df
                else:  # K_CALL: every partial, computed before any is added
                    for j, d in zip(a, partials(df, m, [v[j] for j in a], v[o])):
                        gr[j] += u * d
            break
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            if not nonfinite:
                raise _derivative_error(g, v, o, exc) from None
            _ieee_backward(g, v, gr, o)
            start = next(k for k, c in enumerate(code) if c[0] == o)
    nodep = g.nodep
    # (a constant's gradient may be nan, as of 2 in (-2)^2: it is not reported)
    for i in nodep:
        gr[i] = 0.0
    if not nonfinite and not math.isfinite(sum(gr)):  # finite sum: every gradient is finite
        dep = g.depends
        bad = [i for i in range(n) if dep[i] and not math.isfinite(gr[i])]
        if bad:
            raise _gradient_error(g, v, gr, bad[-1])
    for i in nodep:
        gr[i] = None
    return gr


def ieee_partials(g, v, o):
    """Node o's local derivatives by the numpy namespace (IEEE-754: inf and nan
    instead of an exception), as floats, one per input."""
    import numpy as np
    xs = [np.float64(v[a]) for a in g.args[o]]
    with np.errstate(all="ignore"):
        ds = partials(PRIMITIVES[g.ops[o]], numpy_namespace(np), xs, np.float64(v[o]))
    return [float(d) for d in ds]


def _ieee_backward(g, v, gr, o):
    for a, d in zip(g.args[o], ieee_partials(g, v, o)):
        gr[a] += gr[o] * d


# ---- messages ---------------------------------------------------------------

def _at(g, v, o, texts):
    """`x - 1 = -2, y = 3`: the values of node o's inputs that are not plain numbers."""
    parts = ["%s = %s" % (texts[a], fmt(v[a])) for a in dict.fromkeys(g.args[o]) if g.ops[a] != CONST]
    return (" at " + ", ".join(parts)) if parts else ""


NONFINITE = "--nonfinite lets inf and nan through"  # the hint of every domain error


def _domain_error(g, v, o, exc):
    texts = g.exprs(upto=o)
    if exc is None or g.ops[o] == VAR:
        return CgraphError("input %s = %s is not finite" % (texts[o], fmt(v[o])), hint=NONFINITE)
    if isinstance(exc, OverflowError):
        what = "overflows (beyond the largest double, about 1.8e308)"
    elif isinstance(exc, ZeroDivisionError):
        what = "divides by zero"
    else:
        what = "is undefined"
    return CgraphError("%s %s%s" % (texts[o], what, _at(g, v, o, texts)), hint=NONFINITE)


def _derivative_error(g, v, o, exc):
    texts = g.exprs(upto=o)
    what = "overflows" if isinstance(exc, OverflowError) else "is infinite or undefined"
    return CgraphError("the derivative of %s %s%s" % (texts[o], what, _at(g, v, o, texts)), hint=NONFINITE)


def _gradient_error(g, v, gr, bad):
    texts = g.exprs()
    users = [u for u in range(bad + 1, len(g.ops)) if bad in g.args[u] and math.isfinite(gr[u])]
    if users:
        u = users[0]
        return CgraphError("the derivative of %s with respect to %s is %s%s" % (
            texts[u], texts[bad], "undefined" if math.isnan(gr[bad]) else "infinite",
            _at(g, v, u, texts)), hint=NONFINITE)
    return CgraphError("the gradient of %s is %s" % (texts[bad], fmt(gr[bad])), hint=NONFINITE)
