"""LaTeX: `diff --format latex` and `explain --format latex`.

The exact text of the seed example and of a hand-written derivative; then every
primitive, operator, name shape, number shape, several outputs, the samples and
generated programs rendered by a real renderer, KaTeX (strict, throwing on any
error), whose MathML must carry the numbers. KaTeX is found at $CGRAPH_KATEX
(the katex package directory) or ~/.cache/cgraph-katex/node_modules/katex, where
.ci/run installs it with npm; without node or KaTeX these tests skip, unless
CGRAPH_REQUIRE_KATEX=1 (set by .ci/run), when they fail. A real TeX engine
(pdflatex) compiles the --standalone documents when one is installed.
"""

import json
import math
import os
import re
import shutil
import subprocess

import pytest
from conftest import SAMPLES
from hypothesis import given
from test_fuzz import exprs

from cgcli.core.primitives import PRIMITIVES
from cgcli.features.latex import Names, number, tex_name

SEED = ["(x+y)*z", "x=1", "y=3", "z=-3"]

SEED_LATEX = r"""\[
\begin{aligned}
&\text{Forward pass} \\
x &= 1 \\
y &= 3 \\
p &= x + y = 1 + 3 = 4 \\
z &= -3 \\
g &= p z = 4 \cdot (-3) = -12 \\[1ex]
&\text{Backward pass} \\
\frac{d g}{d g} &= 1 \\
\frac{d g}{d z} &= \frac{d g}{d g} \, \frac{\partial g}{\partial z} = 1 \cdot 4 = 4 \\
&\qquad \text{where } \frac{\partial g}{\partial z} = p = 4 \\
\frac{d g}{d p} &= \frac{d g}{d g} \, \frac{\partial g}{\partial p} = 1 \cdot (-3) = -3 \\
&\qquad \text{where } \frac{\partial g}{\partial p} = z = -3 \\
\frac{d g}{d y} &= \frac{d g}{d p} \, \frac{\partial p}{\partial y} = -3 \cdot 1 = -3 \\
&\qquad \text{where } \frac{\partial p}{\partial y} = 1 \\
\frac{d g}{d x} &= \frac{d g}{d p} \, \frac{\partial p}{\partial x} = -3 \cdot 1 = -3 \\
&\qquad \text{where } \frac{\partial p}{\partial x} = 1
\end{aligned}
\]
"""


def ok(r):
    assert r.status == 0, r.err
    return r.out


# ---- exact text ----------------------------------------------------------------

def test_seed_explain_is_the_tutorial_in_latex(cg):
    out = ok(cg("explain", *SEED, "--format", "latex"))
    assert r"\frac{\partial g}{\partial p} = z = -3" in out
    assert out == SEED_LATEX


def test_diff_is_the_hand_written_derivative(cg):
    assert ok(cg("diff", "x^2*y + sin(x)", "--wrt", "x", "--format", "latex")) == "\\[\n2 x y + \\cos(x)\n\\]\n"


def test_diff_several_derivatives_are_an_aligned_block(cg):
    out = ok(cg("diff", "x^2*y + sin(x)", "--format", "latex"))
    assert out == ("\\[\n\\begin{aligned}\n\\frac{\\partial f}{\\partial x} &= 2 x y + \\cos(x) \\\\\n"
                   "\\frac{\\partial f}{\\partial y} &= x^{2}\n\\end{aligned}\n\\]\n")


def test_diff_orders_and_mixed_partials_are_labelled(cg):
    out = ok(cg("diff", "x^3*y^2", "--wrt", "x", "--wrt", "x,y", "--format", "latex"))
    assert r"\frac{\partial^{2} f}{\partial x^{2}} &= 6 x y^{2}" in out
    assert r"\frac{\partial^{2} f}{\partial x \, \partial y} &= 6 x^{2} y" in out


def test_diff_temporaries_and_a_named_output(cg):
    out = ok(cg("diff", "-f", os.path.join(SAMPLES, "rnn.cg"), "--wrt", "w", "--format", "latex"))
    text = ok(cg("diff", "-f", os.path.join(SAMPLES, "rnn.cg"), "--wrt", "w"))
    assert out.count(r" \\") == text.count("\n") - 1  # a row per line of the text
    assert "t_{1} &= \\tanh(w h_{0} + u x_{1})" in out
    assert out.rstrip().endswith("\\end{aligned}\n\\]") and r"\frac{\partial \mathit{loss}}{\partial w} &= " in out


