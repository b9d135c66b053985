"""Forward mode: `--tangent NAME=VALUE`, core/forward.py's tangent sweep, `explain --mode forward`.

The output's tangent is the directional derivative along the direction: the
gradient's dot product with it (a property test), the central difference
(f(a + h d) - f(a - h d)) / 2h, and torch.func.jvp where PyTorch is installed.
"""

import json
import math
import os

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import cgcli
from cgcli.core.errors import CgraphError
from cgcli.core.forward import column_tangents, tangents
from cgcli.core.language import parse_program

SEED = ["eval", "(x+y)*z", "x=1", "y=3", "z=-3"]
ROWS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "samples", "rows.csv")


# ---- eval --tangent: the seed example by hand -----------------------------------
# p = x + y = 4, g = p*z = -12; along dx = 1, dz = 2: dp = 1, dg = dp*z + p*dz = -3 + 8 = 5

def test_plain_has_a_tangent_column(cg):
    r = cg(*SEED, "--tangent", "x=1", "--tangent", "z=2", "--format", "plain")
    assert r.status == 0, r.err
    assert r.out == ("id\tname\texpr\top\tvalue\tgrad\ttangent\n"
                     "0\tx\tx\tvar\t1\t-3\t1\n"
                     "1\ty\ty\tvar\t3\t-3\t0\n"
                     "2\t\tx + y\tadd\t4\t-3\t1\n"
                     "3\tz\tz\tvar\t-3\t4\t2\n"
                     "4\t\t(x + y) * z\tmul\t-12\t1\t5\n")


def test_plain_summary_has_a_tangent_line(cg):
    r = cg(*SEED, "--tangent", "y=0.5", "--summary", "--format", "plain")
    assert r.out == "value\t-12\ngrad_x\t-3\ngrad_y\t-3\ngrad_z\t4\ntangent\t-1.5\n"


def test_json_has_the_direction_the_tangent_and_each_nodes():
    from click.testing import CliRunner

    from cgcli.cli import cli
    r = CliRunner().invoke(cli, ["eval", "2*x + y", "x=1", "y=2", "--tangent", "x=1", "--format", "json"])
    assert r.exit_code == 0
    obj = json.loads(r.stdout)
    assert list(obj) == ["output", "value", "gradients", "direction", "tangent", "nodes"]
    assert obj["direction"] == {"x": 1.0} and obj["tangent"] == 2.0
    assert [(n["expr"], n["tangent"]) for n in obj["nodes"]] == [
        ("2", None), ("x", 1.0), ("2 * x", 2.0), ("y", 0.0), ("2 * x + y", 2.0)]
    # the library's to_dict is the same object
    res = cgcli.evaluate("2*x + y", {"x": 1, "y": 2}, tangent={"x": 1})
    assert res.to_dict() == obj


def test_json_without_tangent_is_unchanged(cg):
    obj = cg(*SEED, "--format", "json").json()
    assert "tangent" not in obj and all("tangent" not in n for n in obj["nodes"])


def test_table_and_tree_show_the_tangent(cg):
    r = cg(*SEED, "--tangent", "x=1", "--tangent", "z=2", "--format", "table")
    assert r.status == 0
    head = r.out.splitlines()[1].split()
    assert head == ["id", "name", "expression", "op", "value", "grad", "tangent"]
    assert [ln.split() for ln in r.out.splitlines() if ln.strip().startswith("4 ")] == [
        ["4", "(x", "+", "y)", "*", "z", "mul", "-12", "1", "5"]]  # the output's row
    assert "tangent = 5" in r.out
    t = cg(*SEED, "--tangent", "x=1", "--format", "tree")
    assert t.out.splitlines()[0] == "#4 (x + y) * z  mul  value=-12  grad=1  tangent=-3"
    assert "tangent = -3" in t.out.splitlines()[-1]
    s = cg(*SEED, "--tangent", "x=1", "--format", "table", "--summary")
    assert [ln.split() for ln in s.out.splitlines() if ln.strip().startswith("tangent")] == [["tangent", "-3"]]


