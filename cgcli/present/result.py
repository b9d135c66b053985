"""One evaluation (`cgraph eval`): every node's value and gradient as a Rich
table or tree for people, plain text or JSON for programs."""

import math

from ..core.errors import printable
from ..core.numbers import fmt, json_number
from .common import assemble, caption, console, draw_tree, fit_table, num, output_label, text


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
        if result.tangents is not None:
            lines.append("tangent\t%s" % fmt(result.tangent))
    else:
        ts = result.tangents
        lines = ["id\tname\texpr\top\tvalue\tgrad" + ("" if ts is None else "\ttangent")]
        for i, name, text, op, _, value, grad in node_rows(result):
            lines.append("%d\t%s\t%s\t%s\t%s\t%s" % (
                i, printable(name or ""), printable(text), op, fmt(value), "" if grad is None else fmt(grad))
                + ("" if ts is None else "\t" + _opt(ts[i], fmt)))
    out.write("\n".join(lines) + "\n")


# ---- JSON -------------------------------------------------------------------

def to_json_obj(result, summary=False):
    """The contract's JSON shape as Python objects (non-finite numbers as strings)."""
    obj = {
        "output": result.output_name,
        "value": json_number(result.value),
        "gradients": _json_numbers(result.gradients),
        "nodes": [] if summary else [
            {"id": i, "op": op, "expr": text, "inputs": list(args), "value": json_number(value),
             "grad": None if grad is None else json_number(grad), "name": name}
            for i, name, text, op, args, value, grad in node_rows(result)],
    }
    if result.tangents is not None:  # forward mode (--tangent)
        from ..core.forward import json_fields
        json_fields(obj, result.direction, result.tangent, result.tangents)
    return obj


def _json_numbers(d):
    """{name: json_number(x)}; the dict itself when every number is finite (then
    their sum is: one inf or nan makes it inf or nan)."""
    if math.isfinite(sum(d.values())):
        return d
    return {k: json_number(v) for k, v in d.items()}


def _gradients_text(d):
    """json.dumps(d), the same text: written directly (2-3x faster at 10^6 inputs) when
    every value is a finite float (repr, as json writes it) and no key needs escaping."""
    import json
    keys = "".join(d)
    if (keys.isascii() and keys.isprintable() and '"' not in keys and "\\" not in keys
            and all(type(v) is float for v in d.values()) and math.isfinite(sum(d.values()))):
        return "{" + ", ".join(map('"%s": %r'.__mod__, d.items())) + "}"
    return json.dumps(d)


def _opt(x, f):
    """f(x), or "" for a node without a tangent (it depends on no input)."""
    return "" if x is None else f(x)


def json_out(result, out, summary=False, extra=None):
    """JSON, one node per line so that large graphs stay readable and greppable."""
    import json
    obj = to_json_obj(result, summary)
    if extra:
        obj.update(extra)
    nodes = obj.pop("nodes")
    head = "{" + ", ".join("%s: %s" % (json.dumps(k), _gradients_text(v) if k == "gradients" else json.dumps(v))
                           for k, v in obj.items())
    if not nodes:
        out.write(head + ', "nodes": []}\n')
        return
    out.write(head + ', "nodes": [\n  ')
    out.write(",\n  ".join(map(json.dumps, nodes)))
    out.write("\n]}\n")


# ---- Rich -------------------------------------------------------------------

def caption_terms(result, precision):
    """The line under the table and the tree, as terms that are never broken:
    `loss = 0.5`, `∂loss/∂w1 = 0.25`, ..."""
    label = output_label(result)
    terms = ["%s = %s" % (label, num(result.value, precision))] + [
        "∂%s/∂%s = %s%s" % (label, k, num(v, precision), "," if j < len(result.gradients) - 1 else "")
        for j, (k, v) in enumerate(result.gradients.items())]
    if result.tangents is not None:
        terms[-1] += ";"
        terms.append("tangent = %s" % num(result.tangent, precision))
    return terms


def number_column(t, header, style=None):
    """A column of numbers: never wrapped or cut short (the text columns give way first)."""
    t.add_column(header, justify="right", style=style, no_wrap=True, overflow="fold")


def show_caption(con, result, precision, table=None):
    terms = caption_terms(result, precision)
    caption(con, [("", terms[0])] + [("   " if j == 0 else " ", t) for j, t in enumerate(terms[1:])],
            style="dim italic", table=table)


def node_table():
    """A Rich table with the columns every node table starts with: id, name, expression, op."""
    from rich import box
    from rich.table import Table
    t = Table(box=box.SIMPLE_HEAD)
    t.add_column("id", justify="right", style="dim", no_wrap=True)
    t.add_column("name", style="cyan", overflow="fold")
    t.add_column("expression", overflow="fold")
    t.add_column("op", style="magenta", no_wrap=True)
    return t


def table(result, out, precision=6, summary=False):
    """A Rich table: one row per node, or with summary the output and the inputs' gradients."""
    from rich import box
    from rich.table import Table
    con = console(out)
    label = output_label(result)
    if summary:
        t = Table(box=box.SIMPLE_HEAD, title=text(label))
        t.add_column("name", overflow="fold")
        number_column(t, "value")
        t.add_row(text(label), num(result.value, precision), style="bold")
        for k, v in result.gradients.items():
            t.add_row(text("∂%s/∂%s" % (label, k)), num(v, precision))
        if result.tangents is not None:
            t.add_row("tangent", num(result.tangent, precision))
        con.print(t)
        return
    t = node_table()
    number_column(t, "value")
    number_column(t, "grad", style="green")
    ts = result.tangents
    if ts is not None:
        number_column(t, "tangent", style="yellow")
    last = len(result.values) - 1
    rows = [(str(i), printable(name or ""), printable(expr), op, num(value, precision),
             "" if grad is None else num(grad, precision))
            + (() if ts is None else (_opt(ts[i], lambda x: num(x, precision)),))
            for i, name, expr, op, _, value, grad in node_rows(result)]
    fit_table(con, t, rows, {0, 3, 4, 5} | (set() if ts is None else {6}))
    for row in rows:
        t.add_row(row[0], text(row[1]), text(row[2]), *row[3:], style="bold" if row[0] == str(last) else None)
    con.print(t)
    show_caption(con, result, precision, t)


MAX_TREE_DEPTH = 16  # levels; each indents by 4 columns


def tree(result, out, precision=6):
    """A Rich tree from the output down to the inputs. A node used again is drawn
    once; later uses refer to it by id. Built with an explicit stack."""
    g = result.graph
    names = g.display_names()
    texts = g.exprs()

    def label(i):
        grad = result.grads[i]
        parts = [("#%d" % i, "dim"), " "]
        if names[i] is not None and g.ops[i] != "var":
            parts += [(names[i], "cyan"), " = "]
        parts += [texts[i], "  ", (g.ops[i], "magenta"), "  value=%s" % num(result.values[i], precision)]
        if grad is not None:
            parts += ["  ", ("grad=%s" % num(grad, precision), "green")]
        if result.tangents is not None and result.tangents[i] is not None:
            parts += ["  ", ("tangent=%s" % num(result.tangents[i], precision), "yellow")]
        return assemble(*parts)

    root = draw_tree(g, len(g.ops) - 1, label, lambda i: names[i] or texts[i],
                     lambda i, depth: depth > MAX_TREE_DEPTH,
                     "and the nodes below it: deeper than %d levels (--format plain lists every node)"
                     % MAX_TREE_DEPTH)
    con = console(out)
    con.print(root)
    show_caption(con, result, precision)
