"""`cgraph graph --format html`: one self-contained page that steps through both passes.

The layout is Graphviz's: a DOT made for the page (every node and edge with an SVG
`id`, left to right) goes through `dot -Tsvg`, and the SVG is put inline with the
page's data (features/diagram.page_data: each node's numbers and explain's steps)
as JSON and the script and style of cgcli/present/page/ (package data). Nothing is
fetched: a Content-Security-Policy forbids it, and every text that comes from the
program (names, expressions) is escaped for where it goes (DOT, HTML, JSON in a
<script>). Loops only.
"""

import html
import json
import shutil
import subprocess
from importlib import resources

from ..core.errors import CgraphError
from ..core.tape import CONST, VAR
from .diagram import _FILL, _OUT_FILL, dot_quote

_COPIES = 4  # an input or constant with more uses is drawn again beside each use after the first
_LABEL = 48  # a label's formula is cut after this many characters


def _short(text):
    return text if len(text) <= _LABEL else text[: _LABEL - 1] + "…"


def page_dot(data):
    """The DOT the page is laid out from, and the edges: (svg id, node whose value it carries)."""
    nodes = data["nodes"]
    folded = {}  # node -> index of its chain
    for k, run in enumerate(data["chains"]):
        for i in run:
            folded[i] = k
    chain_of = data["chains"]
    svg_of = ["c%d" % folded[i] if i in folded else "n%d" % i for i in range(len(nodes))]
    out = data["output"]
    lines = ["digraph cgraph {", "  rankdir=LR; ranksep=0.8; nodesep=0.3;",
             '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica", fontsize=12];',
             '  edge [color="#6b7280", arrowsize=0.7];']
    for i, node in enumerate(nodes):
        if i in folded:
            continue
        op = node["op"]
        if op == VAR:
            label, attrs = node["name"], ["shape=ellipse", 'fillcolor="%s"' % _FILL[VAR]]
        elif op == CONST:
            label, attrs = node["name"], ['fillcolor="%s"' % _FILL[CONST]]
        else:
            head = "%s = %s" % (node["name"], node["formula"])
            label, attrs = "%s\n%s" % (_short(head), op), []
        if i == out:
            attrs = [a for a in attrs if not a.startswith("fillcolor")] + ['fillcolor="%s", penwidth=2' % _OUT_FILL]
        lines.append("  n%d [id=\"n%d\", label=%s%s];" % (i, i, dot_quote(label), "".join(", " + a for a in attrs)))
    for k, run in enumerate(chain_of):
        names = [nodes[i]["name"] for i in run]
        label = "chain of %d nodes\n%s … %s\n(click to open)" % (len(run), _short(names[0]), _short(names[-1]))
        fill = _OUT_FILL if run[-1] == out else "#ede9fe"
        lines.append('  c%d [id="c%d", label=%s, shape=box3d, style=filled, fillcolor="%s"];' % (k, k, dot_quote(label), fill))
    uses = [0] * len(nodes)
    for node in nodes:
        for a in node["inputs"]:
            uses[a] += 1
    edges, seen = [], [0] * len(nodes)
    for i, node in enumerate(nodes):
        for a in node["inputs"]:
            if svg_of[a] == svg_of[i]:
                continue  # inside a folded chain
            eid = "e%d" % len(edges)
            edges.append({"id": eid, "node": a})
            tail = svg_of[a]
            seen[a] += 1
            if uses[a] > _COPIES and nodes[a]["op"] in (VAR, CONST) and seen[a] > 1:
                # an input or constant used all over the graph: a copy beside each later use
                # (edges across hundreds of ranks are what makes dot slow, even crash)
                tail = "x%d_%d" % (a, seen[a])
                lines.append('  %s [id="%s", label=%s, style="dashed,filled", fillcolor="%s"%s];' % (
                    tail, tail, dot_quote(nodes[a]["name"]), _FILL[nodes[a]["op"]],
                    ", shape=ellipse" if nodes[a]["op"] == VAR else ""))
            lines.append('  %s -> %s [id="%s"];' % (tail, svg_of[i], eid))
    if nodes:
        edges.append({"id": "esink", "node": out})
        lines.append('  sink [id="sink", shape=point, width=0.06, label=""];')
        lines.append('  %s -> sink [id="esink"];' % svg_of[out])
    lines.append("}")
    return "\n".join(lines) + "\n", edges, svg_of


