"""The lean LALR driver (cgcli/core/lalr.py) against Lark's own parser as the oracle.

Lark (a dependency) parses with the same grammar and the same _Builder transformer
called inline, as cgraph did before the driver: on any text both must accept or
reject alike, reject with the same message (line, column, caret, expected set,
hints), and accept with the same graph, node for node.
"""

import functools
import os
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cgcli.core import _parser, lalr
from cgcli.core import language as parse
from cgcli.core.errors import CgraphError
from cgcli.core.tape import Graph, no_gc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@functools.lru_cache(maxsize=1)
def _lark_builder():
    import lark
    b = parse._Builder()
    with open(parse.grammar_path(), encoding="utf-8") as fh:
        parser = lark.Lark(fh.read(), parser="lalr", lexer="basic", transformer=b)
    return parser, b


def lark_program(text):
    """parse_program, as it was: Lark's parser with the transformer inline."""
    import lark
    parser, b = _lark_builder()
    b.g = g = Graph()
    b.text = text
    try:
        with no_gc():
            stmts = parser.parse(text)
    except lark.exceptions.UnexpectedInput as e:
        raise parse._syntax_error(text, e) from None
    if not stmts:
        raise parse.UsageError("empty program: nothing to evaluate")
    name, out = stmts[-1]
    return parse.Program(g, out, None if name is None else str(name), text)


def _rule(r):
    return (r.func, r.args) if isinstance(r, functools.partial) else r


def snapshot(p):
    g = p.graph
    return {"ops": g.ops, "args": g.args, "attr": [repr(a) for a in g.attr], "names": g.names,
            "depends": g.depends, "env": g.env, "inputs": list(g.inputs.items()), "bindings": g.bindings,
            "fcode": g.fcode, "bcode": [(e[0], e[1], _rule(e[2]), e[3], e[4]) for e in g.bcode],
            "nodep": g.nodep, "unused": g._unused, "out": (p.output, p.output_name)}


def outcome(f, text):
    try:
        return "ok", snapshot(f(text))
    except CgraphError as e:
        return "error", e.status, str(e)


def same(text):
    ours, theirs = outcome(parse.parse_program, text), outcome(lark_program, text)
    assert ours == theirs, text
    return ours


WORDS = ["x", "y", "h", "sin", "pow", "max", "pi", "e", "ln", "foo", "sinn", "W1_2", "2", "0", "1.5", ".5e3", "3.",
         "1e", "+", "-", "*", "/", "^", "**", "(", ")", ",", "=", ";", "\n", " ", "\t", "#c\n", "# note", "$", "é",
         "@", "3x", "\r\n", "x =", "= 1", "()", "( )"]


@settings(max_examples=600, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.sampled_from(WORDS), max_size=14), st.sampled_from(["", " "]))
def test_token_soups_match_lark(words, sep):
    same(sep.join(words))


def _tokens(regex, tables, text):
    out = []
    for m in regex.finditer(text):
        la = m.lastindex
        if la in tables.ignore:
            continue
        name = tables.names[la]
        out.append((name, m.group(la), m.start()) if name != "_SEP" else (name,))
        if la == tables.unexpected:
            break
    return out


@settings(max_examples=600, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(WORDS), max_size=14), st.sampled_from(["", " ", "  ", "\t"]))
def test_the_fast_tokens_are_lark_s(words, sep):
    """The loop's pattern (ignored text taken after each token) gives Lark's tokens:
    the same terminals with the same texts and starts (a separator's start aside)."""
    parse.parse_program("x")
    t = parse._PARSER[0]
    text = sep.join(words)
    assert _tokens(t.regex, t, text) == _tokens(t.exact, t, text)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.recursive(st.sampled_from(["x", "y", "2", "0.5", "pi", "-x", "+y"]),
                    lambda inner: st.one_of(
                        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^", "**"]), inner).map(" ".join),
                        inner.map("({})".format), inner.map("-{}".format),
                        st.tuples(st.sampled_from(["sin", "exp", "max", "pow", "tanh"]),
                                  st.lists(inner, min_size=1, max_size=3)).map(lambda t: "%s(%s)" % (t[0], ", ".join(t[1])))),
                    max_leaves=8),
       st.sampled_from(["{}", "a = {}; b = a*{}", "h = {}\nh = h + {}\n", "{}; x = 3; x*{}"]))
