"""`cgraph explain`: the forward and backward passes step by step, with the numbers."""

import sys

import click
from click.core import ParameterSource

from ..core.errors import UsageError
from .inputs import warn
from .options import format_option, precision_option, program_options, tangent_option


@click.command("explain", epilog="""\b
Examples:
  cgraph explain "(x+y)*z" x=1 y=3 z=-3
  cgraph explain "p = x + y; g = p * z" x=1 y=3 z=-3 --format json
  cgraph explain "tanh(w*x + b)" w=0.5 x=2 b=-1 | less
  cgraph explain "u = x*y; v = x + y" x=1 y=2 --output u,v   (a backward pass per output)
  cgraph explain "(x+y)*z" x=1 y=3 z=-3 --mode forward        (one tangent sweep per input)
  cgraph explain "(x+y)*z" x=1 y=3 z=-3 --mode forward --tangent x=1 --tangent z=2
  cgraph explain "(x+y)*z" x=1 y=3 z=-3 --format latex        (an aligned block in \\[ ... \\])
  cgraph explain "tanh(w*x + b)" w=0.5 x=2 b=-1 --format latex --standalone > explain.tex""")
@program_options
@format_option(["table", "plain", "json", "latex"], "table", "plain", aliases={"pretty": "table"})
@precision_option(help="Significant digits in table output (plain and json are exact; latex too, unless "
                       "--precision is given).")
@click.option("--mode", type=click.Choice(["reverse", "forward"]), default="reverse", show_default=True,
              help="reverse: the backward pass; forward: tangent sweeps up the tape (along --tangent, "
                   "else one sweep per input).")
@tangent_option
@click.option("--standalone", is_flag=True,
              help="With --format latex: a whole LaTeX document (article, amsmath), not a fragment.")
def command(source, wrt, nonfinite, fmt, precision, mode, tangent, standalone):
    """The forward and backward passes, step by step, with the numbers.

    The forward pass computes each node from its inputs, inputs first. The
    backward pass starts from the output's gradient, 1, and works back: each
    node's gradient is the chain rule, upstream gradient times local
    derivative, summed over the node's uses. Unnamed results are named p, q,
    r, ... and an unnamed output g.

    With --mode forward, forward-mode AD instead of the backward pass: each
    sweep carries every node's tangent up the tape, the sum over its operands
    of local derivative times the operand's tangent. The direction is
    --tangent's; without it, one sweep per input (dx = 1, the others 0).

    --format latex writes both passes as LaTeX: an `aligned` block inside
    \\[ ... \\], for a LaTeX document or a KaTeX/MathJax page.
    """
    from ..features.explain import explain, explain_several
    from ..present.explain import show
    digits = precision if fmt == "table" else None
    if standalone and fmt != "latex":
        raise UsageError("--standalone goes with --format latex")
    if fmt == "latex" and mode == "forward":
        raise UsageError("--format latex writes the reverse mode's passes; --mode forward has table, plain and json")
    if tangent is not None and mode != "forward":
        raise UsageError("--tangent goes with --mode forward (reverse mode needs no direction)")
    if source.several:  # one forward section, then a backward section per output
        if mode == "forward":
            raise UsageError("--mode forward goes with one output (a tangent sweep is of one output)")
        prog, bindings = source.load_several()
        ex = explain_several(prog, source.outputs, bindings, wrt=wrt, nonfinite=nonfinite, precision=digits)
    elif mode == "forward":
        from ..features.explain_forward import explain_forward
        prog, bindings = source.load()
        ex = explain_forward(prog, bindings, wrt=wrt, nonfinite=nonfinite, precision=digits, direction=tangent)
    else:
        prog, bindings = source.load()
        ex = explain(prog, bindings, wrt=wrt, nonfinite=nonfinite, precision=digits)
    warn(ex.result.warnings)
    if fmt == "latex":
        from ..present.latex import show_latex
        explicit = click.get_current_context().get_parameter_source("precision") != ParameterSource.DEFAULT
        show_latex(ex, sys.stdout, standalone, precision if explicit else None)
        return
    show(ex, fmt, sys.stdout, precision)
