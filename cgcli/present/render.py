"""Showing results: Rich table and tree for people; plain, JSON for programs.

Only this module imports Rich, and only inside the functions that draw.
Every renderer writes to a text stream and returns nothing.
"""

from ..core.numbers import fmt, fmt_precision, json_number


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
    """The JSON shape of docs/contract.md as Python objects (non-finite numbers as strings)."""
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


def _draw_tree(g, last, label, ref, too_deep, deeper):
    """A Rich tree of node `last` and what it reads, with an explicit stack (no
    recursion): a node is drawn once, later uses are `#id ref (shown above)`, and
    below `too_deep(i, depth)` only a `#id deeper` line stands for the rest."""
    from rich.tree import Tree
    root = Tree(label(last))
    drawn = {last}
    stack = [(root, a, 1) for a in reversed(g.args[last])]
    while stack:
        parent, i, depth = stack.pop()
        if i in drawn:
            parent.add("[dim]#%d %s (shown above)[/]" % (i, ref(i)))
            continue
        if too_deep(i, depth):  # each level indents: a deep tree would be quadratic in size
            parent.add("[dim]#%d %s[/]" % (i, deeper))
            continue
        drawn.add(i)
        node = parent.add(label(i))
        stack.extend((node, a, depth + 1) for a in reversed(g.args[i]))
    return root


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
            head, escape(texts[i]), g.ops[i], _num(result.values[i], precision),
            "" if grad is None else "  [green]grad=%s[/]" % _num(grad, precision))

    root = _draw_tree(g, len(g.ops) - 1, label, lambda i: escape(names[i] or texts[i]),
                      lambda i, depth: depth > MAX_TREE_DEPTH,
                      "and the nodes below it: deeper than %d levels (--format plain lists every node)"
                      % MAX_TREE_DEPTH)
    con = _console(out)
    con.print(root)
    con.print(_caption(result, precision))


# ---- records: one per input row (--data) or line (--lines) --------------------

def _pick(seq, keep):
    if keep is None:
        return seq
    if hasattr(seq, "shape"):
        return seq[keep]
    return [seq[j] for j in keep]


def _reprs(arr):
    return list(map(repr, arr.tolist()))


class CsvRecords:
    """CSV (or, with a tab delimiter, plain): a header, then a line per record."""

    def __init__(self, out, delimiter=","):
        import csv
        self.out = out
        self.d = delimiter
        self.writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")

    def start(self, names, wrt):
        self.writer.writerow(list(names) + ["value"] + ["grad_%s" % w for w in wrt])

    def write(self, rec):
        keep = rec.keep
        cols = [_pick(c, keep) for c in rec.text]
        plain_text = all(not any(ch in s for ch in (self.d, '"', "\n", "\r"))
                         for s in ("\x00".join(c) for c in cols))
        cols.append(_reprs(_pick(rec.value, keep)))
        cols.extend(_reprs(_pick(gr, keep)) for gr in rec.grads)
        if not cols[-1]:
            return
        if plain_text:
            self.out.write("\n".join(map(self.d.join, zip(*cols))) + "\n")
        else:
            self.writer.writerows(zip(*cols))

    def end(self):
        pass


def _json_number_test():
    import re
    return re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?").fullmatch


_JSON_NUMBER = None


def _json_numbers(arr):
    import numpy as np
    strs = _reprs(arr)
    if not np.isfinite(arr).all():
        for j in np.flatnonzero(~np.isfinite(arr)).tolist():
            strs[j] = '"%s"' % strs[j]
    return strs


class JsonlRecords:
    """JSON Lines: one object per record, the row's own fields first."""

    def __init__(self, out):
        self.out = out

    def start(self, names, wrt):
        self.keys = ["value"] + ["grad_%s" % w for w in wrt]

    def write(self, rec):
        import json
        global _JSON_NUMBER
        if _JSON_NUMBER is None:
            _JSON_NUMBER = _json_number_test()
        keep = rec.keep
        parts = []
        if rec.objs is not None:
            objs = _pick(rec.objs, keep)
            parts.append([json.dumps(o)[1:-1] for o in objs])
        else:
            for name, col in zip(rec.names, rec.text):
                col = _pick(col, keep)
                if name in rec.numeric:  # the cell's own text where it is a JSON number
                    strs = [c if _JSON_NUMBER(c) else j
                            for c, j in zip(col, _json_numbers(_pick(rec.numeric[name], keep)))]
                else:
                    strs = list(map(json.dumps, col))
                parts.append(list(map((json.dumps(name) + ": ").__add__, strs)))
        for key, arr in zip(self.keys, [rec.value] + list(rec.grads)):
            parts.append(list(map(('"%s": ' % key).__add__, _json_numbers(_pick(arr, keep)))))
        rows = list(map(", ".join, zip(*parts)))
        if rows:
            self.out.write("{" + "}\n{".join(rows) + "}\n")

    def end(self):
        pass


