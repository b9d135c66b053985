"""Bad input at the edges: one `error: ...` line and status 1 or 2, never a traceback;
nothing lost. Values against hand calculation or central differences."""

import json
import math

import pytest
from conftest import close


def err_line(r):
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    assert "Traceback" not in r.err
    return lines[0].replace("(try 'cli ", "(try 'cgraph ")  # in-process, click names the group cli


@pytest.fixture
def data(tmp_path):
    def write(text, name="d.csv"):
        p = tmp_path / name
        p.write_text(text)
        return str(p)
    return write


XY = "x,y\n1,2\n2,4\n3,6\n"


# ---- 1. inputs outside the output's cone -----------------------------------------

def test_minimize_a_param_outside_the_cone_does_not_move(cg):
    d = cg("minimize", "y; x^2", "x=1", "y=5", "--params", "x,y", "--format", "json").json()
    assert d["params"]["y"] == 5.0 and d["gradients"]["y"] == 0.0
    assert abs(d["params"]["x"]) < 1e-4


def test_inputs_outside_the_cone_must_be_bound_everywhere(cg, data):
    for args in (("minimize", "y; x^2", "x=1", "--params", "x,y"), ("eval", "w; y^2", "y=1", "--hessian"),
                 ("check", "w; y^2", "y=1"), ("explain", "w; y^2", "y=1")):
        r = cg(*args)
        assert r.status == 1, args
        name = "y" if args[0] == "minimize" else "w"
        hint = "give every input a starting value" if args[0] == "minimize" else "bind it as NAME=VALUE"
        assert err_line(r) == "error: unbound input: %s (%s)" % (name, hint)
    r = cg("train", "b; (w*x-y)^2", "--data", data(XY), "w=0", "--params", "w")
    assert r.status == 1 and "no column for input b" in err_line(r)


def test_hessian_of_an_input_outside_the_cone_is_zero(cg):
    r = cg("eval", "w; y^2", "w=3", "y=1", "--hessian", "--wrt", "w,y", "--format", "plain")
    assert r.status == 0
    assert r.out.splitlines()[-3:] == ["hessian\tw\ty", "w\t0\t0", "y\t0\t2"]


def test_check_explain_and_diff_give_zero_outside_the_cone(cg):
    d = cg("check", "w; y^2", "w=3", "y=1", "--wrt", "w,y", "--format", "json").json()
    assert d["gradients"] == {"w": 0.0, "y": 2.0} and d["ok"]
    assert "dg/dw = 0" in cg("explain", "w; y^2", "w=3", "y=1", "--wrt", "w").out
    assert cg("diff", "w; y^2", "--wrt", "w").out == "0\n"


def test_an_input_read_only_after_the_output_need_not_be_bound(cg):
    r = cg("eval", "p = x + 1; q = p * z", "x=1", "--output", "p", "--summary", "--format", "plain")
    assert r.status == 0 and r.out == "value\t2\ngrad_x\t1\n"


# ---- 2. options at their edges -----------------------------------------------------

@pytest.mark.parametrize("args, line", [
    (("train", "(w*x-y)^2", "w=0", "--seed", "-1"),
     "error: Invalid value for '--seed': -1 is not in the range x>=0. (try 'cgraph train --help')"),
    (("train", "(w*x-y)^2", "--init-seed", "-5"),
     "error: Invalid value for '--init-seed': -5 is not in the range x>=0. (try 'cgraph train --help')"),
    (("train", "(w*x-y)^2", "w=0", "--lr", "nan"),
     "error: Invalid value for '--lr': nan is not a finite number (try 'cgraph train --help')"),
    (("train", "(w*x-y)^2", "w=0", "--tol", "-inf"),
     "error: Invalid value for '--tol': -inf is not in the range x>=0. (try 'cgraph train --help')"),
    (("train", "(w*x-y)^2", "w=0", "--save", ""), "error: --save: the file name is empty"),
    (("train", "(w*x-y)^2", "w=0", "--params", ""),
     "error: --params: \"\" names no input (give NAME or A,B, or leave the option out)"),
    (("minimize", "x^2", "x=1", "--lr", "-1"),
     "error: Invalid value for '--lr': -1.0 is not in the range x>0. (try 'cgraph minimize --help')"),
    (("minimize", "x^2", "x=1", "--lr", "inf"),
     "error: Invalid value for '--lr': inf is not a finite number (try 'cgraph minimize --help')"),
    (("minimize", "x^2", "x=1", "--momentum", "1"),
     "error: Invalid value for '--momentum': 1.0 is not in the range 0<=x<1. (try 'cgraph minimize --help')"),
    (("minimize", "x^2", "x=1", "--momentum", "nan"),
     "error: Invalid value for '--momentum': nan is not a finite number (try 'cgraph minimize --help')"),
    (("minimize", "x^2", "x=1", "--tol", "inf"),
     "error: Invalid value for '--tol': inf is not a finite number (try 'cgraph minimize --help')"),
    (("minimize", "x^2", "x=1", "--trace", ""), "error: --trace: the file name is empty"),
    (("check", "x^2", "x=1", "--eps", "1e-17"),
     "error: Invalid value for '--eps': 1e-17 is not in the range 1e-15<=x<=1. (try 'cgraph check --help')"),
    (("check", "x^2", "x=1", "--rtol", "nan"),
     "error: Invalid value for '--rtol': nan is not a finite number (try 'cgraph check --help')"),
    (("check", "x^2", "x=1", "--atol", "inf"),
     "error: Invalid value for '--atol': inf is not a finite number (try 'cgraph check --help')"),
    (("eval", "x^2", "x=1", "--wrt", ""),
     "error: --wrt: \"\" names no input (give NAME or A,B, or leave the option out)"),
    (("diff", "x^2", "--wrt", ","),
     "error: --wrt: ',' names no input (give NAME or A,B, or leave the option out)"),
])
def test_options_at_their_edges_are_usage_errors(cg, data, args, line):
    if args[0] == "train":
        args = args[:2] + ("--data", data(XY)) + args[2:]
    r = cg(*args)
    assert r.status == 2 and err_line(r) == line


