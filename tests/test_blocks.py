"""The block plan (core/blocks.py): wide graphs as whole-array operations.

The property: on random wide graphs (layers written as scalars, sums of many terms,
shared inputs, constants, every primitive including the kinks and the variadic ones)
the block path's values and gradients agree with the scalar passes (core/passes.py),
row by row, within TOL: |block - scalar| <= TOL * (1 + |scalar|). The block path is
deterministic (two runs give the same bits) and finds the same bad rows as the
per-node column passes. Sums and the training loop's network are bit-for-bit the
per-node column passes' numbers.
"""

import math
import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cgcli.core import blocks, columns, passes
from cgcli.core.language import parse_program
from cgcli.core.tape import Graph

TOL = 1e-11  # relative, with a floor of TOL at |scalar| < 1 (a few ulps of the terms added)

UNARY = ["neg", "exp", "log", "log2", "log10", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
         "cosh", "tanh", "sigmoid", "relu", "softplus", "abs", "step", "sign"]
BINARY = ["add", "sub", "mul", "div", "pow"]


def _unary(g, rng, op, z):
    """op applied to an argument inside its domain, made from z."""
    if op in ("log", "log2", "log10", "sqrt"):
        z = g.apply("add", g.const(1.0), g.apply("mul", z, z))
    elif op in ("asin", "acos"):
        z = g.apply("mul", g.const(0.5), g.apply("tanh", z))
    elif op in ("exp", "sinh", "cosh", "tan"):
        z = g.apply("tanh", z)
    return g.apply(op, z)


def _binary(g, rng, op, a, b):
    if op == "div":
        b = g.apply("add", g.const(1.5), g.apply("mul", b, b))
    elif op == "pow":
        if rng.random() < 0.5:
            return g.apply("pow", a, g.const(rng.choice([2.0, 3.0, 0.0])))
        a = g.apply("add", g.const(1.0), g.apply("mul", a, a))
        b = g.apply("tanh", b)
    return g.apply(op, a, b)


def wide_graph(seed, layers, width, terms):
    """Inputs x0..x2 (columns) and parameters w* (numbers); `layers` layers of `width`
    nodes, each a primitive of earlier nodes (shared), a sum of `terms` products, or
    min/max; the output the sum of the last layer."""
    rng = random.Random(seed)
    g = Graph()
    prev = [g.var("x%d" % k) for k in range(3)] + [g.const(rng.choice([0.0, 1.0, -2.0, 0.25]))]
    wn = 0
    for _ in range(layers):
        cur = []
        for _ in range(width):
            kind = rng.random()
            if kind < 0.35:  # a neuron: tanh/relu/... of a sum of weighted terms
                s = None
                for _ in range(terms):
                    w = g.var("w%d" % wn)
                    wn += 1
                    t = g.apply("mul", w, rng.choice(prev))
                    s = t if s is None else g.apply(rng.choice(["add", "add", "sub"]), s, t)
                cur.append(_unary(g, rng, rng.choice(UNARY), s))
            elif kind < 0.7:
                cur.append(_unary(g, rng, rng.choice(UNARY), rng.choice(prev)))
            elif kind < 0.9:
                cur.append(_binary(g, rng, rng.choice(BINARY), rng.choice(prev), rng.choice(prev)))
            else:
                xs = [rng.choice(prev) for _ in range(rng.randint(2, 4))]
                cur.append(g.apply(rng.choice(["min", "max"]), *xs))
        prev = cur + prev[:2]
    out = prev[0]
    for t in prev[1:]:
        out = g.apply("add", out, t)
    return g


def bindings(g, rows, seed):
    rng = np.random.default_rng(seed)
    b = {}
    for name in g.inputs:
        b[name] = rng.uniform(-1.5, 1.5, rows) if name.startswith("x") else float(rng.uniform(-1, 1))
    return b


def block_run(g, cols, size):
    plan = blocks.compile(g)
    with np.errstate(all="ignore"):
        V, G = plan.run(np, cols, size)
    return columns.Values(plan, V), columns.Grads(plan, G)


def close(a, b):
    return abs(a - b) <= TOL * (1.0 + abs(b)) or (math.isnan(a) and math.isnan(b)) or a == b


