"""`cgraph explain`: both passes step by step, the chain rule with the numbers."""

import json
import math

import pytest
from conftest import ok, run  # noqa: E402

from cgcli.core.language import parse_program
from cgcli.core.passes import evaluate
from cgcli.core.primitives import PRIMITIVES, VARIADIC
from cgcli.features.explain import explain

SEED = ["(x+y)*z", "x=1", "y=3", "z=-3"]



SEED_TEXT = """\
p, g are names given here to results the program leaves unnamed.

Forward pass: each node's value from its inputs, inputs first:
  x = 1
  y = 3
  p = x + y = 1 + 3 = 4
  z = -3
  g = p * z = 4 * (-3) = -12

Backward pass: from dg/dg = 1, each node's gradient is upstream gradient * local derivative, summed over the node's uses:
  dg/dg = 1
  dg/dz = dg/dg * ∂g/∂z = 1 * 4 = 4
      where ∂g/∂z = p = 4
  dg/dp = dg/dg * ∂g/∂p = 1 * (-3) = -3
      where ∂g/∂p = z = -3
  dg/dy = dg/dp * ∂p/∂y = -3 * 1 = -3
      where ∂p/∂y = 1
  dg/dx = dg/dp * ∂p/∂x = -3 * 1 = -3
      where ∂p/∂x = 1

So g = -12; dg/dx = -3, dg/dy = -3, dg/dz = 4.
"""


def test_seed_example_plain_matches_the_tutorial():
    r = ok("explain", *SEED)
    assert r.stdout == SEED_TEXT
    assert r.stderr == ""
    # the tutorial's steps: dg/dg = 1; dg/dz = p = 4; dg/dp = z = -3; dg/dx = dg/dp * dp/dx = -3 * 1 = -3
    lines = [ln.strip() for ln in r.stdout.splitlines()]
    assert "dg/dg = 1" in lines
    assert "where ∂g/∂z = p = 4" in lines and lines[lines.index("where ∂g/∂z = p = 4") - 1].endswith("= 4")
    assert "where ∂g/∂p = z = -3" in lines
    assert "dg/dx = dg/dp * ∂p/∂x = -3 * 1 = -3" in lines
    assert "dg/dy = dg/dp * ∂p/∂y = -3 * 1 = -3" in lines


def test_named_program_uses_its_own_names():
    out = ok("explain", "p = x + y; g = p * z", "x=1", "y=3", "z=-3").stdout
    assert out == SEED_TEXT.split("\n", 2)[2]  # the same, without the line about names


def test_seed_example_json_steps():
    obj = json.loads(ok("explain", *SEED, "--format", "json").stdout)
    assert obj["output"] is None and obj["output_label"] == "g"
    assert obj["value"] == -12 and obj["gradients"] == {"x": -3, "y": -3, "z": 4}
    assert obj["named_here"] == ["p", "g"]
    fwd = [s for s in obj["steps"] if s["pass"] == "forward"]
    bwd = [s for s in obj["steps"] if s["pass"] == "backward"]
    assert [(s["name"], s["value"]) for s in fwd] == [("x", 1), ("y", 3), ("p", 4), ("z", -3), ("g", -12)]
    p = fwd[2]
    assert p["op"] == "add" and p["expr"] == "x + y" and p["operands"] == [1, 3]
    assert p["text"] == ["p = x + y = 1 + 3 = 4"]
    assert [(s["name"], s["grad"]) for s in bwd] == [("g", 1), ("z", 4), ("p", -3), ("y", -3), ("x", -3)]
    z = bwd[1]["terms"]
    assert z == [{"via": 4, "via_name": "g", "arg": 1, "upstream": 1, "local": 4, "local_formula": "p",
                  "product": 4}]
    x = bwd[4]["terms"]
    assert x == [{"via": 2, "via_name": "p", "arg": 0, "upstream": -3, "local": 1, "local_formula": "1",
                  "product": -3}]
    assert bwd[4]["text"] == ["dg/dx = dg/dp * ∂p/∂x = -3 * 1 = -3", "    where ∂p/∂x = 1"]


