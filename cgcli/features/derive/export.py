"""`cgraph diff --format python | c`: the value and the gradient as straight-line code.

The symbolic backward pass (gradient.differentiate) gives the derivatives as nodes
of a copy of the program's tape, next to the output's own nodes. Those nodes are
written once each, in tape order, as Python (only `math`) or C99 (only <math.h>):
a node used more than once (and longer than printer.TINY characters, as in diff's
text) becomes a temporary, and so does one nested deeper than MAX_DEPTH or longer
than MAX_LINE (so no line nests past what a compiler or Python's parser takes).
Every other node is written inside its one user. One loop up the tape, each node's
text built from its operands' (bounded) texts: the code is linear in the nodes.

Each primitive is written by one entry of PY and of C below (a test walks the
table of primitives, so a new one without an entry fails). The kinks are the
backward pass's because the derivative nodes are its rules (step, sign, the min/max
tie formula); the kink functions and the forward helpers that are not in the
library (sigmoid, relu, softplus, step, sign, min, max) are emitted as small
helper functions, each only when used, with the forward pass's semantics (nan in,
nan out; min/max keep the first of equal arguments and the first nan).
"""

import keyword
import math

from ...core.errors import UsageError
from ...core.language import Program
from ...core.tape import CONST, VAR
from .builder import Builder
from .gradient import differentiate, subgraph
from .printer import TINY, reached

MAX_DEPTH = 8  # the deepest an inlined expression nests before a temporary cuts it
MAX_LINE = 160  # the longest an inlined expression grows before it becomes a temporary

# Precedences of the text written: 1 sum, 2 product, 3 unary minus, 4 an atom.
_SUM, _PRODUCT, _UNARY, _ATOM = 1, 2, 3, 4
_INFIX = {"add": ("+", _SUM), "sub": ("-", _SUM), "mul": ("*", _PRODUCT), "div": ("/", _PRODUCT)}
_LIBM = ("exp", "log", "log2", "log10", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan",
         "sinh", "cosh", "tanh")

# ---- Python -------------------------------------------------------------------------

PY_HELPERS = {
    "_sigmoid": ("def _sigmoid(x):\n    if x >= 0:\n        return 1.0 / (1.0 + math.exp(-x))\n"
                 "    z = math.exp(x)\n    return z / (1.0 + z)\n"),
    "_relu": "def _relu(x):\n    return x if (x > 0 or x != x) else 0.0\n",
    "_softplus": "def _softplus(x):\n    return math.log1p(math.exp(-math.fabs(x))) + (x if x > 0.0 or x != x else 0.0)\n",
    "_step": "def _step(x):\n    return 1.0 if x > 0 else 0.0\n",
    "_sign": "def _sign(x):\n    return 1.0 if x > 0 else (-1.0 if x < 0 else (0.0 if x == 0 else x))\n",
    "_log0": "def _log0(x):\n    return 0.0 if x == 0 else math.log(x)\n",
    "_dpow": "def _dpow(x, e):\n    return 0.0 if x == 0 and e == -1 else math.pow(x, e)\n",
    "_min": ("def _min(*xs):\n    r = xs[0]\n    for x in xs:\n        if x != x:\n            return x\n"
             "        if x < r:\n            r = x\n    return r\n"),
    "_max": ("def _max(*xs):\n    r = xs[0]\n    for x in xs:\n        if x != x:\n            return x\n"
             "        if x > r:\n            r = x\n    return r\n"),
}

# op -> a function (operand texts) -> text, or a helper's name (a call of it)
PY = {op: "math." + op for op in _LIBM}
PY.update(pow="math.pow", abs="math.fabs", sigmoid="_sigmoid", relu="_relu", softplus="_softplus",
          step="_step", sign="_sign", min="_min", max="_max", log0="_log0", dpow="_dpow")

PY_RESERVED = set(keyword.kwlist) | {"math", "gradient"} | set(PY_HELPERS)

# ---- C ------------------------------------------------------------------------------

C_HELPERS = {
    "cg_sigmoid": ("static double cg_sigmoid(double x)\n{\n    double z;\n"
                   "    if (x >= 0.0)\n        return 1.0 / (1.0 + exp(-x));\n"
                   "    z = exp(x);\n    return z / (1.0 + z);\n}\n"),
    "cg_relu": "static double cg_relu(double x)\n{\n    return (x > 0.0 || x != x) ? x : 0.0;\n}\n",
    "cg_softplus": ("static double cg_softplus(double x)\n{\n"
                    "    return log1p(exp(-fabs(x))) + ((x > 0.0 || x != x) ? x : 0.0);\n}\n"),
    "cg_step": "static double cg_step(double x)\n{\n    return x > 0.0 ? 1.0 : 0.0;\n}\n",
    "cg_sign": ("static double cg_sign(double x)\n{\n"
                "    return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : (x == 0.0 ? 0.0 : x));\n}\n"),
    "cg_log0": "static double cg_log0(double x)\n{\n    return x == 0.0 ? 0.0 : log(x);\n}\n",
    "cg_dpow": ("static double cg_dpow(double x, double e)\n{\n"
                "    return (x == 0.0 && e == -1.0) ? 0.0 : pow(x, e);\n}\n"),
    "cg_min": ("static double cg_min(double a, double b)\n{\n"
               "    return (a != a) ? a : ((b != b || b < a) ? b : a);\n}\n"),
    "cg_max": ("static double cg_max(double a, double b)\n{\n"
               "    return (a != a) ? a : ((b != b || b > a) ? b : a);\n}\n"),
}

