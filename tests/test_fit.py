"""`cgraph fit`: Levenberg–Marquardt against the certified values of NIST's
Statistical Reference Datasets (nonlinear regression), the textbook standard
errors of a linear model, scipy.optimize.least_squares, and the command's
formats, files and error messages.

tests/data/nist/ holds the 27 NIST StRD nonlinear datasets (public domain) as CSV,
and problems.json each model as a residual in cgraph's language, both certified
starting points, the certified parameters, standard errors, residual sum of
squares, residual standard deviation and degrees of freedom."""

import json
import math
import os

import numpy as np
import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from cgcli.commands.inputs import open_data
from cgcli.core.errors import CgraphError
from cgcli.core.language import parse_program
from cgcli.features.fit import Residuals, fit_columns, least_squares

NIST = os.path.join(ROOT, "tests", "data", "nist")
PROBLEMS = json.load(open(os.path.join(NIST, "problems.json"), encoding="utf-8"))
MISRA = os.path.join(ROOT, "samples", "misra1a.csv")

# Lanczos1's certified residual sum of squares, 1.4307867721e-25, is that of
# residuals of about 8e-14, near the rounding error of evaluating the model in
# double precision (the data have 13 significant digits and terms up to 2.5):
# any double-precision evaluation of its sum of squares carries an error of
# about 1e-3 of it, and its standard errors (proportional to sqrt(RSS)) half of
# that. Its parameters are checked to 6 digits like every other problem's; its
# RSS to 1e-2 and its standard errors to 1e-3, said here and in docs/fit.md.
PRECISION_LIMITED = {"Lanczos1": (1e-2, 1e-3)}


def rel(a, b):
    return abs(a - b) / abs(b)


def nist_fit(name, start):
    p = PROBLEMS[name]
    prog = parse_program(p["residual"])
    rows = open_data(os.path.join(NIST, name.lower() + ".csv"))
    return least_squares(prog, rows, dict(zip(p["params"], p[start])), p["params"])


@pytest.mark.parametrize("start", ["start1", "start2"])
@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_nist_certified_values(name, start):
    p = PROBLEMS[name]
    r = nist_fit(name, start)
    assert r.converged, r.reason
    rss_tol, se_tol = PRECISION_LIMITED.get(name, (1e-6, 1e-4))
    for b, cert, se in zip(p["params"], p["certified"], p["stderr"]):
        assert rel(r.params[b], cert) < 1e-6, (b, r.params[b], cert)  # 6 significant digits
        assert rel(r.stderr[b], se) < se_tol, (b, r.stderr[b], se)  # 4 digits
    assert rel(r.rss, p["rss"]) < rss_tol, (r.rss, p["rss"])
    assert rel(r.residual_sd, p["residual_sd"]) < rss_tol, (r.residual_sd, p["residual_sd"])
    # Rat43's file says 9 degrees of freedom, but has 15 rows and 4 parameters, and its
    # certified residual standard deviation is sqrt(RSS / 11): a slip in the file
    assert r.dof == (11 if name == "Rat43" else p["dof"]) == r.rows - len(p["params"])
    assert r.rows == p["rows"]


def test_nist_data_as_copied():
    """A few numbers of the copied data against NIST's files as published: MGH09's
    first row, Thurber's size and first certified value, Bennett5's starts."""
    with open(os.path.join(NIST, "mgh09.csv"), encoding="utf-8") as fh:
        assert fh.readline().strip() == "x,y" and fh.readline().strip() == "4.000000E+00,1.957000E-01"
    assert PROBLEMS["MGH09"]["certified"][0] == 1.9280693458e-01
    assert PROBLEMS["MGH09"]["rss"] == 3.0750560385e-04
    assert PROBLEMS["Thurber"]["rows"] == 37 and PROBLEMS["Thurber"]["certified"][0] == 1.2881396800e03
    assert PROBLEMS["Bennett5"]["start1"] == [-2000.0, 50.0, 0.8]
    assert len(PROBLEMS) == 27


def _linear(seed=3, n=40):
    rng = np.random.default_rng(seed)
    x = np.linspace(-2.0, 5.0, n)
    y = 1.5 - 0.75 * x + rng.normal(0.0, 0.3, n)
    return x, y


