"""`cgraph diff`: the derivative as an expression in the language."""

import click

from ..core.errors import UsageError
from .options import source, wrt_option


@click.command("diff", epilog="""\b
Examples:
  cgraph diff "x^2*y + sin(x)" --wrt x          2*x*y + cos(x)
  cgraph diff "x^2*y + sin(x)" --wrt x,y        d_x = ... and d_y = ... lines
  cgraph diff "x^3" --wrt x --order 2           6*x
  cgraph diff "x^2*y^3" --wrt x --wrt y         the mixed partial d2/dxdy: 6*x*y^2
  cgraph diff -f samples/rnn.cg --wrt w         a program with temporaries t1, t2, ...
  cgraph diff "sin(x)*y" --wrt x | cgraph eval -f - x=1 y=2   (the output parses again)
  cgraph diff --wrt x -- "-x^2"                 (a program starting with "-" goes after --)
  cgraph diff "u = x*y; v = x + y" --output u,v   du_dx = ..., du_dy = ..., dv_dx = ... lines
  cgraph diff "(x+y)*z" --format python         def gradient(x, y, z): ... (only math)
  cgraph diff -f samples/rnn.cg --format c      double gradient(const double in[], double grad[])
  cgraph diff "x^2*y + sin(x)" --wrt x --format latex    \\[ 2 x y + \\cos(x) \\]
  cgraph diff -f samples/rnn.cg --wrt w --format latex --standalone > rnn.tex""")
@source(bind=False, metavar="[EXPR]", output_help="Differentiate NAME's newest value instead of the last statement's.")
@wrt_option("Differentiate with respect to these inputs, one derivative per name (default: each "
            "input). Given again (--wrt x --wrt y), differentiate again: the mixed partial.", split=False)
@click.option("--order", type=click.IntRange(1, 20), default=1, show_default=True, metavar="N",
              help="Differentiate N times with respect to each name (d2/dx2 for --order 2).")
@click.option("--format", "fmt", type=click.Choice(["text", "python", "c", "latex"]), default="text",
              show_default=True,
              help="text: the derivatives in the language; python: a function gradient(x, ...) returning "
                   "(value, {name: derivative}), only math; c: a C99 function "
                   "double gradient(const double in[], double grad[]), only <math.h>; latex: LaTeX math, "
                   "an aligned block for several lines.")
@click.option("--standalone", is_flag=True,
              help="With --format latex: a whole LaTeX document (article, amsmath), not a fragment.")
def command(source, wrt, order, fmt, standalone):
    """The derivative as an expression in the language, so that it parses again.

    One derivative is printed as an expression; several, or one with shared
    subexpressions, as a program: temporaries `t1 = ...` for subexpressions used
    more than once, then a `d_x = ...` line per derivative (`d2_x` for d2/dx2,
    `d2_x_y` for d2/dxdy).

    --format latex writes the same derivatives as LaTeX inside \\[ ... \\]:
    the one expression, or an `aligned` block of the temporaries and a
    \\frac{\\partial f}{\\partial x} row per derivative.
    """
    from ..features.derive import diff_text
    from ..features.sequences import derivative_sequences
    from .inputs import split_names
    several = source.outputs if source.several else None
    prog, words = source.program(several=True)
    if words:
        raise UsageError("diff takes an expression, not bindings (%s); to evaluate the derivative, pipe it: "
                         "cgraph diff EXPR --wrt x | cgraph eval -f - NAME=VALUE ..." % " ".join(words))
    steps = [split_names([w]) or [] for w in wrt]
    if standalone and fmt != "latex":
        raise UsageError("--standalone goes with --format latex")
    if fmt == "latex":
        from ..features.latex import diff_latex, wrap
        outputs = several or None
        seqs = derivative_sequences(prog, steps, order, outputs) if outputs else derivative_sequences(prog, steps, order)
        click.echo(wrap(diff_latex(prog, seqs, outputs), standalone))
        return
    if fmt != "text":
        from ..features.derive.export import check_export, export_code
        check_export(fmt, steps, order, several)
        click.echo(export_code(prog, steps[0] if steps else None, fmt))
        return
    if several:
        from ..features.derive import diff_texts
        seqs = derivative_sequences(prog, steps, order, several)
        click.echo(diff_texts(prog, several, seqs))
        return
    seqs = derivative_sequences(prog, steps, order)
    click.echo(diff_text(prog, seqs))
