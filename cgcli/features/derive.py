"""The derivative as an expression: a symbolic backward pass over the tape.

The numeric backward pass (evaluate.py) carries numbers down the tape; this one
carries nodes. Walking the nodes from the output back to the inputs, the adjoint
of each node is the sum of `upstream adjoint * local partial` over its uses, and
every partial, product and sum is a new node of the same Graph, made by the
primitive's symbolic row (`Primitive.sd`) through a simplifying `Builder`. The
derivative is then a node like any other: it can be evaluated, differentiated
again (higher orders, the Hessian) or printed back as a program.

Simplification is local and never changes the value where the backward pass
has one; it follows the algebra of real numbers, so it may give a value where
the unsimplified form has none: `x*0` and `x - x` are 0 even where x is
undefined, `x/x` is 1 (see Builder.cancel: every division in a derivative is
one the backward pass also does, so at x = 0 it has no gradient either), and a
product may overflow where the unsimplified one would not, or the reverse.
Values can differ by roundings (2*x*3 is 6*x). (The rules themselves have one
exception, in primitives._sd_pow: x^y with an exponent that depends on an input
is undefined at x = 0, where the backward pass takes PyTorch's limits.)
A `Builder` keeps sums as lists
of terms (coefficient, factors) and products as factors with integer exponents,
collects like terms, folds numbers, and writes the canonical node: coefficient
first, inputs next, then other factors in tape order, divisions last (`2*x*y`,
`-x/y^2`, `1 - t^2`).

Nothing recurses: walks into a node stop after BUDGET steps and treat it as one
opaque factor (remembered), so each builder call is O(1) and a derivative grows
with the graph. Printing writes a node used more than once (and longer than a
few characters) as a temporary, so the text grows with the graph, not with the
number of paths through it.
"""

import math
import re
from fractions import Fraction

from ..core.errors import CgraphError, UsageError
from ..core.tape import CONST, VAR, Graph, no_gc, write, _const_text
from ..core.primitives import P_ATOM, P_UNARY, PRIMITIVES, VARIADIC

BUDGET = 8  # nodes a walk looks at before it treats a node as one opaque factor
TINY = 12  # a shared subexpression this short is written out at each use, not as a temporary
_SUM_OPS = ("add", "sub", "neg")
_EXACT_OPS = ("add", "sub", "mul", "neg", "min", "max", "abs", "sign", "step", "relu")


def _exact_quotient(a, b, r):
    try:
        return Fraction(a) / Fraction(b) == Fraction(r)
    except (ZeroDivisionError, ValueError, OverflowError):
        return False


def _integral(r):
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
        return r if _exact_quotient(vals[0], vals[1], r) else None
    if op == "pow":
        a, b = vals
        if _integral(b) and abs(b) <= 64:
            try:
                return r if Fraction(a) ** int(b) == Fraction(r) else None
            except (ZeroDivisionError, OverflowError):
                return None
    return r if _integral(r) else None


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
        self.atoms = set()  # nodes that walks treat as one factor / one term
        self._cv = {}  # node -> its foldable number, or None
        self.active = None  # during a pass: per node, whether it depends on a wanted input

    # ---- leaves and queries ----------------------------------------------------

    def num(self, v):
        v = float(v)
        return self.g.const(0.0 if v == 0 else v)

    def wants(self, i):
        """Whether the pass needs the partial with respect to node i."""
        a = self.active
        return a is None or (i < len(a) and a[i])

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

    # ---- the constructors the primitive rows use ----------------------------------

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


def _merge(terms, t):
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


def _count(terms):
    return sum(1 for t in terms.values() if t[0] != 0)


def _add_factor(acc, node, e):
    f = acc[2].get(node)
    if f is None:
        f = acc[2][node] = [0, 0]
    if e > 0:
        f[0] += e
    else:
        f[1] += e


def _add_number(acc, v, k):
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


# ---- the symbolic backward pass ---------------------------------------------------

def gradient_nodes(b, out, wrt):
    """{var id: node}: the derivative of node `out` with respect to each var id in
    `wrt`, as nodes of b.g. One loop down the tape from `out`: each node's adjoint
    is the sum of its users' contributions, and it passes adjoint * partial on to
    each of its inputs that depends on a wanted input."""
    g = b.g
    ops, args = g.ops, g.args
    n = out + 1
    dep = bytearray(n)
    lo = n
    for v in wrt:
        if v < n:
            dep[v] = 1
            lo = min(lo, v)
    for i in range(lo, n):
        if not dep[i]:
            for a in args[i]:
                if dep[a]:
                    dep[i] = 1
                    break
    zero = b.num(0)
    result = {v: zero for v in wrt}
    if not dep[out]:
        return result
    contribs = {out: [b.num(1)]}
    b.active = dep
    try:
        for i in range(out, lo - 1, -1):
            terms = contribs.pop(i, None)
            if terms is None:
                continue
            adj = terms[0] if len(terms) == 1 else b.sum(terms[::-1])
            op = ops[i]
            if op == VAR:
                result[i] = adj
                continue
            if b.constval(adj) == 0:
                continue
            a = args[i]
            used = [x for x in dict.fromkeys(a) if dep[x]]
            if len(used) > 1 and _size(g, adj, 13) > 12:
                b.atoms.add(adj)  # shared by several contributions: keep it whole (a temporary)
            p = PRIMITIVES[op]
            if p.arity == VARIADIC:
                parts = p.sd(b, a, i)
            elif p.arity == 1:
                parts = (p.sd(b, a[0], i),)
            else:
                parts = p.sd(b, a[0], a[1], i)
            for x, d in zip(a, parts):
                if dep[x] and d is not None:
                    t = b.mul(adj, d)
                    lst = contribs.get(x)
                    if lst is None:
                        contribs[x] = [t]
                    else:
                        lst.append(t)
    finally:
        b.active = None
    return result


