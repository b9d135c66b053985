"""`cgraph graph`: the graph itself, as Graphviz DOT, a Mermaid flowchart or JSON.

A GraphView is the output's cone (the nodes the output depends on, in
topological order) with, when bindings are given, every node's value and
gradient. Without bindings it is the structure alone, and unbound inputs are
fine. A node appears once however many times it is used (hash-consing already
made shared subexpressions one node), with one edge per use: `x * x` has two
edges from x.

DOT and Mermaid are plain text, built with loops over the tape (no recursion),
so a graph of 100,000 nodes is written like a small one.
"""

from ..core.errors import CgraphError
from ..core.tape import CONST, VAR
from ..core.numbers import fmt_precision, json_number


class GraphView:
    """What the renderers draw. Per node i of `graph`: `names[i]` (display name
    or None), `texts[i]` (expression), `values[i]`/`grads[i]` (None when not
    evaluated, or, for grads, when the node depends on no input)."""

    def __init__(self, graph, output_name, values=None, grads=None, result=None):
        self.graph = graph
        self.output_name = output_name
        self.names = graph.display_names()
        self.texts = graph.exprs()
        n = len(graph.ops)
        self.evaluated = values is not None
        self.values = values if values is not None else [None] * n
        self.grads = grads if grads is not None else [None] * n
        self.result = result
        self.output = n - 1
        self.warnings = result.warnings if result is not None else []

    def edges(self):
        """(from, to, argument position) for every use, in tape order."""
        return [(a, i, k) for i, args in enumerate(self.graph.args) for k, a in enumerate(args)]

    def inputs(self):
        g = self.graph
        return [i for i, op in enumerate(g.ops) if op == VAR]


def graph_view(program, bindings=None, wrt=None, nonfinite=False):
    """The output's cone; evaluated (values and gradients) when bindings are given."""
    if not bindings:
        g, _ = program.graph.cone(program.output)
        return GraphView(g, program.output_name)
    from ..core.passes import evaluate
    g, _ = program.graph.cone(program.output)
    missing = [name for name in g.inputs if name not in bindings]
    if missing:
        raise CgraphError("unbound input%s: %s (bind every input to show values and gradients, "
                          "or none to draw the structure only)" % (
                              "" if len(missing) == 1 else "s", ", ".join(missing)))
    result = evaluate(program, bindings, wrt=wrt, nonfinite=nonfinite)
    return GraphView(result.graph, program.output_name, result.values, result.grads, result)


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
    if view.grads[i] is not None:
        lines.append("grad = %s" % fmt_precision(view.grads[i], precision))
    return lines


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
    last = view.output
    for i, op in enumerate(g.ops):
        attrs = ["label=%s" % dot_quote("\n".join(label_lines(view, i, precision)))]
        if op == VAR:
            attrs.append("shape=ellipse")
        if i == last:
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
    last = view.output
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
    for cls, ids in (("input", [i for i in view.inputs() if i != last]),
                     ("constant", [i for i, op in enumerate(g.ops) if op == CONST and i != last]),
                     ("output", [last])):
        if ids:
            yield "  class %s %s" % (",".join("n%d" % i for i in ids), cls)


# ---- JSON -------------------------------------------------------------------

def json_obj(view):
    """Nodes (the eval JSON's node objects) and edges; value and gradients when evaluated."""
    g = view.graph

    def num(x):
        return None if x is None else json_number(x)

    obj = {"output": view.output_name, "evaluated": view.evaluated}
    if view.result is not None:
        obj["value"] = json_number(view.result.value)
        obj["gradients"] = {k: json_number(v) for k, v in view.result.gradients.items()}
    obj["nodes"] = [{"id": i, "op": g.ops[i], "expr": view.texts[i], "inputs": list(g.args[i]),
                     "value": num(view.values[i]), "grad": num(view.grads[i]), "name": view.names[i]}
                    for i in range(len(g.ops))]
    obj["edges"] = [{"from": a, "to": i, "arg": k} for a, i, k in view.edges()]
    return obj
