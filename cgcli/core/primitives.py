"""The table of primitives: one row per operation.

A row gives the operation's arity, its forward function, its local derivatives
(the partials of the output with respect to each input, reusing the output where
that is cheaper: exp' = exp, tanh' = 1 - tanh^2), the same two for whole numpy
columns, and how it is written. Adding an operation is adding one row.

Scalar rows use `math`, so a domain error raises (ValueError, ZeroDivisionError,
OverflowError) and the evaluator can name the node. Vector rows take the numpy
module as their first argument and follow IEEE-754 (inf and nan flow through);
they also give `--nonfinite` its values when a scalar row raises.

Kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0, tied min/max arguments share
the gradient equally, 0^0 = 1 with a base gradient of 0, and the exponent's
gradient of 0^y is 0 for y >= 0.
"""

import math
import operator
from typing import Callable, NamedTuple, Optional

VARIADIC = -1
PRODUCT = "product"  # d(x*y)/dx = y, d(x*y)/dy = x

# Precedence for writing expressions back: higher binds tighter.
P_SUM, P_PRODUCT, P_UNARY, P_POWER, P_ATOM = 1, 2, 3, 4, 5


class Primitive(NamedTuple):
    name: str
    arity: int  # 1, 2 or VARIADIC
    f: Callable  # scalar forward
    # Scalar local derivatives: unary (x, out) -> d; binary (x, y, out) -> (dx, dy);
    # variadic (xs, out) -> [d]. Two shapes the backward loop runs without a call:
    # a tuple of constant partials (a linear operation), and PRODUCT (each
    # input's partial is the other input).
    df: object
    vf: Callable  # numpy forward: (np, *args)
    vdf: Callable  # numpy local derivatives: (np, *args, out), shaped as df
    symbol: Optional[str] = None  # infix or prefix operator; None for a call
    prec: int = P_ATOM
    dtext: tuple = ()  # the local derivatives in words, for `cgraph explain` (filled in from _DTEXT below)
    # Symbolic local derivatives, shaped as df: unary (b, x, out) -> node; binary
    # (b, x, y, out) -> (dx, dy); variadic (b, xs, out) -> [d]. x, y, out are node
    # ids and b is a simplifying builder over the same graph (cgcli/derive.py), so
    # the partials are new nodes of the tape. A partial that b.wants() does not
    # ask for may be None.
    sd: Optional[Callable] = None


# ---- named helpers for the kinks -------------------------------------------

def _step(x):
    """relu'(x): 1 where x > 0, else 0 (PyTorch: relu'(0) = 0)."""
    return 1.0 if x > 0 else 0.0


def _sign(x):
    """abs'(x): -1, 0 or 1 (PyTorch: abs'(0) = 0)."""
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def _pow(x, y):
    # math.pow raises for 0^-1 (ValueError), (-8)^(1/3) (ValueError) and
    # overflow (OverflowError); the ** operator would return a complex or raise
    # ZeroDivisionError instead.
    if x == 0 and y < 0:
        raise ZeroDivisionError("0 to a negative power")
    return math.pow(x, y)


def _dpow(x, y, out):
    """Partials of x^y with PyTorch's guards at 0: d/dx is 0 where y = 0, and
    d/dy is 0 where x = 0 and y >= 0. For x < 0, d/dy has no real value (nan);
    it matters only when the exponent depends on an input."""
    dx = dpow_base(x, y)
    if x == 0:
        dy = 0.0 if y >= 0 else -math.inf  # out * log(0) = inf * -inf
    else:
        dy = out * math.log(x) if x > 0 else math.nan
    return dx, dy


def dpow_base(x, y):
    """d(x^y)/dx alone (the backward loop's rule when the exponent is a constant)."""
    if x == 0:
        # y * 0^(y-1): 0 for y = 0 or y > 1, 1 for y = 1, +inf for 0 < y < 1, -inf for y < 0
        return 0.0 if (y == 0 or y > 1) else (1.0 if y == 1 else (math.inf if y > 0 else -math.inf))
    return 0.0 if y == 0 else y * math.pow(x, y - 1)


def _vdpow(np, x, y, out):
    dx = np.where(y == 0, 0.0, y * np.power(x, y - 1))
    dy = np.where((x == 0) & (y >= 0), 0.0, out * np.log(x))
    return dx, dy


def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _vsigmoid(np, x):
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def _softplus(x):
    return math.log1p(math.exp(-abs(x))) + max(x, 0.0)


