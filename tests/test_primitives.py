"""The table of primitives, row by row.

1. Every row's scalar local derivatives against central finite differences of
   its scalar forward, at random points inside the operation's domain (away from
   its edges and kinks). The test iterates the table, so a new row is covered at
   once -- and fails until it is given a domain below.
2. Every row's numpy forward and numpy local derivatives against the scalar ones.
3. Exact values by hand.
4. PyTorch's choices at the kinks (docs/contract.md), in the scalar rows, the numpy
   rows and end to end through the evaluator.
5. Domain errors: the scalar rows raise, the numpy rows give IEEE-754 values.
6. With --nonfinite, inf and nan flow through (scalar and numpy rows agree).
7. Against torch.autograd, when torch is installed.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cgcli.core.language import parse_program
from cgcli.core.passes import evaluate
from cgcli.core.primitives import PRIMITIVES, PRODUCT, VARIADIC

LN2 = math.log(2.0)
LN10 = math.log(10.0)
NAMES = sorted(PRIMITIVES)


# ---- reading a row -----------------------------------------------------------

def partials(p, args, out):
    """The row's scalar local derivatives at `args` as a list, one per argument,
    whatever shape `df` has: a function, a tuple of constants, or PRODUCT."""
    args = list(args)
    df = p.df
    if df is PRODUCT:
        assert len(args) == 2
        return [args[1], args[0]]
    if isinstance(df, tuple):
        assert len(df) == len(args), "%s: %d constant partials for %d arguments" % (p.name, len(df), len(args))
        return [float(d) for d in df]
    assert callable(df), "%s: df is neither a function, a tuple nor PRODUCT" % p.name
    if p.arity == VARIADIC:
        ds = list(df(args, out))
    elif p.arity == 1:
        ds = [df(args[0], out)]
    else:
        assert p.arity == 2
        ds = list(df(args[0], args[1], out))
    assert len(ds) == len(args)
    return ds


def forward(p, args):
    return p.f(list(args)) if p.arity == VARIADIC else p.f(*args)


def vforward(p, cols):
    return p.vf(np, list(cols)) if p.arity == VARIADIC else p.vf(np, *cols)


def vpartials(p, cols, out):
    """The row's numpy local derivatives, each broadcast to the shape of `out`."""
    cols = list(cols)
    if p.arity == VARIADIC:
        ds = list(p.vdf(np, cols, out))
    elif p.arity == 1:
        ds = [p.vdf(np, cols[0], out)]
    else:
        ds = list(p.vdf(np, cols[0], cols[1], out))
    assert len(ds) == len(cols)
    return [np.broadcast_to(np.asarray(d, dtype=np.float64), np.shape(out)) for d in ds]


def run(expr, nonfinite=False, **bindings):
    return evaluate(parse_program(expr), {k: float(v) for k, v in bindings.items()}, nonfinite=nonfinite)


