"""One evaluation per row (--data), expressions per line (--lines), bad rows and
streaming (issue 3)."""

import json
import math
import os
import random
import subprocess
import sys

import pytest
from conftest import ROOT, SAMPLES


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


SEED_ROWS = "x,y,z\n1,3,-3\n2,0.5,4\n"


def test_csv_rows_give_csv_records(cg, tmp_path):
    r = cg("eval", "(x+y)*z", "--data", write(tmp_path, "r.csv", SEED_ROWS))
    assert r.status == 0 and r.err == ""
    assert r.out.splitlines() == [
        "x,y,z,value,grad_x,grad_y,grad_z",
        "1,3,-3,-12.0,-3.0,-3.0,4.0",
        "2,0.5,4,10.0,4.0,4.0,2.5",
    ]


def test_records_match_one_scalar_evaluation_per_row(cg, tmp_path):
    """The column path against the scalar path, row by row (an independent route)."""
    from cgcli.core.language import parse_program
    from cgcli.core.passes import evaluate
    src = "sigmoid(w*x + b)^2 + log(1 + exp(-x*w)) - tanh(b)*max(x, w) + abs(x)^1.5"
    rng = random.Random(7)
    rows = [{"x": rng.uniform(-3, 3), "w": rng.uniform(-2, 2), "b": rng.uniform(-1, 1)} for _ in range(300)]
    text = "x,w,b\n" + "".join("%r,%r,%r\n" % (d["x"], d["w"], d["b"]) for d in rows)
    out = cg("eval", src, "--data", write(tmp_path, "r.csv", text), "--format", "jsonl").out.splitlines()
    assert len(out) == len(rows)
    prog = parse_program(src)
    for line, row in zip(out, rows):
        rec = json.loads(line)
        ref = evaluate(prog, row)
        assert (rec["x"], rec["w"], rec["b"]) == (row["x"], row["w"], row["b"])
        assert rec["value"] == pytest.approx(ref.value, rel=1e-13, abs=1e-15)
        for k in ("x", "w", "b"):
            assert rec["grad_" + k] == pytest.approx(ref.gradients[k], rel=1e-12, abs=1e-14)


def test_jsonl_rows_keep_their_own_fields(cg):
    r = cg("eval", "(x+y)*z", "--data", os.path.join(SAMPLES, "rows.jsonl"), "--format", "jsonl")
    recs = [json.loads(line) for line in r.out.splitlines()]
    assert recs[2] == {"x": -1.5, "y": 2, "z": 0.001, "note": "tiny z", "value": 0.0005,
                       "grad_x": 0.001, "grad_y": 0.001, "grad_z": 0.5}
    assert r.err == ""  # the columns are the first object's keys; other keys pass through


def test_format_by_extension_by_first_line_or_by_option(cg, tmp_path):
    jl = write(tmp_path, "rows.txt", '{"x": 2}\n{"x": 3}\n')
    assert cg("eval", "x^2", "--data", jl).out.splitlines() == ["x,value,grad_x", "2,4.0,4.0", "3,9.0,6.0"]
    c = write(tmp_path, "rows.data", "x\n2\n")
    assert cg("eval", "x^2", "--data", c, "--data-format", "csv").out.splitlines()[1] == "2,4.0,4.0"
    assert cg("eval", "x^2", "--data", c, "--data-format", "jsonl").status == 1


def test_rows_from_stdin(cg):
    r = cg("eval", "(x+y)*z", "--data", "-", input=SEED_ROWS)
    assert r.out.splitlines()[1] == "1,3,-3,-12.0,-3.0,-3.0,4.0"


def test_bindings_hold_for_every_row_and_may_not_shadow_a_column(cg, tmp_path):
    f = write(tmp_path, "r.csv", "x,y\n1,3\n2,0.5\n")
    r = cg("eval", "(x+y)*z", "--data", f, "z=2")
    assert r.out.splitlines() == ["x,y,value,grad_x,grad_y,grad_z", "1,3,8.0,2.0,2.0,4.0", "2,0.5,5.0,2.0,2.0,2.5"]
    r = cg("eval", "(x+y)*z", "--data", f, "x=2", "z=1")
    assert r.status == 2 and r.err == "error: x is both bound on the command line and a column of %s\n" % f


def test_wrt_chooses_the_gradient_columns(cg, tmp_path):
    f = write(tmp_path, "r.csv", SEED_ROWS)
    r = cg("eval", "(x+y)*z", "--data", f, "--wrt", "z")
    assert r.out.splitlines() == ["x,y,z,value,grad_z", "1,3,-3,-12.0,4.0", "2,0.5,4,10.0,2.5"]


