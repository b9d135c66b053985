"""The library's fit, minimize and train: the same numbers as the commands' JSON,
NIST's certified values through the library, and typed errors whose messages
name arguments where the commands name options."""

import csv
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

import cgcli
from cgcli import CgraphError, FitResult, MinimizeResult, TrainResult, UsageError

MISRA = os.path.join(ROOT, "samples", "misra1a.csv")
LINREG = os.path.join(ROOT, "samples", "linreg.csv")
NIST = os.path.join(ROOT, "tests", "data", "nist")
PROBLEMS = json.load(open(os.path.join(NIST, "problems.json"), encoding="utf-8"))
MISRA_MODEL = "y - b1*(1 - exp(-b2*x))"
ROSENBROCK = "(1-a)^2 + 100*(b-a^2)^2"


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


def rel(a, b):
    return abs(a - b) / abs(b)


# ---- fit --------------------------------------------------------------------------

def test_fit_equals_the_commands_json(cg):
    r = cgcli.fit(MISRA_MODEL, read_csv(MISRA), None, {"b1": 500, "b2": 1e-4})
    cli = cg("fit", MISRA_MODEL, "--data", MISRA, "b1=500", "b2=1e-4", "--format", "json")
    assert cli.status == 0, cli.err
    assert isinstance(r, FitResult)
    assert r.to_dict() == cli.json()
    assert list(r.to_dict()) == ["params", "stderr", "rss", "residual_sd", "dof", "iterations", "converged", "reason"]
    p = PROBLEMS["Misra1a"]
    assert rel(r.params["b1"], p["certified"][0]) < 1e-6 and rel(r.params["b2"], p["certified"][1]) < 1e-6
    assert rel(r.stderr["b1"], p["stderr"][0]) < 1e-4 and rel(r.residual_sd, p["residual_sd"]) < 1e-6
    assert (r.dof, r.rows, r.converged, r.warnings) == (12, 14, True, [])
    assert r.evaluations >= r.iterations > 1


def test_fit_with_options_equals_the_command(cg):
    r = cgcli.fit(MISRA_MODEL, read_csv(MISRA), "b1", {"b1": 500, "b2": 5.5015643181e-04})
    cli = cg("fit", MISRA_MODEL, "--data", MISRA, "--params", "b1", "b1=500", "b2=5.5015643181E-04",
             "--format", "json")
    assert r.to_dict() == cli.json()
    assert list(r.params) == ["b1"] and r.dof == 13 and r.converged
    r = cgcli.fit(MISRA_MODEL, read_csv(MISRA), None, {"b1": 500, "b2": 1e-4}, max_iter=3)
    cli = cg("fit", MISRA_MODEL, "--data", MISRA, "b1=500", "b2=1e-4", "--max-iter", "3", "--format", "json")
    assert r.to_dict() == cli.json()  # the reason as the command gives it; the warning names the argument
    assert (r.converged, r.reason, r.iterations) == (False, "reached --max-iter 3", 3)
    assert r.warnings == ["reached max_iter 3 before converging: the parameters are those reached"]
    assert cli.err == "warning: reached --max-iter 3 before converging: the parameters are those reached\n"


@pytest.mark.parametrize("name", ["Thurber", "MGH09"])
def test_a_nist_problem_through_the_library(name):
    p = PROBLEMS[name]
    data = read_csv(os.path.join(NIST, name.lower() + ".csv"))
    prog = cgcli.parse(p["residual"])
    r = cgcli.fit(prog, data, p["params"], dict(zip(p["params"], p["start1"])))
    assert r.converged, r.reason
    for b, cert, se in zip(p["params"], p["certified"], p["stderr"]):
        assert rel(r.params[b], cert) < 1e-6, (b, r.params[b], cert)
        assert rel(r.stderr[b], se) < 1e-4, (b, r.stderr[b], se)
    assert rel(r.rss, p["rss"]) < 1e-6 and r.dof == p["dof"] and r.rows == p["rows"]


