"""Data: `cgraph eval EXPR --data ROWS` against the hand-written Polars query.

Prints, from one run with the contenders alternating (this machine is noisy;
median of the repeats), each against the Polars script a data user would write
instead, same input and output formats, both run as subprocesses (both pay
start-up):
  1. CSV -> CSV, (x+y)*z at 10^6 rows (10^7 too with --big): seconds and ratio,
     and whether both outputs give the same doubles (read back with Polars);
  2. peak memory (max RSS of each child, from /usr/bin/time -f %M) for both, and cgraph's
     10^7 / 10^6 ratio with --big (goal <= 1.3x);
  3. a generated 200-node expression: rows per second for cgraph, and for Polars
     with the gradients derived by `cgraph diff` and translated to a Polars
     expression programmatically (its length in characters is printed);
  4. Parquet -> Parquet: `cgraph eval "(x+y)*z" --data f.parquet -o out.parquet` against the
     Polars script with read_parquet/write_parquet (both checked to give the same doubles);
     with --big 10^7 rows too, and cgraph's peak memory 10^7 / 10^6 (goal <= 1.3x).

     and (issue 13, part 2) its rows per second through the column passes alone
     and the whole process, with the block plan and with the per-node passes;

    python bench/data.py [--quick] [--big] [--repeats 5] [--only200]
"""

import argparse
import ast
import os
import random
import statistics
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
BIN = os.path.dirname(os.path.abspath(sys.executable))
CGRAPH = os.path.join(BIN, "cgraph")

POLARS_CSV = r"""
import sys, polars as pl
x, y, z = pl.col("x"), pl.col("y"), pl.col("z")
pl.read_csv(sys.argv[1]).with_columns(
    value=(x + y) * z, grad_x=z, grad_y=z, grad_z=x + y).write_csv(sys.argv[2])
"""

POLARS_PARQUET = POLARS_CSV.replace("read_csv", "read_parquet").replace("write_csv", "write_parquet")

# the 200-node query: {exprs} is filled with the translated value and gradients
POLARS_200 = r"""
import sys, polars as pl
x, y, z = pl.col("x"), pl.col("y"), pl.col("z")
{temps}
pl.read_csv(sys.argv[1]).with_columns(
    value={value},
    {grads}).write_csv(sys.argv[2])
"""


def make_rows(path, n, seed=1):
    if os.path.exists(path) and os.path.getsize(path) > 0:
        return
    rng = random.Random(seed)
    g = rng.gauss
    with open(path + ".tmp", "w") as fh:
        fh.write("x,y,z\n")
        step = min(n, 10000)
        for _ in range(n // step):
            fh.write("".join("%.3f,%.3f,%.3f\n" % (g(0, 10), g(0, 10), g(0, 10)) for _ in range(step)))
    os.replace(path + ".tmp", path)


def run(cmd, stdout_path=None):
    """(seconds, max RSS in KiB) of one child process. The RSS comes from /usr/bin/time
    (a small C parent): a child forked from this script would report this script's
    own RSS as its peak (Linux carries the parent's high-water mark across exec)."""
    rss = os.path.join(OUT, "rss.txt")
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    try:
        t = time.perf_counter()
        r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss, *cmd], cwd=ROOT, stdout=out,
                           stderr=subprocess.PIPE)
        dt = time.perf_counter() - t
    finally:
        if stdout_path:
            out.close()
    if r.returncode:
        raise SystemExit("failed: %s\n%s" % (" ".join(cmd), r.stderr.decode()))
    with open(rss) as fh:
        return dt, int(fh.read().split()[-1])


def ulps(a, b):
    """Distance in units in the last place between two finite doubles."""
    def key(v):
        i = struct.unpack("<q", struct.pack("<d", v))[0]
        return i if i >= 0 else -(i & 0x7FFFFFFFFFFFFFFF)
    return abs(key(a) - key(b))


def compare(path_a, path_b, cols):
    """(exact, max ulps, max relative difference) over the columns `cols`."""
    import polars as pl
    a, b = pl.read_csv(path_a), pl.read_csv(path_b)
    assert a.height == b.height, (a.height, b.height)
    exact, worst_ulp, worst_rel = True, 0, 0.0
    for c in cols:
        u, v = a[c].cast(pl.Float64), b[c].cast(pl.Float64)
        if (u == v).all():
            continue
        exact = False
        d = (u - v).abs() / pl.Series([max(abs(p), abs(q), 1e-300) for p, q in zip(u, v)])
        worst_rel = max(worst_rel, d.max())
        diff = (u != v).arg_true()
        worst_ulp = max(worst_ulp, max(ulps(u[i], v[i]) for i in diff[:100000]))
    return exact, worst_ulp, worst_rel


