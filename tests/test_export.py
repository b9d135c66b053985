"""cgraph diff --format python | c (issue 14, part 2): the gradient as code.

The contract: the Python function (run in a fresh namespace) and the C function
(compiled with cc -std=c99 -Wall -Werror -pedantic -O2, fed points on stdin, printed
with %.17g) give eval's value and gradient at the same point: the value bit for bit
(the same operations on the same libm), each derivative within a relative 1e-12 of
eval's (or 1e-12 of the gradient's largest entry: the derivative is the simplified
symbolic one, which may round differently); at the kinks exactly eval's. The code is
linear in the graph (a 1,000-step recurrence is about ten times a 100-step one), and
uses only `import math` / `#include <math.h>`.
"""

import math
import os
import re
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cgcli
from cgcli.core.language import parse_program
from cgcli.core.primitives import PRIMITIVES, VARIADIC
from cgcli.features.derive.export import PY, C, export_code

RTOL = 1e-12
CC = shutil.which("cc")
needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler (cc)")


def python_function(expr, wrt=None):
    code = export_code(parse_program(expr), wrt, "python")
    ns = {}
    exec(compile(code, "<export>", "exec"), ns)
    return ns["gradient"], code


def reference(expr, point, wrt=None):
    prog = parse_program(expr)
    names = list(wrt or prog.graph.inputs)
    r = cgcli.evaluate(expr, point, wrt=names)
    return r.value, {n: r.gradients[n] for n in names}


def agree(got, want):
    scale = max([abs(v) for v in want.values()] + [1e-300])
    assert list(got) == list(want)
    for k in want:
        a, b = got[k], want[k]
        assert a == b or abs(a - b) <= RTOL * max(abs(b), scale), (k, a, b)


_MAIN = """
#include <stdio.h>
int main(void)
{
    double in[%(n)d + 1], grad[%(m)d + 1], v;
    int k;
    if (%(n)d == 0) {
        v = gradient(in, grad);
        printf("%%.17g\\n", v);
        return 0;
    }
    for (;;) {
        for (k = 0; k < %(n)d; k++)
            if (scanf("%%lf", &in[k]) != 1)
                return 0;
        v = gradient(in, grad);
        printf("%%.17g", v);
        for (k = 0; k < %(m)d; k++)
            printf(" %%.17g", grad[k]);
        printf("\\n");
    }
}
"""


