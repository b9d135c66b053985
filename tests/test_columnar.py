"""eval --data with Parquet and Arrow IPC rows, and -o FILE (features/columnar.py)."""

import os

import pytest

pl = pytest.importorskip("polars")

ROWS = {"id": [1, 2, 3], "name": ["a", "b", "c"], "x": [1.0, 2.0, 0.5], "y": [3, 4, 5], "z": [-3.0, 2.0, 1.0]}
# (x+y)*z and its gradients, by hand
VALUE = [-12.0, 12.0, 5.5]
GRAD_X = [-3.0, 2.0, 1.0]
GRAD_Z = [4.0, 6.0, 5.5]


def frame():
    return pl.DataFrame(ROWS)


def csv_text():
    return "id,name,x,y,z\n1,a,1.0,3,-3.0\n2,b,2.0,4,2.0\n3,c,0.5,5,1.0\n"


@pytest.mark.parametrize("ext, write", [("parquet", "write_parquet"), ("arrow", "write_ipc"),
                                        ("feather", "write_ipc"), ("ipc", "write_ipc")])
def test_binary_input_gives_the_hand_values_and_the_csv_records(cg, tmp_path, ext, write):
    src = tmp_path / ("d." + ext)
    getattr(frame(), write)(src)
    (tmp_path / "d.csv").write_text(csv_text())
    r = cg("eval", "(x+y)*z", "--data", str(src), "--format", "csv")
    assert r.status == 0, r.err
    assert r.out == cg("eval", "(x+y)*z", "--data", str(tmp_path / "d.csv"), "--format", "csv").out
    assert r.out.splitlines()[1] == "1,a,1.0,3,-3.0,-12.0,-3.0,-3.0,4.0"


@pytest.mark.parametrize("out, read", [("out.parquet", "read_parquet"), ("out.arrow", "read_ipc"),
                                       ("out.feather", "read_ipc")])
def test_binary_output_is_typed_and_exact(cg, tmp_path, out, read):
    src = tmp_path / "d.parquet"
    frame().write_parquet(src)
    dest = tmp_path / out
    r = cg("eval", "(x+y)*z", "--data", str(src), "-o", str(dest))
    assert r.status == 0, r.err
    assert r.out == ""
    df = getattr(pl, read)(dest)
    assert df.columns == ["id", "name", "x", "y", "z", "value", "grad_x", "grad_y", "grad_z"]
    assert df["id"].dtype == pl.Int64 and df["id"].to_list() == [1, 2, 3]  # pass-through keeps its values
    assert df["name"].to_list() == ["a", "b", "c"]
    assert df["value"].dtype == pl.Float64
    assert df["value"].to_list() == VALUE
    assert df["grad_x"].to_list() == GRAD_X == df["grad_y"].to_list()
    assert df["grad_z"].to_list() == GRAD_Z
    assert [p for p in os.listdir(tmp_path) if p.startswith(".")] == []  # no temporary files left


def test_csv_input_to_parquet_matches_the_csv_records(cg, tmp_path):
    (tmp_path / "d.csv").write_text(csv_text())
    dest = tmp_path / "o.parquet"
    assert cg("eval", "(x+y)*z", "--data", str(tmp_path / "d.csv"), "-o", str(dest)).status == 0
    df = pl.read_parquet(dest)
    assert df["value"].to_list() == VALUE and df["grad_z"].to_list() == GRAD_Z
    assert df["name"].dtype == pl.String and df["id"].to_list() == ["1", "2", "3"]  # not read: text
    assert df["x"].dtype == pl.Float64  # read as numbers


def test_many_chunks_round_trip(cg, tmp_path):
    n = 70000
    df = pl.DataFrame({"x": [float(i) for i in range(n)], "k": list(range(n))})
    df.write_parquet(tmp_path / "big.parquet")
    dest = tmp_path / "o.parquet"
    r = cg("eval", "x*x", "--data", str(tmp_path / "big.parquet"), "-o", str(dest))
    assert r.status == 0, r.err
    back = pl.read_parquet(dest)
    assert back["k"].to_list() == list(range(n))
    assert back["value"].to_list() == [float(i) * i for i in range(n)]
    assert back["grad_x"].to_list() == [2.0 * i for i in range(n)]


def test_directory_and_glob_are_one_dataset_in_sorted_order(cg, tmp_path):
    d = tmp_path / "ds"
    d.mkdir()
    pl.DataFrame({"x": [1.0, 2.0]}).write_parquet(d / "b.parquet")
    pl.DataFrame({"x": [0.0]}).write_parquet(d / "a.parquet")
    (d / "notes.txt").write_text("not rows\n")
    want = "x,value,grad_x\n0.0,0.0,1.0\n1.0,1.0,1.0\n2.0,2.0,1.0\n"
    assert cg("eval", "x", "--data", str(d), "--format", "csv").out == want
    assert cg("eval", "x", "--data", str(d / "*.parquet"), "--format", "csv").out == want
    r = cg("eval", "x", "--data", str(tmp_path / "none*.parquet"))
    assert r.status == 1 and "no file matches" in r.err


