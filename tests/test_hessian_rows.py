"""eval --hessian with --data, and cgcli.columns(..., hessian=True): per-row second
derivatives from one symbolic graph run over the columns (issue 11, item 6)."""

import csv
import io
import json
import math
import random

import numpy as np
import pytest


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def records(out):
    return list(csv.DictReader(io.StringIO(out)))


def test_hand_calculated_values_and_header_order(cg, tmp_path):
    # x^2*y: hess_x_x = 2y, hess_x_y = 2x, hess_y_y = 0
    rows = write(tmp_path, "r.csv", "x,y\n1,2\n3,-1\n0,5\n-2.5,0.5\n")
    r = cg("eval", "x^2*y", "--data", rows, "--hessian")
    assert r.status == 0 and r.err == ""
    lines = r.out.splitlines()
    assert lines[0] == "x,y,value,grad_x,grad_y,hess_x_x,hess_x_y,hess_y_y"
    assert lines[1:] == ["1,2,2.0,4.0,1.0,4.0,2.0,0.0", "3,-1,-9.0,-6.0,9.0,-2.0,6.0,0.0",
                         "0,5,0.0,0.0,0.0,10.0,0.0,0.0", "-2.5,0.5,3.125,-2.5,6.25,1.0,-5.0,0.0"]


def test_wrt_order_and_one_name(cg, tmp_path):
    rows = write(tmp_path, "r.csv", "x,y\n1,2\n")
    r = cg("eval", "x^2*y", "--data", rows, "--hessian", "--wrt", "y,x")
    assert r.out.splitlines() == ["x,y,value,grad_y,grad_x,hess_y_y,hess_y_x,hess_x_x",
                                  "1,2,2.0,1.0,4.0,0.0,2.0,4.0"]
    r = cg("eval", "x^2*y", "--data", rows, "--hessian", "--wrt", "y")
    assert r.out.splitlines() == ["x,y,value,grad_y,hess_y_y", "1,2,2.0,1.0,0.0"]


def test_every_record_format(cg, tmp_path):
    rows = write(tmp_path, "r.csv", "x,y\n1,2\n")
    r = cg("eval", "x^2*y", "--data", rows, "--hessian", "--format", "jsonl")
    assert json.loads(r.out) == {"x": 1, "y": 2, "value": 2.0, "grad_x": 4.0, "grad_y": 1.0,
                                 "hess_x_x": 4.0, "hess_x_y": 2.0, "hess_y_y": 0.0}
    r = cg("eval", "x^2*y", "--data", rows, "--hessian", "--format", "plain")
    assert r.out.splitlines() == ["x\ty\tvalue\tgrad_x\tgrad_y\thess_x_x\thess_x_y\thess_y_y",
                                  "1\t2\t2.0\t4.0\t1.0\t4.0\t2.0\t0.0"]
    r = cg("eval", "x^2*y", "--data", rows, "--hessian", "--format", "table")
    head, _, row = r.out.splitlines()
    assert head.split() == ["x", "y", "value", "grad_x", "grad_y", "hess_x_x", "hess_x_y", "hess_y_y"]
    assert row.split() == ["1", "2", "2", "4", "1", "4", "2", "0"]
    jl = write(tmp_path, "r.jsonl", '{"x": 1, "y": 2, "id": "a"}\n')
    r = cg("eval", "x^2*y", "--data", jl, "--hessian", "--format", "jsonl")
    assert json.loads(r.out)["hess_x_y"] == 2.0 and json.loads(r.out)["id"] == "a"


@pytest.mark.parametrize("src", [
    "sin(x)*exp(y*z)",
    "log(x^2 + y^2 + 1)*tanh(x*y) + z^3",
    "x*y*z + exp(-x*z)*sin(y)",
    "tanh(x)^2*log(z + 5) + cos(x*y)",
])
def test_rows_match_one_evaluation_per_row(cg, tmp_path, src):
    rng = random.Random(len(src))
    rows = [{"x": rng.uniform(-2, 2), "y": rng.uniform(-2, 2), "z": rng.uniform(-2, 2)} for _ in range(12)]
    data = write(tmp_path, "r.csv", "x,y,z\n" + "".join("%r,%r,%r\n" % (d["x"], d["y"], d["z"]) for d in rows))
    r = cg("eval", src, "--data", data, "--hessian", "--wrt", "x,y,z")
    assert r.status == 0, r.err
    got = records(r.out)
    names = ["x", "y", "z"]
    for d, rec in zip(rows, got):
        one = cg("eval", src, *["%s=%r" % (k, v) for k, v in d.items()], "--hessian", "--format", "json",
                 "--summary", "--wrt", "x,y,z").json()["hessian"]
        for i, a in enumerate(names):
            for b in names[i:]:
                assert float(rec["hess_%s_%s" % (a, b)]) == pytest.approx(one[a][b], rel=1e-12, abs=1e-14)


