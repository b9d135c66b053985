"""`minimize --method gd|adam|newton|lbfgs` and `train --optimizer sgd|momentum|adam`:
the rules against hand-written references, PyTorch and scipy (when installed)."""

import csv
import json
import math
import os

import numpy as np
import pytest
from conftest import SAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

import cgcli
from cgcli.features import optimizers
from cgcli.features.learn import minimize

ROSENBROCK = "(1-a)^2 + 100*(b-a^2)^2"
PROFILE = settings(max_examples=40, deadline=None, derandomize=True)


def sample(name):
    return os.path.join(SAMPLES, name)


def load(name):
    with open(sample(name)) as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


# ---- Newton and L-BFGS ------------------------------------------------------------

@pytest.mark.parametrize("method", ["newton", "lbfgs"])
def test_rosenbrock_from_the_classic_start_reaches_1_1(cg, method):
    r = cg("minimize", ROSENBROCK, "a=-1.2", "b=1", "--method", method, "--format", "json")
    assert r.status == 0, r.err
    d = r.json()
    assert d["converged"] is True and d["steps"] <= 100
    assert abs(d["params"]["a"] - 1) <= 1e-8 and abs(d["params"]["b"] - 1) <= 1e-8
    assert d["value"] < 1e-16
    # the keys of gd's JSON, in their order, then the method and its evaluations
    assert list(d) == ["reason", "converged", "steps", "value", "params", "gradients", "method", "evaluations"]
    assert d["method"] == method
    ev = d["evaluations"]
    assert ev["value"] >= d["steps"] + 1 and ev["gradient"] >= d["steps"] + 1
    assert ("hessian" in ev) == (method == "newton")
    if method == "newton":
        assert ev["hessian"] == d["steps"]  # one per step taken


def test_newton_takes_one_step_on_a_quadratic(cg):
    # f = 2x^2 + xy + 3y^2 - 4x + y: grad = (4x + y - 4, x + 6y + 1) = 0 at x = 25/23, y = -8/23
    d = cg("minimize", "2*x^2 + x*y + 3*y^2 - 4*x + y", "x=5", "y=-7", "--method", "newton",
           "--format", "json").json()
    assert d["steps"] == 1 and d["converged"] is True
    assert d["params"]["x"] == pytest.approx(25 / 23, rel=1e-15)
    assert d["params"]["y"] == pytest.approx(-8 / 23, rel=1e-15)
    assert d["evaluations"] == {"value": 2, "gradient": 2, "hessian": 1}


def test_lbfgs_solves_a_quadratic_in_at_most_n_plus_a_few_steps(cg):
    d = cg("minimize", "2*x^2 + x*y + 3*y^2 - 4*x + y", "x=5", "y=-7", "--method", "lbfgs",
           "--format", "json").json()
    assert d["converged"] is True and d["steps"] <= 6
    assert d["params"]["x"] == pytest.approx(25 / 23, abs=1e-9)
    assert d["params"]["y"] == pytest.approx(-8 / 23, abs=1e-9)


NONCONVEX = "x^4 - 3*x^2 + x + y^4 - 2*y^2 + x*y + sin(3*x)"


@PROFILE
@given(st.floats(-3, 3), st.floats(-3, 3))
def test_newton_never_increases_the_value(x, y):
    """Property: from any start on a nonconvex function (the Hessian indefinite in
    places), every Newton step keeps or lowers the value."""
    values = []
    out = minimize(cgcli.parse(NONCONVEX), {"x": x, "y": y}, method="newton", steps=60,
                   on_step=lambda s, v, p: values.append(v))
    assert all(b <= a for a, b in zip(values, values[1:])), values
    assert out.value == values[-1] and math.isfinite(out.value)
    # it stops at a stationary point (or, rarely, the limit of precision)
    assert out.converged or "line search" in out.reason


@PROFILE
@given(st.floats(-3, 3), st.floats(-3, 3))
def test_lbfgs_never_increases_the_value(x, y):
    values = []
    minimize(cgcli.parse(NONCONVEX), {"x": x, "y": y}, method="lbfgs", steps=100,
             on_step=lambda s, v, p: values.append(v))
    assert all(b <= a for a, b in zip(values, values[1:])), values