def test_standard_errors_of_a_linear_model_are_the_textbook_ones():
    """y = a + b x: the least-squares estimates are (X^T X)^-1 X^T y, and their standard
    errors sqrt(s^2 diag((X^T X)^-1)) with s^2 = RSS / (n - 2), exactly."""
    x, y = _linear()
    n = len(x)
    g, _ = parse_program("y - (a + b*x)").cone()
    r = fit_columns(g, {"x": x, "y": y}, n, {}, {"a": 0.0, "b": 0.0})
    X = np.stack([np.ones(n), x], axis=1)
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    res = y - X @ beta
    s2 = res @ res / (n - 2)
    se = np.sqrt(s2 * np.diag(np.linalg.inv(X.T @ X)))
    assert rel(r.params["a"], beta[0]) < 1e-12 and rel(r.params["b"], beta[1]) < 1e-12
    assert rel(r.stderr["a"], se[0]) < 1e-12 and rel(r.stderr["b"], se[1]) < 1e-12
    # the closed forms of simple regression, by hand
    sxx = np.sum((x - x.mean()) ** 2)
    assert rel(r.stderr["b"], math.sqrt(s2 / sxx)) < 1e-12
    assert rel(r.stderr["a"], math.sqrt(s2 * (1 / n + x.mean() ** 2 / sxx))) < 1e-12
    assert rel(r.rss, res @ res) < 1e-12 and r.dof == n - 2
    assert rel(r.residual_sd, math.sqrt(s2)) < 1e-12
    # a linear residual: Gauss-Newton steps once the trust radius (||f|| from a start at 0) allows them
    assert r.iterations <= 8


def test_jacobian_is_exact_against_central_differences():
    p = PROBLEMS["Rat43"]
    g, _ = parse_program(p["residual"]).cone()
    rows = open_data(os.path.join(NIST, "rat43.csv"))
    from cgcli.features.learn import read_columns
    cols, n = read_columns(rows, ["x", "y"])
    prob = Residuals(np, g, cols, {}, p["params"], n)
    x0 = np.array(p["certified"])
    J = prob.jacobian(x0)
    for k in range(len(x0)):
        h = 1e-6 * abs(x0[k])
        e = np.zeros(len(x0))
        e[k] = h
        fd = (prob.residuals(x0 + e) - prob.residuals(x0 - e)) / (2 * h)
        assert np.allclose(J[:, k], fd, rtol=1e-6, atol=1e-8 * np.abs(fd).max())


# ---- against scipy -----------------------------------------------------------------

OWN = {  # residual, data maker, start (scipy's lm with the exact Jacobian must agree)
    "decay": ("y - a*exp(-k*t) - c", lambda t: 3.0 * np.exp(-0.7 * t) + 0.4, {"a": 1.0, "k": 0.1, "c": 0.0}),
    "peak": ("y - h*exp(-((t - m)/w)^2)", lambda t: 2.0 * np.exp(-((t - 4.2) / 1.3) ** 2),
             {"h": 1.0, "m": 3.5, "w": 2.0}),
    "michaelis": ("y - v*t/(km + t)", lambda t: 5.0 * t / (2.5 + t), {"v": 1.0, "km": 1.0}),
    "logistic": ("y - L/(1 + exp(-r*(t - t0)))", lambda t: 10.0 / (1 + np.exp(-1.1 * (t - 5.0))),
                 {"L": 5.0, "r": 0.5, "t0": 3.0}),
}


@pytest.mark.parametrize("name", sorted(OWN))
def test_against_scipy_least_squares(name):
    scipy_opt = pytest.importorskip("scipy.optimize")
    resid, make, start = OWN[name]
    rng = np.random.default_rng(7)
    t = np.linspace(0.1, 10.0, 60)
    y = make(t) + rng.normal(0.0, 0.05, len(t))
    g, _ = parse_program(resid).cone()
    ours = fit_columns(g, {"t": t, "y": y}, len(t), {}, start)
    names = list(start)
    prob = Residuals(np, g, {"t": t, "y": y}, {}, names, len(t))
    ref = scipy_opt.least_squares(prob.residuals, np.array(list(start.values())), jac=prob.jacobian,
                                  method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15)
    assert ours.converged
    for k, b in enumerate(names):
        assert rel(ours.params[b], ref.x[k]) < 1e-8, (b, ours.params[b], ref.x[k])
    assert rel(ours.rss, 2 * ref.cost) < 1e-10


# ---- the command ---------------------------------------------------------------------

