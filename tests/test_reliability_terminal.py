"""Bad input meets the terminal: literal text (no Rich markup, control characters
escaped), linear-time hints, messages that help, what bare `cgraph` shows, a full
standard output."""

import os
import subprocess
import sys
import time

import pytest
from conftest import ROOT

from cgcli.core.errors import printable, unbound_inputs
from cgcli.core.language import parse_program


def _csv(tmp_path, text, name="d.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


# ---- 1. the terminal is safe ------------------------------------------------------

@pytest.mark.parametrize("cell", ["[/]", "[link=http://evil.example]hi[/link]", "[bold]x", ":smile:"])
def test_markup_in_a_data_cell_is_shown_literally(cg, tmp_path, cell):
    path = _csv(tmp_path, "x,note\n1,%s\n" % cell)
    r = cg("eval", "x", "--data", path, "--format", "table", env={"COLUMNS": "200"})
    assert r.status == 0
    assert cell in r.out
    assert "\x1b]8" not in r.out  # no OSC 8 hyperlink


def test_markup_in_a_column_name_is_shown_literally(cg, tmp_path):
    path = _csv(tmp_path, "x,[/]\n1,2\n")
    r = cg("eval", "x", "--data", path, "--format", "table")
    assert r.status == 0
    assert "[/]" in r.out.splitlines()[0]
    assert r.err == "warning: column [/] of %s is not read by the program (passed through)\n" % path


def test_markup_in_a_lines_comment_is_shown_literally(cg, tmp_path):
    p = tmp_path / "e.txt"
    p.write_text("x + 1 # [/] done\n", encoding="utf-8")
    r = cg("eval", "-f", str(p), "--lines", "x=1", "--format", "table", env={"COLUMNS": "200"})
    assert r.status == 0
    assert "x + 1 # [/] done" in r.out


def test_control_characters_are_escaped_in_table_and_plain_but_kept_in_csv(cg, tmp_path):
    path = _csv(tmp_path, "x,note\n1,a\x1b[31mred\u202e\n")
    table = cg("eval", "x", "--data", path, "--format", "table", env={"COLUMNS": "200"})
    plain = cg("eval", "x", "--data", path, "--format", "plain")
    csv = cg("eval", "x", "--data", path, "--format", "csv")
    for r in (table, plain):
        assert "\x1b" not in r.out and "\u202e" not in r.out
        assert "a\\x1b[31mred\\u202e" in r.out
    assert "a\x1b[31mred\u202e" in csv.out


def test_an_error_message_escapes_control_characters(cg):
    r = cg("eval", "x+1 \x1b[31m")
    assert r.status == 2
    assert r.err == ("error: syntax error at column 5: unexpected character '\\x1b'\n"
                     "  x+1 \\x1b[31m\n"
                     "      ^\n")


def test_a_warning_escapes_control_characters(cg, tmp_path):
    path = _csv(tmp_path, "x,a\x1bb\n1,2\n")
    r = cg("eval", "x", "--data", path, "--format", "csv")
    assert r.status == 0
    assert r.err == "warning: column a\\x1bb of %s is not read by the program (passed through)\n" % path


def test_printable():
    assert printable("a\x00b\tc\u2066") == "a\\x00b\\tc\\u2066"
    assert printable("line\nnext", keep_newlines=True) == "line\nnext"
    assert printable("plain text ∂") == "plain text ∂"


def test_a_syntax_error_in_a_huge_line_quotes_a_window(cg):
    text = "a + " * 50000 + "* b" + " + c" * 50000
    r = cg("eval", text)
    assert r.status == 2
    lines = r.err.splitlines()
    assert lines[0] == "error: syntax error at column 200001: unexpected '*' (expected '(', '+', '-', a name or a number)"
    assert lines[1].startswith("  ...") and lines[1].endswith("...")
    assert len(lines[1]) == 2 + 3 + 80 + 3
    assert lines[2].index("^") == lines[1].index("* b")


# ---- 2. linear-time hints ------------------------------------------------------------

@pytest.mark.parametrize("text, hint", [
    ("1" * 100000 + " + 1 x", "write 1*x"),
    ("a" * 100000 + " b", "write ...aaaaaaaaaaaaaaaaaaaaa*b"),
    ("x + " + "1" * 100000 + "y", "write ...111111111111111111111*y"),
    ("sin" + " " * 100000 + "x", "a call needs parentheses: write sin(x)"),
])
def test_the_implicit_multiplication_hint_is_linear(text, hint):
    t = time.perf_counter()
    with pytest.raises(Exception) as e:
        parse_program(text)
    assert time.perf_counter() - t < 1.0
    assert hint in e.value.message.splitlines()[0]


@pytest.mark.parametrize("text, hint", [
    ("2x", "write 2*x"), ("x y", "write x*y"), ("(a)(b)", "write )*("), ("1e+5 x", "write 1e+5*x"),
    ("x+1 y", "write 1*y"), ("sin x", "write sin(x)"),
])
def test_the_implicit_multiplication_hint(cg, text, hint):
    r = cg("eval", text)
    assert r.status == 2
    assert "(no implicit multiplication: %s)" % hint in r.err or "(a call needs parentheses: %s)" % hint in r.err


# ---- 3. messages that help ------------------------------------------------------------

@pytest.mark.parametrize("call, hint", [("ln(x)", "did you mean log?"), ("arctan(x)", "did you mean atan?"),
                                        ("arcsin(x)", "did you mean asin?"),
                                        ("sqr(x)", "write x^2 (sqrt is the square root)")])
def test_an_alias_of_a_function_is_suggested(cg, call, hint):
    r = cg("eval", call, "x=1")
    assert r.status == 2
    assert r.err.splitlines()[0] == "error: unknown function %r at column 1 (%s)" % (call.split("(")[0], hint)


@pytest.mark.parametrize("text, col", [("é = 1", 1), ("xé", 2)])
def test_a_non_ascii_name_is_told_what_names_are(cg, text, col):
    r = cg("eval", text)
    assert r.status == 2
    assert r.err.splitlines()[0] == ("error: syntax error at column %d: unexpected character 'é' "
                                     "(names are ASCII letters, digits and _)" % col)


def test_a_program_taken_for_an_option_gets_the_command_line_with_dashes(cg):
    r = cg("eval", "-x+1", "x=1", "--format", "json")
    assert r.status == 2
    assert r.err.replace("cli ", "cgraph ") == (
        "error: No such option '-x'. (try 'cgraph eval --help'); a program that starts with '-' "
        "goes after --: cgraph eval --format json -- -x+1 x=1\n")
    assert cg("eval", "--format", "json", "--", "-x+1", "x=1").status == 0


def test_a_long_list_of_unbound_names_is_shortened(cg):
    names = ["a%d" % i for i in range(1, 301)]
    assert unbound_inputs(names).message == (
        "unbound inputs: a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, ... and 290 more (bind each as NAME=VALUE)")
    r = cg("eval", "+".join(names))
    assert r.status == 1
    assert r.err == ("error: unbound inputs: a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, ... and 290 more "
                     "(bind each as NAME=VALUE)\n")


# ---- 4. what a person sees ------------------------------------------------------------

def test_bare_cgraph_prints_a_short_usage_on_stdout(cg):
    r = cg()
    assert r.status == 2
    assert r.err == ""
    lines = r.out.splitlines()
    assert lines[0] == "usage: cgraph [--color auto|always|never] [-q] COMMAND [ARGS]..."
    assert "commands:" in lines
    assert any(line.startswith("  eval ") for line in lines)


def test_numbers_in_a_narrow_table_are_never_cut(cg):
    path = os.path.join(ROOT, "samples", "neuron.cg")
    r = cg("eval", "-f", path, "--bind", os.path.join(ROOT, "samples", "neuron.json"), "--format", "table",
           env={"COLUMNS": "60"})
    assert r.status == 0
    assert "…" not in r.out
    full = cg("eval", "-f", path, "--bind", os.path.join(ROOT, "samples", "neuron.json"), "--format", "table",
              env={"COLUMNS": "300"})
    # every number in the wide table is in the narrow one too, whole
    nums = {w for line in full.out.splitlines() for w in line.split() if w[:1].isdigit() or w[:1] == "-"}
    narrow = set(r.out.split())
    assert {n.rstrip(",") for n in nums} <= {n.rstrip(",") for n in narrow}
    for line in r.out.splitlines():
        assert len(line) <= 60


def test_the_caption_breaks_between_terms():
    from cgcli.present.common import wrap_terms
    terms = [("", "loss = 0.25")] + [(" ", "∂loss/∂w%d = -0.287682," % i) for i in range(5)]
    for line in wrap_terms(terms, 40):
        assert not line.endswith("=") and not line.startswith("=")
        assert line.count("=") == line.count(" = ")


def test_color_always_and_never(cg):
    always = cg("--color", "always", "eval", "x", "x=1", "--format", "table")
    never = cg("--color", "never", "eval", "x", "x=1", "--format", "table", env={"FORCE_COLOR": "1"})
    auto = cg("eval", "x", "x=1", "--format", "table")
    assert "\x1b[" in always.out
    assert "\x1b[" not in never.out and "\x1b[" not in auto.out
    assert cg("--color", "sometimes", "eval", "x").status == 2


def test_quiet_and_warnings_once(cg, tmp_path):
    r = cg("eval", "x", "x=1", "y=2")
    assert r.err == "warning: y is bound but the program never reads it\n"
    q = cg("-q", "eval", "x", "x=1", "y=2")
    assert q.status == 0 and q.err == ""


def test_explain_format_table_and_its_old_name(cg):
    table = cg("explain", "x*2", "x=1", "--format", "table")
    pretty = cg("explain", "x*2", "x=1", "--format", "pretty")
    assert table.status == pretty.status == 0
    assert table.out == pretty.out


def test_shell_completion_with_the_entry_point_name():
    exe = os.path.join(os.path.dirname(sys.executable), "cgraph")
    if not os.path.exists(exe):
        pytest.skip("no cgraph entry point")
    env = dict(os.environ, _CGRAPH_COMPLETE="bash_complete", COMP_WORDS="cgraph ex", COMP_CWORD="1")
    r = subprocess.run([exe], env=env, capture_output=True, text=True)
    assert r.returncode == 0
    assert "explain" in r.stdout


# ---- 5. a full disk -----------------------------------------------------------------

@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("args", [["eval", "x", "x=1"], ["eval", "x", "x=1", "--format", "json"],
                                  ["explain", "x", "x=1"], ["graph", "x"]])
def test_a_full_standard_output_is_one_error_line(args):
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "cgcli"] + args, stdout=full, stderr=subprocess.PIPE,
                           text=True, cwd=ROOT)
    assert r.returncode == 1
    assert r.stderr == "error: cannot write to standard output: No space left on device\n"
