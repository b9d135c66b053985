"""The fuzz harness: generated programs, token soups, bindings, option values at their
edges and odd data files, run through the command line in-process.

The property is the contract, not a particular answer:
- the exit status is 0, 1 or 2; any other status is a bug (130 only for Ctrl-C);
- a failure says so in an `error:` line on stderr, and no Python traceback ever shows;
- no input row is lost: records written + bad rows reported = rows in the file;
- where the problem is well conditioned, the columns path (`--data`) gives each row what
  the scalar path (`NAME=VALUE`) gives it.

CI runs a fixed seed (the `ci` profile, derandomized). Before a release run longer:

    HYPOTHESIS_PROFILE=release .venv/bin/python -m pytest tests/test_fuzz.py

The counts of what the harness ran are kept in COUNTS and printed by `-s`.
"""

import json
import math
import os

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cgcli.cli import cli

settings.register_profile("ci", max_examples=100, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("release", max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

COUNTS = {"programs": 0, "soups": 0, "files": 0, "options": 0}


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    """After the module: how much the harness ran (shown with `pytest -s`)."""
    yield
    print("\nfuzz harness ran: %s" % COUNTS)

NAMES = ["x", "y", "z", "w", "h", "_a1"]
UNARY = ["exp", "log", "log2", "log10", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan",
         "sinh", "cosh", "tanh", "sigmoid", "relu", "softplus", "abs", "step", "sign"]
VARIADIC = ["min", "max"]


def invoke(*args, input=None):
    """Run `cgraph ARGS` in-process; assert the contract every run must keep; return the result."""
    r = CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=True)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError("a traceback reached the user: %r for %r" % (r.exception, args)) from r.exception
    assert r.exit_code in (0, 1, 2), (r.exit_code, args, r.stderr[-500:])
    assert "Traceback" not in r.stderr, (args, r.stderr[-2000:])
    if r.exit_code:
        assert any(line.startswith("error:") for line in r.stderr.splitlines()), (args, r.stderr[-500:])
    return r


# ---- programs from the grammar ------------------------------------------------

numbers = st.one_of(
    st.integers(0, 10**6).map(str),
    st.floats(0, 1e6, allow_nan=False).map(lambda f: repr(f)),
    st.sampled_from(["0", ".5", "2.5", "1e-3", "6.02E+23", "1e308", "1e-320", "0.0", "3."]),
)
atoms = st.one_of(numbers, st.sampled_from(NAMES), st.sampled_from(["pi", "e"]))


def _compound(children):
    binop = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "^", "**"]), children).map(
        lambda t: "%s %s %s" % t)
    unop = st.tuples(st.sampled_from(["-", "+"]), children).map(lambda t: t[0] + t[1])
    call1 = st.tuples(st.sampled_from(UNARY), children).map(lambda t: "%s(%s)" % t)
    calln = st.tuples(st.sampled_from(VARIADIC), st.lists(children, min_size=1, max_size=4)).map(
        lambda t: "%s(%s)" % (t[0], ", ".join(t[1])))
    powc = st.tuples(children, children).map(lambda t: "pow(%s, %s)" % t)
    paren = children.map(lambda c: "(%s)" % c)
    return st.one_of(binop, unop, call1, calln, powc, paren)


exprs = st.recursive(atoms, _compound, max_leaves=12)


@st.composite
def programs(draw):
    n = draw(st.integers(0, 3))
    stmts = ["%s = %s" % (draw(st.sampled_from(NAMES)), draw(exprs)) for _ in range(n)]
    stmts.append(draw(exprs))
    sep = draw(st.sampled_from(["; ", "\n", " # c\n", "\n\n"]))
    return sep.join(stmts)


values = st.one_of(
    st.floats(-10, 10, allow_nan=False).map(repr),
    st.sampled_from(["0", "-0", "1", "-1", "inf", "-inf", "nan", "1e308", "-1e308", "1e-320",
                     "1" + "0" * 400, "1_000", "١٢", "", "x", "1e", "0x10", " 2 ", "1" * 500 + "a"]),
)


@given(programs(), st.lists(st.tuples(st.sampled_from(NAMES + ["pi", "9x", "é"]), values), max_size=6),
       st.sampled_from(["plain", "json", "table", "tree"]), st.booleans())
def test_programs_keep_the_contract(prog, binds, fmt, nonfinite):
    COUNTS["programs"] += 1
    args = ["eval", "--format", fmt, "--", prog] + ["%s=%s" % b for b in binds]
    if nonfinite:
        args.insert(1, "--nonfinite")
    r = invoke(*args)
    if r.exit_code == 0 and fmt == "json":
        json.loads(r.stdout, parse_constant=lambda c: pytest.fail("JSON has %s" % c))


