"""`cgraph explain`: the forward and backward passes step by step, with the numbers."""

import sys

import click

from .inputs import warn
from .options import format_option, precision_option, program_options


@click.command("explain", epilog="""\b
Examples:
  cgraph explain "(x+y)*z" x=1 y=3 z=-3
  cgraph explain "p = x + y; g = p * z" x=1 y=3 z=-3 --format json
  cgraph explain "tanh(w*x + b)" w=0.5 x=2 b=-1 | less
  cgraph explain "u = x*y; v = x + y" x=1 y=2 --output u,v   (a backward pass per output)""")
@program_options
@format_option(["table", "plain", "json"], "table", "plain", aliases={"pretty": "table"})
@precision_option(help="Significant digits in table output (plain and json are exact).")
def command(source, wrt, nonfinite, fmt, precision):
    """The forward and backward passes, step by step, with the numbers.

    The forward pass computes each node from its inputs, inputs first. The
    backward pass starts from the output's gradient, 1, and works back: each
    node's gradient is the chain rule, upstream gradient times local
    derivative, summed over the node's uses. Unnamed results are named p, q,
    r, ... and an unnamed output g.
    """
    from ..features.explain import explain, explain_several
    from ..present.explain import show
    digits = precision if fmt == "table" else None
    if source.several:  # one forward section, then a backward section per output
        prog, bindings = source.load_several()
        ex = explain_several(prog, source.outputs, bindings, wrt=wrt, nonfinite=nonfinite, precision=digits)
    else:
        prog, bindings = source.load()
        ex = explain(prog, bindings, wrt=wrt, nonfinite=nonfinite, precision=digits)
    warn(ex.result.warnings)
    show(ex, fmt, sys.stdout, precision)
