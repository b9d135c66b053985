"""CSV's fast path (features/fastcsv.py): Polars reads and writes, and the bytes
are the exact path's. The float text is repr's for every double; Polars reads a
number only where the exact path reads the same double; and random files give
the same stdout, stderr and status through both paths."""

import math
import struct

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cgcli.core.numbers import parse_number
from cgcli.features import fastcsv, fastwrite

# ---- the float text -----------------------------------------------------------

bits = st.integers(0, 2 ** 64 - 1).map(lambda b: struct.unpack("<d", struct.pack("<Q", b))[0])
special = st.sampled_from([0.0, -0.0, math.inf, -math.inf, math.nan, -math.nan, 5e-324, -5e-324,
                           2.2250738585072014e-308, 1.7976931348623157e308, 1e-4, 9.999999999999999e-05,
                           1e16, 9999999999999998.0, 1e15, 0.1, 0.30000000000000004, 1e-07, 2.5e-05, -12.0])
powers = st.integers(-330, 310).map(lambda e: float("1e%d" % e))
near = st.tuples(st.integers(-330, 310), st.integers(1, 99999)).map(lambda p: float("%de%d" % p))
doubles = st.one_of(bits, special, powers, near, st.floats(allow_nan=True, allow_infinity=True))


@settings(max_examples=300, deadline=None)
@given(st.lists(doubles, min_size=1, max_size=50))
def test_float_texts_are_repr(values):
    arr = np.array(values, dtype=float)
    want = [repr(v) for v in values]
    assert fastwrite.float_texts(arr).to_list() == want
    # written by write_csv: natively where Polars' text is repr's, else the text
    frame = pl.DataFrame({"s": ["a"] * len(values)})
    buf = _Out()
    fastwrite.write_rows(buf, frame, [arr])
    assert buf.text == "".join("a,%s\n" % w for w in want)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(doubles, min_size=1, max_size=20), min_size=1, max_size=6))
def test_gathered_rows_are_written_as_repr(chunks):
    """Chunks gathered into one write: a column clean in one (written as doubles) and odd in
    another (written as repr's text) is cast to text, which is Polars' own text of the doubles."""
    buf = _Out()
    w = fastwrite.RowWriter(buf)
    for values in chunks:
        w.add(pl.DataFrame({"s": ["a"] * len(values)}), [np.array(values, dtype=float)] * 2)
    w.flush()
    assert buf.text == "".join("a,%r,%r\n" % (v, v) for values in chunks for v in values)


def test_float_texts_over_many_bit_patterns():
    rng = np.random.default_rng(7)
    arr = rng.integers(0, 2 ** 63, size=200_000, dtype=np.int64).view(np.float64)
    arr = np.concatenate([arr, -arr, rng.standard_normal(100_000) * 10.0 ** rng.integers(-30, 30, 100_000)])
    assert fastwrite.float_texts(arr).to_list() == list(map(repr, arr.tolist()))


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s

    def flush(self):
        pass


# ---- reading numbers ----------------------------------------------------------

cells = st.one_of(
    st.text(alphabet="0123456789.eE+- \tinfatyINFATY_x,", max_size=12),
    doubles.map(repr), doubles.map(lambda v: "%.17g" % v), doubles.map(lambda v: "%e" % v),
    st.integers(-10 ** 30, 10 ** 30).map(str),
    st.tuples(st.integers(0, 999), st.integers(0, 999), st.integers(-400, 400)).map(
        lambda t: "%d.%de%d" % t),
    st.sampled_from(["1.", ".5", "-2e3", "+.5", "1e400", "-1e-400", "0x10", "1_000", "١", "1e", "e5", ".",
                     "+", "-", "1.5e+3", "00012", "Infinity", "+nan", "1d", "1f", "٣", "１", "1e+", "--1"]))


@settings(max_examples=2000, deadline=None)
@given(st.lists(cells, min_size=1, max_size=30))
def test_polars_reads_a_number_only_as_the_exact_path_does(texts):
    got = pl.Series("c", texts).cast(pl.Float64, strict=False).to_list()
    for t, v in zip(texts, got):
        if v is None or not math.isfinite(v):
            continue  # the exact path reads the row
        x = parse_number(t)
        assert x is not None and struct.pack("<d", x) == struct.pack("<d", v), t


def test_an_empty_line_is_a_row_of_nulls_for_polars(tmp_path):
    """The fast path leans on it: an empty line is a row (of nulls, so the exact path reads it)."""
    for k, text in ((2, "x,y\n1,2\n\n3,4\n\n\n5,6\n\n"), (1, "x\n1\n\n3\n\n")):
        f = tmp_path / ("e%d.csv" % k)
        f.write_text(text)
        lf = pl.scan_csv(f, has_header=False, skip_lines=1, quote_char=None, raise_if_empty=False,
                         schema={"c%d" % i: pl.String for i in range(k)})
        rows = [r for b in lf.collect_batches(chunk_size=2) for r in b.rows()]
        assert len(rows) == text.count("\n") - 1