def _relu(x):
    return x if (x > 0 or x != x) else 0.0  # nan stays nan


def _min(xs):
    for x in xs:
        if x != x:  # Python's min drops a nan or not depending on its place; IEEE keeps it
            return x
    return min(xs)


def _max(xs):
    for x in xs:
        if x != x:
            return x
    return max(xs)


def _tied(xs, out):
    """Share the gradient equally among the arguments equal to the result (min/max ties)."""
    n = 0
    for v in xs:
        if v == out:
            n += 1
    share = 1.0 / n if n else 0.0
    return [share if v == out else 0.0 for v in xs]


def _vtied(np, xs, out):
    hits = [x == out for x in xs]
    n = sum(h.astype(float) for h in hits)
    return [np.where(h, 1.0 / n, 0.0) for h in hits]


def _vmin(np, xs):
    r = xs[0]
    for x in xs[1:]:
        r = np.minimum(r, x)
    return r


def _vmax(np, xs):
    r = xs[0]
    for x in xs[1:]:
        r = np.maximum(r, x)
    return r


def _signum(x):
    """sign(x): -1, 0 or 1 (and nan for nan)."""
    return 1.0 if x > 0 else (-1.0 if x < 0 else (0.0 if x == 0 else x))


# ---- symbolic derivatives ----------------------------------------------------
# Each builds the local partials as nodes with the builder b (see the Primitive
# field `sd`); they read like the numeric rows and reuse the output node where
# those do (exp' = exp, tanh' = 1 - tanh^2).

def _sd_div(b, x, y, o):
    # d(x/y)/dy = -(x/y)/y, which the builder writes -x/y^2
    return (b.div(b.num(1), y) if b.wants(x) else None,
            b.neg(b.div(o, y)) if b.wants(y) else None)


def _sd_pow(b, x, y, o):
    """x^y: y*x^(y - 1) and x^y*log(x), each only when asked for, so a constant
    exponent never brings in log(x) (x may be negative) and a constant base folds
    log(e) to 1. With the builder, x^0 has derivative 0 and x^1 has 1. The one
    place where the printed derivative and _dpow differ: at x = 0 with an exponent
    that depends on an input, these are undefined (log(0), 0^-1) where _dpow takes
    PyTorch's limits; the language has no guard that would not be evaluated."""
    dx = b.mul(y, b.pow(x, b.sub(y, b.num(1)))) if b.wants(x) else None
    dy = b.mul(o, b.call("log", x)) if b.wants(y) else None
    return dx, dy


def _sd_extreme(sgn):
    """min (sgn -1) and max (sgn 1): the tied arguments share the gradient equally,
    as in the numeric rows. With two arguments, d max(a, b)/da = (1 + sign(a - b))/2;
    with more, d/da_i = (1 + sign(a_i - m))/(n + sum_j sign(a_j - m)), m the output
    (for min the signs are negated): the count of ties is in the denominator.
    a - b is taken exactly as the tape has a and b (b.exact_sub), so that equal
    values stay equal."""
    def sd(b, xs, o):
        n = len(xs)
        if n == 1:
            return [b.num(1)]
        if n == 2:
            s = b.call("sign", b.exact_sub(xs[0], xs[1]))
            if sgn < 0:
                s = b.neg(s)
            half = b.num(0.5)
            return [b.mul(half, b.add(b.num(1), s)), b.mul(half, b.sub(b.num(1), s))]
        ss = [b.call("sign", b.exact_sub(a, o)) for a in xs]
        if sgn < 0:
            ss = [b.neg(s) for s in ss]
        den = b.sum([b.num(n)] + ss)
        return [b.div(b.add(b.num(1), s), den) for s in ss]
    return sd


def _one(b, *_):
    return b.num(1), b.num(1)


LN2 = math.log(2.0)
LN10 = math.log(10.0)