def test_save_and_trace_paths_are_checked_first(cg, data, tmp_path):
    r = cg("train", "(w*x-y)^2", "--data", data(XY), "w=0", "--save", str(tmp_path))
    assert r.status == 2 and err_line(r) == "error: --save: %s is a directory" % tmp_path
    missing = tmp_path / "no" / "t.csv"
    r = cg("minimize", "x^2", "x=1", "--trace", str(missing))
    assert r.status == 2 and err_line(r) == "error: --trace: cannot write %s: no directory %s" % (
        missing, missing.parent)


def test_check_eps_at_the_floor_has_no_zero_step(cg):
    d = cg("check", "x^2", "x=1", "--eps", "1e-15", "--format", "json").json()
    assert d["ok"] and d["inputs"][0]["h"] == 1e-15
    from cgcli.core.errors import CgraphError
    from cgcli.core.language import parse_program as parse
    from cgcli.features.check import check
    with pytest.raises(CgraphError) as e:
        check(parse("x^2"), {"x": 1.0}, eps=1e-17)
    assert e.value.status == 2 and "outside [1e-15, 1]" in e.value.message


def test_diff_order_is_bounded_by_size(cg):
    r = cg("diff", "sin(x)*exp(x^2)/(1+x)", "--wrt", "x", "--order", "13")
    assert r.status == 2
    assert err_line(r).startswith("error: the derivative is too large: differentiating ")
    assert err_line(r).endswith("grows it past 100000 nodes, the limit (ask for a lower --order; "
                                "each order can multiply the size)")
    assert cg("diff", "x^3", "--order", "20").out == "0\n"
    assert cg("diff", "x^5", "--order", "3").out == "60*x^2\n"


# ---- 3. divisions that involve no column, batch overflow ---------------------------

def test_a_division_by_zero_without_columns_names_the_node(cg, data):
    d = data(XY)
    r = cg("eval", "x + 1/0", "--data", d)
    assert r.status == 1
    assert r.err.splitlines()[-1] == ("error: %s line 2: 1 / 0 divides by zero (--nonfinite lets inf and nan "
                                      "through)" % d)
    r = cg("eval", "x + 1/z", "--data", d, "z=0")
    assert r.status == 1
    assert r.err.splitlines()[-1].endswith("line 2: 1 / z divides by zero at z = 0 (--nonfinite lets inf and "
                                           "nan through)")
    r = cg("eval", "x + 1/z", "--data", d, "z=0", "--nonfinite")
    assert r.status == 0
    assert r.out.splitlines() == ["x,y,value,grad_x,grad_z", "1,2,inf,1.0,-inf", "2,4,inf,1.0,-inf",
                                  "3,6,inf,1.0,-inf"]


def test_train_batches_report_the_node_as_one_row_does(cg, data):
    d = data(XY)
    for batch in ("1", "2"):
        r = cg("train", "(w*x + b - y)^2 + 1/(w - w)", "--data", d, "--params", "w,b", "w=1", "b=0",
               "--batch-size", batch, "--no-shuffle")
        assert r.status == 1
        assert err_line(r) == "error: epoch 1, row 1: 1 / (w - w) divides by zero at w - w = 0"


