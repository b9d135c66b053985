"""eval --data --jobs N: the same bytes on stdout and stderr as with one job, for any N."""

import json
import shlex
import subprocess
import sys

import pytest

from cgcli.features import parallel

PROGRAM = "t = log(x) * y; out = t + sqrt(z) + tanh(x*z)"


def _csv_rows(n=3000):
    """Rows over several chunks (they start at 64 rows and double), bad ones spread out:
    a non-numeric cell, an empty cell, a domain error, a short row, a negative root."""
    out = ["x,y,z,tag"]
    for i in range(1, n + 1):
        x, y, z = 1 + i % 17, (i % 7) - 3, (i % 11) + 0.5
        if i % 997 == 0:
            out.append("%s,abc,%s,t%d" % (x, z, i))
        elif i % 1201 == 0:
            out.append("%s,,%s,t%d" % (x, z, i))
        elif i % 503 == 0:
            out.append("-1,%s,%s,t%d" % (y, z, i))  # log(-1)
        elif i % 1511 == 0:
            out.append("%s,%s" % (x, y))
        elif i % 2003 == 0:
            out.append("%s,%s,-4,t%d" % (x, y, i))  # sqrt(-4)
        else:
            out.append("%s,%s,%s,t%d" % (x, y, z, i))
    return "\n".join(out) + "\n"


def _jsonl_rows(n=2000):
    out = []
    for i in range(1, n + 1):
        row = {"x": 1 + i % 13, "y": (i % 5) - 2, "z": (i % 9) + 0.25}
        if i % 701 == 0:
            row["x"] = "no"
        elif i % 877 == 0:
            row["x"] = -2
        elif i % 1303 == 0:
            del row["z"]
        out.append(json.dumps(row))
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("jobs")
    (d / "rows.csv").write_text(_csv_rows())
    (d / "rows.jsonl").write_text(_jsonl_rows())
    (d / "good.csv").write_text("x,y,z\n" + "".join("%d,%d,%d\n" % (i + 1, i % 3, i % 5) for i in range(5000)))
    return d


def _same(cg, *args):
    one = cg(*args, "--jobs", "1")
    for n in ("2", "3"):
        many = cg(*args, "--jobs", n)
        assert (many.status, many.out, many.err) == (one.status, one.out, one.err), n
    return one


@pytest.mark.parametrize("name", ["rows.csv", "rows.jsonl"])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("skip", [True, False])
def test_jobs_give_the_bytes_of_one_job(cg, files, name, fmt, skip):
    args = ["eval", PROGRAM, "--data", str(files / name), "--format", fmt]
    one = _same(cg, *args, *(["--skip-bad-rows"] if skip else []))
    assert one.status == 1
    assert one.err.count("error:") >= (4 if skip else 1)
    if skip:
        assert "skipped" in one.err.splitlines()[-1]
        assert len(one.out.splitlines()) > 1000


def test_jobs_on_good_rows_and_gradients_by_wrt(cg, files):
    one = _same(cg, "eval", "sin(x)*y + exp(-z) + 0*w", "--data", str(files / "good.csv"), "--wrt", "x", "--wrt", "w",
                "w=2")
    assert one.status == 0 and len(one.out.splitlines()) == 5001


def test_a_bad_row_late_in_the_file_comes_in_order(cg, tmp_path):
    """A NUL late in the file: the rows before it are written first, with and without --skip-bad-rows."""
    text = "x,y\n" + "".join("%d,%d\n" % (i, i) for i in range(4000)) + "1,\x002\n" + "5,5\n" * 10
    (tmp_path / "nul.csv").write_text(text)
    for skip, lines in (([], 4001), (["--skip-bad-rows"], 4011)):
        one = _same(cg, "eval", "x*y", "--data", str(tmp_path / "nul.csv"), *skip)
        assert one.status == 1 and len(one.out.splitlines()) == lines


def test_a_reading_error_waits_for_the_chunks_in_flight():
    """The reader raising while chunks are on the workers: their results come first, then the error."""
    import numpy as np

    from cgcli.core.errors import CgraphError
    from cgcli.core.language import parse_program
    g, _ = parse_program("x*y").cone()

    def items():
        for k in range(5):
            yield k, {"x": np.arange(10.0) + k, "y": 2.0}, 10
        raise CgraphError("the reader's error")
    got = []
    with pytest.raises(CgraphError, match="the reader's error"):
        for k, (value, _grads, _bad) in parallel.results(g, ["x"], False, items(), 2):
            got.append((k, value.tolist()))
    assert got == [(k, (2 * (np.arange(10.0) + k)).tolist()) for k in range(5)]