def same(a, b):
    """Equal as IEEE values: nan equals nan, and otherwise ==."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


# ---- domains: where each operation is smooth ---------------------------------

def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def signed(lo, hi):
    """lo <= |x| <= hi, either sign: away from a kink at 0."""
    return st.one_of(floats(lo, hi), floats(-hi, -lo))


def one(s):
    return s.map(lambda x: (x,))


def two(s, t):
    return st.tuples(s, t)


@st.composite
def distinct(draw, n, gap=1e-2):
    """n arguments, pairwise at least `gap` apart (no ties), in any order."""
    vals = [draw(floats(-100.0, 100.0))]
    for _ in range(n - 1):
        vals.append(vals[-1] + draw(floats(gap, 100.0)))
    return tuple(draw(st.permutations(vals)))


@st.composite
def tan_points(draw):
    """At least 0.1 from every pole pi/2 + k*pi."""
    k = draw(st.integers(-10, 10))
    t = draw(floats(-math.pi / 2 + 0.1, math.pi / 2 - 0.1))
    return (k * math.pi + t,)


REALS = floats(-1e3, 1e3)
POSITIVE = floats(1e-3, 1e3)

DOMAINS = {
    "add": two(REALS, REALS),
    "sub": two(REALS, REALS),
    "mul": two(REALS, REALS),
    "div": two(REALS, signed(1e-2, 1e3)),
    "neg": one(REALS),
    "pow": two(floats(1e-2, 1e2), floats(-5.0, 5.0)),
    "exp": one(floats(-50.0, 50.0)),
    "log": one(POSITIVE),
    "log2": one(POSITIVE),
    "log10": one(POSITIVE),
    "sqrt": one(POSITIVE),
    "sin": one(floats(-100.0, 100.0)),
    "cos": one(floats(-100.0, 100.0)),
    "tan": tan_points(),
    "asin": one(floats(-0.99, 0.99)),
    "acos": one(floats(-0.99, 0.99)),
    "atan": one(floats(-100.0, 100.0)),
    "sinh": one(floats(-20.0, 20.0)),
    "cosh": one(floats(-20.0, 20.0)),
    "tanh": one(floats(-20.0, 20.0)),
    "sigmoid": one(floats(-50.0, 50.0)),
    "softplus": one(floats(-50.0, 50.0)),
    "relu": one(signed(1e-2, 1e3)),
    "abs": one(signed(1e-2, 1e3)),
    "step": one(signed(1e-2, 1e3)),
    "sign": one(signed(1e-2, 1e3)),
    # a variadic row's entry is a function: number of arguments -> strategy
    "min": distinct,
    "max": distinct,
}


def domain(name, n=None):
    """The strategy for `name`'s arguments; a variadic row gets 1 to 5 of them, or n."""
    if name not in DOMAINS:
        pytest.fail("primitive %r has no domain strategy in tests/test_primitives.py: "
                    "add one to DOMAINS (points where it is smooth, away from kinks and edges)" % name)
    s = DOMAINS[name]
    if PRIMITIVES[name].arity == VARIADIC:
        return s(n) if n is not None else st.integers(1, 5).flatmap(s)
    return s


def test_every_row_has_a_domain_and_no_domain_is_stale():
    assert sorted(DOMAINS) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_row_is_well_formed(name):
    p = PRIMITIVES[name]
    assert p.name == name
    assert p.arity in (1, 2, VARIADIC)
    assert callable(p.f) and callable(p.vf) and callable(p.vdf)
    if isinstance(p.df, tuple):
        assert p.arity != VARIADIC and len(p.df) == p.arity
        assert all(isinstance(d, float) for d in p.df)
    elif p.df is PRODUCT:
        assert p.arity == 2
    else:
        assert callable(p.df)


# ---- 1. scalar derivatives against central differences -------------------------

def central_difference(p, args, i):
    x = args[i]
    h = 1e-6 * max(1.0, abs(x))
    up = list(args)
    down = list(args)
    up[i] = x + h
    down[i] = x - h
    return (forward(p, up) - forward(p, down)) / (up[i] - down[i])


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_local_derivatives_match_central_differences(name, data):
    p = PRIMITIVES[name]
    args = data.draw(domain(name), label="args")
    if p.arity != VARIADIC:
        assert len(args) == p.arity
    out = forward(p, args)
    assert math.isfinite(out)
    ds = partials(p, args, out)
    for i, d in enumerate(ds):
        fd = central_difference(p, args, i)
        assert math.isclose(d, fd, rel_tol=1e-5, abs_tol=1e-6), (
            "%s%r: d/darg%d = %r, central difference %r" % (name, tuple(args), i, d, fd))


@settings(max_examples=200, deadline=None)
@given(x=signed(0.5, 10.0), n=st.integers(-4, 4))
def test_pow_negative_base_integer_exponent(x, n):
    """(-2)^3 is real: the base's partial is n x^(n-1); the exponent's has no real value."""
    p = PRIMITIVES["pow"]
    y = float(n)
    out = p.f(x, y)
    assert math.isclose(out, x ** n, rel_tol=1e-12)
    dx, dy = partials(p, (x, y), out)
    assert math.isclose(dx, central_difference(p, (x, y), 0), rel_tol=1e-5, abs_tol=1e-6)
    if x < 0:
        assert math.isnan(dy)
        with np.errstate(all="ignore"):
            vdx, vdy = vpartials(p, (np.array([x]), np.array([y])), np.array([out]))
        assert math.isclose(float(vdx[0]), dx, rel_tol=1e-12)
        assert np.isnan(vdy[0])


# ---- 2. numpy rows against scalar rows ---------------------------------------

