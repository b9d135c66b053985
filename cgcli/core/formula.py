"""The text namespace: a row's derivative rule written as a formula, for `cgraph explain`.

The rule is run (by primitives.partials) on `Term` operands, which overload the
arithmetic and write text. A term is a number times factors with integer
exponents, so that the rules come out as a person writes them: div's
-(out / y) with out = x/y is `-x/y^2`, tanh's 1 - out*out is `1 - tanh(x)^2`.
A sum, a call or a power with a non-integer exponent is one opaque factor.
Products are written `a * b`, quotients tight (`1/x`, `-x/y^2`), with the
fewest parentheses that parse back (tape.write's rules).

Templates use {0}, {1} for the operands; `rule_text` caches them per row and
number of operands. Loops only, and the formulas are a few factors long.
"""

import operator

from .numbers import fmt
from .primitives import P_ATOM, P_POWER, P_PRODUCT, P_SUM, P_UNARY, Namespace, partials

P_LOW = 0  # a phrase ("1 if x > 0 else 0"): parenthesized wherever it is an operand


class Term:
    __slots__ = ("coef", "factors")  # factors: ((text, precedence, exponent), ...)

    def __init__(self, coef, factors=()):
        self.coef = coef
        self.factors = factors

    @staticmethod
    def atom(text, prec=P_ATOM):
        return Term(1.0, ((text, prec, 1),))

    def __mul__(self, other):
        other = lift(other)
        exps = {}
        order = []
        for t, p, e in self.factors + other.factors:
            if t not in exps:
                order.append((t, p))
                exps[t] = 0
            exps[t] += e
        return Term(self.coef * other.coef, tuple((t, p, exps[t]) for t, p in order if exps[t]))

    def __rmul__(self, other):
        return lift(other) * self

    def _inverse(self):
        return Term(1.0 / self.coef, tuple((t, p, -e) for t, p, e in self.factors))

    def __truediv__(self, other):
        return self * lift(other)._inverse()

    def __rtruediv__(self, other):
        return lift(other) * self._inverse()

    def __neg__(self):
        return Term(-self.coef, self.factors)

    def __pow__(self, other):
        other = lift(other)
        n = other.coef
        if not other.factors and n == int(n):
            n = int(n)
            return Term(self.coef ** n, tuple((t, p, e * n) for t, p, e in self.factors))
        (a, pa), (b, pb) = self.render(), other.render()
        return Term.atom("%s^%s" % (a if pa > P_POWER else "(%s)" % a,
                                    b if pb >= P_UNARY else "(%s)" % b), P_POWER)

    def __add__(self, other):
        return _sum(self, lift(other))

    def __radd__(self, other):
        return _sum(lift(other), self)

    def __sub__(self, other):
        return _sum(self, -lift(other))

    def __rsub__(self, other):
        return _sum(lift(other), -self)

    def render(self):
        """(text, precedence)."""
        c, fs = self.coef, self.factors
        num = [(t, p, e) for t, p, e in fs if e > 0]
        den = [(t, p, -e) for t, p, e in fs if e < 0]
        if not num:
            top, prec = fmt(c), (P_UNARY if c < 0 else P_ATOM)
        elif len(num) == 1 and c == 1:
            top, prec = _factor(num[0], alone=True), _prec(num[0])
        else:
            parts = [_factor(f) for f in num]
            if c == -1:
                top, prec = "-" + " * ".join(parts), (P_UNARY if len(parts) == 1 else P_PRODUCT)
            else:
                top, prec = " * ".join(parts if c == 1 else [fmt(c)] + parts), P_PRODUCT
        if not den:
            return top, prec
        if len(den) == 1:
            under = _factor(den[0], alone=True)
            if _prec(den[0]) <= P_PRODUCT:
                under = "(%s)" % under
        else:
            under = "(%s)" % " * ".join(_factor(f) for f in den)
        return "%s/%s" % (top if prec >= P_PRODUCT else "(%s)" % top, under), P_PRODUCT


def _prec(factor):
    t, p, e = factor
    return p if e == 1 else P_POWER


def _factor(factor, alone=False):
    """One factor's text, t^e, parenthesized where a product needs it."""
    t, p, e = factor
    if e != 1:
        return "%s^%d" % (t if p > P_POWER else "(%s)" % t, e)
    return t if alone or p > P_PRODUCT else "(%s)" % t


def _sum(a, b):
    ta, pa = a.render()
    op = "+"
    if b.coef < 0:
        op, b = "-", -b
    tb, pb = b.render()
    return Term.atom("%s %s %s" % (ta if pa >= P_SUM else "(%s)" % ta, op,
                                   tb if pb > P_SUM else "(%s)" % tb), P_SUM)


def lift(r):
    return r if isinstance(r, Term) else Term(float(r))


def _call(name):
    return lambda *args: Term.atom("%s(%s)" % (name, ", ".join(a.render()[0] for a in args)))


def _tied(xs, out, largest=True):
    word = "largest" if largest else "smallest"
    return [Term.atom("1 if %s is the %s argument else 0 (ties share it)" % (x.render()[0], word), P_LOW)
            for x in xs]


TEXT = Namespace(
    cos=_call("cos"), sin=_call("sin"), cosh=_call("cosh"), sinh=_call("sinh"), sqrt=_call("sqrt"),
    log=_call("log"), sigmoid=_call("sigmoid"), sign=_call("sign"),
    step=lambda x: Term.atom("1 if %s > 0 else 0" % x.render()[0], P_LOW),
    tied=_tied,
    dpow_base=lambda x, y, out: y * x ** (y - 1.0),
    dpow_exp=lambda x, y, out: out * _call("log")(x),
    LN2=Term.atom("log(2)"), LN10=Term.atom("log(10)"), lift=lift)

_OPERATORS = {"+": operator.add, "*": operator.mul, "/": operator.truediv, "^": operator.pow}
_cache: dict = {}


def output_term(p, xs):
    """The node's own value as a term: the operator applied to the operands, or the call."""
    if p.symbol is None:
        return _call(p.name)(*xs)
    if p.symbol == "-":
        return -xs[0] if len(xs) == 1 else xs[0] - xs[1]
    return _OPERATORS[p.symbol](*xs)


def rule_text(p, n):
    """The templates of row p's partials for n operands ({0} .. {n-1})."""
    key = (p, n)
    r = _cache.get(key)
    if r is None:
        xs = [Term.atom("{%d}" % k) for k in range(n)]
        r = _cache[key] = tuple(d.render()[0] for d in partials(p, TEXT, xs, output_term(p, xs)))
    return r
