"""eval --engine dask: the same doubles as the local `eval --data`, on a two-worker cluster."""

import csv
import io
import os

import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

NONLINEAR = "t = exp(x/3) * sin(y); out = t + log(z) * x + tanh(x*z)"


@pytest.fixture(scope="module")
def scheduler():
    # threads (processes=False): starts in well under a second and is reliable in the test run
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address="localhost:0", scheduler_kwargs={"dashboard": False}) as lc:
        yield lc.scheduler_address


def _rows(n, start=0):
    return [{"x": ((i * 37) % 101) / 7 - 5, "y": ((i * 13) % 29) / 3 - 4, "z": 0.1 + ((i * 7) % 43) / 9,
             "k": i} for i in range(start, start + n)]


def _write(tmp_path, kind, sizes, bad=()):
    """Files part0..partN (one partition each) and all.csv, the same rows, for the local run."""
    rows = _rows(sum(sizes))
    for i in bad:
        rows[i]["z"] = -1.0  # log(-1)
    frames, at = [], 0
    for n, size in enumerate(sizes):
        frame = pd.DataFrame(rows[at:at + size])
        at += size
        frames.append(frame)
        if kind == "csv":
            frame.to_csv(tmp_path / ("part%d.csv" % n), index=False, float_format="%.17g")
        else:
            frame.to_parquet(tmp_path / ("part%d.parquet" % n), index=False)
    pd.concat(frames).to_csv(tmp_path / "all.csv", index=False, float_format="%.17g")
    return str(tmp_path / ("part*." + kind))


def _local(cg, program, path, *extra):
    r = cg("eval", program, "--data", path, *extra)
    return r, list(csv.DictReader(io.StringIO(r.out)))


@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize("program", ["(x+y)*z", NONLINEAR])
def test_same_doubles_as_the_local_run(cg, scheduler, tmp_path, kind, program):
    glob = _write(tmp_path, kind, [300, 1, 250, 449])
    out = tmp_path / "out"
    r = cg("eval", program, "--data", glob, "--engine", "dask", "--scheduler", scheduler, "-o", str(out))
    assert r.status == 0, r.err
    assert r.err == ""
    got = pd.read_parquet(out)
    assert sorted(os.listdir(out)) == ["part.%05d.parquet" % i for i in range(4)]
    _, want = _local(cg, program, str(tmp_path / "all.csv"))
    assert list(got.columns) == list(want[0])
    assert len(got) == len(want) == 1000
    assert got["k"].tolist() == list(range(1000))  # input order
    for name in ["x", "y", "z", "value", "grad_x", "grad_y", "grad_z"]:
        assert got[name].tolist() == [float(w[name]) for w in want], name


def test_hessian_and_bindings(cg, scheduler, tmp_path):
    glob = _write(tmp_path, "parquet", [20, 30])
    program = "x^2*y*z + c*x"
    out = tmp_path / "out"
    r = cg("eval", program, "c=2.5", "--data", glob, "--engine", "dask", "--scheduler", scheduler, "-o", str(out),
           "--hessian", "--wrt", "x,y")
    assert r.status == 0, r.err
    got = pd.read_parquet(out)
    _, want = _local(cg, program, str(tmp_path / "all.csv"), "c=2.5", "--hessian", "--wrt", "x,y")
    assert list(got.columns) == list(want[0])
    for name in want[0]:
        assert got[name].tolist() == [float(w[name]) for w in want], name


def test_bad_rows_fail_naming_the_row_and_partition(cg, scheduler, tmp_path):
    glob = _write(tmp_path, "csv", [10, 10, 10], bad=[14, 25])
    out = tmp_path / "out"
    r = cg("eval", "log(z)*x", "--data", glob, "--engine", "dask", "--scheduler", scheduler, "-o", str(out))
    assert r.status == 1
    assert r.err.strip() == ("error: %s row 15 (partition 1, its row 5): log(z) is undefined at z = -1 "
                             "(--nonfinite lets inf and nan through)" % glob)
    assert not out.exists() or os.listdir(out) == []  # no partial result is left


def test_skip_bad_rows_drops_and_reports_them(cg, scheduler, tmp_path):
    glob = _write(tmp_path, "parquet", [10, 10, 10], bad=[3, 14, 25])
    out = tmp_path / "out"
    r = cg("eval", "log(z)*x", "--data", glob, "--engine", "dask", "--scheduler", scheduler, "-o", str(out),
           "--skip-bad-rows")
    assert r.status == 1
    lines = r.err.splitlines()
    assert [ln.split(":")[1].strip() for ln in lines[:3]] == [
        "%s row 4 (partition 0, its row 4)" % glob, "%s row 15 (partition 1, its row 5)" % glob,
        "%s row 26 (partition 2, its row 6)" % glob]
    assert all(ln.endswith("(skipped)") for ln in lines[:3])
    assert lines[3:] == ["error: skipped 3 bad rows of 30"]
    got = pd.read_parquet(out)
    assert got["k"].tolist() == [k for k in range(30) if k not in (3, 14, 25)]


def test_usage_errors(cg, scheduler, tmp_path):
    glob = _write(tmp_path, "csv", [5])
    r = cg("eval", "(x+y)*z", "--data", glob, "--engine", "dask", "--scheduler", scheduler)
    assert r.status == 2 and "-o OUTDIR" in r.err
    assert cg("eval", "(x+y)*z", "--data", glob, "-o", str(tmp_path / "o")).status == 2
    assert cg("eval", "(x+y)*z", "--data", glob, "--scheduler", scheduler).status == 2
    assert cg("eval", "(x+y)*z", "--engine", "dask", "-o", str(tmp_path / "o")).status == 2
    r = cg("eval", "(x+y)*q", "--data", glob, "--engine", "dask", "--scheduler", scheduler, "-o", str(tmp_path / "o"))
    assert r.status == 1 and "no column for input q" in r.err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("")
    r = cg("eval", "(x+y)*z", "--data", glob, "--engine", "dask", "-o", str(tmp_path / "full"))
    assert r.status == 2 and "not empty" in r.err


def test_without_dask_it_says_what_to_install(cg, tmp_path, monkeypatch):
    import builtins
    real = builtins.__import__

    def no_dask(name, *args, **kw):
        if name.split(".")[0] in ("dask", "distributed"):
            raise ImportError(name)
        return real(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    r = cg("eval", "(x+y)*z", "--data", "a.csv", "--engine", "dask", "-o", str(tmp_path / "o"))
    assert r.status == 2
    assert 'pip install "cgraph[dask]"' in r.err


@pytest.mark.slow
def test_a_local_cluster_is_started_and_shut_down(cg, tmp_path):
    glob = _write(tmp_path, "parquet", [40, 60])
    out = tmp_path / "out"
    r = cg("eval", "(x+y)*z", "--data", glob, "--engine", "dask", "-o", str(out))
    assert r.status == 0, r.err
    assert r.err == ""
    assert len(pd.read_parquet(out)) == 100
