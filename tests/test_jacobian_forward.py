"""The Jacobian of several outputs by forward mode (core/jacobian.py `use_forward`):
one tangent sweep per reported input when fewer inputs are reported than there are
outputs. Agrees with reverse mode to a few ulps; bad rows and errors as reverse mode's."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cgcli
from cgcli.core import columns as batch
from cgcli.core import forward, jacobian, passes
from cgcli.core.language import parse_program

# 2 inputs, 6 outputs
PROG = ("a = x*y + sin(x); b = exp(x - y) * y; c = a / (1 + b^2); d = sqrt(x*x + y*y); "
        "g = log(1 + x*x) - tanh(y); f = x^3 * y")
OUTS = ["a", "b", "c", "d", "g", "f"]


@pytest.fixture
def sweeps(monkeypatch):
    """Counts the tangent sweeps and the backward sweeps (scalar and over columns)."""
    n = {"tangent": 0, "backward": 0}

    def counted(kind, fn):
        def run(*a, **k):
            n[kind] += 1
            return fn(*a, **k)
        return run
    monkeypatch.setattr(forward, "tangents", counted("tangent", forward.tangents))
    monkeypatch.setattr(forward, "column_sweep", counted("tangent", forward.column_sweep))
    monkeypatch.setattr(passes, "backward", counted("backward", passes.backward))
    monkeypatch.setattr(batch, "backward", counted("backward", batch.backward))
    return n


def test_use_forward_rule():
    g = jacobian.Outputs(parse_program(PROG), OUTS).graph
    assert jacobian.use_forward(g, 6, ["x", "y"])
    assert not jacobian.use_forward(g, 2, ["x", "y"])  # as many inputs as outputs: reverse
    assert not jacobian.use_forward(g, 6, [])  # nothing to sweep: reverse


def test_forward_mode_is_taken_for_the_columns(sweeps):
    data = {"x": np.linspace(0.1, 2, 50), "y": np.linspace(-1, 1, 50)}
    r = cgcli.columns(PROG, data, output=OUTS)
    assert sweeps == {"tangent": 2, "backward": 0}  # one chunk: one sweep per input
    r2 = cgcli.columns(PROG, data, output=OUTS, wrt="x")
    assert sweeps == {"tangent": 3, "backward": 0}
    np.testing.assert_allclose(r2["grad_c_x"], r["grad_c_x"], rtol=0, atol=0)
    cgcli.columns(PROG, data, output=["a", "b"])  # 2 inputs, 2 outputs: reverse
    assert sweeps == {"tangent": 3, "backward": 2}


def test_forward_mode_for_summary_and_library(sweeps, cg):
    r = cgcli.evaluate(PROG, {"x": 0.7, "y": -1.3}, output=OUTS)
    assert sweeps == {"tangent": 2, "backward": 0}
    assert r.mode == "forward"
    # hand-computed entries
    assert r.jacobian["f"]["x"] == pytest.approx(3 * 0.7 ** 2 * -1.3, rel=1e-15)
    assert r.jacobian["d"]["y"] == pytest.approx(-1.3 / math.hypot(0.7, -1.3), rel=1e-15)
    g = r.grads  # the per-node gradients: the backward passes on first use
    assert sweeps == {"tangent": 2, "backward": 6}
    assert g["a"][r.graph.inputs["x"]] == pytest.approx(r.jacobian["a"]["x"], rel=1e-15)
    out = cg("eval", PROG, "x=0.7", "y=-1.3", "--output", ",".join(OUTS), "--summary", "--format", "plain")
    assert out.status == 0
    assert sweeps["tangent"] == 4 and sweeps["backward"] == 6
    # the node table needs every node's gradient: reverse mode
    cg("eval", PROG, "x=0.7", "y=-1.3", "--output", ",".join(OUTS), "--format", "plain")
    assert sweeps["tangent"] == 4 and sweeps["backward"] == 12


finite = st.floats(-3, 3, allow_nan=False)


@given(st.lists(st.tuples(st.floats(0.05, 3), finite), min_size=1, max_size=20))
def test_forward_agrees_with_reverse(points):
    """Tolerance: relative 1e-12 plus absolute 1e-13. The same products of local partials
    (the entries here are sums of terms of size up to ~30), summed in another order: a
    few ulps of the terms apart, which is more than a few ulps of an entry where the
    terms cancel (d a / d x = y + cos(x) near 0)."""
    x = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    outs = jacobian.Outputs(parse_program(PROG), OUTS)
    args = (outs.graph, outs.cones, outs.ids, ["x", "y"], {"x": x, "y": y}, len(x))
    vf, jf, _ = jacobian.jacobian_columns(*args, mode="forward")
    vr, jr, _ = jacobian.jacobian_columns(*args, mode="reverse")
    for o in outs.ids:
        np.testing.assert_array_equal(vf[o], vr[o])
    for rowf, rowr in zip(jf, jr):
        for a, b in zip(rowf, rowr):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    for i, (xi, yi) in enumerate(points[:3]):  # the scalar passes, both modes
        f = jacobian.evaluate(parse_program(PROG), OUTS, {"x": xi, "y": yi}, mode="auto")
        r = jacobian.evaluate(parse_program(PROG), OUTS, {"x": xi, "y": yi})
        assert f.mode == "forward" and r.mode == "reverse"
        for u in OUTS:
            for v in "xy":
                assert math.isclose(f.jacobian[u][v], r.jacobian[u][v], rel_tol=1e-12, abs_tol=1e-13)
                assert math.isclose(f.jacobian[u][v], jr[OUTS.index(u)]["xy".index(v)][i],
                                    rel_tol=1e-12, abs_tol=1e-13)


# a domain error (log of a negative), a non-finite derivative in only one output's cone
# (sqrt at 0 in q), a kink (abs, relu at 0)
BAD = "p = log(x) + y; q = sqrt(y) * x; r = abs(x) + relu(y); s = exp(x * 100); t = x + y"
BAD_OUTS = ["p", "q", "r", "s", "t"]
BAD_DATA = {"x": [1.0, -1.0, 2.0, 0.0, 1.0, 0.5], "y": [0.0, 1.0, 4.0, 0.0, 2.0, -1.0]}


def test_bad_rows_as_in_reverse_mode(monkeypatch, sweeps):
    f = cgcli.columns(BAD, BAD_DATA, output=BAD_OUTS)
    assert sweeps["tangent"] == 2  # (the bad rows' messages: the scalar reverse passes)
    forward_errors = f.errors
    monkeypatch.setattr(jacobian, "use_forward", lambda *a: False)
    before = sweeps["backward"]
    r = cgcli.columns(BAD, BAD_DATA, output=BAD_OUTS)
    assert sweeps["tangent"] == 2 and sweeps["backward"] >= before + 5
    assert forward_errors == r.errors
    assert [i for i, _ in r.errors] == [0, 1, 3, 5]
    for k in r:
        np.testing.assert_array_equal(np.isfinite(f[k]), np.isfinite(r[k]))
        ok = np.isfinite(r[k])
        np.testing.assert_allclose(f[k][ok], r[k][ok], rtol=1e-13)
    # the kinks: relu'(0) = 0, abs'(0) = 0, as reverse mode
    assert f["grad_r_y"][0] == r["grad_r_y"][0] == 0.0


def test_scalar_errors_as_in_reverse_mode(cg):
    for at in (["x=1", "y=0"], ["x=-1", "y=1"], ["x=0", "y=0"]):
        several = cg("eval", BAD, *at, "--output", ",".join(BAD_OUTS), "--summary")
        table = cg("eval", BAD, *at, "--output", ",".join(BAD_OUTS))
        assert several.status == table.status == 1
        assert several.err == table.err
        assert several.err.startswith("error: ")
    with pytest.raises(cgcli.CgraphError) as e:
        cgcli.evaluate(BAD, {"x": 1.0, "y": 0.0}, output=BAD_OUTS)
    with pytest.raises(cgcli.CgraphError) as e2:
        jacobian.evaluate(parse_program(BAD), BAD_OUTS, {"x": 1.0, "y": 0.0})
    assert e.value.message == e2.value.message


def test_jobs_records_forward(tmp_path, cg):
    csv = tmp_path / "d.csv"
    csv.write_text("x,y\n" + "".join("%s,%s\n" % (0.1 + i / 100, i / 50 - 1) for i in range(200)))
    one = cg("eval", PROG, "--data", str(csv), "--output", ",".join(OUTS), "--format", "csv")
    two = cg("eval", PROG, "--data", str(csv), "--output", ",".join(OUTS), "--format", "csv", "--jobs", "2")
    assert one.status == two.status == 0
    assert one.out == two.out
    head = one.out.splitlines()[0].split(",")
    assert "grad_f_x" in head and "value_a" in head


@pytest.mark.parametrize("wrt", ["x", "y", "x,y"])
@pytest.mark.parametrize("nonfinite", [False, True])
def test_modes_agree_on_bad_data(monkeypatch, wrt, nonfinite):
    """Also with one reported input: a non-finite derivative by the other input (sqrt(y)
    at y = 0) makes the row bad in reverse mode (a gradient is not finite), and so in
    forward mode (a partial is not finite). With nonfinite the entries agree too: a
    derivative the backward pass gets finite (dq/dx = sqrt(0) = 0) is not nan."""
    f = cgcli.columns(BAD, BAD_DATA, output=BAD_OUTS, wrt=wrt, nonfinite=nonfinite)
    monkeypatch.setattr(jacobian, "use_forward", lambda *a: False)
    r = cgcli.columns(BAD, BAD_DATA, output=BAD_OUTS, wrt=wrt, nonfinite=nonfinite)
    assert f.errors == r.errors
    assert [i for i, _ in r.errors] == ([] if nonfinite else [0, 1, 3, 5])
    for k in r:
        np.testing.assert_array_equal(f[k], r[k])  # these few sums: in the same order
    if "x" in wrt:
        assert f["grad_q_x"][3] == 0.0


def test_records_with_one_bad_row(tmp_path, cg):
    csv = tmp_path / "d.csv"
    csv.write_text("x,y\n1,2\n2,0\n3,4\n")
    out = cg("eval", BAD, "--data", str(csv), "--output", ",".join(BAD_OUTS), "--wrt", "x", "--format", "csv")
    monkey = cg("eval", BAD, "--data", str(csv), "--output", "p,q", "--wrt", "x,y", "--format", "csv")
    assert out.status == monkey.status == 1
    assert out.err == monkey.err  # the same row, the same message as reverse mode
    assert "line 3" in out.err and out.err.count("error:") == 1
