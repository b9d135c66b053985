"""Wide graphs as whole-array operations: the column passes over a 2-D block.

`compile(g)` turns a tape into a plan of block operations. Each node's level is its
longest path from the leaves; within a level the nodes of one primitive (same
arity, same inputs depending on an input) form a group, and the nodes are
renumbered so that a group's outputs are a contiguous slice of the value array V
(nodes x rows). The forward pass is one numpy call per group, V[s:e] = f(V[A], V[B]);
the backward pass computes a group's local partials with the primitive's own rule
(`primitives.partials`, the numpy namespace: the rules are stated once) and
scatter-adds them into the gradient rows of the inputs, in a fixed order (a stable
sort by input row, then np.add.reduceat), so that two runs give the same bits.

A left spine of `add`/`sub` whose inner nodes have one user each (`a + b + c + d`,
as written: add(add(add(a, b), c), d)) is one n-ary sum: its inner nodes are not
kept (their values are only the sum's prefixes; a non-finite one makes the sum
non-finite too, so bad rows are still found) and their gradient is the sum's.
The terms are added in the tape's order, left to right, so a sum's value is the
same double as the chain's.

Row-constant leaves (constants, inputs bound to a number) are rows of V filled
by broadcasting. Values agree with the per-node column passes exactly for
sums, products and the other IEEE operations; gradients differ only in the order
in which a shared node's contributions are added (a few ulps: tests/test_blocks.py).
"""

import threading
import weakref
from typing import Any

from .primitives import PRIMITIVES, VARIADIC, numpy_namespace, partials
from .tape import CONST, VAR

SUM = "sum"  # the fused n-ary sum
MIN_NODES = 48  # below this many operation nodes the per-node passes are as fast
MIN_WIDTH = 3.0
CACHE_CELLS = 196608  # nodes x rows run at a time (1.5 MiB of values, as much of gradients)
MIN_STEP = 256  # operation nodes per group, at least (a chain is one node per level)

_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def plan_for(g):
    """The cached plan of `g` (a Graph, or any object with its fields), or None when the
    per-node passes pay as well (too few nodes, or too few nodes per group)."""
    try:
        hit = _CACHE.get(g)
    except TypeError:
        hit = None
    if hit is not None and hit[0] == len(g.ops):
        return hit[1]
    p = compile(g)
    if p is not None and (p.nodes < MIN_NODES or p.nodes < MIN_WIDTH * len(p.groups)):
        p = None
    try:
        _CACHE[g] = (len(g.ops), p)
    except TypeError:
        pass
    return p


def _index(np, rows):
    """A slice when `rows` is a contiguous ascending run, else an index array."""
    if len(rows) and rows[-1] - rows[0] == len(rows) - 1 and all(b - a == 1 for a, b in zip(rows, rows[1:])):
        return slice(rows[0], rows[-1] + 1)
    return np.array(rows, dtype=np.intp)


class _Pull:
    """A group's gradient rows from the contributions in E (one row of E per edge
    user -> operand): per node, its contributions in the order the scalar backward
    pass adds them (users from the last to the first; a user's operands in order),
    one after another, starting from 0.0 as the scalar pass does (so that -0.0 + 0.0
    is 0.0 there too). Nodes with the same number of contributions are one gather
    and one reduction over the middle axis of a (nodes, count, rows) stack."""

    def __init__(self, np, nodes):
        by: dict = {}
        for r, edges in nodes:
            if edges:
                ordered = [slot for _, slot in sorted(edges, key=lambda e: e[0], reverse=True)]
                by.setdefault(len(ordered), []).append((r, ordered))
        self.parts = []
        for c in sorted(by):
            rows = [r for r, _ in by[c]]
            idx = [slot for _, ordered in by[c] for slot in ordered]
            self.parts.append((c, len(rows), _index(np, rows), _index(np, idx)))

    def pull(self, np, G, E):
        for c, k, rows, idx in self.parts:
            X = E[idx]
            if c > 1:
                X = X.reshape(k, c, X.shape[-1]).sum(axis=1)
            G[rows] = X + 0.0


