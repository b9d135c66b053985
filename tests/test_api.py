"""The library API (issue 9): `import cgcli` and parse, evaluate, differentiate, columns."""

import inspect
import json
import math
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from conftest import ROOT

import cgcli
from cgcli import CgraphError, ColumnsResult, Program, Result, UsageError

SEED = {"x": 1, "y": 3, "z": -3}


def central(f, point, name, h=1e-6):
    lo, hi = dict(point), dict(point)
    lo[name] -= h
    hi[name] += h
    return (f(hi) - f(lo)) / (2 * h)


# ---- the package --------------------------------------------------------------------

def test_import_cgcli_is_cheap():
    code = ("import sys, cgcli; heavy = [m for m in ('numpy', 'lark', 'rich', 'click', 'cgcli.api') "
            "if m in sys.modules]; print(heavy, cgcli.__version__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["[]", cgcli.__version__]


def test_the_names_are_exported():
    for name in ["parse", "parse_program", "evaluate", "differentiate", "columns", "CgraphError", "UsageError",
                 "Program", "Result", "ColumnsResult", "__version__"]:
        assert name in cgcli.__all__
        assert getattr(cgcli, name) is not None
    assert cgcli.parse_program is cgcli.parse
    assert issubclass(UsageError, CgraphError)
    with pytest.raises(AttributeError):
        cgcli.no_such_name  # noqa: B018


def test_every_public_function_and_method_has_type_hints():
    from cgcli import api
    for name in ["parse", "evaluate", "differentiate", "columns"]:
        sig = inspect.signature(getattr(api, name))
        assert sig.return_annotation is not inspect.Signature.empty, name
        for p in sig.parameters.values():
            assert p.annotation is not inspect.Parameter.empty, (name, p.name)
    for cls in [api.Result, api.ColumnsResult]:
        for name, f in vars(cls).items():
            if callable(f) and not name.startswith("_") or name == "__init__":
                assert inspect.signature(f).return_annotation is not inspect.Signature.empty, (cls, name)


def test_py_typed_is_in_the_package():
    assert os.path.exists(os.path.join(ROOT, "cgcli", "py.typed"))


@pytest.mark.slow
def test_the_wheel_ships_py_typed(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), ROOT],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    wheel = next(p for p in os.listdir(tmp_path) if p.endswith(".whl"))
    with zipfile.ZipFile(tmp_path / wheel) as z:
        assert "cgcli/py.typed" in z.namelist()
        assert "cgcli/api.py" in z.namelist()


def test_the_docstring_example():
    from cgcli import evaluate, parse_program
    prog = parse_program("(x+y)*z")
    res = evaluate(prog, {"x": 1, "y": 3, "z": -3})
    assert (res.value, res.gradients) == (-12.0, {"x": -3.0, "y": -3.0, "z": 4.0})


# ---- parse -----------------------------------------------------------------------------

def test_parse_gives_a_program():
    prog = cgcli.parse("p = x + y; g = p * z")
    assert isinstance(prog, Program)
    assert prog.output_name == "g"
    assert sorted(prog.graph.inputs) == ["x", "y", "z"]


def test_a_syntax_error_has_status_2_and_a_caret():
    with pytest.raises(CgraphError) as e:
        cgcli.parse("2x")
    assert e.value.status == 2
    assert e.value.message == ("syntax error at column 2: unexpected 'x' (no implicit multiplication: write 2*x)\n"
                               "  2x\n   ^")


@pytest.mark.parametrize("text, message", [
    ("", "empty program: nothing to evaluate"),
    ("foo(x)", None),
    ("pi = 3", None),
])
def test_usage_errors_of_the_language_have_status_2(text, message):
    with pytest.raises(UsageError) as e:
        cgcli.parse(text)
    assert e.value.status == 2
    if message is not None:
        assert e.value.message == message


def test_parse_wants_text():
    with pytest.raises(UsageError):
        cgcli.parse(3)


# ---- evaluate --------------------------------------------------------------------------