def test_pretty_format_for_a_terminal():
    out = ok("explain", *SEED, "--format", "pretty").stdout
    assert "\x1b[" not in out  # no colour when not on a terminal
    assert "  g = p * z = 4 * (-3) = -12" in out
    assert "  dg/dx = dg/dp * ∂p/∂x = -3 * 1 = -3" in out
    assert "So g = -12; dg/dx = -3, dg/dy = -3, dg/dz = 4." in out


def test_precision_rounds_pretty_and_plain_stays_exact():
    args = ["explain", "x/3", "x=1"]
    assert "g = x / 3 = 1 / 3 = 0.333\n" in ok(*args, "--format", "pretty", "--precision", "3").stdout
    assert "g = x / 3 = 1 / 3 = 0.3333333333333333\n" in ok(*args).stdout


def test_several_uses_are_summed():
    out = ok("explain", "x*y + x", "x=2", "y=5").stdout
    assert "  dg/dx = dg/dg * ∂g/∂x + dg/dp * ∂p/∂x = 1 * 1 + 1 * 5 = 1 + 5 = 6\n" in out
    assert "      where ∂g/∂x = 1\n      where ∂p/∂x = y = 5\n" in out
    # the product rule: x * x uses x twice
    out = ok("explain", "x*x", "x=3").stdout
    assert "  dg/dx = dg/dg * ∂g/∂x + dg/dg * ∂g/∂x = 1 * 3 + 1 * 3 = 3 + 3 = 6\n" in out
    assert "where ∂g/∂x (operand 1) = x = 3" in out and "where ∂g/∂x (operand 2) = x = 3" in out


def test_negative_upstream_in_a_sum_is_parenthesized():
    out = ok("explain", "x*y - x*x", "x=1", "y=2").stdout
    assert "dg/dx = dg/dq * ∂q/∂x + dg/dq * ∂q/∂x + dg/dp * ∂p/∂x = -1 * 1 + (-1) * 1 + 1 * 2" in out


def test_local_derivative_rules_are_named():
    out = ok("explain", "tanh(a)", "a=0.5").stdout
    assert "where ∂g/∂a = 1 - tanh(a)^2 = %r" % (1 - math.tanh(0.5) ** 2) in out
    out = ok("explain", "exp(w*x)", "w=2", "x=0").stdout
    assert "where ∂g/∂p = exp(p) = 1" in out
    out = ok("explain", "x^3", "x=2").stdout
    assert "where ∂g/∂x = 3 * x^(3 - 1) = 12" in out
    out = ok("explain", "x/y", "x=1", "y=-2").stdout
    assert "where ∂g/∂y = -x/y^2 = -0.25" in out


def test_kinks_are_explained():
    out = ok("explain", "relu(x)", "x=0").stdout
    assert "relu has a kink at x = 0: the backward pass takes relu'(0) = 0, as PyTorch does" in out
    out = ok("explain", "max(x, y)", "x=1", "y=1").stdout
    assert "a tie: x and y are both the largest (1), so the gradient is shared equally" in out
    assert "dg/dx = dg/dg * ∂g/∂x = 1 * 0.5 = 0.5" in out


def test_constants_and_rebinding():
    out = ok("explain", "h = 0.5; h = tanh(w*h + x); 2*h", "w=0.3", "x=1").stdout
    assert "  h@1 = 0.5\n" in out
    assert "  p = w * h@1 = 0.3 * 0.5 = 0.15\n" in out
    assert "  h@2 = tanh(q) = tanh(1.15) = " in out
    assert "  g = 2 * h@2 = 2 * " in out
    assert "dg/dw = " in out and "dg/dh@1" not in out  # a constant gets no gradient


def test_no_inputs_means_no_backward_pass():
    r = ok("explain", "2 + 3")
    assert "The output depends on no input: there is no backward pass." in r.stdout
    assert "  g = 2 + 3 = 5\n" in r.stdout and "Backward" not in r.stdout