def test_newton_on_an_indefinite_hessian_goes_downhill(cg, tmp_path):
    # f'' = 12x^2 - 6 < 0 at x = 0.1: the undamped Newton step would climb to the maximum near 0.17
    f = tmp_path / "t.csv"
    d = cg("minimize", "x^4 - 3*x^2 + x", "x=0.1", "--method", "newton", "--trace", str(f),
           "--format", "json").json()
    values = [float(r["value"]) for r in csv.DictReader(open(f))]
    assert all(b < a for a, b in zip(values, values[1:]))
    x = d["params"]["x"]
    assert abs(4 * x ** 3 - 6 * x + 1) < 1e-10 and 12 * x * x - 6 > 0  # a minimum
    assert x == pytest.approx(-1.3008395659416, abs=1e-12)


@pytest.mark.parametrize("method", ["newton", "lbfgs"])
def test_a_trial_point_outside_the_domain_is_stepped_back_from(cg, method):
    # x - log(x) from 5: the full Newton step lands on x = -15, where log is undefined
    d = cg("minimize", "x - log(x)", "x=5", "--method", method, "--format", "json").json()
    assert d["converged"] is True and d["params"]["x"] == pytest.approx(1, abs=1e-9)


def test_a_kink_stops_the_line_search_without_an_error(cg):
    r = cg("minimize", "abs(x) + abs(y-1)", "x=0.3", "y=0", "--method", "newton", "--format", "plain")
    assert r.status == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].startswith("stopped\tno lower value along the search direction at step ")
    assert "converged\tfalse" in lines
    xs = {ln.split("\t")[1]: float(ln.split("\t")[2]) for ln in lines if ln.startswith("param\t")}
    assert abs(xs["x"]) < 1e-12 and xs["y"] == pytest.approx(1, abs=1e-12)


def test_plain_and_table_add_the_method_and_evaluations_at_the_end(cg):
    r = cg("minimize", ROSENBROCK, "a=-1.2", "b=1", "--method", "newton", "--format", "plain")
    lines = r.out.splitlines()
    tags = [ln.split("\t")[0] for ln in lines]
    assert tags[:4] == ["stopped", "converged", "steps", "value"]
    assert tags[4:] == ["param", "param", "grad", "grad", "method", "evaluations", "evaluations", "evaluations"]
    assert lines[-4:-3] == ["method\tnewton"]
    assert [ln.split("\t")[1] for ln in lines[-3:]] == ["value", "gradient", "hessian"]
    t = cg("minimize", ROSENBROCK, "a=-1.2", "b=1", "--method", "lbfgs", "--format", "table").out
    assert "method lbfgs; evaluations: " in t and "of the gradient" in t and "final value" in t


def test_memory_one_still_converges(cg):
    d = cg("minimize", ROSENBROCK, "a=-1.2", "b=1", "--method", "lbfgs", "--memory", "1", "--steps", "2000",
           "--format", "json").json()
    assert d["converged"] and d["params"]["a"] == pytest.approx(1, abs=1e-6)


@pytest.mark.parametrize("args, message", [
    (["--method", "newton", "--lr", "0.1"], "error: --lr applies only to --method gd and adam: newton chooses"),
    (["--method", "lbfgs", "--lr", "1"], "error: --lr applies only to --method gd and adam: lbfgs chooses"),
    (["--method", "adam", "--momentum", "0.5"], "error: --momentum applies only to --method gd (not adam)"),
    (["--method", "newton", "--momentum", "0"], "error: --momentum applies only to --method gd (not newton)"),
    (["--memory", "3"], "error: --memory applies only to --method lbfgs (not gd)"),
    (["--method", "bfgs"], "Invalid value for '--method'"),
    (["--method", "lbfgs", "--memory", "0"], "Invalid value for '--memory'"),
])
def test_options_that_do_not_apply_are_usage_errors(cg, args, message):
    r = cg("minimize", "x^2", "x=1", *args)
    assert r.status == 2 and message in r.err and r.out == ""


def test_a_domain_error_at_the_start_still_names_step_0(cg):
    r = cg("minimize", "log(x)", "x=-1", "--method", "lbfgs")
    assert r.status == 1 and r.err.startswith("error: step 0: log(x) is undefined at x = -1")


def test_newton_uses_the_exact_hessian():
    """The Hessian handed to the Newton step is the symbolic one (checked against
    the hand-derived Hessian of Rosenbrock's function)."""
    from cgcli.features.objective import Objective
    prog = cgcli.parse(ROSENBROCK)
    g, _ = prog.cone()
    obj = Objective(prog, g, {"a": 0.0, "b": 0.0}, ["a", "b"], True)
    a, b = -1.2, 1.0
    H = obj.hessian(np, [a, b])
    want = [[2 - 400 * (b - a * a) + 800 * a * a, -400 * a], [-400 * a, 200]]
    assert np.allclose(H, want, rtol=1e-14, atol=0) and obj.counts["hessian"] == 1