def verdict(exact, worst_ulp, worst_rel):
    if exact:
        return "same doubles exactly"
    if worst_ulp <= 1:
        return "same to 1 ulp (not exactly)"
    return "differ: up to %d ulp, relative %.1e" % (worst_ulp, worst_rel)


# ---- the 200-node expression and its Polars translation -----------------------

def expr_200(target=200, seed=5):
    """A sum of products of sin, exp, tanh, log(1+v^2) over x, y, z, grown until
    its graph has at least `target` nodes (deterministic)."""
    from cgcli.core.language import parse_program
    rng = random.Random(seed)
    v = ("x", "y", "z")

    def atom():
        a, b = rng.sample(v, 2)
        w = round(rng.uniform(0.05, 0.3), 2)
        f = rng.choice(["sin(%s*%s)", "exp(%g*%s - %g*%s)", "tanh(%s + %g*%s)", "log(1 + %s^2)"])
        if f.startswith("sin"):
            return f % (a, b)
        if f.startswith("exp"):
            return f % (w, a, w, b)
        if f.startswith("tanh"):
            return f % (a, w, b)
        return f % a

    terms = []
    while True:
        c = round(rng.uniform(-2, 2), 2)
        terms.append("%g*%s*%s" % (c, atom(), atom()) if rng.random() < 0.6 else "%g*%s" % (c, atom()))
        src = " + ".join(terms)
        nodes = len(parse_program(src).cone()[0].ops)
        if nodes >= target:
            return src, nodes


FUNCS = {"sin", "cos", "exp", "tanh", "log", "sqrt", "cosh", "sinh", "abs"}


def to_polars(text):
    """cgraph's expression text to the source of a Polars expression: names are
    Python variables bound to pl.col(...), f(a) becomes (a).f(), ^ becomes **."""
    tree = ast.parse(text.replace("^", "**"), mode="eval").body

    def go(n):
        if isinstance(n, ast.BinOp):
            op = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}[type(n.op)]
            return "(%s %s %s)" % (go(n.left), op, go(n.right))
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return "(-%s)" % go(n.operand)
        if isinstance(n, ast.Call) and n.func.id in FUNCS and len(n.args) == 1:
            return "%s.%s()" % (go(n.args[0]), n.func.id)
        if isinstance(n, ast.Name):
            return n.id
        if isinstance(n, ast.Constant):
            return repr(float(n.value))
        raise ValueError("no translation for %s" % ast.dump(n))
    return go(tree)


def polars_200(src):
    """The Polars script for value and gradients of `src`, from `cgraph diff`, and the
    length in characters of its gradient expressions (temporaries included)."""
    r = subprocess.run([CGRAPH, "diff", src], capture_output=True, text=True, check=True)
    temps, grads = [], []
    for line in r.stdout.strip().splitlines():
        name, rhs = (s.strip() for s in line.split("=", 1))
        (grads if name.startswith("d_") else temps).append((name, to_polars(rhs)))
    temp_src = "\n".join("%s = %s" % t for t in temps)
    grad_src = ",\n    ".join("grad_%s=%s" % (n[2:], e) for n, e in grads)
    script = POLARS_200.format(temps=temp_src, value=to_polars(src), grads=grad_src)
    return script, len(temp_src) + len(grad_src), [n[2:] for n, _ in grads]


# ---- main ----------------------------------------------------------------------