def test_a_batch_whose_sum_overflows_is_reported(cg, data):
    r = cg("train", "(w*x - y)^2", "--data", data("x,y\n1,1e154\n1,1e154\n"), "w=0", "--batch-size", "2")
    assert r.status == 1
    assert err_line(r) == ("error: epoch 1: the total cost of a batch of 2 rows overflows (beyond the largest "
                           "double, about 1.8e308), though every row's is finite (use a smaller --batch-size, "
                           "or scale the data down)")


# ---- 4. intermediates of a partial that overflow -----------------------------------

def test_pow_base_partial_where_only_the_intermediate_overflows(cg, data):
    # d(x^y)/dx = y x^(y-1) = 1e-20 * 1e-320^(-1 + 1e-20): x^(y-1) is about 1e320
    expect = math.exp(math.log(1e-20) + (1e-20 - 1) * math.log(1e-320))
    for extra in ((), ("--nonfinite",)):
        d = cg("eval", "x^y", "x=1e-320", "y=1e-20", "--summary", "--format", "json", *extra).json()
        assert close(d["gradients"]["x"], expect) and close(d["gradients"]["y"], math.log(1e-320))
    r = cg("eval", "x^y", "--data", data("x,y\n1e-320,1e-20\n2,3\n"))
    assert r.status == 0
    rows = r.out.splitlines()
    assert close(float(rows[1].split(",")[3]), expect) and rows[2] == "2,3,8.0,12.0,5.545177444479562"
    # a derivative that itself overflows still says so
    r = cg("eval", "x^-1.39", "x=1e-181")
    assert r.status == 1
    assert err_line(r) == ("error: the derivative of x^-1.39 overflows at x = 1e-181 (--nonfinite lets inf "
                           "and nan through)")


def test_pow_base_partial_helpers_agree():
    import numpy as np

    from cgcli.core.primitives import PRIMITIVES, dpow_base
    p = PRIMITIVES["pow"]
    for x, y in ((1e-320, 1e-20), (2.0, 3.0), (-2.0, 3.0), (0.5, -2.0), (1e300, 0.5)):
        out = math.pow(x, y)
        s = dpow_base(x, y, out)
        with np.errstate(all="ignore"):
            v = float(p.vdf(np, np.float64(x), np.float64(y), np.float64(out))[0])
        sign = (-1 if y < 0 else 1) * (-1 if x < 0 and (y - 1) % 2 else 1)
        assert close(s, v) and close(s, sign * math.exp(math.log(abs(y)) + (y - 1) * math.log(abs(x))))


# ---- 5. check on a function that varies fast ---------------------------------------

def test_check_refines_a_step_too_coarse(cg):
    d = cg("check", "sin(1e6*x)", "x=1", "--format", "json").json()
    c = d["inputs"][0]
    assert d["ok"] and c["status"] == "ok" and close(c["h"], 1e-9)
    assert close(c["grad"], 1e6 * math.cos(1e6))
    assert "the step is too coarse" in c["notes"][0]


def test_check_faster_still_is_unverified_not_failed(cg):
    r = cg("check", "sin(1e9*x)", "x=1", "--format", "json")
    assert r.status == 0
    c = r.json()["inputs"][0]
    assert c["status"] == "unchecked" and "no smaller step agrees" in c["notes"][0]
    assert cg("check", "sin(1e9*x)", "x=1", "--strict").status == 1


def test_check_a_given_eps_is_used_as_it_is(cg):
    r = cg("check", "sin(1e6*x)", "x=1", "--eps", "1e-6")
    assert r.status == 1 and "gradient check failed for x" in err_line(r)


# ---- 6. nothing lost ---------------------------------------------------------------

def test_trace_keeps_the_old_file_on_a_failed_run(cg, tmp_path):
    f = tmp_path / "trace.csv"
    f.write_text("old\n")
    r = cg("minimize", "log(x)", "x=0", "--trace", str(f))
    assert r.status == 1 and err_line(r) == "error: step 0: log(x) is undefined at x = 0"
    assert f.read_text() == "old\n"
    r = cg("minimize", "x^2", "--trace", str(f))  # unbound input
    assert r.status == 1 and f.read_text() == "old\n"
    assert cg("minimize", "(x-3)^2", "x=0", "--steps", "2", "--trace", str(f)).status == 0
    assert f.read_text().splitlines()[0] == "step,value,x"
    assert [p.name for p in tmp_path.iterdir()] == ["trace.csv"]  # no temporary left


