"""The graph (docs/internals.md): one node per distinct operation, gradients summed over
uses, a topologically ordered tape, and no recursion on depth (issue 2, point 4)."""

import math
import sys
import time

import pytest

from cgcli.core.language import parse_program
from cgcli.core.passes import evaluate
from cgcli.core.tape import Graph


def run(src, **b):
    return evaluate(parse_program(src), b)


def test_identical_subexpressions_are_one_node():
    r = run("(x+y)*(x+y)", x=1.0, y=2.0)
    assert r.graph.ops == ["var", "var", "add", "mul"]
    assert r.graph.args[3] == (2, 2)
    assert r.value == 9.0
    assert r.gradients == {"x": 6.0, "y": 6.0}  # 2*(x+y), the sum over both uses
    assert r.grads[2] == 6.0


def test_a_variable_used_many_times_is_one_node_with_the_summed_gradient():
    r = run("x*x*x + x", x=2.0)
    assert r.graph.ops.count("var") == 1
    assert r.gradients == {"x": 3 * 4.0 + 1}


def test_shared_weight_gradient_is_the_sum_over_uses():
    r = run("w*a + w*b + w*c", w=0.5, a=1.0, b=2.0, c=3.0)
    assert r.gradients["w"] == 6.0


def test_nodes_are_in_topological_order():
    r = run("h = tanh(w*h0 + x1); h = tanh(w*h + x2); loss = (h - y)^2",
            w=0.3, h0=0.1, x1=1.0, x2=2.0, y=0.5)
    for i, args in enumerate(r.graph.args):
        assert all(a < i for a in args)
    assert len(r.values) == len(r.grads) == len(r.graph.ops)


def test_unused_statements_are_not_part_of_the_output_graph():
    r = run("a = log(x); b = y + 1", x=-1.0, y=2.0)  # log(-1) is never computed
    assert r.value == 3.0 and r.gradients == {"x": 0.0, "y": 1.0}  # x is read, so reported (gradient 0)
    assert r.graph.ops == ["var", "const", "add"]


def test_constants_have_no_gradient():
    r = run("2*x", x=3.0)
    assert r.gradients == {"x": 2.0}
    assert r.grads[r.graph.ops.index("const")] is None


def test_gradient_against_finite_differences_on_a_composite():
    src = "sigmoid(w1*x + b)^2 + log(1 + exp(w2*x)) - tanh(w1*w2)/(1 + x^2)"
    b = dict(w1=0.7, w2=-0.4, b=0.1, x=1.3)
    r = evaluate(parse_program(src), b)
    for k in b:
        h = 1e-6
        up = evaluate(parse_program(src), dict(b, **{k: b[k] + h})).value
        dn = evaluate(parse_program(src), dict(b, **{k: b[k] - h})).value
        assert r.gradients[k] == pytest.approx((up - dn) / (2 * h), rel=1e-7)


def test_graph_api_hash_conses():
    g = Graph()
    x, y = g.var("x"), g.var("y")
    a = g.apply("add", x, y)
    assert g.apply("add", x, y) == a
    assert g.apply("add", y, x) != a  # syntactic identity only
    assert g.const(2.0) == g.const(2.0) != g.const(-0.0)


# ---- depth and size: nothing recurses ------------------------------------------

@pytest.fixture
def shallow_stack():
    """Allow only a little more Python stack than the test already uses: any
    recursion on the depth of the expression would raise RecursionError."""
    import inspect
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 120)
    yield
    sys.setrecursionlimit(old)


N = 100_000


def timed(f):
    t = time.perf_counter()
    r = f()
    return r, time.perf_counter() - t


@pytest.mark.slow
def test_100k_nested_parentheses(shallow_stack):
    r = run("(" * N + "x + 1" + ")" * N, x=2.0)
    assert r.value == 3.0 and r.gradients == {"x": 1.0}


@pytest.mark.slow
def test_100k_deep_chain_of_tanh(shallow_stack):
    r = run("tanh(" * N + "x" + ")" * N, x=0.5)
    v, d = 0.5, 1.0
    for _ in range(N):
        v = math.tanh(v)
        d *= 1 - v * v
    assert r.value == pytest.approx(v, rel=1e-12)
    assert r.gradients["x"] == pytest.approx(d, rel=1e-9)
    assert len(r.graph.ops) == N + 1


@pytest.mark.slow
def test_100k_nested_unary_minus_and_powers(shallow_stack):
    assert run("-" * N + "x", x=2.0).value == 2.0
    assert run("x" + "^1" * N, x=2.0).value == 2.0  # right-associative: x^(1^(1^...))


@pytest.mark.slow
def test_million_term_sum():
    src = "+".join("x%d" % (i % 1000) for i in range(1_000_000))
    b = {"x%d" % i: float(i) for i in range(1000)}
    r = evaluate(parse_program(src), b)
    assert r.value == 1000 * sum(range(1000))
    assert r.gradients == {k: 1000.0 for k in b}


@pytest.mark.slow
def test_deep_program_through_the_cli(cg):
    r = cg("eval", "--summary", "--format", "json", "--", "-(" * N + "x" + ")" * N, "x=3")
    assert r.status == 0 and r.json()["value"] == 3.0
    r = cg("eval", "--format", "plain", "--", "sin(" * 20000 + "x" + ")" * 20000, "x=1")
    lines = r.out.splitlines()
    assert r.status == 0 and len(lines) == 20002
    assert max(len(line) for line in lines) < 200  # deep subexpressions are written as #id
