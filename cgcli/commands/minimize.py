"""`cgraph minimize`: gradient descent on the inputs."""

import sys

import click

from ..core.errors import CgraphError
from .options import INTERRUPTED, FiniteRange, OutputFile, format_option, names_option, precision_option, source_options


@click.command("minimize", epilog="""\b
Examples:
  cgraph minimize "(x-3)^2 + (y+1)^2" x=0 y=0
  cgraph minimize "(1-a)^2 + 100*(b-a^2)^2" a=-1 b=1 --lr 0.001 --momentum 0.9 --steps 20000
  cgraph minimize -f samples/neuron.cg --bind samples/neuron.json --params w1,w2,b --format json
  cgraph minimize "x^4 - 3*x^2 + x" x=2 --trace trace.csv""")
@source_options
@names_option("--params", "The inputs to adjust (default: every input); the others stay fixed.")
@click.option("--lr", type=FiniteRange(0, min_open=True), default=0.1, show_default=True,
              help="Learning rate (step size), positive.")
@click.option("--steps", type=click.IntRange(0), default=1000, show_default=True,
              help="The most gradient steps to take.")
@click.option("--tol", type=FiniteRange(0), default=1e-10, show_default=True,
              help="Stop when the gradient's norm or the change in the value falls below this.")
@click.option("--momentum", type=FiniteRange(0, 1, max_open=True), default=0.0, show_default=True,
              help="Heavy-ball momentum: v = momentum*v + grad; x = x - lr*v.")
@click.option("--trace", type=OutputFile(), metavar="FILE", help="Write the value and the parameters per step as CSV.")
@format_option(["table", "plain", "json"], "table", "plain")
@precision_option()
def command(source, params, lr, steps, tol, momentum, trace, fmt, precision):
    """Gradient descent on the inputs: x = x - lr * d(output)/dx, step after step,
    from the starting values given as NAME=VALUE, until --tol or --steps."""
    from ..features.learn import descend
    from ..present.learn import learned
    prog, bindings = source.load()
    outcome = descend(prog, bindings, params, trace, lr=lr, steps=steps, tol=tol, momentum=momentum)
    learned(outcome, sys.stdout, fmt, precision, "minimize")
    if outcome.interrupted:
        raise CgraphError("interrupted at step %d: the parameters above are those reached so far" % outcome.steps,
                          INTERRUPTED)