def test_evaluate_the_seed_example():
    r = cgcli.evaluate("(x+y)*z", SEED)
    assert isinstance(r, Result)
    assert r.value == -12.0
    assert r.gradients == {"x": -3.0, "y": -3.0, "z": 4.0}
    assert [(n.id, n.name, n.expr, n.op, n.inputs, n.value, n.grad) for n in r.nodes] == [
        (0, "x", "x", "var", (), 1.0, -3.0),
        (1, "y", "y", "var", (), 3.0, -3.0),
        (2, None, "x + y", "add", (0, 1), 4.0, -3.0),
        (3, "z", "z", "var", (), -3.0, 4.0),
        (4, None, "(x + y) * z", "mul", (2, 3), -12.0, 1.0),
    ]
    assert r.values == [1.0, 3.0, 4.0, -3.0, -12.0]
    assert r.grads == [-3.0, -3.0, -3.0, 4.0, 1.0]
    assert r.output == 4 and r.output_name is None and r.warnings == []


def test_evaluate_takes_a_program_too():
    prog = cgcli.parse("(x+y)*z")
    assert cgcli.evaluate(prog, SEED).value == cgcli.evaluate(prog, {"x": 2, "y": 0.5, "z": 4}).value - 22.0


def test_to_dict_is_what_eval_format_json_prints(cg):
    text = "p = x + y; g = p * z; 2*g"
    out = cg("eval", text, "x=1", "y=3", "z=-3", "--format", "json")
    assert cgcli.evaluate(text, SEED).to_dict() == out.json()
    out = cg("eval", text, "x=1", "y=3", "z=-3", "--format", "json", "--summary")
    assert cgcli.evaluate(text, SEED).to_dict(summary=True) == out.json()


def test_a_constant_has_no_gradient_and_names_show():
    r = cgcli.evaluate("w = 0.5; y = w * x", {"x": 4})
    assert r.value == 2.0 and r.gradients == {"x": 0.5}
    assert [(n.name, n.grad) for n in r.nodes] == [("w", None), ("x", 0.5), ("y", 1.0)]


def test_output_picks_another_name():
    r = cgcli.evaluate("p = x + y; g = p * z", SEED, output="p")
    assert r.value == 4.0 and r.output_name == "p"
    assert r.gradients == {"x": 1.0, "y": 1.0}
    with pytest.raises(UsageError) as e:
        cgcli.evaluate("p = x + y; g = p * z", SEED, output="q")
    assert e.value.status == 2 and e.value.message == "--output: the program has no name 'q' (names: g, p, x, y, z)"


def test_output_of_a_name_bound_twice_is_its_newest_value():
    r = cgcli.evaluate("h = x; h = h * h; y = h + 1", {"x": 3}, output="h")
    assert r.value == 9.0 and r.gradients == {"x": 6.0}


@pytest.mark.parametrize("wrt", ["z,x", ["z", "x"], ("z", "x")])
def test_wrt_reports_those_gradients_in_that_order(wrt):
    r = cgcli.evaluate("(x+y)*z", SEED, wrt=wrt)
    assert list(r.gradients.items()) == [("z", 4.0), ("x", -3.0)]


def test_wrt_an_input_the_output_does_not_read_is_0():
    r = cgcli.evaluate("p = x * y; q = z", SEED, output="p", wrt=["x", "z"])
    assert r.gradients == {"x": 3.0, "z": 0.0}


def test_wrt_a_name_that_is_not_an_input_is_a_usage_error():
    with pytest.raises(UsageError) as e:
        cgcli.evaluate("(x+y)*z", SEED, wrt="w")
    assert e.value.status == 2
    assert e.value.message == "--wrt: w is not an input of the program (inputs: x, y, z)"


