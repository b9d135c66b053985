"""`cgraph graph --format html`: the self-contained page, in a real browser.

The browser tests drive Debian's chromium headless through Selenium and
/usr/bin/chromedriver (.ci/run installs both); they skip, saying why, without them
(with CGRAPH_REQUIRE_BROWSER=1, as .ci/run sets, they fail instead).
The numbers on the edges are shown at --precision significant digits (6 by
default) and are compared with `cgraph eval --format json` at that precision; the
panel shows each number exactly (JavaScript's shortest round-trip form) and is
compared exactly.
"""

import json
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


def explained(expr, *bindings, precision=6):
    """explain's steps at `precision` digits, as `explain --format table` writes them."""
    from cgcli.core.language import parse_program
    from cgcli.features.explain import explain
    values = {k: float(v) for k, v in (b.split("=") for b in bindings)}
    return [{"pass": s.data["pass"], "id": s.data["id"], "text": s.lines()}
            for s in explain(parse_program(expr), values, precision=precision).iter_steps()]


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
    ex = json.loads(ok("explain", *SEED, "--format", "json").stdout)
    assert [s["text"] for s in data["steps"]] == [s["text"] for s in ex["steps"]]
    assert data["steps"] == explained(*SEED)
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


# ---- in a real browser (chromium headless, Selenium) ------------------------------

def _browser_missing():
    if shutil.which("dot") is None:
        return "Graphviz's dot is not installed (apt-get install graphviz)"
    if CHROMIUM is None or DRIVER is None:
        return "chromium or chromedriver is not installed (apt-get install chromium chromium-driver; .ci/run does)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser():
    why = _browser_missing()
    if why and os.environ.get("CGRAPH_REQUIRE_BROWSER") == "1":  # .ci/run: the browser tests must run
        pytest.fail("CGRAPH_REQUIRE_BROWSER=1 but " + why)
    if why:
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()


def load(driver, path):
    driver.get(path.as_uri())
    driver.get_log("browser")  # start each page with an empty log...
    return driver


def no_console_errors(driver):
    bad = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert bad == []


def by_id(driver, name):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.ID, name)


def text_of(element):
    return element.get_attribute("textContent")


def shown(driver):
    """{(node, "val" or "grad"): set of texts on its out-edges} as the page shows them."""
    pairs = driver.execute_script(
        "return Array.from(document.querySelectorAll('text.val, text.grad'))"
        ".filter(function (t) { return t.textContent; })"
        ".map(function (t) { return [t.dataset.node, t.getAttribute('class'), t.textContent]; });")
    out = {}
    for node, cls, text in pairs:
        out.setdefault((int(node), cls), set()).add(text)
    return out


def close_at(text, exact, digits=6):
    """`text`, a number shown at `digits` significant digits, is `exact` rounded."""
    return float(text) == float(format(exact, ".%dg" % digits))


EXPRS = [SEED, ["tanh(w*x + b) * sin(x)", "w=0.5", "x=-1.25", "b=0.1"], ["x*x + 2*x", "x=3"]]


@pytest.mark.parametrize("args", EXPRS, ids=lambda a: a[0])
def test_stepping_shows_evals_numbers_and_explains_sentences(browser, tmp_path, args):
    from selenium.webdriver.common.keys import Keys
    path, _ = page(tmp_path, *args)
    d = load(browser, path)
    ev = eval_json(*args)
    ex = explained(*args)
    consts = {n["id"] for n in ev["nodes"] if n["op"] == "const"}
    assert {k for k in shown(d) if k[0] not in consts} == set()
    body = d.find_element("tag name", "body")
    done = set()
    for k, step in enumerate(ex):
        if k % 2:
            body.send_keys(Keys.ARROW_RIGHT)
        else:
            by_id(d, "step").click()
        assert text_of(by_id(d, "sentence")) == "\n".join(step["text"])
        assert text_of(by_id(d, "counter")) == "step %d of %d · %s pass" % (k + 1, len(ex), step["pass"])
        done.add((step["id"], "val" if step["pass"] == "forward" else "grad"))
        now = shown(d)
        assert {key for key in now if key[0] not in consts} == done
        for (i, cls), texts in now.items():
            exact = ev["nodes"][i]["value" if cls == "val" else "grad"]
            assert len(texts) == 1 and close_at(texts.pop(), exact), (i, cls)
    assert by_id(d, "step").get_attribute("disabled") == "true"
    # every node's value and, for those that depend on an input, gradient is on show
    assert {i for i, c in shown(d) if c == "grad"} == {n["id"] for n in ev["nodes"] if n["grad"] is not None}
    body.send_keys(Keys.ARROW_LEFT)  # back one step: the last gradient goes again
    assert (ex[-1]["id"], "grad") not in shown(d)
    body.send_keys(Keys.HOME)
    assert {k for k in shown(d) if k[0] not in consts} == set()
    no_console_errors(d)


