"""LaTeX: `diff --format latex` and `explain --format latex` (docs/commands.md, "LaTeX").

The same structures as the text, written another way: expressions from the
tape's nodes (an operation and its operands, like tape.write), derivatives from
the printer's parts (derive/printer.program_parts with the style here, so the
same temporaries), and the local derivative formulas from the primitive rules
run on `TexTerm` operands (core/formula's terms in the style here). No rule is
restated. The result is a math fragment for `\\[ ... \\]`, an `aligned` block
when it has several lines; `wrap` adds the delimiters or a whole document.

An operand is (text, precedence, first, last, tall): the kinds of its first and
last characters (`num` a digit, `neg` a minus sign, `negp` a parenthesized
negative, `word` a multi-letter name, `plain`) decide how a product is joined
(`2 x y`, `x \\cdot 2`, `4 \\cdot (-3)`, `a \\, \\mathit{loss}`), and `tall` (a
fraction inside) whether parentheses are `\\left( \\right)`. Loops only.
"""

import math
import re

from ..core.formula import Term, rule_text
from ..core.numbers import fmt, fmt_precision
from ..core.primitives import P_ATOM, P_POWER, P_PRODUCT, P_SUM, P_UNARY, PRIMITIVES

FUNCTIONS = {
    "exp": r"\exp", "log": r"\log", "log2": r"\log_{2}", "log10": r"\log_{10}", "sin": r"\sin",
    "cos": r"\cos", "tan": r"\tan", "asin": r"\arcsin", "acos": r"\arccos", "atan": r"\arctan",
    "sinh": r"\sinh", "cosh": r"\cosh", "tanh": r"\tanh", "sigmoid": r"\sigma", "min": r"\min",
    "max": r"\max", "sign": r"\operatorname{sgn}", "pow": r"\operatorname{pow}",
}
GREEK = set("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi rho sigma tau "
            "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split())
RESERVED = {r"\sigma", r"\pi", "e"}  # what sigmoid, pi and e are written as: no name may look the same
_PART = re.compile(r"([A-Za-z]+)([0-9]*)|[0-9]+")
_HOLE = re.compile("\x00(\\d+)\x00")


def _escape(name):
    return r"\mathit{%s}" % name.replace("_", r"\_")


def _word(letters):
    if len(letters) == 1:
        return letters
    return "\\" + letters if letters in GREEK else r"\mathit{%s}" % letters


def tex_name(name):
    """A name as LaTeX: x; x1, x_1 -> x_{1}; W1_2_3 -> W_{1,2,3}; alpha -> \\alpha;
    loss -> \\mathit{loss}; h@2 (the 2nd binding of h) -> {h^{(2)}}. A name that does
    not split so (x__1, _x) is written as it is: \\mathit{x\\_\\_1}."""
    base, _, version = name.partition("@")
    parts = base.split("_")
    head = _PART.fullmatch(parts[0])
    subs = []
    if head is None or head.group(1) is None or not all(_PART.fullmatch(p) for p in parts[1:]):
        text = _escape(base)
    else:
        text = _word(head.group(1))
        if head.group(2):
            subs.append(head.group(2))
        for p in parts[1:]:
            m = _PART.fullmatch(p)
            subs.append(p if m.group(1) is None else (_word(m.group(1)) + m.group(2) if not m.group(2)
                                                       or len(m.group(1)) == 1 else _escape(p)))
        if subs:
            text += "_{%s}" % ",".join(subs)
    if version:
        return "{%s^{(%s)}}" % (text, version)
    return text


class Names:
    """tex_name for a set of names, without two names (or a name and sigmoid, pi, e)
    written alike: those are written as they are (x1 and x_1: \\mathit{x1}, \\mathit{x\\_1})."""

    def __init__(self, names):
        names = list(dict.fromkeys(names))
        texts = {n: tex_name(n) for n in names}
        seen: dict = {}
        for n, t in texts.items():
            seen.setdefault(t, []).append(n)
        for t, ns in seen.items():
            if len(ns) > 1 or t in RESERVED:
                for n in ns:
                    texts[n] = _escape(n.partition("@")[0]) + (
                        "^{(%s)}" % n.partition("@")[2] if "@" in n else "")
                    if "@" in n:
                        texts[n] = "{%s}" % texts[n]
        self.texts = texts

    def __call__(self, name):
        t = self.texts.get(name)
        return tex_name(name) if t is None else t

    def operand(self, name):
        t = self(name)
        kind = "word" if t.startswith(r"\mathit") or (t.startswith("\\") and t[1:] in GREEK) else "plain"
        return (t, P_POWER if t.startswith("{") else P_ATOM, kind, kind, False)


def number(v, digits=None, constant=False):
    """A number as LaTeX: -3, 0.5, 1.5 \\times 10^{-8}, 10^{20}, \\infty, \\mathrm{NaN};
    shortest round trip, or `digits` significant digits. A `constant` of the program
    that is pi or e is written \\pi or e (a computed value is written in digits)."""
    if constant and v == math.pi:
        return r"\pi"
    if constant and v == math.e:
        return "e"
    if math.isnan(v):
        return r"\mathrm{NaN}"
    if math.isinf(v):
        return r"\infty" if v > 0 else r"-\infty"
    t = fmt_precision(v, digits)
    if "e" not in t:
        return t
    mant, _, exp = t.partition("e")
    exp = str(int(exp))
    sign = "-" if mant.startswith("-") else ""
    mant = mant.lstrip("-")
    return "%s10^{%s}" % (sign, exp) if mant == "1" else r"%s%s \times 10^{%s}" % (sign, mant, exp)


def number_operand(v, digits=None, constant=False):
    t = number(v, digits, constant)
    neg = t.startswith("-")
    prec = P_UNARY if neg else (P_PRODUCT if r"\times" in t else (P_POWER if "^" in t else P_ATOM))
    first = "neg" if neg else ("num" if t[:1].isdigit() or t in (r"\infty", r"\mathrm{NaN}") else "plain")
    return (t, prec, first, "num" if t[-1:].isdigit() else "plain", False)


def paren(o):
    t, _, first, _, tall = o
    text = r"\left(%s\right)" % t if tall else "(%s)" % t
    return (text, P_ATOM, "negp" if first == "neg" else "plain", "plain", tall)


def _product(a, b):
    if b[2] in ("num", "neg", "negp"):
        sep = r" \cdot "
    elif a[3] == "word" or b[2] == "word":
        sep = r" \, "
    else:
        sep = " "
    return a[0] + sep + b[0]


def write(op, operands):
    """`op` applied to operands (text, prec, first, last, tall), with the fewest
    parentheses that read back as the same tree; the result is an operand too."""
    prim = PRIMITIVES[op]
    tall = any(o[4] for o in operands)
    if op == "sqrt":
        return (r"\sqrt{%s}" % operands[0][0], P_ATOM, "plain", "plain", tall)
    if op == "abs":
        bars = (r"\left\lvert %s \right\rvert" if tall else r"\lvert %s \rvert") % operands[0][0]
        return (bars, P_ATOM, "plain", "plain", tall)
    if op == "div":
        return (r"\frac{%s}{%s}" % (operands[0][0], operands[1][0]), P_POWER, "plain", "plain", True)
    if prim.symbol is None:
        name = FUNCTIONS.get(op) or r"\operatorname{%s}" % op.replace("_", r"\_")
        args = ", ".join(o[0] for o in operands)
        return (name + (r"\left(%s\right)" % args if tall else "(%s)" % args), P_ATOM, "plain", "plain", tall)
    p = prim.prec
    if len(operands) == 1:  # neg
        o = operands[0]
        o = o if o[1] > p else paren(o)
        return ("-" + o[0], p, "neg", o[3], tall)
    a, b = operands
    if p == P_POWER:
        a = a if a[1] > P_POWER else paren(a)
        return ("%s^{%s}" % (a[0], b[0]), P_POWER, a[2], "plain", tall)
    a = a if a[1] >= p else paren(a)
    b = b if b[1] > p and b[2] != "neg" else paren(b)  # x + (-3), x \cdot (-y)
    if p == P_PRODUCT:
        return (_product(a, b), p, a[2], b[3], tall)
    return ("%s %s %s" % (a[0], prim.symbol, b[0]), p, a[2], b[3], tall)


# ---- the local derivative formulas: core/formula's terms, written in LaTeX ----

class TexStyle:
    hole = "\x00%d\x00"

    def render(self, c, num, den):
        coef = abs(c)
        sign = "-" if c < 0 else ""
        if den:
            under = self._product(den)
            inv = 1.0 / coef
            if coef != 1 and inv == int(inv) and inv < 1e15:  # 0.5/x -> 1/(2 x)
                under = fmt(inv) + " " + under
                coef = 1.0
            top = self._product(num)
            if coef != 1 or not num:
                top = fmt(coef) + (" " + top if top else "")
            return r"%s\frac{%s}{%s}" % (sign, top, under), (P_UNARY if sign else P_POWER)
        if not num:
            return fmt(c), (P_UNARY if c < 0 else P_ATOM)
        if len(num) == 1 and coef == 1 and num[0][2] == 1 and not sign:
            return num[0][0], num[0][1]
        text = sign + ((fmt(coef) + " ") if coef != 1 else "") + self._product(num)
        return text, (P_UNARY if sign and len(num) == 1 else P_PRODUCT if len(num) > 1 or coef != 1 else P_POWER)

    def _product(self, factors):
        """Factors joined by thin spaces; one factor to the first power needs no parentheses."""
        if len(factors) == 1 and factors[0][2] == 1:
            return factors[0][0]
        return r" \, ".join(self._factor(f) for f in factors)

    def _factor(self, f):
        t, p, e = f
        if e != 1:
            return "%s^{%d}" % (t if p > P_POWER else r"\left(%s\right)" % t, e)
        return t if p > P_PRODUCT else r"\left(%s\right)" % t

    def power(self, a, pa, b, pb):
        return "%s^{%s}" % (a if pa > P_POWER else r"\left(%s\right)" % a, b)

    def sum(self, ta, pa, op, tb, pb):
        return "%s %s %s" % (ta if pa >= P_SUM else r"\left(%s\right)" % ta, op,
                             tb if pb > P_SUM and pb != P_UNARY else r"\left(%s\right)" % tb)

    def call(self, name, texts):
        if name == "sqrt":
            return r"\sqrt{%s}" % texts[0], P_ATOM
        f = FUNCTIONS.get(name) or r"\operatorname{%s}" % name
        return r"%s(%s)" % (f, ", ".join(texts)), P_ATOM

    def step(self, x):
        return "[%s > 0]" % x, P_ATOM  # the Iverson bracket: 1 if true, else 0

    def tied(self, x, largest):
        return r"[%s\ \text{is the %s (ties share)}]" % (x, "largest" if largest else "smallest"), P_ATOM

    def constant(self, name):
        return r"\log(%d)" % {"LN2": 2, "LN10": 10}[name]


class TexTerm(Term):
    __slots__ = ()
    style = TexStyle()


def local_formula(op, n, k, operands):
    """The rule for the partial of an `op` node (n operands) by operand k, in LaTeX,
    with the operands' texts in their holes (None: the rule is a number)."""
    template = rule_text(PRIMITIVES[op], n, TexTerm)[k]
    return _HOLE.sub(lambda m: operands[int(m.group(1))], template)


# ---- diff --format latex ----------------------------------------------------------

class _Style:
    """derive/printer.program_parts's style: nodes written by `write` above."""

    atom = (P_ATOM, "plain", "plain", False)

    def __init__(self, names):
        self.names = names

    def template(self, op, precs):
        text, *kinds = write(op, [("\x00%d\x00" % k,) + tuple(p) for k, p in enumerate(precs)])
        pattern = [int(x) if k % 2 else x for k, x in enumerate(_HOLE.split(text)) if k % 2 or x]
        return pattern, tuple(kinds)

    def var(self, name):
        t, *kinds = self.names.operand(name)
        return t, tuple(kinds)

    def const(self, v):
        t, *kinds = number_operand(v, constant=True)
        return t, tuple(kinds)

    def name(self, name):
        return self.names(name)


def partial_label(names, output, seq):
    """d/dx of f: \\frac{\\partial f}{\\partial x}; \\partial^{2} f over \\partial x^{2}, or
    \\partial x \\, \\partial y for the mixed partial (in the order taken)."""
    runs: list = []
    for x in seq:
        if runs and runs[-1][0] == x:
            runs[-1][1] += 1
        else:
            runs.append([x, 1])
    under = r" \, ".join(r"\partial %s" % names(x) + ("^{%d}" % c if c > 1 else "") for x, c in runs)
    top = r"\partial" + ("^{%d}" % len(seq) if len(seq) > 1 else "")
    return r"\frac{%s %s}{%s}" % (top, names(output), under)


def aligned(rows):
    """Rows (left, right) as an aligned block (left &= right), or the one right side alone
    when left is None."""
    if len(rows) == 1 and rows[0][0] is None:
        return rows[0][1]
    body = " \\\\\n".join("%s &= %s" % row for row in rows)
    return "\\begin{aligned}\n%s\n\\end{aligned}" % body


def diff_latex(program, seqs, outputs=None):
    """The derivatives that diff_text (or diff_texts, with several `outputs`) writes, in
    LaTeX: the one expression, or an aligned block of temporaries then a row per derivative."""
    from .derive import printer
    from .derive.gradient import _copy, differentiate, subgraph
    if outputs:
        from ..core.language import Program
        from .derive.builder import Builder
        ids = [program.select(u).output for u in outputs]
        g, new = subgraph(program.graph, ids)
        b = Builder(g)
        results, labels = [], []
        for u, i in zip(outputs, ids):
            for s, node in differentiate(Program(g, new[i], u, program.source), seqs, b):
                results.append((printer.output_derivative_name(u, s), node))
                labels.append((u, s))
    else:
        program = _copy(program)
        g = program.graph
        out = program.output_name or next(n for n in ("f", "g", "h", "F") if n not in g.inputs)
        pairs = differentiate(program, seqs)
        results = [(printer.derivative_name(s), node) for s, node in pairs]
        labels = [(out, s) for s, _ in pairs]
    temps = printer.program_parts(g, results)[0]  # the temporaries' names, so that none looks like another
    names = Names(list(g.inputs) + [n for n in g.names if n] + [u for u, _ in labels] + [t for t, _ in temps])
    temps, outs, single = printer.program_parts(g, results, style=_Style(names))
    if single:
        return outs[0][1]
    rows = [(names(t), text) for t, text in temps]
    rows += [(partial_label(names, u, s), text) for (u, s), (_, text) in zip(labels, outs)]
    return aligned(rows)


def wrap(body, standalone=False):
    """A fragment as display math; `standalone`: a whole document for pdflatex."""
    math_ = "\\[\n%s\n\\]" % body
    if not standalone:
        return math_
    return ("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n%s\n"
            "\\end{document}" % math_)
