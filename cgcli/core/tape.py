"""The tape: nodes in creation order, which is a topological order.

A node is an operation and the ids of its inputs; ids are list indices and every
input was created before its use, so the forward pass is one loop up the tape
and the backward pass one loop down it. Nodes are hash-consed on
(operation, input ids) and constants on their value, so identical
subexpressions are one node. A name is bound to a node in an environment;
rebinding a name (`h = tanh(w*h + x)`) makes the name point at a new node and
never changes an old one.
"""

import gc
import math
from contextlib import contextmanager

from .numbers import fmt
from .primitives import P_ATOM, P_POWER, P_UNARY, PRIMITIVES, PRODUCT, VARIADIC, scalar_rule

VAR, CONST = "var", "const"

# How the passes run a node; the kinds are read off its primitive's row.
# forward entries: (node, f, a, b) with b = UNARY for one input, NARY (a = tuple) for many
UNARY, NARY = -1, -2
# backward entries: (node, kind, rule, a, b), the kind read off the row's derivative
# rules (Primitive.consts, .kind) and which inputs depend on one:
#   K_PRODUCT  mul: each input's partial is the other input (rule unused)
#   K_ADD, K_SUB, K_NEG  the partials are +-1: add or subtract u (no multiply)
#   K_CONST    a unary row with a constant partial (rule: the number)
#   K_UNARY    rule(m, x, out)
#   K_LEFT, K_RIGHT  a binary row where only the first (second) input depends on
#              an input (x^c, c/x): only that partial is computed (rule(x, y, out),
#              the scalar namespace bound: primitives.scalar_rule)
#   K_CALL     every partial, by primitives.partials (rule: the row, a: the input ids)
K_PRODUCT, K_ADD, K_UNARY, K_SUB, K_NEG, K_LEFT, K_RIGHT, K_CONST, K_CALL = range(9)
_SIGNED = {(1.0, 1.0): K_ADD, (1.0, -1.0): K_SUB, (-1.0,): K_NEG}
MAX_INLINE = 48  # longer subexpressions are written as a reference (#id) inside their users


FREEZE_AFTER = 100_000  # objects allocated with the collector off