@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_numpy_rows_match_scalar_rows(name, data):
    p = PRIMITIVES[name]
    first = data.draw(domain(name), label="point 0")
    n = len(first) if p.arity == VARIADIC else None
    points = [first] + [data.draw(domain(name, n), label="point %d" % k) for k in (1, 2, 3)]
    cols = [np.array([pt[i] for pt in points], dtype=np.float64) for i in range(len(first))]
    outs = [forward(p, pt) for pt in points]
    vout = vforward(p, cols)
    assert isinstance(vout, np.ndarray) and vout.dtype == np.float64 and vout.shape == (len(points),)
    np.testing.assert_allclose(vout, outs, rtol=1e-12, atol=1e-300)
    # the derivatives at the same output the scalar pass saw
    vds = vpartials(p, cols, np.array(outs))
    for k, pt in enumerate(points):
        ds = partials(p, pt, outs[k])
        for i, d in enumerate(ds):
            assert math.isclose(float(vds[i][k]), d, rel_tol=1e-12, abs_tol=1e-300), (
                "%s%r: numpy d/darg%d = %r, scalar %r" % (name, tuple(pt), i, float(vds[i][k]), d))


@pytest.mark.parametrize("name", NAMES)
def test_numpy_rows_take_numpy_scalars(name):
    """The evaluator's --nonfinite fallback passes np.float64 scalars, not arrays."""
    p = PRIMITIVES[name]
    args = {1: (0.5,), 2: (0.5, 2.0), VARIADIC: (0.5, 2.0, -1.0)}[p.arity]
    xs = [np.float64(a) for a in args]
    out = forward(p, args)
    assert float(vforward(p, xs)) == pytest.approx(out, rel=1e-12)
    for vd, d in zip(vpartials(p, xs, np.float64(out)), partials(p, args, out)):
        assert float(vd) == pytest.approx(d, rel=1e-12)


# ---- 3. exact values by hand ---------------------------------------------------

HAND = [
    # (name, args, value, partials)
    ("add", (2.0, 3.0), 5.0, [1.0, 1.0]),
    ("sub", (2.0, 3.0), -1.0, [1.0, -1.0]),
    ("mul", (2.0, 3.0), 6.0, [3.0, 2.0]),
    ("div", (1.0, 2.0), 0.5, [0.5, -0.25]),
    ("div", (6.0, -3.0), -2.0, [-1.0 / 3.0, -2.0 / 3.0]),
    ("neg", (2.5,), -2.5, [-1.0]),
    ("pow", (2.0, 3.0), 8.0, [12.0, 8.0 * LN2]),
    ("pow", (4.0, 0.5), 2.0, [0.25, 2.0 * math.log(4.0)]),
    ("pow", (2.0, -1.0), 0.5, [-0.25, 0.5 * LN2]),
    ("pow", (5.0, 0.0), 1.0, [0.0, math.log(5.0)]),
    ("pow", (1.0, 7.0), 1.0, [7.0, 0.0]),
    ("step", (2.0,), 1.0, [0.0]),
    ("step", (-2.0,), 0.0, [0.0]),
    ("sign", (-3.0,), -1.0, [0.0]),
    ("sign", (0.5,), 1.0, [0.0]),
    ("exp", (0.0,), 1.0, [1.0]),
    ("exp", (1.0,), math.e, [math.e]),
    ("log", (1.0,), 0.0, [1.0]),
    ("log", (2.0,), LN2, [0.5]),
    ("log", (math.e,), 1.0, [1.0 / math.e]),
    ("log2", (1.0,), 0.0, [1.0 / LN2]),
    ("log2", (8.0,), 3.0, [1.0 / (8.0 * LN2)]),
    ("log10", (10.0,), 1.0, [1.0 / (10.0 * LN10)]),
    ("log10", (1000.0,), 3.0, [1.0 / (1000.0 * LN10)]),
    ("sqrt", (4.0,), 2.0, [0.25]),
    ("sqrt", (9.0,), 3.0, [1.0 / 6.0]),
    ("sin", (0.0,), 0.0, [1.0]),
    ("sin", (math.pi / 2,), 1.0, [math.cos(math.pi / 2)]),
    ("cos", (0.0,), 1.0, [0.0]),
    ("cos", (math.pi / 2,), math.cos(math.pi / 2), [-1.0]),
    ("tan", (0.0,), 0.0, [1.0]),
    ("tan", (math.pi / 4,), math.tan(math.pi / 4), [2.0]),
    ("asin", (0.0,), 0.0, [1.0]),
    ("asin", (0.5,), math.pi / 6, [2.0 / math.sqrt(3.0)]),
    ("acos", (0.0,), math.pi / 2, [-1.0]),
    ("acos", (0.5,), math.pi / 3, [-2.0 / math.sqrt(3.0)]),
    ("atan", (0.0,), 0.0, [1.0]),
    ("atan", (1.0,), math.pi / 4, [0.5]),
    ("sinh", (0.0,), 0.0, [1.0]),
    ("cosh", (0.0,), 1.0, [0.0]),
    ("sinh", (1.0,), (math.e - 1 / math.e) / 2, [(math.e + 1 / math.e) / 2]),
    ("cosh", (1.0,), (math.e + 1 / math.e) / 2, [(math.e - 1 / math.e) / 2]),
    ("tanh", (0.0,), 0.0, [1.0]),
    ("sigmoid", (0.0,), 0.5, [0.25]),
    ("sigmoid", (math.log(3.0),), 0.75, [0.1875]),
    ("softplus", (0.0,), LN2, [0.5]),
    ("softplus", (math.log(3.0),), math.log(4.0), [0.75]),
    ("relu", (3.0,), 3.0, [1.0]),
    ("relu", (-3.0,), 0.0, [0.0]),
    ("abs", (3.0,), 3.0, [1.0]),
    ("abs", (-3.0,), 3.0, [-1.0]),
    ("min", (3.0, 1.0, 2.0), 1.0, [0.0, 1.0, 0.0]),
    ("max", (3.0, 1.0, 2.0), 3.0, [1.0, 0.0, 0.0]),
    ("min", (-4.0,), -4.0, [1.0]),
    ("max", (-4.0,), -4.0, [1.0]),
]