_ROWS = [
    # name, arity, forward, local derivatives, numpy forward, numpy local derivatives, symbol, precedence,
    # symbolic local derivatives
    Primitive("add", 2, operator.add, (1.0, 1.0),
              lambda np, x, y: x + y, lambda np, x, y, o: (1.0, 1.0), "+", P_SUM,
              sd=_one),
    Primitive("sub", 2, operator.sub, (1.0, -1.0),
              lambda np, x, y: x - y, lambda np, x, y, o: (1.0, -1.0), "-", P_SUM,
              sd=lambda b, x, y, o: (b.num(1), b.num(-1))),
    Primitive("mul", 2, operator.mul, PRODUCT,
              lambda np, x, y: x * y, lambda np, x, y, o: (y, x), "*", P_PRODUCT,
              sd=lambda b, x, y, o: (y, x)),
    Primitive("div", 2, operator.truediv, lambda x, y, o: (1.0 / y, -o / y),
              lambda np, x, y: x / y, lambda np, x, y, o: (1.0 / y, -o / y), "/", P_PRODUCT,
              sd=_sd_div),
    Primitive("neg", 1, operator.neg, (-1.0,),
              lambda np, x: -x, lambda np, x, o: -1.0, "-", P_UNARY,
              sd=lambda b, x, o: b.num(-1)),
    Primitive("pow", 2, _pow, _dpow,
              lambda np, x, y: np.power(x, y), _vdpow, "^", P_POWER,
              sd=_sd_pow),
    Primitive("exp", 1, math.exp, lambda x, o: o,
              lambda np, x: np.exp(x), lambda np, x, o: o,
              sd=lambda b, x, o: o),
    Primitive("log", 1, math.log, lambda x, o: 1.0 / x,
              lambda np, x: np.log(x), lambda np, x, o: 1.0 / x,
              sd=lambda b, x, o: b.div(b.num(1), x)),
    Primitive("log2", 1, math.log2, lambda x, o: 1.0 / (x * LN2),
              lambda np, x: np.log2(x), lambda np, x, o: 1.0 / (x * LN2),
              sd=lambda b, x, o: b.div(b.num(1), b.mul(x, b.call("log", b.num(2))))),
    Primitive("log10", 1, math.log10, lambda x, o: 1.0 / (x * LN10),
              lambda np, x: np.log10(x), lambda np, x, o: 1.0 / (x * LN10),
              sd=lambda b, x, o: b.div(b.num(1), b.mul(x, b.call("log", b.num(10))))),
    Primitive("sqrt", 1, math.sqrt, lambda x, o: 0.5 / o,
              lambda np, x: np.sqrt(x), lambda np, x, o: 0.5 / o,
              sd=lambda b, x, o: b.div(b.num(0.5), o)),
    Primitive("sin", 1, math.sin, lambda x, o: math.cos(x),
              lambda np, x: np.sin(x), lambda np, x, o: np.cos(x),
              sd=lambda b, x, o: b.call("cos", x)),
    Primitive("cos", 1, math.cos, lambda x, o: -math.sin(x),
              lambda np, x: np.cos(x), lambda np, x, o: -np.sin(x),
              sd=lambda b, x, o: b.neg(b.call("sin", x))),
    Primitive("tan", 1, math.tan, lambda x, o: 1.0 + o * o,
              lambda np, x: np.tan(x), lambda np, x, o: 1.0 + o * o,
              sd=lambda b, x, o: b.add(b.num(1), b.pow(o, b.num(2)))),
    Primitive("asin", 1, math.asin, lambda x, o: 1.0 / math.sqrt(1.0 - x * x),
              lambda np, x: np.arcsin(x), lambda np, x, o: 1.0 / np.sqrt(1.0 - x * x),
              sd=lambda b, x, o: b.div(b.num(1), b.call("sqrt", b.sub(b.num(1), b.pow(x, b.num(2)))))),
    Primitive("acos", 1, math.acos, lambda x, o: -1.0 / math.sqrt(1.0 - x * x),
              lambda np, x: np.arccos(x), lambda np, x, o: -1.0 / np.sqrt(1.0 - x * x),
              sd=lambda b, x, o: b.div(b.num(-1), b.call("sqrt", b.sub(b.num(1), b.pow(x, b.num(2)))))),
    Primitive("atan", 1, math.atan, lambda x, o: 1.0 / (1.0 + x * x),
              lambda np, x: np.arctan(x), lambda np, x, o: 1.0 / (1.0 + x * x),
              sd=lambda b, x, o: b.div(b.num(1), b.add(b.num(1), b.pow(x, b.num(2))))),
    Primitive("sinh", 1, math.sinh, lambda x, o: math.cosh(x),
              lambda np, x: np.sinh(x), lambda np, x, o: np.cosh(x),
              sd=lambda b, x, o: b.call("cosh", x)),
    Primitive("cosh", 1, math.cosh, lambda x, o: math.sinh(x),
              lambda np, x: np.cosh(x), lambda np, x, o: np.sinh(x),
              sd=lambda b, x, o: b.call("sinh", x)),
    Primitive("tanh", 1, math.tanh, lambda x, o: 1.0 - o * o,
              lambda np, x: np.tanh(x), lambda np, x, o: 1.0 - o * o,
              sd=lambda b, x, o: b.sub(b.num(1), b.pow(o, b.num(2)))),
    Primitive("sigmoid", 1, _sigmoid, lambda x, o: o * (1.0 - o),
              _vsigmoid, lambda np, x, o: o * (1.0 - o),
              sd=lambda b, x, o: b.mul(o, b.sub(b.num(1), o))),
    Primitive("relu", 1, _relu, lambda x, o: _step(x),
              lambda np, x: np.maximum(x, 0.0), lambda np, x, o: (x > 0).astype(float),
              sd=lambda b, x, o: b.call("step", x)),
    Primitive("softplus", 1, _softplus, lambda x, o: _sigmoid(x),
              lambda np, x: np.logaddexp(0.0, x), lambda np, x, o: _vsigmoid(np, x),
              sd=lambda b, x, o: b.call("sigmoid", x)),
    Primitive("abs", 1, abs, lambda x, o: _sign(x),
              lambda np, x: np.abs(x), lambda np, x, o: np.where(np.isnan(x), 0.0, np.sign(x)),
              sd=lambda b, x, o: b.call("sign", x)),
    Primitive("min", VARIADIC, _min, _tied, _vmin, _vtied, sd=_sd_extreme(-1)),
    Primitive("max", VARIADIC, _max, _tied, _vmax, _vtied, sd=_sd_extreme(1)),
    # The derivatives of relu and abs (and of min/max ties), so that a printed
    # derivative is in the language: step(x) is 1 for x > 0, else 0 (step(0) = 0,
    # as relu'(0) = 0); sign(x) is -1, 0 or 1. Their own derivative is 0.
    Primitive("step", 1, _step, (0.0,),
              lambda np, x: np.where(x > 0, 1.0, 0.0), lambda np, x, o: np.zeros_like(x),
              sd=lambda b, x, o: b.num(0)),
    Primitive("sign", 1, _signum, (0.0,),
              lambda np, x: np.sign(x), lambda np, x, o: np.zeros_like(x),
              sd=lambda b, x, o: b.num(0)),
]