def test_diff_several_outputs(cg):
    out = ok(cg("diff", "u = x*y; v = x + y", "--output", "u,v", "--format", "latex"))
    for row in (r"\frac{\partial u}{\partial x} &= y", r"\frac{\partial u}{\partial y} &= x",
                r"\frac{\partial v}{\partial x} &= 1", r"\frac{\partial v}{\partial y} &= 1"):
        assert row in out


def test_standalone_is_a_document(cg):
    out = ok(cg("diff", "sin(x)", "--format", "latex", "--standalone"))
    assert out == ("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n\\[\n\\cos(x)\n\\]\n"
                   "\\end{document}\n")
    assert ok(cg("explain", *SEED, "--format", "latex", "--standalone")).startswith("\\documentclass")


@pytest.mark.parametrize("args, message", [
    (["diff", "sin(x)", "--standalone"], "--standalone goes with --format latex"),
    (["explain", *SEED, "--standalone"], "--standalone goes with --format latex"),
    (["explain", *SEED, "--mode", "forward", "--format", "latex"], "--mode forward has table, plain and json"),
    (["diff", "sin(x)", "--format", "pdf"], "'pdf' is not one of"),
])
def test_usage_errors(cg, args, message):
    r = cg(*args)
    assert r.status == 2 and message in r.err and "Traceback" not in r.err


def test_explain_precision_rounds_only_when_given(cg):
    exact = ok(cg("explain", "tanh(x)", "x=0.5", "--format", "latex"))
    assert "0.46211715726000974" in exact
    rounded = ok(cg("explain", "tanh(x)", "x=0.5", "--format", "latex", "--precision", "3"))
    assert "g &= \\tanh(x) = \\tanh(0.5) = 0.462" in rounded and "0.4621171" not in rounded


def test_explain_local_formulas_come_from_the_rules(cg):
    cases = {"x/y": [r"\frac{\partial g}{\partial x} = \frac{1}{y} = 0.5",
                     r"\frac{\partial g}{\partial y} = -\frac{x}{y^{2}} = -0.75"],
             "sqrt(x)": [r"= \frac{1}{2 \sqrt{x}} = 0.2886751345948129"],
             "tanh(x)": [r"= 1 - \tanh(x)^{2} = "], "relu(x)": [r"= [x > 0] = 1"],
             "x^y": [r"\frac{\partial g}{\partial x} = y \, x^{y - 1} = 6", r"= x^{y} \, \log(x) = "],
             "atan(x)": [r"= \frac{1}{1 + x^{2}} = 0.1"], "sigmoid(x)": [r"= \sigma(x) \, \left(1 - \sigma(x)\right)"]}
    for expr, rows in cases.items():
        out = ok(cg("explain", expr, "x=3", "y=2", "--format", "latex"))
        for row in rows:
            assert row in out, (expr, row, out)


def test_explain_gradients_are_evals(cg):
    """The last number of each gradient row is the gradient eval reports."""
    expr, binds = "h = tanh(w*x + b); loss = (h - y)^2", ["w=0.5", "x=2", "b=-1", "y=0.25"]
    out = ok(cg("explain", expr, *binds, "--format", "latex"))
    grads = json.loads(ok(cg("eval", expr, *binds, "--format", "json")))["gradients"]
    for name, g in grads.items():
        row = next(r for r in out.splitlines() if r.startswith(r"\frac{d \mathit{loss}}{d %s} &=" % name))
        assert math.isclose(float(row.rsplit("= ", 1)[1].rstrip(" \\")), g, rel_tol=1e-15)


# ---- names and numbers --------------------------------------------------------

@pytest.mark.parametrize("name, tex", [
    ("x", "x"), ("x1", "x_{1}"), ("x_1", "x_{1}"), ("W1_2_3", "W_{1,2,3}"), ("W_2_3", "W_{2,3}"),
    ("h0", "h_{0}"), ("alpha", r"\alpha"), ("theta_2", r"\theta_{2}"), ("Omega", r"\Omega"),
    ("loss", r"\mathit{loss}"), ("loss_2", r"\mathit{loss}_{2}"), ("W_hidden", r"W_{\mathit{hidden}}"),
    ("h@2", "{h^{(2)}}"), ("x1@3", "{x_{1}^{(3)}}"), ("_a1", r"\mathit{\_a1}"), ("x__1", r"\mathit{x\_\_1}"),
    ("x_", r"\mathit{x\_}"), ("a_b1", "a_{b1}"), ("a_bc1", r"a_{\mathit{bc1}}"),
])
def test_names(name, tex):
    assert tex_name(name) == tex


