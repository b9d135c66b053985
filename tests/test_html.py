"""`cgraph graph --format html`: the self-contained page, in a real browser.

The browser tests drive Debian's chromium headless through Selenium and
/usr/bin/chromedriver (.ci/run installs both); they skip, saying why, without them.
The numbers on the edges are shown at --precision significant digits (6 by
default) and are compared with `cgraph eval --format json` at that precision; the
panel shows each number exactly (JavaScript's shortest round-trip form) and is
compared exactly.
"""

import json
import math
import os
import pathlib
import re
import shutil
import time

import pytest
from conftest import ROOT, ok, run  # noqa: E402

from cgcli.present.html import script_json

SEED = ["(x+y)*z", "x=1", "y=3", "z=-3"]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = "/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else shutil.which("chromedriver")


def page(tmp_path, *args, name="page.html"):
    r = ok("graph", *args, "--format", "html")
    path = tmp_path / name
    path.write_text(r.stdout, encoding="utf-8")
    return path, r.stdout


def eval_json(*args):
    return json.loads(ok("eval", *args, "--format", "json").stdout)


# ---- without a browser ----------------------------------------------------------

@needs_dot
def test_page_is_self_contained(tmp_path):
    _, text = page(tmp_path, *SEED)
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.I)
    assert not re.search(r"\b(fetch|XMLHttpRequest|importScripts|WebSocket)\b", text)
    assert "<script src" not in text and "<link rel=\"stylesheet\"" not in text
    # the policy forbids any fetch even if something slipped in
    assert "default-src 'none'" in text
    # one inline SVG laid out by Graphviz, with the ids the script animates
    assert text.count("<svg") == 1 and 'id="n2"' in text and 'id="esink"' in text
    assert "<?xml" not in text


@needs_dot
def test_page_data_are_explains_steps_and_evals_numbers(tmp_path):
    _, text = page(tmp_path, *SEED)
    data = json.loads(re.search(r'<script type="application/json" id="cgraph-data">(.*?)</script>', text, re.S).group(1))
    ex = json.loads(ok("explain", *SEED, "--format", "json", "--precision", "6").stdout)
    assert [s["text"] for s in data["steps"]] == [s["text"] for s in ex["steps"]]
    assert data["steps"][-1]["text"][0] == "dg/dx = dg/dp * ∂p/∂x = -3 * 1 = -3"
    ev = eval_json(*SEED)
    assert [n["value"] for n in data["nodes"]] == [n["value"] for n in ev["nodes"]]
    assert [n["grad"] for n in data["nodes"]] == [n["grad"] for n in ev["nodes"]]
    mul = data["nodes"][4]
    assert [(t["text"], t["formula"], t["value"]) for t in mul["locals"]] == [("∂g/∂p", "z", -3.0), ("∂g/∂z", "p", 4.0)]


def test_script_json_escapes_what_would_end_a_script():
    text = script_json({"a": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028"}


@needs_dot
def test_hostile_text_is_escaped(tmp_path):
    """Names cannot hold markup, but the page must not depend on it: put a `</script>`
    and quotes in every text that reaches the page (title, DOT labels, the JSON)."""
    from cgcli.present.html import page as make_page
    view = _view("(x+y)*z")
    evil = '</script><script>alert("x")</script>\'"&'
    view.texts = [evil] * len(view.texts)
    view.names = [evil] * len(view.texts)
    view.graph.display_names = lambda: [evil] * len(view.texts)
    text = make_page(view)
    assert text.count("<script") == 2 and text.count("</script>") == 2
    assert "<title>cgraph: &lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)" in text
    data = json.loads(re.search(r'id="cgraph-data">(.*?)</script>', text, re.S).group(1))
    assert data["nodes"][0]["display"] == evil and data["nodes"][2]["name"] == evil
    svg = text[text.index("<svg"): text.index("</svg>")]
    assert "<script" not in svg and "&lt;/script&gt;" in svg


def test_without_dot_one_error_line_naming_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    r = run("graph", *SEED, "--format", "html")
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr.startswith("error: --format html lays the graph out with Graphviz's dot, which is not on PATH")
    assert r.stderr.count("\n") == 1


def test_html_goes_with_one_output():
    r = run("graph", "u = x*y; v = x + y", "x=1", "y=2", "--output", "u,v", "--format", "html")
    assert r.exit_code == 2 and "--format html shows one output's passes" in r.stderr
    r = run("graph", *SEED, "--tangent", "x=1", "--format", "html")
    assert r.exit_code == 2


def test_long_chains_are_folded():
    from cgcli.features.diagram import FOLD, chains
    expr = "x"
    for _ in range(12):
        expr = "sin(%s)" % expr
    view = _view(expr + " * y")
    assert len(view.graph.ops) == 15 and FOLD <= 12
    assert chains(view.graph, view.outputs) == [list(range(1, 13))]
    # a run shorter than FOLD stays drawn node by node; so does one through a shared node
    short = _view("sin(sin(sin(x)))")
    assert chains(short.graph, short.outputs) == []
    shared = _view("a = " + expr + "; a * a")
    assert chains(shared.graph, shared.outputs) == [list(range(1, 13))]
    twice = _view("sin(sin(sin(sin(x)))) ; b = 1")
    assert chains(twice.graph, twice.outputs) == []


def _view(expr):
    from cgcli.core.language import parse_program
    from cgcli.features.diagram import graph_view
    return graph_view(parse_program(expr))
