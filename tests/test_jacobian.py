"""Several outputs (`--output u,v`): the Jacobian, one forward pass over the outputs'
shared tape and a backward pass per output; every command that takes them, every
format, the --data paths, the library, and the errors."""

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cgcli
from cgcli.core import jacobian
from cgcli.core.language import parse_program

PROG = "u = x*y + sin(x); v = exp(x - z) * y; w = u / (1 + v^2)"
AT = {"x": 0.7, "y": -1.3, "z": 0.4}


def central(text, out, at, name, h=1e-6):
    def f(b):
        return cgcli.evaluate(text, b, output=out).value
    up, down = dict(at), dict(at)
    up[name] += h
    down[name] -= h
    return (f(up) - f(down)) / (2 * h)


# ---- the core ---------------------------------------------------------------

def test_hand_computed_jacobian_and_node_gradients():
    r = jacobian.evaluate(parse_program("u = x*y; v = sin(x) + z; w = 3"), ["u", "v"], {"x": 1.0, "y": 2.0, "z": 3.0})
    assert r.value == {"u": 2.0, "v": math.sin(1) + 3}
    assert r.jacobian == {"u": {"x": 2.0, "y": 1.0, "z": 0.0}, "v": {"x": math.cos(1), "y": 0.0, "z": 1.0}}
    # the shared tape is the union of the two cones (w is left out); a node an output does
    # not depend on has no gradient for it
    assert r.graph.ops == ["var", "var", "mul", "sin", "var", "add"]
    assert r.grads["u"] == [2.0, 1.0, 1.0, None, None, None]
    assert r.grads["v"] == [math.cos(1), None, None, 1.0, 1.0, 1.0]


def test_jacobian_against_central_differences():
    r = cgcli.evaluate(PROG, AT, output=["u", "v", "w"])
    for out in ("u", "v", "w"):
        for name in AT:
            assert math.isclose(r.jacobian[out][name], central(PROG, out, AT, name), rel_tol=1e-6, abs_tol=1e-9)


def test_each_row_is_that_output_alone():
    r = cgcli.evaluate(PROG, AT, output="w,u")
    for out in ("w", "u"):
        one = cgcli.evaluate(PROG, AT, output=out)
        assert r.value[out] == one.value
        # the reported inputs are every input the outputs read; one that u does not read is 0
        assert r.jacobian[out] == {**{n: 0.0 for n in AT}, **one.gradients}


def test_against_torch_jacobian():
    torch = pytest.importorskip("torch")

    def f(t):
        x, y, z = t[0], t[1], t[2]
        u = x * y + torch.sin(x)
        v = torch.exp(x - z) * y
        w = u / (1 + v ** 2)
        return torch.stack([u, v, w])

    at = torch.tensor([AT["x"], AT["y"], AT["z"]], dtype=torch.float64)
    jt = torch.autograd.functional.jacobian(f, at)
    r = cgcli.evaluate(PROG, AT, output=["u", "v", "w"])
    for k, out in enumerate(("u", "v", "w")):
        for m, name in enumerate(("x", "y", "z")):
            assert math.isclose(r.jacobian[out][name], float(jt[k, m]), rel_tol=1e-12, abs_tol=1e-15)


@given(st.floats(-3, 3), st.floats(-3, 3), st.floats(0.1, 3))
def test_property_rows_match_single_outputs_and_differences(x, y, z):
    text = "a = x*y - z; b = tanh(a) * x + sqrt(z); c = a * b"
    at = {"x": x, "y": y, "z": z}
    r = cgcli.evaluate(text, at, output=["c", "a", "b"])
    for out in ("a", "b", "c"):
        one = cgcli.evaluate(text, at, output=out)
        assert r.jacobian[out] == {**{n: 0.0 for n in at}, **one.gradients} and r.value[out] == one.value
    for name in at:
        fd = central(text, "c", at, name, h=1e-5)
        assert math.isclose(r.jacobian["c"][name], fd, rel_tol=1e-5, abs_tol=1e-6)