class Group:
    """One block operation: the nodes of rows s:e, one primitive `prim` (or SUM) over
    `args` (per operand: a slice or index array of V's rows, or a _Const)."""

    __slots__ = ("op", "prim", "s", "e", "args", "want", "dep", "scatter", "terms", "signs", "starts",
                 "arity", "width", "split", "edges", "owner", "esigns")
    op: Any
    prim: Any
    s: int
    e: int
    args: Any
    want: Any
    dep: bool
    scatter: Any
    terms: Any
    signs: Any
    starts: Any
    arity: Any
    width: Any
    split: bool
    edges: Any
    owner: Any
    esigns: Any


class Plan:
    """The block plan of a tape. `row[i]`: node i's row of V (for a fused node, the
    sum's row); `fused[i]`: for a fused inner node, (the sum's term rows and signs
    up to it); `nodes`: the operation nodes kept; `groups` in level order."""

    def __init__(self, n_rows, row, fused, groups, var_rows, const_rows, const_vals, dep, out, nodes):
        self.n_rows, self.row, self.fused, self.groups = n_rows, row, fused, groups
        self.var_rows, self.const_rows, self.const_vals = var_rows, const_rows, const_vals
        self.dep, self.out, self.nodes = dep, out, nodes
        self.var_names, self.var_list = list(var_rows), list(var_rows.values())
        self.local = threading.local()  # scratch arrays, per thread
        self.leaves: Any = None  # the inputs' _Pull
        self.slots = 0  # rows of E: one per edge (user -> operand)

    def new(self, np, size):
        """V with the constants' rows filled; the caller fills the inputs' rows."""
        V = np.empty((self.n_rows, size))
        if len(self.const_rows):
            V[self.const_rows] = self.const_vals[:, None]
        return V

    def fill(self, np, V, columns, size):
        """The inputs' rows from `columns` (an array of `size` rows or a number each)."""
        srows, svals = [], []
        for name, r in zip(self.var_names, self.var_list):
            x = columns[name]
            if getattr(x, "shape", None) == (size,):
                V[r] = x
            else:
                srows.append(r)
                svals.append(float(x))
        if srows:
            V[srows] = np.array(svals)[:, None]

    def forward(self, np, V):
        for gr in self.groups:
            out = V[gr.s:gr.e]
            if gr.op == SUM:
                T = V[gr.terms]
                if gr.signs is not None:
                    T = T * gr.signs  # T may be a view of V
                # every sum of the group has `width` terms: a reduction over the middle axis
                # adds them one after another, left to right (np.add.reduceat does not)
                T.reshape(gr.e - gr.s, gr.width, T.shape[-1]).sum(axis=1, out=out)
            else:
                xs = [a.value if type(a) is _Const else V[a] for a in gr.args]
                out[...] = gr.prim.vf(np, xs) if gr.arity == VARIADIC else gr.prim.vf(np, *xs)
        return V

    def backward(self, np, V, G=None, E=None):
        """G (nodes x rows): the output's gradient with respect to every row's node
        (into `G` and the contributions' `E` when given: zeros of V's shape, and
        (self.slots x rows)). A group's gradient rows are pulled from E (_Pull), then
        it writes its own contributions into its slices of E."""
        if G is None:
            G = np.zeros(V.shape)  # calloc: the untouched rows cost nothing
        if E is None:
            E = np.empty((self.slots, V.shape[1]))
        G[self.out] = 1.0
        m = numpy_namespace(np)
        for gr in reversed(self.groups):
            gr.scatter.pull(np, G, E)
            if not gr.dep or not gr.split:
                continue
            u = G[gr.s:gr.e]
            if gr.op == SUM:
                out = E[gr.edges]
                np.take(u, gr.owner, axis=0, out=out) if type(gr.owner) is not slice else np.copyto(out, u[gr.owner])
                if gr.esigns is not None:
                    out *= gr.esigns
                continue
            xs = [a.value if type(a) is _Const else V[a] for a in gr.args]
            ds = partials(gr.prim, m, xs, V[gr.s:gr.e], None if gr.arity == VARIADIC else gr.want)
            for sl, d in zip(gr.edges, [d for d, w in zip(ds, gr.want) if w]):
                np.multiply(u, d, out=E[sl])
        self.leaves.pull(np, G, E)
        return G

    def scratch(self, np, step):
        """V (constants filled) and G for blocks of `step` rows, kept for the next run of
        this thread (new memory each run costs page faults: a third of the time)."""
        local = self.local
        hit = getattr(local, "pair", None)
        if hit is None or hit[0].shape[1] != step:
            hit = local.pair = (self.new(np, step), np.empty((self.n_rows, step)), np.empty((self.slots, step)))
        return hit

    def step(self, size):
        """Rows per block of a run of `size` rows: all of them, or CACHE_CELLS cells of V."""
        step = max(MIN_STEP, CACHE_CELLS // (self.n_rows + self.slots // 2))
        return size if size <= 2 * step else step

    def run(self, np, columns, size):
        """(V, G) over `size` rows at once."""
        V = self.new(np, size)
        self.fill(np, V, columns, size)
        self.forward(np, V)
        return V, self.backward(np, V)


def compile(g):
    """The block plan of `g` (linear in the tape's size; nothing recurses)."""
    import numpy as np
    ops, args, dep = g.ops, g.args, g.depends
    n = len(ops)
    if n == 0:
        return None
    uses = [0] * n
    for a_s in args:
        for a in a_s:
            uses[a] += 1
    # 1. the sums: a left spine of add/sub whose inner nodes have one user
    terms: dict = {}  # sum node -> [(term node, sign)]
    fused: dict = {}  # inner node -> (its sum node, number of terms up to it)
    spine_ops = [o for o in ("add", "sub") if PRIMITIVES[o].consts and PRIMITIVES[o].consts[0] == 1.0]
    for i in range(n):
        op = ops[i]
        if op in spine_ops:
            a, b = args[i]
            sign = PRIMITIVES[op].consts[1]
            if a in terms and uses[a] == 1 and a != n - 1:
                t = terms.pop(a)
                fused[a] = (i, len(t))
                t.append((b, sign, i))
            else:
                t = [(a, 1.0, i), (b, sign, i)]
            terms[i] = t
    for i, t in list(terms.items()):
        if len(t) < 3:  # a single add/sub stays a node of its own
            del terms[i]
    # a fused inner node points at the final sum
    final: dict = {}
    for i in range(n - 1, -1, -1):
        if i in fused:
            s, k = fused[i]
            final[i] = (final[s][0] if s in final else s, k)
    # 2. levels and groups
    level = [0] * n
    keys: dict = {}
    order: list = []
    var_nodes, const_nodes = [], []
    for i in range(n):
        op = ops[i]
        if op == VAR:
            var_nodes.append(i)
            continue
        if op == CONST:
            const_nodes.append(i)
            continue
        if i in final:
            continue
        if i in terms:
            ins = [t[0] for t in terms[i]]
            key: tuple = (SUM, len(ins))
        else:
            ins = list(args[i])
            key = (op, len(ins), tuple(dep[a] for a in ins))
        lv = 1 + max(level[a] for a in ins)
        level[i] = lv
        key = (lv, dep[i]) + key
        if key not in keys:
            keys[key] = []
            order.append(key)
        keys[key].append(i)
    order.sort(key=lambda k: k[0])  # stable: within a level, the groups in order of first node
    row = [0] * n
    r = 0
    # the leaves in the order the groups read them (position by position), so that the
    # parameters of a layer are a contiguous run of rows (a slice, not a gather)
    leaf = [ops[i] == VAR or ops[i] == CONST for i in range(n)]
    placed = bytearray(n)
    for key in order:
        members = keys[key]
        width = len(terms[members[0]]) if key[2] == SUM else len(args[members[0]])
        for k in range(width):
            for i in members:
                a = terms[i][k][0] if key[2] == SUM else args[i][k]
                if leaf[a] and not placed[a]:
                    placed[a] = 1
                    row[a] = r
                    r += 1
    for i in var_nodes + const_nodes:
        if not placed[i]:
            row[i] = r
            r += 1
    for key in order:
        for i in keys[key]:
            row[i] = r
            r += 1
    for i, (s, _) in final.items():
        row[i] = row[s]
    groups = []
    nodes = 0
    into: dict = {}  # node -> [((user, sub-key), slot of E)]: the contributions to its gradient
    slots = 0
    for key in order:
        members = keys[key]
        nodes += len(members)
        gr = Group()
        gr.dep = key[1]
        gr.op = key[2]
        gr.s, gr.e = row[members[0]], row[members[-1]] + 1
        gr.signs = None
        if gr.op == SUM:
            gr.prim, gr.arity, gr.args, gr.want = None, None, None, None
            gr.width = key[3]
            trows: list = []
            signs: list = []
            starts: list = []
            owner: list = []
            tnodes: list = []
            ukeys: list = []
            for k, i in enumerate(members):
                starts.append(len(trows))
                for p_, (t, sg, adder) in enumerate(terms[i]):
                    trows.append(row[t])
                    signs.append(sg)
                    owner.append(k)
                    tnodes.append(t)
                    # the scalar pass: the first add gives its left operand, then its right one
                    ukeys.append((adder, 2 if p_ == 0 else 1))
            gr.terms = _index(np, trows)
            gr.starts = np.array(starts, dtype=np.intp)
            if any(sg != 1.0 for sg in signs):
                gr.signs = np.array(signs)[:, None]
            keep = [j for j, t in enumerate(tnodes) if dep[t]]
            gr.edges = slice(slots, slots + len(keep))
            for j in keep:
                into.setdefault(tnodes[j], []).append((ukeys[j], slots))
                slots += 1
            gr.owner = _index(np, [owner[j] for j in keep])
            esg = [signs[j] for j in keep]
            gr.esigns = None if all(x == 1.0 for x in esg) else np.array(esg)[:, None]
            gr.split = bool(keep)
        else:
            p = PRIMITIVES[gr.op]
            gr.prim, gr.arity = p, p.arity
            width = len(args[members[0]])
            gr.args = [_operand(np, g, row, [args[i][k] for i in members]) for k in range(width)]
            gr.want = list(key[4])
            gr.edges = []
            for k in range(width):
                if gr.want[k]:
                    gr.edges.append(slice(slots, slots + len(members)))
                    for i in members:  # the scalar pass: a node's operands in order
                        into.setdefault(args[i][k], []).append(((i, width - k), slots))
                        slots += 1
            gr.split = bool(gr.edges)
            gr.terms = gr.starts = gr.width = gr.owner = gr.esigns = None
        groups.append(gr)
    # each group's gradients, pulled from E before its own backward runs (its users are all
    # at higher levels), in the scalar pass's order: users from the last to the first
    for key, gr in zip(order, groups):
        gr.scatter = _Pull(np, [(row[i], into.get(i, [])) for i in keys[key]])
    leaves_pull = _Pull(np, [(row[i], into.get(i, [])) for i in var_nodes])
    fused_rows = {}
    for i, (s, k) in final.items():
        fused_rows[i] = ([row[t[0]] for t in terms[s][:k]], [t[1] for t in terms[s][:k]])
    var_rows = {g.attr[i]: row[i] for i in var_nodes}
    const_rows = np.array([row[i] for i in const_nodes], dtype=np.intp)
    const_vals = np.array([float(g.attr[i]) for i in const_nodes])
    plan = Plan(r, row, fused_rows, groups, var_rows, const_rows, const_vals, list(dep), row[n - 1], nodes)
    plan.leaves, plan.slots = leaves_pull, slots
    return plan


def _operand(np, g, row, nodes):
    """How a group reads its k-th operand: the number itself when every member reads one
    constant node (numpy's x^2 then is x*x, as in the per-node passes), else rows of V."""
    first = nodes[0]
    if g.ops[first] == CONST and all(a == first for a in nodes):
        return _Const(np.float64(g.attr[first]))
    return _index(np, [row[a] for a in nodes])


class _Const:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value