def test_fit_takes_lists_and_dataframes():
    data = read_csv(MISRA)
    ref = cgcli.fit(MISRA_MODEL, data, ["b1", "b2"], {"b1": 500, "b2": 1e-4})
    as_lists = cgcli.fit(MISRA_MODEL, {k: v.tolist() for k, v in data.items()}, ["b1", "b2"],
                         {"b1": 500, "b2": 1e-4})
    assert as_lists.to_dict() == ref.to_dict()
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(data)
    assert cgcli.fit(MISRA_MODEL, df, None, {"b1": 500, "b2": 1e-4}).to_dict() == ref.to_dict()


def test_fit_against_scipy():
    opt = pytest.importorskip("scipy.optimize")
    data = read_csv(MISRA)
    r = cgcli.fit(MISRA_MODEL, data, None, {"b1": 500, "b2": 1e-4})
    x, y = data["x"], data["y"]
    ref = opt.least_squares(lambda b: y - b[0] * (1 - np.exp(-b[1] * x)), [500, 1e-4], method="lm",
                            jac=lambda b: np.column_stack([-(1 - np.exp(-b[1] * x)), -b[0] * x * np.exp(-b[1] * x)]),
                            xtol=1e-15, ftol=1e-15, gtol=1e-15)
    assert rel(r.params["b1"], ref.x[0]) < 1e-8 and rel(r.params["b2"], ref.x[1]) < 1e-8
    assert rel(r.rss, 2 * ref.cost) < 1e-10


def test_a_fixed_column_given_as_one_number():
    # y - b*x with x = 2 for every row: b = mean(y) / 2
    r = cgcli.fit("y - b*x", {"y": [1.0, 2.0, 6.0], "x": 2}, "b", {"b": 0})
    assert math.isclose(r.params["b"], 1.5, rel_tol=1e-12) and r.dof == 2


def test_fit_errors_are_typed_and_name_arguments(cg):
    data = read_csv(MISRA)
    cases = [
        (lambda: cgcli.fit(MISRA_MODEL, data, None, {"b1": 500}), UsageError,
         "no starting value for b2 (give it a starting value in start)"),
        (lambda: cgcli.fit(MISRA_MODEL, data, "b1,q", {"b1": 500, "b2": 1}), UsageError,
         "params: q is not an input of the program (inputs: y, b1, b2, x)"),
        (lambda: cgcli.fit(MISRA_MODEL, data, None, {"b1": 500, "b2": 1e-4, "x": 1}), UsageError,
         "x is both given in start and a column of data"),
        (lambda: cgcli.fit(MISRA_MODEL, {"x": data["x"]}, "b1,b2", {"b1": 500, "b2": 1e-4}), CgraphError,
         "data: no column for input y (columns: x; parameters: b1, b2)"),
        (lambda: cgcli.fit(MISRA_MODEL, {"x": [1, 2], "y": [1, 2, 3]}, None, {"b1": 5, "b2": 1}), CgraphError,
         "column x has 2 rows, the others 3"),
        (lambda: cgcli.fit(MISRA_MODEL, {"x": [1.0], "y": ["a"]}, None, {"b1": 5, "b2": 1}), CgraphError,
         "column y: not numeric (could not convert string to float: 'a')"),
        (lambda: cgcli.fit("y - log(b*x)", {"x": [1.0, -1.0], "y": [0.0, 1.0]}, None, {"b": 1}), CgraphError,
         "data row 1, at the starting values: log(b * x) is undefined at b * x = -1"),
        (lambda: cgcli.fit(MISRA_MODEL, data, None, {"b1": 500, "b2": 1e-4}, max_iter=0), UsageError,
         "max_iter: expected a whole number of at least 1, not 0"),
        (lambda: cgcli.fit(MISRA_MODEL, data, None, {"b1": 500, "b2": 1e-4}, xtol=-1.0), UsageError,
         "xtol: expected a number >= 0, not -1.0"),
        (lambda: cgcli.fit(MISRA_MODEL, data, None, {"b1": "500", "b2": 1e-4}), UsageError,
         "start b1: expected a number, not '500'"),
        (lambda: cgcli.fit(MISRA_MODEL, [1, 2], None, {"b1": 500}), UsageError,
         "data: expected a mapping of column name -> array-like, not list"),
    ]
    for call, kind, message in cases:
        with pytest.raises(kind) as e:
            call()
        assert e.value.message == message
        assert e.value.status == (2 if kind is UsageError else 1)
    # the command says the same, naming its options
    r = cg("fit", MISRA_MODEL, "--data", MISRA, "b1=500")
    assert r.err == "error: no starting value for b2 (bind it as NAME=VALUE or use --bind FILE.json)\n"


