"""`cgraph graph`: the graph itself, as a view for Graphviz DOT, a Mermaid flowchart,
JSON or a tree (present/diagram.py writes them).

A GraphView is the output's cone (the nodes the output depends on, in
topological order) with, when bindings are given, every node's value and
gradient. Without bindings it is the structure alone, and unbound inputs are
fine. A node appears once however many times it is used (hash-consing already
made shared subexpressions one node), with one edge per use: `x * x` has two
edges from x.
"""

from ..core.errors import unbound_inputs
from ..core.tape import CONST, VAR


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
        self.outputs = [self.output]  # the output nodes (several with --output u,v)
        self.output_names = None  # --output u,v: the outputs' names
        self.grads_by = None  # ... and, evaluated, per output name its gradient of each node

    def edges(self):
        """(from, to, argument position) for every use, in tape order."""
        return [(a, i, k) for i, args in enumerate(self.graph.args) for k, a in enumerate(args)]

    def inputs(self):
        g = self.graph
        return [i for i, op in enumerate(g.ops) if op == VAR]


def graph_view(program, bindings=None, wrt=None, nonfinite=False):
    """The output's cone; evaluated (values and gradients) when bindings are given."""
    g, _ = program.cone()
    if not bindings:
        return GraphView(g, program.output_name)
    from ..core.passes import evaluate
    missing = [name for name in g.inputs if name not in bindings]
    if missing:
        raise unbound_inputs(missing, hint="bind every input to show values and gradients, "
                                           "or none to draw the structure only")
    result = evaluate(program, bindings, wrt=wrt, nonfinite=nonfinite)
    return GraphView(result.graph, program.output_name, result.values, result.grads, result)


def graph_view_several(program, names, bindings=None, wrt=None, nonfinite=False):
    """--output u,v: the union of the outputs' cones; evaluated when bindings are
    given (a gradient per output: `grads_by`)."""
    from ..core.jacobian import Outputs
    outs = Outputs(program, names)
    result = None
    if bindings:
        from ..core.jacobian import evaluate
        missing = [name for name in outs.graph.inputs if name not in bindings]
        if missing:
            raise unbound_inputs(missing, hint="bind every input to show values and gradients, "
                                               "or none to draw the structure only")
        result = evaluate(program, names, bindings, wrt=wrt, nonfinite=nonfinite)
    view = GraphView(outs.graph, None, None if result is None else result.values, None, result)
    view.outputs = outs.ids
    view.output_names = list(names)
    if result is not None:
        view.grads_by = result.grads
    return view


# ---- the interactive page (graph --format html) -------------------------------

FOLD = 8  # a run of at least this many one-operand links is folded into one box


def chains(g, outputs=()):
    """Runs of nodes a1 -> a2 -> ... -> ak (k >= FOLD) where each a(j+1) has a(j) as
    its only operand that is not a constant, a(j) has no other use, and a(j+1)'s
    constant operands no other use either: the page folds each into one box.
    Returns a list of runs (node ids in order). Loops only."""
    n = len(g.ops)
    uses = [0] * n
    for args in g.args:
        for a in args:
            uses[a] += 1
    outs = set(outputs)
    prev = [-1] * n  # prev[u] = a: u continues a's run
    for u in range(n):
        if g.ops[u] in (VAR, CONST):
            continue
        live = [a for a in g.args[u] if g.ops[a] != CONST]
        if len(live) != 1:
            continue
        a = live[0]
        if g.ops[a] in (VAR, CONST) or uses[a] != 1 or a in outs:
            continue
        if all(uses[c] == 1 for c in g.args[u] if g.ops[c] == CONST):
            prev[u] = a
    nxt = [-1] * n
    for u in range(n):
        if prev[u] >= 0:
            nxt[prev[u]] = u
    runs = []
    for u in range(n):
        if prev[u] >= 0 or nxt[u] < 0:
            continue  # not the start of a run
        run = [u]
        while nxt[run[-1]] >= 0:
            run.append(nxt[run[-1]])
        if len(run) >= FOLD:
            runs.append(run)
    return runs


def page_data(view, precision=6):
    """What the page's script shows: per node its name, operation, operands, value
    and gradient (exact and as shown), local derivatives; explain's steps
    (features/explain.py, the one source of the sentences); the folded chains."""
    from ..core.numbers import fmt_precision, json_number
    from .explain import explain_result, formula, step_names
    g = view.graph
    n = len(g.ops)
    names = step_names(g)
    texts = view.texts
    ref = [names[i] if names[i] is not None else texts[i] for i in range(n)]
    nodes = []
    for i in range(n):
        op = g.ops[i]
        f = None if op in (VAR, CONST) else formula(op, [ref[a] for a in g.args[i]])
        node = {"id": i, "op": op, "name": ref[i], "formula": f, "inputs": list(g.args[i]),
                "display": view.names[i], "locals": []}
        for key in ("value", "grad"):
            x = (view.values if key == "value" else view.grads)[i]
            node[key] = None if x is None else json_number(x)
            node[key + "_text"] = None if x is None else fmt_precision(x, precision)
        nodes.append(node)
    steps = []
    if view.result is not None:
        for step in explain_result(view.result, precision).iter_steps():
            d = step.data
            steps.append({"pass": d["pass"], "id": d["id"], "text": step.lines()})
            for t in d.get("terms", ()):  # node via's derivative with respect to operand arg
                nodes[t["via"]]["locals"].append({"arg": t["arg"], "of": d["id"], "formula": t["local_formula"],
                                                  "value": t["local"], "text": "∂%s/∂%s" % (ref[t["via"]], ref[d["id"]])})
    for node in nodes:
        node["locals"].sort(key=lambda t: t["arg"])
    return {"output": view.output, "output_name": ref[view.output] if n else None,
            "evaluated": view.evaluated, "nodes": nodes, "steps": steps,
            "chains": chains(g, view.outputs)}