class CFunction:
    """The exported C compiled with a main that reads points on stdin."""

    def __init__(self, expr, tmp_path, wrt=None):
        prog = parse_program(expr)
        self.inputs = list(prog.graph.inputs)
        self.wrt = list(wrt or self.inputs)
        self.code = export_code(prog, wrt, "c")
        src = tmp_path / "g.c"
        src.write_text(self.code + _MAIN % {"n": len(self.inputs), "m": len(self.wrt)})
        self.exe = str(tmp_path / "g")
        r = subprocess.run([CC, "-std=c99", "-Wall", "-Werror", "-pedantic", "-O2", str(src), "-o", self.exe, "-lm"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr

    def __call__(self, points):
        text = "\n".join(" ".join(repr(float(p[n])) for n in self.inputs) for p in points) + "\n"
        r = subprocess.run([self.exe], input=text, capture_output=True, text=True, check=True)
        out = []
        for line in r.stdout.splitlines():
            vals = [float(w) for w in line.split()]
            out.append((vals[0], dict(zip(self.wrt, vals[1:]))))
        return out


EXPRS = [
    "(x+y)*z",
    "x^2*y + sin(x)",
    "tanh(w*x + b) * log(1 + y^2) / (2 + cos(x*y))",
    "sigmoid(x)*softplus(y) - exp(-x^2)*atan(y)",
    "sqrt(x^2 + y^2 + 1) + log2(1 + x^2) - log10(2 + y^2)",
    "asin(x/(1 + x^2)) * acos(y/(2 + y^2)) + sinh(x/3)*cosh(y/4) + tan(x/5)",
    "a = x*y; b = a + sin(a); c = b*b - a; c/(1 + a^2)",
    "relu(x - y) + abs(x*y) + max(x, y, 0.5) - min(x, 2*y)",
    "(2 + x^2)^(y/3) + 2^x",
]

points = st.fixed_dictionaries({n: st.floats(-2, 2, allow_nan=False) for n in ("x", "y", "z", "w", "b")})


@pytest.mark.parametrize("expr", EXPRS)
@settings(max_examples=25, deadline=None, derandomize=True)
@given(point=points)
def test_python_matches_eval(expr, point):
    f, _ = python_function(expr)
    inputs = list(parse_program(expr).graph.inputs)
    value, grads = f(*[point[n] for n in inputs])
    want_v, want_g = reference(expr, {n: point[n] for n in inputs})
    assert value == want_v
    agree(grads, want_g)


@needs_cc
@pytest.mark.parametrize("expr", EXPRS)
def test_c_matches_eval(expr, tmp_path):
    import random
    rnd = random.Random(14)
    fn = CFunction(expr, tmp_path)
    pts = [{n: round(rnd.uniform(-2, 2), 6) or 0.5 for n in fn.inputs} for _ in range(60)]
    for p, (value, grads) in zip(pts, fn(pts), strict=True):
        want_v, want_g = reference(expr, p)
        assert value == want_v or abs(value - want_v) <= 4 * math.ulp(want_v), (p, value, want_v)
        agree(grads, want_g)


def _uses(name):
    """An expression calling primitive `name` with operands in its domain for x, y in [0.5, 1.5]."""
    p = PRIMITIVES[name]
    if p.arity == VARIADIC:
        return "%s(x, y, 0.7)" % name
    if p.symbol is not None:
        return ("-x" if p.arity == 1 else "x %s y" % p.symbol)
    return "%s(0.3*x + 0.2*y)" % name


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_every_primitive_exports(name, tmp_path):
    """The table walked: a new primitive without a Python and a C form fails here."""
    assert name in PY or name in ("add", "sub", "mul", "div", "neg")
    assert name in C or name in ("add", "sub", "mul", "div", "neg")
    expr = _uses(name)
    f, _ = python_function(expr)
    for x, y in [(0.5, 1.5), (1.25, 0.75), (0.9, 0.9)]:
        value, grads = f(x, y) if "y" in expr else f(x)
        want_v, want_g = reference(expr, {"x": x, "y": y} if "y" in expr else {"x": x})
        assert value == want_v
        agree(grads, want_g)
    if CC:
        fn = CFunction(expr, tmp_path)
        pts = [{"x": 0.5, "y": 1.5}, {"x": 1.25, "y": 0.75}]
        for p, (value, grads) in zip(pts, fn(pts), strict=True):
            want_v, want_g = reference(expr, {n: p[n] for n in fn.inputs})
            assert abs(value - want_v) <= 4 * math.ulp(want_v)
            agree(grads, want_g)


KINKS = [
    ("abs(x) + relu(y)", {"x": 0.0, "y": 0.0}),
    ("relu(x)*3 + abs(y - x)", {"x": 0.0, "y": 0.0}),
    ("max(x, y)", {"x": 1.0, "y": 1.0}),
    ("min(x, y)", {"x": -2.0, "y": -2.0}),
    ("max(x, y, z)", {"x": 2.0, "y": 2.0, "z": 2.0}),
    ("max(x, y, z)", {"x": 2.0, "y": 2.0, "z": 1.0}),
    ("min(x, y, z) + max(x, 1)", {"x": 1.0, "y": 1.0, "z": 3.0}),
    ("step(x) + sign(y)*x", {"x": 0.0, "y": 0.0}),
    ("x^2 + y^3", {"x": 0.0, "y": 0.0}),
    ("x^y", {"x": 0.0, "y": 2.0}),  # pow at a zero base: PyTorch's limits, as the backward pass
    ("x^y", {"x": 0.0, "y": 0.0}),
    ("x^y", {"x": 0.0, "y": 1.0}),
    ("z*x^(y + 1)", {"x": 0.0, "y": -1.0, "z": 3.0}),
]


@pytest.mark.parametrize("expr,point", KINKS)
def test_kinks_are_the_backward_pass_conventions(expr, point, tmp_path):
    f, _ = python_function(expr)
    inputs = list(parse_program(expr).graph.inputs)
    want_v, want_g = reference(expr, point)
    value, grads = f(*[point[n] for n in inputs])
    assert (value, grads) == (want_v, want_g)
    if CC:
        [(value, grads)] = CFunction(expr, tmp_path)([point])
        assert (value, grads) == (want_v, want_g)
    # hand-checked: max of three tied shares 1/3 each, abs'(0) = relu'(0) = 0
    if expr == "max(x, y, z)" and point["z"] == 2.0:
        assert want_g == {"x": 1 / 3, "y": 1 / 3, "z": 1 / 3}
    if expr == "x^y" and point["y"] == 0.0:
        assert (want_v, want_g) == (1.0, {"x": 0.0, "y": 0.0})
    if expr == "abs(x) + relu(y)":
        assert want_g == {"x": 0.0, "y": 0.0}


def _recurrence(steps):
    return "h = x\n" + "h = tanh(w*h + x)\n" * steps + "h"


@needs_cc
def test_recurrence_is_linear_and_compiles(tmp_path):
    small = export_code(parse_program(_recurrence(100)), None, "c")
    big = CFunction(_recurrence(1000), tmp_path)
    assert 9 < len(big.code) / len(small) < 11
    py_small = export_code(parse_program(_recurrence(100)), None, "python")
    py_big = export_code(parse_program(_recurrence(1000)), None, "python")
    assert 9 < len(py_big) / len(py_small) < 11
    assert "def gradient(x, w):" in py_big and big.inputs == ["x", "w"]
    assert max(len(line) for line in big.code.splitlines()) < 200
    pts = [{"w": 0.9, "x": 0.1}, {"w": -0.5, "x": 0.3}]
    ns = {}
    exec(py_big, ns)
    for p, (value, grads) in zip(pts, big(pts), strict=True):
        want_v, want_g = reference(_recurrence(1000), p)
        assert abs(value - want_v) <= 4 * math.ulp(want_v)
        agree(grads, want_g)
        pv, pg = ns["gradient"](p["x"], p["w"])  # the order the program first reads them
        assert pv == want_v
        agree(pg, want_g)


def test_only_math():
    expr = "sigmoid(x) + softplus(y) + relu(x) + max(x, y) + min(x, y) + abs(x) + step(y) + sign(x) + x^y"
    py = export_code(parse_program(expr), None, "python")
    assert [ln for ln in py.splitlines() if re.match(r"\s*(import|from)\b", ln)] == ["import math"]
    c = export_code(parse_program(expr), None, "c")
    assert [ln for ln in c.splitlines() if ln.startswith("#")] == ["#include <math.h>"]
    # helpers only when used
    assert "_relu" not in export_code(parse_program("x*y"), None, "python")
    assert "cg_" not in export_code(parse_program("sin(x)*y"), None, "c")


CLASHES = "in*int + double^2 + math*grad + lambda*gradient + t1*cg_max + NAN + def + return + main + sin"


def test_names_that_clash(tmp_path):
    f, code = python_function(CLASHES)
    prog = parse_program(CLASHES)
    inputs = list(prog.graph.inputs)
    assert "def gradient(in_, int, double, math_, grad, lambda_, gradient_, t1, cg_max, NAN, def_, return_, main, sin)" \
        in code
    point = {n: 0.5 + k / 7 for k, n in enumerate(inputs)}
    value, grads = f(*[point[n] for n in inputs])
    want_v, want_g = reference(CLASHES, point)
    assert value == want_v and list(grads) == inputs
    agree(grads, want_g)
    if CC:
        fn = CFunction(CLASHES, tmp_path)
        assert "const double in_ = in[0];" in fn.code and "const double sin_ = in[13];" in fn.code
        [(value, grads)] = fn([point])
        assert abs(value - want_v) <= 4 * math.ulp(want_v)
        agree(grads, want_g)


def test_wrt_subset_and_unread_inputs(tmp_path):
    expr = "a = q*2; x*y + z^2"
    f, code = python_function(expr, ["z", "x"])
    assert "def gradient(q, x, y, z):" in code
    assert f(1.0, 2.0, 3.0, 4.0) == (22.0, {"z": 8.0, "x": 3.0})
    g, _ = python_function(expr)
    assert g(1.0, 2.0, 3.0, 4.0) == (22.0, {"q": 0.0, "x": 3.0, "y": 2.0, "z": 8.0})
    if CC:
        fn = CFunction(expr, tmp_path, ["z", "x"])
        assert fn([{"q": 1, "x": 2, "y": 3, "z": 4}]) == [(22.0, {"z": 8.0, "x": 3.0})]


def test_domain_errors():
    f, _ = python_function("log(x)")
    with pytest.raises(ValueError):
        f(-1.0)
    f, _ = python_function("sqrt(x)")
    with pytest.raises(ValueError):
        f(-1.0)
    f, _ = python_function("1/x")
    with pytest.raises(ZeroDivisionError):
        f(0.0)


@needs_cc
def test_c_domain_errors_are_ieee(tmp_path):
    [(value, grads)] = CFunction("log(x)", tmp_path)([{"x": -1.0}])
    assert math.isnan(value) and grads["x"] == -1.0  # 1/x is defined there
    [(value, grads)] = CFunction("sqrt(x)", tmp_path)([{"x": -1.0}])
    assert math.isnan(value) and math.isnan(grads["x"])
    [(value, grads)] = CFunction("1/x", tmp_path)([{"x": 0.0}])
    assert value == math.inf and grads["x"] == -math.inf


def test_no_inputs(tmp_path):
    f, _ = python_function("2*pi")
    assert f() == (2 * math.pi, {})
    if CC:
        assert CFunction("2*pi", tmp_path)([{}]) == [(2 * math.pi, {})]


def test_command_line(cg):
    r = cg("diff", "(x+y)*z", "--format", "python")
    assert r.status == 0
    ns = {}
    exec(r.out, ns)
    assert ns["gradient"](1.0, 3.0, -3.0) == (-12.0, {"x": -3.0, "y": -3.0, "z": 4.0})
    r = cg("diff", "(x+y)*z", "--format", "c", "--wrt", "z,x")
    assert r.status == 0 and "grad[0] = x + y;" in r.out and "grad[1] = z;" in r.out
    r = cg("diff", "u = x*y; v = x + y", "--output", "u,v", "--format", "c")
    assert r.status == 2
    assert r.err.startswith("error: --format c exports one output's gradient; --output names several")
    r = cg("diff", "x^3", "--wrt", "x", "--order", "2", "--format", "python")
    assert r.status == 2 and "--order and a repeated --wrt are for --format text" in r.err
    r = cg("diff", "x*y", "--wrt", "x", "--wrt", "y", "--format", "python")
    assert r.status == 2
    r = cg("diff", "x*y", "--wrt", "q", "--format", "c")
    assert r.status == 2 and r.err.startswith("error: --wrt: q is not an input")
    r = cg("diff", "x*y", "--format", "fortran")
    assert r.status == 2
    r = cg("diff", "x*", "--format", "c")
    assert r.status == 2 and "Traceback" not in r.err


def _deep(levels):
    e = "x"
    for k in range(levels):
        e = "sin(%s)*1.0001 + y" % e if k % 2 else "cos(%s)" % e
    return e


def test_deep_nesting_is_cut_into_temporaries(tmp_path):
    """1,500 nested calls: no line nests past MAX_DEPTH, so Python's parser and cc take it."""
    expr = _deep(1500)
    f, code = python_function(expr)
    assert max(len(line) for line in code.splitlines()) < 200
    want_v, want_g = reference(expr, {"x": 0.3, "y": 0.2})
    value, grads = f(0.3, 0.2)
    assert value == want_v
    agree(grads, want_g)
    if CC:
        [(value, grads)] = CFunction(expr, tmp_path)([{"x": 0.3, "y": 0.2}])
        assert abs(value - want_v) <= 4 * math.ulp(want_v)
        agree(grads, want_g)


SAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "samples")


@pytest.mark.parametrize("name", sorted(n for n in os.listdir(SAMPLES) if n.endswith(".cg")))
def test_samples_export(name, tmp_path):
    with open(os.path.join(SAMPLES, name)) as fh:
        text = fh.read()
    inputs = list(parse_program(text).graph.inputs)
    point = {n: 0.25 + k / 10 for k, n in enumerate(inputs)}
    want_v, want_g = reference(text, point)
    f, _ = python_function(text)
    value, grads = f(*[point[n] for n in inputs])
    assert value == want_v
    agree(grads, want_g)
    if CC:
        [(value, grads)] = CFunction(text, tmp_path)([point])
        assert abs(value - want_v) <= 4 * math.ulp(want_v)
        agree(grads, want_g)