# ---- bad --tangent -----------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--tangent", "q=1"], "error: --tangent: q is not an input of the program (inputs: x, y, z)"),
    (["--tangent", "x=1x"], "error: malformed --tangent 'x=1x': expected NAME=VALUE with a number, such as x=1"),
    (["--tangent", "x"], "error: malformed --tangent 'x': expected NAME=VALUE with a number, such as x=1"),
    (["--tangent", "x=1", "--tangent", "x=2"], "error: --tangent x is given twice (one tangent per input)"),
    (["--tangent", "x=inf"], "error: --tangent x=inf: a tangent is a finite number"),
    (["--tangent", "x=nan", "--nonfinite"], "error: --tangent x=nan: a tangent is a finite number"),
])
def test_bad_tangents_are_usage_errors(cg, args, message):
    r = cg(*SEED, *args)
    assert r.status == 2 and r.err.strip() == message and r.out == ""


def test_tangent_not_with_lines_or_dask(cg, tmp_path):
    f = tmp_path / "e.txt"
    f.write_text("x*2\n")
    r = cg("eval", "-f", str(f), "--lines", "x=1", "--tangent", "x=1")
    assert r.status == 2 and r.err.strip() == "error: --tangent goes with one evaluation or --data, not with --lines"
    r = cg("eval", "x", "--data", ROWS, "--engine", "dask", "-o", str(tmp_path / "o"), "--tangent", "x=1")
    assert r.status == 2 and r.err.strip() == "error: --tangent does not go with --engine dask"


def test_an_input_outside_the_cone_has_no_effect(cg):
    r = cg("eval", "a = x*y; b = 2*z; a", "x=2", "y=3", "z=1", "--tangent", "z=1", "--summary", "--format", "plain")
    assert r.status == 0 and r.out.endswith("tangent\t0\n")


# ---- kinks, domains, --nonfinite --------------------------------------------------

@pytest.mark.parametrize("expr, binds, direction, expected", [
    ("relu(x)", {"x": 0}, {"x": 1}, 0.0),  # relu'(0) = 0, as the backward pass
    ("abs(x)", {"x": 0}, {"x": 1}, 0.0),
    ("max(x, y)", {"x": 1, "y": 1}, {"x": 1}, 0.5),  # a tie shares equally
    ("max(x, y)", {"x": 1, "y": 1}, {"x": 1, "y": 1}, 1.0),
    ("x^y", {"x": 0, "y": 2}, {"x": 1, "y": 1}, 0.0),  # 0^y's guards
    ("x^0", {"x": 0}, {"x": 1}, 0.0),
    ("x*x*x", {"x": 2}, {"x": 1}, 12.0),
    ("x - y", {"x": 2, "y": 5}, {"x": 1, "y": 3}, -2.0),
    ("-x / y", {"x": 2, "y": 4}, {"x": 1, "y": 1}, -0.25 + 0.125),
    ("3", {}, {}, 0.0),
])
def test_tangent_conventions(expr, binds, direction, expected):
    r = cgcli.evaluate(expr, binds, tangent=direction)
    assert r.tangent == expected
    grad_dot = sum(r.gradients.get(k, 0.0) * t for k, t in direction.items())
    assert r.tangent == grad_dot


def test_domain_errors_are_the_forward_passes(cg):
    r = cg("eval", "sqrt(x) + y", "x=0", "y=1", "--tangent", "y=1")
    assert r.status == 1 and r.err.strip() == (
        "error: the derivative of sqrt(x) is infinite or undefined at x = 0 (--nonfinite lets inf and nan through)")
    r = cg("eval", "log(x)", "x=-1", "--tangent", "x=1")
    assert r.status == 1 and "log(x) is undefined at x = -1" in r.err


