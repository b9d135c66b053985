"""--jobs: `cgraph eval -f heavy.cg --data rows.csv` with --jobs 1 against --jobs 2.

A compute-heavy program (about 200 nodes of sin/exp/tanh over x, y, z) on 10^6
CSV rows, CSV out to /dev/null; the contenders alternate in one run (this machine
is noisy). Prints each run's seconds, the medians and the ratio (target: --jobs 2
at least 1.6x faster on a 2-core machine), then where the time goes with one job:
the same rows with a 1-node program (reading and writing alone).

    python bench/jobs.py [--rows 1000000] [--repeats 3]
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


def heavy(seed=5, layers=40):
    """Layers of sin/exp/tanh over x, y, z: about 5 nodes a layer, values bounded."""
    rng = random.Random(seed)
    terms = ["x", "y", "z"]
    src = []
    for k in range(layers):
        a, b, c = rng.sample(terms, 3)
        f = rng.choice(["sin", "tanh", "exp"])
        w = round(rng.uniform(-1, 1), 3)
        if f == "exp":
            src.append("t%d = exp(tanh(%s*%s) + %r*sin(%s))" % (k, a, b, w, c))
        else:
            src.append("t%d = %s(%s*%s + %r*%s)" % (k, f, a, b, w, c))
        terms.append("t%d" % k)
    src.append("out = " + " + ".join(terms[-10:]))
    return "\n".join(src) + "\n"


def make_rows(path, n, seed=1):
    if os.path.exists(path) and os.path.getsize(path) > 0:
        with open(path) as fh:
            if sum(1 for _ in fh) == n + 1:
                return
    rng = random.Random(seed)
    g = rng.gauss
    with open(path, "w") as fh:
        fh.write("x,y,z\n")
        for _ in range(n // 10000):
            fh.write("".join("%.3f,%.3f,%.3f\n" % (g(0, 1), g(0, 1), g(0, 1)) for _ in range(10000)))


def timed(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode:
        raise SystemExit("failed: %s\n%s" % (" ".join(cmd), r.stderr.decode()))
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    data = os.path.join(OUT, "jobs_%d.csv" % a.rows)
    prog = os.path.join(OUT, "jobs_heavy.cg")
    make_rows(data, a.rows)
    with open(prog, "w") as fh:
        fh.write(heavy())
    from cgcli.core.language import parse_program
    with open(prog) as fh:
        nodes = len(parse_program(fh.read()).graph.ops)
    base = [sys.executable, "-m", "cgcli", "eval", "-f", prog, "--data", data]
    times = {1: [], 2: []}
    for r in range(a.repeats):
        for jobs in (1, 2) if r % 2 == 0 else (2, 1):
            t = timed(base + ["--jobs", str(jobs)])
            times[jobs].append(t)
            print("  --jobs %d: %.2f s" % (jobs, t), flush=True)
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print("%d nodes, %d rows, %d cores: --jobs 1 %.2f s, --jobs 2 %.2f s (medians); ratio %.2fx" % (
        nodes, a.rows, os.cpu_count() or 1, one, two, one / two))
    io = statistics.median(timed([sys.executable, "-m", "cgcli", "eval", "x + y + z", "--data", data, "--jobs", "1"])
                           for _ in range(a.repeats))
    print("reading and writing alone (x + y + z, --jobs 1): %.2f s, %.0f%% of --jobs 1; "
          "the column passes: %.2f s" % (io, 100 * io / one, one - io))


if __name__ == "__main__":
    main()
