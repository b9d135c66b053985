"""The symbolic backward pass (gradient_nodes), repeated derivatives
(differentiate) and the Hessian."""

from ...core.errors import CgraphError, UsageError, not_inputs
from ...core.primitives import PRIMITIVES, partials
from ...core.tape import VAR, no_gc
from .builder import Builder
from .symbolic import SymbolicNamespace


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
    m = SymbolicNamespace(b)
    limit = b.limit
    for i in range(out, lo - 1, -1):
        terms = contribs.pop(i, None)
        if terms is None:
            continue
        if limit is not None and len(ops) > limit:
            raise TooLarge()
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
        parts = partials(PRIMITIVES[op], m, [m.operand(x) for x in a], m.operand(i), [dep[x] for x in a])
        for x, d in zip(a, parts):
            if dep[x] and d is not None:
                t = b.mul(adj, d)
                lst = contribs.get(x)
                if lst is None:
                    contribs[x] = [t]
                else:
                    lst.append(t)
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
        raise not_inputs("--wrt", bad, g.inputs)


NODE_BUDGET = 100_000  # the most nodes a derivative may add to the program's (docs/derivatives.md)


class TooLarge(Exception):
    """A derivative outgrew the builder's node budget (caught by differentiate)."""


def differentiate(program, seqs, builder=None, budget=NODE_BUDGET):
    """[(seq, node)]: for each sequence of input names, the output differentiated
    by each name in turn ((x,) is d/dx, (x, y) the mixed partial d2/dxdy). Sequences
    with a common prefix share its pass; one pass serves all next names of a prefix.
    The nodes are added to program.graph (diff_text and hessian work on a copy).
    A derivative that would add more than `budget` nodes (each order of a product
    may double it or more) is refused with a UsageError, checked as it is built."""
    g = program.graph
    check_names(program, [n for s in seqs for n in s])
    b = builder or Builder(g)
    memo = {(): program.output}
    depth = max((len(s) for s in seqs), default=0)
    if budget is not None:
        b.limit = len(g.ops) + budget
    k = 0
    try:
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
    except TooLarge:
        raise UsageError("the derivative is too large: differentiating %d time%s grows it past %d nodes, "
                         "the limit" % (k + 1, "" if k == 0 else "s", budget),
                         hint="ask for a lower --order; each order can multiply the size") from None
    finally:
        b.limit = None
    return [(tuple(s), memo[tuple(s)]) for s in seqs]


def _copy(program):
    from ...core.language import Program
    g, new = subgraph(program.graph, [program.output])
    return Program(g, new[program.output], program.output_name, program.source)


def subgraph(g, outs):
    """The nodes the nodes `outs` depend on, as a new Graph in the same order
    (with the program's inputs and names). Returns (graph, {old id: new id})."""
    h, new = g.subgraph(outs, whole=True)
    for name in g.inputs:  # an input the output does not read is still an input
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
    from ...core.passes import forward
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


def hessian_pairs(names):
    """[(a, b)] for a <= b in the order of `names`: the Hessian's upper triangle, diagonal included."""
    return [(a, c) for k, a in enumerate(names) for c in names[k:]]


def hessian_graph(program, names):
    """(graph, [node id]): the second derivatives d2 out/da db for each pair of
    hessian_pairs(names), built once as nodes of a new graph (the caller's is left
    alone) to be run by a forward pass, over scalars or over columns. The graph holds
    only the nodes they depend on, so its inputs are ones the output reads. With no
    pairs, (None, [])."""
    program = _copy(program)
    rows = hessian_nodes(program, names)
    outs = [rows[a][c] for a, c in hessian_pairs(names)]
    if not outs:
        return None, []
    h, new = program.graph.subgraph(outs, whole=True)
    return h, [new[o] for o in outs]