def test_clicking_a_node_shows_its_operation_derivatives_and_numbers(browser, tmp_path):
    path, _ = page(tmp_path, *SEED)
    d = load(browser, path)
    by_id(d, "n4").click()
    assert text_of(by_id(d, "panel-op")) == "mul (node #4)"
    assert text_of(by_id(d, "panel-formula")) == "g = p * z"
    assert text_of(by_id(d, "panel-value")) == "-12" and text_of(by_id(d, "panel-grad")) == "1"
    items = d.find_elements("css selector", "#panel-locals li")
    assert [text_of(li) for li in items] == ["∂g/∂p = z = -3", "∂g/∂z = p = 4"]
    # an operand's button opens that node
    d.find_element("css selector", "#panel-inputs button").click()
    assert text_of(d.find_element("css selector", "#panel h2")) == "p"
    assert text_of(by_id(d, "panel-value")) == "4" and text_of(by_id(d, "panel-grad")) == "-3"
    by_id(d, "n0").click()
    assert text_of(by_id(d, "panel-op")) == "input"
    assert float(text_of(by_id(d, "panel-value"))) == eval_json(*SEED)["nodes"][0]["value"]
    no_console_errors(d)


def test_panel_numbers_are_exact(browser, tmp_path):
    args = ["sin(x)*y", "x=1", "y=2"]
    path, _ = page(tmp_path, *args)
    d = load(browser, path)
    ev = eval_json(*args)
    for node in ev["nodes"]:
        d.execute_script("document.getElementById('n%d').dispatchEvent(new MouseEvent('click', {bubbles: true}))" % node["id"])
        assert float(text_of(by_id(d, "panel-value"))) == node["value"]
        assert float(text_of(by_id(d, "panel-grad"))) == node["grad"]
    no_console_errors(d)


def test_play_and_pause(browser, tmp_path):
    path, _ = page(tmp_path, *SEED)
    d = load(browser, path)
    play = by_id(d, "play")
    play.click()
    assert play.get_attribute("aria-pressed") == "true" and text_of(play) == "pause"
    deadline = time.time() + 10
    while d.execute_script("return cgraphPage.current()") < 1 and time.time() < deadline:
        time.sleep(0.1)
    play.click()
    assert text_of(play) == "play"
    at = d.execute_script("return cgraphPage.current()")
    assert at >= 1
    time.sleep(2)
    assert d.execute_script("return cgraphPage.current()") == at  # paused
    # played to the end, it stops by itself
    d.execute_script("cgraphPage.goTo(cgraphPage.steps - 2)")
    play.click()
    deadline = time.time() + 10
    while play.get_attribute("aria-pressed") == "true" and time.time() < deadline:
        time.sleep(0.1)
    assert d.execute_script("return cgraphPage.current()") == 9 and text_of(play) == "play"
    no_console_errors(d)