def test_nonfinite_tangents_follow_ieee(cg):
    r = cg("eval", "sqrt(x)", "x=0", "--tangent", "x=1", "--nonfinite", "--summary", "--format", "plain")
    assert r.status == 0 and r.out.splitlines()[-1] == "tangent\tinf"
    # a zero tangent times an infinite partial is nan, as the gradient's dot product is
    res = cgcli.evaluate("sqrt(x) + y", {"x": 0, "y": 1}, tangent={"y": 1}, nonfinite=True)
    assert math.isnan(res.tangent)


def test_a_tangent_that_overflows_is_an_error():
    with pytest.raises(CgraphError) as e:
        cgcli.evaluate("x * 1e300", {"x": 1}, tangent={"x": 1e300})
    assert e.value.status == 1 and e.value.message == (
        "the tangent of x * 1e+300 is inf (--nonfinite lets inf and nan through)")
    assert cgcli.evaluate("x * 1e300", {"x": 1}, tangent={"x": 1e300}, nonfinite=True).tangent == math.inf


# ---- the library ------------------------------------------------------------------

def test_api_tangents_per_node():
    r = cgcli.evaluate("p = x + y; g = p * z", {"x": 1, "y": 3, "z": -3}, tangent={"x": 1, "z": 2})
    assert (r.tangent, r.direction) == (5.0, {"x": 1.0, "z": 2.0})
    assert [(n.name, n.tangent) for n in r.nodes] == [("x", 1.0), ("y", 0.0), ("p", 1.0), ("z", 2.0), ("g", 5.0)]
    plain = cgcli.evaluate("x", {"x": 1})
    assert (plain.tangent, plain.tangents, plain.direction, plain.nodes[0].tangent) == (None, None, None, None)


def test_api_bad_direction():
    for bad, status in (({"q": 1}, 2), ({"x": math.inf}, 2), ({"x": "1"}, 2)):
        with pytest.raises(CgraphError) as e:
            cgcli.evaluate("x*y", {"x": 1, "y": 2}, tangent=bad)
        assert e.value.status == status


# ---- against central differences and the gradient ----------------------------------

SMOOTH = [
    ("tanh(w*x + b) * sigmoid(x)", {"w": 0.7, "x": -1.3, "b": 0.2}),
    ("log(1 + x^2) / sqrt(w^2 + 1) + exp(-b*x)", {"w": 0.7, "x": -1.3, "b": 0.2}),
    ("sin(x)*cos(w) - atan(b/x) + softplus(w - x)", {"w": 0.7, "x": -1.3, "b": 0.2}),
    ("h = tanh(w*x + b); h = tanh(w*h + x); h*h", {"w": 0.7, "x": -1.3, "b": 0.2}),
    ("x^w + 2^b + log10(w) * log2(x^2)", {"w": 0.7, "x": 1.3, "b": 0.2}),
]
DIRECTION = {"w": 0.5, "x": -1.0, "b": 2.0}


@pytest.mark.parametrize("expr, at", SMOOTH)
def test_tangent_is_the_central_difference(expr, at):
    r = cgcli.evaluate(expr, at, tangent=DIRECTION)
    h = 1e-6
    f = [cgcli.evaluate(expr, {k: v + s * h * DIRECTION[k] for k, v in at.items()}).value for s in (1, -1)]
    fd = (f[0] - f[1]) / (2 * h)
    assert math.isclose(r.tangent, fd, rel_tol=1e-6, abs_tol=1e-8)
    assert math.isclose(r.tangent, sum(r.gradients[k] * d for k, d in DIRECTION.items()), rel_tol=1e-12)


