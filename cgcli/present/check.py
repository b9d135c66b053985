"""`cgraph check`: per input the backward pass's gradient against the finite difference."""

from ..core.errors import printable
from ..core.numbers import fmt
from .common import assemble, caption, console, fit_table, json_write, num, output_label, text


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
    t = Table(box=box.SIMPLE_HEAD)
    t.add_column("input", style="cyan", overflow="fold")
    for h, style in (("value", None), ("backward pass", "green"), ("finite difference", None), ("rel. error", None)):
        t.add_column(h, justify="right", style=style, no_wrap=True, overflow="fold")
    t.add_column("status", no_wrap=True)
    colour = {"ok": "green", "fail": "bold red", "kink": "yellow", "unchecked": "yellow"}
    rows = [[printable(s) for s in _check_cells(c, lambda x: num(x, precision))] for c in cr.checks]
    fit_table(con, t, rows, {1, 2, 3, 4, 5})
    for c, cells in zip(cr.checks, rows):
        t.add_row(text(cells[0]), *cells[1:-1], Text(c.status, style=colour.get(c.status, "")))
    con.print(t)
    caption(con, [("", "%s = %s" % (label, num(cr.result.value, precision))),
                  ("   ", "h = %g·max(1,|x|)" % cr.eps), ("  ", "rtol %g" % cr.rtol), ("  ", "atol %g" % cr.atol)],
            style="dim italic", table=t)
    for c in cr.checks:
        for n in c.notes:
            con.print(assemble(("%s: " % c.name, "cyan"), (n, "dim" if c.status == "ok" else "yellow")))
