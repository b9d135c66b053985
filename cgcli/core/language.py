"""From program text to a graph, in one LALR pass.

The grammar is `grammar/cgraph.lark`, shipped inside the package. Lark's LALR(1)
tables for it are generated into `_parser.py` (`python -m cgcli.regenerate`) and
driven by `lalr.py`, which calls the builder's callbacks as it reduces each rule,
so each node is added to the tape as its rule is reduced: no parse tree is built,
and the parser's own stacks (not Python's) carry nesting depth.

The table module records a checksum of the grammar; it is compared with the
grammar file at load, and if they differ (the grammar was edited) the tables are
built from Lark itself.
"""

import os
import zlib
from typing import Any

from .errors import CgraphError, UsageError, printable
from .primitives import CONSTANTS, FUNCTIONS, VARIADIC
from .tape import CONST, Graph, no_gc

_HERE = os.path.dirname(os.path.abspath(__file__))
_PACKAGE = os.path.dirname(_HERE)


def grammar_path():
    """The grammar inside the installed package, or in the source tree."""
    for p in (os.path.join(_PACKAGE, "grammar", "cgraph.lark"),
              os.path.join(os.path.dirname(_PACKAGE), "grammar", "cgraph.lark")):
        if os.path.exists(p):
            return p
    raise CgraphError("cannot find the grammar file cgraph.lark beside the cgcli package", 2)


class Program:
    """A parsed program: its graph, the output node and the output's name (None for a bare expression)."""

    def __init__(self, graph, output, output_name, source):
        self.graph = graph
        self.output = output
        self.output_name = output_name
        self.source = source
        self._cone = None

    def cone(self):
        """The output's cone: (graph, old ids), the subgraph of the nodes the output
        depends on (see Graph.cone). Computed once, and again only if the graph grew."""
        c = self._cone
        if c is None or c[0] != len(self.graph.ops):
            c = self._cone = (len(self.graph.ops), self.graph.cone(self.output))
        return c[1]

    def select(self, name):
        """The same program with `name`'s newest value as the output (--output NAME)."""
        g = self.graph
        if name in g.env:
            return Program(g, g.env[name], name, self.source)
        if name in g.inputs:
            return Program(g, g.inputs[name], name, self.source)
        known = sorted(set(g.env) | set(g.inputs))
        raise UsageError("--output: the program has no name %r (names: %s)" % (name, ", ".join(known) or "none"))


class _Builder:
    """The callbacks: one method per reduced rule with its children, as Lark's tree
    builder gives them (so the same object is a Lark transformer, the tests' oracle).
    Every method returns a node id (statements return (name, id)); `fast` gives the
    driver short cuts for the operators, names and numbers."""

    def __init__(self):
        self.g = Graph()
        self.text = ""

    def fast(self):
        """The lean driver's short cuts (cgcli/core/lalr.py's plan): the binary
        operators as f(a, b) and the token rules as f(text), on this parse's graph."""
        g = self.g
        binary = g.binary
        name, number = g.leaves(CONSTANTS)
        out = {op: ("binary", binary(op)) for op in ("add", "sub", "mul", "div", "pow")}
        out["name"] = ("token", name)
        out["number"] = ("token", number)
        return out

    # statements
    def start(self, stmts):
        return stmts

    def assign(self, c):
        tok, node = c
        if tok in CONSTANTS:
            raise _error_at(self.text, tok, "%s is a constant and cannot be assigned" % tok)
        return tok, self.g.bind(str(tok), node)

    def expr_stmt(self, c):
        return None, c[0]

    # operators
    def add(self, c):
        return self.g.apply("add", c[0], c[1])

    def sub(self, c):
        return self.g.apply("sub", c[0], c[1])

    def mul(self, c):
        return self.g.apply("mul", c[0], c[1])

    def div(self, c):
        return self.g.apply("div", c[0], c[1])

    def pow(self, c):
        return self.g.apply("pow", c[0], c[1])

    def neg(self, c):
        g = self.g
        a = c[0]
        if g.ops[a] == CONST and g.names[a] is None:  # -3 is the number -3
            return g.const(-g.attr[a])
        return g.apply("neg", a)

    def pos(self, c):
        return c[0]

    # atoms
    def number(self, c):
        return self.g.const(float(c[0]))

    def name(self, c):
        name = str(c[0])
        g = self.g
        if name in g.env:
            return g.env[name]
        if name in CONSTANTS:
            return g.const(CONSTANTS[name])
        return g.var(name)

    def call(self, c):
        tok = c[0]
        args = [a for a in c[1:] if a is not None]
        prim = FUNCTIONS.get(str(tok))
        if prim is None:
            raise _error_at(self.text, tok, "unknown function %r" % _quote(str(tok)),
                            " (%s)" % _function_hint(str(tok)))
        if prim.arity == VARIADIC:
            if not args:
                raise _error_at(self.text, tok, "%s takes at least 1 argument, got 0" % tok)
        elif len(args) != prim.arity:
            raise _error_at(self.text, tok, "%s takes %d argument%s, got %d"
                            % (tok, prim.arity, "" if prim.arity == 1 else "s", len(args)))
        return self.g.apply(prim.name, *args)


