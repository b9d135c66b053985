"""The conventions of data tools (xsv, miller, csvkit) for --data (issue 11 item 7):
-d/--delimiter and TSV, --no-header with --columns, --col NAME=COLUMN, --keep and
--drop, and comment lines before the header."""

import pytest


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


SEMI = "# exported by a tool\n# units: m\nid;height;w\na;1;2\nb;\"3;4\";5\nc;x;1\nd;2;3\n"


def test_delimiter_quoted_cell_with_the_delimiter_comments_and_col_with_skip_bad_rows(cg, tmp_path):
    path = write(tmp_path, "r.csv", SEMI)
    r = cg("eval", "x*w", "--data", path, "-d", ";", "--col", "x=height", "--skip-bad-rows")
    assert r.status == 1
    assert r.out.splitlines() == [
        "id,height,w,value,grad_x,grad_w",  # the output keeps ","
        "a,1,2,2.0,2.0,1.0",
        "d,2,3,6.0,3.0,2.0",
    ]
    assert r.err.splitlines() == [
        "warning: column id of %s is not read by the program (passed through)" % path,
        # line numbers count the two comment lines
        "error: %s line 5, column height (input x): '3;4' is not a number (skipped)" % path,
        "error: %s line 6, column height (input x): 'x' is not a number (skipped)" % path,
        "error: skipped 2 bad rows of 4",
    ]


def test_a_quoted_cell_with_the_delimiter_is_one_cell_and_written_quoted(cg, tmp_path):
    path = write(tmp_path, "r.csv", "name;x\n\"a;b\";2\n\"c,d\";3\n")
    r = cg("eval", "x^2", "--data", path, "--delimiter", ";")
    assert r.status == 0 and r.err == "warning: column name of %s is not read by the program (passed through)\n" % path
    assert r.out.splitlines() == ["name,x,value,grad_x", "a;b,2,4.0,4.0", '"c,d",3,9.0,6.0']


@pytest.mark.parametrize("how", [["-d", "\\t"], ["-d", "tab"], ["-d", "TAB"], ["--data-format", "tsv"], []])
def test_tab_delimited(cg, tmp_path, how):
    name = "r.tsv" if not how else "r.txt"
    path = write(tmp_path, name, "x\ty\n1\t2\n3\t4\n")
    r = cg("eval", "x*y", "--data", path, *how)
    assert r.status == 0 and r.err == ""
    assert r.out == "x,y,value,grad_x,grad_y\n1,2,2.0,2.0,1.0\n3,4,12.0,4.0,3.0\n"


def test_a_bad_row_after_comments_is_named_by_its_line_in_the_file(cg, tmp_path):
    path = write(tmp_path, "r.csv", "#one\n#two\n#three\nx\n1\n-1\n")
    r = cg("eval", "log(x)", "--data", path)
    assert r.status == 1
    assert r.out == "x,value,grad_x\n1,0.0,1.0\n"
    assert r.err == ("error: %s line 6: log(x) is undefined at x = -1 (--nonfinite lets inf and nan through)\n"
                     % path)


def test_no_header_columns_and_line_numbers(cg, tmp_path):
    path = write(tmp_path, "r.csv", "1,2\n3\n4,zz\n5,6\n")
    r = cg("eval", "x+y", "--data", path, "--no-header", "--columns", "x,y", "--skip-bad-rows")
    assert r.status == 1
    assert r.out.splitlines() == ["x,y,value,grad_x,grad_y", "1,2,3.0,1.0,1.0", "5,6,11.0,1.0,1.0"]
    assert r.err.splitlines() == [
        "error: %s line 2: expected 2 cells, found 1 (skipped)" % path,
        "error: %s line 3, column y: 'zz' is not a number (skipped)" % path,
        "error: skipped 2 bad rows of 4",
    ]


def test_no_header_after_comments_counts_them(cg, tmp_path):
    path = write(tmp_path, "r.tsv", "# no header here\n2\t3\n-1\t1\n")
    r = cg("eval", "sqrt(a)*b", "--data", path, "--no-header", "--columns", "a, b")
    assert r.status == 1
    assert r.out.splitlines() == ["a,b,value,grad_a,grad_b", "2,3,4.242640687119286,1.0606601717798212,"
                                  "1.4142135623730951"]
    assert r.err.splitlines()[-1].startswith("error: %s line 3: sqrt(a) is undefined at a = -1" % path)


def test_col_reads_a_column_under_another_name(cg, tmp_path):
    path = write(tmp_path, "r.csv", "height,weight\n2,3\n")
    r = cg("eval", "x*y", "--data", path, "--col", "x=height", "--col", "y=weight", "--format", "jsonl")
    assert r.status == 0 and r.err == ""
    assert r.out == '{"height": 2, "weight": 3, "value": 6.0, "grad_x": 3.0, "grad_y": 2.0}\n'


def test_col_with_json_lines_and_skip_bad_rows(cg, tmp_path):
    path = write(tmp_path, "r.jsonl", '{"h": 2, "k": "a"}\n{"k": "b"}\n{"h": "no", "k": "c"}\n{"h": 4, "k": "d"}\n')
    r = cg("eval", "x^2", "--data", path, "--col", "x=h", "--skip-bad-rows", "--drop", "k", "--format", "jsonl")
    assert r.status == 1
    assert r.out.splitlines() == ['{"h": 2, "value": 4.0, "grad_x": 4.0}', '{"h": 4, "value": 16.0, "grad_x": 8.0}']
    assert r.err.splitlines() == [
        "error: %s line 2: no h (input x) (skipped)" % path,
        'error: %s line 3, h (input x): "no" is not a number (skipped)' % path,
        "error: skipped 2 bad rows of 4",
    ]