class TableRecords:
    """A Rich table for people, printed a chunk at a time."""

    def __init__(self, out, precision=6):
        self.out = out
        self.precision = precision
        self.first = True

    def start(self, names, wrt):
        self.header = list(names) + ["value"] + ["grad_%s" % w for w in wrt]
        self.con = _console(self.out)

    def write(self, rec):
        from rich.table import Table
        from rich import box
        keep = rec.keep
        t = Table(box=box.SIMPLE_HEAD, show_header=self.first, show_edge=False)
        self.first = False
        for k, h in enumerate(self.header):
            t.add_column(h, justify="left" if k < len(rec.names) else "right",
                         style="green" if h.startswith("grad_") else None)
        cols = [_pick(c, keep) for c in rec.text]
        cols.append([_num(x, self.precision) for x in _pick(rec.value, keep).tolist()])
        cols.extend([_num(x, self.precision) for x in _pick(gr, keep).tolist()] for gr in rec.grads)
        for row in zip(*cols):
            t.add_row(*row)
        self.con.print(t)

    def end(self):
        pass


def record_writer(fmt, out, precision=6):
    if fmt == "csv":
        return CsvRecords(out)
    if fmt == "plain":
        return CsvRecords(out, "\t")
    if fmt == "jsonl":
        return JsonlRecords(out)
    return TableRecords(out, precision)


# ---- minimize and train -------------------------------------------------------

_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values, width=60):
    """A loss curve in one line of block characters (log scale when the values are
    positive and span more than two orders of magnitude)."""
    import math
    vals = [v for v in values if math.isfinite(v)]
    if not vals:
        return ""
    if len(vals) > width:  # the mean of each of `width` slices
        step = len(vals) / width
        vals = [sum(vals[int(k * step):max(int(k * step) + 1, int((k + 1) * step))]) /
                max(1, int((k + 1) * step) - int(k * step)) for k in range(width)]
    lo, hi = min(vals), max(vals)
    if lo > 0 and hi / lo > 100:
        vals, lo, hi = [math.log10(v) for v in vals], math.log10(lo), math.log10(hi)
    if hi == lo:
        return _BARS[0] * len(vals)
    return "".join(_BARS[min(7, int((v - lo) / (hi - lo) * 8))] for v in vals)


def learned(outcome, out, fmt_, precision=6, kind="minimize"):
    """The end of a minimize or train run: why it stopped, the parameters, the final value or cost."""
    what = "value" if kind == "minimize" else "cost"
    count = "steps" if kind == "minimize" else "epochs"
    if fmt_ == "json":
        import json
        obj = {"reason": outcome.reason, "converged": outcome.converged, count: outcome.steps,
               what: json_number(outcome.value),
               "params": {k: json_number(v) for k, v in outcome.params.items()},
               "gradients": {k: json_number(v) for k, v in outcome.gradients.items()}}
        if kind == "train":
            obj["costs"] = [json_number(c) for c in outcome.history]
        out.write(json.dumps(obj) + "\n")
        return
    if fmt_ == "plain":
        lines = ["stopped\t%s" % outcome.reason, "converged\t%s" % str(outcome.converged).lower(),
                 "%s\t%d" % (count, outcome.steps), "%s\t%s" % (what, fmt(outcome.value))]
        lines += ["param\t%s\t%s" % (k, fmt(v)) for k, v in outcome.params.items()]
        lines += ["grad\t%s\t%s" % (k, fmt(v)) for k, v in outcome.gradients.items()]
        out.write("\n".join(lines) + "\n")
        return
    from rich.table import Table
    from rich import box
    con = _console(out)
    con.print("%s stopped after %d %s: %s" % (kind, outcome.steps, count, outcome.reason))
    t = Table(box=box.SIMPLE_HEAD)
    t.add_column("parameter", style="cyan")
    t.add_column("value", justify="right")
    t.add_column("gradient", justify="right", style="green")
    for k, v in outcome.params.items():
        t.add_row(k, _num(v, precision), _num(outcome.gradients[k], precision))
    con.print(t)
    label = "final value" if kind == "minimize" else "final mean cost"
    con.print("%s = %s" % (label, _num(outcome.value, precision)))
    curve = sparkline(outcome.history)
    if curve:
        con.print("%s %s  %s -> %s" % ("value" if kind == "minimize" else "cost", curve,
                                       _num(outcome.history[0], 3), _num(outcome.history[-1], 3)))


