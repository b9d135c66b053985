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
  cgraph minimize "x^4 - 3*x^2 + x" x=2 --trace trace.csv
  cgraph minimize "(1-a)^2 + 100*(b-a^2)^2" a=-1.2 b=1 --method newton
  cgraph minimize "(1-a)^2 + 100*(b-a^2)^2" a=-1.2 b=1 --method lbfgs --format json""")
@source_options
@names_option("--params", "The inputs to adjust (default: every input); the others stay fixed.")
@click.option("--method", type=click.Choice(["gd", "adam", "newton", "lbfgs"]), default="gd", show_default=True,
              help="gd: gradient descent; adam: Adam; newton: Newton's method with the exact Hessian; "
                   "lbfgs: L-BFGS. newton and lbfgs choose each step by a line search.")
@click.option("--lr", type=FiniteRange(0, min_open=True),
              help="Learning rate (step size) of gd and adam, positive (default 0.1).")
@click.option("--steps", type=click.IntRange(0), default=1000, show_default=True,
              help="The most steps to take.")
@click.option("--tol", type=FiniteRange(0), default=1e-10, show_default=True,
              help="Stop when the gradient's norm or the change in the value falls below this "
                   "(the relative change, for newton and lbfgs).")
@click.option("--momentum", type=FiniteRange(0, 1, max_open=True),
              help="Heavy-ball momentum of gd: v = momentum*v + grad; x = x - lr*v (default 0).")
@click.option("--memory", type=click.IntRange(1), help="The (s, y) pairs lbfgs keeps (default 10).")
@click.option("--trace", type=OutputFile(), metavar="FILE", help="Write the value and the parameters per step as CSV.")
@format_option(["table", "plain", "json"], "table", "plain")
@precision_option()
def command(source, params, method, lr, steps, tol, momentum, memory, trace, fmt, precision):
    """Minimise the output over the inputs, from the starting values given as
    NAME=VALUE, until --tol or --steps: by gradient descent x = x - lr * d(output)/dx
    (the default), Adam, Newton's method or L-BFGS (--method)."""
    from ..features.learn import descend
    from ..present.learn import learned
    prog, bindings = source.load()
    outcome = descend(prog, bindings, params, trace, method=method, lr=lr, steps=steps, tol=tol,
                      momentum=momentum, memory=memory)
    learned(outcome, sys.stdout, fmt, precision, "minimize")
    if outcome.interrupted:
        raise CgraphError("interrupted at step %d: the parameters above are those reached so far" % outcome.steps,
                          INTERRUPTED)
