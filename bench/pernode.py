"""Per-node speed of the core: parse, forward and backward (issue 2, point 9b).

Prints, from one run (this machine is noisy: contenders alternate, every figure is
a median of repeats, every comparison a ratio taken in the same run):

  1. parse, forward and backward time per node at 10^3, 10^4, 10^5 and 10^6
     nodes, and backward / forward (target: within 2x). Shape: an unrolled RNN
     with a squared-error loss (backprop through time), 10 nodes a step:
         h = tanh(w*h + u*x<t> + b)
         loss = loss + (h - y<t>)^2
  2. forward + backward per node against micrograd (PyPI `micrograd`) on the
     same expression (target: cgraph at least 10x faster). Shape: a one-hidden-
     layer ReLU network, 32 inputs, M hidden units, every sum a balanced
     (pairwise) tree, so micrograd's recursive topological sort stays shallow:
         out = sum_j v_j * relu(sum_i W_j_i * x_i + b_j)
     micrograd's forward is building the Value expression with Python operators
     from leaf Values (made untimed), its backward is `out.backward()`; it runs
     with the default GC, as its users run it. Both give the same output and
     the same gradients (asserted). (ReLU, not tanh: PyPI micrograd 0.1.0 has only
     + * ** and relu.) Sizes 10^3..10^5 (--micrograd-max).
  3. parse + build + forward + backward of the 10^6-node RNN program against
     Lark's own LALR parse of the same text into a plain parse tree, no callbacks
     (target: cgraph within 1.5x). Lark is timed with the GC off (as the cgraph
     core runs; the strict comparison) and once with the default GC.

    python bench/pernode.py [--quick] [--max-nodes 1000000] [--repeats X] [--json]

The 10^6 row of table 1 is cgraph's side of the Lark rounds (3 runs); --repeats
scales the number of runs at the smaller sizes.

--quick stops at 10^5 nodes (no 10^6 row, no Lark comparison). The default run
takes about three minutes, most of it the 10^6-node Lark comparison.
"""

import argparse
import gc
import json
import math
import os
import platform
import random
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from cgcli.core.language import grammar_path, parse_program  # noqa: E402
from cgcli.core.passes import backward, forward  # noqa: E402
from cgcli.core.tape import no_gc  # noqa: E402

now = time.perf_counter


# ---- shapes -----------------------------------------------------------------

