"""`cgraph check`: backward-pass gradients against central finite differences."""

import json

import pytest
from click.testing import CliRunner

from cgcli.cli import cli
from cgcli.core import primitives

SEED = ["(x+y)*z", "x=1", "y=3", "z=-3"]


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input)


def check_json(*args, status=0):
    r = run("check", *args, "--format", "json")
    assert r.exit_code == status, (r.stdout, r.stderr)
    obj = json.loads(r.stdout)
    return obj, {c["name"]: c for c in obj["inputs"]}, r


def test_seed_example_passes():
    r = run("check", *SEED)
    assert r.exit_code == 0 and r.stderr == ""
    lines = r.stdout.splitlines()
    assert lines[0] == "input\tvalue\tgrad\tfd\trel_error\tstatus\tmethod\tnote"
    rows = [ln.split("\t") for ln in lines[1:]]
    assert [(row[0], row[1], row[2], row[5], row[6]) for row in rows] == [
        ("x", "1", "-3", "ok", "central"), ("y", "3", "-3", "ok", "central"), ("z", "-3", "4", "ok", "central")]
    for row in rows:
        assert float(row[3]) == pytest.approx(float(row[2]), rel=1e-8)
        assert float(row[4]) <= 1e-5


def test_table_format():
    r = run("check", *SEED, "--format", "table")
    assert r.exit_code == 0
    for word in ("input", "backward pass", "finite difference", "rel. error", "status"):
        assert word in r.stdout
    assert "rtol 1e-05" in r.stdout and "ok" in r.stdout


@pytest.mark.parametrize("args", [
    ["log(x) * sin(y) + exp(-x*y)", "x=0.5", "y=2"],
    ["tanh(w*x + b)", "w=0.5", "x=2", "b=-1"],
    ["x^y + y^x", "x=1.3", "y=2.1"],
    ["sqrt(x^2 + y^2) + atan(x/y)", "x=3", "y=-4"],
    ["sigmoid(x) * softplus(y) - cosh(x)/sinh(y)", "x=-0.7", "y=1.2"],
    ["asin(x/2) + acos(x/3) + tan(x) + log2(x) + log10(x)", "x=0.9"],
    ["max(x, y, 1) - min(x, 2*y) + abs(x - y) + relu(y)", "x=1.5", "y=3"],
    ["h = 0; h = tanh(w*h + a); h = tanh(w*h + b); h = tanh(w*h + c)", "w=0.7", "a=1", "b=-2", "c=0.5"],
    ["x^4", "x=1000"],
    ["exp(x) * 1e-300", "x=2"],
    ["sin(x)^2 + cos(x)^2", "x=0.7"],  # gradient 0: the absolute floor
])
def test_correct_gradients_pass(args):
    obj, by, r = check_json(*args)
    assert obj["ok"] is True and obj["failed"] == []
    assert all(c["status"] == "ok" for c in by.values()), by
    assert r.stderr == ""


def test_step_scales_with_the_input():
    obj, by, _ = check_json("x*y", "x=1000", "y=0.5")
    assert by["x"]["h"] == pytest.approx(1e-3) and by["y"]["h"] == pytest.approx(1e-6)
    obj, by, _ = check_json("x*y", "x=1000", "y=0.5", "--eps", "1e-4")
    assert by["x"]["h"] == pytest.approx(1e-1) and obj["eps"] == 1e-4


def test_broken_derivative_rule_fails(monkeypatch):
    row = primitives.PRIMITIVES["sin"]
    monkeypatch.setitem(primitives.PRIMITIVES, "sin", row._replace(d=lambda m, x, o: m.cos(x) * 1.01))
    r = run("check", "sin(x) * y", "x=0.5", "y=2")
    assert r.exit_code == 1
    assert r.stderr.startswith("error: gradient check failed for x (x: backward pass ")
    assert "relative error 9.9e-03 > rtol 1e-05" in r.stderr
    rows = {ln.split("\t")[0]: ln.split("\t") for ln in r.stdout.splitlines()[1:]}
    assert rows["x"][5] == "fail" and rows["y"][5] == "ok"
    obj, by, _ = check_json("sin(x) * y", "x=0.5", "y=2", status=1)
    assert obj["ok"] is False and obj["failed"] == ["x"]
    assert by["x"]["rel_error"] == pytest.approx(0.01 / 1.01, rel=1e-3)


def test_broken_product_rule_fails(monkeypatch):
    row = primitives.PRIMITIVES["mul"]
    monkeypatch.setitem(primitives.PRIMITIVES, "mul", row._replace(d=(1.0, 1.0)))
    r = run("check", *SEED)
    assert r.exit_code == 1
    assert r.stderr.startswith("error: gradient check failed for x, y, z (")


def test_broken_rule_at_a_kink_is_caught(monkeypatch):
    row = primitives.PRIMITIVES["relu"]
    monkeypatch.setitem(primitives.PRIMITIVES, "relu", row._replace(d=lambda m, x, o: 5.0))
    obj, by, r = check_json("relu(x)", "x=0", status=1)
    assert by["x"]["status"] == "fail"
    assert "outside the one-sided derivatives" in by["x"]["notes"][0]