def layout(dot_text):
    """The SVG Graphviz's dot lays `dot_text` out as (the XML prolog and DOCTYPE dropped)."""
    exe = shutil.which("dot")
    if exe is None:
        raise CgraphError("--format html lays the graph out with Graphviz's dot, which is not on PATH",
                          hint="install Graphviz: apt-get install graphviz, brew install graphviz")
    try:
        run = subprocess.run([exe, "-Tsvg"], input=dot_text.encode("utf-8"), capture_output=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise CgraphError("Graphviz's dot took over 10 minutes to lay the graph out") from None
    if run.returncode != 0:
        why = run.stderr.decode("utf-8", "replace").strip().splitlines()
        what = "crashed (signal %d)" % -run.returncode if run.returncode < 0 else "failed (status %d)" % run.returncode
        raise CgraphError("Graphviz's dot %s laying the graph out%s" % (what, ": " + why[0] if why else ""),
                          hint="--format dot or json writes the graph without laying it out")
    svg = run.stdout.decode("utf-8")
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def script_json(obj):
    """JSON safe inside <script>: `<`, `>`, `&` and the JS line separators escaped."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for c, e in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(c, e)
    return text


def _asset(name):
    return resources.files("cgcli.present").joinpath("page", name).read_text(encoding="utf-8")


_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"


def page(view, precision=6):
    """The whole page as one string."""
    from ..features.diagram import page_data
    data = page_data(view, precision)
    dot_text, edges, svg_of = page_dot(data)
    svg = layout(dot_text)
    data["edges"], data["svg_of"] = edges, svg_of
    title = "cgraph: %s" % (_short(view.texts[view.output]) if view.texts else "")
    script = _asset("page.js")
    assert "</script" not in script.lower()
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">\n" % _CSP,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        "<link rel=\"icon\" href=\"data:,\">\n<title>%s</title>\n" % html.escape(title),
        "<style>\n%s</style>\n</head>\n<body>\n" % _asset("page.css"),
        "<header><h1>%s</h1>\n<nav id=\"toolbar\">" % html.escape(title),
        "<button id=\"reset\" title=\"Home\">« reset</button>",
        "<button id=\"back\" title=\"left arrow\">◀ back</button>",
        "<button id=\"step\" title=\"right arrow\">step ▶</button>",
        "<button id=\"play\" title=\"space\" aria-pressed=\"false\">play</button>",
        "<button id=\"end\" title=\"End\">end »</button>",
        "<span class=\"sep\"></span>",
        "<button id=\"zoom-in\" title=\"+\">+</button><button id=\"zoom-out\" title=\"-\">−</button>",
        "<button id=\"fit\" title=\"0\">fit</button>",
        "<span id=\"counter\"></span></nav></header>\n",
        "<div id=\"sentence\" aria-live=\"polite\"></div>\n",
        "<main><div id=\"view\">\n%s</div>\n<aside id=\"panel\"></aside></main>\n" % svg,
        "<footer>values <span class=\"val\">above</span> each edge, gradients <span class=\"grad\">below</span>; "
        "click a node for its numbers; drag to pan, wheel to zoom; arrow keys step, space plays</footer>\n",
        "<script type=\"application/json\" id=\"cgraph-data\">%s</script>\n" % script_json(data),
        "<script>\n%s</script>\n</body>\n</html>\n" % script,
    ])


def show_html(view, out, precision=6):
    out.write(page(view, precision))
    out.flush()
