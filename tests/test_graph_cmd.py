"""`cgraph graph`: tree, DOT (Graphviz), Mermaid and JSON."""

import json
import re
import shutil
import subprocess

import pytest
from conftest import ok, run  # noqa: E402

from cgcli.present.diagram import dot_quote, mermaid_quote

SEED = ["(x+y)*z", "x=1", "y=3", "z=-3"]



def node_lines(dot):
    return [ln for ln in dot.splitlines() if re.match(r"\s*n\d+ \[", ln)]


def edge_lines(dot):
    return [ln.strip() for ln in dot.splitlines() if "->" in ln]


# ---- DOT ----------------------------------------------------------------------

def test_dot_is_the_default_when_piped():
    r = ok("graph", "(x+y)*z")
    assert r.stdout == ok("graph", "(x+y)*z", "--format", "dot").stdout
    assert "digraph cgraph {" in r.stdout and r.stdout.rstrip().endswith("}")
    assert "rankdir=LR;" in r.stdout
    assert r.stderr == ""


def test_dot_structure_only_without_bindings():
    out = ok("graph", "(x+y)*z", "--format", "dot").stdout
    assert len(node_lines(out)) == 5
    assert "value" not in out and "grad" not in out
    assert 'n2 [label="x + y\\n#2 add"];' in out
    assert edge_lines(out) == ["n0 -> n2;", "n1 -> n2;", "n2 -> n4;", "n3 -> n4;"]
    # the inputs share the leftmost column; the output is drawn heavier
    assert "{ rank=min; n0; n1; n3; }" in out
    assert re.search(r'n4 \[label="\(x \+ y\) \* z\\n#4 mul", fillcolor="#fde68a", penwidth=2\];', out)


def test_dot_with_bindings_labels_values_and_gradients():
    out = ok("graph", *SEED, "--format", "dot").stdout
    assert 'n0 [label="x\\ninput\\nvalue = 1\\ngrad = -3", shape=ellipse' in out
    assert 'n2 [label="x + y\\n#2 add\\nvalue = 4\\ngrad = -3"];' in out
    assert 'n3 [label="z\\ninput\\nvalue = -3\\ngrad = 4"' in out
    assert '"(x + y) * z\\n#4 mul\\nvalue = -12\\ngrad = 1"' in out


def test_shared_node_appears_once_with_an_edge_per_use():
    out = ok("graph", "(x+y)*(x+y)", "--format", "dot").stdout
    assert sum('label="x + y' in ln for ln in node_lines(out)) == 1
    assert edge_lines(out).count("n2 -> n3;") == 2
    out = ok("graph", "x*x + x", "x=2", "--format", "dot").stdout
    assert len(node_lines(out)) == 3
    assert edge_lines(out) == ["n0 -> n1;", "n0 -> n1;", "n1 -> n2;", "n0 -> n2;"]
    assert 'label="x\\ninput\\nvalue = 2\\ngrad = 5"' in out  # 2x + 1, summed over three uses


def test_dot_program_names_and_constants():
    out = ok("graph", "p = x + y; g = p * z; g", "--format", "dot").stdout
    assert 'label="p = x + y\\n#2 add"' in out and 'label="g = p * z\\n#4 mul"' in out
    out = ok("graph", "w = 0.5; w*x + 2", "--format", "dot").stdout
    assert 'label="w = 0.5\\nconstant", fillcolor="#f3f4f6"' in out
    assert 'label="2\\nconstant"' in out


def test_dot_quote_escapes_backslashes_quotes_and_newlines():
    assert dot_quote('a "b" \\c\nd') == '"a \\"b\\" \\\\c\\nd"'
    assert dot_quote("x + y") == '"x + y"'


GRAPHVIZ = shutil.which("dot")


