"""The Hessian (eval --hessian): the matrix of second derivatives, after the result."""

from ..core.numbers import fmt, json_number
from .common import console, num, text


def hessian_json(h):
    """{a: {b: d2/dadb}} with non-finite numbers as strings."""
    return {a: {b: json_number(v) for b, v in row.items()} for a, row in h.items()}


def hessian_plain(h, out, precision=None):
    """After the node lines, a blank line, then the matrix: a header `hessian` and
    the names, one tab-separated row per name."""
    names = list(h)
    lines = ["", "\t".join(["hessian"] + names)]
    lines += ["\t".join([a] + [fmt(h[a][b]) for b in names]) for a in names]
    out.write("\n".join(lines) + "\n")


def hessian_table(h, out, precision=6):
    """A Rich table of the second derivatives, a row and a column per input."""
    from rich import box
    from rich.table import Table
    names = list(h)
    t = Table(box=box.SIMPLE_HEAD, title="Hessian")
    t.add_column("", style="cyan", overflow="fold")
    for b in names:
        t.add_column(text("∂/∂%s" % b), justify="right", no_wrap=True, overflow="fold")
    for a in names:
        t.add_row(text("∂/∂%s" % a), *[num(h[a][b], precision) for b in names])
    console(out).print(t)