def test_errors():
    r = run("explain", "(x+y)*z", "x=1")
    assert r.exit_code == 1 and r.stderr.startswith("error: unbound inputs: y, z")
    r = run("explain", "log(x)", "x=-1")
    assert r.exit_code == 1 and r.stderr.startswith("error: log(x) is undefined")
    r = run("explain", "x", "x=1", "q=2")
    assert r.exit_code == 0 and r.stderr == "warning: q is bound but the program never reads it\n"


def test_help_has_examples():
    r = ok("explain", "--help")
    assert "Examples:" in r.stdout and 'cgraph explain "(x+y)*z" x=1 y=3 z=-3' in r.stdout


@pytest.mark.parametrize("text, bindings", [
    ("(x+y)*z", {"x": 1, "y": 3, "z": -3}),
    ("sin(x)*cos(y) + x*x*y - exp(-x/y)", {"x": 0.3, "y": 1.7}),
    ("h = 0; h = tanh(w*h + a); h = tanh(w*h + b); h = tanh(w*h + c)", {"w": 0.7, "a": 1, "b": -2, "c": 0.5}),
    ("max(x, y, 2*x) - min(x, y) + abs(x - y) + relu(y)", {"x": 1.5, "y": 3}),
    ("sigmoid(x)^2 / softplus(y) + log2(x) + log10(y) + sqrt(x*y)", {"x": 2, "y": 5}),
])
def test_totals_are_the_backward_pass_gradients(text, bindings):
    prog = parse_program(text)
    res = evaluate(prog, bindings)
    ex = explain(parse_program(text), bindings)
    by_id = {s.data["id"]: s.data for s in ex.backward}
    for i, grad in enumerate(res.grads):
        if grad is not None:
            step = by_id[i]
            assert step["grad"] == grad
            if step["terms"]:  # the shown products, summed in order, give the total exactly
                total = 0.0
                for t in step["terms"]:
                    assert t["product"] == t["upstream"] * t["local"]
                    total += t["product"]
                assert total == grad


FORMULA_ROWS = [p for p in PRIMITIVES.values() if p.name not in ("relu", "abs", "min", "max")]


@pytest.mark.parametrize("prim", FORMULA_ROWS, ids=[p.name for p in FORMULA_ROWS])
def test_dtext_formulas_agree_with_the_derivative_rules(prim):
    """Every row's formula, read back by the parser where it is an expression,
    gives the number the backward pass uses."""
    assert len(prim.dtext) == (1 if prim.arity in (1, VARIADIC) else prim.arity)
    xs = [0.4, 1.7][:prim.arity]
    if prim.arity == 1:
        out = prim.f(xs[0])
        df = prim.df(xs[0], out) if callable(prim.df) else prim.df[0]
        derivs = [df]
    else:
        out = prim.f(*xs)
        df = prim.df
        derivs = [xs[1], xs[0]] if df == "product" else (list(df) if isinstance(df, tuple) else list(df(*xs, out)))
    for k, formula in enumerate(prim.dtext):
        expr = formula.format(*("a", "b"))
        res = evaluate(parse_program(expr), {"a": xs[0], "b": xs[-1]} if "b" in expr else {"a": xs[0]})
        assert res.value == pytest.approx(derivs[k], rel=1e-12), (prim.name, k, expr)


def test_every_row_has_dtext():
    for p in PRIMITIVES.values():
        assert p.dtext and all("{" in t or t.lstrip("-").isdigit() for t in p.dtext), p.name


@pytest.mark.slow
def test_deep_graph_streams():
    n = 100_000
    text = "(" * n + "x" + "*1)" * n
    r = ok("explain", "-f", "-", "x=0.5", input=text)
    lines = r.stdout.splitlines()
    assert len(lines) == 3 * n + 9  # intro, 2 headings, n + 1 forward, 2n + 1 backward, 3 blank, summary
    assert lines[0] == ("p, q, r, s, t, u, ..., g (100000 names) are given here to results "
                        "the program leaves unnamed.")
    assert "  dg/dx = dg/dp * ∂p/∂x = 1 * 1 = 1" in lines
    assert lines[-1] == "So g = 0.5; dg/dx = 1."
