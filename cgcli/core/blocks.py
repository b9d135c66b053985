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


class _Scatter:
    """Add a stack of contributions C (k x rows) into the gradient rows `targets`, in a
    fixed order: per target row, its contributions in the order the scalar backward
    pass adds them (`keys`: (user node, sub-key), largest first), one after another
    (a reduction over the middle axis of a (targets, count, rows) stack, grouped by
    count), then added to the row. A target with one contribution is added directly,
    a contiguous run of such targets as one slice. `src` (optional): contribution j
    is C[src[j]] (times signs[j]), so that a sum's gradient rows are read once."""

    def __init__(self, np, targets, keys, src=None, signs=None):
        t = np.array(targets, dtype=np.intp)
        users = np.array([k[0] for k in keys], dtype=np.int64)
        subs = np.array([k[1] for k in keys], dtype=np.int64)
        perm = np.lexsort((-subs, -users, t))  # by target, then the scalar pass's order
        ts = t[perm]
        starts = np.flatnonzero(np.concatenate(([True], ts[1:] != ts[:-1])))
        counts = np.diff(np.append(starts, len(ts)))
        src = np.arange(len(targets)) if src is None else np.asarray(src, dtype=np.intp)
        self.parts = []
        for c in sorted(set(counts.tolist())):
            sel = starts[counts == c]
            if c == 1:  # runs of consecutive target rows
                rows = ts[sel]
                cut = np.flatnonzero(np.diff(rows) != 1) + 1
                for lo, hi in zip(np.concatenate(([0], cut)), np.concatenate((cut, [len(rows)]))):
                    j = perm[sel[lo:hi]]
                    self.parts.append((1, hi - lo, slice(int(rows[lo]), int(rows[hi - 1]) + 1),
                                       _index(np, src[j].tolist()), _signs(np, signs, j)))
                continue
            j = perm[(sel[:, None] + np.arange(c)[None, :]).ravel()]
            self.parts.append((c, len(sel), _index(np, ts[sel].tolist()), _index(np, src[j].tolist()),
                               _signs(np, signs, j)))

    def add(self, np, G, C):
        for c, k, rows, idx, sg in self.parts:
            X = C[idx]
            if sg is not None:
                X = X * sg
            G[rows] += X if c == 1 else X.reshape(k, c, X.shape[-1]).sum(axis=1)


def _signs(np, signs, j):
    if signs is None:
        return None
    s = np.asarray(signs)[j]
    return None if (s == 1.0).all() else s[:, None]


class Group:
    """One block operation: the nodes of rows s:e, one primitive `prim` (or SUM) over
    `args` (per operand: a slice or index array of V's rows, or a _Const)."""

    __slots__ = ("op", "prim", "s", "e", "args", "want", "dep", "scatter", "terms", "signs", "starts",
                 "arity", "width", "split")
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

    def backward(self, np, V, G=None):
        """G (nodes x rows): the output's gradient with respect to every row's node
        (into `G`, zeros of V's shape, when given)."""
        if G is None:
            G = np.zeros(V.shape)  # calloc: the untouched rows cost nothing
        G[self.out] = 1.0
        m = numpy_namespace(np)
        for gr in reversed(self.groups):
            if not gr.dep or gr.scatter is None:
                continue
            u = G[gr.s:gr.e]
            if gr.op == SUM:
                gr.scatter.add(np, G, u)
                continue
            xs = [a.value if type(a) is _Const else V[a] for a in gr.args]
            ds = partials(gr.prim, m, xs, V[gr.s:gr.e], None if gr.arity == VARIADIC else gr.want)
            parts = [u * d for d, w in zip(ds, gr.want) if w]
            if gr.split:  # the operands' target rows are disjoint: one scatter each
                for sc, c in zip(gr.scatter, parts):
                    sc.add(np, G, c)
            else:
                gr.scatter.add(np, G, parts[0] if len(parts) == 1 else np.concatenate(parts))
        return G

    def scratch(self, np, step):
        """V (constants filled) and G for blocks of `step` rows, kept for the next run of
        this thread (new memory each run costs page faults: a third of the time)."""
        local = self.local
        hit = getattr(local, "pair", None)
        if hit is None or hit[0].shape[1] != step:
            hit = local.pair = (self.new(np, step), np.empty((self.n_rows, step)))
        return hit

    def step(self, size):
        """Rows per block of a run of `size` rows: all of them, or CACHE_CELLS cells of V."""
        step = max(MIN_STEP, CACHE_CELLS // self.n_rows)
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
                t.append((b, sign))
            else:
                t = [(a, 1.0), (b, sign)]
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
            ins = [t for t, _ in terms[i]]
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
            for k, i in enumerate(members):
                starts.append(len(trows))
                for t, sg in terms[i]:
                    trows.append(row[t])
                    signs.append(sg)
                    owner.append(k)
                    tnodes.append(t)
            gr.terms = _index(np, trows)
            gr.starts = np.array(starts, dtype=np.intp)
            if any(sg != 1.0 for sg in signs):
                gr.signs = np.array(signs)[:, None]
            keep = [j for j, t in enumerate(tnodes) if dep[t]]
            pos = [j - starts[owner[j]] for j in keep]
            gr.split = False
            gr.scatter = _Scatter(np, [trows[j] for j in keep], [(members[owner[j]], q) for j, q in zip(keep, pos)],
                                  [owner[j] for j in keep], [signs[j] for j in keep]) if keep else None
        else:
            p = PRIMITIVES[gr.op]
            gr.prim, gr.arity = p, p.arity
            width = len(args[members[0]])
            gr.args = [_operand(np, g, row, [args[i][k] for i in members]) for k in range(width)]
            gr.want = list(key[4])
            wanted = [k for k in range(width) if gr.want[k]]
            per = [[row[args[i][k]] for i in members] for k in wanted]
            gr.split = len(per) > 1 and len(set().union(*map(set, per))) == sum(len(set(t)) for t in per)
            if gr.split:
                gr.scatter = [_Scatter(np, t, [(i, 0) for i in members]) for t in per]
            else:
                targets = [r for t in per for r in t]
                ukeys = [(i, width - k) for k in wanted for i in members]
                gr.scatter = _Scatter(np, targets, ukeys) if targets else None
            gr.terms = gr.starts = gr.width = None
        groups.append(gr)
    fused_rows = {}
    for i, (s, k) in final.items():
        fused_rows[i] = ([row[t] for t, _ in terms[s][:k]], [sg for _, sg in terms[s][:k]])
    var_rows = {g.attr[i]: row[i] for i in var_nodes}
    const_rows = np.array([row[i] for i in const_nodes], dtype=np.intp)
    const_vals = np.array([float(g.attr[i]) for i in const_nodes])
    return Plan(r, row, fused_rows, groups, var_rows, const_rows, const_vals, list(dep), row[n - 1], nodes)


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