@pytest.mark.parametrize("name, args, value, ds", HAND, ids=["%s%r" % (h[0], h[1]) for h in HAND])
def test_hand_values(name, args, value, ds):
    p = PRIMITIVES[name]
    out = forward(p, args)
    assert math.isclose(out, value, rel_tol=1e-14, abs_tol=1e-15)
    got = partials(p, args, out)
    assert len(got) == len(ds)
    for g, d in zip(got, ds):
        assert math.isclose(g, d, rel_tol=1e-14, abs_tol=1e-15), (got, ds)
    # and the numpy row gives the same
    cols = [np.array([a]) for a in args]
    assert math.isclose(float(vforward(p, cols)[0]), value, rel_tol=1e-14, abs_tol=1e-15)
    for g, d in zip(vpartials(p, cols, np.array([out])), ds):
        assert math.isclose(float(g[0]), d, rel_tol=1e-14, abs_tol=1e-15)


def test_every_row_has_a_hand_value():
    assert {h[0] for h in HAND} == set(NAMES)


# ---- 4. kinks: PyTorch's choices ------------------------------------------------

KINKS = [
    # (name, args, value, partials)
    ("relu", (0.0,), 0.0, [0.0]),
    ("relu", (-0.0,), 0.0, [0.0]),
    ("abs", (0.0,), 0.0, [0.0]),
    ("abs", (-0.0,), 0.0, [0.0]),
    ("max", (1.0, 1.0), 1.0, [0.5, 0.5]),
    ("min", (1.0, 1.0), 1.0, [0.5, 0.5]),
    ("max", (2.0, 2.0, -1.0), 2.0, [0.5, 0.5, 0.0]),
    ("max", (-1.0, 2.0, 2.0), 2.0, [0.0, 0.5, 0.5]),
    ("max", (2.0, -1.0, 2.0), 2.0, [0.5, 0.0, 0.5]),
    ("min", (-3.0, 5.0, -3.0), -3.0, [0.5, 0.0, 0.5]),
    ("min", (5.0, -3.0, -3.0), -3.0, [0.0, 0.5, 0.5]),
    ("max", (7.0, 7.0, 7.0), 7.0, [1 / 3, 1 / 3, 1 / 3]),
    ("min", (7.0, 7.0, 7.0), 7.0, [1 / 3, 1 / 3, 1 / 3]),
    ("max", (0.0, 0.0, 0.0, 0.0), 0.0, [0.25, 0.25, 0.25, 0.25]),
    ("max", (0.0, -0.0), 0.0, [0.5, 0.5]),
    ("pow", (0.0, 0.0), 1.0, [0.0, 0.0]),
    ("pow", (0.0, 2.0), 0.0, [0.0, 0.0]),
    ("pow", (0.0, 3.0), 0.0, [0.0, 0.0]),
    ("pow", (0.0, 1.0), 0.0, [1.0, 0.0]),
    ("pow", (0.0, 0.5), 0.0, [math.inf, 0.0]),  # PyTorch: 0.5 * 0^-0.5 = inf
    ("pow", (3.0, 0.0), 1.0, [0.0, math.log(3.0)]),
    ("pow", (-3.0, 0.0), 1.0, [0.0, math.nan]),
]


