"""What the renderers share: the Rich console, numbers at a precision, the
output's label, streamed JSON and the tree walker.

Only the present modules import Rich, and only inside the functions that draw.
Every renderer writes to a text stream and returns nothing.

Text from the user (program text, names, data cells, comments) reaches Rich only
as Text objects built by `text()`: the console interprets no markup and no
emoji codes, and control characters are shown escaped (core.errors.printable).
"""

from ..core.errors import printable
from ..core.numbers import fmt_precision

COLOR = "auto"  # the global --color: auto, always or never (set by cli.py)


def console(out):
    """A Rich console on `out` that reads no markup in strings. --color always
    forces colour (over NO_COLOR and a pipe), never turns styles off; auto leaves
    it to Rich: NO_COLOR, then FORCE_COLOR, then whether `out` is a terminal."""
    from rich.console import Console
    kw = {}
    if COLOR == "always":
        kw = {"force_terminal": True, "no_color": False}
    elif COLOR == "never":
        kw = {"color_system": None, "no_color": True}
    return Console(file=out, highlight=False, markup=False, emoji=False, **kw)


def text(s, style=""):
    """A Rich Text of user text, shown literally (no markup, controls escaped)."""
    from rich.text import Text
    return Text(printable(s), style=style or "")


def assemble(*parts):
    """A Rich Text from (string, style) pairs and strings, each shown literally."""
    from rich.text import Text
    t = Text()
    for p in parts:
        if isinstance(p, tuple):
            t.append(printable(p[0]), style=p[1] or None)
        else:
            t.append(printable(p))
    return t


def wrap_terms(terms, width):
    """Lines of `terms`, (separator, term) pairs, broken between terms only (never
    inside `∂loss/∂w2 = -0.287682`); a term wider than `width` stands on its own line."""
    lines, line = [], ""
    for sep, t in terms:
        if line and len(line) + len(sep) + len(t) > width:
            lines.append(line)
            line = t
        else:
            line = line + sep + t if line else t
    if line:
        lines.append(line)
    return lines


def caption(con, terms, style="dim", table=None):
    """Print (separator, term) pairs under a table (the width of `table`, if given, else
    the console's), broken between terms."""
    from rich.text import Text
    width = con.width if table is None else min(con.width, con.measure(table).maximum)
    for line in wrap_terms([(s, printable(t)) for s, t in terms], max(20, width)):
        con.print(Text(line, style=style, no_wrap=True, overflow="fold"), soft_wrap=False)


def share_width(total, fixed, natural, pad=1):
    """Widths for a table's text columns: the columns of `fixed` widths (numbers)
    keep theirs, and the text columns (their `natural` widths) share what is left
    of `total`, each at least 1, the narrow ones first whole. A Rich SIMPLE_HEAD
    table: each column padded by 1 on either side, a space between columns, an edge
    on either side."""
    ncols = len(fixed) + len(natural)
    left = total - sum(fixed) - 2 * pad * ncols - (ncols - 1) - 2
    out = [1] * len(natural)
    todo = sorted(range(len(natural)), key=lambda j: natural[j])
    for n, j in enumerate(todo):
        share = max(1, left // (len(todo) - n))
        out[j] = max(1, min(natural[j], share))
        left -= out[j]
    return out


def fit_table(con, table, rows, numeric, headers=None):
    """Set max_width on `table`'s text columns so that its number columns (indices in
    `numeric`) are never cut short: the text columns fold first. `rows`: the cells as strings."""
    headers = [str(h) for h in (headers or [c.header for c in table.columns])]
    widths = [len(h) for h in headers]
    for row in rows:
        for j, cell in enumerate(row):
            widths[j] = max(widths[j], len(cell))
    ncols = len(widths)
    total = con.width + (0 if table.show_edge else 2)
    if sum(widths) + 3 * ncols + 1 <= total:
        return  # it fits as it is
    for j in numeric:  # a number column's header goes on several lines rather than widen it
        cells = max((len(row[j]) for row in rows), default=0)
        if len(headers[j]) > cells and " " in headers[j]:
            words = headers[j].split(" ")
            widths[j] = max(cells, max(map(len, words)))
            table.columns[j].header = "\n".join(wrap_terms([(" ", w) for w in words], widths[j]))
    textcols = [j for j in range(len(widths)) if j not in numeric]
    fixed = [widths[j] for j in sorted(numeric)]
    natural = [widths[j] for j in textcols]
    if sum(fixed) + min(len(natural), 4 * len(natural)) + 3 * ncols + 1 > total:
        table.padding = (0, 0)  # too narrow for the padding: the numbers matter more
        shares = share_width(total, fixed, natural, pad=0)
    else:
        shares = share_width(total, fixed, natural)
    for j, w in zip(textcols, shares):
        table.columns[j].max_width = w


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
    """A Rich tree of node `last` and what it reads (`label(i)` a Rich Text, `ref(i)` a string), with an explicit stack (no
    recursion): a node is drawn once, later uses are `#id ref (shown above)`, and
    below `too_deep(i, depth)` only a `#id deeper` line stands for the rest."""
    from rich.tree import Tree
    root = Tree(label(last))
    drawn = {last}
    stack = [(root, a, 1) for a in reversed(g.args[last])]
    while stack:
        parent, i, depth = stack.pop()
        if i in drawn:
            parent.add(text("#%d %s (shown above)" % (i, ref(i)), "dim"))
            continue
        if too_deep(i, depth):  # each level indents: a deep tree would be quadratic in size
            parent.add(text("#%d %s" % (i, deeper), "dim"))
            continue
        drawn.add(i)
        node = parent.add(label(i))
        stack.extend((node, a, depth + 1) for a in reversed(g.args[i]))
    return root