# ---- eval, one evaluation -------------------------------------------------------

SEED = ["eval", "u = x*y; v = sin(x) + z; w = 3", "x=1", "y=2", "z=3"]


def test_eval_json_shape(cg):
    r = cg(*SEED, "--output", "v,u", "--format", "json")
    assert r.status == 0
    d = r.json()
    assert list(d) == ["outputs", "values", "jacobian", "nodes"]
    assert d["outputs"] == ["v", "u"]
    assert d["values"] == {"v": math.sin(1) + 3, "u": 2.0}
    assert d["jacobian"] == {"v": {"x": math.cos(1), "y": 0.0, "z": 1.0}, "u": {"x": 2.0, "y": 1.0, "z": 0.0}}
    by = {n["expr"]: n for n in d["nodes"]}
    assert by["x"]["grad"] == {"v": math.cos(1), "u": 2.0}
    assert by["y"]["grad"] == {"v": None, "u": 1.0}
    assert by["sin(x)"]["grad"] == {"v": 1.0, "u": None}
    assert r.out.count("\n") == len(d["nodes"]) + 2  # a node per line


def test_the_option_repeated_is_the_comma_list(cg):
    assert cg(*SEED, "--output", "v", "--output", "u", "--format", "json").out == \
        cg(*SEED, "--output", " v , u ", "--format", "json").out


def test_one_output_keeps_todays_shape(cg):
    one = cg(*SEED, "--output", "u", "--format", "json").json()
    assert list(one) == ["output", "value", "gradients", "nodes"]
    assert one["gradients"] == {"x": 2.0, "y": 1.0}


def test_eval_plain_and_summary(cg):
    r = cg(*SEED, "--output", "u,v", "--format", "plain")
    assert r.out.splitlines()[0] == "id\tname\texpr\top\tvalue\tgrad_u\tgrad_v"
    assert r.out.splitlines()[1] == "0\tx\tx\tvar\t1\t2\t%r" % math.cos(1)
    assert r.out.splitlines()[3] == "2\tu\tx * y\tmul\t2\t1\t"
    s = cg(*SEED, "--output", "u,v", "--format", "plain", "--summary", "--wrt", "x,z")
    assert s.out == "value_u\t2\nvalue_v\t%r\ngrad_u_x\t2\ngrad_u_z\t0\ngrad_v_x\t%r\ngrad_v_z\t1\n" % (
        math.sin(1) + 3, math.cos(1))
    j = cg(*SEED, "--output", "u,v", "--format", "json", "--summary").json()
    assert j["nodes"] == [] and j["jacobian"]["u"] == {"x": 2.0, "y": 1.0, "z": 0.0}


def test_eval_table_and_tree(cg):
    t = cg(*SEED, "--output", "u,v", "--format", "table")
    assert t.status == 0
    head = t.out.splitlines()[1].split()
    assert head == ["id", "name", "expression", "op", "value", "grad_u", "grad_v"]
    assert "∂u/∂x = 2" in t.out and "∂v/∂z = 1" in t.out
    s = cg(*SEED, "--output", "u,v", "--format", "table", "--summary")
    assert "Jacobian" in s.out and "∂/∂x" in s.out
    tree = cg(*SEED, "--output", "u,v", "--format", "tree").out
    assert "#2 u = x * y  mul  value=2  grad_u=1" in tree
    assert "#5 v = sin(x) + z  add  value=3.84147  grad_v=1" in tree
    assert "#0 x  var  value=1  grad_u=2  grad_v=0.540302" in tree