# ---- the line searches on their own ------------------------------------------------

@PROFILE
@given(st.floats(-5, 5), st.floats(0.1, 10), st.floats(0.01, 3))
def test_wolfe_returns_a_step_meeting_the_strong_wolfe_conditions(x0, scale, alpha):
    """phi(a) = f(x0 + a*p) along the descent direction p = -f'(x0) of
    f(x) = x^4/scale + sin(x) + x^2."""
    def f(x):
        return x ** 4 / scale + math.sin(x) + x * x

    def df(x):
        return 4 * x ** 3 / scale + math.cos(x) + 2 * x

    p = -df(x0)
    if abs(p) < 1e-6:
        return

    def phi(a):
        return f(x0 + a * p), df(x0 + a * p) * p, a

    r = optimizers.wolfe(phi, f(x0), df(x0) * p, alpha)
    assert r is not None
    a, fa, _ = r
    assert fa == f(x0 + a * p)
    assert fa <= f(x0) + optimizers.C1 * a * df(x0) * p
    assert abs(df(x0 + a * p) * p) <= optimizers.C2 * abs(df(x0) * p)


def test_backtracking_stops_at_armijo_and_steps_back_from_undefined_points():
    trials = []

    def value_at(a):
        trials.append(a)
        return math.inf if a > 0.3 else (1 - a) ** 2  # undefined beyond 0.3

    a, f = optimizers.backtrack(value_at, 1.0, -2.0)
    assert trials[0] == 1.0 and a <= 0.3 and f == (1 - a) ** 2 and f <= 1 - 2e-4 * a
    # rounding: 1 + 1e-4*a*(-1e-300) is 1, so a step that keeps the value is taken
    assert optimizers.backtrack(lambda a: 1.0, 1.0, -1e-300) == (1.0, 1.0)
    assert optimizers.backtrack(lambda a: 1.0 + 1e-15, 1.0, -1.0) is None  # every trial is higher


def test_newton_direction_damps_an_indefinite_hessian():
    g = np.array([1.0, -2.0])
    H = np.array([[1.0, 0.0], [0.0, -3.0]])
    p, tau = optimizers.newton_direction(np, g, H)
    assert tau > 3 and float(g @ p) < 0
    assert np.allclose((H + tau * np.eye(2)) @ p, -g, rtol=1e-14)
    p, tau = optimizers.newton_direction(np, g, np.array([[2.0, 0.0], [0.0, 4.0]]))
    assert tau == 0 and p.tolist() == pytest.approx([-0.5, 0.5], rel=1e-15)
    p, tau = optimizers.newton_direction(np, g, np.array([[math.nan, 0.0], [0.0, 1.0]]))
    assert tau is None and p.tolist() == [-1.0, 2.0]


# ---- Adam and momentum ---------------------------------------------------------------

def adam_reference(grad, x, lr, steps, b1=0.9, b2=0.999, eps=1e-8):
    """Kingma and Ba's Algorithm 1, written out."""
    m = [0.0] * len(x)
    v = [0.0] * len(x)
    for t in range(1, steps + 1):
        gs = grad(x)
        for k in range(len(x)):
            m[k] = b1 * m[k] + (1 - b1) * gs[k]
            v[k] = b2 * v[k] + (1 - b2) * gs[k] * gs[k]
            mhat = m[k] / (1 - b1 ** t)
            vhat = v[k] / (1 - b2 ** t)
            x[k] = x[k] - lr * mhat / (math.sqrt(vhat) + eps)
    return x


def test_minimize_adam_matches_the_reference_update_exactly(cg):
    def grad(p):
        x, y = p
        return [2 * x + 3 * y, 3 * x]  # of x^2 + 3*x*y
    want = adam_reference(grad, [3.0, 2.0], 0.05, 4)
    d = cg("minimize", "x^2 + 3*x*y", "x=3", "y=2", "--method", "adam", "--lr", "0.05", "--steps", "4",
           "--format", "json").json()
    assert [d["params"]["x"], d["params"]["y"]] == want
    assert d["steps"] == 4 and d["evaluations"] == {"value": 5, "gradient": 5}


def test_minimize_adam_default_lr_is_0_1(cg):
    d = cg("minimize", "(x-3)^2", "x=0", "--method", "adam", "--steps", "1", "--format", "json").json()
    assert d["params"]["x"] == pytest.approx(0.1, rel=1e-6)  # Adam's first step is lr * sign(g)