def test_tangent_is_torch_jvp():
    torch = pytest.importorskip("torch")
    from torch.func import jvp
    fns = {
        SMOOTH[0][0]: lambda w, x, b: torch.tanh(w * x + b) * torch.sigmoid(x),
        SMOOTH[1][0]: lambda w, x, b: torch.log(1 + x ** 2) / torch.sqrt(w ** 2 + 1) + torch.exp(-b * x),
        SMOOTH[2][0]: lambda w, x, b: (torch.sin(x) * torch.cos(w) - torch.atan(b / x)
                                       + torch.nn.functional.softplus(w - x)),
        "relu(x) + abs(w) + max(x, b)": lambda w, x, b: torch.relu(x) + torch.abs(w) + torch.maximum(x, b),
    }
    for at in ({"w": 0.7, "x": -1.3, "b": 0.2}, {"w": 0.0, "x": 0.0, "b": 1.0}):
        for expr, fn in fns.items():
            prim = tuple(torch.tensor(at[k], dtype=torch.float64) for k in ("w", "x", "b"))
            tan = tuple(torch.tensor(DIRECTION[k], dtype=torch.float64) for k in ("w", "x", "b"))
            _, want = jvp(fn, prim, tan)
            try:
                got = cgcli.evaluate(expr, at, tangent=DIRECTION).tangent
            except CgraphError:
                continue  # atan(b/x) at x = 0
            assert math.isclose(got, float(want), rel_tol=1e-12, abs_tol=1e-15), (expr, at)


# ---- property: the tangent is the gradient's dot product with the direction ------------

_leaf = st.one_of(st.sampled_from(["x", "y", "z"]), st.sampled_from(["0.5", "2", "3"]))


def _ops(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/"]), children).map(lambda t: "(%s %s %s)" % t),
        st.tuples(st.sampled_from(["sin", "cos", "tanh", "sigmoid", "exp", "atan", "relu", "abs", "softplus"]),
                  children).map(lambda t: "%s(%s)" % t),
        children.map(lambda c: "sqrt(1 + (%s)^2)" % c),
        st.lists(children, min_size=2, max_size=3).map(lambda cs: "max(%s)" % ", ".join(cs)),
        st.tuples(children, st.sampled_from(["2", "3"])).map(lambda t: "(%s)^%s" % t),
    )


_smooth_exprs = st.recursive(_leaf, _ops, max_leaves=10)
_num = st.floats(-2, 2, allow_nan=False)


@given(_smooth_exprs, st.fixed_dictionaries({"x": _num, "y": _num, "z": _num}),
       st.fixed_dictionaries({"x": _num, "y": _num, "z": _num}))
def test_tangent_is_the_gradients_dot_product(expr, at, direction):
    direction = {k: t for k, t in direction.items() if k in parse_program(expr).graph.inputs}
    try:
        r = cgcli.evaluate(expr, at, tangent=direction)
    except CgraphError:
        assume(False)
        return
    terms = [r.gradients[k] * t for k, t in direction.items()]
    scale = sum(map(abs, terms)) + sum(abs(n.tangent or 0.0) for n in r.nodes) * 1e-3
    assert abs(r.tangent - sum(terms)) <= 1e-9 * scale + 1e-300


@given(_smooth_exprs, st.lists(st.fixed_dictionaries({"x": _num, "y": _num, "z": _num}), min_size=1, max_size=5),
       st.fixed_dictionaries({"x": _num, "y": _num}))
def test_column_tangents_are_the_scalar_ones(expr, rows, direction):
    np = pytest.importorskip("numpy")
    from cgcli.core import columns
    from cgcli.core.passes import forward
    prog = parse_program(expr)
    g, _ = prog.cone()
    assume(all(name in "xyz" for name in g.inputs))
    cols = {k: np.array([r[k] for r in rows]) for k in "xyz"}
    with np.errstate(all="ignore"):
        v = columns.forward(np, g, cols, len(rows))
        ct = column_tangents(np, g, v, direction, len(rows))
    for j, row in enumerate(rows):
        try:
            st_ = tangents(g, forward(g, row), direction)
        except CgraphError:
            continue
        for i, t in enumerate(st_):
            if t is None:
                assert ct[i] is None
            else:
                assert math.isclose(float(ct[i][j]), t, rel_tol=1e-12, abs_tol=1e-300), (expr, i)


# ---- --data: a tangent field on every path ------------------------------------------