def test_zoom_and_pan(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    path, _ = page(tmp_path, *SEED)
    d = load(browser, path)
    box = lambda: d.execute_script("return document.querySelector('#view svg').getAttribute('viewBox')")  # noqa: E731
    home = box()
    by_id(d, "zoom-in").click()
    zoomed = [float(t) for t in box().split()]
    assert zoomed[2] < [float(t) for t in home.split()][2]
    by_id(d, "zoom-out").click()
    d.execute_script("document.getElementById('view').dispatchEvent(new WheelEvent('wheel', "
                     "{deltaY: -100, clientX: 300, clientY: 300, bubbles: true, cancelable: true}))")
    before = box()
    ActionChains(d).move_to_element_with_offset(by_id(d, "view"), -200, 150).click_and_hold() \
        .move_by_offset(120, 40).move_by_offset(60, 20).release().perform()
    assert box() != before
    by_id(d, "fit").click()
    assert box() == home
    no_console_errors(d)


def test_structure_only_page(browser, tmp_path):
    path, text = page(tmp_path, "(x+y)*z")
    d = load(browser, path)
    assert text_of(by_id(d, "sentence")).startswith("Structure only: bind every input")
    assert by_id(d, "step").get_attribute("disabled") == "true"
    assert by_id(d, "play").get_attribute("disabled") == "true"
    by_id(d, "n2").click()
    assert text_of(by_id(d, "panel-formula")) == "p = x + y"
    assert d.find_elements("id", "panel-value") == []
    assert shown(d) == {}
    no_console_errors(d)


def test_folded_chain_opens_on_click(browser, tmp_path):
    expr = "x"
    for _ in range(12):
        expr = "sin(%s)" % expr
    path, _ = page(tmp_path, expr + " * y", "x=0.5", "y=2")
    d = load(browser, path)
    assert d.find_elements("id", "n5") == [] and d.find_elements("id", "c0")
    by_id(d, "c0").click()
    rows = d.find_elements("css selector", "#panel-chain li")
    assert len(rows) == 12 and text_of(rows[0]) == "p = sin(x)"
    rows[3].find_element("tag name", "button").click()
    ev = eval_json(expr + " * y", "x=0.5", "y=2")
    assert float(text_of(by_id(d, "panel-value"))) == ev["nodes"][4]["value"]
    d.execute_script("cgraphPage.goTo(cgraphPage.steps - 1)")
    # the box's out-edge carries the chain's last value and gradient
    now = shown(d)
    assert close_at(now[(12, "val")].pop(), ev["nodes"][12]["value"]) and close_at(now[(12, "grad")].pop(), ev["nodes"][12]["grad"])
    no_console_errors(d)


def big_program(tmp_path, layers=334):
    """A program of about 3 * layers nodes: a_k = tanh(a_(k-1) * w + x)."""
    lines = ["a0 = x * w"] + ["a%d = tanh(a%d * w + x)" % (k, k - 1) for k in range(1, layers)]
    prog = tmp_path / "big.cg"
    prog.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return prog


def test_a_thousand_nodes_load_and_step(browser, tmp_path):
    prog = big_program(tmp_path)
    t0 = time.perf_counter()
    path, text = page(tmp_path, "-f", str(prog), "x=0.3", "w=0.9")
    made = time.perf_counter() - t0
    data = json.loads(re.search(r'id="cgraph-data">(.*?)</script>', text, re.S).group(1))
    assert len(data["nodes"]) >= 1000
    t0 = time.perf_counter()
    d = load(browser, path)
    loaded = time.perf_counter() - t0
    n = d.execute_script("return cgraphPage.steps")
    assert n == len(data["steps"]) >= 2000
    t0 = time.perf_counter()
    for _ in range(20):
        by_id(d, "step").click()
    clicks = (time.perf_counter() - t0) / 20
    # every step, in the page itself (no WebDriver round trip)
    per_step = d.execute_script(
        "var t = performance.now(); for (var k = 20; k < 220; k++) cgraphPage.goTo(k);"
        "return (performance.now() - t) / 200;")
    d.execute_script("cgraphPage.goTo(cgraphPage.steps - 1)")  # the rest at once
    assert d.execute_script("return cgraphPage.current()") == n - 1
    # and as a user sees it: an arrow key, then two frames drawn
    d.execute_script("cgraphPage.goTo(0)")
    d.set_script_timeout(120)
    shown_step = d.execute_async_script("""var done = arguments[0], t = performance.now(), k = 0;
        function next() { if (k++ >= 40) { done((performance.now() - t) / 40); return; }
          try { document.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true})); }
          catch (e) { done(String(e)); return; }
          requestAnimationFrame(function () { requestAnimationFrame(next); }); }
        next();""")
    assert d.execute_script("return cgraphPage.current()") == 40
    d.execute_script("cgraphPage.goTo(cgraphPage.steps - 1)")
    ev = eval_json("-f", str(prog), "x=0.3", "w=0.9")
    now = shown(d)
    assert close_at(now[(0, "grad")].pop(), ev["nodes"][0]["grad"])
    by_id(d, "zoom-in").click()
    no_console_errors(d)
    print("\n1,000-node page: %d nodes, %d steps; made in %.2f s, loaded in %.2f s, "
          "a step button click %.1f ms (WebDriver round trip), a step %.2f ms in the page, "
          "%.1f ms to the second frame drawn" % (len(data["nodes"]), n, made, loaded, clicks * 1000, per_step, shown_step))
    assert loaded < 20 and per_step < 50 and shown_step < 500


def test_screenshot(browser, tmp_path):
    """The figure of docs/commands.md: the seed halfway through the backward pass with
    a node open. Saved under tmp; CGRAPH_SCREENSHOT=1 writes docs/img/graph-html.png."""
    path, _ = page(tmp_path, *SEED)
    browser.set_window_size(1100, 560)
    d = load(browser, path)
    d.execute_script("cgraphPage.goTo(7)")
    by_id(d, "n4").click()
    shot = tmp_path / "graph-html.png"
    d.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("CGRAPH_SCREENSHOT") == "1":
        target = pathlib.Path(ROOT) / "docs" / "img" / "graph-html.png"
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, target)
    d.set_window_size(1280, 800)
    no_console_errors(d)


@pytest.mark.parametrize("args", [["x", "x=1.5"], ["2+3"], ["log(x)", "x=0", "--nonfinite"], ["relu(x)*x", "x=0"]],
                         ids=lambda a: a[0])
def test_small_and_odd_graphs_step_to_the_end(browser, tmp_path, args):
    """One node (the output is an input), constants only (the structure: 2+3 has no input
    to bind, so nothing to step), a non-finite value, a kink: every step shows, no error."""
    path, _ = page(tmp_path, *args)
    d = load(browser, path)
    n = d.execute_script("return cgraphPage.steps")
    for _ in range(n):
        by_id(d, "step").click()
    assert d.execute_script("return cgraphPage.current()") == n - 1
    if args[0] == "log(x)":
        assert ({"-inf"}, {"inf"}) == (shown(d)[(1, "val")], shown(d)[(0, "grad")])
        assert text_of(by_id(d, "sentence")).startswith("dg/dx = dg/dg * ∂g/∂x = 1 * inf = inf")
    if args[0] == "x":
        assert shown(d) == {(0, "val"): {"1.5"}, (0, "grad"): {"1"}}
    no_console_errors(d)
