"""The symbolic namespace: a primitive's derivative rule run on nodes.

primitives.partials runs a row's rule (`Primitive.d`) with this namespace and
`Sym` operands: their + - * / ** and unary minus call the Builder, so the
partials come out as simplified nodes of the tape, built in the order the rule
states them (tanh's 1 - out * out is b.sub(b.num(1), b.pow(out, 2))). A rule's
plain number (a constant partial, the 1 of 1 - out * out) becomes b.num.
"""

class Sym:
    """An operand of a rule in the symbolic namespace: node `i` of builder `b`."""

    __slots__ = ("b", "i")

    def __init__(self, b, i):
        self.b = b
        self.i = i

    def _node(self, other):
        return other.i if isinstance(other, Sym) else self.b.num(other)

    def __add__(self, other):
        return Sym(self.b, self.b.add(self.i, self._node(other)))

    def __radd__(self, other):
        return Sym(self.b, self.b.add(self._node(other), self.i))

    def __sub__(self, other):
        return Sym(self.b, self.b.sub(self.i, self._node(other)))

    def __rsub__(self, other):
        return Sym(self.b, self.b.sub(self._node(other), self.i))

    def __mul__(self, other):
        if isinstance(other, Sym) and other.i == self.i:
            return self ** 2  # x * x is written x^2
        return Sym(self.b, self.b.mul(self.i, self._node(other)))

    def __rmul__(self, other):
        return Sym(self.b, self.b.mul(self._node(other), self.i))

    def __truediv__(self, other):
        return Sym(self.b, self.b.div(self.i, self._node(other)))

    def __rtruediv__(self, other):
        return Sym(self.b, self.b.div(self._node(other), self.i))

    def __pow__(self, other):
        return Sym(self.b, self.b.pow(self.i, self._node(other)))

    def __neg__(self):
        return Sym(self.b, self.b.neg(self.i))


class SymbolicNamespace:
    """The functions a rule calls (m.cos, m.step, ...), as calls on the tape;
    `lift` gives a partial's node id."""

    def __init__(self, b):
        self.b = b

    def operand(self, i):
        return Sym(self.b, i)

    def lift(self, r):
        return r.i if isinstance(r, Sym) else self.b.num(r)

    def _call(self, name, x):
        return Sym(self.b, self.b.call(name, x.i))

    def cos(self, x):
        return self._call("cos", x)

    def sin(self, x):
        return self._call("sin", x)

    def cosh(self, x):
        return self._call("cosh", x)

    def sinh(self, x):
        return self._call("sinh", x)

    def sqrt(self, x):
        return self._call("sqrt", x)

    def log(self, x):
        return self._call("log", x)

    def sigmoid(self, x):
        return self._call("sigmoid", x)

    def step(self, x):
        """relu': step(x), 1 for x > 0, else 0 (a primitive, so the derivative is in the language)."""
        return self._call("step", x)

    def sign(self, x):
        """abs': sign(x)."""
        return self._call("sign", x)

    @property
    def LN2(self):
        return Sym(self.b, self.b.call("log", self.b.num(2)))

    @property
    def LN10(self):
        return Sym(self.b, self.b.call("log", self.b.num(10)))

    def dpow_base(self, x, y, out):
        """y*x^(y - 1): with the builder, x^0 has derivative 0 and x^1 has 1."""
        return y * x ** (y - 1.0)

    def dpow_exp(self, x, y, out):
        """x^y*log(x), asked for only when the exponent depends on an input, so a
        constant exponent never brings in log(x) (x may be negative), and a
        constant base folds log(e) to 1. At x = 0 this is undefined (log(0), and
        0^-1 in dpow_base) where the numeric rules take PyTorch's limits: the
        language has no guard that would not be evaluated."""
        return out * self.log(x)

    def tied(self, xs, out, largest=True):
        """Tied arguments share the gradient equally, as in the numeric rules. With
        two arguments, d max(a, b)/da = (1 + sign(a - b))/2; with more, d/da_i =
        (1 + sign(a_i - m))/(n + sum_j sign(a_j - m)), m the output (for min the
        signs are negated): the count of ties is in the denominator. a - b is
        taken exactly as the tape has a and b (b.exact_sub), so that equal values
        stay equal."""
        b = self.b
        n = len(xs)
        if n == 1:
            return [1.0]
        if n == 2:
            s = b.call("sign", b.exact_sub(xs[0].i, xs[1].i))
            if not largest:
                s = b.neg(s)
            half = b.num(0.5)
            return [Sym(b, b.mul(half, b.add(b.num(1), s))), Sym(b, b.mul(half, b.sub(b.num(1), s)))]
        ss = [b.call("sign", b.exact_sub(a.i, out.i)) for a in xs]
        if not largest:
            ss = [b.neg(s) for s in ss]
        den = b.sum([b.num(n)] + ss)
        return [Sym(b, b.div(b.add(b.num(1), s), den)) for s in ss]

