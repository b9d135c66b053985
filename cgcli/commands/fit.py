"""`cgraph fit`: nonlinear least squares by Levenberg–Marquardt over rows of data."""

import sys

import click

from .inputs import open_data, warn
from .options import FiniteRange, OutputFile, format_option, names_option, precision_option, source_options


@click.command("fit", epilog="""\b
Examples:
  cgraph fit "y - b1*(1 - exp(-b2*x))" --data samples/misra1a.csv b1=500 b2=1e-4
  cgraph fit -f samples/misra1a.cg --data samples/misra1a.csv --params b1,b2 b1=250 b2=5e-4 --format json
  cgraph fit "y - b1*(1 - exp(-b2*x))" --data samples/misra1a.csv b1=500 b2=1e-4 --save misra1a.json
  cgraph eval "b1*(1 - exp(-b2*x))" --bind misra1a.json x=100 --summary""")
@source_options
@click.option("--data", "data", metavar="ROWS", required=True,
              help='The rows: CSV or TSV with a header, JSON Lines ("-": stdin), Parquet or Arrow IPC.')
@click.option("--data-format", type=click.Choice(["csv", "tsv", "jsonl", "parquet", "arrow"]),
              help="The format of ROWS (default: told by its extension).")
@names_option("--params", "The parameters to fit (default: the inputs that are not columns of ROWS).")
@click.option("--max-iter", type=click.IntRange(1), default=1000, show_default=True,
              help="The most iterations (Jacobian evaluations).")
@click.option("--ftol", type=FiniteRange(0), default=1e-15, show_default=True,
              help="Stop when the actual and predicted relative reductions of the sum of squares are at most this.")
@click.option("--xtol", type=FiniteRange(0), default=1e-12, show_default=True,
              help="Stop when the relative change of the (scaled) parameters is at most this.")
@click.option("--gtol", type=FiniteRange(0), default=0.0, show_default=True,
              help="Stop when the gradient's largest cosine with the residuals is at most this.")
@click.option("--save", type=OutputFile(), metavar="FILE.json", help="Write the fitted parameters as JSON (what --bind reads).")
@format_option(["table", "plain", "json"], "table", "plain")
@precision_option()
def command(source, data, data_format, params, max_iter, ftol, xtol, gtol, save, fmt, precision):
    """Nonlinear least squares: the program's output is the residual of one row
    (y - model); fit minimises the sum of the squared residuals over all rows by
    Levenberg–Marquardt with the exact Jacobian, from the starting values given
    as NAME=VALUE, and reports each parameter with its standard error, the
    residual sum of squares, the residual standard deviation and the degrees of freedom."""
    from ..features.fit import least_squares
    from ..present.fit import fitted
    prog, bindings = source.load()
    rows = open_data(data, data_format)
    result = least_squares(prog, rows, bindings, params, save, ftol=ftol, xtol=xtol, gtol=gtol, max_iter=max_iter)
    warn(result.warnings)
    fitted(result, sys.stdout, fmt, precision)