def test_gradients_match_central_differences():
    text = "sigmoid(w1*x1 + w2*x2 + b) * log(1 + x1^2) - tanh(w1*w2)"
    point = {"w1": 0.3, "w2": -1.2, "b": 0.1, "x1": 1.5, "x2": -0.7}
    prog = cgcli.parse(text)
    r = cgcli.evaluate(prog, point)
    f = lambda p: cgcli.evaluate(prog, p).value  # noqa: E731
    for name in point:
        assert math.isclose(r.gradients[name], central(f, point, name), rel_tol=1e-7, abs_tol=1e-9), name


def test_unbound_inputs_have_status_1():
    with pytest.raises(CgraphError) as e:
        cgcli.evaluate("a*x + b", {"x": 1})
    assert e.value.status == 1
    assert e.value.message == "unbound inputs: a, b (bind each as NAME=VALUE)"


def test_a_domain_error_has_status_1_and_names_the_node():
    with pytest.raises(CgraphError) as e:
        cgcli.evaluate("log(x - 1)", {"x": -1})
    assert e.value.status == 1
    assert e.value.message == "log(x - 1) is undefined at x - 1 = -2 (--nonfinite lets inf and nan through)"


def test_nonfinite_lets_inf_and_nan_through():
    r = cgcli.evaluate("log(x)", {"x": 0}, nonfinite=True)
    assert r.value == -math.inf and r.gradients == {"x": math.inf}
    r = cgcli.evaluate("sqrt(x)", {"x": -1}, nonfinite=True)
    assert math.isnan(r.value)


def test_binding_a_constant_is_a_usage_error():
    with pytest.raises(UsageError) as e:
        cgcli.evaluate("pi * x", {"x": 1, "pi": 3})
    assert e.value.message == "pi is a constant and cannot be bound"


def test_bindings_must_be_numbers():
    with pytest.raises(UsageError):
        cgcli.evaluate("x", {"x": "1"})
    assert cgcli.evaluate("x*y", {"x": np.float32(2), "y": 3}).value == 6.0


def test_an_unread_binding_is_a_warning_not_an_error():
    r = cgcli.evaluate("x + 1", {"x": 1, "q": 2})
    assert r.value == 2.0 and r.warnings == ["q is bound but the program never reads it"]


# ---- differentiate ----------------------------------------------------------------------

def test_differentiate_prints_what_diff_prints(cg):
    for args in [("x^2*y + sin(x)", "x"), ("x^2*y + sin(x)", None), ("tanh(w*x + b)", "w,b")]:
        text, wrt = args
        cli = cg("diff", text, *(["--wrt", wrt] if wrt else []))
        assert cgcli.differentiate(text, wrt) + "\n" == cli.out


def test_differentiate_one_name():
    assert cgcli.differentiate("x^2*y + sin(x)", wrt="x") == "2*x*y + cos(x)"
    assert cgcli.differentiate("x^2*y + sin(x)") == "d_x = 2*x*y + cos(x)\nd_y = x^2"
    assert cgcli.differentiate("x^2*y + sin(x)", ["x", "y"]) == "d_x = 2*x*y + cos(x)\nd_y = x^2"


def test_differentiate_order_and_mixed_partials():
    assert cgcli.differentiate("x^3", wrt="x", order=2) == "6*x"
    assert cgcli.differentiate("x^2*y^3", wrt=[["x"], ["y"]]) == "6*x*y^2"
    assert cgcli.differentiate("x^2*y^3", wrt=[["x", "y"], ["y"]]) == "d2_x_y = 6*x*y^2\nd2_y = 6*x^2*y"
    with pytest.raises(UsageError):
        cgcli.differentiate("x^2*y^3", wrt=[["x"], ["y"]], order=2)
    with pytest.raises(UsageError):
        cgcli.differentiate("x^2", wrt="x", order=0)


def test_differentiate_shares_temporaries():
    assert cgcli.differentiate("tanh(w*x + b)", wrt="w,b") == "t1 = 1 - tanh(w*x + b)^2\nd_w = x*t1\nd_b = t1"


