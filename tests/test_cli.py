"""`cgraph eval`: the seed example, the formats, the options (issue 2, points 2 and 6)."""

import json

import pytest

from cgcli import __version__

SEED = ["eval", "(x+y)*z", "x=1", "y=3", "z=-3"]


def test_seed_json_is_the_spec_shape(cg):
    r = cg(*SEED, "--format", "json")
    assert r.status == 0, r.err
    d = r.json()
    assert d["output"] is None
    assert d["value"] == -12.0
    assert d["gradients"] == {"x": -3.0, "y": -3.0, "z": 4.0}
    assert [(n["id"], n["op"], n["expr"], n["inputs"], n["value"], n["grad"]) for n in d["nodes"]] == [
        (0, "var", "x", [], 1.0, -3.0),
        (1, "var", "y", [], 3.0, -3.0),
        (2, "add", "x + y", [0, 1], 4.0, -3.0),
        (3, "var", "z", [], -3.0, 4.0),
        (4, "mul", "(x + y) * z", [2, 3], -12.0, 1.0),
    ]


def test_seed_plain_is_the_default_when_piped(cg):
    r = cg(*SEED)
    assert r.status == 0
    assert r.out.splitlines() == [
        "id\tname\texpr\top\tvalue\tgrad",
        "0\tx\tx\tvar\t1\t-3",
        "1\ty\ty\tvar\t3\t-3",
        "2\t\tx + y\tadd\t4\t-3",
        "3\tz\tz\tvar\t-3\t4",
        "4\t\t(x + y) * z\tmul\t-12\t1",
    ]
    assert r.err == ""
    assert "\x1b" not in r.out


def test_seed_as_a_program_names_the_nodes(cg):
    d = cg("eval", "p = x + y; g = p * z", "x=1", "y=3", "z=-3", "--format", "json").json()
    assert d["output"] == "g"
    assert d["value"] == -12.0
    by_name = {n["name"]: n for n in d["nodes"]}
    assert by_name["p"]["expr"] == "x + y" and by_name["p"]["value"] == 4.0 and by_name["p"]["grad"] == -3.0
    assert by_name["g"]["expr"] == "p * z" and by_name["g"]["grad"] == 1.0
    assert d["gradients"] == {"x": -3.0, "y": -3.0, "z": 4.0}


def test_table_shows_every_node_value_and_gradient(cg):
    r = cg(*SEED, "--format", "table")
    assert r.status == 0
    rows = [line.split() for line in r.out.splitlines()]
    assert ["2", "x", "+", "y", "add", "4", "-3"] in rows
    assert ["3", "z", "z", "var", "-3", "4"] in rows
    assert ["4", "(x", "+", "y)", "*", "z", "mul", "-12", "1"] in rows
    assert "∂output/∂z = 4" in r.out


def test_table_precision_rounds_for_people(cg):
    r = cg("eval", "x/3", "x=1", "--format", "table", "--precision", "3")
    assert "0.333" in r.out and "0.3333" not in r.out
    r = cg("eval", "x/3", "x=1", "--format", "plain")
    assert "0.3333333333333333" in r.out


def test_tree_draws_a_shared_node_once(cg):
    r = cg("eval", "(x+y)*(x+y)", "x=1", "y=2", "--format", "tree")
    assert r.status == 0
    assert r.out.count("x + y  add") == 1
    assert "#2 x + y (shown above)" in r.out
    assert "value=9" in r.out


def test_tree_of_a_deep_graph_stops_drawing_at_a_depth(cg):
    r = cg("eval", "--format", "tree", "--", "tanh(" * 5000 + "x" + ")" * 5000, "x=0.5")
    assert r.status == 0
    assert "deeper than 16 levels (--format plain lists every node)" in " ".join(r.out.split())
    assert len(r.out) < 100_000


def test_summary(cg):
    r = cg(*SEED, "--summary")
    assert r.out.splitlines() == ["value\t-12", "grad_x\t-3", "grad_y\t-3", "grad_z\t4"]
    d = cg(*SEED, "--summary", "--format", "json").json()
    assert d["nodes"] == [] and d["value"] == -12.0 and d["gradients"]["z"] == 4.0


def test_wrt_chooses_the_reported_gradients(cg):
    d = cg(*SEED, "--wrt", "z,x", "--format", "json").json()
    assert d["gradients"] == {"z": 4.0, "x": -3.0}
    assert list(d["gradients"]) == ["z", "x"]
    r = cg(*SEED, "--wrt", "w")
    assert r.status == 2
    assert r.err == "error: --wrt: w is not an input of the program (inputs: x, y, z)\n"


