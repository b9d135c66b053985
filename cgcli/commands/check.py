"""`cgraph check`: the backward pass's gradients against central finite differences."""

import sys

import click

from ..features.check import ATOL, EPS, MIN_EPS, RTOL
from .inputs import warn
from .options import FiniteRange, format_option, precision_option, program_options


@click.command("check", epilog="""\b
Examples:
  cgraph check "(x+y)*z" x=1 y=3 z=-3
  cgraph check "log(x) * sin(y)" x=0.5 y=2 --rtol 1e-7
  cgraph check "relu(x) + abs(y)" x=0 y=0      (kinks: reported, exit 0)
  cgraph check "relu(x)" x=0 --strict          (kinks count as failures: exit 1)
Exit status: 0 when no gradient disagrees, 1 when one does (or a domain error).""")
@program_options
@click.option("--eps", type=FiniteRange(MIN_EPS, 1),
              help="Relative step: h = EPS * max(1, |x|) for each input x (default: %g, made smaller where "
                   "the output varies too fast for it; a given EPS is used as it is)." % EPS)
@click.option("--rtol", type=FiniteRange(0, min_open=True), default=RTOL, show_default=True,
              help="Fail an input whose relative error exceeds RTOL.")
@click.option("--atol", type=FiniteRange(0), default=ATOL, show_default=True,
              help="Absolute floor: gradients smaller than ATOL/RTOL are compared to within ATOL.")
@click.option("--strict", is_flag=True,
              help="Count inputs that cannot be verified (at a kink, or undefined around) as failures.")
@format_option(["table", "plain", "json"], "table", "plain")
@precision_option(10, help="Significant digits in the table (plain and json are exact).")
def command(source, wrt, nonfinite, eps, rtol, atol, strict, fmt, precision):
    """Check the backward pass's gradients against central finite differences.

    For each input x the output is evaluated again at x - h and x + h, and
    (f(x+h) - f(x-h)) / 2h is compared with the gradient. Next to a kink
    (relu, abs, min, max) or the edge of a function's domain it says so and
    uses a one-sided difference; at a kink it shows the one-sided derivatives
    and the convention the backward pass used.
    """
    from ..features.check import check
    from ..present.check import show
    prog, bindings = source.load()
    cr = check(prog, bindings, wrt=wrt, eps=eps, rtol=rtol, atol=atol, nonfinite=nonfinite)
    warn(cr.result.warnings)
    show(cr, fmt, sys.stdout, precision, strict)
    warn(cr.notices())
    failure = cr.failure(strict)
    if failure is not None:
        raise failure
