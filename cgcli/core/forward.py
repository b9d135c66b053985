"""Forward-mode AD: the tangent sweep, one loop up the tape.

A direction gives each input a tangent (`--tangent x=1`; inputs not named have
tangent 0). Each node's tangent is the sum over its inputs of local partial *
input tangent, so the output's tangent is the directional derivative of the
output along the direction: the gradient's dot product with it. One sweep gives
the derivative along one direction for every node; reverse mode gives every
input's gradient of one output in one backward sweep.

The local partials are the primitive table's (`partials()`, the rule stated once
in core/primitives.py), run through the same entries as the backward loop
(tape.bcode), so kinks follow the backward pass's conventions (relu'(0) = 0, tied
min/max share equally, 0^y's guards). A partial that raises is a derivative
error, as in the backward pass; with `nonfinite` it is computed by the numpy
namespace (IEEE-754) and the sweep goes on. Operands that depend on no input
have tangent 0 and are left out of the sum (their partial is not computed).
A node that depends on no input has no tangent (None), like its gradient.
"""

import math

from .errors import CgraphError, UsageError, not_inputs
from .numbers import fmt
from .primitives import SCALAR, numpy_namespace, partials
from .tape import K_ADD, K_CONST, K_LEFT, K_NEG, K_PRODUCT, K_RIGHT, K_SUB, K_UNARY, no_gc

NONFINITE = "--nonfinite lets inf and nan through"


def check_direction(program, direction, option="--tangent"):
    """`direction` (name -> number) checked: every name an input of the program,
    every tangent a finite number. Returns {name: float}."""
    out = {}
    for name, t in direction.items():
        if isinstance(t, (str, bytes, bool)):
            raise UsageError("%s %s: expected a number, not %r" % (option, name, t))
        try:
            x = float(t)
        except (TypeError, ValueError):
            raise UsageError("%s %s: expected a number, not %r" % (option, name, t)) from None
        if not math.isfinite(x):
            raise UsageError("%s %s=%s: a tangent is a finite number" % (option, name, fmt(x)))
        out[name] = x
    inputs = program.graph.inputs
    bad = [n for n in out if n not in inputs]
    if bad:
        raise not_inputs(option, bad, inputs)
    return out


def tangents(g, v, direction, nonfinite=False):
    """Every node's tangent along `direction` ({input name: tangent}) at the values
    `v` of the forward pass: one loop up the tape. None where a node depends on no input."""
    n = len(g.ops)
    t: list = [0.0] * n
    for name, i in g.inputs.items():
        t[i] = float(direction.get(name, 0.0))
    dep = g.depends
    m = SCALAR
    with no_gc():
        for o, k, df, a, b in g.bcode:
            try:
                if k == K_PRODUCT:
                    if dep[a] and dep[b]:
                        t[o] = t[a] * v[b] + v[a] * t[b]
                    else:  # x * c: the constant's tangent is 0, and is left out
                        t[o] = t[a] * v[b] if dep[a] else v[a] * t[b]
                elif k == K_ADD:
                    t[o] = t[a] + t[b]
                elif k == K_UNARY:
                    t[o] = df(m, v[a], v[o]) * t[a]
                elif k == K_SUB:
                    t[o] = t[a] - t[b]
                elif k == K_NEG:
                    t[o] = -t[a]
                elif k == K_LEFT:
                    t[o] = df(v[a], v[b], v[o]) * t[a]
                elif k == K_RIGHT:
                    t[o] = df(v[a], v[b], v[o]) * t[b]
                elif k == K_CONST:
                    t[o] = df * t[a]
                else:  # K_CALL
                    t[o] = _call(df, m, a, v, t, dep, o)
            except (ValueError, ZeroDivisionError, OverflowError) as exc:
                if not nonfinite:
                    from .passes import _derivative_error
                    raise _derivative_error(g, v, o, exc) from None
                from .passes import ieee_partials
                t[o] = sum(d * t[j] for j, d in zip(g.args[o], ieee_partials(g, v, o)) if dep[j])
    if not nonfinite and not math.isfinite(sum(t[i] for i in range(n) if dep[i])):
        bad = next(i for i in range(n) if dep[i] and not math.isfinite(t[i]))
        texts = g.exprs(upto=bad)
        raise CgraphError("the tangent of %s is %s" % (texts[bad], fmt(t[bad])), hint=NONFINITE)
    for i in g.nodep:
        t[i] = None
    return t