# ---- minimize ---------------------------------------------------------------------

@pytest.mark.parametrize("method,extra", [("gd", ["--lr", "0.001", "--momentum", "0.9", "--steps", "3000"]),
                                          ("adam", ["--lr", "0.05", "--steps", "2000"]),
                                          ("newton", []), ("lbfgs", ["--memory", "5"])])
def test_minimize_rosenbrock_equals_the_commands_json(cg, method, extra):
    kw = {"gd": dict(lr=0.001, momentum=0.9, steps=3000), "adam": dict(lr=0.05, steps=2000),
          "newton": {}, "lbfgs": dict(memory=5)}[method]
    r = cgcli.minimize(ROSENBROCK, {"a": -1.2, "b": 1}, method=method, **kw)
    cli = cg("minimize", ROSENBROCK, "a=-1.2", "b=1", "--method", method, *extra, "--format", "json")
    assert cli.status == 0, cli.err
    assert isinstance(r, MinimizeResult) and r.to_dict() == cli.json()
    assert r.method == method and r.steps == len(r.history) - 1 and not r.interrupted
    assert r.value == r.history[-1]
    if method in ("newton", "lbfgs"):  # the minimum (1, 1), where the value is 0
        assert r.converged and abs(r.params["a"] - 1) < 1e-6 and abs(r.params["b"] - 1) < 1e-6
        assert r.value < 1e-12


def test_minimize_agrees_with_scipy():
    opt = pytest.importorskip("scipy.optimize")
    r = cgcli.minimize(ROSENBROCK, {"a": -1.2, "b": 1}, method="lbfgs")
    ref = opt.minimize(opt.rosen, [-1.2, 1], method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-15})
    assert np.allclose([r.params["a"], r.params["b"]], ref.x, atol=1e-5)


def test_minimize_params_and_fixed_inputs():
    # (x - c)^2 over x alone, c held: x -> c
    r = cgcli.minimize("(x - c)^2", {"x": 0, "c": 3}, params="x", method="newton")
    assert list(r.params) == ["x"] and math.isclose(r.params["x"], 3.0) and abs(r.gradients["x"]) < 1e-12
    assert r.evaluations["hessian"] >= 1


def test_minimize_errors_are_typed_and_name_arguments():
    cases = [
        (lambda: cgcli.minimize("x^2", {"x": 1}, method="newton", lr=0.1), UsageError,
         "lr applies only to method gd and adam: newton chooses its steps by a line search"),
        (lambda: cgcli.minimize("x^2", {"x": 1}, method="adam", momentum=0.5), UsageError,
         "momentum applies only to method gd (not adam)"),
        (lambda: cgcli.minimize("x^2", {"x": 1}, method="bfgs"), UsageError,
         "method: bfgs is not one of gd, adam, newton, lbfgs"),
        (lambda: cgcli.minimize("x^2", {"x": 1}, lr=0), UsageError, "lr: expected a positive number, not 0"),
        (lambda: cgcli.minimize("x^2", {"x": 1}, momentum=1), UsageError,
         "momentum: expected a number in [0, 1), not 1"),
        (lambda: cgcli.minimize("x^2", {"x": 1}, steps=1.5), UsageError,
         "steps: expected a whole number of at least 0, not 1.5"),
        (lambda: cgcli.minimize("x^2 + y", {"x": 1}), CgraphError,
         "unbound input: y (give every input a starting value)"),
        (lambda: cgcli.minimize("x^2", {"x": 1}, params=["q"]), UsageError,
         "params: q is not an input of the program (inputs: x)"),
        (lambda: cgcli.minimize("-x^2", {"x": 1}, lr=2.0), CgraphError,
         "diverged at step 108: the value reached -9.495567745759809e+150 (try a smaller lr than 2)"),
    ]
    for call, kind, message in cases:
        with pytest.raises(kind) as e:
            call()
        assert e.value.message == message