def linreg_reference(rows, optimizer, lr, epochs, batch, momentum=0.9):
    """train's loop on samples/linreg.cg in file order, written out with numpy."""
    X = np.array([r["x"] for r in rows])
    Y = np.array([r["y"] for r in rows])
    theta = np.zeros(2)
    vel = np.zeros(2)
    m = np.zeros(2)
    v = np.zeros(2)
    t = 0
    for _ in range(epochs):
        for k in range(0, len(rows), batch):
            x, y = X[k:k + batch], Y[k:k + batch]
            e = theta[0] * x + theta[1] - y
            g = np.array([np.mean(2 * e * x), np.mean(2 * e)])
            if optimizer == "momentum":
                vel = momentum * vel + g
                theta = theta - lr * vel
            else:
                t += 1
                m = 0.9 * m + 0.1 * g
                v = 0.999 * v + 0.001 * g * g
                theta = theta - lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return theta


@pytest.mark.parametrize("optimizer, extra", [("adam", []), ("momentum", []), ("momentum", ["--momentum", "0.5"])])
@pytest.mark.parametrize("batch", [1, 8])
def test_train_optimizers_match_a_numpy_reference(cg, optimizer, extra, batch):
    rows = load("linreg.csv")
    lr = 0.05
    want = linreg_reference(rows, optimizer, lr, 3, batch, float(extra[1]) if extra else 0.9)
    r = cg("train", "-f", sample("linreg.cg"), "--data", sample("linreg.csv"), "w=0", "b=0", "--lr", str(lr),
           "--epochs", "3", "--batch-size", str(batch), "--no-shuffle", "--optimizer", optimizer, *extra,
           "--format", "json")
    assert r.status == 0, r.err
    d = r.json()
    assert [d["params"]["w"], d["params"]["b"]] == pytest.approx(want.tolist(), rel=1e-12)
    assert list(d)[-1] == "optimizer" and d["optimizer"] == optimizer
    assert list(d)[:-1] == ["reason", "converged", "epochs", "cost", "params", "gradients", "costs"]


def test_train_optimizer_usage_errors(cg):
    base = ["train", "-f", sample("linreg.cg"), "--data", sample("linreg.csv"), "w=0", "b=0"]
    for opt in ["sgd", "adam"]:
        r = cg(*base, "--optimizer", opt, "--momentum", "0.5")
        assert r.status == 2 and r.err == "error: --momentum applies only to --optimizer momentum (not %s)\n" % opt
    r = cg(*base, "--optimizer", "rmsprop")
    assert r.status == 2 and "Invalid value for '--optimizer'" in r.err


def test_train_plain_names_the_optimizer_last(cg):
    r = cg("train", "-f", sample("linreg.cg"), "--data", sample("linreg.csv"), "w=0", "b=0", "--epochs", "2",
           "--optimizer", "adam", "--format", "plain")
    assert r.out.splitlines()[-1] == "optimizer\tadam"


# ---- PyTorch ----------------------------------------------------------------------------

