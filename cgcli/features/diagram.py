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
from ..core.tape import VAR


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