@pytest.mark.parametrize("fast", ["0", "1"])
def test_data_csv_tangent_on_both_paths(cg, fast, monkeypatch):
    monkeypatch.setenv("CGRAPH_FASTCSV", fast)
    r = cg("eval", "(x+y)*z", "--data", ROWS, "--tangent", "x=1", "--tangent", "z=2")
    assert r.status == 0, r.err
    assert r.out == ("x,y,z,value,grad_x,grad_y,grad_z,tangent\n"
                     "1,3,-3,-12.0,-3.0,-3.0,4.0,5.0\n"
                     "2,0.5,4,10.0,4.0,4.0,2.5,9.0\n"
                     "-1,-1,2.5,-5.0,2.5,2.5,-2.0,-1.5\n"
                     "0,0,0,0.0,0.0,0.0,0.0,0.0\n")


@pytest.mark.parametrize("fast", ["0", "1"])
def test_data_tangent_with_jobs_and_hessian(cg, fast, monkeypatch, tmp_path):
    monkeypatch.setenv("CGRAPH_FASTCSV", fast)
    f = tmp_path / "rows.csv"
    f.write_text("x,y\n" + "".join("%r,%r\n" % (0.01 * k - 3, 0.5 - 0.003 * k) for k in range(3000)))
    one = cg("eval", "tanh(x*y) + y^2", "--data", str(f), "--tangent", "y=-1", "--jobs", "1")
    two = cg("eval", "tanh(x*y) + y^2", "--data", str(f), "--tangent", "y=-1", "--jobs", "2")
    assert one.status == two.status == 0 and one.out == two.out
    lines = one.out.splitlines()
    assert lines[0] == "x,y,value,grad_x,grad_y,tangent"
    for line in lines[1:]:
        cells = [float(c) for c in line.split(",")]
        assert cells[-1] == -cells[4]  # the tangent along dy = -1 is -grad_y
    h = cg("eval", "x*y", "--data", ROWS, "--tangent", "y=1", "--hessian")
    assert h.out.splitlines()[0] == "x,y,z,value,grad_x,grad_y,hess_x_x,hess_x_y,hess_y_y,tangent"
    assert h.out.splitlines()[1] == "1,3,-3,3.0,3.0,1.0,0.0,1.0,0.0,1.0"


def test_data_tangent_jsonl_and_parquet(cg, tmp_path):
    r = cg("eval", "x*z", "--data", ROWS, "--tangent", "x=1", "--format", "jsonl")
    assert [json.loads(line)["tangent"] for line in r.out.splitlines()] == [-3.0, 4.0, 2.5, 0.0]
    pl = pytest.importorskip("polars")
    out = tmp_path / "o.parquet"
    r = cg("eval", "x*z", "--data", ROWS, "--tangent", "x=1", "-o", str(out))
    assert r.status == 0, r.err
    assert pl.read_parquet(out)["tangent"].to_list() == [-3.0, 4.0, 2.5, 0.0]


