"""`cgraph graph`: a GraphView (features/diagram.py) as Graphviz DOT, a Mermaid
flowchart, JSON or a Rich tree.

DOT and Mermaid are plain text, built with loops over the tape (no recursion),
so a graph of 100,000 nodes is written like a small one.
"""

from ..core.numbers import fmt_precision, json_number
from ..core.tape import CONST, VAR
from .common import assemble, console, draw_tree, json_write, num


def show(view, fmt_, out, precision=6):
    if fmt_ == "tree":
        graph_tree(view, out, precision)
    elif fmt_ == "json":
        json_write(graph_json(view), out)
    else:
        for line in (dot_lines if fmt_ == "dot" else mermaid_lines)(view, precision):
            out.write(line + "\n")
    out.flush()


def label_lines(view, i, precision=6):
    """A node's label: what it computes, its operation, and its value and gradient if known."""
    g = view.graph
    op, name, text = g.ops[i], view.names[i], view.texts[i]
    if op == VAR:
        lines = [text, "input"]
    elif op == CONST:
        lines = [("%s = %s" % (name, text)) if name else text, "constant"]
    else:
        lines = [("%s = %s" % (name, text)) if name else text, "#%d %s" % (i, op)]
    if view.values[i] is not None:
        lines.append("value = %s" % fmt_precision(view.values[i], precision))
    if view.grads_by is not None:  # several outputs: a gradient per output that depends on the node
        lines += ["grad_%s = %s" % (u, fmt_precision(gu[i], precision)) for u, gu in view.grads_by.items()
                  if gu[i] is not None]
    elif view.grads[i] is not None:
        lines.append("grad = %s" % fmt_precision(view.grads[i], precision))
    t = _tangent(view, i)
    if t is not None:
        lines.append("tangent = %s" % fmt_precision(t, precision))
    return lines


def _tangent(view, i):
    """Node i's tangent with --tangent (forward mode), else None."""
    ts = getattr(view.result, "tangents", None)  # None too for several outputs (a Jacobian)
    return None if ts is None else ts[i]


# ---- DOT --------------------------------------------------------------------

def dot_quote(text):
    """A DOT double-quoted string: backslashes and quotes escaped, newlines as \\n."""
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")


_FILL = {VAR: "#dbeafe", CONST: "#f3f4f6"}
_OUT_FILL = "#fde68a"


def dot_lines(view, precision=6):
    """A Graphviz digraph, left to right: the inputs in the first column, the output last."""
    g = view.graph
    yield "// cgraph: the computational graph; inputs on the left, the output on the right."
    yield "// Render it with Graphviz: dot -Tsvg graph.dot > graph.svg"
    yield "digraph cgraph {"
    yield "  rankdir=LR;"
    yield '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica"];'
    yield '  edge [color="#4b5563", arrowsize=0.7];'
    last = set(view.outputs)
    for i, op in enumerate(g.ops):
        attrs = ["label=%s" % dot_quote("\n".join(label_lines(view, i, precision)))]
        if op == VAR:
            attrs.append("shape=ellipse")
        if i in last:
            attrs.append('fillcolor="%s", penwidth=2' % _OUT_FILL)
        elif op in _FILL:
            attrs.append('fillcolor="%s"' % _FILL[op])
        yield "  n%d [%s];" % (i, ", ".join(attrs))
    inputs = view.inputs()
    if len(inputs) > 1:
        yield "  { rank=min; %s }" % " ".join("n%d;" % i for i in inputs)
    for a, i, _ in view.edges():
        yield "  n%d -> n%d;" % (a, i)
    yield "}"


# ---- Mermaid ----------------------------------------------------------------

# Mermaid reads `#name;` and `#35;` as character codes in labels; these
# characters would otherwise end the quoted label or be read as HTML.
_MERMAID = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;",
            "\r": "", "\n": "<br>"}


def mermaid_quote(text):
    """A Mermaid quoted label; lines joined with <br>."""
    return '"%s"' % "".join(_MERMAID.get(c, c) for c in text)