# ---- the whole path -----------------------------------------------------------

number_cells = st.one_of(st.integers(-50, 50).map(str), doubles.map(repr),
                         st.sampled_from(["1.", ".5", "-2e3", "0", "-0", "1e-7", "0.1", "3"]))
odd_cells = st.sampled_from(["", " ", "\t", "abc", "nan", "inf", "-inf", "1e999", " 1", "1 ", "#", "é", "x y",
                             "1_0", "\x0c", "a,b", "a\tb"])
cell = st.one_of(number_cells, number_cells, number_cells, odd_cells)


@st.composite
def csv_files(draw):
    k = draw(st.integers(1, 3))
    names = ["x", "y", "p"][:k]
    d = draw(st.sampled_from([",", "\t", ";", "|"]))
    lines = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["row"] * 8 + ["short", "long", "empty", "blank"]))
        cells = [draw(cell) for _ in range(k)]
        cells = [c.replace(d, "") for c in cells]
        if kind == "short":
            cells = cells[:-1]
        elif kind == "long":
            cells = cells + ["7"]
        line = d.join(cells) if kind in ("row", "short", "long") else ("" if kind == "empty" else "  ")
        lines.append(line)
    comments = draw(st.sampled_from(["", "# a comment\n", "#\n# two\n"]))
    end = draw(st.sampled_from(["\n", ""]))
    body = "\n".join(lines) + (end if lines else "")
    return comments + d.join(names) + "\n" + body, k, d


programs = {1: "sqrt(x) + x", 2: "log(x) * y + x", 3: "log(x) * y + x"}
option_sets = [[], ["--skip-bad-rows"], ["--nonfinite"], ["--skip-bad-rows", "--nonfinite"], ["--keep", "x"],
               ["--wrt", "x"], ["--hessian"], ["--no-header"]]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(csv_files(), st.sampled_from(option_sets), st.sampled_from(["", "-o"]))
def test_fast_and_exact_paths_give_the_same_bytes(cg, tmp_path, file, options, out):
    text, k, d = file
    path = tmp_path / ("rows.tsv" if d == "\t" else "rows.csv")
    path.write_text(text, encoding="utf-8")
    if options == ["--no-header"]:  # the header line is then a row
        options = ["--no-header", "--columns", ",".join(["x", "y", "p"][:k])]
    args = ["eval", programs[k], "--data", str(path), *options, *(["-d", d] if d in ";|" else [])]
    outs = []
    for mode in ("1", "0"):
        o = tmp_path / ("out%s.csv" % mode)
        r = cg(*args, *(["-o", str(o)] if out else []), env={"CGRAPH_FASTCSV": mode})
        outs.append((r.status, r.out, r.err, o.read_text() if out and o.exists() else None))
    assert outs[0] == outs[1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(csv_files(), min_size=1, max_size=40), st.sampled_from(option_sets), st.sampled_from(["", "-o"]))
def test_jobs_on_the_fast_path_give_the_bytes_of_one_job(cg, tmp_path, monkeypatch, files, options, out):
    """--jobs 2 with blocks of a few lines (workers parse, run and write them, or leave them
    to the parent): the bytes of one job and of the exact path."""
    monkeypatch.setattr(fastcsv, "BLOCK", 64)
    text, k, d = files[0]
    for more, k2, d2 in files[1:]:  # more rows, under the first file's header
        if k2 == k and d2 == d:
            text += ("" if text.endswith("\n") else "\n") + more.split("\n", 1 + more.count("#"))[-1]
    path = tmp_path / ("rows.tsv" if d == "\t" else "rows.csv")
    path.write_text(text, encoding="utf-8")
    if options == ["--no-header"]:
        options = ["--no-header", "--columns", ",".join(["x", "y", "p"][:k])]
    args = ["eval", programs[k], "--data", str(path), *options, *(["-d", d] if d in ";|" else [])]
    outs = []
    for mode, jobs in (("1", "2"), ("1", "1"), ("0", "1")):
        o = tmp_path / ("out%s%s.csv" % (mode, jobs))
        r = cg(*args, "--jobs", jobs, *(["-o", str(o)] if out else []), env={"CGRAPH_FASTCSV": mode})
        outs.append((r.status, r.out, r.err, o.read_text() if out and o.exists() else None))
    assert outs[0] == outs[1] == outs[2]


