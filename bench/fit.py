"""`cgraph fit` against scipy.optimize.least_squares(method="lm") (MINPACK's lmder).

For every NIST StRD nonlinear problem in tests/data/nist/ (both certified
starting points) and a few problems of our own (generated data, fixed seed),
both solvers get the same residual and the same exact Jacobian (cgraph's column
passes: features/fit.Residuals), so the comparison is of the algorithms, not of
the derivatives. scipy runs with xtol = ftol = gtol = 1e-15 (its lm refuses 0) and its default
first trust radius (factor 100); cgraph with its defaults (ftol 1e-15, xtol
1e-12, gtol 0, factor 1).

Printed per problem and start: iterations (Jacobians) and residual evaluations of
each, the median wall time of 5 runs of each solve (the data read beforehand),
and the accuracy as NIST's LRE: the fewest correct significant digits over the
parameters, -log10(|b - b_certified| / |b_certified|), capped at 11 (the
certified digits). Own problems are scored against scipy's trf with tight
tolerances instead. `--quick`: one run each.

    .venv/bin/python bench/fit.py [--quick]
"""

import json
import math
import os
import statistics
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from cgcli.commands.inputs import open_data  # noqa: E402
from cgcli.core.language import parse_program  # noqa: E402
from cgcli.features.fit import Residuals, fit_columns  # noqa: E402
from cgcli.features.learn import read_columns  # noqa: E402

NIST = os.path.join(ROOT, "tests", "data", "nist")


def lre(x, ref):
    worst = 11.0
    for a, b in zip(x, ref):
        e = abs(a - b) / abs(b) if b else abs(a)
        worst = min(worst, 11.0 if e == 0 else -math.log10(e))
    return max(worst, 0.0)


def timed(f, repeats):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def own_problems():
    rng = np.random.default_rng(11)
    t = np.linspace(0.1, 10.0, 200)
    yield "decay", "y - a*exp(-k*t) - c", {"t": t, "y": 3.0 * np.exp(-0.7 * t) + 0.4 + rng.normal(0, 0.05, 200)}, \
        {"a": 1.0, "k": 0.1, "c": 0.0}
    yield "logistic", "y - L/(1 + exp(-r*(t - t0)))", \
        {"t": t, "y": 10.0 / (1 + np.exp(-1.1 * (t - 5.0))) + rng.normal(0, 0.05, 200)}, {"L": 5.0, "r": 0.5, "t0": 3.0}
    yield "scaled", "y - a*1e6*exp(-b*1e-6*t)", {"t": t * 1e6, "y": 2e6 * np.exp(-0.3 * t) * (1 + rng.normal(0, 1e-3, 200))}, \
        {"a": 1.0, "b": 0.1}


def main():
    from scipy.optimize import least_squares
    repeats = 1 if "--quick" in sys.argv else 5
    problems = json.load(open(os.path.join(NIST, "problems.json"), encoding="utf-8"))
    cases = []
    for name, p in problems.items():
        path = os.path.join(NIST, name.lower() + ".csv")
        cols, n = read_columns(open_data(path), list(open_data(path).columns))
        for k in ("start1", "start2"):
            cases.append((name + " " + k[-1], p["residual"], cols, n, dict(zip(p["params"], p[k])), p["certified"]))
    for name, resid, cols, start in own_problems():
        cases.append((name, resid, cols, len(cols["t"]), start, None))
    print("%-12s %9s %9s %9s %9s %8s %8s %5s %5s" % ("problem", "it cgraph", "fev", "it scipy", "fev", "ms cg",
                                                     "ms scipy", "LRE", "LRE"))
    tot = {"cg": 0, "sp": 0, "cg_ok": 0, "sp_ok": 0, "n": 0}
    for label, resid, cols, n, start, cert in cases:
        g, _ = parse_program(resid).cone()
        names = list(start)
        x0 = np.array(list(start.values()))
        t_cg, r = timed(lambda g=g, cols=cols, n=n, start=start: fit_columns(g, cols, n, {}, start), repeats)
        prob = Residuals(np, g, cols, {}, names, n)

        def sp(prob=prob, x0=x0):
            with np.errstate(all="ignore"):
                return least_squares(prob.residuals, x0, jac=prob.jacobian, method="lm", xtol=1e-15, ftol=1e-15,
                                     gtol=1e-15, max_nfev=100000)
        t_sp, s = timed(sp, repeats)
        if cert is None:
            with np.errstate(all="ignore"):
                cert = least_squares(prob.residuals, s.x, jac=prob.jacobian, method="trf", xtol=1e-15, ftol=1e-15,
                                     gtol=1e-15).x
        mine = [r.params[b] for b in names]
        a, b = lre(mine, cert), lre(s.x, cert)
        tot["n"] += 1
        tot["cg_ok"] += a >= 6
        tot["sp_ok"] += b >= 6
        tot["cg"] += t_cg
        tot["sp"] += t_sp
        print("%-12s %9d %9d %9d %9d %8.2f %8.2f %5.1f %5.1f" % (
            label, r.iterations, r.evaluations, s.njev, s.nfev, t_cg * 1e3, t_sp * 1e3, a, b), flush=True)
    print("\n%d solves: cgraph %d with 6 or more correct digits, scipy lm %d; total time cgraph %.2f s, scipy %.2f s"
          % (tot["n"], tot["cg_ok"], tot["sp_ok"], tot["cg"], tot["sp"]))


if __name__ == "__main__":
    main()
