"""`cgraph fit`: the fitted parameters with their standard errors, and the fit's statistics."""

from ..core.numbers import fmt
from .common import console, num, text


def _opt(v, f):
    return "null" if v is None else f(v)


def fitted(result, out, fmt_, precision=6):
    """A Fit (features/fit.py) as a table, tab-separated lines or one JSON object."""
    if fmt_ == "json":
        import json

        from ..features.library import fit_json
        obj = fit_json(result)
        out.write(json.dumps(obj) + "\n")
        return
    if fmt_ == "plain":
        lines = ["stopped\t%s" % result.reason, "converged\t%s" % str(result.converged).lower(),
                 "iterations\t%d" % result.iterations]
        lines += ["param\t%s\t%s\t%s" % (k, fmt(v), _opt(result.stderr[k], fmt)) for k, v in result.params.items()]
        lines += ["rss\t%s" % fmt(result.rss), "residual_sd\t%s" % _opt(result.residual_sd, fmt),
                  "dof\t%d" % result.dof]
        out.write("\n".join(lines) + "\n")
        return
    from rich import box
    from rich.table import Table
    con = console(out)
    con.print(text("fit %s after %d iterations (%d evaluations of the residuals)" % (
        "converged" if result.converged else "stopped", result.iterations, result.evaluations)))
    con.print(text("stopped: %s" % result.reason))
    t = Table(box=box.SIMPLE_HEAD)
    t.add_column("parameter", style="cyan", overflow="fold")
    t.add_column("value", justify="right", no_wrap=True, overflow="fold")
    t.add_column("std. error", justify="right", no_wrap=True, overflow="fold")
    for k, v in result.params.items():
        se = result.stderr[k]
        t.add_row(text(k), num(v, precision), "-" if se is None else num(se, precision))
    con.print(t)
    sd = "-" if result.residual_sd is None else num(result.residual_sd, precision)
    con.print(text("residual sum of squares = %s" % num(result.rss, precision)))
    con.print(text("residual standard deviation = %s   degrees of freedom = %d   rows = %d" % (
        sd, result.dof, result.rows)))
    if result.dof <= 0:
        con.print(text("no standard errors: as many parameters as rows or more (degrees of freedom %d)" % result.dof))