def test_jobs_on_the_fast_path_send_blocks_to_workers(cg, tmp_path, monkeypatch):
    """Good blocks come back written by a worker; a block with a bad row is the parent's,
    with its line number."""
    from cgcli.features import fastjobs
    seen = []
    real = fastjobs.BytesChunk.__init__

    def count(self, data, first, n):
        seen.append(range(first, first + n))
        real(self, data, first, n)
    monkeypatch.setattr(fastjobs.BytesChunk, "__init__", count)
    monkeypatch.setattr(fastcsv, "BLOCK", 4096)
    rows = ["%d,%d" % (i, i % 7) for i in range(1, 3001)]
    rows[1500] = "abc,1"
    path = tmp_path / "r.csv"
    path.write_text("x,y\n" + "\n".join(rows) + "\n")
    args = ["eval", "x*y", "--data", str(path), "--skip-bad-rows"]
    two = cg(*args, "--jobs", "2", env={"CGRAPH_FASTCSV": "1"})
    assert len(seen) >= 3 and seen[0][0] == 2 and not any(1502 in r for r in seen)
    one = cg(*args, "--jobs", "1", env={"CGRAPH_FASTCSV": "0"})
    assert (two.status, two.out, two.err) == (one.status, one.out, one.err)
    assert "line 1502, column y" not in two.err and "line 1502, column x: 'abc'" in two.err


def test_the_fast_path_is_taken_and_falls_back_in_the_middle(cg, tmp_path, monkeypatch):
    """A plain file goes through Polars; a bad row, a long row and a blank line in the middle go
    through the exact path, with the exact path's line numbers, and the rows after them through Polars."""
    fast = []
    real = fastcsv.FastChunk.__init__

    def count(self, strings, numbers, first, *rest):
        fast.append((first, strings.height))
        real(self, strings, numbers, first, *rest)
    monkeypatch.setattr(fastcsv.FastChunk, "__init__", count)
    rows = ["%d,%d" % (i, i % 7) for i in range(1, 3001)]
    rows[100] = "abc,1"
    rows[200] = ""
    rows[300] = "   "
    path = tmp_path / "r.csv"
    path.write_text("# c\nx,y\n" + "\n".join(rows) + "\n")
    args = ["eval", "x*y", "--data", str(path), "--skip-bad-rows"]
    one = cg(*args, env={"CGRAPH_FASTCSV": "1"})
    assert fast and sum(h for _, h in fast) == 3000 - 3 and fast[0] == (3, 100)
    two = cg(*args, env={"CGRAPH_FASTCSV": "0"})
    assert (one.status, one.out, one.err) == (two.status, two.out, two.err)
    assert one.err.splitlines()[0].startswith("error: %s line 103, column x: 'abc' is not a number" % path)
    rows.append("1,2,3")  # a row longer than the header: Polars stops; the exact path from there on
    rows.extend(["4,5"] * 10)
    path.write_text("# c\nx,y\n" + "\n".join(rows) + "\n")
    one = cg(*args, env={"CGRAPH_FASTCSV": "1"})
    two = cg(*args, env={"CGRAPH_FASTCSV": "0"})
    assert (one.status, one.out, one.err) == (two.status, two.out, two.err)
    assert "line 3003: expected 2 cells, found 3" in one.err


@pytest.mark.parametrize("data", [b'1,"2"\n', b"1,2\r\n3,4\r\n", b"1,2\r3,4\n", b"1,\x002\n", b"1,\xff\n",
                                  b"1,2\n", "1,\u00e9\n".encode()])
def test_what_the_fast_path_leaves_to_the_exact_one(data):
    """A quote, a carriage return, a NUL, a byte that is not UTF-8; not plain UTF-8."""
    assert fastcsv._plain(data) == (data in (b"1,2\n", "1,\u00e9\n".encode()))


def test_a_byte_order_mark_on_a_row_and_long_lines_go_the_exact_way(tmp_path, monkeypatch):
    import io
    assert fastcsv._after(io.BytesIO(b"\xef\xbb\xbf1,2\n"), 0) is None
    assert fastcsv._after(io.BytesIO(b"\xef\xbb\xbfx,y\n1,2\n"), 1) == b"1,2\n"
    assert fastcsv._after(io.BytesIO(b"#c\nx,y\n1,2\n"), 2) == b"1,2\n"
    monkeypatch.setattr(fastcsv, "MAX_LINE", 8)
    assert not fastcsv._plain(b"1,2345678\n1,2\n") and fastcsv._plain(b"1,2\n1,2\n")
    assert not fastcsv.eligible("-", ",") and not fastcsv.eligible(str(tmp_path), ",")
    monkeypatch.setenv("CGRAPH_FASTCSV", "0")
    f = tmp_path / "r.csv"
    f.write_text("x\n1\n")
    assert not fastcsv.eligible(str(f), ",")
    monkeypatch.setenv("CGRAPH_FASTCSV", "1")
    assert fastcsv.eligible(str(f), ",") and not fastcsv.eligible(str(f), "\u00e9")
