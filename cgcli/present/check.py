"""`cgraph check`: per input the backward pass's gradient against the finite difference."""

from ..core.numbers import fmt
from .common import console, json_write, num, output_label


def show(cr, fmt_, out, precision=10, strict=False):
    if fmt_ == "json":
        json_write(cr.json_obj(strict), out)
    elif fmt_ == "plain":
        check_plain(cr, out)
    else:
        check_table(cr, out, precision)
    out.flush()


def _check_cells(c, num):
    return (c.name, "" if c.value is None else num(c.value), num(c.grad),
            "" if c.fd is None else num(c.fd),
            "" if c.rel_error is None else format(c.rel_error, ".1e"), c.status)


def check_plain(cr, out):
    """Tab-separated: a header, one line per input, notes in the last column."""
    lines = ["input\tvalue\tgrad\tfd\trel_error\tstatus\tmethod\tnote"]
    for c in cr.checks:
        lines.append("\t".join(_check_cells(c, fmt)) + "\t%s\t%s" % (c.method or "", "; ".join(c.notes)))
    out.write("\n".join(lines) + "\n")


def check_table(cr, out, precision=10):
    """A Rich table: per input the backward-pass gradient, the finite difference,
    their relative error and the verdict; notes below."""
    from rich import box
    from rich.table import Table
    from rich.text import Text
    con = console(out)
    label = output_label(cr.result)
    t = Table(box=box.SIMPLE_HEAD, caption="%s = %s   h = %g·max(1,|x|)  rtol %g  atol %g" % (
        label, num(cr.result.value, precision), cr.eps, cr.rtol, cr.atol), caption_justify="left")
    t.add_column("input", style="cyan")
    t.add_column("value", justify="right")
    t.add_column("backward pass", justify="right", style="green")
    t.add_column("finite difference", justify="right")
    t.add_column("rel. error", justify="right")
    t.add_column("status")
    colour = {"ok": "green", "fail": "bold red", "kink": "yellow", "unchecked": "yellow"}
    for c in cr.checks:
        cells = list(_check_cells(c, lambda x: num(x, precision)))
        cells[-1] = Text(c.status, style=colour.get(c.status, ""))
        t.add_row(*cells)
    con.print(t)
    for c in cr.checks:
        for n in c.notes:
            con.print(Text.assemble(("%s: " % c.name, "cyan"), (n, "dim" if c.status == "ok" else "yellow")))