_BUILDER = _Builder()
_PARSER: Any = None  # (the tables, their syntax-error exception class), made on first use


def _load():
    global _PARSER
    with open(grammar_path(), "rb") as fh:
        grammar = fh.read()
    from . import _parser as generated
    from . import lalr
    if zlib.crc32(grammar) == generated.GRAMMAR_CRC32:
        tables = lalr.Tables(generated.DATA, generated.FOLD)
    else:  # the grammar was edited after _parser.py was generated: ask Lark for the tables
        tables = lalr.Tables(lalr.build_tables(grammar.decode("utf-8")))
    _PARSER = (tables, lalr.UnexpectedInput)


def parse_program(text):
    """Parse program text into a Program. Raises CgraphError (status 2) on a syntax error."""
    if _PARSER is None:
        _load()
    tables, unexpected = _PARSER
    from .lalr import parse, plan
    b = _BUILDER
    b.g = g = Graph()
    b.text = text
    try:
        with no_gc():
            try:
                stmts = parse(tables, plan(tables, b), text)
            except unexpected:
                # the fast pass's tokens may start a separator after the spaces before it:
                # parse again with Lark's exact tokens for the error's position and text
                b.g = g = Graph()
                stmts = parse(tables, plan(tables, b), text, exact=True)
    except unexpected as e:
        raise _syntax_error(text, e) from None
    except RecursionError:  # not expected: nothing here recurses on depth
        raise CgraphError("the program is nested too deeply", 2) from None
    finally:
        b.g = None  # type: ignore[assignment]
        b.text = ""
    if not stmts:
        raise UsageError("empty program: nothing to evaluate")
    name, out = stmts[-1]
    return Program(g, out, None if name is None else str(name), text)


# ---- syntax errors ----------------------------------------------------------

# Other names for the functions, as other languages spell them.
ALIASES = {"ln": "log", "arctan": "atan", "arcsin": "asin", "arccos": "acos", "power": "pow",
           "sqr": "x^2 (sqrt is the square root)", "square": "x^2", "logistic": "sigmoid", "heaviside": "step",
           "signum": "sign", "sgn": "sign", "fabs": "abs", "lg": "log10", "ld": "log2", "exp2": "2^x"}


def _function_hint(name):
    """`did you mean log?` for an alias (ln) or a close match (sinn); else the list."""
    alias = ALIASES.get(name) or ALIASES.get(name.lower())
    if alias in FUNCTIONS:
        return "did you mean %s?" % alias
    if alias:
        return "write %s" % alias
    close = []
    if len(name) < 64:  # difflib is quadratic in the length
        import difflib
        close = difflib.get_close_matches(name.lower(), sorted(FUNCTIONS), n=4, cutoff=0.6)
    if close:
        return "did you mean %s?" % ", ".join(close)
    return "known functions: %s" % ", ".join(sorted(FUNCTIONS))


_TOKEN_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "LPAR": "'('", "RPAR": "')'", "PLUS": "'+'",
    "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'", "CIRCUMFLEX": "'^'", "COMMA": "','",
    "EQUAL": "'='", "_SEP": "a new line or ';'", "$END": "the end",
}


CARET_WINDOW = 40  # characters of the line quoted on either side of the error


def _source_line(text, line):
    """Line `line` (1-based) of text, found without splitting all of it."""
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    end = text.find("\n", start)
    return text[start:] if end < 0 else text[start:end]