def test_save_keeps_the_old_file_on_a_failed_run(cg, data, tmp_path):
    f = tmp_path / "p.json"
    f.write_text("{}\n")
    r = cg("train", "log(w*x - y)", "--data", data(XY), "w=0", "--save", str(f))
    assert r.status == 1 and f.read_text() == "{}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "p.json"]


def test_trace_to_a_full_device(cg):
    r = cg("minimize", "x^2", "x=1", "--steps", "3", "--trace", "/dev/full")
    assert r.status == 1 and err_line(r) == "error: cannot write /dev/full: No space left on device"


def _interrupt_after(monkeypatch, module, name, calls):
    real = getattr(module, name)
    seen = [0]

    def step(*a, **k):
        seen[0] += 1
        if seen[0] > calls:
            raise KeyboardInterrupt
        return real(*a, **k)
    monkeypatch.setattr(module, name, step)


def test_ctrl_c_in_minimize_prints_the_parameters_reached(cg, monkeypatch, tmp_path):
    from cgcli.features import learn
    _interrupt_after(monkeypatch, learn, "forward", 3)
    f = tmp_path / "t.csv"
    r = cg("minimize", "(x-3)^2", "x=0", "--format", "json", "--trace", str(f))
    assert r.status == 130
    assert err_line(r) == "error: interrupted at step 3: the parameters above are those reached so far"
    d = r.json()
    # three steps of x -= 0.1 * 2 (x - 3) from 0: 0.6, 1.08, 1.464
    assert close(d["params"]["x"], 1.464) and d["reason"] == "interrupted at step 3" and not d["converged"]
    assert len(f.read_text().splitlines()) == 4  # header and steps 0..2


def test_ctrl_c_in_train_saves_the_parameters_reached(cg, data, monkeypatch, tmp_path):
    from cgcli.features import learn
    _interrupt_after(monkeypatch, learn, "forward", 4)
    f = tmp_path / "p.json"
    r = cg("train", "(w*x - y)^2", "--data", data(XY), "w=0", "--no-shuffle", "--save", str(f),
           "--format", "plain")
    assert r.status == 130
    assert err_line(r) == ("error: interrupted in epoch 2: the parameters above are those reached so far, "
                           "saved to %s" % f)
    # epoch 1 (rows 1..3) and row 1 of epoch 2, w -= 0.1 * 2 (w x - y) x
    w = 0.0
    for x, y in ((1, 2), (2, 4), (3, 6), (1, 2)):
        w -= 0.1 * 2 * (w * x - y) * x
    assert close(json.loads(f.read_text())["w"], w)
    assert "param\tw\t" in r.out


# ---- 7. train's names, and hints ---------------------------------------------------

def test_train_refuses_a_binding_or_a_param_that_is_a_column(cg, data):
    d = data(XY)
    r = cg("train", "(w*x-y)^2", "--data", d, "w=0", "x=1")
    assert r.status == 2 and err_line(r) == "error: x is both bound on the command line and a column of %s" % d
    r = cg("train", "(w*x-y)^2", "--data", d, "w=0", "--params", "w,x")
    assert r.status == 2 and err_line(r) == "error: x is both a parameter and a column of %s" % d


def test_learning_errors_do_not_suggest_nonfinite(cg, data):
    r = cg("minimize", "1/x", "x=0")
    assert r.status == 1 and err_line(r) == "error: step 0: 1 / x divides by zero at x = 0"
    r = cg("train", "log(w*x - y)", "--data", data(XY), "w=0")
    assert r.status == 1 and err_line(r) == "error: epoch 1, row 3: log(w * x - y) is undefined at w * x - y = -6"
    r = cg("minimize", "x^2", "x=1e80", "--lr", "10")
    assert r.status == 1 and "--nonfinite" not in r.err


def test_an_input_outside_the_cone_is_reported_and_must_be_bound_in_rows_too(cg, tmp_path):
    """Read by the program, not by the output: gradient 0, and still an input to bind."""
    d = tmp_path / "y.csv"
    d.write_text("y\n2\n")
    r = cg("eval", "a = log(x); b = y + 1", "--data", str(d))
    assert r.status == 1
    assert r.err.splitlines()[-1] == "error: %s: no column or binding for input x (columns: y)" % d
    r = cg("eval", "a = log(x); b = y + 1", "--data", str(d), "x=5", "--format", "jsonl")
    assert r.status == 0 and r.out == '{"y": 2, "value": 3.0, "grad_x": 0.0, "grad_y": 1.0}\n'
    r = cg("eval", "a = log(x); b = y + 1", "x=5", "y=2", "--format", "json")
    assert r.json()["gradients"] == {"x": 0.0, "y": 1.0}
