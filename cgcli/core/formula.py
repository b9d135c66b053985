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

The algebra of terms is Term's; the writing is its `style` (TextStyle here). A
subclass with another style writes the same terms another way: features/latex.py's
TexTerm, for `--format latex` (`rule_text(p, n, TexTerm)`, its own holes).
"""

import operator

from .numbers import fmt
from .primitives import P_ATOM, P_POWER, P_PRODUCT, P_SUM, P_UNARY, Namespace, partials

P_LOW = 0  # a phrase ("1 if x > 0 else 0"): parenthesized wherever it is an operand


class TextStyle:
    """How terms are written as text in the language; core/formula's one writer of
    rendered terms. Another style (features/latex.py) writes the same terms another way."""

    hole = "{%d}"  # an operand's place in a template

    def render(self, c, num, den):
        """A number c times the factors `num` over the factors `den` ((text, prec, exponent))."""
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

    def power(self, a, pa, b, pb):
        return "%s^%s" % (a if pa > P_POWER else "(%s)" % a, b if pb >= P_UNARY else "(%s)" % b)

    def sum(self, ta, pa, op, tb, pb):
        return "%s %s %s" % (ta if pa >= P_SUM else "(%s)" % ta, op, tb if pb > P_SUM else "(%s)" % tb)

    def call(self, name, texts):
        return "%s(%s)" % (name, ", ".join(texts)), P_ATOM

    def step(self, x):
        return "1 if %s > 0 else 0" % x, P_LOW

    def tied(self, x, largest):
        return "1 if %s is the %s argument else 0 (ties share it)" % (x, "largest" if largest else "smallest"), P_LOW

    def constant(self, name):
        return "log(%d)" % {"LN2": 2, "LN10": 10}[name]


class Term:
    """A number times factors with integer exponents; written by the class's `style`."""

    __slots__ = ("coef", "factors")  # factors: ((text, precedence, exponent), ...)
    style = TextStyle()

    def __init__(self, coef, factors=()):
        self.coef = coef
        self.factors = factors

    @classmethod
    def atom(cls, text, prec=P_ATOM):
        return cls(1.0, ((text, prec, 1),))

    def lift(self, r):
        return r if isinstance(r, Term) else type(self)(float(r))

    def __mul__(self, other):
        other = self.lift(other)
        exps = {}
        order = []
        for t, p, e in self.factors + other.factors:
            if t not in exps:
                order.append((t, p))
                exps[t] = 0
            exps[t] += e
        return type(self)(self.coef * other.coef, tuple((t, p, exps[t]) for t, p in order if exps[t]))

    def __rmul__(self, other):
        return self.lift(other) * self

    def _inverse(self):
        return type(self)(1.0 / self.coef, tuple((t, p, -e) for t, p, e in self.factors))

    def __truediv__(self, other):
        return self * self.lift(other)._inverse()

    def __rtruediv__(self, other):
        return self.lift(other) * self._inverse()

    def __neg__(self):
        return type(self)(-self.coef, self.factors)

    def __pow__(self, other):
        other = self.lift(other)
        n = other.coef
        if not other.factors and n == int(n):
            n = int(n)
            return type(self)(self.coef ** n, tuple((t, p, e * n) for t, p, e in self.factors))
        (a, pa), (b, pb) = self.render(), other.render()
        return self.atom(self.style.power(a, pa, b, pb), P_POWER)

    def __add__(self, other):
        return _sum(self, self.lift(other))

    def __radd__(self, other):
        return _sum(self.lift(other), self)

    def __sub__(self, other):
        return _sum(self, -self.lift(other))

    def __rsub__(self, other):
        return _sum(self.lift(other), -self)

    def render(self):
        """(text, precedence)."""
        fs = self.factors
        return self.style.render(self.coef, [(t, p, e) for t, p, e in fs if e > 0],
                                 [(t, p, -e) for t, p, e in fs if e < 0])


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
    return a.atom(a.style.sum(ta, pa, op, tb, pb), P_SUM)


def namespace(term):
    """The namespace that runs a row's rules on operands of class `term` (Term or a
    subclass with another style)."""
    style = term.style

    def call(name):
        return lambda *args: term.atom(*style.call(name, [a.render()[0] for a in args]))

    def tied(xs, out, largest=True):
        return [term.atom(*style.tied(x.render()[0], largest)) for x in xs]

    return Namespace(
        cos=call("cos"), sin=call("sin"), cosh=call("cosh"), sinh=call("sinh"), sqrt=call("sqrt"),
        log=call("log"), sigmoid=call("sigmoid"), sign=call("sign"),
        step=lambda x: term.atom(*style.step(x.render()[0])),
        tied=tied,
        dpow_base=lambda x, y, out: y * x ** (y - 1.0),
        dpow_exp=lambda x, y, out: out * call("log")(x),
        LN2=term.atom(style.constant("LN2")), LN10=term.atom(style.constant("LN10")),
        lift=lambda r: r if isinstance(r, Term) else term(float(r)), call=call)


TEXT = namespace(Term)

_OPERATORS = {"+": operator.add, "*": operator.mul, "/": operator.truediv, "^": operator.pow}
_cache: dict = {}
_namespaces: dict = {}


def output_term(p, xs, m=TEXT):
    """The node's own value as a term: the operator applied to the operands, or the call."""
    if p.symbol is None:
        return m.call(p.name)(*xs)
    if p.symbol == "-":
        return -xs[0] if len(xs) == 1 else xs[0] - xs[1]
    return _OPERATORS[p.symbol](*xs)


def rule_text(p, n, term=Term):
    """The templates of row p's partials for n operands (the style's holes: {0} .. {n-1}
    for text), written in `term`'s style."""
    key = (p, n, term)
    r = _cache.get(key)
    if r is None:
        m = TEXT if term is Term else _namespaces.setdefault(term, namespace(term))
        xs = [term.atom(term.style.hole % k) for k in range(n)]
        r = _cache[key] = tuple(d.render()[0] for d in partials(p, m, xs, output_term(p, xs, m)))
    return r