def test_fit_json_keys_and_values(cg):
    r = cg("fit", "y - b1*(1 - exp(-b2*x))", "--data", MISRA, "b1=500", "b2=1e-4", "--format", "json")
    assert r.status == 0, r.err
    obj = r.json()
    assert list(obj) == ["params", "stderr", "rss", "residual_sd", "dof", "iterations", "converged", "reason"]
    p = PROBLEMS["Misra1a"]
    assert rel(obj["params"]["b1"], p["certified"][0]) < 1e-6 and rel(obj["stderr"]["b2"], p["stderr"][1]) < 1e-4
    assert obj["dof"] == 12 and obj["converged"] is True and obj["iterations"] > 1


def test_fit_plain_and_table(cg):
    r = cg("fit", "-f", os.path.join(ROOT, "samples", "misra1a.cg"), "--data", MISRA, "b1=500", "b2=1e-4",
           "--format", "plain")
    assert r.status == 0, r.err
    lines = r.out.splitlines()
    assert lines[1] == "converged\ttrue" and lines[2].startswith("iterations\t")
    k, name, v, se = lines[3].split("\t")
    assert (k, name) == ("param", "b1") and rel(float(v), 238.94212918) < 1e-6 and rel(float(se), 2.7070075241) < 1e-4
    assert lines[-1] == "dof\t12" and lines[-3].startswith("rss\t0.1245513")
    r = cg("fit", "y - b1*(1 - exp(-b2*x))", "--data", MISRA, "b1=500", "b2=1e-4", "--format", "table")
    assert r.status == 0 and "238.942" in r.out and "2.70701" in r.out and "degrees of freedom = 12" in r.out


def test_default_params_are_the_inputs_that_are_not_columns(cg):
    r = cg("fit", "y - b1*(1 - exp(-b2*x))", "--data", MISRA, "b1=500", "b2=1e-4", "--format", "json")
    assert list(r.json()["params"]) == ["b1", "b2"]


def test_a_fixed_input_stays_fixed(cg):
    r = cg("fit", "y - b1*(1 - exp(-b2*x))", "--data", MISRA, "--params", "b1", "b1=500", "b2=5.5015643181E-04",
           "--format", "json")
    assert r.status == 0 and list(r.json()["params"]) == ["b1"] and r.json()["dof"] == 13


def test_save_writes_what_bind_reads(cg, tmp_path):
    out = tmp_path / "p.json"
    r = cg("fit", "y - b1*(1 - exp(-b2*x))", "--data", MISRA, "b1=500", "b2=1e-4", "--save", str(out))
    assert r.status == 0, r.err
    saved = json.loads(out.read_text())
    assert list(saved) == ["b1", "b2"] and rel(saved["b1"], 238.94212918) < 1e-6
    r = cg("eval", "b1*(1 - exp(-b2*x))", "--bind", str(out), "x=77.6", "--summary", "--format", "plain")
    assert r.status == 0 and abs(float(r.out.split()[1]) - 10.07) < 0.2


def test_no_starting_value_is_a_usage_error(cg):
    r = cg("fit", "y - b1*(1 - exp(-b2*x))", "--data", MISRA, "b1=500")
    assert r.status == 2
    assert r.err == "error: no starting value for b2 (bind it as NAME=VALUE or use --bind FILE.json)\n"


def test_a_parameter_the_residual_ignores(cg):
    r = cg("fit", "y - b1*x", "--data", MISRA, "--params", "b1,b2", "b1=1", "b2=1")
    assert r.status == 2 and "b2" in r.err  # not an input of the program at all
    r = cg("fit", "z = b2; y - b1*x", "--data", MISRA, "--params", "b1,b2", "b1=1", "b2=1")
    assert r.status == 1
    assert r.err.startswith("error: the residual does not depend on b2: the parameter cannot be fitted")


def test_a_singular_jacobian_names_the_parameters(cg):
    r = cg("fit", "y - (a + b)*x", "--data", MISRA, "a=1", "b=2")
    assert r.status == 1
    assert r.err.startswith("error: the Jacobian is singular at the solution: a, b cannot be told apart")
    assert r.err.count("\n") == 1
    r = cg("fit", "y - a*x - 0*b", "--data", MISRA, "a=1", "b=2")
    assert r.status == 1
    assert r.err.startswith("error: the Jacobian is singular at the solution: the residuals do not change with b")


