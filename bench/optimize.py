"""minimize --method newton|lbfgs against scipy.optimize.minimize (issue: optimizers).

For each problem, from its classic start, prints the steps (iterations), the
evaluations of the value, the gradient and the Hessian, the distance of the
final point from the known minimiser, and the wall time (median of --repeats),
for

  cgraph newton   features.learn.minimize(method="newton"), as `cgraph minimize` runs it
  cgraph lbfgs    features.learn.minimize(method="lbfgs")  (memory 10)
  scipy BFGS      scipy.optimize.minimize(method="BFGS", jac=True)
  scipy Newton-CG scipy.optimize.minimize(method="Newton-CG", jac=True, hess=...)
  scipy L-BFGS-B  scipy.optimize.minimize(method="L-BFGS-B", jac=True)   (for reference)

scipy gets exact derivatives from cgraph itself: the value and gradient from
cgcli.evaluate (one forward and one backward pass: one evaluation of each), the
Hessian from the same symbolic second-derivative graph cgraph's Newton uses
(features.derive.hessian_graph, built once, one forward pass per Hessian).
cgraph stops at its default --tol 1e-10 (the gradient's norm, or the value's
relative change for these methods); scipy with gtol 1e-10 (BFGS, L-BFGS-B: the
gradient's largest component) and xtol 1e-12 (Newton-CG), its other settings
its defaults. scipy's wall time includes cgraph's passes that it calls, so the
times compare the optimisers' own overhead plus the same evaluations.

    python bench/optimize.py [--repeats 3] [--json]

Needs scipy (pip install scipy).
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import scipy.optimize as so  # noqa: E402

import cgcli  # noqa: E402
from cgcli.core.passes import forward  # noqa: E402
from cgcli.features.derive import hessian_graph, hessian_pairs  # noqa: E402
from cgcli.features.learn import minimize  # noqa: E402


def extended_rosenbrock(n):
    terms = ["100*(x%d - x%d^2)^2 + (1 - x%d)^2" % (2 * i + 1, 2 * i, 2 * i) for i in range(n // 2)]
    return " + ".join(terms), ["x%d" % i for i in range(n)], [-1.2, 1.0] * (n // 2), [1.0] * n


PROBLEMS = [
    ("Rosenbrock 2-D", "(1-a)^2 + 100*(b-a^2)^2", ["a", "b"], [-1.2, 1.0], [1.0, 1.0]),
    ("Beale", "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2", ["x", "y"], [1.0, 1.0],
     [3.0, 0.5]),
    ("Rosenbrock 10-D (extended)",) + extended_rosenbrock(10),
    ("Powell singular", "(x1 + 10*x2)^2 + 5*(x3 - x4)^2 + (x2 - 2*x3)^4 + 10*(x1 - x4)^4",
     ["x1", "x2", "x3", "x4"], [3.0, -1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]),
]


class Derivatives:
    """f, grad and Hessian of a program for scipy, counted."""

    def __init__(self, text, names):
        self.prog = cgcli.parse(text)
        self.names = names
        (self.h, self.outs), self.pairs = hessian_graph(self.prog, names), hessian_pairs(names)
        self.index = {n: k for k, n in enumerate(names)}

    def fun(self, z):
        r = cgcli.evaluate(self.prog, dict(zip(self.names, z.tolist())))
        return r.value, np.array([r.gradients.get(n, 0.0) for n in self.names])

    def hess(self, z):
        v = forward(self.h, dict(zip(self.names, z.tolist())), True)
        n = len(self.names)
        H = np.zeros((n, n))
        for (a, c), o in zip(self.pairs, self.outs):
            H[self.index[a], self.index[c]] = H[self.index[c], self.index[a]] = v[o]
        return H


def run_cgraph(method, text, names, start):
    out = minimize(cgcli.parse(text), dict(zip(names, start)), method=method)
    ev = out.evaluations
    return dict(steps=out.steps, nfev=ev["value"], njev=ev["gradient"], nhev=ev.get("hessian", 0),
                x=[out.params[n] for n in names], f=out.value, ok=out.converged)


def run_scipy(method, text, names, start):
    d = Derivatives(text, names)
    kw = {"jac": True}
    if method == "Newton-CG":
        kw.update(hess=d.hess, options={"xtol": 1e-12})
    else:
        kw.update(options={"gtol": 1e-10})
    r = so.minimize(d.fun, np.array(start), method=method, **kw)
    return dict(steps=int(r.nit), nfev=int(r.nfev), njev=int(getattr(r, "njev", r.nfev)),
                nhev=int(getattr(r, "nhev", 0)), x=r.x.tolist(), f=float(r.fun), ok=bool(r.success))


CONTENDERS = [("cgraph newton", lambda *a: run_cgraph("newton", *a)),
              ("cgraph lbfgs", lambda *a: run_cgraph("lbfgs", *a)),
              ("scipy BFGS", lambda *a: run_scipy("BFGS", *a)),
              ("scipy Newton-CG", lambda *a: run_scipy("Newton-CG", *a)),
              ("scipy L-BFGS-B", lambda *a: run_scipy("L-BFGS-B", *a))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = []
    for name, text, names, start, xstar in PROBLEMS:
        for who, fn in CONTENDERS:
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                r = fn(text, names, start)
                times.append(time.perf_counter() - t0)
            r["error"] = math.sqrt(sum((a - b) ** 2 for a, b in zip(r.pop("x"), xstar)))
            r.update(problem=name, who=who, ms=1000 * statistics.median(times))
            results.append(r)
    if args.json:
        print(json.dumps(results, indent=1))
        return
    print("| problem | optimizer | steps | value evals | gradient evals | Hessian evals | |x - x*| | final value "
          "| converged | ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in results:
        print("| %s | %s | %d | %d | %d | %d | %.1e | %.1e | %s | %.1f |" % (
            r["problem"], r["who"], r["steps"], r["nfev"], r["njev"], r["nhev"], r["error"], r["f"],
            "yes" if r["ok"] else "no", r["ms"]))


if __name__ == "__main__":
    main()
