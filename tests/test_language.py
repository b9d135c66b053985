"""The language (docs/language.md): numbers, names, precedence, calls, constants, programs."""

import math

import pytest

from cgcli.core.language import parse_program
from cgcli.core.passes import evaluate
from cgcli.core.primitives import FUNCTIONS


def value(src, **b):
    return evaluate(parse_program(src), b).value


def grads(src, **b):
    return evaluate(parse_program(src), b).gradients


@pytest.mark.parametrize("src, expected", [
    ("3", 3.0), ("-3", -3.0), ("2.5", 2.5), (".5", 0.5), ("1e-3", 0.001), ("6.02E+23", 6.02e23),
    ("5.", 5.0), ("1E3", 1000.0),
])
def test_numbers(src, expected):
    assert value(src) == expected


@pytest.mark.parametrize("src, expected", [
    ("-x^2", -9.0),  # -(x^2)
    ("(-x)^2", 9.0),
    ("2^3^2", 512.0),  # right-associative
    ("(2^3)^2", 64.0),
    ("2**3**2", 512.0),  # ** is the same operator
    ("x^-1", 1 / 3),
    ("2^-2^2", 2 ** -(2 ** 2)),  # -2^2 as an exponent is -(2^2)
    ("a-b-c", (7 - 5) - 2),  # left-associative
    ("a/b/c", (7 / 5) / 2),
    ("a-b*c", 7 - 5 * 2),
    ("a+b/c", 7 + 5 / 2),
    ("-a*b", -35.0),
    ("--x", 3.0),
    ("+x", 3.0),
    ("-+-x", 3.0),
    ("a*-b", -35.0),
    ("2*x^2", 18.0),
    ("x^2*2", 18.0),
])
def test_precedence_and_associativity(src, expected):
    assert value(src, x=3.0, a=7.0, b=5.0, c=2.0) == pytest.approx(expected, rel=1e-15)


def test_names():
    assert value("w1 + theta_2 + _b + X", w1=1.0, theta_2=2.0, _b=3.0, X=4.0) == 10.0


def test_constants():
    assert value("pi") == math.pi
    assert value("e") == math.e
    assert value("2*pi*r", r=1.0) == 2 * math.pi
    assert value("e^x", x=2.0) == pytest.approx(math.e ** 2)


X = 0.3
CALLS = {
    "exp": math.exp(X), "log": math.log(X), "log2": math.log2(X), "log10": math.log10(X),
    "sqrt": math.sqrt(X), "sin": math.sin(X), "cos": math.cos(X), "tan": math.tan(X),
    "asin": math.asin(X), "acos": math.acos(X), "atan": math.atan(X), "sinh": math.sinh(X),
    "cosh": math.cosh(X), "tanh": math.tanh(X), "sigmoid": 1 / (1 + math.exp(-X)),
    "relu": X, "softplus": math.log(1 + math.exp(X)), "abs": X,
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_unary_function(name):
    assert value("%s(x)" % name, x=X) == pytest.approx(CALLS[name], rel=1e-14)


def test_spec_functions_are_all_there():
    assert set(CALLS) | {"pow", "min", "max"} <= set(FUNCTIONS)


def test_pow_min_max():
    assert value("pow(a, b)", a=2.0, b=10.0) == 1024.0
    assert value("pow(a, b)", a=2.0, b=10.0) == value("a^b", a=2.0, b=10.0)
    assert value("min(a, b, c)", a=3.0, b=-1.0, c=2.0) == -1.0
    assert value("max(a, b, c)", a=3.0, b=-1.0, c=2.0) == 3.0
    assert value("max(a)", a=3.0) == 3.0
    assert value("relu(-x)", x=2.0) == 0.0 and value("abs(-x)", x=2.0) == 2.0


def test_programs_semicolons_newlines_comments():
    src = "# header comment\n\na = x + 1   # trailing\nb = a * 2; c = b - x\n\n;c + 1\n# end"
    assert value(src, x=2.0) == ((2 + 1) * 2 - 2) + 1
    assert parse_program(src).output_name is None
    assert parse_program("a = x\nb = a * 2\n").output_name == "b"


def test_reassignment_sees_the_newest_value():
    assert value("h = x; h = h * 2; h = h + 1", x=5.0) == 11.0
    # an unrolled recurrence: one shared weight w, its gradient summed over the steps
    g = grads("h = tanh(w*h0 + x1); h = tanh(w*h + x2)", w=0.5, h0=0.2, x1=1.0, x2=-1.0)
    h1 = math.tanh(0.5 * 0.2 + 1.0)
    h2 = math.tanh(0.5 * h1 - 1.0)
    dh2 = 1 - h2 ** 2
    dh1 = dh2 * 0.5 * (1 - h1 ** 2)
    assert g["w"] == pytest.approx(dh2 * h1 + dh1 * 0.2, rel=1e-14)
    assert g["h0"] == pytest.approx(dh1 * 0.5, rel=1e-14)


def test_inputs_are_names_read_before_assignment():
    p = parse_program("y = x + 1; x = y * 2; x + z")
    assert list(p.graph.inputs) == ["x", "z"]


def test_output_option_selects_the_newest_binding():
    p = parse_program("h = x; h = h * 2; g = h + 1").select("h")
    assert evaluate(p, {"x": 5.0}).value == 10.0


def test_double_precision_arithmetic():
    assert value("0.1 + 0.2") == 0.1 + 0.2
    assert value("2^0.5") == math.sqrt(2)
    assert value("1/3") == 1 / 3
    assert value("2^1023 * 1.5") == 2.0 ** 1023 * 1.5