# ---- train ------------------------------------------------------------------------

def test_train_equals_the_commands_json(cg):
    prog = open(os.path.join(ROOT, "samples", "linreg.cg"), encoding="utf-8").read()
    r = cgcli.train(prog, read_csv(LINREG), start={"w": 0, "b": 0}, lr=0.5, epochs=300, batch_size=50,
                    shuffle=False)
    cli = cg("train", "-f", os.path.join(ROOT, "samples", "linreg.cg"), "--data", LINREG, "w=0", "b=0",
             "--lr", "0.5", "--epochs", "300", "--batch-size", "50", "--no-shuffle", "--format", "json")
    assert cli.status == 0, cli.err
    assert isinstance(r, TrainResult) and r.to_dict() == cli.json()
    assert r.epochs == len(r.costs) == 300 and r.optimizer == "sgd"
    # the least-squares line of the same rows, by numpy: what full-batch descent approaches
    d = read_csv(LINREG)
    w, b = np.polyfit(d["x"], d["y"], 1)
    assert abs(r.params["w"] - w) < 1e-3 and abs(r.params["b"] - b) < 1e-3


def test_train_adam_and_init_seed_equal_the_command(cg):
    xor = os.path.join(ROOT, "samples", "xor.cg")
    data = read_csv(os.path.join(ROOT, "samples", "xor.csv"))
    r = cgcli.train(open(xor, encoding="utf-8").read(), data, init_seed=0, optimizer="adam", lr=0.05, epochs=50)
    cli = cg("train", "-f", xor, "--data", os.path.join(ROOT, "samples", "xor.csv"), "--init-seed", "0",
             "--optimizer", "adam", "--lr", "0.05", "--epochs", "50", "--format", "json")
    assert cli.status == 0, cli.err
    assert r.to_dict() == cli.json() and r.to_dict()["optimizer"] == "adam"


def test_train_errors_are_typed_and_name_arguments():
    data = {"x": [1.0, 2.0], "y": [2.0, 4.0]}
    cases = [
        (lambda: cgcli.train("(w*x - y)^2", data), UsageError,
         "no starting value for w (give it a starting value in start, or init_seed)"),
        (lambda: cgcli.train("(w*x - y)^2", data, start={"w": 0}, optimizer="sgd", momentum=0.5), UsageError,
         "momentum applies only to optimizer momentum (not sgd)"),
        (lambda: cgcli.train("(w*x - y)^2", data, start={"w": 0}, batch_size=0), UsageError,
         "batch_size: expected a whole number of at least 1, not 0"),
        (lambda: cgcli.train("(w*x - y)^2", data, params="x", start={"x": 0, "w": 1}), UsageError,
         "x is both a parameter and a column of data"),
        (lambda: cgcli.train("(w*x - y)^2", {"x": [], "y": []}, start={"w": 0}), CgraphError,
         "data: no rows to train on"),
    ]
    for call, kind, message in cases:
        with pytest.raises(kind) as e:
            call()
        assert e.value.message == message


def test_the_names_are_exported_and_import_stays_lazy():
    for name in ["fit", "minimize", "train", "FitResult", "MinimizeResult", "TrainResult"]:
        assert name in cgcli.__all__ and name in dir(cgcli)
    code = "import sys, cgcli; cgcli.fit; cgcli.minimize; cgcli.train; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["False"]
