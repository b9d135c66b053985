"""What the renderers share: the Rich console, numbers at a precision, the
output's label, streamed JSON and the tree walker.

Only the present modules import Rich, and only inside the functions that draw.
Every renderer writes to a text stream and returns nothing.
"""

from ..core.numbers import fmt_precision


def console(out):
    from rich.console import Console
    return Console(file=out, highlight=False)


def num(x, precision):
    return fmt_precision(x, precision)


def output_label(result):
    name = result.output_name
    return name if name is not None else "output"


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


def draw_tree(g, last, label, ref, too_deep, deeper):
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