@pytest.mark.parametrize("name, args, value, ds", KINKS, ids=["%s%r" % (k[0], k[1]) for k in KINKS])
def test_kinks_scalar_rows(name, args, value, ds):
    p = PRIMITIVES[name]
    out = forward(p, args)
    assert out == value
    got = partials(p, args, out)
    assert len(got) == len(ds)
    for g, d in zip(got, ds):
        assert same(float(g), d) if math.isnan(d) or math.isinf(d) else math.isclose(g, d, rel_tol=1e-15), (got, ds)


@pytest.mark.parametrize("name, args, value, ds", KINKS, ids=["%s%r" % (k[0], k[1]) for k in KINKS])
def test_kinks_numpy_rows(name, args, value, ds):
    """`--data` runs the numpy rows: the same choices at the kinks."""
    p = PRIMITIVES[name]
    cols = [np.array([a, 1.5]) for a in args]  # a kink and an ordinary point in one column
    with np.errstate(all="ignore"):
        out = vforward(p, cols)
        got = vpartials(p, cols, out)
    assert out[0] == value
    for g, d in zip(got, ds):
        assert same(float(g[0]), d) if math.isnan(d) or math.isinf(d) else math.isclose(float(g[0]), d, rel_tol=1e-15)


def test_sigmoid_is_stable_far_out():
    p = PRIMITIVES["sigmoid"]
    assert p.f(800.0) == 1.0
    assert p.f(-800.0) == 0.0
    assert p.f(-700.0) == pytest.approx(math.exp(-700.0), rel=1e-12)  # tiny but not flushed to 0
    assert p.df(800.0, p.f(800.0)) == 0.0
    assert p.df(-800.0, p.f(-800.0)) == 0.0
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        v = p.vf(np, np.array([800.0, -800.0, 0.0, -700.0]))
        np.testing.assert_array_equal(v[:3], [1.0, 0.0, 0.5])
        assert v[3] == pytest.approx(math.exp(-700.0), rel=1e-12)
        np.testing.assert_array_equal(p.vdf(np, np.array([800.0, -800.0]), v[:2]), [0.0, 0.0])


def test_softplus_is_stable_far_out():
    p = PRIMITIVES["softplus"]
    assert p.f(800.0) == 800.0
    assert 0.0 <= p.f(-800.0) < 1e-300
    assert p.f(-700.0) == pytest.approx(math.exp(-700.0), rel=1e-12)
    assert p.f(40.0) == pytest.approx(40.0 + math.exp(-40.0), rel=1e-15)
    assert p.df(800.0, 800.0) == 1.0
    assert p.df(-800.0, p.f(-800.0)) == 0.0
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        v = p.vf(np, np.array([800.0, -800.0]))
        assert v[0] == 800.0 and 0.0 <= v[1] < 1e-300
        np.testing.assert_array_equal(p.vdf(np, np.array([800.0, -800.0]), v), [1.0, 0.0])


