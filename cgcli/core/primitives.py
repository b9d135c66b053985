"""The table of primitives: one row per operation, written with keyword fields.

A row states the operation's arity, its forward function on floats (`f`, with
`math`) and on numpy columns (`vf`, numpy passed in), how it is written
(`symbol`, `prec`), and its local derivatives ONCE, as `d`:

    Primitive(name="tanh", arity=1, f=math.tanh, vf=lambda np, x: np.tanh(x),
              d=lambda m, x, out: 1.0 - out * out)
    Primitive(name="div", arity=2, symbol="/", prec=P_PRODUCT, f=..., vf=...,
              d=(lambda m, x, y, out: 1.0 / y, lambda m, x, y, out: -(out / y)))

A rule is a function of a namespace `m` (the functions it calls: m.cos, m.sqrt
and the named kink helpers m.step, m.sign, m.tied), the operands and the output
(reused where that is cheaper: exp' = exp, tanh' = 1 - tanh^2); or a helper by
name, HELPER.dpow_base meaning m.dpow_base(x, y, out) (pow's guards at 0). A
unary row has one rule, a binary row one per input (so that only the wanted
partials are built), a variadic row one rule giving the list; a constant
partial may be written as the number. `partials()` runs the
rules for one node with the namespace of the pass, so every form is derived
from the one statement:

  - numbers: `SCALAR` (floats, `math`: a domain error raises ValueError,
    ZeroDivisionError or OverflowError, and the evaluator names the node);
  - columns: `numpy_namespace(np)` (IEEE-754: inf and nan flow through; it also
    gives `--nonfinite` its values where a scalar rule raises);
  - nodes: the symbolic namespace of features/derive (operands overload
    + - * / ** and build simplified nodes of the tape);
  - text: core/formula.py (`cgraph explain` shows the rule as a formula, `dtext`).

The forward stays two functions (`f`, `vf`): stated over `m` it would cost a
Python call per node around builtins such as math.tanh, and the forward is the
hot loop. A rule is a Python expression over the operands, which each
namespace's operand type evaluates: no parser, no source transformation.

Kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0, tied min/max arguments share
the gradient equally, 0^0 = 1 with a base gradient of 0, and the exponent's
gradient of 0^y is 0 for y >= 0.
"""

import functools
import math
import operator

VARIADIC = -1
PRODUCT = "product"  # a binary row whose partials are the other operand (mul): d(x*y)/dx = y
CONSTANT = "constant"  # every partial a number (add, sub, neg, step, sign)
RULE = "rule"

# Precedence for writing expressions back: higher binds tighter.
P_SUM, P_PRODUCT, P_UNARY, P_POWER, P_ATOM = 1, 2, 3, 4, 5

LN2 = math.log(2.0)
LN10 = math.log(10.0)


class Primitive:
    """One row. Stated: name, arity (1, 2 or VARIADIC), f, vf, d, symbol (infix or
    prefix operator; None for a call), prec. Derived from d: `rules` (one function
    per input; a variadic row's one function gives the list), `consts` (the
    partials when every one is a number, else None) and `kind` (CONSTANT, PRODUCT
    or RULE), which the tape reads to pick the backward loop's fast path."""

    __slots__ = ("name", "arity", "f", "vf", "d", "symbol", "prec", "rules", "consts", "kind")
    FIELDS = ("name", "arity", "f", "vf", "d", "symbol", "prec")

    def __init__(self, *, name, arity, f, vf, d, symbol=None, prec=P_ATOM):
        self.name, self.arity, self.f, self.vf, self.d = name, arity, f, vf, d
        self.symbol, self.prec = symbol, prec
        if arity == VARIADIC:
            self.rules, self.consts, self.kind = (d,), None, RULE
            return
        stated = (d,) if arity == 1 else tuple(d)
        if len(stated) != arity:
            raise ValueError("%s: %d partials for arity %d" % (name, len(stated), arity))
        self.rules = tuple(_constant(r) if _is_number(r) else r for r in stated)
        if all(_is_number(r) for r in stated):
            self.consts, self.kind = tuple(float(r) for r in stated), CONSTANT
        else:
            self.consts, self.kind = None, PRODUCT if _is_product(self.rules) else RULE

    def _replace(self, **changes):
        """A copy with some stated fields changed (its derived fields follow)."""
        fields = {k: getattr(self, k) for k in self.FIELDS}
        fields.update(changes)
        return Primitive(**fields)

    def __repr__(self):
        return "Primitive(name=%r, arity=%r)" % (self.name, self.arity)

    # ---- derived views, in the call shape of the row's arity: unary (x, out) -> d,
    # binary (x, y, out) -> (dx, dy), variadic (xs, out) -> [d] ----

    def df(self, *args):
        """The scalar local derivatives at one point (SCALAR namespace)."""
        return self._shaped(SCALAR, args)

    def vdf(self, np, *args):
        """The numpy local derivatives, for columns or np.float64 scalars."""
        return self._shaped(numpy_namespace(np), args)

    def _shaped(self, m, args):
        *xs, out = args
        ds = partials(self, m, xs[0] if self.arity == VARIADIC else xs, out)
        return ds if self.arity == VARIADIC else (ds[0] if self.arity == 1 else tuple(ds))

    @property
    def dtext(self):
        """The local derivatives as formula templates ({0}, {1}: the operands; a
        variadic row's one formula is for its argument {0}), for `cgraph explain`."""
        from .formula import rule_text
        return rule_text(self, 1 if self.arity == VARIADIC else self.arity)