def test_output_picks_another_name(cg):
    d = cg("eval", "p = x + y; g = p * z", "x=1", "y=3", "z=-3", "--output", "p",
           "--format", "json").json()
    assert d["output"] == "p" and d["value"] == 4.0
    assert d["gradients"] == {"x": 1.0, "y": 1.0}
    assert [n["expr"] for n in d["nodes"]] == ["x", "y", "x + y"]
    r = cg("eval", "p = x + y", "x=1", "y=1", "--output", "q")
    assert r.status == 2 and r.err.startswith("error: --output: the program has no name 'q'")


def test_program_from_file_and_stdin(cg, tmp_path):
    f = tmp_path / "prog.cg"
    f.write_text("# the seed\np = x + y\n\ng = p * z   # out\n")
    for args, inp in ((["-f", str(f)], None), (["-f", "-"], f.read_text())):
        d = cg("eval", *args, "x=1", "y=3", "z=-3", "--format", "json", input=inp).json()
        assert d["output"] == "g" and d["value"] == -12.0


def test_bind_file_and_command_line_wins(cg, tmp_path):
    b = tmp_path / "b.json"
    b.write_text('{"x": 1, "y": 3, "z": 100}')
    d = cg("eval", "(x+y)*z", "--bind", str(b), "z=-3", "--format", "json").json()
    assert d["value"] == -12.0
    b.write_text('{"x": "one"}')
    r = cg("eval", "x", "--bind", str(b))
    assert r.status == 2 and r.err.startswith("error: --bind")
    b.write_text('[1, 2]')
    assert cg("eval", "x", "--bind", str(b)).status == 2


def test_program_starting_with_minus_after_double_dash(cg):
    r = cg("eval", "--format", "json", "--", "-x^2", "x=3")
    assert r.status == 0
    assert r.json()["value"] == -9.0 and r.json()["gradients"] == {"x": -6.0}


def test_unused_binding_is_a_warning(cg):
    r = cg("eval", "x*2", "x=1", "y=5")
    assert r.status == 0
    assert r.err == "warning: y is bound but the program never reads it\n"


def test_json_nonfinite_numbers_are_strings(cg):
    r = cg("eval", "log(x) + 1/y", "x=0", "y=0", "--nonfinite", "--format", "json")
    assert r.status == 0
    d = json.loads(r.out, parse_constant=lambda c: pytest.fail("bare %s in JSON" % c))
    assert d["value"] == "nan"  # -inf + inf
    assert d["gradients"] == {"x": "inf", "y": "-inf"}
    r = cg("eval", "exp(x)", "x=1000", "--nonfinite", "--format", "json")
    assert r.json()["value"] == "inf"


def test_numbers_are_shortest_round_trip(cg):
    d = cg("eval", "x/3 + 0.1 + 0.2", "x=1", "--format", "plain", "--summary").out
    value = d.splitlines()[0].split("\t")[1]
    assert float(value) == 1 / 3 + 0.1 + 0.2
    assert value == repr(1 / 3 + 0.1 + 0.2)


def test_version_and_help_have_examples(cg):
    r = cg("--version")
    assert r.status == 0 and __version__ in r.out
    for cmd in [[], ["eval"]]:
        r = cg(*cmd, "--help")
        assert r.status == 0 and "Examples:" in r.out and "cgraph eval" in r.out


def test_every_command_has_help_with_an_example(cg):
    from cgcli.cli import cli
    for name in cli.commands:
        r = cg(name, "--help")
        assert r.status == 0, name
        assert "Examples:" in r.out and ("cgraph %s" % name) in r.out, name


def test_python_dash_m(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT
    r = subprocess.run([sys.executable, "-m", "cgcli", *SEED, "--format", "json"], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["gradients"] == {"x": -3.0, "y": -3.0, "z": 4.0}


def test_colour_only_on_a_terminal_and_never_with_NO_COLOR(cg):
    cyan = "\x1b[36m"
    assert "\x1b[" not in cg(*SEED, "--format", "table").out  # not a terminal
    assert cyan in cg(*SEED, "--format", "table", env={"FORCE_COLOR": "1", "NO_COLOR": None}).out
    assert cyan not in cg(*SEED, "--format", "table", env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).out