def test_kinks_end_to_end():
    r = run("relu(x)", x=0.0)
    assert r.value == 0.0 and r.gradients == {"x": 0.0}
    r = run("abs(x)", x=0.0)
    assert r.value == 0.0 and r.gradients == {"x": 0.0}
    r = run("max(x, y)", x=1.0, y=1.0)
    assert r.value == 1.0 and r.gradients == {"x": 0.5, "y": 0.5}
    r = run("min(x, y)", x=-2.0, y=-2.0)
    assert r.value == -2.0 and r.gradients == {"x": 0.5, "y": 0.5}
    r = run("max(x, y, z)", x=3.0, y=3.0, z=1.0)
    assert r.gradients == {"x": 0.5, "y": 0.5, "z": 0.0}
    r = run("max(x, y, z)", x=2.0, y=2.0, z=2.0)
    assert r.gradients == pytest.approx({"x": 1 / 3, "y": 1 / 3, "z": 1 / 3}, rel=1e-15)
    r = run("max(x, x)", x=4.0)  # one node used twice: the two shares add up
    assert r.gradients == {"x": 1.0}
    r = run("x^y", x=0.0, y=0.0)
    assert r.value == 1.0 and r.gradients == {"x": 0.0, "y": 0.0}
    r = run("x^y", x=0.0, y=2.0)
    assert r.value == 0.0 and r.gradients == {"x": 0.0, "y": 0.0}
    r = run("x^y", x=0.0, y=1.0)
    assert r.value == 0.0 and r.gradients == {"x": 1.0, "y": 0.0}
    r = run("pow(x, 0)", x=0.0)
    assert r.value == 1.0 and r.gradients == {"x": 0.0}
    r = run("sigmoid(x) + softplus(-x)", x=800.0)
    assert r.value == 1.0 and r.gradients == {"x": 0.0}


# ---- 5. domain errors ------------------------------------------------------------

SCALAR_ERRORS = [
    ("log", (0.0,), ValueError),
    ("log", (-1.0,), ValueError),
    ("log2", (0.0,), ValueError),
    ("log10", (-1.0,), ValueError),
    ("sqrt", (-1.0,), ValueError),
    ("asin", (2.0,), ValueError),
    ("acos", (-1.5,), ValueError),
    ("tan", (math.inf,), ValueError),
    ("pow", (0.0, -1.0), (ValueError, ZeroDivisionError)),
    ("pow", (-8.0, 1.0 / 3.0), ValueError),
    ("pow", (10.0, 400.0), OverflowError),
    ("div", (1.0, 0.0), ZeroDivisionError),
    ("div", (0.0, 0.0), ZeroDivisionError),
    ("exp", (1000.0,), OverflowError),
    ("sinh", (1000.0,), OverflowError),
    ("cosh", (-1000.0,), OverflowError),
]


@pytest.mark.parametrize("name, args, exc", SCALAR_ERRORS, ids=["%s%r" % (e[0], e[1]) for e in SCALAR_ERRORS])
def test_scalar_rows_raise_on_domain_errors(name, args, exc):
    with pytest.raises(exc):
        forward(PRIMITIVES[name], args)


DERIVATIVE_ERRORS = [
    # the forward is defined, the derivative is not: the evaluator must see one of
    # the three exceptions it catches (to name the node), never something else
    ("sqrt", (0.0,)),
    ("asin", (1.0,)),
    ("acos", (-1.0,)),
    ("log", (0.0,)),
]


@pytest.mark.parametrize("name, args", DERIVATIVE_ERRORS)
def test_scalar_derivative_errors_are_caught_exceptions(name, args):
    p = PRIMITIVES[name]
    out = -math.inf if name == "log" else forward(p, args)  # log(0) = -inf under --nonfinite
    with pytest.raises((ValueError, ZeroDivisionError, OverflowError)):
        partials(p, args, out)


IEEE = [
    ("log", (0.0,), -math.inf),
    ("log", (-1.0,), math.nan),
    ("log2", (0.0,), -math.inf),
    ("log10", (0.0,), -math.inf),
    ("sqrt", (-1.0,), math.nan),
    ("asin", (2.0,), math.nan),
    ("acos", (-1.5,), math.nan),
    ("pow", (0.0, -1.0), math.inf),
    ("pow", (-8.0, 1.0 / 3.0), math.nan),
    ("pow", (10.0, 400.0), math.inf),
    ("div", (1.0, 0.0), math.inf),
    ("div", (-1.0, 0.0), -math.inf),
    ("div", (0.0, 0.0), math.nan),
    ("exp", (1000.0,), math.inf),
    ("sinh", (1000.0,), math.inf),
    ("sinh", (-1000.0,), -math.inf),
    ("cosh", (-1000.0,), math.inf),
    ("tan", (math.inf,), math.nan),
]