def partials(p, m, xs, out, want=None):
    """The local derivatives of one node of primitive p, with namespace m: the
    operands' values `xs` (floats, columns, symbolic or text operands) and the
    node's value `out`. A list, one per operand, each as m.lift makes it; with
    `want` (a flag per operand), an unwanted partial of a fixed-arity row is not
    computed and is None. The one place a row's rules are run: every pass calls it."""
    if p.arity == VARIADIC:
        lift = m.lift
        return [lift(r) for r in p.rules[0](m, xs, out)]
    return [m.lift(rule(m, *xs, out)) if want is None or want[k] else None
            for k, rule in enumerate(p.rules)]


class _Helpers:
    """`HELPER.name` is the rule "the namespace's helper `name` of (operands..., out)":
    a kink stated by name (pow's d). The scalar pass calls SCALAR's helper directly."""

    def __getattr__(self, name):
        def rule(m, *args):
            return getattr(m, name)(*args)
        rule.helper = name  # type: ignore[attr-defined]
        return rule


HELPER = _Helpers()


def scalar_rule(rule):
    """A rule with the scalar namespace bound: f(*operands, out)."""
    name = getattr(rule, "helper", None)
    return getattr(SCALAR, name) if name else functools.partial(rule, SCALAR)


def _is_number(r):
    return isinstance(r, (int, float)) and not isinstance(r, bool)


def _constant(c):
    c = float(c)
    return lambda m, *args: c


def _is_product(rules):
    """Whether each partial is the other operand, read off the rules themselves by
    running them on bare markers (any arithmetic or m.function on those fails)."""
    x, y, out = object(), object(), object()
    try:
        return len(rules) == 2 and rules[0](None, x, y, out) is y and rules[1](None, x, y, out) is x
    except (TypeError, AttributeError):
        return False


# ---- the kink helpers and the namespaces ---------------------------------------

class Namespace:
    """The functions a rule calls, for one kind of operand; `lift` makes a rule's
    result (or a constant partial) that kind of value."""

    def __init__(self, **fns):
        self.__dict__.update(fns)


def _step(x):
    """relu'(x): 1 where x > 0, else 0 (PyTorch: relu'(0) = 0)."""
    return 1.0 if x > 0 else 0.0


def _sign(x):
    """abs'(x): -1, 0 or 1 (PyTorch: abs'(0) = 0; 0 for nan, as the numpy rule)."""
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def _tied(xs, out, largest=True):
    """Share the gradient equally among the arguments equal to the result (min/max
    ties). `largest` tells max from min; the numbers need only `out`."""
    n = 0
    for v in xs:
        if v == out:
            n += 1
    share = 1.0 / n if n else 0.0
    return [share if v == out else 0.0 for v in xs]