def test_null_and_string_columns_are_bad_rows_by_row_index(cg, tmp_path):
    src = tmp_path / "bad.parquet"
    pl.DataFrame({"x": [1.0, None, 0.5, 2.0], "s": ["1", "2", "3", "4"]}).write_parquet(src)
    r = cg("eval", "x*2", "--data", str(src), "--format", "csv")
    assert r.status == 1
    assert r.out == "x,s,value,grad_x\n1.0,1,2.0,2.0\n"  # the rows before the bad one
    assert "bad.parquet row 1, column x: is null" in r.err
    r = cg("eval", "x*2", "--data", str(src), "--skip-bad-rows", "--format", "csv")
    assert r.status == 1
    assert len(r.out.splitlines()) - 1 + r.err.count("(skipped)") == 4
    assert "skipped 1 bad row of 4" in r.err
    r = cg("eval", "x+s", "--data", str(src), "--skip-bad-rows", "--format", "csv")
    assert r.status == 1 and r.out.splitlines() == ["x,s,value,grad_x,grad_s"]
    assert "bad.parquet row 0, column s: a String value, not a number (skipped)" in r.err
    assert "skipped 4 bad rows of 4" in r.err


def test_domain_error_and_nonfinite_are_named_by_row(cg, tmp_path):
    src = tmp_path / "d.arrow"
    pl.DataFrame({"x": [1.0, -1.0, float("inf")]}).write_ipc(src)
    r = cg("eval", "log(x)", "--data", str(src), "--skip-bad-rows", "--format", "csv")
    assert r.status == 1
    assert "d.arrow row 1: " in r.err and "d.arrow row 2: " in r.err
    assert "skipped 2 bad rows of 3" in r.err
    r = cg("eval", "x", "--data", str(src), "--nonfinite", "--format", "csv")
    assert r.status == 0 and r.out.splitlines()[-1] == "inf,inf,1.0"


def test_a_failed_run_leaves_no_output_file(cg, tmp_path):
    src = tmp_path / "bad.parquet"
    pl.DataFrame({"x": [1.0, None]}).write_parquet(src)
    for out in ("o.parquet", "o.csv"):
        r = cg("eval", "x", "--data", str(src), "-o", str(tmp_path / out))
        assert r.status == 1 and "row 1" in r.err
        assert not (tmp_path / out).exists()
    assert sorted(os.listdir(tmp_path)) == ["bad.parquet"]


@pytest.mark.parametrize("fmt", ["parquet", "arrow"])
def test_binary_to_standard_output_is_refused(cg, tmp_path, fmt):
    frame().write_parquet(tmp_path / "d.parquet")
    for extra in ([], ["-o", "-"]):
        r = cg("eval", "(x+y)*z", "--data", str(tmp_path / "d.parquet"), "--format", fmt, *extra)
        assert r.status == 2
        assert "use -o FILE" in r.err and r.out == ""


@pytest.mark.parametrize("out, fmt", [("o.csv", "csv"), ("o.jsonl", "jsonl"), ("o.ndjson", "jsonl"),
                                      ("o.tsv", "plain")])
def test_text_output_file_equals_standard_output(cg, tmp_path, out, fmt):
    (tmp_path / "d.csv").write_text(csv_text())
    frame().write_parquet(tmp_path / "d.parquet")
    for src in ("d.csv", "d.parquet"):
        data = str(tmp_path / src)
        r = cg("eval", "(x+y)*z", "--data", data, "-o", str(tmp_path / out))
        assert r.status == 0 and r.out == ""
        assert (tmp_path / out).read_text() == cg("eval", "(x+y)*z", "--data", data, "--format", fmt).out


def test_jsonl_output_of_parquet_keeps_numbers_as_numbers(cg, tmp_path):
    frame().write_parquet(tmp_path / "d.parquet")
    r = cg("eval", "(x+y)*z", "--data", str(tmp_path / "d.parquet"), "--format", "jsonl")
    assert r.out.splitlines()[0] == ('{"id": 1, "name": "a", "x": 1.0, "y": 3, "z": -3.0, "value": -12.0, '
                                     '"grad_x": -3.0, "grad_y": -3.0, "grad_z": 4.0}')


def test_out_usage_errors(cg, tmp_path):
    (tmp_path / "d.csv").write_text(csv_text())
    r = cg("eval", "(x+y)*z", "--data", str(tmp_path / "d.csv"), "-o", str(tmp_path / "o.xyz"))
    assert r.status == 2 and "extension" in r.err
    r = cg("eval", "(x+y)*z", "x=1", "y=2", "z=3", "-o", str(tmp_path / "o.csv"))
    assert r.status == 2 and "-o FILE goes with --data" in r.err
    r = cg("eval", "(x+y)*z", "--data", str(tmp_path / "d.csv"), "-o", str(tmp_path / "no" / "o.csv"))
    assert r.status == 2 and "no directory" in r.err


