"""Rows: `cgraph eval "(x+y)*z" --data rows.csv` against a hand-written numpy script.

Prints, from one run with the contenders alternating (this machine is noisy):
  1. seconds per million rows, end to end (CSV in, CSV out), cgraph and the numpy
     reference (numpy.loadtxt, the value and the three analytic gradients,
     numpy.savetxt with %.17g), and their ratio (target: cgraph no slower);
  2. rows per second for a 200-node expression;
  3. peak memory (max RSS) for 10^5, 10^6 and 10^7 rows streamed through stdin
     (flat: it must not grow with the number of rows).

    python bench/rows.py [--rows 1000000] [--repeats 3] [--max-memory-rows 10000000]
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")

NUMPY_SCRIPT = r"""
import sys, numpy as np
a = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1, ndmin=2)
x, y, z = a[:, 0], a[:, 1], a[:, 2]
p = x + y
out = np.column_stack([x, y, z, p * z, z, z, p])
np.savetxt(sys.argv[2], out, fmt="%.17g", delimiter=",",
           header="x,y,z,value,grad_x,grad_y,grad_z", comments="")
"""


def make_rows(path, n, seed=1):
    if os.path.exists(path) and os.path.getsize(path) > 0:
        return
    rng = random.Random(seed)
    g = rng.gauss
    with open(path, "w") as fh:
        fh.write("x,y,z\n")
        for _ in range(n // 10000):
            fh.write("".join("%.3f,%.3f,%.3f\n" % (g(0, 10), g(0, 10), g(0, 10)) for _ in range(10000)))


def cgraph(*args):
    return [sys.executable, "-m", "cgcli", *args]


def timed(cmd, stdout=None):
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, stdout=stdout or subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode:
        raise SystemExit("failed: %s\n%s" % (" ".join(cmd), r.stderr.decode()))
    return time.perf_counter() - t


def expr_200(seed=3):
    """A 200-node expression over x, y, z: layers of tanh/sigmoid/products."""
    rng = random.Random(seed)
    terms = ["x", "y", "z"]
    src = []
    for k in range(40):
        a, b = rng.sample(terms, 2)
        w = round(rng.uniform(-1, 1), 3)
        src.append("t%d = tanh(%s*%s + %r*%s)" % (k, a, b, w, rng.choice(terms)))
        terms.append("t%d" % k)
    src.append("out = " + " + ".join(terms[-10:]))
    return "\n".join(src)


def peak_rss(rows):
    """Max RSS (KiB) of cgraph reading `rows` rows from a pipe."""
    code = ("import resource, subprocess, sys\n"
            "n = int(sys.argv[1])\n"
            "p = subprocess.Popen([sys.executable, '-m', 'cgcli', 'eval', '(x+y)*z', '--data', '-',\n"
            "    '--data-format', 'csv'], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)\n"
            "p.stdin.write(b'x,y,z\\n')\n"
            "block = b''.join(b'%d.125,2.5,-3\\n' % i for i in range(10000))\n"
            "for _ in range(n // 10000): p.stdin.write(block)\n"
            "p.stdin.close(); assert p.wait() == 0\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    r = subprocess.run([sys.executable, "-c", code, str(rows)], cwd=ROOT, capture_output=True, text=True,
                       check=True)
    return int(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-memory-rows", type=int, default=10_000_000)
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    data = os.path.join(OUT, "rows_%d.csv" % a.rows)
    make_rows(data, a.rows)
    ref = os.path.join(OUT, "numpy_ref.py")
    with open(ref, "w") as fh:
        fh.write(NUMPY_SCRIPT)
    out_cg, out_np = os.path.join(OUT, "out_cgraph.csv"), os.path.join(OUT, "out_numpy.csv")

    t_cg, t_np = [], []
    for _ in range(a.repeats):
        with open(out_cg, "w") as fh:
            t_cg.append(timed(cgraph("eval", "(x+y)*z", "--data", data), stdout=fh))
        t_np.append(timed([sys.executable, ref, data, out_np]))
    # the same numbers: every value and gradient reads back to the same double
    with open(out_cg) as f1, open(out_np) as f2:
        next(f1), next(f2)
        for k, (l1, l2) in enumerate(zip(f1, f2)):
            if k % 997 == 0:
                v1 = [float(v) for v in l1.split(",")]
                v2 = [float(v) for v in l2.split(",")]
                assert v1 == v2, (l1, l2)
    m_cg, m_np = statistics.median(t_cg), statistics.median(t_np)
    per = 1e6 / a.rows
    print("1. (x+y)*z over %d CSV rows, CSV out (median of %d, alternating)" % (a.rows, a.repeats))
    print("   cgraph eval --data      %6.2f s per million rows" % (m_cg * per))
    print("   numpy loadtxt/savetxt   %6.2f s per million rows" % (m_np * per))
    print("   ratio cgraph / numpy    %6.2fx  (target <= 1)" % (m_cg / m_np))

    n200 = min(a.rows, 100_000)
    data200 = os.path.join(OUT, "rows_%d.csv" % n200)
    make_rows(data200, n200)
    prog = os.path.join(OUT, "expr200.cg")
    with open(prog, "w") as fh:
        fh.write(expr_200())
    from cgcli.core.language import parse_program
    nodes = len(parse_program(expr_200()).graph.cone(parse_program(expr_200()).output)[0].ops)
    t = statistics.median(timed(cgraph("eval", "-f", prog, "--data", data200)) for _ in range(a.repeats))
    print("2. a %d-node expression over %d rows: %.0f rows/s (%.2f s)" % (nodes, n200, n200 / t, t))

    print("3. peak memory (max RSS) streaming rows through stdin")
    n = 100_000
    while n <= a.max_memory_rows:
        print("   %10d rows  %7.1f MiB" % (n, peak_rss(n) / 1024))
        n *= 10


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    main()
