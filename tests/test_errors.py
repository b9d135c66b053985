"""Errors as docs/contract.md says: `error:` on stderr, the right exit status, never a traceback (issue 2, point 7)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def test_syntax_error_caret_under_the_column(cg):
    r = cg("eval", "(x + * y)", "x=1", "y=2")
    assert r.status == 2
    assert r.out == ""
    assert r.err.splitlines() == [
        "error: syntax error at column 6: unexpected '*' (expected '(', '+', '-', a name or a number)",
        "  (x + * y)",
        "       ^",
    ]


def test_syntax_error_in_a_file_names_the_line(cg, tmp_path):
    f = tmp_path / "p.cg"
    f.write_text("a = x + 1\nb = a * (2\nc = b\n")
    r = cg("eval", "-f", str(f), "x=1")
    assert r.status == 2
    lines = r.err.splitlines()
    assert lines[0].startswith("error: syntax error at line 2, column 11: unexpected end of statement")
    assert lines[1:] == ["  b = a * (2", "            ^"]


def test_unexpected_character_and_end_of_input(cg):
    r = cg("eval", "x $ y")
    assert r.status == 2 and r.err.startswith("error: syntax error at column 3: unexpected character '$'")
    r = cg("eval", "x +")
    assert r.err.splitlines()[0].startswith("error: syntax error at column 4: unexpected end of input")
    assert r.err.splitlines()[2] == "     ^"


@pytest.mark.parametrize("src, hint", [
    ("2x", "write 2*x"),
    ("3 x", "write 3*x"),
    ("(a+b)(c)", "write )*("),
    ("x y", "write x*y"),
    ("2.5e3y", "write 2.5e3*y"),
    ("sin x", "a call needs parentheses: write sin(x)"),
])
def test_implicit_multiplication_hint(cg, src, hint):
    r = cg("eval", src)
    assert r.status == 2
    assert hint in r.err.splitlines()[0]
    assert "Traceback" not in r.err


def test_unknown_function_lists_close_matches(cg):
    r = cg("eval", "sinn(x) + 1", "x=1")
    assert r.status == 2
    assert r.err.splitlines() == [
        "error: unknown function 'sinn' at column 1 (did you mean sin, sinh, sign, asin?)",
        "  sinn(x) + 1",
        "  ^",
    ]
    r = cg("eval", "zzzqqq(x)", "x=1")
    assert "known functions: abs, acos" in r.err


@pytest.mark.parametrize("src, msg", [
    ("log(x, 2)", "log takes 1 argument, got 2"),
    ("pow(x)", "pow takes 2 arguments, got 1"),
    ("exp()", "exp takes 1 argument, got 0"),
    ("max()", "max takes at least 1 argument, got 0"),
])
def test_wrong_number_of_arguments(cg, src, msg):
    r = cg("eval", src, "x=1")
    assert r.status == 2 and r.err.startswith("error: " + msg)


def test_every_unbound_input_is_listed(cg):
    r = cg("eval", "a*x + b*y + c", "x=1")
    assert r.status == 1
    assert r.err == "error: unbound inputs: a, b, y, c (bind each as NAME=VALUE)\n"


def test_binding_a_constant_is_refused(cg):
    r = cg("eval", "2*pi*r", "r=1", "pi=3")
    assert r.status == 2 and r.err == "error: pi is a constant and cannot be bound\n"
    r = cg("eval", "e = 2; e")
    assert r.status == 2 and r.err.startswith("error: e is a constant and cannot be assigned at column 1")


@pytest.mark.parametrize("word", ["x", "x=", "x=abc", "=3", "1x=2", "x=1,5", "x==1"])
def test_malformed_binding(cg, word):
    r = cg("eval", "x", word)
    assert r.status == 2
    assert r.err == ("error: malformed binding %r: expected NAME=VALUE with a number, such as x=1.5\n" % word)


def test_bindings_accept_signs_exponents_and_inf(cg):
    assert cg("eval", "x", "x=-1.5e-3", "--summary").out.splitlines()[0] == "value\t-0.0015"
    assert cg("eval", "x", "x=inf", "--nonfinite", "--summary").out.splitlines()[0] == "value\tinf"
    r = cg("eval", "x", "x=inf")
    assert r.status == 1 and r.err.startswith("error: input x = inf is not finite")


@pytest.mark.parametrize("src, bind, msg", [
    ("log(x - 1)", ["x=-1"], "log(x - 1) is undefined at x - 1 = -2"),
    ("sqrt(x)", ["x=-1"], "sqrt(x) is undefined at x = -1"),
    ("1/x", ["x=0"], "1 / x divides by zero at x = 0"),
    ("0^-1", [], "0^-1 divides by zero"),
    ("exp(x)", ["x=1000"], "exp(x) overflows (beyond the largest double, about 1.8e308) at x = 1000"),
    ("x * 1e308 * 10", ["x=1"], "x * 1e+308 * 10 overflows"),
    ("asin(x)", ["x=2"], "asin(x) is undefined at x = 2"),
    ("(x)^0.5", ["x=-4"], "x^0.5 is undefined at x = -4"),
    ("sqrt(x)", ["x=0"], "the derivative of sqrt(x) is infinite or undefined at x = 0"),
    ("x^y", ["x=-2", "y=2"], "the derivative of x^y with respect to y is undefined at x = -2, y = 2"),
])
def test_domain_errors_name_the_node_and_values(cg, src, bind, msg):
    r = cg("eval", src, *bind)
    assert r.status == 1
    assert r.err.startswith("error: " + msg), r.err
    assert r.err.rstrip().endswith("(--nonfinite lets inf and nan through)")
    assert cg("eval", src, *bind, "--nonfinite").status == 0


def test_huge_power_tower_overflows_at_once(cg):
    import time
    t = time.perf_counter()
    r = cg("eval", "9^9^9^9")
    assert time.perf_counter() - t < 5  # a big-integer computation would never finish
    assert r.status == 1
    assert r.err.startswith("error: 9^9^9 overflows (beyond the largest double, about 1.8e308) at 9^9 = 387420489")


def test_even_power_of_a_negative_base_is_fine(cg):
    r = cg("eval", "x^2", "x=-2", "--format", "json")
    assert r.status == 0 and r.json()["gradients"] == {"x": -4.0}


def test_empty_program(cg):
    for src in ["", "  ", "# only a comment", ";;\n;"]:
        r = cg("eval", src)
        assert r.status == 2 and r.err == "error: empty program: nothing to evaluate\n"


def test_no_program(cg):
    r = cg("eval")
    assert r.status == 2 and r.err.startswith("error: no program")


def test_unreadable_file(cg, tmp_path):
    r = cg("eval", "-f", str(tmp_path / "missing.cg"))
    assert r.status == 2
    assert r.err == "error: cannot read %s: No such file or directory\n" % (tmp_path / "missing.cg")


def test_unknown_option_is_a_usage_error_with_error_prefix(cg):
    r = cg("eval", "x", "--frmat", "json")
    assert r.status == 2 and r.err.startswith("error: No such option")


def test_unknown_command(cg):
    r = cg("evl", "x")
    assert r.status == 2 and r.err.startswith("error: No such command")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_random_bytes_never_traceback(cg, data):
    text = data.decode("utf-8", errors="replace")
    r = cg("eval", "-f", "-", "x=1", "y=2", "--nonfinite", input=text)  # cg re-raises any non-exit exception
    assert r.status in (0, 1, 2)
    if r.status:
        assert r.err.startswith("error: ")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="xy12.e+-*/^()pilogsqrt ,;\n#=", max_size=40))
def test_random_language_soup_never_traceback(cg, text):
    r = cg("eval", "--", text, "x=1.5", "y=-2")
    assert r.status in (0, 1, 2)
    if r.status:
        assert r.err.startswith("error: ")
        assert "Traceback" not in r.err