def test_the_derivative_parses_again_and_equals_the_gradient():
    text = "x^2*y + sin(x)"
    d = cgcli.differentiate(text, wrt="x")
    assert cgcli.evaluate(d, {"x": 1, "y": 2}).value == 2 * 1 * 2 + math.cos(1)
    assert cgcli.evaluate(d, {"x": 1, "y": 2}).value == cgcli.evaluate(text, {"x": 1, "y": 2}).gradients["x"]


def test_differentiate_leaves_the_program_as_it_was():
    prog = cgcli.parse("p = x*y; q = p^2")
    before = len(prog.graph)
    assert cgcli.differentiate(prog, "x") == "2*x*y^2"
    assert cgcli.differentiate(prog, "x", output="p") == "y"
    assert len(prog.graph) == before


def test_differentiate_errors():
    with pytest.raises(UsageError) as e:
        cgcli.differentiate("x*y", wrt="z")
    assert e.value.status == 2 and e.value.message == "--wrt: z is not an input of the program (inputs: x, y)"
    with pytest.raises(UsageError):
        cgcli.differentiate("2 + 3")
    assert cgcli.differentiate("p = x; q = y", wrt="x") == "0"


# ---- columns ----------------------------------------------------------------------------

def test_columns_with_a_bad_row():
    res = cgcli.columns("log(x)", {"x": np.array([1.0, 0.0, math.e])})
    assert isinstance(res, ColumnsResult)
    assert list(res) == ["value", "grad_x"]
    assert res["value"].tolist() == [0.0, -math.inf, 1.0]
    assert res["grad_x"].tolist() == [1.0, math.inf, 1 / math.e]
    with pytest.raises(CgraphError) as e:
        cgcli.evaluate("log(x)", {"x": 0.0})
    assert res.errors == [(1, e.value.message)]
    assert res.errors == [(1, "log(x) is undefined at x = 0 (--nonfinite lets inf and nan through)")]
    assert res.ok.tolist() == [True, False, True]