def csv_round(n, repeats):
    data = os.path.join(OUT, "data_%d.csv" % n)
    make_rows(data, n)
    ref = os.path.join(OUT, "polars_csv.py")
    with open(ref, "w") as fh:
        fh.write(POLARS_CSV)
    out_cg, out_pl = os.path.join(OUT, "data_out_cgraph.csv"), os.path.join(OUT, "data_out_polars.csv")
    t_cg, t_pl, m_cg, m_pl = [], [], [], []
    for _ in range(repeats):
        t, m = run([CGRAPH, "eval", "(x+y)*z", "--data", data], stdout_path=out_cg)
        t_cg.append(t)
        m_cg.append(m)
        t, m = run([sys.executable, ref, data, out_pl])
        t_pl.append(t)
        m_pl.append(m)
    same = compare(out_cg, out_pl, ["value", "grad_x", "grad_y", "grad_z"])
    a, b = statistics.median(t_cg), statistics.median(t_pl)
    print("1. (x+y)*z, %d CSV rows -> CSV (median of %d, alternating)" % (n, repeats))
    print("   cgraph eval --data   %7.2f s  (%.2f s per million rows)" % (a, a * 1e6 / n))
    print("   Polars script        %7.2f s  (%.2f s per million rows)" % (b, b * 1e6 / n))
    print("   ratio cgraph/Polars  %7.2fx (> 1: cgraph slower)   outputs: %s" % (a / b, verdict(*same)))
    mc, mp = max(m_cg) / 1024, max(m_pl) / 1024
    print("2. peak memory (max RSS)  cgraph %.1f MiB, Polars %.1f MiB (%.2fx)" % (mc, mp, mc / mp))
    return mc, data


def columns_200(src, n200, data200, prog, repeats):
    """Issue 13, part 2: the 200-node expression's rows per second through the column
    passes alone (cgcli.columns on in-memory arrays) and through the whole process
    (`cgraph eval -f P --data D`, CSV in and out, start-up included), with the block
    plan (core/blocks.py) and with the per-node passes (the plan switched off: the
    child process patches it out before running cgraph)."""
    import numpy as np

    import cgcli
    from cgcli.core import blocks
    rng = np.random.default_rng(0)
    data = {k: rng.normal(size=n200) for k in "xyz"}
    real = blocks.plan_for
    res = {}
    for label, plan in (("per-node", lambda g: None), ("blocks", real)):
        blocks.plan_for = plan
        cgcli.columns(src, data)
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            cgcli.columns(src, data)
            ts.append(time.perf_counter() - t)
        res[label] = n200 / min(ts)
    blocks.plan_for = real
    code = ("import sys, runpy; from cgcli.core import blocks; blocks.plan_for = lambda g: None; "
            "sys.argv = ['cgraph'] + sys.argv[1:]; runpy.run_module('cgcli', run_name='__main__')")
    out = os.path.join(OUT, "data200_cols.csv")
    whole = {}
    for label, cmd in (("per-node", [sys.executable, "-c", code]), ("blocks", [CGRAPH])):
        ts = [run(cmd + ["eval", "-f", prog, "--data", data200], stdout_path=out)[0] for _ in range(repeats)]
        whole[label] = n200 / statistics.median(ts)
    print("   issue 13, part 2 (rows/s, %d rows): column passes alone (cgcli.columns, in memory, best of %d): "
          "per-node %.0f, blocks %.0f (%.2fx); whole process (median): per-node %.0f, blocks %.0f (%.2fx)" % (
              n200, repeats, res["per-node"], res["blocks"], res["blocks"] / res["per-node"],
              whole["per-node"], whole["blocks"], whole["blocks"] / whole["per-node"]))


