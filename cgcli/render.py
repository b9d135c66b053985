"""Showing results: Rich table and tree for people; plain, JSON for programs.

Only this module imports Rich, and only inside the functions that draw.
Every renderer writes to a text stream and returns nothing.
"""

from .numbers import fmt, fmt_precision, json_number


def node_rows(result):
    """Per node: (id, name, expr, op, input ids, value, grad)."""
    g = result.graph
    names = g.display_names()
    texts = g.exprs()
    return [(i, names[i], texts[i], g.ops[i], g.args[i], result.values[i], result.grads[i])
            for i in range(len(g.ops))]


def _label(result):
    name = result.output_name
    return name if name is not None else "output"


# ---- plain ------------------------------------------------------------------

def plain(result, out, summary=False):
    """Tab-separated, no colour: a header line, then a line per node (or, with
    summary, `value` and a `grad_NAME` line per reported input)."""
    if summary:
        lines = ["name\tvalue", "value\t%s" % fmt(result.value)]
        lines += ["grad_%s\t%s" % (k, fmt(v)) for k, v in result.gradients.items()]
    else:
        lines = ["id\tname\texpr\top\tvalue\tgrad"]
        for i, name, text, op, _, value, grad in node_rows(result):
            lines.append("%d\t%s\t%s\t%s\t%s\t%s" % (
                i, name or "", text, op, fmt(value), "" if grad is None else fmt(grad)))
    out.write("\n".join(lines) + "\n")


# ---- JSON -------------------------------------------------------------------

def to_json_obj(result, summary=False):
    """The SPEC's JSON shape as Python objects (non-finite numbers as strings)."""
    obj = {
        "output": result.output_name,
        "value": json_number(result.value),
        "gradients": {k: json_number(v) for k, v in result.gradients.items()},
        "nodes": [] if summary else [
            {"id": i, "op": op, "expr": text, "inputs": list(args), "value": json_number(value),
             "grad": None if grad is None else json_number(grad), "name": name}
            for i, name, text, op, args, value, grad in node_rows(result)],
    }
    return obj


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

def _console(out):
    from rich.console import Console
    return Console(file=out, highlight=False)


def _num(x, precision):
    return fmt_precision(x, precision)


def _caption(result, precision):
    label = _label(result)
    grads = ", ".join("∂%s/∂%s = %s" % (label, k, _num(v, precision)) for k, v in result.gradients.items())
    return "%s = %s%s" % (label, _num(result.value, precision), ("   " + grads) if grads else "")


def table(result, out, precision=6, summary=False):
    """A Rich table: one row per node, or with summary the output and the inputs' gradients."""
    from rich.table import Table
    from rich import box
    con = _console(out)
    if summary:
        t = Table(box=box.SIMPLE_HEAD, title=_label(result))
        t.add_column("name")
        t.add_column("value", justify="right")
        t.add_row(_label(result), _num(result.value, precision), style="bold")
        for k, v in result.gradients.items():
            t.add_row("∂%s/∂%s" % (_label(result), k), _num(v, precision))
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
        t.add_row(str(i), name or "", text, op, _num(value, precision),
                  "" if grad is None else _num(grad, precision),
                  style="bold" if i == last else None)
    con.print(t)


def tree(result, out, precision=6):
    """A Rich tree from the output down to the inputs. A node used again is drawn
    once; later uses refer to it by id. Built with an explicit stack."""
    from rich.tree import Tree
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
            head, escape(texts[i]), g.ops[i], _num(result.values[i], precision),
            "" if grad is None else "  [green]grad=%s[/]" % _num(grad, precision))

    last = len(g.ops) - 1
    root = Tree(label(last))
    drawn = {last}
    stack = [(root, a) for a in reversed(g.args[last])]
    while stack:
        parent, i = stack.pop()
        if i in drawn:
            parent.add("[dim]#%d %s (shown above)[/]" % (i, escape(names[i] or texts[i])))
            continue
        drawn.add(i)
        node = parent.add(label(i))
        stack.extend((node, a) for a in reversed(g.args[i]))
    con = _console(out)
    con.print(root)
    con.print(_caption(result, precision))


# ---- the Hessian (eval --hessian) -------------------------------------------------

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
    from rich.table import Table
    from rich import box
    names = list(h)
    t = Table(box=box.SIMPLE_HEAD, title="Hessian")
    t.add_column("", style="cyan")
    for b in names:
        t.add_column("∂/∂%s" % b, justify="right")
    for a in names:
        t.add_row("∂/∂%s" % a, *[_num(h[a][b], precision) for b in names])
    _console(out).print(t)