def _call(p, m, a, v, t, dep, o):
    total = 0.0
    for j, d in zip(a, partials(p, m, [v[j] for j in a], v[o], [dep[j] for j in a])):
        if dep[j]:
            total += d * t[j]
    return total


def column_tangents(np, g, v, direction, size):
    """The tangent sweep over numpy columns (`v`: the column forward pass's values),
    IEEE-754 as core/columns.py: arrays, None where a node depends on no input."""
    n = len(g.ops)
    t: list = [None] * n
    dep = g.depends
    for name, i in g.inputs.items():
        t[i] = np.full(size, float(direction.get(name, 0.0)))
    m = numpy_namespace(np)
    from .primitives import PRIMITIVES
    with np.errstate(all="ignore"):
        for o, _k, _df, _a, _b in g.bcode:
            args = g.args[o]
            ds = partials(PRIMITIVES[g.ops[o]], m, [v[j] for j in args], v[o], [dep[j] for j in args])
            total = np.zeros(size)
            for j, d in zip(args, ds):
                if dep[j]:
                    total = total + d * t[j]
            t[o] = total
    return t


def attach(result, program, direction, nonfinite=False):
    """Run the tangent sweep for `result` (core/passes.Result) along `direction`
    (checked by check_direction): sets result.direction, .tangents (per node of
    the cone) and .tangent (the output's). Returns the result."""
    d = check_direction(program, direction)
    t = tangents(result.graph, result.values, d, nonfinite)
    result.direction = d
    result.tangents = t
    result.tangent = t[-1] if t and t[-1] is not None else 0.0
    return result


def json_fields(obj, direction, tangent, node_tangents):
    """The JSON object of one evaluation (`output`, `value`, `gradients`, `nodes`)
    with forward mode's keys: `direction` and `tangent` before `nodes`, and each
    node's `tangent` (null for a node that depends on no input)."""
    from .numbers import json_number
    nodes = obj.pop("nodes")
    obj["direction"] = {k: json_number(x) for k, x in direction.items()}
    obj["tangent"] = json_number(tangent)
    for node in nodes:
        t = node_tangents[node["id"]]
        node["tangent"] = None if t is None else json_number(t)
    obj["nodes"] = nodes
    return obj


def column_partials(np, g, v, size):
    """Every node's local partials over numpy columns (IEEE-754), computed once for
    all the tangent sweeps of a Jacobian: per node, [(operand, partial)] for its
    operands that depend on an input (None for a leaf or a node that depends on
    none), and a boolean mask of the rows where such a partial is not finite (the
    rows where a backward pass would make a gradient non-finite)."""
    m = numpy_namespace(np)
    from .primitives import PRIMITIVES
    from .tape import CONST, VAR
    dep = g.depends
    parts: list = [None] * len(g.ops)
    bad = np.zeros(size, dtype=bool)
    with np.errstate(all="ignore"):
        for o, op in enumerate(g.ops):
            if op == VAR or op == CONST or not dep[o]:
                continue
            args = g.args[o]
            ds = partials(PRIMITIVES[op], m, [v[j] for j in args], v[o], [dep[j] for j in args])
            parts[o] = [(j, d) for j, d in zip(args, ds) if dep[j]]
            for _, d in parts[o]:
                bad |= ~np.isfinite(d)
    return parts, bad


def column_sweep(np, g, parts, name, size):
    """One tangent sweep along e_name over the columns, from `column_partials`: each
    node's derivative by input `name` (an array), None where the node does not depend
    on it. Operands that do not depend on `name` are left out (their tangent is 0), so
    the sum is over the paths from `name`, as the backward pass sums over the paths
    to the output: a non-finite partial off those paths does not reach the result."""
    t: list = [None] * len(g.ops)
    if name not in g.inputs:
        return t
    t[g.inputs[name]] = np.ones(size)
    with np.errstate(all="ignore"):
        for o, ps in enumerate(parts):
            if ps is None:
                continue
            total = None
            for j, d in ps:
                if t[j] is not None:
                    total = d * t[j] if total is None else total + d * t[j]
            t[o] = total
    return t