@contextmanager
def no_gc():
    """Building and running a tape allocates millions of acyclic tuples; the cyclic
    garbage collector would rescan them all again and again (3-5x slower)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if gc.get_count()[0] > FREEZE_AFTER:
                # A big tape was built: move it (millions of acyclic tuples) out of the
                # collector's generations, or the first collection after enable() walks
                # it all (0.6-1 us a node). Reference counting still frees it.
                gc.freeze()
            gc.enable()


class Graph:
    """A tape of nodes. `ops[i]`, `args[i]` (input ids) and `attr[i]` (the
    variable's name or the constant's value) describe node i."""

    def __init__(self):
        self.ops = []
        self.args = []
        self.attr = []
        self.names = []  # the first program name bound to the node, or None
        self.depends = []  # True when the node depends on an input (so it has a gradient)
        self._ids = {}  # hash-consing: (CONST, value, name), (op,) + args of the other ops -> id (a var: inputs)
        self._binary = {}  # a binary op -> binary(op), whose own table hash-conses (a, b) -> id
        self.env = {}  # program name -> node id (the newest binding)
        self.inputs = {}  # input name -> var node id, in order of first read
        self.bindings = []  # (name, node id) per assignment, in program order
        self.fcode = []  # forward entries, one per operation node, in tape order
        self.bcode = []  # backward entries for the operation nodes that depend on an input
        self.nodep = []  # ids of the nodes that depend on no input (they have no gradient)
        self._unused = set()  # ids of the nodes that no other node reads (the cone's fast path)

    def __len__(self):
        return len(self.ops)

    def _new(self, key, op, args, attr, depends):
        i = len(self.ops)
        self.ops.append(op)
        self.args.append(args)
        self.attr.append(attr)
        self.names.append(None)
        self.depends.append(depends)
        if not depends:
            self.nodep.append(i)
        self._unused.add(i)
        if key is not None:  # a var is found by name in inputs
            self._ids[key] = i
        return i

    def var(self, name):
        i = self.inputs.get(name)
        if i is None:
            i = self._new(None, VAR, (), name, True)
            self.names[i] = name
            self.inputs[name] = i
        return i

    def const(self, value, name=None):
        value = float(value)
        key = (CONST, value if value else repr(value), name)
        i = self._ids.get(key)
        if i is None:
            i = self._new(key, CONST, (), value, False)
            self.names[i] = name
        return i

    def apply(self, op, *args):
        if len(args) == 2:
            f = self._binary.get(op)
            if f is not None or PRIMITIVES[op].arity == 2:
                return (f or self.binary(op))(*args)
        key = (op,) + args
        i = self._ids.get(key)
        if i is None:
            dep = self.depends
            d = any(dep[a] for a in args)
            i = self._new(key, op, args, None, d)
            self._unused.difference_update(args)
            self._code(i, op, args, d)
        return i

    def binary(self, op):
        """f(a, b) = apply(op, a, b) for a binary `op`, its primitive's row read once:
        the hot path of building (the parser's + - * / ^). The same node, the same
        forward and backward entries as apply's general path."""
        made = self._binary.get(op)
        if made is not None:
            return made
        p = PRIMITIVES[op]
        if p.arity != 2:
            raise ValueError("%s is not a binary operation" % op)
        f = p.f
        table: dict = {}  # (a, b) -> id: the key is the node's args tuple itself
        # the backward entry's kind and rule, by which inputs depend on an input (index 2*da + db)
        plan = [None] + [_backward_entry(0, p, 0, 1, [da, db])[1:3] for da, db in ((False, True), (True, False), (True, True))]
        ops, depends = self.ops, self.depends
        unused = self._unused
        # the lists' appends as locals: this runs once a node, millions of times
        table_get, ops_add, args_add, attr_add, names_add = (
            table.get, ops.append, self.args.append, self.attr.append, self.names.append)
        depends_add, nodep_add, fcode_add, bcode_add = (
            depends.append, self.nodep.append, self.fcode.append, self.bcode.append)
        use, discard = unused.add, unused.discard

        def make(a, b):
            key = (a, b)
            i = table_get(key)
            if i is not None:
                return i
            i = table[key] = len(ops)
            ops_add(op)
            args_add(key)
            attr_add(None)
            names_add(None)
            use(i)
            discard(a)
            discard(b)
            fcode_add((i, f, a, b))
            da, db = depends[a], depends[b]
            if da or db:
                depends_add(True)
                kind, rule = plan[2 * da + db]
                if kind == K_CALL:
                    bcode_add((i, K_CALL, p, key, None))
                else:
                    bcode_add((i, kind, rule, a, b))
            else:
                depends_add(False)
                nodep_add(i)
            return i

        self._binary[op] = make
        return make

    def leaves(self, constants):
        """(name(text), number(text)): the parser's hot path for names and numbers, one
        call per token. name: the node the name reads (its binding in env, else the
        input, else const(constants[text]), else a new input, as var makes it);
        number: const(float(text)) without a name. The same nodes as var and const."""
        ops, inputs, const = self.ops, self.inputs, self.const
        ids = self._ids
        env_get, inputs_get, ids_get = self.env.get, inputs.get, ids.get
        ops_add, args_add, attr_add, names_add, depends_add, nodep_add, use = (
            ops.append, self.args.append, self.attr.append, self.names.append, self.depends.append,
            self.nodep.append, self._unused.add)

        def name(text):
            i = env_get(text)
            if i is None:
                i = inputs_get(text)  # a name is an input or a constant, never both
                if i is None:
                    if text in constants:
                        return const(constants[text])
                    i = inputs[text] = len(ops)
                    ops_add(VAR)
                    args_add(())
                    attr_add(text)
                    names_add(text)
                    depends_add(True)
                    use(i)
            return i

        def number(text):
            value = float(text)
            key = (CONST, value if value else repr(value), None)
            i = ids_get(key)
            if i is None:
                i = ids[key] = len(ops)
                ops_add(CONST)
                args_add(())
                attr_add(value)
                names_add(None)
                depends_add(False)
                nodep_add(i)
                use(i)
            return i

        return name, number

    def _code(self, i, op, args, depends):
        p = PRIMITIVES[op]
        if p.arity == VARIADIC:
            a, b = args, NARY
        elif p.arity == 1:
            a, b = args[0], UNARY
        else:
            a, b = args
        self.fcode.append((i, p.f, a, b))
        if depends:
            self.bcode.append(_backward_entry(i, p, a, b, self.depends))

    # ---- the environment ---------------------------------------------------

    def bind(self, name, i):
        if self.ops[i] == CONST and self.names[i] != name:
            # `w = 0.5` makes a constant of its own, so a literal 0.5 elsewhere is not shown as w.
            i = self.const(self.attr[i], name)
        elif self.names[i] is None:
            self.names[i] = name
        self.env[name] = i
        self.bindings.append((name, i))
        return i

    # ---- views -------------------------------------------------------------

    def cone(self, out):
        """The subgraph the node `out` depends on, renumbered in the same order.

        Returns (graph, old ids): ids stay increasing, so the order is still topological.
        """
        n = out + 1
        if n == len(self.ops) and len(self._unused) == 1:
            # every node but the last is read by a later one, so every node reaches the last
            return self, range(n)
        g, new = self.subgraph([out])
        old = list(new)
        return (self, old) if g is None else (g, old)

    def subgraph(self, outs, whole=False):
        """The nodes that the nodes `outs` depend on, as a new Graph renumbered in the
        same (topological) order, with their names, environment and bindings. Returns
        (graph, {old id: new id}); the graph is None when it would be every node
        (unless `whole`). One loop down the tape marks the nodes, one loop up copies them."""
        n = max(outs) + 1
        keep = bytearray(n)
        for o in outs:
            keep[o] = 1
        args = self.args
        for i in range(n - 1, -1, -1):
            if keep[i]:
                for a in args[i]:
                    keep[a] = 1
        old = [i for i in range(n) if keep[i]]
        if len(old) == len(self.ops) and not whole:
            return None, {i: i for i in old}
        new: dict = {}
        g = Graph()
        for o in old:
            op = self.ops[o]
            if op == VAR:
                k = g.var(self.attr[o])
            elif op == CONST:
                k = g.const(self.attr[o], self.names[o])
            else:
                k = g.apply(op, *[new[a] for a in args[o]])
                g.names[k] = self.names[o]
            new[o] = k
        g.env = {name: new[i] for name, i in self.env.items() if i in new}
        g.bindings = [(name, new[i]) for name, i in self.bindings if i in new]
        return g, new

    def display_names(self):
        """Per node the name to show: a name bound more than once gets a version (`h@2`)."""
        count: dict = {}
        for name, _ in self.bindings:
            count[name] = count.get(name, 0) + 1
        for name in self.inputs:
            count[name] = count.get(name, 0) + 1
        version: dict = {}
        shown = list(self.names)
        for name, i in self.bindings:
            if self.names[i] == name and count[name] > 1 and self.ops[i] != VAR:
                version[name] = version.get(name, 0) + 1
                shown[i] = "%s@%d" % (name, version[name])
        return shown

    def exprs(self, upto=None):
        """Per node its expression as text, its inputs written by name where they
        have one. Built bottom-up in one loop (no recursion); a subexpression
        longer than MAX_INLINE is written as `#id`, so text stays linear in size."""
        n = len(self.ops) if upto is None else upto + 1
        shown = self.display_names()
        text = []
        ref: list = []  # (text, precedence) that a user of node i writes for it
        ops, args, attr = self.ops, self.args, self.attr
        for i in range(n):
            op = ops[i]
            if op == VAR:
                t, p = attr[i], P_ATOM
            elif op == CONST:
                t = _const_text(attr[i])
                p = P_UNARY if t.startswith("-") else P_ATOM
            else:
                t, p = write(op, [ref[a] for a in args[i]])
            text.append(t)
            if shown[i] is not None:
                ref.append((shown[i], P_ATOM))
            elif len(t) > MAX_INLINE:
                ref.append(("#%d" % i, P_ATOM))
            else:
                ref.append((t, p))
        return text


def _backward_entry(i, p, a, b, dep):
    c = p.consts
    if c is not None and c in _SIGNED:
        return (i, _SIGNED[c], None, a, b)
    if c is not None and p.arity == 1:
        return (i, K_CONST, c[0], a, b)
    if p.kind == PRODUCT:
        return (i, K_PRODUCT, None, a, b)
    if p.arity == 1:
        return (i, K_UNARY, p.rules[0], a, b)
    if p.arity == 2 and not dep[b]:
        return (i, K_LEFT, scalar_rule(p.rules[0]), a, b)
    if p.arity == 2 and not dep[a]:
        return (i, K_RIGHT, scalar_rule(p.rules[1]), a, b)
    return (i, K_CALL, p, (a, b) if p.arity == 2 else a, None)


def _const_text(v):
    for name, c in (("pi", math.pi), ("e", math.e)):
        if v == c:
            return name
    return fmt(v)


def write(op, operands):
    """Write `op` applied to operands, each (text, precedence), with the fewest
    parentheses that parse back to the same tree. Returns (text, precedence)."""
    prim = PRIMITIVES[op]
    sym, p = prim.symbol, prim.prec
    if sym is None:
        return "%s(%s)" % (op, ", ".join(t for t, _ in operands)), P_ATOM
    if len(operands) == 1:
        t, q = operands[0]
        return sym + (t if q > p else "(%s)" % t), p
    (a, pa), (b, pb) = operands
    if p == P_POWER:  # right-associative: a^(b^c) needs none, (a^b)^c does
        left = a if pa > p else "(%s)" % a
        right = b if pb >= P_UNARY else "(%s)" % b
        return "%s^%s" % (left, right), p
    left = a if pa >= p else "(%s)" % a
    right = b if pb > p else "(%s)" % b
    return "%s %s %s" % (left, sym, right), p