TOKENS = ["x", "y", "1", "2.5", "e", "pi", "(", ")", "+", "-", "*", "/", "^", "**", ",", "=", ";", "\n",
          "#", "exp", "log(", "min(", "  ", "\t", "1e", "..", "$", "[/]", "\x1b[31m", "\x00", "١", "é",
          "2x", "ln", "__", "1_0", "\r", "[link=http://a]", "\u202e", "'", '"', "\\"]


@given(st.lists(st.sampled_from(TOKENS), min_size=0, max_size=25).map("".join),
       st.sampled_from(["eval", "graph", "explain", "check", "diff"]))
def test_token_soups_keep_the_contract(soup, command):
    COUNTS["soups"] += 1
    args = [command, "--", soup, "x=1", "y=2"] if command != "diff" else [command, "--wrt", "x", "--", soup]
    r = invoke(*args)
    # nothing from the program text reaches the terminal raw
    assert "\x1b" not in r.stderr and "\x1b" not in r.stdout


# ---- options at their edges ---------------------------------------------------

EDGES = ["0", "-1", "1", "nan", "inf", "-inf", "1e-17", "1e308", "-0", "", "abc", "1" + "0" * 30]


@given(st.sampled_from([
    ("minimize", "(x-2)^2", "x=0", "--lr"), ("minimize", "(x-2)^2", "x=0", "--steps"),
    ("minimize", "(x-2)^2", "x=0", "--tol"), ("minimize", "(x-2)^2", "x=0", "--momentum"),
    ("check", "sin(x)", "x=1", "--eps"), ("check", "sin(x)", "x=1", "--rtol"),
    ("check", "sin(x)", "x=1", "--atol"), ("eval", "sin(x)", "x=1", "--precision"),
    ("diff", "sin(x)", None, "--order"), ("eval", "sin(x)", "x=1", "--wrt"), ("minimize", "(x-2)^2", "x=0", "--steps"),
    ("eval", "sin(x)", "x=1", "--output"),
]), st.sampled_from(EDGES))
def test_option_edges_keep_the_contract(case, value):
    COUNTS["options"] += 1
    command, expr, binding, option = case
    assume(not (option == "--steps" and len(value) > 20))  # 10^30 steps is a request to run for ever
    args = [command, expr] + ([binding] if binding else []) + [option, value]
    if command == "eval" and option == "--precision":
        args += ["--format", "table"]
    invoke(*args)


@pytest.mark.parametrize("option, value", [
    (o, v) for o in ["--lr", "--momentum", "--epochs", "--batch-size", "--seed", "--init-seed", "--tol"] for v in EDGES
    if not (o == "--epochs" and len(v) > 20)])  # 10^30 epochs is a request to run for ever, not bad input
def test_train_option_edges_keep_the_contract(tmp_path, option, value):
    data = tmp_path / "d.csv"
    data.write_text("x,y\n1,2\n2,4\n3,6\n")
    args = ["train", "(w*x - y)^2", "--data", str(data), "--params", "w", "w=0", "--epochs", "2", option, value]
    invoke(*args)


# ---- data files ---------------------------------------------------------------

CELLS = st.one_of(
    st.floats(-100, 100, allow_nan=False).map(repr),
    st.sampled_from(["", " ", "1_000", "١٢", "nan", "inf", "-inf", "1e999", "0", "abc", "[/]", "[link=u]x",
                     "\x1b[2J", '"1,5"', '"a\nb"', "1" + "0" * 400, "\ufeff1"]),
)


@st.composite
def csv_files(draw):
    ncols = draw(st.integers(1, 4))
    header = draw(st.lists(st.sampled_from(["x", "y", "z", "value", "grad_x", "[/]", "x y", ""]),
                           min_size=ncols, max_size=ncols))
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        width = draw(st.sampled_from([ncols, ncols, ncols, ncols - 1, ncols + 1]))
        rows.append(",".join(draw(CELLS) for _ in range(max(width, 0))))
    text = "\n".join([",".join(header)] + rows) + draw(st.sampled_from(["\n", "", "\r\n"]))
    raw = text.encode("utf-8")
    if draw(st.booleans()):
        raw = b"\xef\xbb\xbf" + raw
    if draw(st.integers(0, 9)) == 0:
        k = draw(st.integers(0, len(raw)))
        raw = raw[:k] + b"\xff" + raw[k:]
    # an empty or all-blank line is not a row (docs/data.md), in CSV as in JSON Lines
    return raw, sum(1 for row in rows if row.strip(" \t"))