def test_no_degrees_of_freedom(cg, tmp_path):
    f = tmp_path / "two.csv"
    f.write_text("x,y\n1,2\n2,3\n")
    r = cg("fit", "y - (a + b*x)", "--data", str(f), "a=0", "b=0", "--format", "json")
    assert r.status == 0, r.err
    obj = r.json()
    assert obj["dof"] == 0 and obj["stderr"] == {"a": None, "b": None} and obj["residual_sd"] is None
    assert abs(obj["params"]["a"] - 1) < 1e-12 and abs(obj["params"]["b"] - 1) < 1e-12
    r = cg("fit", "y - (a + b*x)", "--data", str(f), "a=0", "b=0", "--format", "table")
    assert "no standard errors" in r.out


def test_a_bad_row_names_its_line(cg, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("x,y\n1,2\n2,oops\n3,4\n")
    r = cg("fit", "y - a*x", "--data", str(f), "a=1")
    assert r.status == 1 and "line 3" in r.err and r.err.startswith("error: ") and r.err.count("\n") == 1


def test_a_residual_undefined_at_the_start_names_the_line(cg, tmp_path):
    f = tmp_path / "neg.csv"
    f.write_text("# a comment line\nx,y\n1,2\n-2,3\n")
    r = cg("fit", "y - log(a*x)", "--data", str(f), "a=1")
    assert r.status == 1
    # the header is line 2 here (after the comment), so the second row is line 4, as eval --data names it
    assert r.err.startswith("error: %s line 4, at the starting values: log(a * x) is undefined" % f)


def test_a_residual_undefined_in_parquet_names_the_row_index(cg, tmp_path):
    pl = pytest.importorskip("polars")
    f = str(tmp_path / "neg.parquet")
    pl.DataFrame({"x": [1.0, 2.0, -2.0], "y": [2.0, 3.0, 3.0]}).write_parquet(f)
    r = cg("fit", "y - log(a*x)", "--data", f, "a=1")
    assert r.status == 1
    assert r.err.startswith("error: %s row 2, at the starting values: log(a * x) is undefined" % f)


def test_max_iter_stops_unconverged(cg):
    r = cg("fit", "y - b1*(1 - exp(-b2*x))", "--data", MISRA, "b1=500", "b2=1e-4", "--max-iter", "2",
           "--format", "json")
    assert r.status == 0 and r.json()["converged"] is False and r.json()["reason"] == "reached --max-iter 2"
    assert r.json()["iterations"] == 2
    assert r.err == "warning: reached --max-iter 2 before converging: the parameters are those reached\n"


def test_a_binding_the_program_never_reads_draws_a_warning(cg):
    r = cg("fit", "y - b1*(1 - exp(-b2*x))", "--data", MISRA, "b1=500", "b2=1e-4", "c=3", "--format", "json")
    assert r.status == 0 and r.err == "warning: c is bound but the program never reads it\n"


def test_an_exact_fit_stops_on_the_gradient(cg, tmp_path):
    f = tmp_path / "exact.csv"
    f.write_text("x,y\n0,1\n1,3\n2,5\n")
    r = cg("fit", "y - (a + b*x)", "--data", str(f), "a=0", "b=0", "--format", "json")
    obj = r.json()
    assert r.status == 0 and obj["converged"] and abs(obj["params"]["b"] - 2) < 1e-12 and obj["rss"] < 1e-25


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(4, 30), st.floats(-1e3, 1e3), st.floats(-1e3, 1e3))
def test_a_linear_model_is_least_squares_exactly(seed, n, a0, b0):
    """Any start, any data: a quadratic model's fit is numpy's least-squares solution,
    and its standard errors the textbook ones."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-3, 3, n))
    y = rng.normal(0, 1, n) + 2 * x - x ** 2
    g, _ = parse_program("y - (a + b*x + c*x^2)").cone()
    try:
        r = fit_columns(g, {"x": x, "y": y}, n, {}, {"a": a0, "b": b0, "c": 0.0})
    except CgraphError as e:  # three x that nearly coincide: a singular Jacobian, said so
        assert "singular" in e.message
        return
    X = np.stack([np.ones(n), x, x ** 2], axis=1)
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    scale = np.abs(beta).max()
    assert r.converged and np.allclose([r.params[k] for k in "abc"], beta, rtol=1e-8, atol=1e-8 * scale)
    res = y - X @ beta
    if n > 3:
        se = np.sqrt(res @ res / (n - 3) * np.diag(np.linalg.inv(X.T @ X)))
        assert np.allclose([r.stderr[k] for k in "abc"], se, rtol=1e-6)