def test_missing_column(cg, tmp_path):
    r = cg("eval", "(x+y)*z", "--data", write(tmp_path, "r.csv", "x,y\n1,2\n"))
    assert r.status == 1
    assert r.err.endswith("r.csv: no column or binding for input z (columns: x, y)\n")
    assert r.out == ""


def test_non_numeric_cell_stops_after_the_good_rows(cg, tmp_path):
    f = write(tmp_path, "r.csv", "x,y\n1,2\n3,abc\n5,6\n")
    r = cg("eval", "x*y", "--data", f)
    assert r.status == 1
    assert r.out.splitlines() == ["x,y,value,grad_x,grad_y", "1,2,2.0,2.0,1.0"]
    assert r.err == "error: %s line 3, column y: 'abc' is not a number\n" % f


def test_empty_cell_and_short_row(cg, tmp_path):
    r = cg("eval", "x*y", "--data", write(tmp_path, "a.csv", "x,y\n1,\n"))
    assert r.status == 1 and r.err.endswith("a.csv line 2, column y: is empty\n")
    r = cg("eval", "x*y", "--data", write(tmp_path, "b.csv", "x,y\n1,2\n3\n"))
    assert r.status == 1 and r.err.endswith("b.csv line 3: expected 2 cells, found 1\n")


def test_domain_error_row_names_line_node_and_values(cg, tmp_path):
    f = write(tmp_path, "r.csv", "x\n2\n-1\n0\n4\n")
    r = cg("eval", "log(x)", "--data", f)
    assert r.status == 1
    assert r.out.splitlines() == ["x,value,grad_x", "2,%r,0.5" % math.log(2)]
    assert r.err == ("error: %s line 3: log(x) is undefined at x = -1 "
                     "(--nonfinite lets inf and nan through)\n" % f)


def test_skip_bad_rows_reports_each_and_counts(cg, tmp_path):
    f = write(tmp_path, "r.csv", "x\n2\n-1\n\nabc\n0\n4\n")
    r = cg("eval", "log(x)", "--data", f, "--skip-bad-rows")
    assert r.status == 1
    assert [line.split(",")[0] for line in r.out.splitlines()] == ["x", "2", "4"]
    err = r.err.splitlines()
    assert err[0].startswith("error: %s line 3: log(x) is undefined at x = -1" % f) and err[0].endswith("(skipped)")
    assert err[1] == "error: %s line 5, column x: 'abc' is not a number (skipped)" % f
    assert err[2].startswith("error: %s line 6: log(x) is undefined at x = 0" % f)
    assert err[3] == "error: skipped 3 bad rows of 5"


def test_nonfinite_rows_flow_through(cg, tmp_path):
    f = write(tmp_path, "r.csv", "x\n2\n-1\n0\n")
    r = cg("eval", "log(x)", "--data", f, "--nonfinite")
    assert r.status == 0
    assert r.out.splitlines()[2:] == ["-1,nan,-1.0", "0,-inf,inf"]
    r = cg("eval", "log(x)", "--data", f, "--nonfinite", "--format", "jsonl")
    assert [json.loads(s)["value"] for s in r.out.splitlines()] == [math.log(2), "nan", "-inf"]


def test_quoted_cells_crlf_and_blank_lines(cg, tmp_path):
    f = tmp_path / "r.csv"
    f.write_bytes(b'name,x\r\n"a, b",2\r\n\r\n"say ""hi""",3\r\n')
    r = cg("eval", "x^2", "--data", str(f))
    assert r.status == 0, r.err
    assert r.out.splitlines() == ['name,x,value,grad_x', '"a, b",2,4.0,4.0', '"say ""hi""",3,9.0,6.0']


def test_line_numbers_across_chunks(cg, tmp_path):
    n = 70_000
    rows = ["%d" % (i + 1) for i in range(n)]
    rows[65_000] = "-5"  # beyond several chunks
    r = cg("eval", "sqrt(x)", "--data", write(tmp_path, "r.csv", "x\n" + "\n".join(rows) + "\n"))
    assert r.status == 1
    assert r.err.startswith("error: %s line 65002: sqrt(x) is undefined at x = -5" % (tmp_path / "r.csv"))
    out = r.out.splitlines()
    assert len(out) == 65_001 and out[-1].startswith("65000,")