C = {op: op for op in _LIBM}
C.update(pow="pow", abs="fabs", sigmoid="cg_sigmoid", relu="cg_relu", softplus="cg_softplus",
         step="cg_step", sign="cg_sign", min="cg_min", max="cg_max", log0="cg_log0", dpow="cg_dpow")

C_RESERVED = {
    # C99 keywords, the parameters, the function, what <math.h> defines as object-like
    # macros, and the functions the code may call
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
    "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict",
    "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
    "unsigned", "void", "volatile", "while", "_Bool", "_Complex", "_Imaginary",
    "in", "grad", "gradient", "main",
    "INFINITY", "NAN", "HUGE_VAL", "HUGE_VALF", "HUGE_VALL", "FP_INFINITE", "FP_NAN", "FP_NORMAL",
    "FP_SUBNORMAL", "FP_ZERO", "FP_ILOGB0", "FP_ILOGBNAN", "FP_FAST_FMA", "FP_FAST_FMAF",
    "FP_FAST_FMAL", "MATH_ERRNO", "MATH_ERREXCEPT", "math_errhandling", "log1p", "fabs",
} | set(C.values()) | set(C_HELPERS)


def _c_reserved(name):
    return name in C_RESERVED or name.startswith("__") or (name[:1] == "_" and name[1:2].isupper())


class _Lang:
    def __init__(self, lang):
        self.py = lang == "python"
        self.funcs = PY if self.py else C
        self.helpers = PY_HELPERS if self.py else C_HELPERS
        self.reserved = (lambda n: n in PY_RESERVED) if self.py else _c_reserved
        self.used = {}  # helper name -> None, in order of first use

    def number(self, v):
        """(text, precedence) of a number: repr round-trips in both languages."""
        if math.isnan(v):
            t = "math.nan" if self.py else "NAN"
        elif math.isinf(v):
            t = ("math.inf" if self.py else "INFINITY") if v > 0 else ("-math.inf" if self.py else "-INFINITY")
        else:
            t = repr(float(v))
        return t, (_UNARY if t.startswith("-") else _ATOM)

    def apply(self, op, xs):
        """(text, precedence) of primitive `op` over operand (text, precedence) pairs."""
        if op in _INFIX:
            sym, p = _INFIX[op]
            (a, pa), (b, pb) = xs
            a = a if pa >= p else "(%s)" % a
            b = b if pb > p else "(%s)" % b
            return "%s %s %s" % (a, sym, b), p
        if op == "neg":
            a, pa = xs[0]
            return "-" + (a if pa == _ATOM else "(%s)" % a), _UNARY
        f = self.funcs[op]  # KeyError: a primitive without an export (tests walk the table)
        if f in self.helpers:
            self.used[f] = None
        if op in ("min", "max") and not self.py:
            acc = xs[0][0]
            for x, _ in xs[1:]:
                acc = "%s(%s, %s)" % (f, acc, x)
            return acc, _ATOM
        return "%s(%s)" % (f, ", ".join(x for x, _ in xs)), _ATOM


class _PowGuards(Builder):
    """The Builder, remembering the nodes of pow's partials at a zero base: the only
    `log` of an input-dependent operand a first derivative builds is dpow_exp's
    log(x) (of x^y*log(x)), the only `pow` with an input-dependent exponent dpow_base's
    x^(y - 1) (of y*x^(y - 1)). They are written with the backward pass's guards
    (primitives.dpow_base, dpow_exp): log0(x) is 0 at x = 0, so the exponent's partial
    of 0^y is 0 for y >= 0; dpow(x, e) is 0 at x = 0 for e = -1 (y = 0), so the base's
    partial of 0^0 is 0. A node the program itself has is left as it is."""

    def __init__(self, g):
        super().__init__(g)
        self.start = len(g.ops)
        self.guards = {}

    def call(self, op, *args):
        i = super().call(op, *args)
        g = self.g
        if i >= self.start and g.ops[i] == op and g.depends[args[-1]]:
            if op == "log":
                self.guards[i] = "log0"
            elif op == "pow":
                self.guards[i] = "dpow"
        return i


