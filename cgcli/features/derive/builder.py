"""The simplifying Builder: constructors over a Graph that collect like terms and
factors, fold numbers and write canonical nodes (see the package docstring)."""

import math

from ...core.tape import CONST, VAR
from .arith import add_factor as _add_factor
from .arith import add_number as _add_number
from .arith import count as _count
from .arith import exact_quotient as _exact_quotient
from .arith import fold
from .arith import integral as _integral
from .arith import merge as _merge

BUDGET = 8  # nodes a walk looks at before it treats a node as one opaque factor
_SUM_OPS = ("add", "sub", "neg")


class Builder:
    """Simplifying constructors over a Graph: each returns a node id of `g`
    (an existing node when an identical one exists, by hash-consing)."""

    def __init__(self, g, cancel=True):
        self.g = g
        # Whether x/x may be 1 (and x^3/x be x^2) where x may be 0. True is safe for
        # derivatives: every division in one is a division the backward pass does at
        # the same point (1/y of a quotient, 1/x of log, 0.5/sqrt(x), ...), so where
        # the divisor is 0 the backward pass has no gradient to differ from. False
        # keeps such a quotient unless its base cannot be 0 (a number, cosh).
        self.cancel = cancel
        self.limit = None  # the most nodes g may reach (differentiate's budget), or None
        self.atoms = set()  # nodes that walks treat as one factor / one term
        self._cv = {}  # node -> its foldable number, or None

    # ---- leaves and queries ----------------------------------------------------

    def num(self, v):
        v = float(v)
        return self.g.const(0.0 if v == 0 else v)

    def constval(self, i):
        """The number node i stands for when it is a number or foldable arithmetic
        on numbers (`1/2`, `2^3`), else None (`log(2)`, `1/3`, anything with an input)."""
        g = self.g
        if g.ops[i] == CONST:
            v = g.attr[i]
            return v if math.isfinite(v) else None
        if g.depends[i] or g.ops[i] == VAR:
            return None
        cv = self._cv
        if i in cv:
            return cv[i]
        stack = [i]  # an explicit stack: a constant subexpression may be deep
        while stack:
            j = stack[-1]
            if j in cv:
                stack.pop()
                continue
            pending = [a for a in g.args[j] if g.ops[a] not in (CONST, VAR) and a not in cv]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            vals = []
            for a in g.args[j]:
                v = g.attr[a] if g.ops[a] == CONST else cv.get(a)
                if v is None or not math.isfinite(v):
                    vals = None
                    break
                vals.append(v)
            cv[j] = None if vals is None else fold(g.ops[j], vals)
        return cv[i]

    # ---- the constructors the symbolic namespace uses ----------------------------------

    def add(self, a, b):
        return self._sum([(1.0, a), (1.0, b)])

    def sub(self, a, b):
        return self._sum([(1.0, a), (-1.0, b)])

    def neg(self, a):
        return self._sum([(-1.0, a)])

    def sum(self, nodes):
        return self._sum([(1.0, a) for a in nodes])

    def mul(self, a, b):
        ca, cb = self.constval(a), self.constval(b)
        if ca == 0 or cb == 0:
            return self.num(0)
        if ca is not None and cb is not None and math.isfinite(ca * cb):
            return self.num(ca * cb)  # the common case of a constant adjoint times a constant partial
        return self._product([(a, 1), (b, 1)])

    def div(self, a, b):
        return self._product([(a, 1), (b, -1)])

    def pow(self, a, b):
        e = self.constval(b)
        if e is not None:
            if e == 0:
                return self.num(1)  # x^0 = 1, as 0^0 = 1
            if e == 1:
                return a
            if _integral(e) and abs(e) <= 64:
                return self._product([(a, int(e))])
        return self.call("pow", a, b)

    def exact_sub(self, a, b):
        """a - b exactly as the tape computes it, with a and b as they are (no
        rewriting, which may move a value by a rounding): for sign(a - b) in the
        derivatives of min and max, where a rounding would break a tie."""
        if a == b:
            return self.num(0)
        if self.constval(b) == 0:
            return a  # x - 0 is x, bit for bit
        return self.call("sub", a, b)

    def call(self, op, *args):
        vals = [self.constval(a) for a in args]
        if None not in vals:
            r = fold(op, vals)
            if r is not None:
                return self.num(r)
        return self.g.apply(op, *args)

    # ---- products ----------------------------------------------------------------

    def _walk_product(self, node, e, acc):
        """Multiply node^e into acc = [num, den, {base: [pos, neg]}], walking * / -
        and integer powers; a walk longer than BUDGET makes node one factor (an atom)."""
        g = self.g
        ops, args = g.ops, g.args
        if ops[node] == VAR:
            _add_factor(acc, node, e)
            return True
        cv = self.constval
        stack = [(node, e)]
        items = []  # (kind, node, exponent), applied only if the walk completes
        steps = 0
        while stack:
            n, k = stack.pop()
            op = ops[n]
            v = cv(n)
            if v is not None:
                items.append((0, n, k, v))
                continue
            if n in self.atoms:
                # not looked into, but its number is: -(2*(a - y)) is -2*(a - y)
                a = args[n]
                if op == "mul" and cv(a[0]) is not None:
                    items.append((0, a[0], k, cv(a[0])))
                    items.append((1, a[1], k, None))
                elif op == "neg":
                    if k % 2:
                        items.append((0, n, 1, -1.0))
                    items.append((1, a[0], k, None))
                else:
                    items.append((1, n, k, None))
                continue
            if op not in ("mul", "div", "neg", "pow"):
                items.append((1, n, k, None))
                continue
            if op == "pow":
                p = cv(args[n][1])
                if p is None or not _integral(p) or abs(p) > 64 or p == 0:
                    items.append((1, n, k, None))
                    continue
            steps += 1
            if steps > BUDGET:
                self.atoms.add(node)
                _add_factor(acc, node, e)
                return True
            a = args[n]
            if op == "mul":
                stack.append((a[1], k))
                stack.append((a[0], k))
            elif op == "div":
                stack.append((a[1], -k))
                stack.append((a[0], k))
            elif op == "neg":
                if k % 2:
                    items.append((0, n, 1, -1.0))
                stack.append((a[0], k))
            else:
                stack.append((a[0], k * int(p)))
        for kind, n, k, v in items:
            if kind == 0:
                if not _add_number(acc, v, k):
                    _add_factor(acc, n, k)
            else:
                _add_factor(acc, n, k)
        return True

    def _collect(self, items, sign=1.0, den=1.0):
        """(num, den, nums, dens) for sign/den times the product of node^e over
        items, or None for 0."""
        acc = [sign, den, {}]
        for node, e in items:
            self._walk_product(node, e, acc)
            if acc[0] == 0:
                return None
        num, den, fac = acc
        nums, dens = [], []
        for base, (pos, neg) in fac.items():
            if pos and neg and (self.cancel or pos + neg < 0 or self._nonzero(base)):
                pos, neg = (pos + neg, 0) if pos + neg > 0 else (0, pos + neg)
            if pos:
                nums.append((base, pos))
            if neg:
                dens.append((base, -neg))
        key = self._order_key
        nums.sort(key=key)
        dens.sort(key=key)
        if den != 1:
            q = num / den
            if _exact_quotient(num, den, q):
                num, den = q, 1.0
        if den < 0:
            num, den = -num, -den
        return num, den, nums, dens

    def _order_key(self, item):
        base = item[0]
        return (0 if self.g.ops[base] == VAR else 1, base)

    def _nonzero(self, i):
        """Whether node i can never be 0 (so that x/x is 1): a nonzero number, cosh."""
        v = self.constval(i)
        return (v is not None and v != 0) or self.g.ops[i] == "cosh"

    def _product(self, items, sign=1.0):
        c = self._collect(items, sign)
        if c is None:
            return self.num(0)
        return self._build_product(*c)

    def _build_product(self, num, den, nums, dens):
        g = self.g
        pw = self._power
        parts = [pw(b, k) for b, k in nums]
        if num < 0:
            if num == -1 and parts:
                parts[0] = g.apply("neg", parts[0])
            else:
                parts.insert(0, self.num(num))
        elif num != 1 or not parts:
            parts.insert(0, self.num(num))
        node = parts[0]
        for p in parts[1:]:
            node = g.apply("mul", node, p)
        below = [pw(b, k) for b, k in dens]
        if den != 1:
            below.insert(0, self.num(den))
        if below:
            d = below[0]
            for p in below[1:]:
                d = g.apply("mul", d, p)
            node = g.apply("div", node, d)
        return node

    def _power(self, base, k):
        return base if k == 1 else self.g.apply("pow", base, self.num(k))

    # ---- sums --------------------------------------------------------------------

    def _expand(self, terms):
        """Multiply out a term's sum factor (of up to 4 terms) when the pieces then
        collect with the other terms into fewer: exp(x)*(2*cos(x) - 2*sin(x)) -
        2*exp(x)*cos(x) is -2*exp(x)*sin(x). Otherwise the sums stay as they are."""
        ops = self.g.ops
        for key in list(terms):
            t = terms.get(key)
            if t is None or t[0] == 0:
                continue
            num, den, nums, dens = t
            sums = [b for b, k in nums if k == 1 and ops[b] in _SUM_OPS and b not in self.atoms]
            if len(sums) != 1:
                continue
            s = sums[0]
            parts = []
            self._walk_sum(1.0, s, parts)
            if len(parts) > 4 or parts == [(1.0, s)]:
                continue
            others = [(b, k) for b, k in nums if b != s] + [(b, -k) for b, k in dens]
            trial = {k: list(v) for k, v in terms.items() if k != key}
            for c, u in parts:
                _merge(trial, self._collect([(u, 1)] + others, c * num, den))
            if _count(trial) < _count(terms):
                terms = trial
        return terms

    def _walk_sum(self, c, node, out):
        g = self.g
        ops, args = g.ops, g.args
        if node in self.atoms or ops[node] not in _SUM_OPS:
            out.append((c, node))
            return
        stack = [(c, node)]
        terms = []
        steps = 0
        while stack:
            c1, n = stack.pop()
            op = ops[n]
            if n in self.atoms or op not in _SUM_OPS:
                terms.append((c1, n))
                continue
            steps += 1
            if steps > BUDGET:
                self.atoms.add(node)
                out.append((c, node))
                return
            a = args[n]
            if op == "add":
                stack.append((c1, a[1]))
                stack.append((c1, a[0]))
            elif op == "sub":
                stack.append((-c1, a[1]))
                stack.append((c1, a[0]))
            else:
                stack.append((-c1, a[0]))
        out.extend(terms)

    def _sum(self, items):
        same = {}
        for c, node in items:
            same[node] = same.get(node, 0.0) + c
        if len(same) == 1:  # a + a is 2*a, also when a is a sum: 2*(x + y)
            (node, c), = same.items()
            if c == 0:
                return self.num(0)
            if c == 1:
                return node
            return self._product([(node, 1)], c)
        flat = []
        for c, node in items:
            self._walk_sum(c, node, flat)
        terms = {}  # (nums, dens) -> [num, den, nums, dens]; dicts keep the first order
        for c, node in flat:
            _merge(terms, self._collect([(node, 1)], c))
        if 2 <= len(terms) <= 16:
            terms = self._expand(terms)
        ts = [t for t in terms.values() if t[0] != 0]
        if not ts:
            return self.num(0)
        for t in ts:
            if t[1] != 1:
                q = t[0] / t[1]
                if _exact_quotient(t[0], t[1], q):
                    t[0], t[1] = q, 1.0
        if ts[0][0] < 0:  # 1 - x rather than -x + 1
            for k, t in enumerate(ts):
                if t[0] > 0:
                    ts.insert(0, ts.pop(k))
                    break
        g = self.g
        node = self._build_product(*ts[0])
        for num, den, nums, dens in ts[1:]:
            if num < 0:
                node = g.apply("sub", node, self._build_product(-num, den, nums, dens))
            else:
                node = g.apply("add", node, self._build_product(num, den, nums, dens))
        return node