def test_columns_bad_row_messages_are_those_of_eval_data(cg, tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("x,y\n1,2\n-1,0\n3,4\n")
    cli = cg("eval", "sqrt(x) / y", "--data", str(p), "--skip-bad-rows")
    res = cgcli.columns("sqrt(x) / y", {"x": [1, -1, 3], "y": [2, 0, 4]})
    assert [m for _, m in res.errors] == [line.split(": ", 2)[2][:-len(" (skipped)")]
                                          for line in cli.err.splitlines()[:-1]]
    assert [r for r, _ in res.errors] == [1]


def test_columns_the_seed_rows():
    res = cgcli.columns("(x+y)*z", {"x": [1, 2], "y": [3, 0.5], "z": [-3, 4]})
    assert {k: v.tolist() for k, v in res.items()} == {
        "value": [-12.0, 10.0], "grad_x": [-3.0, 4.0], "grad_y": [-3.0, 4.0], "grad_z": [4.0, 2.5]}
    assert res.errors == [] and res.size == 2
    assert res.value.tolist() == [-12.0, 10.0]
    assert list(res.gradients) == ["x", "y", "z"]
    assert isinstance(res.to_dict(), dict) and all(v.dtype == np.float64 for v in res.values())


def test_columns_equal_the_scalar_passes_row_by_row():
    rng = np.random.default_rng(0)
    text = "sigmoid(w*x + b) - log(1 + exp(x*b))"
    data = {"w": rng.normal(size=50), "x": rng.normal(size=50), "b": 0.25}
    res = cgcli.columns(text, data)
    for j in range(50):
        r = cgcli.evaluate(text, {"w": data["w"][j], "x": data["x"][j], "b": 0.25})
        assert math.isclose(res["value"][j], r.value, rel_tol=1e-12)
        for name in ["w", "x", "b"]:
            assert math.isclose(res["grad_" + name][j], r.gradients[name], rel_tol=1e-12, abs_tol=1e-15)


def test_columns_broadcast_numbers_and_wrt():
    res = cgcli.columns("x*y + w", {"x": [1, 2, 3], "y": 2, "w": 0.5}, wrt="x,y")
    assert res.to_dict().keys() == {"value", "grad_x", "grad_y"}
    assert res["value"].tolist() == [2.5, 4.5, 6.5]
    assert res["grad_x"].tolist() == [2.0, 2.0, 2.0]
    assert res["grad_y"].tolist() == [1.0, 2.0, 3.0]


def test_columns_an_input_the_output_does_not_read():
    res = cgcli.columns("p = x*2; q = y", {"x": [1, 2]}, output="p", wrt=["x", "y"])
    assert res["value"].tolist() == [2.0, 4.0]
    assert res["grad_y"].tolist() == [0.0, 0.0]


def test_columns_the_row_count_comes_from_other_entries_when_no_input_is_an_array():
    res = cgcli.columns("2*x", {"x": 3.0, "id": ["a", "b", "c", "d"]})
    assert res["value"].tolist() == [6.0] * 4
    assert cgcli.columns("2 + 3", {})["value"].tolist() == [5.0]


def test_columns_over_many_chunks():
    n = 40_000
    x = np.linspace(0.5, 2.0, n)
    x[12345] = -1.0
    x[33333] = 0.0
    res = cgcli.columns("sqrt(x) * x", {"x": x})
    assert [r for r, _ in res.errors] == [12345, 33333]
    good = np.delete(np.arange(n), [12345, 33333])
    assert np.array_equal(res["value"][good], np.sqrt(x[good]) * x[good])
    assert np.allclose(res["grad_x"][good], 1.5 * np.sqrt(x[good]), rtol=1e-14)


def test_columns_nonfinite_reports_no_errors():
    res = cgcli.columns("log(x)", {"x": [1.0, 0.0]}, nonfinite=True)
    assert res.errors == [] and res["value"].tolist() == [0.0, -math.inf]


def test_columns_nan_in_the_data_is_a_bad_row():
    res = cgcli.columns("x + 1", {"x": [1.0, math.nan]})
    assert [r for r, _ in res.errors] == [1]
    with pytest.raises(CgraphError) as e:
        cgcli.evaluate("x + 1", {"x": math.nan})
    assert res.errors[0][1] == e.value.message


def test_columns_errors():
    with pytest.raises(CgraphError) as e:
        cgcli.columns("x*y", {"x": [1, 2]})
    assert e.value.status == 1 and e.value.message == "no column for input y"
    with pytest.raises(CgraphError) as e:
        cgcli.columns("x*y", {"x": [1, 2], "y": [1, 2, 3]})
    assert e.value.status == 1 and e.value.message == "column y has 3 rows, the others 2"
    with pytest.raises(CgraphError) as e:
        cgcli.columns("x", {"x": ["a", "b"]})
    assert e.value.status == 1
    with pytest.raises(CgraphError) as e:
        cgcli.columns("x", {"x": [[1, 2], [3, 4]]})
    assert e.value.status == 1
    with pytest.raises(UsageError):
        cgcli.columns("x", {"x": [1]}, wrt="q")


def test_columns_reads_anything_with_in_and_getitem():
    class Frame:  # as a pandas or Polars DataFrame: `name in df`, `df[name]`, no .keys() needed
        def __init__(self, cols):
            self.cols = cols
            self.columns = list(cols)

        def __contains__(self, k):
            return k in self.cols

        def __getitem__(self, k):
            return self.cols[k]

    res = cgcli.columns("x - y", Frame({"x": [5, 6], "y": (1, 1)}))
    assert res["value"].tolist() == [4.0, 5.0]
    res = cgcli.columns("2*x", Frame({"x": 1.0, "y": [0, 0, 0]}))
    assert res["value"].tolist() == [2.0, 2.0, 2.0]


def test_columns_result_merges_into_a_batch():
    batch = {"id": np.array([7, 8]), "x": np.array([1.0, 2.0])}
    out = {**batch, **cgcli.columns("x^2", batch)}
    assert list(out) == ["id", "x", "value", "grad_x"]
    assert out["grad_x"].tolist() == [2.0, 4.0]
    assert json.dumps({k: v.tolist() for k, v in out.items()})