@pytest.mark.parametrize("name, args, value", IEEE, ids=["%s%r" % (e[0], e[1]) for e in IEEE])
def test_numpy_rows_give_ieee_values(name, args, value):
    p = PRIMITIVES[name]
    with np.errstate(all="ignore"):
        col = vforward(p, [np.array([a]) for a in args])
        scalar = vforward(p, [np.float64(a) for a in args])
    assert same(float(col[0]), value) and same(float(scalar), value)


def test_domain_errors_end_to_end():
    from cgcli.core.errors import CgraphError
    for expr, b in [("log(x)", {"x": 0.0}), ("sqrt(x)", {"x": -1.0}), ("x^y", {"x": 0.0, "y": -1.0}),
                    ("exp(x)", {"x": 1000.0}), ("1/x", {"x": 0.0}), ("asin(x)", {"x": 2.0})]:
        with pytest.raises(CgraphError):
            run(expr, **b)
    r = run("log(x)", nonfinite=True, x=0.0)
    assert r.value == -math.inf
    r = run("sqrt(x)", nonfinite=True, x=-1.0)
    assert math.isnan(r.value)


# ---- 6. --nonfinite: inf and nan flow through ---------------------------------

SPECIAL = [math.inf, -math.inf, math.nan, 0.0, -2.0, 3.0]


def _special_points(p):
    n = {1: 1, 2: 2, VARIADIC: 2}[p.arity]
    if n == 1:
        return [(a,) for a in SPECIAL if not math.isfinite(a)]
    return [(a, b) for a in SPECIAL for b in SPECIAL
            if not (math.isfinite(a) and math.isfinite(b))]


def _scalar_or_none(fn):
    try:
        return fn()
    except (ValueError, ZeroDivisionError, OverflowError):
        return None  # the evaluator then takes the numpy row's value




@pytest.mark.parametrize("name", NAMES)
def test_scalar_and_numpy_rows_agree_at_nonfinite_arguments(name):
    """Where a scalar row does not raise at inf or nan, its value is what --nonfinite
    reports; it must be the IEEE value the numpy row gives."""
    p = PRIMITIVES[name]
    for args in _special_points(p):
        out = _scalar_or_none(lambda: forward(p, args))  # noqa: B023 (called at once)
        if out is None:
            continue
        with np.errstate(all="ignore"):
            vout = float(vforward(p, [np.float64(a) for a in args]))
        assert same(out, vout), "%s%r: scalar %r, numpy %r" % (name, args, out, vout)


def test_relu_of_nan_is_nan():
    assert math.isnan(PRIMITIVES["relu"].f(math.nan))


@pytest.mark.parametrize("name", ["min", "max"])
def test_min_max_of_nan_is_nan_in_any_position(name):
    f = PRIMITIVES[name].f
    assert math.isnan(f([math.nan, 1.0]))
    assert math.isnan(f([1.0, math.nan]))


def test_min_max_with_infinities():
    assert PRIMITIVES["max"].f([1.0, math.inf]) == math.inf
    assert PRIMITIVES["min"].f([1.0, -math.inf]) == -math.inf
    assert PRIMITIVES["max"].df([1.0, math.inf], math.inf) == [0.0, 1.0]


@pytest.mark.parametrize("expr", ["log(x) + 1", "exp(log(x))", "abs(log(x))", "sigmoid(log(x))",
                                  "max(log(x), 1)", "min(log(x), 1)"])
def test_nan_flows_through_end_to_end(expr):
    assert math.isnan(run(expr, nonfinite=True, x=-1.0).value)


@pytest.mark.parametrize("expr", ["relu(log(x))", "max(1, log(x))", "min(1, log(x))"])
def test_nan_flows_through_relu_min_max_end_to_end(expr):
    assert math.isnan(run(expr, nonfinite=True, x=-1.0).value)


def test_abs_derivative_at_nan_agrees():
    p = PRIMITIVES["abs"]
    with np.errstate(all="ignore"):
        v = float(p.vdf(np, np.float64(math.nan), np.float64(math.nan)))
    assert same(p.df(math.nan, math.nan), v)


@pytest.mark.parametrize("y", [-1.0, -2.0, -0.5])
def test_pow_gradients_at_zero_negative_exponent_numpy(y):
    """d/dx x^y = y * x^(y-1): at x = 0 with y < 0 that is y * inf = -inf; d/dy = x^y ln x
    = inf * -inf = -inf (PyTorch gives the same two)."""
    p = PRIMITIVES["pow"]
    with np.errstate(all="ignore"):
        out = p.vf(np, np.float64(0.0), np.float64(y))
        dx, dy = p.vdf(np, np.float64(0.0), np.float64(y), out)
    assert out == math.inf and float(dx) == -math.inf and float(dy) == -math.inf