@given(st.integers(0, 10**6), st.integers(1, 4), st.integers(2, 12), st.integers(2, 9))
def test_block_path_agrees_with_the_scalar_passes(seed, layers, width, terms):
    g = wide_graph(seed, layers, width, terms)
    rows = 5
    cols = bindings(g, rows, seed)
    v, gr = block_run(g, cols, rows)
    for j in range(rows):
        b = {k: (float(x[j]) if isinstance(x, np.ndarray) else x) for k, x in cols.items()}
        sv = passes.forward(g, b)
        sg = passes.backward(g, sv)
        for i in range(len(g.ops)):
            assert close(float(v[i][j]), sv[i]), (i, g.ops[i], float(v[i][j]), sv[i])
            if sg[i] is None:
                assert gr[i] is None
            else:
                assert close(float(gr[i][j]), sg[i]), (i, g.ops[i], float(gr[i][j]), sg[i])
    # determinism: a second run gives the same bits
    v2, gr2 = block_run(g, cols, rows)
    assert np.array_equal(v.V, v2.V) and np.array_equal(gr.G, gr2.G)


def test_a_sum_of_many_terms_is_one_group_and_the_same_doubles():
    text = "y = " + " + ".join("w%d*x%d" % (k, k % 3) for k in range(40)) + " - 0.1*x0\ny"
    g = parse_program(text).graph
    plan = blocks.compile(g)
    # the products (w*x, and 0.1*x0 apart: a constant operand) and ONE sum of 41 terms
    assert [gr.op for gr in plan.groups] == ["mul", "mul", "sum"] and plan.groups[-1].width == 41
    cols = bindings(g, 64, 1)
    v, gr = block_run(g, cols, 64)
    pv, pg = columns.run(g, cols, 64, blocks=False)
    for i in range(len(g.ops)):  # every node, the fused inner sums too
        assert np.array_equal(v[i], pv[i])
        assert (gr[i] is None) == (pg[i] is None)
        if gr[i] is not None:
            # x0's contributions come from two groups, added in the scalar pass's order
            assert np.array_equal(gr[i], pg[i])


def test_the_training_network_is_bit_for_bit_the_per_node_passes():
    h = 8
    lines = ["h1_%d = tanh(a_%d*x1 + b_%d*x2 + c_%d)" % (j, j, j, j) for j in range(h)]
    lines += ["h2_%d = tanh(%s + d_%d)" % (k, " + ".join("W_%d_%d*h1_%d" % (k, j, j) for j in range(h)), k)
              for k in range(h)]
    lines += ["out = sigmoid(%s + e)" % " + ".join("v_%d*h2_%d" % (k, k) for k in range(h)), "(out - y)^2"]
    g, _ = parse_program("\n".join(lines)).cone()
    assert blocks.plan_for(g) is not None
    rng = np.random.default_rng(3)
    cols = {n: float(rng.uniform(-0.5, 0.5)) for n in g.inputs}
    cols.update(x1=rng.uniform(-1, 1, 100), x2=rng.uniform(-1, 1, 100), y=(rng.uniform(size=100) > 0.5) * 1.0)
    v, gr = columns.run(g, cols, 100)
    assert isinstance(v, columns.Values)
    pv, pg = columns.run(g, cols, 100, blocks=False)
    for i in range(len(g.ops)):
        assert np.array_equal(v[i], pv[i])
        if pg[i] is not None:
            assert np.array_equal(gr[i], pg[i])


def test_bad_rows_are_the_per_node_passes_bad_rows():
    text = "s = " + " + ".join("w%d*x" % k for k in range(60)) + "\nlog(s) + sqrt(x)"
    g = parse_program(text).graph
    cols = {"w%d" % k: 0.1 for k in range(60)}
    x = np.linspace(-1, 1, 21)
    x[5] = np.inf
    cols["x"] = x
    v, gr = columns.run(g, cols, 21)
    assert isinstance(v, columns.Values)
    pv, pg = columns.run(g, cols, 21, blocks=False)
    mask = columns.bad_rows(np, v, gr)
    assert mask.tolist() == columns.bad_rows(np, pv, pg).tolist()
    assert np.flatnonzero(mask).tolist() == list(range(11))  # x <= 0: log or its gradient; x[5] inf


