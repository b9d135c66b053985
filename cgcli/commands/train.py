"""`cgraph train`: the training loop over rows of data."""

import sys

import click

from ..core.errors import CgraphError
from .inputs import open_data
from .options import INTERRUPTED, FiniteRange, OutputFile, format_option, names_option, precision_option, source_options


@click.command("train", epilog="""\b
Examples:
  cgraph train -f samples/linreg.cg --data samples/linreg.csv --params w,b w=0 b=0 --epochs 50
  cgraph train -f samples/xor.cg --data samples/xor.csv --init-seed 1 --lr 0.5 \\
      --epochs 2000 --batch-size 4 --save xor.json
  cgraph train -f samples/xor.cg --data samples/xor.csv --init-seed 0 --optimizer adam --lr 0.05 --epochs 500
  cgraph eval -f samples/xor.cg --bind xor.json x1=1 x2=0 --output out --summary""")
@source_options
@click.option("--data", "data", metavar="ROWS", required=True,
              help='Training rows: CSV or TSV with a header, JSON Lines ("-": stdin), Parquet or Arrow IPC.')
@click.option("--data-format", type=click.Choice(["csv", "tsv", "jsonl", "parquet", "arrow"]),
              help="The format of ROWS (default: told by its extension).")
@names_option("--params", "The parameters to learn (default: the inputs that are not columns of ROWS).")
@click.option("--init-seed", type=click.IntRange(0), help="Start unbound parameters at small random values from this seed.")
@click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam"]), default="sgd", show_default=True,
              help="sgd: W = W - lr*grad; momentum: v = m*v + grad, W = W - lr*v; adam: Adam "
                   "(beta1 0.9, beta2 0.999, eps 1e-8) with step size --lr.")
@click.option("--lr", type=FiniteRange(0, min_open=True), default=0.1, show_default=True,
              help="Learning rate (step size), positive.")
@click.option("--momentum", type=FiniteRange(0, 1, max_open=True),
              help="The momentum m of --optimizer momentum (default 0.9).")
@click.option("--epochs", type=click.IntRange(1), default=100, show_default=True, help="The most passes over the rows.")
@click.option("--batch-size", type=click.IntRange(1), default=1, show_default=True,
              help="Rows per update; the cost and gradients are averaged over a batch.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="Seed for shuffling the rows each epoch.")
@click.option("--no-shuffle", is_flag=True, help="Go through the rows in file order.")
@click.option("--tol", type=FiniteRange(0), default=0.0, show_default=True,
              help="Stop when the epoch's mean cost changes by less than this.")
@click.option("--every", type=click.IntRange(1), help="Print the cost every K epochs (default: about 20 lines).")
@click.option("--save", type=OutputFile(), metavar="FILE.json", help="Write the learned parameters as JSON (what --bind reads).")
@format_option(["table", "plain", "json"], "table", "plain")
@precision_option()
def command(source, data, data_format, params, init_seed, optimizer, lr, momentum, epochs, batch_size, seed, no_shuffle, tol, every,
            save, fmt, precision):
    """The training loop: for each mini-batch of rows, a forward pass computing the
    cost (the program's output), a backward pass computing every gradient, and
    W = W - lr * gradient for each parameter (or the --optimizer's update); epoch
    after epoch until a stop criterion."""
    from ..features.learn import fit
    from ..present.learn import EpochReporter, learned
    prog, bindings = source.load()
    rows = open_data(data, data_format)
    with EpochReporter(fmt, sys.stdout, sys.stderr, epochs, every, precision) as show:
        outcome = fit(prog, rows, bindings, params, init_seed, save, lr=lr, epochs=epochs, batch_size=batch_size,
                      shuffle=not no_shuffle, seed=seed, tol=tol, on_epoch=show.epoch,
                      optimizer=optimizer, momentum=momentum)
    learned(outcome, sys.stdout, fmt, precision, "train")
    if outcome.interrupted:
        raise CgraphError("%s: the parameters above are those reached so far%s" % (
            outcome.reason, ", saved to %s" % save if save else ""), INTERRUPTED)