def _fresh(name, reserved, taken):
    while reserved(name) or name in taken:
        name += "_"
    return name


def export_code(program, wrt=None, lang="python"):
    """The program's output and its gradient as a function in `lang` ("python" or
    "c"): Python `gradient(x, y, ...)` returning (value, {name: derivative}), C
    `double gradient(const double in[], double grad[])`. The parameters are all the
    program's inputs in the order it first reads them (eval's gradients); `wrt`
    (names) picks the derivatives, in its order (default: every input)."""
    inputs = list(program.graph.inputs)
    names = list(dict.fromkeys(wrt)) if wrt else inputs
    g, new = subgraph(program.graph, [program.output])
    prog = Program(g, new[program.output], program.output_name, program.source)
    b = _PowGuards(g)
    results = differentiate(prog, [(n,) for n in names], b)
    roots = [prog.output] + [node for _, node in results]
    L = _Lang(lang)

    # safe local names: inputs first (the C code reads them from in[]), then temporaries
    taken = set()
    local = {}
    for name in inputs:
        local[name] = _fresh(name, L.reserved, taken)
        taken.add(local[name])
    ops, args, attr = g.ops, g.args, g.attr
    n = max(roots) + 1
    keep, uses = reached(args, roots)
    count = {}
    for name, _ in g.bindings:
        count[name] = count.get(name, 0) + 1

    text = {}  # node -> (text, precedence) as its users write it
    depth = {}
    lines = []  # (local name, text) of each temporary, in tape order
    read = {}  # inputs the code reads
    k = 0
    for i in range(n):
        if not keep[i]:
            continue
        op = ops[i]
        if op == VAR:
            text[i] = (local[attr[i]], _ATOM)
            read[attr[i]] = None
            depth[i] = 0
            continue
        if op == CONST:
            text[i] = L.number(attr[i])
            depth[i] = 0
            continue
        t, p = L.apply(b.guards.get(i, op), [text[a] for a in args[i]])
        d = 1 + max(depth[a] for a in args[i])
        if (uses[i] > 1 and len(t) > TINY) or d >= MAX_DEPTH or len(t) > MAX_LINE:
            name = g.names[i] if i < len(g.names) else None
            if name is None or count.get(name) != 1 or name in taken or L.reserved(name) or name in g.inputs:
                while True:
                    k += 1
                    name = "t%d" % k
                    if name not in taken and name not in count and not L.reserved(name) and name not in g.inputs:
                        break
            taken.add(name)
            lines.append((name, t))
            t, p, d = name, _ATOM, 0
        text[i] = (t, p)
        depth[i] = d
    value = text[prog.output][0]
    grads = [(s[0], text[node][0]) for s, node in results]
    write = _python if L.py else _c
    return write(L, inputs, local, read, lines, value, grads)


def _python(L, inputs, local, read, lines, value, grads):
    out = ["import math", ""]
    for h in L.used:
        out += ["", PY_HELPERS[h]]
    out += ["", "def gradient(%s):" % ", ".join(local[n] for n in inputs),
            '    """(value, {input: derivative}), generated by cgraph diff --format python."""']
    out += ["    %s = %s" % (name, t) for name, t in lines]
    pairs = ", ".join("%r: %s" % (name, t) for name, t in grads)
    out.append("    return %s, {%s}" % (value, pairs))
    return "\n".join(out)


def _c(L, inputs, local, read, lines, value, grads):
    out = ["#include <math.h>", ""]
    for h in L.used:
        out += [C_HELPERS[h]]
    out.append("/* Generated by cgraph diff --format c: returns the value and writes the gradient.")
    for k, name in enumerate(inputs):
        out.append("   in[%d] = %s%s" % (k, name, "" if local[name] == name else " (here %s)" % local[name]))
    for k, (name, _) in enumerate(grads):
        out.append("   grad[%d] = d/d%s" % (k, name))
    out[-1] += " */"
    out += ["double gradient(const double in[], double grad[])", "{"]
    for k, name in enumerate(inputs):
        if name in read:
            out.append("    const double %s = in[%d];" % (local[name], k))
    if not read:
        out.append("    (void)in;")
    if not grads:
        out.append("    (void)grad;")
    out += ["    const double %s = %s;" % (name, t) for name, t in lines]
    out += ["    grad[%d] = %s;" % (k, t) for k, (_, t) in enumerate(grads)]
    out += ["    return %s;" % value, "}"]
    return "\n".join(out)


def check_export(fmt, steps, order, several):
    """Usage errors for --format python/c: the code is the gradient of one output."""
    if several:
        raise UsageError("--format %s exports one output's gradient; --output names several" % fmt,
                         hint="export each output on its own (--output u, then --output v)")
    if order > 1 or len(steps) > 1:
        raise UsageError("--format %s exports the first derivatives; --order and a repeated --wrt "
                         "are for --format text" % fmt)