def test_rtol_and_eps():
    # with h = 1e-3 the central difference of exp is off by h^2/6, about 1.7e-7
    r = run("check", "exp(x)", "x=1", "--eps", "1e-3", "--rtol", "1e-8")
    assert r.exit_code == 1 and "relative error 1.7e-07 > rtol 1e-08" in r.stderr
    assert run("check", "exp(x)", "x=1", "--eps", "1e-3", "--rtol", "1e-6").exit_code == 0


def test_rtol_below_the_rounding_noise_is_not_a_failure():
    obj, by, _ = check_json("exp(x)", "x=1", "--rtol", "1e-14", "--atol", "0")
    assert by["x"]["status"] == "ok"
    assert "finite differences are imprecise here" in by["x"]["notes"][0]


# ---- kinks and domain edges ----------------------------------------------------

def test_kink_is_reported_not_failed():
    obj, by, r = check_json("relu(x) + x*y", "x=0", "y=2")
    x = by["x"]
    assert x["status"] == "kink" and x["grad"] == 2
    assert x["fd"] == pytest.approx(2.5) and x["left"] == pytest.approx(2) and x["right"] == pytest.approx(3)
    assert x["notes"][0].startswith("at a kink, relu(x) at x = 0: the derivative there is a convention")
    assert by["y"]["status"] == "ok"
    assert obj["ok"] is True
    assert r.stderr.startswith("warning: x is not verified (kink): at a kink, relu(x) at x = 0")


def test_strict_makes_a_kink_fail():
    r = run("check", "relu(x)", "x=0", "--strict")
    assert r.exit_code == 1
    assert "error: gradient check failed for x (x: kink, not verified, with --strict)" in r.stderr


def test_kink_where_the_central_difference_agrees():
    obj, by, r = check_json("abs(x) + max(a, b)", "x=0", "a=1", "b=1")
    assert all(c["status"] == "ok" for c in by.values())
    assert "at a kink, abs(x) at x = 0: the central difference agrees" in by["x"]["notes"][0]
    assert "max(a, b) with a tie (a = b = 1)" in by["a"]["notes"][0]
    assert r.stderr == ""


def test_kink_nearby_uses_a_smaller_step():
    obj, by, _ = check_json("relu(x)", "x=1e-7")
    x = by["x"]
    assert x["status"] == "ok" and x["fd"] == pytest.approx(1) and x["h"] < 1e-7
    assert x["notes"][0].startswith("kink nearby: relu(x) at x = 1e-07 changes branch between x and x - h")


def test_domain_edge_is_reported():
    obj, by, _ = check_json("sqrt(x) + log(y - 1)", "x=1e-7", "y=1.0000001")
    for name, what in (("x", "sqrt(x) is undefined"), ("y", "log(y - 1) is undefined")):
        c = by[name]
        assert c["status"] == "ok", c
        assert c["notes"][0].startswith("domain edge: the output is undefined at %s - h" % name)
        assert what in c["notes"][0]
        assert c["notes"][1].startswith("used a smaller step")


def test_at_the_domain_edge_it_is_unchecked():
    obj, by, r = check_json("x^1.5", "x=0")
    assert by["x"]["status"] == "unchecked" and by["x"]["method"] == "forward"
    assert "x is at the edge" in " ".join(by["x"]["notes"])
    assert "warning: x is not verified (unchecked)" in r.stderr
    assert run("check", "x^1.5", "x=0", "--strict").exit_code == 1


def test_large_output_widens_the_tolerance_and_says_so():
    obj, by, _ = check_json("exp(20) + x", "x=0")
    assert by["x"]["status"] == "ok"
    assert "finite differences are imprecise here" in by["x"]["notes"][0]


# ---- errors and edges of the command ----------------------------------------------

def test_domain_error_at_the_point_is_an_evaluation_error():
    r = run("check", "log(x)", "x=0")
    assert r.exit_code == 1 and r.stderr.startswith("error: log(x) is undefined")


def test_usage_errors():
    for bad in (["--eps", "0"], ["--rtol", "-1"], ["--format", "svg"]):
        r = run("check", "x", "x=1", *bad)
        assert r.exit_code == 2 and r.stderr.startswith("error: "), bad
    r = run("check", "x", "x=1", "--wrt", "q")
    assert r.exit_code == 2 and "--wrt: q is not an input" in r.stderr


def test_wrt_limits_the_inputs():
    obj, by, _ = check_json(*SEED, "--wrt", "z")
    assert list(by) == ["z"] and obj["gradients"] == {"z": 4}


def test_nothing_to_check():
    r = run("check", "2 + 3")
    assert r.exit_code == 0
    assert "warning: nothing to check: the output depends on no input" in r.stderr


def test_help_has_examples():
    r = run("check", "--help")
    assert r.exit_code == 0 and "Examples:" in r.stdout
    assert 'cgraph check "(x+y)*z" x=1 y=3 z=-3' in r.stdout and "Exit status" in r.stdout


@pytest.mark.slow
def test_deep_graph():
    n = 100_000
    r = run("check", "-f", "-", "x=0.3", "--format", "json", input="sin(" * n + "x" + ")" * n)
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["inputs"][0]["status"] == "ok"
