"""`cgraph graph`: the computational graph as a tree, DOT, Mermaid, JSON or an interactive HTML page."""

import sys

import click

from ..core.errors import UsageError
from .inputs import warn
from .options import format_option, precision_option, program_options, tangent_option


@click.command("graph", epilog="""\b
Examples:
  cgraph graph "(x+y)*z"                         the structure, as a tree
  cgraph graph "(x+y)*z" x=1 y=3 z=-3            with every value and gradient
  cgraph graph "(x+y)*z" x=1 y=3 z=-3 | dot -Tsvg > seed.svg
  cgraph graph "tanh(w*x + b)" --format mermaid  (paste into Markdown)
  cgraph graph "u = x*y; v = x + y" x=1 y=2 --output u,v --format json   (two outputs)
  cgraph graph "(x+y)*z" x=1 y=3 z=-3 --tangent x=1   (each node's tangent too)
  cgraph graph "(x+y)*z" x=1 y=3 z=-3 --format html > seed.html   (step through both passes)
Piped, the default format is dot, ready for Graphviz.""")
@program_options
@format_option(["tree", "dot", "mermaid", "json", "html"], "tree", "dot")
@precision_option(help="Significant digits in tree, dot and mermaid labels (json is exact).")
@tangent_option
def command(source, wrt, nonfinite, fmt, precision, tangent):
    """The computational graph: each operation once, an edge for each use.

    Without bindings it shows the structure only; bind every input (NAME=VALUE)
    to label each node with its value and gradient too. DOT output is a Graphviz
    digraph drawn left to right, inputs first; mermaid is a flowchart for
    Markdown viewers; json lists nodes and edges; html is one self-contained
    page (laid out by Graphviz's dot) with buttons and arrow keys to step
    through the forward and backward passes, explain's sentence for each step.
    """
    from ..features.diagram import graph_view, graph_view_several
    from ..present.diagram import show
    if fmt == "html" and (source.several or tangent is not None):
        raise UsageError("--format html shows one output's passes: it goes with neither --output u,v nor --tangent")
    if source.several:
        if tangent is not None:
            raise UsageError("--tangent goes with one output (the tangent is of the output)")
        prog, bindings = source.load_several()
        view = graph_view_several(prog, source.outputs, bindings, wrt=wrt, nonfinite=nonfinite)
    else:
        prog, bindings = source.load()
        view = graph_view(prog, bindings, wrt=wrt, nonfinite=nonfinite)
    if tangent is not None:
        if view.result is None:
            raise UsageError("--tangent needs the inputs bound (NAME=VALUE): the tangents are computed at a point")
        from ..core.forward import attach
        attach(view.result, prog, tangent, nonfinite)
    warn(view.warnings)
    if fmt == "html":
        from ..present.html import show_html
        show_html(view, sys.stdout, precision)
        return
    show(view, fmt, sys.stdout, precision)