def test_many_rows_across_chunks(cg, tmp_path):
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-2, 2, 3000), rng.uniform(-2, 2, 3000)
    data = write(tmp_path, "r.csv", "x,y\n" + "".join("%r,%r\n" % (a, b) for a, b in zip(x.tolist(), y.tolist())))
    r = cg("eval", "sin(x)*y^2", "--data", data, "--hessian")
    got = records(r.out)
    assert len(got) == 3000
    hxx = np.array([float(g["hess_x_x"]) for g in got])
    hxy = np.array([float(g["hess_x_y"]) for g in got])
    hyy = np.array([float(g["hess_y_y"]) for g in got])
    assert np.allclose(hxx, -np.sin(x) * y ** 2, rtol=1e-13, atol=1e-15)
    assert np.allclose(hxy, 2 * y * np.cos(x), rtol=1e-13, atol=1e-15)
    assert np.allclose(hyy, 2 * np.sin(x), rtol=1e-13, atol=1e-15)


def test_bad_row_named_by_line_and_skipped(cg, tmp_path):
    data = write(tmp_path, "r.csv", "x,y\n1,2\n0,1\n2,3\n")
    r = cg("eval", "log(x)*y", "--data", data, "--hessian")
    assert r.status == 1
    assert r.out.splitlines() == ["x,y,value,grad_x,grad_y,hess_x_x,hess_x_y,hess_y_y", "1,2,0.0,2.0,0.0,-2.0,1.0,0.0"]
    assert "r.csv line 3: log(x) is undefined at x = 0" in r.err
    r = cg("eval", "log(x)*y", "--data", data, "--hessian", "--skip-bad-rows")
    assert r.status == 1
    assert [line.split(",")[0] for line in r.out.splitlines()[1:]] == ["1", "2"]
    assert "r.csv line 3:" in r.err and "(skipped)" in r.err and "skipped 1 bad row of 3" in r.err


def test_a_row_bad_only_in_its_second_derivative(cg, tmp_path):
    # x^1.5 at 0: the value and the gradient are 0, the second derivative 0.75/sqrt(x) is not finite
    data = write(tmp_path, "r.csv", "x\n1\n0\n4\n")
    r = cg("eval", "x^1.5", "--data", data)
    assert r.status == 0
    r = cg("eval", "x^1.5", "--data", data, "--hessian", "--skip-bad-rows")
    assert r.status == 1
    assert r.out.splitlines() == ["x,value,grad_x,hess_x_x", "1,1.0,1.5,0.75", "4,8.0,3.0,0.375"]
    assert "r.csv line 3: second derivatives:" in r.err and "x = 0" in r.err
    r = cg("eval", "x^1.5", "--data", data, "--hessian", "--nonfinite")
    assert r.status == 0 and r.out.splitlines()[2] == "0,0.0,0.0,inf"


def test_hess_column_clash_is_refused(cg, tmp_path):
    data = write(tmp_path, "r.csv", "x,hess_x_x\n1,2\n")
    r = cg("eval", "x^3", "--data", data, "--hessian")
    assert r.status == 2 and "column hess_x_x of" in r.err and "has the name of a field" in r.err
    r = cg("eval", "x^3", "--data", data)  # without --hessian it is an ordinary column
    assert r.status == 0 and r.out.splitlines()[0] == "x,hess_x_x,value,grad_x"
    jl = write(tmp_path, "r.jsonl", '{"x": 1}\n{"x": 2, "hess_x_x": 5}\n')
    r = cg("eval", "x^3", "--data", jl, "--hessian", "--format", "jsonl", "--skip-bad-rows")
    assert r.status == 1 and len(r.out.splitlines()) == 1 and "line 2: key hess_x_x" in r.err


def test_names_made_twice_are_refused(cg, tmp_path):
    data = write(tmp_path, "r.csv", "a_b,c,a,b_c\n1,2,3,4\n")
    r = cg("eval", "a_b*c*a*b_c", "--data", data, "--hessian")
    assert r.status == 2 and "hess_a_b_c" in r.err


def test_lines_stay_refused(cg, tmp_path):
    f = write(tmp_path, "e.txt", "x^2\n")
    r = cg("eval", "-f", f, "--lines", "x=1", "--hessian")
    assert r.status == 2 and "not with --lines" in r.err


def test_api_columns_hessian():
    import cgcli
    x = np.array([1.0, 0.0, 4.0, -2.0])
    r = cgcli.columns("x^2*y", {"x": x, "y": 3.0}, hessian=True)
    assert list(r) == ["value", "grad_x", "grad_y", "hess_x_x", "hess_x_y", "hess_y_y"]
    assert r["hess_x_x"].tolist() == [6.0] * 4
    assert r["hess_x_y"].tolist() == (2 * x).tolist()
    assert r["hess_y_y"].tolist() == [0.0] * 4
    assert r.errors == []
    assert list(cgcli.columns("x^2*y", {"x": x, "y": 3.0})) == ["value", "grad_x", "grad_y"]
    r = cgcli.columns("x^1.5 + y", {"x": x, "y": 1.0}, hessian=True, wrt="x")
    assert list(r) == ["value", "grad_x", "hess_x_x"]
    assert [j for j, _ in r.errors] == [1, 3]  # x = 0: the second derivative; x < 0: the value
    assert "second derivatives:" in r.errors[0][1]
    assert math.isinf(r["hess_x_x"][1]) and not r.ok[1] and r.ok[0]