def test_names_written_alike_are_written_as_they_are():
    n = Names(["x1", "x_1", "y", "sigma", "pi2"])
    assert (n("x1"), n("x_1"), n("y"), n("sigma"), n("pi2")) == (
        r"\mathit{x1}", r"\mathit{x\_1}", "y", r"\mathit{sigma}", r"\mathit{pi}_{2}")


@pytest.mark.parametrize("v, tex", [
    (-3.0, "-3"), (0.5, "0.5"), (1.5e-8, r"1.5 \times 10^{-8}"), (1e20, "10^{20}"), (-2.5e300, r"-2.5 \times 10^{300}"),
    (math.inf, r"\infty"), (-math.inf, r"-\infty"), (math.nan, r"\mathrm{NaN}"), (math.pi, "3.141592653589793"),
])
def test_numbers(v, tex):
    assert number(v) == tex


def test_constants_pi_and_e():
    assert (number(math.pi, constant=True), number(math.e, constant=True), number(2.0, constant=True)) == (
        r"\pi", "e", "2")


def test_small_numbers_in_expressions(cg):
    out = ok(cg("diff", "1.5e-8*x^2 - 3*x", "--wrt", "x", "--format", "latex"))
    assert out == "\\[\n3 \\times 10^{-8} x - 3\n\\]\n"


# ---- rendered by KaTeX ----------------------------------------------------------

_SCRIPT = r"""
const katex = require(process.argv[1]);
const rl = require("readline").createInterface({input: process.stdin});
rl.on("line", (line) => {
  let r;
  try {
    r = {ok: true, out: katex.renderToString(JSON.parse(line),
         {throwOnError: true, displayMode: true, strict: "error", output: "mathml"})};
  } catch (e) { r = {ok: false, error: String(e && e.message)}; }
  process.stdout.write(JSON.stringify(r) + "\n");
});
"""


def _katex_dir():
    d = os.environ.get("CGRAPH_KATEX") or os.path.expanduser("~/.cache/cgraph-katex/node_modules/katex")
    return d if os.path.isfile(os.path.join(d, "package.json")) else None


@pytest.fixture(scope="module")
def katex():
    node, where = shutil.which("node"), _katex_dir()
    if node is None or where is None:
        reason = "node is not installed" if node is None else (
            "KaTeX is not installed (.ci/run: npm install --prefix ~/.cache/cgraph-katex katex@0.16)")
        if os.environ.get("CGRAPH_REQUIRE_KATEX") == "1":
            pytest.fail("CGRAPH_REQUIRE_KATEX=1 but " + reason)
        pytest.skip(reason)
    proc = subprocess.Popen([node, "-e", _SCRIPT, where], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, bufsize=1)

    def render(tex, check=True):
        """KaTeX's MathML for a fragment (\\[ ... \\] or a whole document): fails on any error
        (`check` False: the reply, {"ok": ..., "error": ...})."""
        m = re.search(r"\\\[\n(.*)\n\\\]", tex, re.S)
        assert m, tex
        proc.stdin.write(json.dumps(m.group(1)) + "\n")
        r = json.loads(proc.stdout.readline())
        if not check:
            return r
        assert r["ok"], (r["error"], tex)
        return r["out"].split("<annotation", 1)[0]  # the MathML, without the source

    yield render
    proc.stdin.close()
    proc.wait(timeout=10)


def _mn(mathml):
    """The numbers KaTeX read, as text (its <mn> elements, joined as they are set)."""
    return re.findall(r"<mn>([^<]*)</mn>", mathml)


def test_katex_is_strict(katex):
    """The renderer refuses what a TeX engine would: the tests below are not vacuous."""
    for bad in ("x^{2}^{3}", r"\frac{1}", r"\operatorname{relu(x", "x_1_2", r"\mathit{x_1}}"):
        r = katex("\\[\n%s\n\\]" % bad, check=False)
        assert not r["ok"] and "KaTeX parse error" in r["error"], bad
    assert katex("\\[\nx^{2}\n\\]", check=False)["ok"]


def test_katex_renders_the_seed(cg, katex):
    mathml = katex(ok(cg("explain", *SEED, "--format", "latex")))
    nums = _mn(mathml)
    for n in ("1", "3", "4", "12"):
        assert n in nums
    assert "∂" in mathml and "where" in mathml
    assert _mn(katex(ok(cg("diff", "x^2*y + sin(x)", "--wrt", "x", "--format", "latex")))) == ["2"]