# The local derivatives as formulas, per input ({0}, {1}: the inputs; a
# variadic row's one formula is for its argument {0}). `cgraph explain` shows
# them beside their numbers; they describe `df` above and must agree with it.
_DTEXT = {
    "add": ("1", "1"), "sub": ("1", "-1"), "mul": ("{1}", "{0}"),
    "div": ("1/{1}", "-{0}/{1}^2"), "neg": ("-1",),
    "pow": ("{1} * {0}^({1} - 1)", "{0}^{1} * log({0})"),
    "exp": ("exp({0})",), "log": ("1/{0}",),
    "log2": ("1/({0} * log(2))",), "log10": ("1/({0} * log(10))",),
    "sqrt": ("1/(2 * sqrt({0}))",), "sin": ("cos({0})",), "cos": ("-sin({0})",),
    "tan": ("1 + tan({0})^2",), "asin": ("1/sqrt(1 - {0}^2)",),
    "acos": ("-1/sqrt(1 - {0}^2)",), "atan": ("1/(1 + {0}^2)",),
    "sinh": ("cosh({0})",), "cosh": ("sinh({0})",), "tanh": ("1 - tanh({0})^2",),
    "sigmoid": ("sigmoid({0}) * (1 - sigmoid({0}))",), "relu": ("1 if {0} > 0 else 0",),
    "softplus": ("sigmoid({0})",), "abs": ("sign({0})",), "step": ("0",), "sign": ("0",),
    "min": ("1 if {0} is the smallest argument else 0 (ties share it)",),
    "max": ("1 if {0} is the largest argument else 0 (ties share it)",),
}
_ROWS = [p._replace(dtext=_DTEXT.get(p.name, ())) for p in _ROWS]

PRIMITIVES = {p.name: p for p in _ROWS}

# Names a program can call: every row but the operators, plus pow(a, b) for a ^ b.
FUNCTIONS = {p.name: p for p in _ROWS if p.symbol is None}
FUNCTIONS["pow"] = PRIMITIVES["pow"]

CONSTANTS = {"pi": math.pi, "e": math.e}
