"""`cgraph eval --output u,v`: several outputs of one evaluation (a core.jacobian.Jacobian):
every node's value and a gradient per output, and the Jacobian, as a table, tree,
plain text or JSON. One output keeps result.py's shapes."""

from ..core.errors import printable
from ..core.numbers import fmt
from .common import assemble, caption, console, draw_tree, fit_table, json_write, num, text
from .result import node_table


def show(result, fmt_, out, precision=6, summary=False):
    if fmt_ == "json":
        json_write(to_json_obj(result, summary), out)
    elif fmt_ == "plain":
        plain(result, out, summary)
    elif fmt_ == "tree":
        tree(result, out, precision)
    else:
        table(result, out, precision, summary)
    out.flush()


def node_rows(result):
    return result.node_rows()


def summary_pairs(result):
    """(field, number): value_u per output, then grad_u_x per output and reported input."""
    pairs = [("value_%s" % u, v) for u, v in result.value.items()]
    pairs += [("grad_%s_%s" % (u, x), d) for u, row in result.jacobian.items() for x, d in row.items()]
    return pairs


def plain(result, out, summary=False):
    """Tab-separated: a header (a grad_u column per output), a line per node; with
    summary, `value_u<TAB>v` per output and `grad_u_x<TAB>g` per output and input."""
    if summary:
        lines = ["%s\t%s" % (printable(k), fmt(v)) for k, v in summary_pairs(result)]
    else:
        lines = ["\t".join(["id", "name", "expr", "op", "value"] + ["grad_%s" % u for u in result.outputs])]
        for i, name, expr, op, _, value, grads in node_rows(result):
            lines.append("\t".join([str(i), printable(name or ""), printable(expr), op, fmt(value)]
                                   + ["" if d is None else fmt(d) for d in grads]))
    out.write("\n".join(lines) + "\n")


def to_json_obj(result, summary=False):
    return result.to_dict(summary)


def caption_terms(result, precision):
    terms = ["%s = %s" % (u, num(v, precision)) for u, v in result.value.items()]
    parts = [("∂%s/∂%s = %s" % (u, x, num(d, precision))) for u, row in result.jacobian.items()
             for x, d in row.items()]
    return terms, parts


def show_caption(con, result, precision, table=None):
    values, parts = caption_terms(result, precision)
    terms = [("" if j == 0 else "   ", t) for j, t in enumerate(values)]
    terms += [("   " if j == 0 else " ", t + ("," if j < len(parts) - 1 else "")) for j, t in enumerate(parts)]
    caption(con, terms, style="dim italic", table=table)


def table(result, out, precision=6, summary=False):
    """A Rich table: a row per node with a gradient column per output; with summary,
    the Jacobian: a row per output, its value and a column per reported input."""
    from rich import box
    from rich.table import Table
    con = console(out)
    if summary:
        t = Table(box=box.SIMPLE_HEAD, title="Jacobian")
        t.add_column("output", overflow="fold")
        t.add_column("value", justify="right", no_wrap=True)
        for x in result.wrt:
            t.add_column(text("∂/∂%s" % x), justify="right", no_wrap=True, style="green")
        for u, row in result.jacobian.items():
            t.add_row(text(u), num(result.value[u], precision), *[num(d, precision) for d in row.values()])
        con.print(t)
        return
    t = node_table()
    t.add_column("value", justify="right", no_wrap=True, overflow="fold")
    for u in result.outputs:
        t.add_column(text("grad_%s" % u), justify="right", style="green", no_wrap=True, overflow="fold")
    outs = set(result.output_ids)
    rows = [(str(i), printable(name or ""), printable(expr), op, num(value, precision),
             *["" if d is None else num(d, precision) for d in grads])
            for i, name, expr, op, _, value, grads in node_rows(result)]
    fit_table(con, t, rows, {0, 3, 4} | set(range(5, 5 + len(result.outputs))))
    for row in rows:
        t.add_row(row[0], text(row[1]), text(row[2]), *row[3:], style="bold" if int(row[0]) in outs else None)
    con.print(t)
    show_caption(con, result, precision, t)


MAX_TREE_DEPTH = 16


def tree(result, out, precision=6):
    """A Rich tree from each output down to the inputs; each node shows its value
    and its gradient of each output that depends on it (grad_u=...)."""
    g = result.graph
    names = g.display_names()
    texts = g.exprs()

    def label(i):
        parts = [("#%d" % i, "dim"), " "]
        if names[i] is not None and g.ops[i] != "var":
            parts += [(names[i], "cyan"), " = "]
        parts += [texts[i], "  ", (g.ops[i], "magenta"), "  value=%s" % num(result.values[i], precision)]
        for u in result.outputs:
            d = result.grads[u][i]
            if d is not None:
                parts += ["  ", ("grad_%s=%s" % (u, num(d, precision)), "green")]
        return assemble(*parts)

    con = console(out)
    for o in dict.fromkeys(result.output_ids):
        con.print(draw_tree(g, o, label, lambda i: names[i] or texts[i],
                            lambda i, depth: depth > MAX_TREE_DEPTH,
                            "and the nodes below it: deeper than %d levels (--format plain lists every node)"
                            % MAX_TREE_DEPTH))
    show_caption(con, result, precision)