def test_data_column_named_tangent_clashes(cg, tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("x,tangent\n1,2\n")
    r = cg("eval", "x*2", "--data", str(f), "--tangent", "x=1")
    assert r.status == 2
    assert r.err.splitlines()[-1].startswith("error: column tangent of %s has the name of a field each record adds" % f)
    assert cg("eval", "x*2", "--data", str(f)).status == 0  # without --tangent it is an ordinary column


def test_data_bad_rows_still_reported(cg, tmp_path):
    f = tmp_path / "b.csv"
    f.write_text("x\n4\n-1\n9\n")
    r = cg("eval", "sqrt(x)", "--data", str(f), "--tangent", "x=1", "--skip-bad-rows")
    assert r.status == 1
    assert r.out == "x,value,grad_x,tangent\n4,2.0,0.25,0.25\n9,3.0,0.16666666666666666,0.16666666666666666\n"
    assert "line 3" in r.err


# ---- explain --mode forward -----------------------------------------------------------

def test_explain_forward_one_sweep_per_input(cg):
    r = cg("explain", "(x+y)*z", "x=1", "y=3", "z=-3", "--mode", "forward", "--wrt", "x", "--format", "plain")
    assert r.status == 0, r.err
    assert r.out == """p, g are names given here to results the program leaves unnamed.

Forward pass: each node's value from its inputs, inputs first:
  x = 1
  y = 3
  p = x + y = 1 + 3 = 4
  z = -3
  g = p * z = 4 * (-3) = -12

Forward mode, sweep 1 of 1, along dx = 1 (the other inputs' tangents 0): each node's tangent is the sum of local \
derivative * operand's tangent:
  dx = 1
  dy = 0
  dp = dx + dy = 1 + 0 = 1
  dz = 0
  dg = dp * z + p * dz = 1 * (-3) + 4 * 0 = -3
      where ∂g/∂p = z = -3
      where ∂g/∂z = p = 4

So g = -12; dg/dx = -3: 1 forward sweep, one per input (reverse mode: one backward sweep for all).
"""
    every = cg("explain", "(x+y)*z", "x=1", "y=3", "z=-3", "--mode", "forward", "--format", "plain").out
    assert every.count("Forward mode, sweep") == 3
    assert every.splitlines()[-1] == ("So g = -12; dg/dx = -3, dg/dy = -3, dg/dz = 4: 3 forward sweeps, one per "
                                      "input (reverse mode: one backward sweep for all).")


def test_explain_forward_along_a_direction(cg):
    r = cg("explain", "(x+y)*z", "x=1", "y=3", "z=-3", "--mode", "forward", "--tangent", "x=1", "--tangent", "z=2",
           "--format", "json")
    obj = r.json()
    assert obj["mode"] == "forward" and obj["directions"] == [{"x": 1.0, "z": 2.0}] and obj["tangents"] == [5.0]
    sweep = [s for s in obj["steps"] if s["pass"] == "tangent"]
    assert [(s["name"], s["tangent"]) for s in sweep] == [("x", 1.0), ("y", 0.0), ("p", 1.0), ("z", 2.0), ("g", 5.0)]
    assert sweep[-1]["text"][0] == "dg = dp * z + p * dz = 1 * (-3) + 4 * 2 = 5"
    assert [(t["input_name"], t["local"], t["local_formula"], t["product"]) for t in sweep[-1]["terms"]] == [
        ("p", -3.0, "z", -3.0), ("z", 4.0, "p", 8.0)]
    assert not [s for s in obj["steps"] if s["pass"] == "backward"]


def test_explain_forward_tangents_are_evals(cg):
    expr = "a = tanh(w*x - b/x); -a + max(x, w, 2) + relu(b) + x^2 + 2^x"
    binds = ["x=2", "w=2", "b=0"]
    obj = cg("explain", expr, *binds, "--mode", "forward", "--format", "json").json()
    r = cgcli.evaluate(expr, {"x": 2, "w": 2, "b": 0})
    assert [next(iter(d)) for d in obj["directions"]] == list(r.gradients) == ["w", "x", "b"]
    assert obj["tangents"] == pytest.approx(list(r.gradients.values()), rel=1e-15)
    plain = cg("explain", expr, *binds, "--mode", "forward", "--tangent", "b=1", "--format", "plain")
    assert plain.status == 0 and "relu has a kink at b = 0: both modes take relu'(0) = 0" in plain.out
    assert cg("explain", expr, *binds, "--mode", "forward", "--format", "table").status == 0


def test_explain_reverse_is_unchanged_and_refuses_a_tangent(cg):
    a = cg("explain", "(x+y)*z", "x=1", "y=3", "z=-3", "--format", "plain").out
    b = cg("explain", "(x+y)*z", "x=1", "y=3", "z=-3", "--format", "plain", "--mode", "reverse").out
    assert a == b and "Backward pass" in a
    r = cg("explain", "(x+y)*z", "x=1", "y=3", "z=-3", "--tangent", "x=1")
    assert r.status == 2 and r.err.strip() == "error: --tangent goes with --mode forward (reverse mode needs no direction)"


def test_explain_forward_of_a_constant(cg):
    r = cg("explain", "2*3", "--mode", "forward", "--format", "plain")
    assert r.status == 0 and r.out.splitlines()[-1] == "So g = 6; it depends on no input, and there is no sweep."


# ---- graph --tangent -------------------------------------------------------------------

def test_graph_shows_tangents(cg):
    tree = cg("graph", "(x+y)*z", "x=1", "y=3", "z=-3", "--tangent", "x=1", "--format", "tree").out
    assert tree.splitlines()[0] == "#4 (x + y) * z  mul  value=-12  grad=1  tangent=-3"
    obj = cg("graph", "(x+y)*z", "x=1", "y=3", "z=-3", "--tangent", "x=1", "--format", "json").json()
    assert list(obj) == ["output", "evaluated", "value", "gradients", "direction", "tangent", "nodes", "edges"]
    assert obj["tangent"] == -3.0 and [n["tangent"] for n in obj["nodes"]] == [1.0, 0.0, 1.0, 0.0, -3.0]
    dot = cg("graph", "(x+y)*z", "x=1", "y=3", "z=-3", "--tangent", "x=1", "--format", "dot").out
    assert dot.count("\\ntangent = ") == 5
    plain = cg("graph", "(x+y)*z", "x=1", "y=3", "z=-3", "--format", "json").json()
    assert "tangent" not in plain and "tangent" not in plain["nodes"][0]
    r = cg("graph", "(x+y)*z", "--tangent", "x=1")
    assert r.status == 2 and r.err.strip() == (
        "error: --tangent needs the inputs bound (NAME=VALUE): the tangents are computed at a point")


_words = st.sampled_from(["x=1", "y=-0.5", "z=1e308", "x=", "=1", "x=inf", "q=1", "x=1x", "é=1", "x=1_0", "pi=2",
                          "x=nan", "y=1e-320", "x= 2 ", "x==1", "1=1", "x=1e999", ""])


@given(st.lists(_words, max_size=4), st.sampled_from(["eval", "explain", "graph"]),
       st.sampled_from(["(x+y)*z", "log(x) + y/z", "relu(x - y) * max(y, z)"]), st.booleans())
def test_tangent_words_keep_the_contract(words, command, expr, nonfinite):
    from click.testing import CliRunner

    from cgcli.cli import cli
    args = [command, expr, "x=1", "y=2", "z=-1"] + [a for w in words for a in ("--tangent", w)]
    if command == "explain":
        args += ["--mode", "forward"]
    if nonfinite:
        args.append("--nonfinite")
    r = CliRunner().invoke(cli, args + ["--format", "json"])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert r.exit_code in (0, 1, 2)
    if r.exit_code:
        assert r.stderr.startswith("error: ") and "Traceback" not in r.stderr
    else:
        obj = json.loads(r.stdout)
        if words:
            assert "tangent" in obj or "tangents" in obj


@pytest.mark.parametrize("args, message", [
    (["eval", "u = x*y; v = x + y", "x=1", "y=2", "--output", "u,v", "--tangent", "x=1"],
     "error: --output u,v: several outputs do not go with --tangent (the tangent is of one output)"),
    (["eval", "u = x*y; v = x + y", "--data", "samples/rows.csv", "--output", "u,v", "--tangent", "x=1"],
     "error: --output u,v: several outputs do not go with --tangent (the tangent is of one output)"),
    (["explain", "u = x*y; v = x + y", "x=1", "y=2", "--output", "u,v", "--mode", "forward"],
     "error: --mode forward goes with one output (a tangent sweep is of one output)"),
    (["graph", "u = x*y; v = x + y", "x=1", "y=2", "--output", "u,v", "--tangent", "x=1"],
     "error: --tangent goes with one output (the tangent is of the output)"),
])
def test_tangent_takes_one_output(cg, args, message):
    r = cg(*args)
    assert r.status == 2
    assert r.err.strip() == message


def test_library_tangent_with_several_outputs_is_a_usage_error():
    import cgcli
    with pytest.raises(cgcli.UsageError, match="tangent goes with one output"):
        cgcli.evaluate("u = x*y; v = x + y", {"x": 1, "y": 2}, output=["u", "v"], tangent={"x": 1})