def test_data_format_option_and_stdin_refusal(cg, tmp_path):
    frame().write_parquet(tmp_path / "rows.bin")
    r = cg("eval", "(x+y)*z", "--data", str(tmp_path / "rows.bin"), "--data-format", "parquet", "--format", "csv")
    assert r.status == 0 and r.out.splitlines()[1].endswith(",-12.0,-3.0,-3.0,4.0")
    r = cg("eval", "x", "--data", "-", "--data-format", "parquet", input="")
    assert r.status == 2 and "not standard input" in r.err


def test_keep_drop_and_col_apply_to_binary_input_and_output(cg, tmp_path):
    import polars as pl
    src = tmp_path / "h.parquet"
    pl.DataFrame({"height": [1.0, 2.0], "y": [3.0, 4.0], "name": ["a", "b"]}).write_parquet(src)
    out = tmp_path / "o.parquet"
    r = cg("eval", "x*y", "--data", str(src), "--col", "x=height", "--drop", "y", "-o", str(out))
    assert r.status == 0, r.err
    df = pl.read_parquet(out)
    assert df.columns == ["height", "name", "value", "grad_x", "grad_y"]
    assert df["value"].to_list() == [3.0, 8.0] and df["grad_x"].to_list() == [3.0, 4.0]
    r = cg("eval", "x*y", "--data", str(src), "--col", "x=height", "--keep", "name", "--format", "csv")
    assert r.status == 0 and r.out == "name,value,grad_x,grad_y\na,3.0,3.0,1.0\nb,8.0,4.0,2.0\n"


@pytest.mark.parametrize("out, read", [("o.parquet", pl.read_parquet), ("o.arrow", pl.read_ipc)])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_bad_row_deep_in_the_stream_ends_the_sink_cleanly(cg, tmp_path, out, read, jobs):
    # row 150000 is far past the first chunk: it is raised inside the generator the sink pulls
    n = 200000
    xs = [float(i + 1) for i in range(n)]
    xs[150000] = -1.0
    src = tmp_path / "d.parquet"
    pl.DataFrame({"x": xs, "k": list(range(n))}).write_parquet(src)
    dest = tmp_path / out
    dest.write_bytes(b"old")
    r = cg("eval", "sqrt(x)", "--data", str(src), "-o", str(dest), "--jobs", jobs)
    assert r.status == 1
    assert [line for line in r.err.splitlines() if line.startswith("error:")] == [
        "error: %s row 150000: sqrt(x) is undefined at x = -1 (--nonfinite lets inf and nan through)" % src]
    assert "Traceback" not in r.err and "Polars" not in r.err
    assert dest.read_bytes() == b"old"  # the existing file stays as it was
    assert sorted(os.listdir(tmp_path)) == sorted(["d.parquet", out])  # no temporary file
    r = cg("eval", "sqrt(x)", "--data", str(src), "-o", str(dest), "--jobs", jobs, "--skip-bad-rows")
    assert r.status == 1 and "skipped 1 bad row of 200000" in r.err
    back = read(dest)
    assert back.height == n - 1 and back["k"].to_list() == [k for k in range(n) if k != 150000]
    assert back["value"][149999] == 150000.0 ** 0.5
    assert sorted(os.listdir(tmp_path)) == sorted(["d.parquet", out])


def test_output_file_permissions_follow_the_umask_or_the_replaced_file(cg, tmp_path):
    frame().write_parquet(tmp_path / "d.parquet")
    dest = tmp_path / "o.parquet"
    old = os.umask(0o022)
    try:
        assert cg("eval", "(x+y)*z", "--data", str(tmp_path / "d.parquet"), "-o", str(dest)).status == 0
        assert dest.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
        os.chmod(dest, 0o640)
        assert cg("eval", "(x+y)*z", "--data", str(tmp_path / "d.parquet"), "-o", str(dest)).status == 0
        assert dest.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


@pytest.mark.parametrize("out, read", [("o.parquet", pl.read_parquet), ("o.arrow", pl.read_ipc)])
def test_every_row_bad_with_skip_gives_a_valid_empty_file(cg, tmp_path, out, read):
    src = tmp_path / "d.parquet"
    pl.DataFrame({"x": [-1.0] * 5000, "s": ["a"] * 5000}).write_parquet(src)
    r = cg("eval", "sqrt(x)", "--data", str(src), "-o", str(tmp_path / out), "--skip-bad-rows")
    assert r.status == 1
    back = read(tmp_path / out)
    assert back.height == 0 and back.schema == {"x": pl.Float64, "s": pl.String, "value": pl.Float64,
                                                "grad_x": pl.Float64}