@pytest.mark.parametrize("args, message", [
    (["--output", "u,q"], "error: --output: the program has no name 'q' (names: u, v, w, x, y, z)"),
    (["--output", "u,u"], "error: --output: u is named twice"),
    (["--output", "u", "--output", "u"], "error: --output: u is named twice"),
    (["--output", "u,"], "error: --output 'u,': an empty name in the list (give NAME or A,B,...)"),
    (["--output", ""], "error: --output '': an empty name in the list (give NAME or A,B,...)"),
    (["--output", "u,v", "--hessian"], "error: --output u,v: several outputs do not go with --hessian"),
])
def test_usage_errors(cg, args, message):
    r = cg(*SEED, *args)
    assert (r.status, r.err.strip(), r.out) == (2, message, "")


def test_commands_that_take_one_output_say_so(cg):
    r = cg("check", "u = x*y; v = x + y", "x=1", "y=2", "--output", "u,v")
    assert r.status == 2
    assert r.err.strip() == ("error: --output u,v: check takes one output "
                             "(several go with eval, graph, explain and diff)")
    r = cg("eval", "u = x*y; v = x + y", "--data", "samples/rows.csv", "--output", "u,v", "--engine", "dask")
    assert r.status == 2 and "--engine dask takes one output" in r.err


def test_a_domain_error_of_one_output_is_an_evaluation_error(cg):
    r = cg("eval", "u = x*y; v = log(x - 1)", "x=1", "y=2", "--output", "u,v")
    assert r.status == 1
    assert r.err.strip() == "error: log(x - 1) divides by zero at x - 1 = 0 (--nonfinite lets inf and nan through)" \
        or r.err.startswith("error: log(x - 1)")


def test_derivative_outside_an_outputs_cone_is_never_taken(cg):
    # sqrt's derivative at 0 is infinite: only v depends on it, so u's gradients are fine
    r = cg("eval", "u = x*y; v = sqrt(x)", "x=0", "y=2", "--output", "u", "--format", "json")
    assert r.status == 0
    r = cg("eval", "u = x*y; v = sqrt(x) + y", "x=0", "y=2", "--output", "u,v")
    assert r.status == 1 and "sqrt" in r.err


# ---- --data ---------------------------------------------------------------------

DATA = ["eval", "u = (x+y)*z; v = sin(x)*y", "--data", "samples/rows.csv", "--output", "u,v"]


def test_data_records_carry_value_and_grad_fields(cg):
    r = cg(*DATA)
    lines = r.out.splitlines()
    assert lines[0] == "x,y,z,value_u,value_v,grad_u_x,grad_u_y,grad_u_z,grad_v_x,grad_v_y,grad_v_z"
    assert lines[1] == ",".join(["1", "3", "-3", "-12.0", repr(math.sin(1) * 3), "-3.0", "-3.0", "4.0",
                                 repr(math.cos(1) * 3), repr(math.sin(1)), "0.0"])
    assert r.status == 0 and len(lines) == 5


@pytest.mark.parametrize("extra", [[], ["--jobs", "2"], ["--wrt", "y"], ["--format", "jsonl"], ["--keep", "x"]])
def test_data_fast_and_exact_paths_agree(cg, extra):
    fast = cg(*DATA, *extra, env={"CGRAPH_FASTCSV": "1"})
    exact = cg(*DATA, *extra, env={"CGRAPH_FASTCSV": "0"})
    assert fast.status == exact.status == 0
    assert fast.out == exact.out


def test_data_matches_one_evaluation_per_row(cg):
    r = cg(*DATA, "--format", "jsonl")
    for line in r.out.splitlines():
        rec = json.loads(line)
        one = cgcli.evaluate("u = (x+y)*z; v = sin(x)*y", {k: rec[k] for k in "xyz"}, output=["u", "v"])
        assert rec["value_u"] == one.value["u"] and rec["value_v"] == one.value["v"]
        assert all(rec["grad_%s_%s" % (o, n)] == one.jacobian[o][n] for o in "uv" for n in "xyz")