@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_train_matches_torch_optim_on_xor(cg, tmp_path, optimizer):
    torch = pytest.importorskip("torch")
    rows = load("xor.csv")
    start = {"w11": 0.5, "w12": -0.4, "b1": 0.1, "w21": 0.3, "w22": 0.8, "b2": -0.2, "v1": 0.7, "v2": -0.6,
             "c": 0.05}
    bind = tmp_path / "start.json"
    bind.write_text(json.dumps(start))
    lr, epochs = 0.05, 40
    d = cg("train", "-f", sample("xor.cg"), "--data", sample("xor.csv"), "--bind", str(bind), "--lr", str(lr),
           "--epochs", str(epochs), "--batch-size", "2", "--no-shuffle", "--optimizer", optimizer,
           "--format", "json").json()
    P = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in start.items()}
    if optimizer == "adam":
        opt = torch.optim.Adam(list(P.values()), lr=lr)
    else:
        opt = torch.optim.SGD(list(P.values()), lr=lr, momentum=0.9)
    X1 = torch.tensor([r["x1"] for r in rows], dtype=torch.float64)
    X2 = torch.tensor([r["x2"] for r in rows], dtype=torch.float64)
    Y = torch.tensor([r["y"] for r in rows], dtype=torch.float64)
    for _ in range(epochs):
        for k in range(0, 4, 2):
            x1, x2, y = X1[k:k + 2], X2[k:k + 2], Y[k:k + 2]
            h1 = torch.tanh(P["w11"] * x1 + P["w12"] * x2 + P["b1"])
            h2 = torch.tanh(P["w21"] * x1 + P["w22"] * x2 + P["b2"])
            out = torch.sigmoid(P["v1"] * h1 + P["v2"] * h2 + P["c"])
            loss = ((out - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    for k, p in P.items():
        assert d["params"][k] == pytest.approx(p.item(), rel=1e-9, abs=1e-12), k


def test_minimize_adam_matches_torch(cg):
    torch = pytest.importorskip("torch")
    d = cg("minimize", ROSENBROCK, "a=-1.2", "b=1", "--method", "adam", "--lr", "0.01", "--steps", "200",
           "--tol", "0", "--format", "json").json()
    a = torch.tensor(-1.2, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([a, b], lr=0.01)
    for _ in range(200):
        opt.zero_grad()
        ((1 - a) ** 2 + 100 * (b - a ** 2) ** 2).backward()
        opt.step()
    assert d["params"]["a"] == pytest.approx(a.item(), rel=1e-9)
    assert d["params"]["b"] == pytest.approx(b.item(), rel=1e-9)


# ---- scipy ------------------------------------------------------------------------------

BEALE = "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2"


@pytest.mark.parametrize("method", ["newton", "lbfgs"])
@pytest.mark.parametrize("program, start, names", [
    (ROSENBROCK, (-1.2, 1.0), ("a", "b")),
    (BEALE, (1.0, 1.0), ("x", "y")),
    ("exp(x - 1) + exp(1 - y) + (x - y)^2 + x^2*y^2/10", (2.0, -1.0), ("x", "y")),
])
def test_final_point_agrees_with_scipy(cg, method, program, start, names):
    so = pytest.importorskip("scipy.optimize")
    prog = cgcli.parse(program)

    def fun(z):
        r = cgcli.evaluate(prog, dict(zip(names, z)))
        return r.value, np.array([r.gradients[n] for n in names])

    ref = so.minimize(fun, np.array(start), jac=True, method="BFGS", options={"gtol": 1e-11})
    d = cg("minimize", program, *["%s=%r" % nv for nv in zip(names, start)], "--method", method,
           "--format", "json").json()
    assert d["converged"]
    assert [d["params"][n] for n in names] == pytest.approx(ref.x.tolist(), abs=1e-7)
    assert d["value"] == pytest.approx(ref.fun, abs=1e-12)


# ---- the defaults' output, Ctrl-C ------------------------------------------------------

def test_the_defaults_add_no_keys(cg):
    d = cg("minimize", "(x-3)^2", "x=0", "--format", "json").json()
    assert list(d) == ["reason", "converged", "steps", "value", "params", "gradients"]
    assert cg("minimize", "(x-3)^2", "x=0", "--method", "gd", "--format", "json").out == \
        cg("minimize", "(x-3)^2", "x=0", "--format", "json").out
    d = cg("train", "-f", sample("linreg.cg"), "--data", sample("linreg.csv"), "w=0", "b=0", "--epochs", "2",
           "--format", "json").json()
    assert list(d) == ["reason", "converged", "epochs", "cost", "params", "gradients", "costs"]
    plain = cg("train", "-f", sample("linreg.cg"), "--data", sample("linreg.csv"), "w=0", "b=0", "--epochs", "2",
               "--format", "plain").out
    assert plain == cg("train", "-f", sample("linreg.cg"), "--data", sample("linreg.csv"), "w=0", "b=0",
                       "--epochs", "2", "--optimizer", "sgd", "--format", "plain").out
    assert "optimizer" not in plain


def test_ctrl_c_in_a_line_search_reports_the_last_accepted_point(cg, monkeypatch, tmp_path):
    """Interrupted inside a line search, the parameters are those of the last
    step taken (written to --trace too), not the trial point."""
    from cgcli.features import learn
    real = learn.forward
    seen = [0]

    def forward(*a, **k):
        seen[0] += 1
        if seen[0] > 5:
            raise KeyboardInterrupt
        return real(*a, **k)
    monkeypatch.setattr(learn, "forward", forward)
    f = tmp_path / "t.csv"
    r = cg("minimize", ROSENBROCK, "a=-1.2", "b=1", "--method", "lbfgs", "--trace", str(f), "--format", "json")
    assert r.status == 130
    d = r.json()
    rows = list(csv.DictReader(open(f)))
    last = rows[-1]
    assert d["steps"] == int(last["step"]) and d["reason"] == "interrupted at step %d" % d["steps"]
    assert [d["params"]["a"], d["params"]["b"]] == [float(last["a"]), float(last["b"])]
    assert d["value"] == float(last["value"])
    a, b = d["params"]["a"], d["params"]["b"]
    assert d["value"] == pytest.approx((1 - a) ** 2 + 100 * (b - a * a) ** 2, rel=1e-15)