def _size(g, i, limit):
    """The number of nodes under i (with repeats), counted up to limit."""
    stack = [i]
    k = 0
    while stack and k < limit:
        j = stack.pop()
        k += 1
        stack.extend(g.args[j])
    return k


def check_names(program, names):
    g = program.graph
    bad = [w for w in dict.fromkeys(names) if w not in g.inputs]
    if bad:
        from ..core.errors import not_inputs
        raise not_inputs("--wrt", bad, g.inputs)


def differentiate(program, seqs, builder=None):
    """[(seq, node)]: for each sequence of input names, the output differentiated
    by each name in turn ((x,) is d/dx, (x, y) the mixed partial d2/dxdy). Sequences
    with a common prefix share its pass; one pass serves all next names of a prefix.
    The nodes are added to program.graph (diff_text and hessian work on a copy)."""
    g = program.graph
    check_names(program, [n for s in seqs for n in s])
    b = builder or Builder(g)
    memo = {(): program.output}
    depth = max((len(s) for s in seqs), default=0)
    with no_gc():
        for k in range(depth):
            want = {}
            for s in seqs:
                if len(s) > k:
                    want.setdefault(s[:k], {})[s[k]] = None
            for prefix, names in want.items():
                if all(prefix + (m,) in memo for m in names):
                    continue
                grads = gradient_nodes(b, memo[prefix], [g.inputs[m] for m in names])
                for m in names:
                    memo[prefix + (m,)] = grads[g.inputs[m]]
    return [(tuple(s), memo[tuple(s)]) for s in seqs]


# ---- printing -----------------------------------------------------------------------

_HOLE = re.compile("\x00(\\d+)\x00")


def derivative_name(seq):
    """d_x; d2_x for d2/dx2; d2_x_y for the mixed partial d2/dxdy."""
    if len(seq) == 1:
        return "d_" + seq[0]
    if len(set(seq)) == 1:
        return "d%d_%s" % (len(seq), seq[0])
    return "d%d_%s" % (len(seq), "_".join(seq))


def _number_text(v):
    if math.isinf(v):
        return "1e999" if v > 0 else "-1e999"
    return _const_text(v)


def _template(op, precs):
    """How `op` is written around operands of these precedences: pieces of text and
    operand indexes (write's parentheses, with * and / written tight: 2*x*y)."""
    text, p = write(op, [("\x00%d\x00" % k, q) for k, q in enumerate(precs)])
    if op in ("mul", "div"):
        sym = PRIMITIVES[op].symbol
        text = text.replace(" %s " % sym, sym)
    pattern = [int(x) if k % 2 else x for k, x in enumerate(_HOLE.split(text)) if k % 2 or x]
    return pattern, p