def mermaid_lines(view, precision=6):
    """A Mermaid flowchart, left to right, for Markdown viewers (GitHub, GitLab, ...)."""
    g = view.graph
    yield "flowchart LR"
    last = set(view.outputs)
    for i, op in enumerate(g.ops):
        label = mermaid_quote("\n".join(label_lines(view, i, precision)))
        if op == VAR:
            yield "  n%d([%s])" % (i, label)
        else:
            yield "  n%d[%s]" % (i, label)
    for a, i, _ in view.edges():
        yield "  n%d --> n%d" % (a, i)
    yield "  classDef input fill:%s,stroke:#3b82f6" % _FILL[VAR]
    yield "  classDef constant fill:%s,stroke:#9ca3af" % _FILL[CONST]
    yield "  classDef output fill:%s,stroke:#b45309,stroke-width:2px" % _OUT_FILL
    for cls, ids in (("input", [i for i in view.inputs() if i not in last]),
                     ("constant", [i for i, op in enumerate(g.ops) if op == CONST and i not in last]),
                     ("output", sorted(last))):
        if ids:
            yield "  class %s %s" % (",".join("n%d" % i for i in ids), cls)


# ---- JSON and the tree -------------------------------------------------------

def graph_json(view):
    """Nodes (the eval JSON's node objects) and edges; value and gradients when evaluated."""
    g = view.graph

    def num(x):
        return None if x is None else json_number(x)

    if view.output_names is not None:
        return _several_json(view, num)
    obj = {"output": view.output_name, "evaluated": view.evaluated}
    if view.result is not None:
        obj["value"] = json_number(view.result.value)
        obj["gradients"] = {k: json_number(v) for k, v in view.result.gradients.items()}
    obj["nodes"] = [{"id": i, "op": g.ops[i], "expr": view.texts[i], "inputs": list(g.args[i]),
                     "value": num(view.values[i]), "grad": num(view.grads[i]), "name": view.names[i]}
                    for i in range(len(g.ops))]
    obj["edges"] = [{"from": a, "to": i, "arg": k} for a, i, k in view.edges()]
    r = view.result
    if getattr(r, "tangents", None) is not None:  # forward mode: eval's keys, and "edges" last
        from ..core.forward import json_fields
        edges = obj.pop("edges")
        json_fields(obj, r.direction, r.tangent, r.tangents)["edges"] = edges
    return obj


def _several_json(view, num):
    """--output u,v: "outputs", "output_ids", (evaluated) "values" and "jacobian" as eval's
    JSON; each node's "grad" a map by output (null when not evaluated)."""
    g = view.graph
    obj = {"outputs": view.output_names, "output_ids": view.outputs, "evaluated": view.evaluated}
    if view.result is not None:
        d = view.result.to_dict(summary=True)
        obj["values"], obj["jacobian"] = d["values"], d["jacobian"]
    by = view.grads_by or {u: [None] * len(g.ops) for u in view.output_names}
    obj["nodes"] = [{"id": i, "op": g.ops[i], "expr": view.texts[i], "inputs": list(g.args[i]),
                     "value": num(view.values[i]), "grad": {u: num(gu[i]) for u, gu in by.items()},
                     "name": view.names[i]} for i in range(len(g.ops))]
    obj["edges"] = [{"from": a, "to": i, "arg": k} for a, i, k in view.edges()]
    return obj


def graph_tree(view, out, precision=6):
    """The graph as a Rich tree from the output down; a node used again is drawn
    once and later referred to by its id. An explicit stack, no recursion."""
    g = view.graph

    def label(i):
        lines = label_lines(view, i, precision)
        parts = [("#%d" % i, "dim"), " ", lines[0]]
        if g.ops[i] not in ("var", "const"):
            parts += ["  ", (g.ops[i], "magenta")]
        if view.values[i] is not None:
            parts.append("  value=%s" % num(view.values[i], precision))
        if view.grads_by is not None:
            for u, gu in view.grads_by.items():
                if gu[i] is not None:
                    parts += ["  ", ("grad_%s=%s" % (u, num(gu[i], precision)), "green")]
        elif view.grads[i] is not None:
            parts += ["  ", ("grad=%s" % num(view.grads[i], precision), "green")]
        if _tangent(view, i) is not None:
            parts += ["  ", ("tangent=%s" % num(_tangent(view, i), precision), "yellow")]
        return assemble(*parts)

    con = console(out)
    # each level indents by 4 columns: deeper levels would not fit (and a very
    # deep tree would be quadratic in size), so stop where the text still shows
    limit = max(10, (con.width - 40) // 4)
    for o in dict.fromkeys(view.outputs):  # several outputs: a tree from each
        con.print(draw_tree(g, o, label, lambda i: view.names[i] or view.texts[i],
                            lambda i, depth: depth >= limit and g.args[i],
                            "... (deeper than %d levels: see --format dot or json)" % limit))
