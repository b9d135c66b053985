"""Parse and build speed (issue 13, part 1): text to tape, whole process and per node.

Prints, from one run (every figure a median of --repeats runs):

  1. whole process, the 10^5-node MLP of bench/pernode.py (32 inputs, ReLU units,
     pairwise sums): `cgraph eval -f mlp.cg --bind mlp.json --summary --format json
     > /dev/null` against a micrograd script (`python mlp_micrograd.py`: import
     micrograd, make the leaf Values, build the same graph with Python operators,
     call backward(), print the output). Target: ratio 0.3 or less.
  2. whole process, the 10^6-term sum `x1*1.0000001 + x2*1.0000002 + ...` on one
     line of a program file, its 10^6 inputs from a --bind JSON file (a form a
     user can give): `cgraph eval -f sum.cg --bind sum.json --summary --format
     json > /dev/null`, in seconds. Target: 5 s (3 s: great).
  3. whole process, 10^5-deep nesting `((...(x)...)) + 1`, x=2 on the command line.
  4. per node, in process, on both shapes at 10^5 nodes: parse+build, forward and
     backward, for this tree and for git main (exported with `git archive main`
     into a temporary directory, run with its own sys.path), and for this tree the
     parse alone (the driver with a builder that makes no nodes).
  5. a cProfile summary of parse+build of the 10^5-node MLP (where the time goes).

    python bench/parse.py [--repeats 3] [--terms 1000000] [--no-main] [--json]

micrograd comes from PyPI (`pip install micrograd`); without it row 1 is skipped.

(--bind's duplicate-key check, `cgcli/commands/inputs.py` `_unique_keys`, is linear
since main's b461d30: rows 1-3 run `python -m cgcli` as it is.)
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from pernode import MLP  # noqa: E402

MICROGRAD = r'''
import json, sys
sys.setrecursionlimit(100000)
from micrograd.engine import Value
with open(sys.argv[1]) as fh:
    d = json.load(fh)
def tree_sum(items):
    while len(items) > 1:
        nxt = [items[i] + items[i + 1] for i in range(0, len(items) - 1, 2)]
        if len(items) % 2:
            nxt.append(items[-1])
        items = nxt
    return items[0]
X = [Value(x) for x in d["x"]]
W = [[Value(w) for w in row] for row in d["W"]]
B = [Value(b) for b in d["b"]]
V = [Value(v) for v in d["v"]]
hs = [(tree_sum([w * x for w, x in zip(Wj, X)]) + bj).relu() for Wj, bj in zip(W, B)]
out = tree_sum([v * h for v, h in zip(V, hs)])
out.backward()
print(out.data, X[0].grad)
'''

# per node in process: run with sys.path[0] = the tree to measure
PERNODE = r'''
import json, sys, time
sys.path.insert(0, sys.argv[1])
from cgcli.core.language import parse_program
from cgcli.core.passes import backward, forward
from cgcli.core.tape import no_gc
text = open(sys.argv[2]).read()
bind = json.load(open(sys.argv[3]))
parse_program("x")
now = time.perf_counter
t0 = now(); p = parse_program(text); t1 = now()
g, _ = p.graph.cone(p.output)
with no_gc():
    t2 = now(); v = forward(g, bind); t3 = now(); gr = backward(g, v); t4 = now()
out = {"nodes": len(g), "build": t1 - t0, "forward": t3 - t2, "backward": t4 - t3}
try:
    from cgcli.core import lalr, language
    class Null:
        def fast(self):
            z = lambda *a: 0
            out = {op: ("binary", z) for op in ("add", "sub", "mul", "div", "pow")}
            return out | {"name": ("token", z), "number": ("token", z)}
        def __getattr__(self, name):
            return lambda c: (None, 0) if name in ("assign", "expr_stmt") else 0
    tables = language._PARSER[0]
    t5 = now(); lalr.parse(tables, lalr.plan(tables, Null()), text); out["parse"] = now() - t5
except (ImportError, AttributeError):
    pass
print(json.dumps(out))
'''


def med(xs):
    return statistics.median(xs)


def timed(cmd, reps, env=None, cwd=None):
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
        ts.append(time.perf_counter() - t)
        if r.returncode:
            raise SystemExit("failed: %s\n%s" % (" ".join(cmd), r.stderr.decode()[-2000:]))
    return med(ts)


def sum_program(terms):
    text = " + ".join("x%d*1.%07d" % (i, i) for i in range(1, terms + 1)) + "\n"
    return text, {"x%d" % i: 1.0 + 1e-7 * (i % 10) for i in range(1, terms + 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--terms", type=int, default=1_000_000)
    ap.add_argument("--no-main", action="store_true", help="skip the git main comparison")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="cgraph-parse-")
    res: dict = {}
    try:
        py = sys.executable
        cg = [py, "-m", "cgcli"]

        def write(name, text):
            path = os.path.join(tmp, name)
            with open(path, "w") as fh:
                fh.write(text)
            return path

        mlp = MLP(100_000)
        mlp_cg, mlp_json = write("mlp.cg", mlp.text()), write("mlp.json", json.dumps(mlp.names()))
        res["mlp_cgraph_s"] = timed(cg + ["eval", "-f", mlp_cg, "--bind", mlp_json, "--summary", "--format", "json"],
                                    a.repeats, cwd=ROOT)
        try:
            import micrograd  # noqa: F401
            script = write("mlp_micrograd.py", MICROGRAD)
            data = write("mlp_micrograd.json", json.dumps({"x": mlp.x, "W": mlp.W, "b": mlp.bias, "v": mlp.v}))
            res["mlp_micrograd_s"] = timed([py, script, data], a.repeats)
            res["mlp_ratio"] = res["mlp_cgraph_s"] / res["mlp_micrograd_s"]
        except ImportError:
            pass

        text, bind = sum_program(a.terms)
        s_cg, s_json = write("sum.cg", text), write("sum.json", json.dumps(bind))
        del text, bind
        res["sum_terms"] = a.terms
        res["sum_s"] = timed(cg + ["eval", "-f", s_cg, "--bind", s_json, "--summary", "--format", "json"],
                             a.repeats, cwd=ROOT)

        n = 100_000
        deep = write("deep.cg", "(" * n + "x" + ")" * n + " + 1\n")
        res["deep_s"] = timed(cg + ["eval", "-f", deep, "x=2", "--format", "json"], a.repeats, cwd=ROOT)

        # 4. per node, this tree and git main
        trees = {"now": ROOT}
        if not a.no_main:
            main_dir = os.path.join(tmp, "main")
            os.mkdir(main_dir)
            arch = subprocess.run(["git", "-C", ROOT, "archive", "main"], capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", main_dir], input=arch, check=True)
            trees["main"] = main_dir
        small_text, small_bind = sum_program(25_000)
        shapes = {"mlp": (mlp_cg, mlp_json),
                  "sum": (write("sum1e5.cg", small_text), write("sum1e5.json", json.dumps(small_bind)))}
        pn = write("pernode.py", PERNODE)
        res["pernode"] = {}
        for tree, path in trees.items():
            for shape, (f, b) in shapes.items():
                runs = [json.loads(subprocess.run([py, pn, path, f, b], capture_output=True, check=True, text=True).stdout)
                        for _ in range(a.repeats)]
                nodes = runs[0]["nodes"]
                row = {k: med([r[k] for r in runs]) / nodes * 1e6 for k in runs[0] if k != "nodes"}
                row["nodes"] = nodes
                res["pernode"]["%s %s" % (tree, shape)] = row

        # 5. profile
        prof = subprocess.run([py, "-c", (
            "import cProfile, pstats, sys; sys.path.insert(0, %r);"
            "from cgcli.core.language import parse_program; parse_program('x'); t = open(%r).read();"
            "cProfile.run('parse_program(t)', %r); pstats.Stats(%r).sort_stats('tottime').print_stats(8)")
            % (ROOT, mlp_cg, os.path.join(tmp, "prof"), os.path.join(tmp, "prof"))],
            capture_output=True, text=True, check=True).stdout
        res["profile"] = prof[prof.find("   ncalls"):].rstrip()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if a.json:
        print(json.dumps(res, indent=1))
        return
    print("whole process (median of %d)" % a.repeats)
    if "mlp_ratio" in res:
        print("  10^5-node MLP: cgraph %.2f s, micrograd %.2f s, ratio %.2f (goal 0.3)"
              % (res["mlp_cgraph_s"], res["mlp_micrograd_s"], res["mlp_ratio"]))
    else:
        print("  10^5-node MLP: cgraph %.2f s (micrograd not installed)" % res["mlp_cgraph_s"])
    print("  %d-term sum: %.2f s (goal 5 s)" % (res["sum_terms"], res["sum_s"]))
    print("  10^5-deep nesting: %.2f s" % res["deep_s"])
    print("per node, us (in process)")
    print("  %-10s %8s %12s %8s %8s %9s" % ("", "nodes", "parse+build", "parse", "forward", "backward"))
    for k, r in res["pernode"].items():
        print("  %-10s %8d %12.2f %8s %8.2f %9.2f" % (k, r["nodes"], r["build"],
                                                     "%.2f" % r["parse"] if "parse" in r else "-", r["forward"], r["backward"]))
    print("cProfile, parse+build of the MLP:")
    print(res["profile"])


if __name__ == "__main__":
    main()