def program_text(g, results, taken=()):
    """The nodes `results` [(name, node id)] of g as program text in the language:
    a node used more than once (and longer than TINY characters) becomes a
    temporary `t1 = ...` (or the program's own name for it, when it has one bound
    once), defined before its uses; then one `name = expr` line per result. A
    single result without temporaries is just its expression. One loop up the
    tape and a rope of pieces per node: nothing recurses, and each piece is
    written once, so the text is linear in the number of nodes printed."""
    if not results:
        return ""
    ops, args, attr = g.ops, g.args, g.attr
    n = max(r for _, r in results) + 1
    keep = bytearray(n)
    uses = [0] * n
    for _, r in results:
        keep[r] = 1
        uses[r] += 1
    for i in range(n - 1, -1, -1):
        if keep[i]:
            for a in args[i]:
                keep[a] = 1
                uses[a] += 1
    pieces = {}  # node -> list of str and child ids
    templates = {}  # (op, operand precedences) -> (pieces with operand indexes, precedence)
    prec = {}
    length = {}  # length of the node written out in full (temporaries as ~3 characters)
    temp = {}
    leaf = {}
    for i in range(n):
        if not keep[i]:
            continue
        op = ops[i]
        if op == VAR:
            leaf[i] = attr[i]
            prec[i], length[i] = P_ATOM, len(attr[i])
            continue
        if op == CONST:
            t = leaf[i] = _number_text(attr[i])
            prec[i], length[i] = (P_UNARY if t.startswith("-") else P_ATOM), len(t)
            continue
        a_ = args[i]
        key = (op,) + tuple(P_ATOM if a in temp else prec[a] for a in a_)
        tpl = templates.get(key)
        if tpl is None:
            tpl = templates[key] = _template(op, key[1:])
        pattern, prec[i] = tpl
        parts = [a_[x] if isinstance(x, int) else x for x in pattern]
        total = 0
        for x in parts:
            if isinstance(x, str):
                total += len(x)
            else:
                total += 3 if x in temp else length[x]
        pieces[i] = parts
        length[i] = total
        if uses[i] > 1 and total > TINY:
            temp[i] = None
    # names: the results', then the temporaries' (the program's name for the node when it is free)
    taken = set(taken) | set(g.inputs)
    count = {}
    for name, _ in g.bindings:
        count[name] = count.get(name, 0) + 1
    out_names = []
    for name, _ in results:
        while name in taken:
            name += "_"
        taken.add(name)
        out_names.append(name)
    k = 0
    for i in temp:
        name = g.names[i] if i < len(g.names) else None
        if name is None or count.get(name) != 1 or name in taken:
            while True:  # t1, t2, ...: not a name the program uses for something else
                k += 1
                name = "t%d" % k
                if name not in taken and name not in count:
                    break
        taken.add(name)
        temp[i] = name

    def expand(i, top):
        if not top:
            if i in temp:
                return temp[i]
            if i in leaf:
                return leaf[i]
        buf = []
        stack = [pieces[i]] if i in pieces else [[leaf[i]]]
        pos = [0]
        while stack:
            parts, p = stack[-1], pos[-1]
            if p == len(parts):
                stack.pop()
                pos.pop()
                continue
            pos[-1] = p + 1
            x = parts[p]
            if isinstance(x, str):
                buf.append(x)
            elif x in temp:
                buf.append(temp[x])
            elif x in leaf:
                buf.append(leaf[x])
            else:
                stack.append(pieces[x])
                pos.append(0)
        return "".join(buf)

    if not temp and len(results) == 1:
        return expand(results[0][1], False)
    lines = ["%s = %s" % (temp[i], expand(i, True)) for i in temp]
    lines += ["%s = %s" % (name, expand(r, False)) for name, (_, r) in zip(out_names, results)]
    return "\n".join(lines)


def diff_text(program, seqs):
    """The derivatives of the program's output for each name sequence, as program
    text. Works on a copy of the output's cone, so `program` is left as it was."""
    program = _copy(program)
    results = differentiate(program, seqs)
    return program_text(program.graph, [(derivative_name(s), node) for s, node in results])


def _copy(program):
    from ..core.language import Program
    g, new = subgraph(program.graph, [program.output])
    return Program(g, new[program.output], program.output_name, program.source)


# ---- the Hessian ----------------------------------------------------------------------

def subgraph(g, outs):
    """The nodes the nodes `outs` depend on, as a new Graph in the same order
    (with the program's inputs and names). Returns (graph, {old id: new id})."""
    n = max(outs) + 1
    keep = bytearray(n)
    for o in outs:
        keep[o] = 1
    for i in range(n - 1, -1, -1):
        if keep[i]:
            for a in g.args[i]:
                keep[a] = 1
    new = {}
    h = Graph()
    for o in range(n):
        if not keep[o]:
            continue
        op = g.ops[o]
        if op == VAR:
            k = h.var(g.attr[o])
        elif op == CONST:
            k = h.const(g.attr[o], g.names[o])
        else:
            k = h.apply(op, *[new[a] for a in g.args[o]])
            h.names[k] = g.names[o]
        new[o] = k
    h.env = {name: new[i] for name, i in g.env.items() if i in new}
    h.bindings = [(name, new[i]) for name, i in g.bindings if i in new]
    for name, i in g.inputs.items():  # an input the output does not read is still an input
        if name not in h.inputs:
            h.var(name)
    return h, new


def hessian_nodes(program, names, builder=None):
    """{a: {b: node}}: the second derivatives d2 out/da db for the input names,
    by differentiating the gradient graph."""
    g = program.graph
    check_names(program, names)
    b = builder or Builder(g)
    ids = [g.inputs[m] for m in names]
    with no_gc():
        grads = gradient_nodes(b, program.output, ids)
        rows = {}
        for m in names:
            second = gradient_nodes(b, grads[g.inputs[m]], ids)
            rows[m] = {k: second[g.inputs[k]] for k in names}
    return rows


def hessian(program, bindings, names, nonfinite=False):
    """{a: {b: value}}: the Hessian of the output at `bindings` for the input names."""
    from ..core.passes import forward
    # Work on a copy: the caller's graph may be the one its Result shows, node by node.
    program = _copy(program)
    g = program.graph
    rows = hessian_nodes(program, names)
    outs = [node for row in rows.values() for node in row.values()]
    if not outs:
        return {}
    h, new = subgraph(g, outs)
    try:
        with no_gc():
            v = forward(h, bindings, nonfinite)
    except CgraphError as e:
        raise CgraphError("second derivatives: %s" % e.message, e.status) from None
    return {a: {c: v[new[node]] for c, node in row.items()} for a, row in rows.items()}