@pytest.mark.parametrize("y", [-1.0, -2.0, -0.5])
def test_pow_base_gradient_at_zero_negative_exponent_scalar(y):
    p = PRIMITIVES["pow"]
    dx, dy = p.df(0.0, y, math.inf)
    assert dx == -math.inf


@pytest.mark.parametrize("y", [-1.0, -2.0, -0.5])
def test_pow_exponent_gradient_at_zero_negative_exponent_scalar(y):
    p = PRIMITIVES["pow"]
    dx, dy = p.df(0.0, y, math.inf)
    assert dy == -math.inf


def test_pow_zero_negative_exponent_gradient_end_to_end():
    r = run("x^-1", nonfinite=True, x=0.0)
    assert r.value == math.inf
    assert r.gradients["x"] == -math.inf


# ---- 7. against PyTorch --------------------------------------------------------

@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def torch_value_and_grads(torch, name, args):
    """The value and the gradients PyTorch's autograd gives, in float64."""
    ts = [torch.tensor(float(a), dtype=torch.float64, requires_grad=True) for a in args]
    binary = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "pow": torch.pow}
    if name in ("min", "max"):
        # amin/amax share the gradient evenly among tied values (torch.max(dim) would not)
        out = (torch.amin if name == "min" else torch.amax)(torch.stack(ts))
    elif name in binary:
        out = binary[name](ts[0], ts[1])
    elif name == "step":  # torch.heaviside(x, 0): 1 for x > 0, else 0, derivative 0
        out = (ts[0] > 0).double() + 0.0 * ts[0]
    elif name == "softplus":
        # torch.nn.functional.softplus returns x itself above threshold=20 (an
        # approximation off by e^-20); logaddexp(0, x) is the exact function
        out = torch.logaddexp(torch.zeros((), dtype=torch.float64), ts[0])
    else:
        out = getattr(torch, name)(ts[0])
    out.backward()
    return float(out.detach()), [float(t.grad) for t in ts]


def agree(a, b, rtol, atol=1e-300):
    if math.isnan(a) or math.isinf(a) or math.isnan(b) or math.isinf(b):
        return same(a, b)
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_against_torch_inside_the_domain(torch, name, data):
    p = PRIMITIVES[name]
    args = data.draw(domain(name), label="args")
    out = forward(p, args)
    tout, tds = torch_value_and_grads(torch, name, args)
    assert agree(out, tout, 1e-12, 1e-15), (name, args, out, tout)
    for d, td in zip(partials(p, args, out), tds):
        # 1 - tanh^2 and o(1 - o) cancel where the output nears 1: a few 1e-10 relative
        assert agree(d, td, 1e-9, 1e-15), (name, args, d, td)


@pytest.mark.parametrize("name, args, value, ds", KINKS, ids=["%s%r" % (k[0], k[1]) for k in KINKS])
def test_kinks_against_torch(torch, name, args, value, ds):
    p = PRIMITIVES[name]
    out = forward(p, args)
    tout, tds = torch_value_and_grads(torch, name, args)
    assert agree(out, tout, 1e-15)
    for d, td in zip(partials(p, args, out), tds):
        assert agree(float(d), td, 1e-15), (name, args, d, td)


@pytest.mark.parametrize("name", ["sigmoid", "softplus"])
def test_far_out_against_torch(torch, name):
    p = PRIMITIVES[name]
    for x in (-800.0, -40.0, 40.0, 800.0):
        out = forward(p, (x,))
        tout, (td,) = torch_value_and_grads(torch, name, (x,))
        assert agree(out, tout, 1e-12) and agree(partials(p, (x,), out)[0], td, 1e-12)


@pytest.mark.parametrize("y", [-1.0, -0.5])
def test_pow_zero_negative_exponent_against_torch(torch, y):
    dx, dy = PRIMITIVES["pow"].df(0.0, y, math.inf)
    tout, (tdx, tdy) = torch_value_and_grads(torch, "pow", (0.0, y))
    assert tout == math.inf
    assert same(dx, tdx) and same(dy, tdy)