def rnn_program(nodes, seed=1):
    """The unrolled RNN with a squared-error loss: about `nodes` nodes (10 a step).
    Returns (text, bindings)."""
    steps = max(1, nodes // 10)
    lines = ["h = tanh(w*h0 + u*x1 + b)", "loss = (h - y1)^2"]
    for t in range(2, steps + 1):
        lines.append("h = tanh(w*h + u*x%d + b)" % t)
        lines.append("loss = loss + (h - y%d)^2" % t)
    rng = random.Random(seed)
    bindings = {"w": 0.5, "u": 0.8, "b": 0.1, "h0": 0.0}
    for t in range(1, steps + 1):
        bindings["x%d" % t] = rng.uniform(-1, 1)
        bindings["y%d" % t] = rng.uniform(-1, 1)
    return "\n".join(lines) + "\n", bindings


MLP_INPUTS = 32


def tree_sum(items, add):
    """Pairwise (balanced) sum: the same tree for Values and for text."""
    while len(items) > 1:
        nxt = [add(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        if len(items) % 2:
            nxt.append(items[-1])
        items = nxt
    return items[0]


class MLP:
    """out = sum_j v_j * relu(sum_i W_j_i * x_i + b_j), k inputs, m hidden units."""

    def __init__(self, nodes, seed=2):
        k = self.k = MLP_INPUTS
        self.m = m = max(1, round((nodes - k) / (3 * k + 5)))
        rng = random.Random(seed)
        u = rng.uniform
        self.x = [u(-1, 1) for _ in range(k)]
        self.W = [[u(-1, 1) / math.sqrt(k) for _ in range(k)] for _ in range(m)]
        self.bias = [u(-0.1, 0.1) for _ in range(m)]
        self.v = [u(-1, 1) for _ in range(m)]

    def text(self):
        k, m = self.k, self.m
        add = "(%s + %s)".__mod__
        lines = []
        for j in range(1, m + 1):
            s = tree_sum(["W%d_%d*x%d" % (j, i, i) for i in range(1, k + 1)], lambda a, b: add((a, b)))
            lines.append("h%d = relu(%s + b%d)" % (j, s, j))
        lines.append("out = " + tree_sum(["v%d*h%d" % (j, j) for j in range(1, m + 1)],
                                         lambda a, b: add((a, b))))
        return "\n".join(lines) + "\n"

    def names(self):
        """Input name -> value, for cgraph; the same order as `leaves`."""
        d = {}
        for i, x in enumerate(self.x, 1):
            d["x%d" % i] = x
        for j, (row, bj, vj) in enumerate(zip(self.W, self.bias, self.v), 1):
            for i, w in enumerate(row, 1):
                d["W%d_%d" % (j, i)] = w
            d["b%d" % j] = bj
            d["v%d" % j] = vj
        return d

    def leaves(self, Value):
        X = [Value(x) for x in self.x]
        W = [[Value(w) for w in row] for row in self.W]
        B = [Value(b) for b in self.bias]
        V = [Value(v) for v in self.v]
        return X, W, B, V

    @staticmethod
    def micrograd_forward(X, W, B, V):
        """How a micrograd user writes it."""
        hs = [(tree_sum([w * x for w, x in zip(Wj, X)], _vadd) + bj).relu() for Wj, bj in zip(W, B)]
        return tree_sum([v * h for v, h in zip(V, hs)], _vadd)

    @staticmethod
    def leaf_grads(X, W, B, V):
        d = {}
        for i, x in enumerate(X, 1):
            d["x%d" % i] = x.grad
        for j, (row, bj, vj) in enumerate(zip(W, B, V), 1):
            for i, w in enumerate(row, 1):
                d["W%d_%d" % (j, i)] = w.grad
            d["b%d" % j] = bj.grad
            d["v%d" % j] = vj.grad
        return d


def _vadd(a, b):
    return a + b


def micrograd_nodes(out):
    """Number of Values in out's graph (iterative; untimed)."""
    seen = {id(out)}
    stack = [out]
    while stack:
        for c in stack.pop()._prev:
            if id(c) not in seen:
                seen.add(id(c))
                stack.append(c)
    return len(seen)


# ---- timing -----------------------------------------------------------------

def run_cgraph(text, bindings):
    """One run of the core pipeline. Returns (phase seconds, graph, values, grads)."""
    t0 = now()
    p = parse_program(text)
    t1 = now()
    g, _ = p.graph.cone(p.output)
    t2 = now()
    with no_gc():
        t3 = now()
        v = forward(g, bindings)
        t4 = now()
        gr = backward(g, v)
        t5 = now()
    t = {"parse": t1 - t0, "cone": t2 - t1, "forward": t4 - t3, "backward": t5 - t4, "total": t5 - t0}
    return t, g, v, gr


def clean():
    """Untimed, before each contender: a collected heap (and nothing left frozen)."""
    gc.unfreeze()
    gc.collect()


def med(xs):
    return statistics.median(xs)


def repeats_for(n, scale):
    base = 41 if n <= 2_000 else 15 if n <= 20_000 else 5 if n <= 200_000 else 1
    return max(1, round(base * scale)) if base > 1 else 1


# ---- 1. per node ----------------------------------------------------------------

def per_node(sizes, scale, big=None):
    rows = []
    for n in sizes:
        text, bindings = rnn_program(n)
        reps = repeats_for(n, scale)
        if big and n == big[1]:
            runs, nodes = big[0], big[2]  # already run, alternating with Lark
        else:
            runs = []
            run_cgraph(text, bindings)  # warm-up, untimed
            for _ in range(reps):
                clean()
                t, g, v, gr = run_cgraph(text, bindings)
                nodes = len(g)
                del g, v, gr
                runs.append(t)
        ph = {k: med([r[k] for r in runs]) for k in runs[0]}
        ratio = med([r["backward"] / r["forward"] for r in runs])
        rows.append({"nodes": nodes, "text_mb": len(text.encode()) / 1e6, "repeats": len(runs),
                     "parse_us": ph["parse"] / nodes * 1e6, "forward_us": ph["forward"] / nodes * 1e6,
                     "backward_us": ph["backward"] / nodes * 1e6, "total_us": ph["total"] / nodes * 1e6,
                     "bwd_over_fwd": ratio})
    return rows


# ---- 2. against micrograd ----------------------------------------------------------

def check_mlp(mlp, Value):
    """Same output and same gradients, cgraph against micrograd (asserted)."""
    _, g, v, gr = run_cgraph(mlp.text(), mlp.names())
    leaves = mlp.leaves(Value)
    out = mlp.micrograd_forward(*leaves)
    out.backward()
    assert micrograd_nodes(out) == len(g), (micrograd_nodes(out), len(g))
    assert v[-1] == out.data, (v[-1], out.data)  # the same tree of the same float operations
    mg = mlp.leaf_grads(*leaves)
    for name, i in g.inputs.items():
        a, b = gr[i], mg[name]
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15), (name, a, b)
    return len(g)


def vs_micrograd(sizes, scale):
    from micrograd.engine import Value
    # honesty first: a few inputs, both libraries agree on value and every gradient
    for seed in (3, 4, 5):
        check_mlp(MLP(2_000, seed=seed), Value)
    rows = []
    for n in sizes:
        mlp = MLP(n)
        text, names = mlp.text(), mlp.names()
        nodes = check_mlp(mlp, Value)
        reps = repeats_for(n, scale)
        cg, mg = [], []
        for _ in range(reps):  # (check_mlp above was the warm-up)
            clean()
            t, g, v, gr = run_cgraph(text, names)
            value = v[-1]
            del g, v, gr
            cg.append(t)
            clean()
            leaves = mlp.leaves(Value)  # the inputs, untimed
            t0 = now()
            out = mlp.micrograd_forward(*leaves)
            t1 = now()
            out.backward()
            t2 = now()
            assert out.data == value
            del out, leaves
            mg.append({"forward": t1 - t0, "backward": t2 - t1, "total": t2 - t0})
        fb = [m["total"] / (c["forward"] + c["backward"]) for c, m in zip(cg, mg)]
        pfb = [m["total"] / (c["parse"] + c["forward"] + c["backward"]) for c, m in zip(cg, mg)]
        us = lambda runs, key: med([r[key] for r in runs]) / nodes * 1e6  # noqa: E731, B023
        rows.append({
            "nodes": nodes, "hidden": mlp.m, "repeats": reps,
            "cgraph_parse_us": us(cg, "parse"), "cgraph_forward_us": us(cg, "forward"),
            "cgraph_backward_us": us(cg, "backward"),
            "cgraph_fb_us": med([c["forward"] + c["backward"] for c in cg]) / nodes * 1e6,
            "micrograd_forward_us": us(mg, "forward"), "micrograd_backward_us": us(mg, "backward"),
            "micrograd_fb_us": us(mg, "total"),
            "speedup_fb": med(fb), "speedup_parse_fb": med(pfb)})
    return rows


# ---- 3. against Lark's parse tree ----------------------------------------------------

def vs_lark(n, rounds):
    import lark
    with open(grammar_path()) as fh:
        parser = lark.Lark(fh.read(), parser="lalr", lexer="basic")
    text, bindings = rnn_program(n)
    statements = text.count("\n")
    tree = parser.parse("a = 1\n")  # warm both up
    parse_program("a = 1\n")
    cg, lk_off, lk_on = [], [], []
    for r in range(rounds):
        clean()
        t, g, v, gr = run_cgraph(text, bindings)
        nodes = len(g)
        del g, v, gr
        cg.append(t)
        clean()
        gc.disable()
        try:
            t0 = now()
            tree = parser.parse(text)
            t1 = now()
        finally:
            gc.enable()
        assert len(tree.children) == statements
        del tree
        lk_off.append(t1 - t0)
        if r == rounds // 2:  # Lark as its users run it: once, it is slow
            clean()
            t0 = now()
            tree = parser.parse(text)
            t1 = now()
            assert len(tree.children) == statements
            del tree
            lk_on.append(t1 - t0)
    clean()
    res = {"nodes": nodes, "text_mb": len(text.encode()) / 1e6, "statements": statements, "rounds": rounds,
           "cgraph_s": med([c["total"] for c in cg]), "lark_gc_off_s": med(lk_off),
           "lark_default_gc_s": med(lk_on), "lark_default_gc_runs": len(lk_on),
           "ratio_vs_gc_off": med([c["total"] / ln for c, ln in zip(cg, lk_off)]),
           "ratio_vs_default_gc": med([c["total"] for c in cg]) / med(lk_on)}
    return res, (cg, n, nodes)


# ---- output -------------------------------------------------------------------------

def table(header, rows, fmts):
    cells = [header] + [[f % r[k] if isinstance(f, str) else f(r[k]) for k, f in fmts] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    lines = []
    for j, c in enumerate(cells):
        lines.append("   " + "  ".join(s.ljust(w) if k == 0 and j and not s[:1].isdigit() else s.rjust(w)
                                          for k, (s, w) in enumerate(zip(c, widths))).rstrip())
        if j == 0:
            lines.append("   " + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def commas(n):
    return "{:,}".format(n)


def report(res):
    from importlib.metadata import version

    import lark
    import micrograd  # noqa: F401
    out = ["cgraph per-node benchmark: Python %s, lark %s, micrograd %s, %s" % (
        platform.python_version(), lark.__version__, version("micrograd"), platform.machine())]
    if "per_node" in res:
        out.append("")
        out.append("1. Per node, unrolled RNN with squared-error loss (10 nodes a step:"
                   " h = tanh(w*h + u*x<t> + b); loss = loss + (h - y<t>)^2),"
                   " median of repeats; bwd/fwd is the median of per-run ratios (target <= 2)")
        out.append(table(
            ["nodes", "text MB", "runs", "parse us/node", "forward us/node", "backward us/node",
             "all us/node", "bwd/fwd"],
            res["per_node"],
            [("nodes", commas), ("text_mb", "%.2f"), ("repeats", "%d"), ("parse_us", "%.3f"),
             ("forward_us", "%.3f"), ("backward_us", "%.3f"), ("total_us", "%.3f"),
             ("bwd_over_fwd", "%.2fx")]))
        out.append("   (all = parse + cone + forward + backward, end to end)")
    if "micrograd" in res:
        out.append("")
        out.append("2. Against micrograd: out = sum_j v_j*relu(sum_i W_j_i*x_i + b_j), %d inputs,"
                   " pairwise sums; same value and gradients asserted; contenders alternate" % MLP_INPUTS)
        out.append(table(
            ["nodes", "hidden", "runs", "cg parse", "cg fwd", "cg bwd", "cg f+b", "mg build(fwd)",
             "mg bwd", "mg f+b", "mg/cg f+b", "mg/cg incl. parse"],
            res["micrograd"],
            [("nodes", commas), ("hidden", "%d"), ("repeats", "%d"), ("cgraph_parse_us", "%.3f"),
             ("cgraph_forward_us", "%.3f"), ("cgraph_backward_us", "%.3f"), ("cgraph_fb_us", "%.3f"),
             ("micrograd_forward_us", "%.3f"), ("micrograd_backward_us", "%.3f"),
             ("micrograd_fb_us", "%.3f"), ("speedup_fb", "%.1fx"), ("speedup_parse_fb", "%.2fx")]))
        out.append("   (us/node; target: mg/cg f+b >= 10x. 'incl. parse' sets cgraph's parse + forward +"
                   " backward against micrograd's build + backward: both include making the graph)")
    if "lark" in res:
        r = res["lark"]
        out.append("")
        out.append("3. %s-node RNN program (%.2f MB of text, %s statements): cgraph parse + build + forward +"
                   " backward vs Lark LALR .parse() to a parse tree" % (
                       commas(r["nodes"]), r["text_mb"], commas(r["statements"])))
        rows = [
            {"who": "cgraph: parse+cone+fwd+bwd (GC off inside core)", "s": r["cgraph_s"],
             "runs": r["rounds"], "ratio": "1.00x"},
            {"who": "lark .parse(text), GC off", "s": r["lark_gc_off_s"], "runs": r["rounds"],
             "ratio": "%.2fx" % r["ratio_vs_gc_off"]},
            {"who": "lark .parse(text), default GC", "s": r["lark_default_gc_s"],
             "runs": r["lark_default_gc_runs"], "ratio": "%.2fx" % r["ratio_vs_default_gc"]},
        ]
        out.append(table(["contender", "seconds", "runs", "cgraph / it"], rows,
                         [("who", str), ("s", "%.2f"), ("runs", "%d"), ("ratio", str)]))
        out.append("   (target: cgraph / Lark <= 1.5x; against GC-off Lark the ratio is the median of"
                   " per-round ratios, rounds alternating)")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10^3..10^5 nodes only (no Lark comparison)")
    ap.add_argument("--max-nodes", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=float, default=1.0, help="scale the number of repeats")
    ap.add_argument("--lark-rounds", type=int, default=3, help="alternating rounds at the largest size")
    ap.add_argument("--micrograd-max", type=int, default=100_000,
                    help="largest size for the micrograd comparison (10^6 takes ~1 GB and a minute)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON instead")
    a = ap.parse_args()
    top = min(a.max_nodes, 100_000) if a.quick else a.max_nodes
    sizes = [n for n in (1_000, 10_000, 100_000, 1_000_000) if n <= top]
    res = {}
    started = now()
    big = None
    if top >= 1_000_000:
        # the 10^6 row of table 1 is cgraph's side of the Lark comparison
        res["lark"], big = vs_lark(1_000_000, a.lark_rounds)
    res["per_node"] = per_node(sizes, a.repeats, big)
    res["micrograd"] = vs_micrograd([n for n in sizes if n <= a.micrograd_max], a.repeats)
    res["seconds"] = now() - started
    if a.json:
        print(json.dumps(res, indent=2))
    else:
        print(report(res))
        print("\n(%.0f s)" % res["seconds"])


if __name__ == "__main__":
    main()