@st.composite
def jsonl_files(draw):
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.integers(0, 9))
        if kind < 6:
            obj = {k: draw(st.one_of(st.floats(-100, 100, allow_nan=False), st.integers(-10**400, 10**400),
                                     st.sampled_from([None, "1", "x", True, [1], {"a": 1}])))
                   for k in draw(st.lists(st.sampled_from(["x", "y", "z", "value", "[/]"]), max_size=3))}
            lines.append(json.dumps(obj))
        elif kind == 6:
            lines.append("[1, 2]")
        elif kind == 7:
            lines.append('{"x": ' + "[" * 3000 + "]" * 3000 + "}")
        elif kind == 8:
            lines.append('{"x": 1')
        else:
            lines.append('{"x": NaN, "y": Infinity}')
    return ("\n".join(lines) + "\n").encode("utf-8"), len(lines)


def _count_rows(r):
    records = [line for line in r.stdout.splitlines() if line.strip()]
    skipped = [line for line in r.stderr.splitlines() if line.endswith("(skipped)")]
    return records, skipped


def _went_on(r):
    """True when the run did not stop early: every error line is a skipped row or the count of them."""
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    return all(e.endswith("(skipped)") or e.startswith("error: skipped ") for e in errors)


@given(st.one_of(csv_files().map(lambda f: ("csv",) + f), jsonl_files().map(lambda f: ("jsonl",) + f)),
       st.sampled_from(["x + y", "log(x) * y", "x", "x / y", "sqrt(x - y)", "relu(x) + 1/z"]),
       st.sampled_from(["csv", "jsonl", "plain", "table"]), st.booleans(), st.booleans())
def test_data_files_lose_no_row(tmp_path_factory, file, expr, fmt, skip, nonfinite):
    COUNTS["files"] += 1
    kind, raw, nrows = file
    path = tmp_path_factory.mktemp("d") / ("d." + kind)
    path.write_bytes(raw)
    args = ["eval", expr, "--data", str(path), "--format", fmt, "z=2"]
    if skip:
        args.append("--skip-bad-rows")
    if nonfinite:
        args.append("--nonfinite")
    invoke(*args)  # every format keeps the contract
    # JSON Lines out: every input row is a record or a reported bad row
    r = invoke(*(args[:5] + ["jsonl"] + args[6:] + ([] if skip else ["--skip-bad-rows"])))
    if r.exit_code == 2 or not _went_on(r):
        return
    records, skipped = _count_rows(r)
    assert len(records) + len(skipped) == nrows, (raw, r.stdout, r.stderr)
    for line in records:
        json.loads(line, parse_constant=lambda c: pytest.fail("JSON has %s" % c))


@given(st.lists(st.tuples(st.floats(0.1, 10), st.floats(-3, 3)), min_size=1, max_size=20),
       st.sampled_from(["x*y + sin(x)", "log(x) * exp(y)", "sqrt(x) / (1 + y^2)", "tanh(x*y) - max(x, y)",
                        "x^y + relu(y)", "sigmoid(x - y) * softplus(y)"]))
def test_columns_path_agrees_with_the_scalar_path(tmp_path_factory, rows, expr):
    path = tmp_path_factory.mktemp("d") / "d.csv"
    path.write_text("x,y\n" + "".join("%r,%r\n" % r for r in rows))
    r = invoke("eval", expr, "--data", str(path), "--format", "jsonl")
    assert r.exit_code == 0, r.stderr
    batch = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(batch) == len(rows)
    for (x, y), rec in zip(rows, batch):
        one = json.loads(invoke("eval", expr, "x=%r" % x, "y=%r" % y, "--format", "json").stdout)
        # numpy's and libm's functions may differ in the last ulp; a result that cancels
        # (1 - tanh(12)^2 = 1e-9) magnifies that, so the bound is absolute as well as relative
        assert math.isclose(rec["value"], one["value"], rel_tol=1e-12, abs_tol=1e-13)
        for name in ("x", "y"):
            assert math.isclose(rec["grad_" + name], one["gradients"][name], rel_tol=1e-12, abs_tol=1e-13)


@given(st.lists(st.one_of(programs(), st.sampled_from(["", "# only a comment", "x +", "2x", "[/]", "\x1b[1m"])),
                max_size=8))
def test_lines_files_lose_no_line(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("l") / "e.txt"
    path.write_text("\n".join(line.replace("\n", " ; ") for line in lines) + "\n")
    r = invoke("eval", "-f", str(path), "--lines", "x=1", "y=2", "z=3", "w=4", "h=5", "_a1=6",
               "--format", "jsonl", "--skip-bad-rows")
    assume(r.exit_code != 2 and _went_on(r))
    records, skipped = _count_rows(r)
    nonempty = [line for line in lines if line.replace("\n", " ; ").strip()]
    assert len(records) + len(skipped) == len(nonempty), (lines, r.stdout, r.stderr)