def _caret(text, line, column):
    """The line with a caret under `column`: at most CARET_WINDOW characters either
    side of it (`...` marks the cut), control characters escaped, caret aligned."""
    src = _source_line(text, line).rstrip("\r") if line > 0 else ""
    c = max(0, column - 1)
    lo, hi = max(0, c - CARET_WINDOW), min(len(src), c + CARET_WINDOW)
    head = ("..." if lo > 0 else "") + printable(src[lo:c].replace("\t", " "))
    tail = printable(src[c:hi].replace("\t", " ")) + ("..." if hi < len(src) else "")
    return "  %s%s\n  %s^" % (head, tail, " " * len(head))


def _where(text, line, column):
    multi = "\n" in text.rstrip("\n")
    return ("line %d, column %d" % (line, column)) if multi else ("column %d" % column)


def _error_at(text, tok, message, hint=""):
    line, col = getattr(tok, "line", 1) or 1, getattr(tok, "column", 1) or 1
    return UsageError("%s at %s%s\n%s" % (message, _where(text, line, col), hint, _caret(text, line, col)))


def _syntax_error(text, e):
    kind = type(e).__name__
    line, col = getattr(e, "line", -1), getattr(e, "column", -1)
    tok = getattr(e, "token", None)
    if line is None or line < 1 or (tok is not None and tok.type == "$END"):  # the end of the text
        lines = text.split("\n")
        line, col = len(lines), len(lines[-1]) + 1
    if kind == "UnexpectedCharacters":
        ch = text[e.pos_in_stream]
        what = "unexpected character %r" % ch
        if not ch.isascii() and (ch.isalnum() or ("a" + ch).isidentifier()):
            what += " (names are ASCII letters, digits and _)"
    else:
        tok = getattr(e, "token", None)
        if tok is None or tok.type == "$END":
            what = "unexpected end of input"
        elif tok.type == "_SEP":
            what = "unexpected end of statement"
        else:
            what = "unexpected %r" % str(tok)
        expected = sorted({_TOKEN_WORDS.get(t, repr(t)) for t in getattr(e, "expected", ()) or ()})
        hint = _missing_operator(text, tok) if tok is not None else None
        if hint:
            what += " (%s)" % hint
        elif expected:
            what += " (expected %s)" % _or(expected)
    return UsageError("syntax error at %s: %s\n%s" % (_where(text, line, col), what, _caret(text, line, col)))


def _or(words):
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


# One token of the grammar's NAME or NUMBER, or any other character: scanning a
# run forward with .match consumes it token by token, in linear time.
_TOKEN = None
_OPERAND_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.+-")
MAX_QUOTED = 24  # characters of an operand a hint quotes


def _last_operand(before):
    """The NAME, NUMBER or ')' that ends `before`, or None. Linear in the run of
    name and number characters at its end (no regular expression searches
    backwards from every position)."""
    global _TOKEN
    if before.endswith(")"):
        return ")"
    i = len(before)
    while i > 0 and before[i - 1] in _OPERAND_CHARS:
        i -= 1
    if i == len(before):
        return None
    if _TOKEN is None:
        import re
        _TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|.", re.S)
    pos, last, n = i, None, len(before)
    match = _TOKEN.match
    while pos < n:
        m = match(before, pos)  # never None: the last alternative takes any one character
        assert m is not None
        last, pos = m, m.end()
    assert last is not None
    tok = last.group(0)
    return tok if tok[0] not in "+-." or len(tok) > 1 else None


def _quote(s):
    return s if len(s) <= MAX_QUOTED else "..." + s[-(MAX_QUOTED - 3):]


def _missing_operator(text, tok):
    """`2x`, `x y`, `(a)(b)`: two operands side by side. Suggest the `*` (or a call)."""
    if tok.type not in ("NAME", "NUMBER", "LPAR"):
        return None
    before = text[:tok.start_pos].rstrip()
    if not before:
        return None
    prev = _last_operand(before)
    if prev is None:
        return None
    if prev in FUNCTIONS and tok.type != "LPAR":
        return "a call needs parentheses: write %s(%s)" % (prev, _quote(str(tok)))
    now = "(" if tok.type == "LPAR" else _quote(str(tok))
    return "no implicit multiplication: write %s*%s" % (_quote(prev), now)
