"""Number rules of the simplifier: when to fold numbers, and the term and factor
accumulators the Builder collects products and sums in."""

import math
from fractions import Fraction

from ...core.primitives import PRIMITIVES, VARIADIC

_EXACT_OPS = ("add", "sub", "mul", "neg", "min", "max", "abs", "sign", "step", "relu")


def exact_quotient(a, b, r):
    try:
        return Fraction(a) / Fraction(b) == Fraction(r)
    except (ZeroDivisionError, ValueError, OverflowError):
        return False


def integral(r):
    return r == math.floor(r) and abs(r) < 2.0 ** 53


def fold(op, vals):
    """The value of op on numbers, if a person would write the result instead
    of the operation: always for + - * and selections (so that coefficients
    collect), for / and ^ when the result is exact (1/4 -> 0.25, not 1/3), for
    functions when it is an integer (log(1) -> 0, but log(2) stays). The value
    is the primitive's own, so folding never changes it. None: do not fold."""
    p = PRIMITIVES[op]
    try:
        r = p.f(list(vals)) if p.arity == VARIADIC else p.f(*vals)
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return None
    r = float(r)
    if not math.isfinite(r):
        return None
    if op in _EXACT_OPS:
        return r
    if op == "div":
        return r if exact_quotient(vals[0], vals[1], r) else None
    if op == "pow":
        a, b = vals
        if integral(b) and abs(b) <= 64:
            try:
                return r if Fraction(a) ** int(b) == Fraction(r) else None
            except (ZeroDivisionError, OverflowError):
                return None
    return r if integral(r) else None


def merge(terms, t):
    """Add the term t = (num, den, nums, dens) to the like terms in `terms`."""
    if t is None:
        return
    num, den, nums, dens = t
    key = (tuple(nums), tuple(dens))
    old = terms.get(key)
    if old is None:
        terms[key] = [num, den, nums, dens]
    elif old[1] == den:
        old[0] += num
    else:
        old[0], old[1] = old[0] / old[1] + num / den, 1.0


def count(terms):
    return sum(1 for t in terms.values() if t[0] != 0)


def add_factor(acc, node, e):
    f = acc[2].get(node)
    if f is None:
        f = acc[2][node] = [0, 0]
    if e > 0:
        f[0] += e
    else:
        f[1] += e


def add_number(acc, v, k):
    """Multiply the coefficient by v^k. False when that is not a plain number
    (v = 0 in a denominator, an overflow): the factor then stays as it is."""
    if v == 0:
        if k < 0:
            return False
        acc[0] = 0.0
        return True
    try:
        p = v ** abs(k)
    except OverflowError:
        return False
    if not math.isfinite(p) or p == 0:
        return False
    slot = 0 if k > 0 else 1
    r = acc[slot] * p
    if not math.isfinite(r) or r == 0:
        return False
    acc[slot] = r
    return True