def dpow_base(x, y, out):
    """d(x^y)/dx with PyTorch's guard at 0: 0 where y = 0."""
    if x == 0:
        # y * 0^(y-1): 0 for y = 0 or y > 1, 1 for y = 1, +inf for 0 < y < 1, -inf for y < 0
        return 0.0 if (y == 0 or y > 1) else (1.0 if y == 1 else (math.inf if y > 0 else -math.inf))
    if y == 0:
        return 0.0
    try:
        return y * math.pow(x, y - 1)
    except OverflowError:
        # x^(y-1) overflows where y * x^(y-1) need not (x^1e-20 at x = 1e-320):
        # in logs, |y| x^(y-1) = exp(log|y| + (y-1) log|x|); math.exp raises only
        # when the derivative itself overflows. x < 0 has an integer y (the forward
        # passed), and the sign of x^(y-1) is that of (-1)^(y-1).
        mag = math.exp(math.log(abs(y)) + (y - 1) * math.log(abs(x)))
        odd = x < 0 and math.fmod(y - 1, 2) != 0
        return -mag if (y < 0) != odd else mag


def _vdpow_base(np, x, y):
    """dpow_base over numpy values: the same guards, and the same log form where
    x^(y-1) alone overflows."""
    d = y * np.power(x, y - 1)
    if np.all(np.isfinite(d)):
        return np.where(y == 0, 0.0, d)
    ax, ay = np.abs(x), np.abs(y)
    mag = np.exp(np.log(np.where(ay == 0, 1.0, ay)) + (y - 1) * np.log(np.where(ax == 0, 1.0, ax)))
    odd = (x < 0) & (np.fmod(y - 1, 2) != 0)
    logs = np.where((y < 0) != odd, -mag, mag)
    fix = ~np.isfinite(d) & np.isfinite(x) & np.isfinite(y) & (x != 0)
    return np.where(y == 0, 0.0, np.where(fix, logs, d))


def dpow_exp(x, y, out):
    """d(x^y)/dy = x^y log(x), with PyTorch's guard: 0 where x = 0 and y >= 0. For
    x < 0 it has no real value (nan); it matters only when the exponent depends
    on an input."""
    if x == 0:
        return 0.0 if y >= 0 else -math.inf  # out * log(0) = inf * -inf
    return out * math.log(x) if x > 0 else math.nan


def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


SCALAR = Namespace(cos=math.cos, sin=math.sin, cosh=math.cosh, sinh=math.sinh, sqrt=math.sqrt,
                   log=math.log, sigmoid=_sigmoid, step=_step, sign=_sign, tied=_tied,
                   dpow_base=dpow_base, dpow_exp=dpow_exp, LN2=LN2, LN10=LN10, lift=float)

_NUMPY: list = []  # [(np, namespace)]: made on first use, so that importing the table imports no numpy


def numpy_namespace(np):
    """The namespace of the column passes, over the numpy module `np`."""
    for mod, ns in _NUMPY:
        if mod is np:
            return ns

    def vtied(xs, out, largest=True):
        hits = [x == out for x in xs]
        n = sum(h.astype(float) for h in hits)
        return [np.where(h, 1.0 / n, 0.0) for h in hits]

    ns = Namespace(
        cos=np.cos, sin=np.sin, cosh=np.cosh, sinh=np.sinh, sqrt=np.sqrt, log=np.log,
        sigmoid=lambda x: _vsigmoid(np, x),
        step=lambda x: (x > 0).astype(float),
        sign=lambda x: np.where(np.isnan(x), 0.0, np.sign(x)),
        tied=vtied,
        dpow_base=lambda x, y, out: _vdpow_base(np, x, y),
        dpow_exp=lambda x, y, out: np.where((x == 0) & (y >= 0), 0.0, out * np.log(x)),
        LN2=LN2, LN10=LN10, lift=lambda r: r)
    _NUMPY.append((np, ns))
    return ns


# ---- forward helpers -----------------------------------------------------------

def _pow(x, y):
    # math.pow raises for 0^-1 (ValueError), (-8)^(1/3) (ValueError) and
    # overflow (OverflowError); the ** operator would return a complex or raise
    # ZeroDivisionError instead.
    if x == 0 and y < 0:
        raise ZeroDivisionError("0 to a negative power")
    return math.pow(x, y)


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


def _unary(name, f, vf, d):
    return Primitive(name=name, arity=1, f=f, vf=vf, d=d)


# ---- the table ----------------------------------------------------------------------