def test_keep_and_drop(cg, tmp_path):
    path = write(tmp_path, "r.csv", "id,x,y,note\na,1,2,hi\n")
    keep = cg("eval", "x*y", "--data", path, "--keep", "y,id")
    assert keep.status == 0
    assert keep.out == "y,id,value,grad_x,grad_y\n2,a,2.0,2.0,1.0\n"
    drop = cg("eval", "x*y", "--data", path, "--drop", "x,note")
    assert drop.status == 0
    # x is dropped from the records but still read; a dropped column draws no warning
    assert drop.err == "warning: column id of %s is not read by the program (passed through)\n" % path
    assert drop.out == "id,y,value,grad_x,grad_y\na,2,2.0,2.0,1.0\n"
    jl = cg("eval", "x*y", "--data", path, "--keep", "note,x", "--format", "jsonl")
    assert jl.out == '{"note": "hi", "x": 1, "value": 2.0, "grad_x": 2.0, "grad_y": 1.0}\n'


def test_drop_lets_a_column_named_value_go(cg, tmp_path):
    path = write(tmp_path, "r.csv", "x,value\n1,9\n")
    assert cg("eval", "x", "--data", path).status == 2
    r = cg("eval", "x", "--data", path, "--drop", "value")
    assert r.status == 0 and r.out == "x,value,grad_x\n1,1.0,1.0\n"


def test_keep_with_json_lines_keeps_only_those_keys(cg, tmp_path):
    path = write(tmp_path, "r.jsonl", '{"x": 1, "id": "a"}\n{"x": 2, "id": "b", "extra": true}\n')
    r = cg("eval", "x", "--data", path, "--keep", "id", "--format", "jsonl")
    assert r.status == 0
    assert r.out == '{"id": "a", "value": 1.0, "grad_x": 1.0}\n{"id": "b", "value": 2.0, "grad_x": 1.0}\n'


USAGE = [
    (["--col", "x=hgt"], "error: --col x=hgt: {p} has no column hgt (columns: id, height, w)"),
    (["--col", "w=height"], "error: --col w=height: w is also a column of {p} "
                           "(drop the --col, or rename the column w in the file)"),
    (["--col", "x=height", "x=1"], "error: --col x=height: x is also bound on the command line"),
    (["--col", "x=height", "--col", "x=w"], "error: --col x=w: x is given another column already "
                                            "(--col x=height)"),
    (["--col", "x"], "error: --col 'x': NAME=COLUMN, an input's name and a column's (--col x=height)"),
    (["--col", "x=height", "--keep", "id,zz"], "error: --keep: {p} has no column zz (columns: id, height, w)"),
    (["--col", "x=height", "--drop", "a,b"], "error: --drop: {p} has no columns a, b (columns: id, height, w)"),
    (["--col", "x=height", "--keep", "id", "--drop", "w"], "error: --keep and --drop do not go together"),
    (["--no-header"], "error: --no-header needs --columns A,B,... to name the columns"),
    (["--columns", "a,b"], "error: --columns goes with --no-header (a file with a header line names its own "
                           "columns)"),
    (["--no-header", "--columns", "a,,b"], "error: --columns 'a,,b': a comma-separated list of column names, "
                                           "none empty"),
    (["--no-header", "--columns", "a,a"], "error: --columns: column a appears more than once"),
    (["-d", ";;"], "error: --delimiter ';;': one character (\"\\t\" or \"tab\": a tab), not a quote or a newline"),
    (["-d", '"'], "error: --delimiter '\"': one character (\"\\t\" or \"tab\": a tab), not a quote or a newline"),
]


@pytest.mark.parametrize("args,line", USAGE)
def test_usage_errors(cg, tmp_path, args, line):
    path = write(tmp_path, "r.csv", SEMI)
    r = cg("eval", "x*w", "--data", path, "-d", ";", *args)
    assert r.status == 2 and r.out == ""
    assert r.err.splitlines()[0] == line.format(p=path)


@pytest.mark.parametrize("args,line", [
    (["-d", ";"], "error: --delimiter is for CSV input; {p} is JSON Lines"),
    (["--no-header", "--columns", "x"], "error: --no-header is for CSV input; {p} is JSON Lines"),
    (["--data-format", "jsonl", "-d", ";"], "error: --delimiter is for CSV input, not --data-format jsonl"),
])
def test_csv_options_with_json_lines(cg, tmp_path, args, line):
    path = write(tmp_path, "r.jsonl", '{"x": 1}\n')
    r = cg("eval", "x", "--data", path, *args)
    assert r.status == 2 and r.out == ""
    assert r.err.splitlines()[0] == line.format(p=path)


def test_data_options_need_data(cg):
    r = cg("eval", "x", "x=1", "--keep", "x")
    assert r.status == 2 and r.err.splitlines()[0] == "error: --keep goes with --data"


def test_a_header_starting_with_hash_after_comments_only(cg, tmp_path):
    """Comments are only before the header: a later "#" line is a row (here a bad one)."""
    path = write(tmp_path, "r.csv", "#c\nx\n1\n#2\n")
    r = cg("eval", "x", "--data", path)
    assert r.status == 1
    assert r.err == "error: %s line 4, column x: '#2' is not a number\n" % path
