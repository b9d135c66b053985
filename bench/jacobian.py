"""The Jacobian of several outputs over rows: reverse mode (a backward sweep per
output) against forward mode (the partials once, a tangent sweep per input), the
choice core/jacobian.py `use_forward` makes for fewer inputs than outputs.

2 inputs, 20 outputs (each a few nodes over x, y and the one before), 10^5 rows:
`cgcli.columns(..., output=[...])` (the records' passes, in chunks) timed in both
modes, alternating, and the two checked to agree (rtol 1e-12, atol 1e-14). Also the column
passes alone (jacobian_columns on one chunk of all rows), and the command
`cgraph eval PROG --data rows.csv --output o0,...,o19 --format csv` as a process
(reverse mode forced by replacing use_forward), its output checked the same up to
the last digits.

    python bench/jacobian.py [--rows 100000] [--outputs 20] [--repeats 5]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import cgcli
from cgcli.core import jacobian
from cgcli.core.language import parse_program


def program(k):
    lines = ["o0 = sin(x) * y + x"]
    for i in range(1, k):
        lines.append("o%d = tanh(o%d) * x + exp(-y * y) / (1 + o%d^2) + log(1 + x*x) * y" % (i, i - 1, i - 1))
    return "; ".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--outputs", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    text = program(a.outputs)
    outs = ["o%d" % i for i in range(a.outputs)]
    rng = np.random.default_rng(1)
    data = {"x": rng.normal(size=a.rows), "y": rng.normal(size=a.rows)}
    real = jacobian.use_forward

    def run(mode):
        jacobian.use_forward = real if mode == "forward" else (lambda *_: False)
        try:
            t = time.perf_counter()
            r = cgcli.columns(text, data, output=outs)
            return time.perf_counter() - t, r
        finally:
            jacobian.use_forward = real

    times = {"reverse": [], "forward": []}
    diff = 0.0
    for _ in range(a.repeats):
        for mode in ("reverse", "forward"):
            dt, r = run(mode)
            times[mode].append(dt)
            if mode == "reverse":
                ref = r
            else:
                assert not r.errors and not ref.errors
                for f in r:
                    np.testing.assert_allclose(r[f], ref[f], rtol=1e-12, atol=1e-14)
                    diff = max(diff, float(np.max(np.abs(r[f] - ref[f]))))
    rev, fwd = statistics.median(times["reverse"]), statistics.median(times["forward"])
    print("cgcli.columns, %d inputs, %d outputs, %d rows: reverse %.3f s, forward %.3f s, "
          "reverse/forward %.2fx; largest difference %.3g" % (2, a.outputs, a.rows, rev, fwd, rev / fwd, diff))

    o = jacobian.Outputs(parse_program(text), outs)
    args = (o.graph, o.cones, o.ids, ["x", "y"], data, a.rows)
    t = {"reverse": [], "forward": []}
    for _ in range(a.repeats):
        for mode in ("reverse", "forward"):
            s = time.perf_counter()
            jacobian.jacobian_columns(*args, mode=mode)
            t[mode].append(time.perf_counter() - s)
    rev, fwd = statistics.median(t["reverse"]), statistics.median(t["forward"])
    print("column passes alone (%d nodes, one chunk): reverse %.3f s, forward %.3f s, reverse/forward %.2fx"
          % (len(o.graph.ops), rev, fwd, rev / fwd))

    with tempfile.TemporaryDirectory() as tmp:
        csv = os.path.join(tmp, "rows.csv")
        with open(csv, "w") as fh:
            fh.write("x,y\n" + "".join("%r,%r\n" % (x, y) for x, y in zip(data["x"].tolist(), data["y"].tolist())))
        force = {"reverse": "import cgcli.core.jacobian as j; j.use_forward = lambda *a: False; ",
                 "forward": ""}
        t = {"reverse": [], "forward": []}
        texts = {}
        for _ in range(max(1, a.repeats // 2)):
            for mode in ("reverse", "forward"):
                cmd = [sys.executable, "-c", force[mode] + "from cgcli.cli import main; main()",
                       "eval", text, "--data", csv, "--output", ",".join(outs), "--format", "csv"]
                s = time.perf_counter()
                texts[mode] = subprocess.run(cmd, check=True, capture_output=True).stdout
                t[mode].append(time.perf_counter() - s)
        rows = [np.loadtxt(texts[m].decode().splitlines(), delimiter=",", skiprows=1) for m in ("reverse", "forward")]
        np.testing.assert_allclose(rows[1], rows[0], rtol=1e-12, atol=1e-14)
        rev, fwd = statistics.median(t["reverse"]), statistics.median(t["forward"])
        print("cgraph eval --data (CSV in, CSV out, whole process): reverse %.3f s, forward %.3f s, "
              "reverse/forward %.2fx" % (rev, fwd, rev / fwd))


if __name__ == "__main__":
    main()