def test_katex_renders_numbers(cg, katex):
    nums = _mn(katex(ok(cg("explain", "x*1.5e-8 + y", "x=2.5", "y=-3", "--format", "latex"))))
    assert {"1.5", "10", "8", "2.5", "3"} <= set(nums)


UNARY = [name for name, p in PRIMITIVES.items() if p.arity == 1 and p.symbol is None]


@pytest.mark.parametrize("expr", [
    *["%s(x)" % f for f in UNARY], *["%s(x*y + 1, y, x)" % f for f in ("min", "max")],
    "x + y", "x - y", "x*y", "x/y", "-x", "x^y", "pow(x, y)", "x^y^2", "(x^y)^2", "-x^2", "(-x)^2",
    "(x + y)*(x - y)", "x/(y/x)", "(x/y)/x", "2*x*3*y", "x*(-y)", "x - (-y)", "sin(x/y)^2", "sqrt(x/y + 1)",
    "abs(x/y - 1)", "exp(-x^2/2)/sqrt(2*pi)", "log(1 + exp(x*e))", "tanh(w1_2*x1 + b_1)*alpha + loss_2",
    "h = x; h = tanh(h*y); h = tanh(h*y); h^2", "x1*x_1 + sigma*sigmoid(x)", "_a1*x__1 + W1_2_3",
    "x*1e-12 + y*1e300", "x + 1e999*0 + y", "relu(x - y) + relu(y - x)",
])
def test_katex_renders_every_operation(cg, katex, expr):
    binds = [n + "=0.5" for n in ("x", "y", "w1_2", "x1", "b_1", "alpha", "loss_2", "x_1", "sigma", "_a1",
                                  "x__1", "W1_2_3") if re.search(r"(?<![\w])%s(?![\w])" % n, expr)]
    katex(ok(cg("diff", "--format", "latex", "--", expr)))
    r = cg("explain", "--nonfinite", "--format", "latex", "--", expr, *binds)
    assert r.status == 0, r.err
    katex(r.out)


def test_katex_renders_several_outputs(cg, katex):
    prog = "u = x*y; v = sin(x)/y"
    mathml = katex(ok(cg("explain", prog, "x=2", "y=4", "--output", "u,v", "--format", "latex")))
    assert "8" in _mn(mathml) and "for" in mathml
    katex(ok(cg("diff", prog, "--output", "u,v", "--format", "latex")))
    katex(ok(cg("diff", prog, "--output", "u,v", "--wrt", "x", "--wrt", "x,y", "--format", "latex")))


@pytest.mark.parametrize("sample", sorted(f for f in os.listdir(SAMPLES) if f.endswith(".cg")))
def test_katex_renders_the_samples(cg, katex, sample):
    path = os.path.join(SAMPLES, sample)
    katex(ok(cg("diff", "-f", path, "--format", "latex")))
    from cgcli.api import parse
    binds = ["%s=0.5" % n for n in parse(open(path).read()).graph.inputs]
    katex(ok(cg("explain", "-f", path, *binds, "--format", "latex")))


@given(exprs)
def test_katex_renders_generated_programs(cg, katex, expr):
    r = cg("diff", "--format", "latex", "--", expr)
    assert r.status in (0, 1, 2) and "Traceback" not in r.err
    if r.status == 0:
        katex(r.out)
    r = cg("explain", "--format", "latex", "--nonfinite", "--", expr, "x=0.5", "y=-2", "z=3", "w=1e-9", "h=4",
           "_a1=0.25")
    if r.status == 0:
        katex(r.out)


# ---- a real TeX engine, where there is one ---------------------------------------

def test_pdflatex_compiles_the_documents(cg, tmp_path):
    tex = shutil.which("pdflatex")
    if tex is None:
        pytest.skip("pdflatex is not installed (TeX Live is large; CI renders with KaTeX instead)")
    docs = [ok(cg("explain", *SEED, "--format", "latex", "--standalone")),
            ok(cg("diff", "-f", os.path.join(SAMPLES, "rnn.cg"), "--format", "latex", "--standalone")),
            ok(cg("explain", "x1*x_1/W1_2_3", "x1=1", "x_1=2", "W1_2_3=4", "--format", "latex", "--standalone"))]
    for k, doc in enumerate(docs):
        (tmp_path / ("d%d.tex" % k)).write_text(doc)
        r = subprocess.run([tex, "-interaction=nonstopmode", "-halt-on-error", "d%d.tex" % k], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout[-2000:]
