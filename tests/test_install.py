"""The wheel carries the grammar: build it, install it into a fresh virtual
environment, and run `cgraph` from another directory (issue 2, point 1)."""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), ROOT],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail("building the wheel failed:\n" + r.stderr[-3000:])
    (whl,) = list(out.glob("cgraph-*.whl"))
    return whl


@pytest.mark.slow
def test_wheel_contains_the_grammar_and_the_generated_parser(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "cgcli/grammar/cgraph.lark" in names
    assert "cgcli/core/_parser.py" in names
    # graph --format html inlines its script and style from package data
    assert {"cgcli/present/page/page.js", "cgcli/present/page/page.css"} <= set(names)
    with zipfile.ZipFile(wheel) as z, open(os.path.join(ROOT, "grammar", "cgraph.lark"), "rb") as src:
        assert z.read("cgcli/grammar/cgraph.lark") == src.read()


@pytest.mark.slow
def test_installed_cgraph_runs_from_another_directory(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([str(venv / "bin" / "cgraph"), "eval", "(x+y)*z", "x=1", "y=3", "z=-3", "--format", "json"],
                       capture_output=True, text=True, cwd=elsewhere, env=env)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["value"] == -12.0 and d["gradients"] == {"x": -3.0, "y": -3.0, "z": 4.0}
    r = subprocess.run([str(py), "-m", "cgcli", "--version"], capture_output=True, text=True, cwd=elsewhere, env=env)
    assert r.returncode == 0 and r.stdout.startswith("cgraph, version ")
    # the installed package reads the grammar it carries, not this source tree's
    r = subprocess.run([str(py), "-c", "from cgcli.core.language import grammar_path; print(grammar_path())"],
                       capture_output=True, text=True, cwd=elsewhere, env=env)
    assert r.stdout.strip().startswith(str(venv)) and r.stdout.strip().endswith("cgcli/grammar/cgraph.lark")
    if shutil.which("dot"):  # the page's script and style come from the installed package
        r = subprocess.run([str(venv / "bin" / "cgraph"), "graph", "(x+y)*z", "x=1", "--format", "html", "y=3", "z=-3"],
                           capture_output=True, text=True, cwd=elsewhere, env=env)
        assert r.returncode == 0, r.stderr
        assert "window.cgraphPage" in r.stdout and "g.node.current" in r.stdout and 'id="n4"' in r.stdout


def test_generated_parser_is_up_to_date():
    """_parser.py (the LALR tables) must be regenerated whenever the grammar changes."""
    import zlib

    from cgcli.core import _parser
    from cgcli.core import language as parse
    with open(os.path.join(ROOT, "grammar", "cgraph.lark"), "rb") as fh:
        assert _parser.GRAMMAR_CRC32 == zlib.crc32(fh.read()), "run: python -m cgcli.regenerate"
    parse._load()
    assert parse._PARSER[0].data is _parser.DATA


def test_regenerate_writes_a_working_parser(tmp_path):
    import importlib.util

    from cgcli.core import language as parse
    from cgcli.regenerate import regenerate
    path = regenerate(str(tmp_path / "fresh_parser.py"))
    spec = importlib.util.spec_from_file_location("fresh_parser", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    from cgcli.core import _parser, lalr
    assert mod.GRAMMAR_CRC32 == _parser.GRAMMAR_CRC32
    tables = lalr.Tables(mod.DATA, mod.FOLD)
    b = parse._Builder()
    stmts = lalr.parse(tables, lalr.plan(tables, b), "a = x + 1; a * 2")
    assert [name for name, _ in stmts] == ["a", None] and b.g.ops == ["var", "const", "add", "const", "mul"]


def test_edited_grammar_falls_back_to_lark(monkeypatch, tmp_path):
    """If the grammar no longer matches _parser.py, Lark builds the parser from the grammar."""
    from cgcli.core import language as parse
    text = open(os.path.join(ROOT, "grammar", "cgraph.lark")).read() + "\n// edited\n"
    p = tmp_path / "cgraph.lark"
    p.write_text(text)
    monkeypatch.setattr(parse, "grammar_path", lambda: str(p))
    monkeypatch.setattr(parse, "_PARSER", None)
    parse._load()
    try:
        from cgcli.core import _parser
        assert parse._PARSER[0].data is not _parser.DATA  # built from Lark at load
        prog = parse.parse_program("(x+y)*z")
        from cgcli.core.passes import evaluate
        assert evaluate(prog, {"x": 1, "y": 3, "z": -3}).gradients == {"x": -3.0, "y": -3.0, "z": 4.0}
        with pytest.raises(parse.CgraphError, match="unexpected"):
            parse.parse_program("2 +* x")
    finally:
        monkeypatch.setattr(parse, "_PARSER", None)