def test_data_parquet_output(cg, tmp_path):
    pl = pytest.importorskip("polars")
    out = tmp_path / "j.parquet"
    assert cg(*DATA, "-o", str(out)).status == 0
    df = pl.read_parquet(out)
    assert df.columns[3:] == ["value_u", "value_v", "grad_u_x", "grad_u_y", "grad_u_z",
                              "grad_v_x", "grad_v_y", "grad_v_z"]
    assert df["value_u"].to_list() == [-12.0, 10.0, -5.0, 0.0]


def test_data_bad_row_names_the_line(cg):
    r = cg("eval", "u = (x+y)*z; v = log(x)*y", "--data", "samples/rows.csv", "--output", "u,v")
    assert r.status == 1
    assert r.err.strip() == "error: samples/rows.csv line 4: log(x) is undefined at x = -1 " \
                            "(--nonfinite lets inf and nan through)"
    assert len(r.out.splitlines()) == 3  # the header and the two rows before it


def test_data_field_clash_is_a_usage_error(cg, tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("x,value_u\n1,2\n")
    r = cg("eval", "u = x*2; v = x+1", "--data", str(f), "--output", "u,v")
    assert r.status == 2 and "column value_u" in r.err
    r = cg("eval", "a = x*y; a_x = x + y", "x=1", "y=2", "--data", "samples/rows.csv", "--output", "a,a_x")
    assert r.status == 2


def test_lines_with_several_outputs_is_a_usage_error(cg):
    r = cg("eval", "-f", "samples/exprs.txt", "--lines", "x=1", "y=2", "--output", "u,v")
    assert r.status == 2 and "--lines" in r.err


# ---- graph, explain, diff -----------------------------------------------------------

def test_graph_formats(cg):
    args = ["graph", "u = x*y; v = sin(x) + z", "x=1", "y=2", "z=3", "--output", "u,v"]
    d = cg(*args, "--format", "json").json()
    assert d["outputs"] == ["u", "v"] and d["output_ids"] == [2, 5] and d["evaluated"] is True
    assert d["jacobian"]["v"] == {"x": math.cos(1), "y": 0.0, "z": 1.0}
    assert d["nodes"][0]["grad"] == {"u": 2.0, "v": math.cos(1)}
    dot = cg(*args, "--format", "dot").out
    assert dot.count("penwidth=2") == 2 and "grad_u = 2\\ngrad_v = 0.540302" in dot
    mermaid = cg(*args, "--format", "mermaid").out
    assert "  class n2,n5 output" in mermaid
    tree = cg(*args, "--format", "tree").out
    assert tree.splitlines()[0] == "#2 u = x * y  mul  value=2  grad_u=1"
    structure = cg("graph", "u = x*y; v = sin(x) + z", "--output", "u,v", "--format", "json").json()
    assert structure["evaluated"] is False and structure["nodes"][0]["grad"] == {"u": None, "v": None}


def test_explain_a_backward_section_per_output(cg):
    r = cg("explain", "u = x*y; v = sin(x*y) + z", "x=1", "y=2", "z=3", "--output", "u,v", "--format", "plain")
    assert r.status == 0
    out = r.out
    assert out.count("Forward pass") == 1
    assert "Backward pass for u: from du/du = 1" in out and "Backward pass for v: from dv/dv = 1" in out
    assert "  du/dx = du/du * ∂u/∂x = 1 * 2 = 2" in out
    assert "  dv/dx = dv/du * ∂u/∂x = %r * 2 = %r" % (math.cos(2), 2 * math.cos(2)) in out
    assert out.rstrip().endswith("dv/dz = 1.")
    j = cg("explain", "u = x*y; v = sin(x*y) + z", "x=1", "y=2", "z=3", "--output", "u,v", "--format", "json").json()
    assert [s.get("output") for s in j["steps"] if s["pass"] == "backward"][:1] == ["u"]
    assert j["jacobian"]["u"] == {"x": 2.0, "y": 1.0, "z": 0.0}


def test_diff_a_derivative_per_output_and_input(cg):
    r = cg("diff", "u = x^2*y; v = exp(x*y)", "--output", "u,v")
    assert r.out == "du_dx = 2*x*y\ndu_dy = x^2\ndv_dx = y*exp(x*y)\ndv_dy = x*exp(x*y)\n"
    assert cg("diff", "u = x^2*y; v = exp(x*y)", "--output", "u,v", "--wrt", "x", "--order", "2").out == \
        "d2u_dx2 = 2*y\nd2v_dx2 = y^2*exp(x*y)\n"
    # the text parses again, and its values are the Jacobian
    back = cgcli.evaluate(r.out, {"x": 0.5, "y": 1.5}, output=["du_dx", "dv_dy"]).value
    j = cgcli.evaluate("u = x^2*y; v = exp(x*y)", {"x": 0.5, "y": 1.5}, output="u,v").jacobian
    assert math.isclose(back["du_dx"], j["u"]["x"]) and math.isclose(back["dv_dy"], j["v"]["y"])
    assert cgcli.differentiate("u = x^2*y; v = exp(x*y)", output=["u", "v"]) == r.out.rstrip("\n")


# ---- the library ------------------------------------------------------------------

def test_api_evaluate_and_to_dict():
    r = cgcli.evaluate("u = x*y; v = x + y", {"x": 2, "y": 5}, output=["u", "v"])
    assert isinstance(r, cgcli.Jacobian)
    assert r.to_dict(summary=True) == {"outputs": ["u", "v"], "values": {"u": 10.0, "v": 7.0},
                                       "jacobian": {"u": {"x": 5.0, "y": 2.0}, "v": {"x": 1.0, "y": 1.0}},
                                       "nodes": []}
    assert isinstance(cgcli.evaluate("u = x*y; v = x + y", {"x": 2, "y": 5}, output=["u"]), cgcli.Result)
    with pytest.raises(cgcli.UsageError, match="named twice"):
        cgcli.evaluate("u = x*y; v = x + y", {"x": 2, "y": 5}, output="u,u")


def test_api_columns():
    res = cgcli.columns("u = x*y; v = log(x) + y", {"x": [1.0, 0.0, 2.0], "y": 3}, output=["u", "v"])
    assert list(res) == ["value_u", "value_v", "grad_u_x", "grad_u_y", "grad_v_x", "grad_v_y"]
    assert res.outputs == ["u", "v"]
    assert res.output_values["u"].tolist() == [3.0, 0.0, 6.0]
    assert res.jacobian["v"]["x"].tolist()[::2] == [1.0, 0.5]
    assert res.errors == [(1, "log(x) is undefined at x = 0 (--nonfinite lets inf and nan through)")]
    with pytest.raises(cgcli.UsageError, match="hessian"):
        cgcli.columns("u = x*y; v = x", {"x": [1.0], "y": [2.0]}, output="u,v", hessian=True)


@pytest.mark.parametrize("mode", ["0", "1"])
def test_data_jobs_give_one_jobs_records(cg, mode):
    one = cg(*DATA, env={"CGRAPH_FASTCSV": mode})
    two = cg(*DATA, "--jobs", "2", env={"CGRAPH_FASTCSV": mode})
    assert one.status == two.status == 0 and one.out == two.out


def test_data_json_lines_input(cg):
    r = cg("eval", "u = (x+y)*z; v = sin(x)*y", "--data", "samples/rows.jsonl", "--output", "u,v", "--format", "jsonl")
    assert r.status == 0
    first = json.loads(r.out.splitlines()[0])
    assert list(first)[-8:] == ["value_u", "value_v", "grad_u_x", "grad_u_y", "grad_u_z",
                                "grad_v_x", "grad_v_y", "grad_v_z"]
    assert first["value_u"] == -12.0 and first["grad_v_x"] == math.cos(1) * 3