class EpochReporter:
    """What a person sees while `train` runs: a progress bar on stderr (only when
    stderr is a terminal) and a line every `every` epochs with the mean cost."""

    def __init__(self, fmt_, out, err, epochs, every, precision=6):
        self.fmt = fmt_
        self.out = out
        self.err = err
        self.epochs = epochs
        self.every = every
        self.precision = precision
        self.progress = None

    def __enter__(self):
        if self.err.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
            self.progress = Progress(TextColumn("epoch"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("cost {task.fields[cost]}"), TimeRemainingColumn(),
                                     console=Console(file=self.err), transient=True)
            self.task = self.progress.add_task("train", total=self.epochs, cost="")
            self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.__exit__(*exc)
        return False

    def epoch(self, epoch, cost, params):
        if self.progress is not None:
            self.progress.update(self.task, completed=epoch, cost=_num(cost, 4))
        if self.fmt == "json" or (epoch % self.every and epoch != 1):
            return
        if self.fmt == "plain":
            self.out.write("epoch\t%d\t%s\n" % (epoch, fmt(cost)))
        else:
            line = "epoch %*d/%d  mean cost %s" % (len(str(self.epochs)), epoch, self.epochs,
                                                   _num(cost, self.precision))
            if self.progress is not None:
                self.progress.console.print(line)
            else:
                self.out.write(line + "\n")
        self.out.flush()

# ---- graph, explain, check (the diagram, explain and check modules give the data) ----

def json_write(obj, out, rows=("nodes", "edges", "steps", "inputs")):
    """JSON with each element of the keys in `rows` (lists or iterators, written
    as they come) on its own line."""
    import json
    first = True
    out.write("{")
    for k, v in obj.items():
        out.write("%s%s: " % ("" if first else ", ", json.dumps(k)))
        first = False
        if k in rows and not isinstance(v, (dict, str)) and v is not None:
            sep = "[\n  "
            for item in v:
                out.write(sep + json.dumps(item))
                sep = ",\n  "
            out.write("[]" if sep.startswith("[") else "\n]")
        else:
            out.write(json.dumps(v))
    out.write("}\n")


def graph_tree(view, out, precision=6):
    """The graph as a Rich tree from the output down; a node used again is drawn
    once and later referred to by its id. An explicit stack, no recursion."""
    from rich.markup import escape
    from ..features.diagram import label_lines
    g = view.graph

    def label(i):
        lines = label_lines(view, i, precision)
        head = "[dim]#%d[/] %s" % (i, escape(lines[0]))
        if g.ops[i] not in ("var", "const"):
            head += "  [magenta]%s[/]" % g.ops[i]
        if view.values[i] is not None:
            head += "  value=%s" % _num(view.values[i], precision)
        if view.grads[i] is not None:
            head += "  [green]grad=%s[/]" % _num(view.grads[i], precision)
        return head

    con = _console(out)
    # each level indents by 4 columns: deeper levels would not fit (and a very
    # deep tree would be quadratic in size), so stop where the text still shows
    limit = max(10, (con.width - 40) // 4)
    root = _draw_tree(g, view.output, label, lambda i: escape(view.names[i] or view.texts[i]),
                      lambda i, depth: depth >= limit and g.args[i],
                      "... (deeper than %d levels: see --format dot or json)" % limit)
    con.print(root)


_ROLE_STYLE = {"name": "cyan", "grad": "green", "local": "magenta", "num": "", "result": "bold",
               "note": "dim", "text": ""}


def _explain_parts(ex):
    """The intro lines and the two section titles, shared by plain and Rich."""
    label = ex.output_label
    intro = []
    names = ex.auto_names
    if len(names) == 1:
        intro.append("%s is a name given here to a result the program leaves unnamed." % names[0])
    elif len(names) > 8:
        intro.append("%s, ..., %s (%d names) are given here to results the program leaves unnamed." % (
            ", ".join(names[:6]), names[-1], len(names)))
    elif names:
        intro.append("%s are names given here to results the program leaves unnamed." % ", ".join(names))
    if not ex.has_backward:
        intro.append("The output depends on no input: there is no backward pass.")
    titles = {"forward": "Forward pass: each node's value from its inputs, inputs first",
              "backward": "Backward pass: from d%s/d%s = 1, each node's gradient is upstream "
                          "gradient * local derivative, summed over the node's uses" % (label, label)}
    return intro, titles


def _explain_summary(label, r, num):
    grads = ", ".join("d%s/d%s = %s" % (label, k, num(v)) for k, v in r.gradients.items())
    return "So %s = %s%s." % (label, num(r.value), ("; " + grads) if grads else "")


def explain_plain(ex, out):
    """The explanation as plain text: no colour, exact numbers. Streams."""
    from ..core.numbers import fmt
    intro, titles = _explain_parts(ex)
    write = out.write
    for t in intro:
        write(t + "\n")
    section = None
    for step in ex.iter_steps():
        p = step.data["pass"]
        if p != section:
            section = p
            write("%s%s:\n" % ("\n" if intro or p == "backward" else "", titles[p]))
        for t in step.lines():
            write("  " + t + "\n")
    write("\n" + _explain_summary(ex.output_label, ex.result, fmt) + "\n")


def explain_rich(ex, out, precision=6):
    """The explanation for a terminal: coloured names, gradients and results.
    Lines are printed in batches (one Rich print per line is slow on big graphs)."""
    from rich.text import Text
    con = _console(out)
    intro, titles = _explain_parts(ex)
    for t in intro:
        con.print(Text(t, style="dim"))
    batch = Text()
    count = 0
    section = None
    for step in ex.iter_steps():
        p = step.data["pass"]
        if p != section:
            section = p
            batch.append("\n%s\n" % titles[p], style="bold")
        for line in step.segments:
            batch.append("  ")
            for seg, role in line:
                batch.append(seg, style=_ROLE_STYLE.get(role, ""))
            batch.append("\n")
            count += 1
        if count >= 500:
            batch.rstrip()
            con.print(batch, overflow="fold")
            batch, count = Text(), 0
    batch.rstrip()
    if batch:
        con.print(batch, overflow="fold")
    con.print()
    con.print(Text(_explain_summary(ex.output_label, ex.result, lambda x: _num(x, precision)), style="bold"))


def _check_cells(c, num):
    return (c.name, "" if c.value is None else num(c.value), num(c.grad),
            "" if c.fd is None else num(c.fd),
            "" if c.rel_error is None else format(c.rel_error, ".1e"), c.status)


def check_plain(cr, out):
    """Tab-separated: a header, one line per input, notes in the last column."""
    from ..core.numbers import fmt
    lines = ["input\tvalue\tgrad\tfd\trel_error\tstatus\tmethod\tnote"]
    for c in cr.checks:
        lines.append("\t".join(_check_cells(c, fmt)) + "\t%s\t%s" % (c.method or "", "; ".join(c.notes)))
    out.write("\n".join(lines) + "\n")


def check_table(cr, out, precision=10):
    """A Rich table: per input the backward-pass gradient, the finite difference,
    their relative error and the verdict; notes below."""
    from rich.table import Table
    from rich import box
    from rich.text import Text
    con = _console(out)
    label = _label(cr.result)
    t = Table(box=box.SIMPLE_HEAD, caption="%s = %s   h = %g·max(1,|x|)  rtol %g  atol %g" % (
        label, _num(cr.result.value, precision), cr.eps, cr.rtol, cr.atol), caption_justify="left")
    t.add_column("input", style="cyan")
    t.add_column("value", justify="right")
    t.add_column("backward pass", justify="right", style="green")
    t.add_column("finite difference", justify="right")
    t.add_column("rel. error", justify="right")
    t.add_column("status")
    colour = {"ok": "green", "fail": "bold red", "kink": "yellow", "unchecked": "yellow"}
    for c in cr.checks:
        cells = list(_check_cells(c, lambda x: _num(x, precision)))
        cells[-1] = Text(c.status, style=colour.get(c.status, ""))
        t.add_row(*cells)
    con.print(t)
    for c in cr.checks:
        for n in c.notes:
            con.print(Text.assemble(("%s: " % c.name, "cyan"), (n, "dim" if c.status == "ok" else "yellow")))
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