def test_an_overflowing_inner_sum_is_not_hidden():
    """The fused inner node is not kept, but its inf reaches the sum."""
    g = parse_program("a*x + a*x + b*x + c\n").graph
    plan = blocks.compile(g)
    cols = {"a": 1e308, "b": -1e308, "c": 0.0, "x": np.array([1.0, 2.0, 0.5])}
    with np.errstate(all="ignore"):
        V, G = plan.run(np, cols, 3)
    mask = columns.bad_rows(np, columns.Values(plan, V), columns.Grads(plan, G))
    assert plan.fused and np.isfinite(V).all(axis=0).tolist() == [False, False, True]
    pv, pg = columns.run(g, cols, 3, blocks=False)
    assert mask.tolist() == columns.bad_rows(np, pv, pg).tolist() == [True, True, True]  # d/dx = 2a + b: inf


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_train_learns_what_the_per_node_passes_learn(tmp_path, monkeypatch, optimizer):
    from cgcli.features import learn
    from cgcli.features import rows as rowsmod
    h = 10
    lines = ["h1_%d = tanh(a_%d*x1 + b_%d*x2 + c_%d)" % (j, j, j, j) for j in range(h)]
    lines += ["out = sigmoid(%s + e)" % " + ".join("v_%d*h1_%d" % (k, k) for k in range(h)), "(out - y)^2"]
    prog = parse_program("\n".join(lines))
    assert blocks.plan_for(prog.cone()[0]) is not None
    rng = np.random.default_rng(0)
    data = tmp_path / "d.csv"
    x = rng.uniform(-1, 1, (301, 2))
    data.write_text("x1,x2,y\n" + "".join("%r,%r,%d\n" % (a, b, a * a + b * b < 0.5) for a, b in x.tolist()))
    params = [n for n in prog.graph.inputs if n not in ("x1", "x2", "y")]
    init = learn.init_params(params, 0)

    def go():
        with open(data) as fh:
            return learn.train(prog, rowsmod.open_rows(fh, str(data)), dict(init), params, lr=0.5, epochs=2,
                               batch_size=50, shuffle=True, seed=1,  # 301 rows: a last batch of one row
                               optimizer=optimizer)

    fast = go()
    monkeypatch.setattr(blocks, "plan_for", lambda g: None)
    slow = go()
    assert fast.history == pytest.approx(slow.history, rel=1e-12)
    for p in params:
        assert fast.params[p] == pytest.approx(slow.params[p], rel=1e-9, abs=1e-12)


def test_train_names_a_bad_row_as_the_per_node_passes_do(tmp_path, monkeypatch):
    from cgcli.core.errors import CgraphError
    from cgcli.features import learn
    from cgcli.features import rows as rowsmod
    prog = parse_program("s = " + " + ".join("w%d*x" % k for k in range(50)) + "\n(log(s) - y)^2")
    assert blocks.plan_for(prog.cone()[0]) is not None
    data = tmp_path / "d.csv"
    data.write_text("x,y\n" + "".join("%d,1\n" % (1 if k != 37 else -1) for k in range(60)))
    params = ["w%d" % k for k in range(50)]

    def go():
        with open(data) as fh, pytest.raises(CgraphError) as e:
            learn.train(prog, rowsmod.open_rows(fh, str(data)), {p: 0.01 for p in params}, params, lr=0.1,
                        epochs=2, batch_size=20, shuffle=False)
        return e.value.message

    fast = go()
    monkeypatch.setattr(blocks, "plan_for", lambda g: None)
    assert fast == go()
    assert fast.startswith("epoch 1, row 38: ") and "log" in fast


def test_a_run_in_blocks_of_rows_gives_the_output_the_inputs_gradients_and_bad_rows():
    text = "s = " + " + ".join("w%d*tanh(x + %d*y)" % (k, k) for k in range(60)) + "\nlog(s) + z"
    g = parse_program(text).graph
    plan = blocks.plan_for(g)
    size = 5 * plan.step(10**9)  # five blocks of rows
    assert plan.step(size) < size
    rng = np.random.default_rng(2)
    cols = {"w%d" % k: float(rng.uniform(0, 1)) for k in range(60)}
    cols.update(x=rng.uniform(-1, 1, size), y=rng.uniform(-1, 1, size), z=rng.uniform(-1, 1, size))
    cols["z"][[7, size - 1]] = np.inf
    v, gr = columns.run(g, cols, size)
    pv, pg = columns.run(g, cols, size, blocks=False)
    assert v.kept is not None
    assert np.allclose(v[-1], pv[-1], rtol=TOL, equal_nan=True)
    for i in g.inputs.values():
        assert np.allclose(gr[i], pg[i], rtol=TOL, atol=TOL, equal_nan=True)
    assert columns.bad_rows(np, v, gr).tolist() == columns.bad_rows(np, pv, pg).tolist()
    ids = [g.inputs["w3"]]  # as train's batch step asks: the values and some gradients
    assert (columns.bad_rows(np, v, [gr[i] for i in ids]).tolist()
            == columns.bad_rows(np, pv, [pg[i] for i in ids]).tolist())
    with pytest.raises(LookupError):
        v[g.env["s"] - 1]
