"""`cgraph explain`: both passes step by step, as plain text, coloured for a terminal, or JSON."""

from ..core.errors import printable
from ..core.numbers import fmt
from .common import console, json_write, num


def show(ex, fmt_, out, precision=6):
    if fmt_ == "json":
        json_write(ex.json_obj(), out)
    elif fmt_ == "plain":
        explain_plain(ex, out)
    else:
        explain_rich(ex, out, precision)
    out.flush()


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
    if not ex.has_backward and getattr(ex, "mode", "reverse") == "reverse":
        intro.append("The output%s no input: there is no backward pass." % (
            " depends on" if ex.output_label is not None else "s depend on"))
    titles = {"forward": "Forward pass: each node's value from its inputs, inputs first",
              "backward": "Backward pass: from d%s/d%s = 1, each node's gradient is upstream "
                          "gradient * local derivative, summed over the node's uses" % (label, label)}
    return intro, titles


def _section(ex, step, titles):
    """(key, title) of the section a step opens: the forward pass, the backward pass,
    (several outputs) the backward pass of its output, or forward mode's sweep k."""
    p = step.data["pass"]
    if p == "tangent":
        k = step.data["sweep"]
        return (p, k), ex.title(k)
    u = step.data.get("output")
    if u is None:
        return (p, None), titles[p]
    label = ex.labels[u]
    return (p, u), ("Backward pass for %s: from d%s/d%s = 1, each node's gradient of %s is upstream gradient * "
                    "local derivative, summed over the node's uses" % (u, label, label, u))


def _summary(ex, num):
    if getattr(ex, "mode", "reverse") == "forward":
        return ex.summary(num)
    if ex.output_label is not None:
        return _explain_summary(ex.output_label, ex.result, num)
    r = ex.result
    values = ", ".join("%s = %s" % (u, num(v)) for u, v in r.value.items())
    grads = ", ".join("d%s/d%s = %s" % (ex.labels[u], x, num(d)) for u, row in r.jacobian.items()
                      for x, d in row.items())
    return "So %s%s." % (values, ("; " + grads) if grads else "")


def _explain_summary(label, r, num):
    grads = ", ".join("d%s/d%s = %s" % (label, k, num(v)) for k, v in r.gradients.items())
    return "So %s = %s%s." % (label, num(r.value), ("; " + grads) if grads else "")


def explain_plain(ex, out):
    """The explanation as plain text: no colour, exact numbers. Streams."""
    intro, titles = _explain_parts(ex)
    write = out.write
    for t in intro:
        write(t + "\n")
    section = None
    for step in ex.iter_steps():
        key, title = _section(ex, step, titles)
        if key != section:
            section = key
            write("%s%s:\n" % ("\n" if intro or key[0] != "forward" else "", title))
        for t in step.lines():
            write("  " + t + "\n")
    write("\n" + _summary(ex, fmt) + "\n")


def explain_rich(ex, out, precision=6):
    """The explanation for a terminal: coloured names, gradients and results.
    Lines are printed in batches (one Rich print per line is slow on big graphs)."""
    from rich.text import Text
    con = console(out)
    intro, titles = _explain_parts(ex)
    for t in intro:
        con.print(Text(printable(t), style="dim"))
    batch = Text()
    count = 0
    section = None
    for step in ex.iter_steps():
        key, title = _section(ex, step, titles)
        if key != section:
            section = key
            batch.append("\n%s\n" % title, style="bold")
        for line in step.segments:
            batch.append("  ")
            for seg, role in line:
                batch.append(printable(seg), style=_ROLE_STYLE.get(role, ""))
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
    con.print(Text(printable(_summary(ex, lambda x: num(x, precision))),
                   style="bold"))
