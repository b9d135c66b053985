"""One evaluation (`cgraph eval`): every node's value and gradient as a Rich
table or tree for people, plain text or JSON for programs."""

from ..core.numbers import fmt, json_number
from .common import console, draw_tree, num, output_label


def show(result, fmt_, out, precision=6, summary=False, hessian=None):
    """`result` in format fmt_ (table, tree, plain or json), then the Hessian if given."""
    if fmt_ == "json":
        from .hessian import hessian_json
        json_out(result, out, summary, extra=None if hessian is None else {"hessian": hessian_json(hessian)})
    elif fmt_ == "plain":
        plain(result, out, summary)
    elif fmt_ == "tree":
        tree(result, out, precision)
    else:
        table(result, out, precision, summary)
    if hessian is not None and fmt_ != "json":
        from .hessian import hessian_plain, hessian_table
        (hessian_plain if fmt_ == "plain" else hessian_table)(hessian, out, precision)
    out.flush()


def node_rows(result):
    """Per node: (id, name, expr, op, input ids, value, grad)."""
    g = result.graph
    names = g.display_names()
    texts = g.exprs()
    return [(i, names[i], texts[i], g.ops[i], g.args[i], result.values[i], result.grads[i])
            for i in range(len(g.ops))]


# ---- plain ------------------------------------------------------------------

def plain(result, out, summary=False):
    """Tab-separated, no colour: a header line, then a line per node; with
    summary, `value<TAB>v` and a `grad_NAME<TAB>g` line per reported input."""
    if summary:
        lines = ["value\t%s" % fmt(result.value)]
        lines += ["grad_%s\t%s" % (k, fmt(v)) for k, v in result.gradients.items()]
    else:
        lines = ["id\tname\texpr\top\tvalue\tgrad"]
        for i, name, text, op, _, value, grad in node_rows(result):
            lines.append("%d\t%s\t%s\t%s\t%s\t%s" % (
                i, name or "", text, op, fmt(value), "" if grad is None else fmt(grad)))
    out.write("\n".join(lines) + "\n")


# ---- JSON -------------------------------------------------------------------

def to_json_obj(result, summary=False):
    """The contract's JSON shape as Python objects (non-finite numbers as strings)."""
    return {
        "output": result.output_name,
        "value": json_number(result.value),
        "gradients": {k: json_number(v) for k, v in result.gradients.items()},
        "nodes": [] if summary else [
            {"id": i, "op": op, "expr": text, "inputs": list(args), "value": json_number(value),
             "grad": None if grad is None else json_number(grad), "name": name}
            for i, name, text, op, args, value, grad in node_rows(result)],
    }


def json_out(result, out, summary=False, extra=None):
    """JSON, one node per line so that large graphs stay readable and greppable."""
    import json
    obj = to_json_obj(result, summary)
    if extra:
        obj.update(extra)
    nodes = obj.pop("nodes")
    head = json.dumps(obj)[:-1]
    if not nodes:
        out.write(head + ', "nodes": []}\n')
        return
    out.write(head + ', "nodes": [\n  ')
    out.write(",\n  ".join(map(json.dumps, nodes)))
    out.write("\n]}\n")


# ---- Rich -------------------------------------------------------------------

def _caption(result, precision):
    label = output_label(result)
    grads = ", ".join("∂%s/∂%s = %s" % (label, k, num(v, precision)) for k, v in result.gradients.items())
    return "%s = %s%s" % (label, num(result.value, precision), ("   " + grads) if grads else "")


def table(result, out, precision=6, summary=False):
    """A Rich table: one row per node, or with summary the output and the inputs' gradients."""
    from rich import box
    from rich.table import Table
    con = console(out)
    label = output_label(result)
    if summary:
        t = Table(box=box.SIMPLE_HEAD, title=label)
        t.add_column("name")
        t.add_column("value", justify="right")
        t.add_row(label, num(result.value, precision), style="bold")
        for k, v in result.gradients.items():
            t.add_row("∂%s/∂%s" % (label, k), num(v, precision))
        con.print(t)
        return
    t = Table(box=box.SIMPLE_HEAD, caption=_caption(result, precision), caption_justify="left")
    t.add_column("id", justify="right", style="dim")
    t.add_column("name", style="cyan")
    t.add_column("expression")
    t.add_column("op", style="magenta")
    t.add_column("value", justify="right")
    t.add_column("grad", justify="right", style="green")
    last = len(result.values) - 1
    for i, name, text, op, _, value, grad in node_rows(result):
        t.add_row(str(i), name or "", text, op, num(value, precision),
                  "" if grad is None else num(grad, precision),
                  style="bold" if i == last else None)
    con.print(t)


MAX_TREE_DEPTH = 16  # levels; each indents by 4 columns


def tree(result, out, precision=6):
    """A Rich tree from the output down to the inputs. A node used again is drawn
    once; later uses refer to it by id. Built with an explicit stack."""
    from rich.markup import escape
    g = result.graph
    names = g.display_names()
    texts = g.exprs()

    def label(i):
        grad = result.grads[i]
        head = "[dim]#%d[/] " % i
        if names[i] is not None and g.ops[i] != "var":
            head += "[cyan]%s[/] = " % escape(names[i])
        return "%s%s  [magenta]%s[/]  value=%s%s" % (
            head, escape(texts[i]), g.ops[i], num(result.values[i], precision),
            "" if grad is None else "  [green]grad=%s[/]" % num(grad, precision))

    root = draw_tree(g, len(g.ops) - 1, label, lambda i: escape(names[i] or texts[i]),
                     lambda i, depth: depth > MAX_TREE_DEPTH,
                     "and the nodes below it: deeper than %d levels (--format plain lists every node)"
                     % MAX_TREE_DEPTH)
    con = console(out)
    con.print(root)
    con.print(_caption(result, precision))