@pytest.mark.skipif(GRAPHVIZ is None, reason="Graphviz (dot) is not installed")
@pytest.mark.parametrize("args", [
    ["(x+y)*z"],
    SEED,
    ["(x+y)*(x+y) - x*x", "x=1", "y=2"],
    ["h = 0.5; h = tanh(w*h + x1); h = tanh(w*h + x2)", "w=0.3", "x1=1", "x2=-1"],
    ["max(a, b, -c) + relu(a) / sqrt(b^2 + 1) + 2*pi", "a=1", "b=1", "c=-1"],
    ["exp(" * 60 + "x" + ")" * 60],
])
def test_dot_is_accepted_by_graphviz(args):
    out = ok("graph", *args, "--format", "dot").stdout
    p = subprocess.run([GRAPHVIZ, "-Tsvg"], input=out, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "<svg" in p.stdout and p.stderr == ""


@pytest.mark.skipif(GRAPHVIZ is None, reason="Graphviz (dot) is not installed")
def test_graphviz_reads_escaped_labels_back():
    # names cannot hold quotes or backslashes, so feed dot_quote's output to dot directly
    text = 'say "hi" \\ back\nline two'
    dot = "digraph t { a [label=%s]; }" % dot_quote(text)
    p = subprocess.run([GRAPHVIZ, "-Tplain"], input=dot, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert 'say \\"hi\\"' in p.stdout or 'say "hi"' in p.stdout


# ---- Mermaid ------------------------------------------------------------------

def test_mermaid_flowchart():
    out = ok("graph", *SEED, "--format", "mermaid").stdout
    lines = out.splitlines()
    assert lines[0] == "flowchart LR"
    assert '  n0(["x<br>input<br>value = 1<br>grad = -3"])' in lines
    assert '  n2["x + y<br>#35;2 add<br>value = 4<br>grad = -3"]' in lines
    assert [ln.strip() for ln in lines if "-->" in ln] == ["n0 --> n2", "n1 --> n2", "n2 --> n4", "n3 --> n4"]
    assert "  class n0,n1,n3 input" in lines and "  class n4 output" in lines
    for ln in lines:  # every label is quoted, with no quote or raw # inside
        m = re.match(r'\s*n\d+\(?\[(.*)\]\)?$', ln)
        if m:
            label = m.group(1)
            assert label.startswith('"') and label.endswith('"')
            assert '"' not in label[1:-1]
            assert re.sub(r"#(\d+|quot|lt|gt|amp);", "", label).count("#") == 0


def test_mermaid_quote():
    assert mermaid_quote('a "b" <c> #1 & d\ne') == '"a #quot;b#quot; #lt;c#gt; #35;1 #amp; d<br>e"'


def test_mermaid_shared_node():
    out = ok("graph", "(x+y)*(x+y)", "--format", "mermaid").stdout
    assert out.count('["x + y') == 1
    assert out.count("n2 --> n3") == 2


# ---- JSON and tree --------------------------------------------------------------

def test_json_nodes_and_edges():
    obj = json.loads(ok("graph", *SEED, "--format", "json").stdout)
    assert obj["output"] is None and obj["evaluated"] is True
    assert obj["value"] == -12 and obj["gradients"] == {"x": -3, "y": -3, "z": 4}
    assert [n["expr"] for n in obj["nodes"]] == ["x", "y", "x + y", "z", "(x + y) * z"]
    assert obj["nodes"][2] == {"id": 2, "op": "add", "expr": "x + y", "inputs": [0, 1],
                               "value": 4.0, "grad": -3.0, "name": None}
    assert obj["edges"] == [{"from": 0, "to": 2, "arg": 0}, {"from": 1, "to": 2, "arg": 1},
                            {"from": 2, "to": 4, "arg": 0}, {"from": 3, "to": 4, "arg": 1}]


def test_json_structure_only():
    obj = json.loads(ok("graph", "sin(x)*x", "--format", "json").stdout)
    assert obj["evaluated"] is False and "value" not in obj
    assert all(n["value"] is None and n["grad"] is None for n in obj["nodes"])
    assert obj["edges"] == [{"from": 0, "to": 1, "arg": 0}, {"from": 1, "to": 2, "arg": 0},
                            {"from": 0, "to": 2, "arg": 1}]


def test_tree():
    out = ok("graph", "(x+y)*(x+y)", "x=1", "y=2", "--format", "tree").stdout
    assert out.splitlines()[0] == "#3 (x + y) * (x + y)  mul  value=9  grad=1"
    assert "#2 x + y  add  value=3  grad=6" in out
    assert "#2 x + y (shown above)" in out
    out = ok("graph", "(x+y)*z", "--format", "tree").stdout
    assert "value" not in out and "#2 x + y  add" in out


def test_output_selects_the_cone():
    out = ok("graph", "a = x*2; b = y+1; a + b", "--output", "a", "--format", "json").stdout
    obj = json.loads(out)
    assert obj["output"] == "a" and [n["expr"] for n in obj["nodes"]] == ["x", "2", "x * 2"]


# ---- errors -------------------------------------------------------------------------

def test_partial_bindings_name_the_missing_inputs():
    r = run("graph", "(x+y)*z", "x=1")
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.startswith("error: unbound inputs: y, z (bind every input")


def test_syntax_error_and_bad_format():
    r = run("graph", "2x")
    assert r.exit_code == 2 and "error: " in r.stderr and "2*x" in r.stderr
    r = run("graph", "x", "--format", "png")
    assert r.exit_code == 2 and r.stderr.startswith("error: ")


def test_domain_error_with_bindings():
    r = run("graph", "log(x)", "x=0")
    assert r.exit_code == 1 and r.stderr.startswith("error: log(x) is undefined")


def test_help_has_examples():
    r = ok("graph", "--help")
    assert "Examples:" in r.stdout and "cgraph graph " in r.stdout
    assert "dot -Tsvg" in r.stdout


# ---- big graphs ------------------------------------------------------------------

@pytest.mark.slow
def test_deep_graph_without_recursion():
    n = 100_000
    text = "(" * n + "x" + "+1)" * n
    out = ok("graph", "-f", "-", "x=0.5", "--format", "dot", input=text).stdout
    assert len(node_lines(out)) == n + 2
    assert '\\n#100001 add\\nvalue = 100000\\ngrad = 1"' in out
    tree = ok("graph", "-f", "-", "--format", "tree", input=text).stdout
    assert "#99991 ... (deeper than 10 levels" in tree