def test_plain_and_table_records(cg, tmp_path):
    f = write(tmp_path, "r.csv", SEED_ROWS)
    assert cg("eval", "(x+y)*z", "--data", f, "--format", "plain").out.splitlines()[1] == "1\t3\t-3\t-12.0\t-3.0\t-3.0\t4.0"
    t = cg("eval", "(x+y)*z", "--data", f, "--format", "table").out
    assert "grad_z" in t and "-12" in t
    r = cg("eval", "(x+y)*z", "--data", f, "--format", "json")
    assert r.status == 2 and "csv, jsonl, plain or table" in r.err


def test_lines_one_record_per_expression(cg):
    r = cg("eval", "-f", os.path.join(SAMPLES, "exprs.txt"), "--lines", "x=1", "y=2", "--format", "jsonl")
    assert r.status == 0, r.err
    recs = [json.loads(s) for s in r.out.splitlines()]
    assert [(d["line"], d["expr"]) for d in recs] == [
        (1, "(x+y)*2"), (2, "x^2 + y^2"), (3, "sin(x)*cos(y)"), (5, "log(x) + exp(-y)"), (6, "max(x, y, 1.5)")]
    assert (recs[0]["value"], recs[0]["grad_x"], recs[0]["grad_y"]) == (6.0, 2.0, 2.0)
    assert recs[2]["grad_y"] == pytest.approx(-math.sin(1) * math.sin(2), rel=1e-15)
    assert recs[4]["grad_x"] == 0.0 and recs[4]["grad_y"] == 1.0


def test_lines_from_stdin_with_a_bad_line(cg):
    text = "x*y\n2x\nlog(x - 5)\nx + 1\n"
    r = cg("eval", "-f", "-", "--lines", "x=1", "y=2", input=text)
    assert r.status == 1
    assert r.out.splitlines() == ["line,expr,value,grad_x,grad_y", "1,x*y,2.0,2.0,1.0"]
    assert r.err.startswith("error: <stdin> line 2: syntax error at column 2: unexpected 'x'")
    r = cg("eval", "-f", "-", "--lines", "x=1", "y=2", "--skip-bad-rows", input=text)
    assert [s.split(",")[0] for s in r.out.splitlines()] == ["line", "1", "4"]
    assert "<stdin> line 3: log(x - 5) is undefined at x - 5 = -4" in r.err
    assert r.err.splitlines()[-1] == "error: skipped 2 bad lines of 4"


def test_lines_needs_a_file(cg):
    r = cg("eval", "x", "--lines")
    assert r.status == 2 and "--lines reads the expressions from -f FILE" in r.err


def _cgraph(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "cgcli", *args], cwd=ROOT, **kw)


def test_closed_pipe_ends_quietly(tmp_path):
    f = write(tmp_path, "r.csv", "x\n" + "\n".join(map(str, range(200_000))) + "\n")
    p = _cgraph("eval", "x^2", "--data", f, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.readline()
    p.stdout.close()  # like `| head -1`
    err = p.stderr.read()
    p.wait(timeout=60)
    assert first == b"x,value,grad_x\n"
    assert err == b""


def test_first_records_arrive_before_the_input_ends():
    """Output is flushed per chunk and the first chunks are small: a reader sees
    records while the writer is still producing rows."""
    p = _cgraph("eval", "x*2", "--data", "-", "--data-format", "csv", stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(b"x\n" + b"".join(b"%d\n" % i for i in range(64)))
    p.stdin.flush()
    assert p.stdout.readline() == b"x,value,grad_x\n"  # would block forever if nothing were flushed
    assert p.stdout.readline() == b"0,0.0,2.0\n"
    p.stdin.close()
    p.wait(timeout=60)


@pytest.mark.slow
def test_memory_does_not_grow_with_the_number_of_rows():
    """Peak memory for 10^6 rows is that of 2*10^5 rows, which already fill the largest chunk."""
    code = ("import resource, subprocess, sys\n"
            "n = int(sys.argv[1])\n"
            "p = subprocess.Popen([sys.executable, '-m', 'cgcli', 'eval', '(x+y)*z', '--data', '-',\n"
            "    '--data-format', 'csv'], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)\n"
            "p.stdin.write(b'x,y,z\\n')\n"
            "block = b''.join(b'%d,2.5,-3\\n' % i for i in range(10000))\n"
            "for _ in range(n // 10000): p.stdin.write(block)\n"
            "p.stdin.close(); assert p.wait() == 0\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    peak = {}
    for n in (200_000, 1_000_000):
        r = subprocess.run([sys.executable, "-c", code, str(n)], cwd=ROOT, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        peak[n] = int(r.stdout)  # KiB
    assert peak[1_000_000] < peak[200_000] + 20 * 1024, peak