_ROWS = [
    Primitive(name="add", arity=2, symbol="+", prec=P_SUM, f=operator.add,
              vf=lambda np, x, y: x + y, d=(1.0, 1.0)),
    Primitive(name="sub", arity=2, symbol="-", prec=P_SUM, f=operator.sub,
              vf=lambda np, x, y: x - y, d=(1.0, -1.0)),
    Primitive(name="mul", arity=2, symbol="*", prec=P_PRODUCT, f=operator.mul,
              vf=lambda np, x, y: x * y,
              d=(lambda m, x, y, out: y, lambda m, x, y, out: x)),
    Primitive(name="div", arity=2, symbol="/", prec=P_PRODUCT, f=operator.truediv,
              vf=lambda np, x, y: x / y,
              d=(lambda m, x, y, out: 1.0 / y, lambda m, x, y, out: -(out / y))),
    Primitive(name="neg", arity=1, symbol="-", prec=P_UNARY, f=operator.neg,
              vf=lambda np, x: -x, d=-1.0),
    Primitive(name="pow", arity=2, symbol="^", prec=P_POWER, f=_pow,
              vf=lambda np, x, y: np.power(x, y),
              d=(HELPER.dpow_base, HELPER.dpow_exp)),
    _unary("exp", math.exp, lambda np, x: np.exp(x), lambda m, x, out: out),
    _unary("log", math.log, lambda np, x: np.log(x), lambda m, x, out: 1.0 / x),
    _unary("log2", math.log2, lambda np, x: np.log2(x), lambda m, x, out: 1.0 / (x * m.LN2)),
    _unary("log10", math.log10, lambda np, x: np.log10(x), lambda m, x, out: 1.0 / (x * m.LN10)),
    _unary("sqrt", math.sqrt, lambda np, x: np.sqrt(x), lambda m, x, out: 0.5 / out),
    _unary("sin", math.sin, lambda np, x: np.sin(x), lambda m, x, out: m.cos(x)),
    _unary("cos", math.cos, lambda np, x: np.cos(x), lambda m, x, out: -m.sin(x)),
    _unary("tan", math.tan, lambda np, x: np.tan(x), lambda m, x, out: 1.0 + out * out),
    _unary("asin", math.asin, lambda np, x: np.arcsin(x), lambda m, x, out: 1.0 / m.sqrt(1.0 - x * x)),
    _unary("acos", math.acos, lambda np, x: np.arccos(x), lambda m, x, out: -1.0 / m.sqrt(1.0 - x * x)),
    _unary("atan", math.atan, lambda np, x: np.arctan(x), lambda m, x, out: 1.0 / (1.0 + x * x)),
    _unary("sinh", math.sinh, lambda np, x: np.sinh(x), lambda m, x, out: m.cosh(x)),
    _unary("cosh", math.cosh, lambda np, x: np.cosh(x), lambda m, x, out: m.sinh(x)),
    _unary("tanh", math.tanh, lambda np, x: np.tanh(x), lambda m, x, out: 1.0 - out * out),
    _unary("sigmoid", _sigmoid, _vsigmoid, lambda m, x, out: out * (1.0 - out)),
    _unary("relu", _relu, lambda np, x: np.maximum(x, 0.0), lambda m, x, out: m.step(x)),
    _unary("softplus", _softplus, lambda np, x: np.logaddexp(0.0, x), lambda m, x, out: m.sigmoid(x)),
    _unary("abs", abs, lambda np, x: np.abs(x), lambda m, x, out: m.sign(x)),
    Primitive(name="min", arity=VARIADIC, f=_min, vf=_vmin,
              d=lambda m, xs, out: m.tied(xs, out, largest=False)),
    Primitive(name="max", arity=VARIADIC, f=_max, vf=_vmax,
              d=lambda m, xs, out: m.tied(xs, out, largest=True)),
    # The derivatives of relu and abs (and of min/max ties), so that a printed
    # derivative is in the language: step(x) is 1 for x > 0, else 0 (step(0) = 0,
    # as relu'(0) = 0); sign(x) is -1, 0 or 1. Their own derivative is 0.
    _unary("step", _step, lambda np, x: np.where(x > 0, 1.0, 0.0), 0.0),
    _unary("sign", _signum, lambda np, x: np.sign(x), 0.0),
]

PRIMITIVES = {p.name: p for p in _ROWS}

# Names a program can call: every row but the operators, plus pow(a, b) for a ^ b.
FUNCTIONS = {p.name: p for p in _ROWS if p.symbol is None}
FUNCTIONS["pow"] = PRIMITIVES["pow"]

CONSTANTS = {"pi": math.pi, "e": math.e}