def prepare_200(n):
    """The 200-node expression's inputs: n // 10 rows of data and the program file.
    Returns (rows, data path, program text, nodes, program path)."""
    n200 = n // 10
    data200 = os.path.join(OUT, "data_%d.csv" % n200)
    make_rows(data200, n200)
    src, nodes = expr_200()
    prog = os.path.join(OUT, "data_expr200.cg")
    with open(prog, "w") as fh:
        fh.write(src + "\n")
    return n200, data200, src, nodes, prog


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="10^5 rows: a smoke test in a few seconds")
    ap.add_argument("--big", action="store_true", help="10^7 rows as well (takes long)")
    ap.add_argument("--repeats", type=int)
    ap.add_argument("--only200", action="store_true", help="only the 200-node expression (section 3)")
    a = ap.parse_args()
    repeats = a.repeats or (1 if a.quick else 5)
    n = 100_000 if a.quick else 1_000_000
    os.makedirs(OUT, exist_ok=True)
    import polars as pl
    print("polars %s, cgraph %s, %d cores" % (
        pl.__version__, subprocess.run([CGRAPH, "--version"], capture_output=True, text=True).stdout.strip(),
        os.cpu_count()))

    if a.only200:
        n200, data200, src, nodes, prog = prepare_200(n)
        print("3. a %d-node expression, %d rows" % (nodes, n200))
        columns_200(src, n200, data200, prog, repeats)
        return
    mem_small, data = csv_round(n, repeats)
    if a.big:
        mem_big, _ = csv_round(10 * n, max(1, repeats // 2))
        print("   cgraph %d / %d rows: %.2fx (goal <= 1.3x)" % (10 * n, n, mem_big / mem_small))

    # 3. the 200-node expression
    n200, data200, src, nodes, prog = prepare_200(n)
    script, glen, wrt = polars_200(src)
    ref200 = os.path.join(OUT, "polars_200.py")
    with open(ref200, "w") as fh:
        fh.write(script)
    o_cg, o_pl = os.path.join(OUT, "data200_cgraph.csv"), os.path.join(OUT, "data200_polars.csv")
    t_cg, t_pl = [], []
    for _ in range(repeats):
        t_cg.append(run([CGRAPH, "eval", "-f", prog, "--data", data200], stdout_path=o_cg)[0])
        t_pl.append(run([sys.executable, ref200, data200, o_pl])[0])
    same_v = compare(o_cg, o_pl, ["value"])
    same = compare(o_cg, o_pl, ["grad_" + w for w in wrt])
    c, p = statistics.median(t_cg), statistics.median(t_pl)
    print("3. a %d-node expression (%d characters), %d rows, CSV -> CSV" % (nodes, len(src), n200))
    print("   cgraph   %9.0f rows/s (%.2f s)" % (n200 / c, c))
    print("   Polars   %9.0f rows/s (%.2f s), gradients from `cgraph diff` as a Polars expression of"
          " %d characters" % (n200 / p, p, glen))
    print("   ratio cgraph/Polars %.2fx (> 1: cgraph slower)" % (c / p))
    print("   value: %s; gradients (summed in another order): %s" % (verdict(*same_v), verdict(*same)))
    columns_200(src, n200, data200, prog, repeats)

    # 4. Parquet -> Parquet
    mem_pq = parquet_round(pl, n, data, repeats)
    if a.big:
        mem_pq_big = parquet_round(pl, 10 * n, os.path.join(OUT, "data_%d.csv" % (10 * n)), max(1, repeats // 2))
        print("   cgraph %d / %d rows: peak memory %.2fx (goal <= 1.3x)" % (10 * n, n, mem_pq_big / mem_pq))


def parquet_round(pl, n, data, repeats):
    """`cgraph eval "(x+y)*z" --data f.parquet -o out.parquet` against the Polars script with
    read_parquet/write_parquet (both with Polars' default writer settings: zstd, statistics);
    the outputs are checked to give the same doubles. Returns cgraph's peak RSS (KiB)."""
    pq = os.path.join(OUT, "data_%d.parquet" % n)
    if not os.path.exists(pq):
        pl.read_csv(data).write_parquet(pq)
    refpq = os.path.join(OUT, "polars_parquet.py")
    with open(refpq, "w") as fh:
        fh.write(POLARS_PARQUET)
    o_pq_cg, o_pq_pl = os.path.join(OUT, "data_out_cgraph.parquet"), os.path.join(OUT, "data_out_polars.parquet")
    t_pq, t_pq_cg = [], []
    for _ in range(repeats):  # alternating
        t_pq_cg.append(run([CGRAPH, "eval", "(x+y)*z", "--data", pq, "-o", o_pq_cg]))
        t_pq.append(run([sys.executable, refpq, pq, o_pq_pl]))
    a_cg, b_pl = pl.read_parquet(o_pq_cg), pl.read_parquet(o_pq_pl)
    same_pq = all(a_cg[c].equals(b_pl[c]) for c in ("x", "y", "z", "value", "grad_x", "grad_y", "grad_z"))
    c, p = statistics.median(t for t, _ in t_pq_cg), statistics.median(t for t, _ in t_pq)
    mem = max(m for _, m in t_pq_cg)
    print("4. Parquet -> Parquet, %d rows (median of %d, alternating; min in brackets)" % (n, repeats))
    print("   cgraph   %.2f s (%.2f), peak %.1f MiB" % (c, min(t for t, _ in t_pq_cg), mem / 1024))
    print("   Polars   %.2f s (%.2f), peak %.1f MiB" % (p, min(t for t, _ in t_pq), max(m for _, m in t_pq) / 1024))
    print("   ratio cgraph/Polars %.2fx (> 1: cgraph slower); same doubles: %s" % (c / p, same_pq))
    return mem


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    main()