def test_well_formed_programs_build_the_same_graph(expr, shape):
    assert same(shape.replace("{}", expr))[0] in ("ok", "error")


@pytest.mark.parametrize("text", [
    "2x", "x y", "(a)(b)", "sin x", "2 +* x", "x +", "x + \n", "(x", "x)", "x $ y", "f(x)", "sin(x, y)", "max()",
    "pi = 3", "a = ; b", "\n\n  x + (y\n", "x\u00e9", "a = 1;;\n;b = a", "", "  # only a comment\n", ";", "x ** ** y",
    "x = 1\ny = = 2", "1.2.3", "x^-y^2", "--x", "-3", "- 3", "-(3)", "f()", "sin()", "x, y",
])
def test_known_texts_match_lark(text):
    same(text)


def test_expected_set_and_position_are_lark_s():
    with pytest.raises(CgraphError) as e:
        parse.parse_program("a = 1\nb = (2 +\n")
    assert str(e.value) == str(pytest.raises(CgraphError, lark_program, "a = 1\nb = (2 +\n").value)
    assert str(e.value) == ("syntax error at line 2, column 9: unexpected end of statement "
                            "(expected '(', '+', '-', a name or a number)\n  b = (2 +\n          ^")


def test_deep_nesting_and_long_sums_do_not_recurse():
    n = 100_000
    p = parse.parse_program("(" * n + "x" + ")" * n + " + 1")
    assert p.graph.ops == ["var", "const", "add"]
    p = parse.parse_program("-" * 1000 + "x")
    assert p.graph.ops == ["var"] + ["neg"] * 1000
    s = parse.parse_program(" + ".join("x%d*1.5" % i for i in range(1, 20_001)))
    assert len(s.graph) == 20_000 + 1 + 20_000 + 19_999


def test_the_driver_imports_no_lark():
    import subprocess
    code = ("import sys; from cgcli.core.language import parse_program; parse_program('x + 1');"
            "print('lark' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.stdout.strip() == "False", r.stderr


def test_generated_tables_are_lark_s():
    """_parser.py holds what build_tables makes from the grammar, exactly (the states
    are numbered breadth-first, not in Lark's hash-seed-dependent order)."""
    with open(parse.grammar_path(), encoding="utf-8") as fh:
        fresh = lalr.build_tables(fh.read())
    d = _parser.DATA
    assert fresh == d
    assert fresh["pattern"] == d["pattern"] and fresh["names"] == d["names"] and fresh["ignore"] == d["ignore"]
    assert fresh["lean_pattern"] == d["lean_pattern"] != d["pattern"]
    assert sorted(map(repr, fresh["rules"])) == sorted(map(repr, d["rules"]))
    assert len(fresh["actions"]) == len(d["actions"])


def test_token_line_and_column():
    t = lalr.Token("NAME", "ab", 6, "x = 1\nab")
    assert (t.line, t.column, str(t), t.type) == (2, 1, "ab", "NAME")


def test_binary_nodes_have_apply_s_general_entries():
    """Graph.binary's precomputed backward kinds are _backward_entry's, for every binary
    primitive and every way its inputs may depend on an input; hash-consing is shared."""
    from cgcli.core.primitives import PRIMITIVES
    from cgcli.core.tape import _backward_entry
    for op, p in PRIMITIVES.items():
        if p.arity != 2:
            continue
        g = Graph()
        x, c = g.var("x"), g.const(2.0)
        for a, b in ((x, x), (x, c), (c, x), (c, c)):
            i = g.apply(op, a, b)
            assert g.apply(op, a, b) == g.binary(op)(a, b) == i and g.args[i] == (a, b) and g.ops[i] == op
            assert g.fcode[-1] == (i, p.f, a, b)
            if g.depends[i]:
                want = _backward_entry(i, p, a, b, g.depends)
                got = g.bcode[-1]
                assert (got[0], got[1], _rule(got[2]), got[3], got[4]) == (want[0], want[1], _rule(want[2]), want[3], want[4])
            else:
                assert g.nodep[-1] == i and (a, b) == (c, c)
        assert len(g) == 6 and g._unused == {2, 3, 4, 5}