def test_auto_starts_no_pool_on_a_small_file(cg, files, monkeypatch):
    def no_pool(*a, **k):
        raise AssertionError("a pool for a small file")
        yield
    monkeypatch.setattr(parallel, "_pooled", no_pool)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    one = cg("eval", PROGRAM, "--data", str(files / "rows.csv"), "--skip-bad-rows", "--jobs", "1")
    for extra in ([], ["--jobs", "0"]):
        auto = cg("eval", PROGRAM, "--data", str(files / "rows.csv"), "--skip-bad-rows", *extra)
        assert (auto.status, auto.out, auto.err) == (one.status, one.out, one.err)


def test_auto_starts_the_pool_past_the_threshold(cg, files, monkeypatch):
    started = []
    pooled = parallel._pooled

    def spy(*a, **k):
        started.append(1)
        yield from pooled(*a, **k)
    monkeypatch.setattr(parallel, "_pooled", spy)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    monkeypatch.setattr(parallel, "AUTO_ROWS", 500)
    monkeypatch.setattr(parallel, "AUTO_NODES", 1)
    one = cg("eval", PROGRAM, "--data", str(files / "rows.csv"), "--skip-bad-rows", "--jobs", "1")
    auto = cg("eval", PROGRAM, "--data", str(files / "rows.csv"), "--skip-bad-rows", "--jobs", "0")
    assert started == [1]
    assert (auto.status, auto.out, auto.err) == (one.status, one.out, one.err)


@pytest.mark.parametrize("args", [["--jobs", "-1"], ["--jobs", "-3"]])
def test_a_negative_job_count_is_a_usage_error(cg, files, args):
    r = cg("eval", "x*y", "--data", str(files / "good.csv"), *args)
    assert r.status == 2 and "--jobs" in r.err and r.out == ""


def test_jobs_goes_with_data(cg):
    r = cg("eval", "x*y", "x=1", "y=2", "--jobs", "2")
    assert r.status == 2 and "--jobs goes with --data" in r.err


def test_the_library_and_a_small_run_stay_import_light(files):
    code = ("import sys; from cgcli.cli import cli\n"
            "import cgcli.features.rows, cgcli.features.parallel\n"
            "heavy = {'multiprocessing', 'concurrent'}\n"
            "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
            "cli.main(['eval', 'x*y', '--data', sys.argv[1]], standalone_mode=False)\n"
            "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n")
    out = subprocess.run([sys.executable, "-c", code, str(files / "good.csv")], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == "[]" and out[-1] == "[]"


def test_a_closed_pipe_and_ctrl_c_leave_no_worker(files, tmp_path):
    """`| head` ends the parent by SIGPIPE; its workers go with it, without a traceback."""
    big = tmp_path / "big.csv"
    big.write_text("x,y\n" + "".join("%d,%d\n" % (i, i) for i in range(200_000)))
    cmd = [sys.executable, "-m", "cgcli", "eval", "sin(x)*y", "--data", str(big), "--jobs", "2"]
    r = subprocess.run(shlex.join(cmd) + " | head -3; echo ${PIPESTATUS[0]}", shell=True, executable="/bin/bash",
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.splitlines()[0] == "x,y,value,grad_x,grad_y" and r.stdout.split()[-1] == "141"
    assert r.stderr == ""
    import signal
    import time
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    p.stdout.readline()
    time.sleep(0.3)
    import os
    os.killpg(p.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    out, err = p.communicate(timeout=60)
    assert p.returncode in (0, 130), err
    assert b"Traceback" not in err
    if p.returncode == 130:
        assert err.decode().strip() in ("error: aborted", "error: interrupted")  # as with one job
    left = subprocess.run(["pgrep", "-s", str(p.pid)], capture_output=True, text=True).stdout.split()
    assert left == []


def test_jobs_with_hessian_columns_give_the_bytes_of_one_job(cg, files):
    """--hessian: the first-order passes go to the workers, the second derivatives stay in the parent."""
    one = _same(cg, "eval", "x^2*y + log(x)", "--data", str(files / "good.csv"), "--hessian", "--skip-bad-rows")
    lines = one.out.splitlines()
    assert lines[0] == "x,y,z,value,grad_x,grad_y,hess_x_x,hess_x_y,hess_y_y"  # z is not read: passed through
    x, y = 1.0, 0.0  # the first row: hess_x_x = 2y - 1/x^2, hess_x_y = 2x, hess_y_y = 0
    assert lines[1].split(",")[-3:] == ["%r" % (2 * y - 1 / x ** 2), "%r" % (2 * x), "0.0"]
    assert len(lines) == 5001


def test_auto_starts_no_pool_for_a_small_program(cg, files, monkeypatch):
    """Past the row threshold but below AUTO_NODES nodes, the workers would not help: none start."""
    def no_pool(*a, **k):
        raise AssertionError("a pool was started")
    monkeypatch.setattr(parallel, "_pooled", no_pool)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    monkeypatch.setattr(parallel, "AUTO_ROWS", 500)
    r = cg("eval", "(x+y)*z", "--data", str(files / "good.csv"))
    assert r.status == 0 and len(r.out.splitlines()) == 5001
