"""Bad input of every kind gets one `error: ...` line and status 1 or 2, never a
traceback; no row is dropped silently; reading numbers takes linear time."""

import json
import time

import pytest


def write(tmp_path, name, data):
    p = tmp_path / name
    if isinstance(data, bytes):
        p.write_bytes(data)
    else:
        p.write_text(data, encoding="utf-8")
    return str(p)


# ---- 1: numbers that are not doubles, JSON nested deep ----------------------

def test_bind_huge_integer_is_inf_like_1e999(cg, tmp_path):
    b = write(tmp_path, "b.json", '{"x": %s}' % ("9" * 400))
    r = cg("eval", "x*2", "--bind", b)
    assert r.status == 1 and r.err == "error: input x = inf is not finite (--nonfinite lets inf and nan through)\n"
    b = write(tmp_path, "c.json", '{"x": -%s}' % ("9" * 400))
    assert cg("eval", "x", "--bind", b, "--nonfinite", "--format", "json").json()["value"] == "-inf"


def test_bind_large_integer_within_doubles_is_that_double(cg, tmp_path):
    b = write(tmp_path, "b.json", '{"x": %s}' % ("1" + "0" * 300))
    assert cg("eval", "x", "--bind", b, "--format", "json").json()["value"] == 1e300


def test_jsonl_huge_integer_names_row_and_key(cg, tmp_path):
    d = write(tmp_path, "d.jsonl", '{"x": 1}\n{"x": %s}\n' % ("9" * 400))
    r = cg("eval", "x*2", "--data", d)
    assert r.status == 1 and r.out.splitlines() == ["x,value,grad_x", "1,2.0,2.0"]
    assert r.err == "error: %s line 2: input x = inf is not finite (--nonfinite lets inf and nan through)\n" % d


def test_deep_json_in_bind_and_rows(cg, tmp_path):
    deep = "[" * 100000 + "]" * 100000
    b = write(tmp_path, "b.json", '{"x": %s}' % deep)
    r = cg("eval", "x", "--bind", b)
    assert r.status == 2 and r.err == "error: --bind %s: not valid JSON (nested too deeply)\n" % b
    d = write(tmp_path, "d.jsonl", '{"x": 1}\n{"x": %s}\n{"x": 3}\n' % deep)
    r = cg("eval", "x", "--data", d, "--skip-bad-rows")
    assert r.status == 1 and r.out.splitlines() == ["x,value,grad_x", "1,1.0,1.0", "3,3.0,1.0"]
    assert r.err.splitlines() == ["error: %s line 2: not valid JSON (nested too deeply) (skipped)" % d,
                                  "error: skipped 1 bad row of 3"]
    d = write(tmp_path, "e.jsonl", '%s\n{"x": 3}\n' % deep)
    r = cg("eval", "x", "--data", d)
    assert r.status == 1 and r.err == (
        "error: %s line 1: not valid JSON (nested too deeply) (the first line's object names the columns)\n" % d)


# ---- 2: files that are not clean UTF-8 text ---------------------------------

def test_non_utf8_byte_in_csv_names_the_line(cg, tmp_path):
    d = write(tmp_path, "d.csv", b"x\n1\n2\n\xff3\n4\n")
    r = cg("eval", "x", "--data", d)
    assert r.status == 1 and r.out.splitlines() == ["x,value,grad_x", "1,1.0,1.0", "2,2.0,1.0"]
    assert r.err == "error: %s line 4: not UTF-8 text (byte 0xff)\n" % d
    r = cg("eval", "x", "--data", d, "--skip-bad-rows")
    assert r.out.splitlines()[-1] == "4,4.0,1.0"
    assert r.err.splitlines() == ["error: %s line 4: not UTF-8 text (byte 0xff) (skipped)" % d,
                                  "error: skipped 1 bad row of 4"]


def test_non_utf8_byte_in_pass_through_column_and_jsonl(cg, tmp_path):
    d = write(tmp_path, "d.csv", b"x,note\n1,a\n2,b\xe9c\n")
    r = cg("eval", "x", "--data", d)
    assert r.status == 1 and r.err.splitlines() == [
        "warning: column note of %s is not read by the program (passed through)" % d,
        "error: %s line 3: not UTF-8 text (byte 0xe9)" % d]
    d = write(tmp_path, "d.jsonl", b'{"x": 1}\n{"x": 2, "n": "\xc3"}\n')
    r = cg("eval", "x", "--data", d)
    assert r.status == 1 and r.err == "error: %s line 2: not UTF-8 text (byte 0xc3)\n" % d


def test_non_utf8_in_header_lines_and_program(cg, tmp_path):
    d = write(tmp_path, "d.csv", b"x,\xff\n1,2\n")
    r = cg("eval", "x", "--data", d)
    assert r.status == 1 and r.err == "error: %s line 1: not UTF-8 text (byte 0xff)\n" % d
    f = write(tmp_path, "e.txt", b"x+1\nx\xfe\nx*2\n")
    r = cg("eval", "-f", f, "--lines", "x=1")
    assert r.status == 1 and r.out.splitlines() == ["line,expr,value,grad_x", "1,x+1,2.0,1.0"]
    assert r.err == "error: %s line 2: not UTF-8 text (byte 0xfe)\n" % f
    p = write(tmp_path, "p.cg", b"y = x\n# caf\xe9\ny*2\n")
    r = cg("eval", "-f", p, "x=1")
    assert r.status == 2 and r.err == "error: %s line 2: not UTF-8 text (byte 0xe9)\n" % p


def test_long_csv_cell_is_read(cg, tmp_path):
    d = write(tmp_path, "d.csv", "x,note\n1,%s\n2,\"%s\"\n" % ("a" * 200000, "b" * 200000))
    r = cg("eval", "x", "--data", d)
    assert r.status == 0 and len(r.out.splitlines()) == 3


def test_nul_bytes_are_rejected_fast(cg, tmp_path):
    d = write(tmp_path, "d.csv", b"x\n1\n2\x003\n")
    r = cg("eval", "x", "--data", d)
    assert r.status == 1 and r.err == "error: %s line 3: contains a NUL byte (is it a text file?)\n" % d
    p = tmp_path / "nul.bin"
    with open(p, "wb") as fh:
        fh.truncate(1 << 30)  # 1 GB of NUL bytes (sparse)
    t = time.perf_counter()
    r = cg("eval", "x", "--data", str(p))
    assert r.status == 1 and r.err == "error: %s line 1: longer than 16777216 characters (is it a text file of rows?)\n" % p
    assert time.perf_counter() - t < 5
    d = write(tmp_path, "d2.csv", b"x\n1\n" + b"\0" * (1 << 25))
    r = cg("eval", "x", "--data", d)
    assert r.status == 1 and r.out.splitlines() == ["x,value,grad_x", "1,1.0,1.0"]
    assert r.err == "error: %s line 3: longer than 16777216 characters (is it a text file of rows?)\n" % d


# ---- 3: numbers in linear time, ASCII only ----------------------------------

def test_number_parsing_is_linear():
    from cgcli.core.numbers import parse_number
    t = time.perf_counter()
    assert parse_number("1" * 200000 + "a") is None
    assert parse_number("1" * 200000 + ".5e") is None
    assert time.perf_counter() - t < 0.5


@pytest.mark.parametrize("text", ["1_000", "١٢", "\u20001", "1\u2000", "0x10", "infinit", "ｉｎｆ"])
def test_only_the_language_number_syntax(text):
    from cgcli.core.numbers import parse_number
    assert parse_number(text) is None


@pytest.mark.parametrize("text,x", [("1.", 1.0), (".5", 0.5), ("-1e3", -1000.0), (" 2 ", 2.0), ("+INF", float("inf"))])
def test_numbers_accepted(text, x):
    from cgcli.core.numbers import parse_number
    assert parse_number(text) == x


def test_long_digit_cell_is_quick_and_quoted_short(cg, tmp_path):
    cell = "1" * 20000 + "a"
    d = write(tmp_path, "d.csv", "x\n%s\n" % cell)
    t = time.perf_counter()
    r = cg("eval", "x", "--data", d)
    assert time.perf_counter() - t < 2
    assert r.status == 1 and r.err == "error: %s line 2, column x: %r... (20001 characters) is not a number\n" % (
        d, "1" * 40)
    r = cg("eval", "x", "x=" + cell)
    assert r.status == 2


@pytest.mark.parametrize("cell", ["1_000", "١٢", "\u20001"])
def test_csv_cells_are_numbers_as_bindings_are(cg, tmp_path, cell):
    d = write(tmp_path, "d.csv", "x\n1\n%s\n" % cell)
    r = cg("eval", "x", "--data", d)
    assert r.status == 1 and r.err == "error: %s line 3, column x: %r is not a number\n" % (d, cell)
    assert cg("eval", "x", "x=" + cell).status == 2


def test_grammar_digits_are_ascii(cg):
    r = cg("eval", "١٢ + x", "x=1")
    assert r.status == 2 and r.err.startswith("error: syntax error at column 1")
    assert cg("eval", "x١", "x=1").status == 2


# ---- 4: --bind keys and values ----------------------------------------------

@pytest.mark.parametrize("text,err", [
    ('{"1x": 2}', '"1x" is not a name (a name is a letter or _, then letters, digits and _)'),
    ('{"": 1}', '"" is not a name (a name is a letter or _, then letters, digits and _)'),
    ('{"a=b": 1}', '"a=b" is not a name (a name is a letter or _, then letters, digits and _)'),
    ('{"x": "abc"}', 'x must be a number, not "abc"'),
    ('{"x": null}', "x must be a number, not null"),
    ('{"x": [1]}', "x must be a number, not [1]"),
    ('{"x": true}', "x must be a number, not true"),
    ('{"x": "1_000"}', 'x must be a number, not "1_000"'),
    ('{"x": 1, "x": 2}', 'not valid JSON ("x" appears more than once)'),
])
def test_bind_bad_keys_and_values_are_usage_errors(cg, tmp_path, text, err):
    b = write(tmp_path, "b.json", text)
    r = cg("eval", "x", "--bind", b)
    assert r.status == 2 and r.err == "error: --bind %s: %s\n" % (b, err)


def test_bind_numeric_text_is_a_number(cg, tmp_path):
    b = write(tmp_path, "b.json", '{"x": "2.5", "y": 1}')
    assert cg("eval", "x*y", "--bind", b, "--format", "json").json()["value"] == 2.5


# ---- 5: byte-order marks; the first JSON line --------------------------------

def test_bom_is_accepted(cg, tmp_path):
    d = write(tmp_path, "d.csv", "\ufeffx,y\n1,2\n")
    r = cg("eval", "x*y", "--data", d)
    assert r.status == 0 and r.err == "" and r.out.splitlines()[0] == "x,y,value,grad_x,grad_y"
    d = write(tmp_path, "d.jsonl", '\ufeff{"x": 3}\n')
    assert cg("eval", "x", "--data", d, "--format", "jsonl").out == '{"x": 3, "value": 3.0, "grad_x": 1.0}\n'
    d = write(tmp_path, "d.txt", "\ufeffx+1\n")
    assert cg("eval", "-f", d, "--lines", "x=1").out.splitlines()[1] == "1,x+1,2.0,1.0"
    p = write(tmp_path, "p.cg", "\ufeffx*3\n")
    assert cg("eval", "-f", p, "x=1", "--format", "json").json()["value"] == 3
    b = write(tmp_path, "b.json", '\ufeff{"x": 2}')
    assert cg("eval", "x", "--bind", b, "--format", "json").json()["value"] == 2
    r = cg("eval", "x*y", "--data", "-", input="\ufeffx,y\n1,2\n".encode())
    assert r.status == 0 and r.out.splitlines()[0] == "x,y,value,grad_x,grad_y"


@pytest.mark.parametrize("first,why", [("[1, 2]", "not a JSON object"), ("7", "not a JSON object"),
                                       ("{x: 1}", "not valid JSON (Expecting property name enclosed in "
                                                  "double quotes: line 1 column 2 (char 1))")])
def test_jsonl_first_line_not_an_object_names_line_1(cg, tmp_path, first, why):
    d = write(tmp_path, "d.jsonl", first + '\n{"x": 1}\n')
    r = cg("eval", "x", "--data", d)
    assert r.status == 1 and r.err == "error: %s line 1: %s (the first line's object names the columns)\n" % (d, why)


# ---- 6: quoted cells with newlines across chunks ------------------------------

def test_multiline_cell_across_the_first_chunk_boundary(cg, tmp_path):
    rows = ["%d,plain" % i for i in range(1, 64)]  # lines 2..64
    rows.append('64,"one\ntwo\nthree"')  # starts on line 65, the first chunk's last line
    rows += ["%d,plain" % i for i in range(65, 70)]  # lines 68..72
    rows.append("oops,plain")  # line 73
    rows.append("71,plain")  # line 74
    d = write(tmp_path, "d.csv", "x,note\n" + "\n".join(rows) + "\n")
    r = cg("eval", "x", "--data", d, "--skip-bad-rows")
    out = r.out.splitlines()
    assert len(out) == 1 + 70 + 2 and out[64:68] == ['64,"one', "two", 'three",64.0,1.0', "65,plain,65.0,1.0"]
    assert r.err.splitlines() == ["warning: column note of %s is not read by the program (passed through)" % d,
                                  "error: %s line 73, column x: 'oops' is not a number (skipped)" % d,
                                  "error: skipped 1 bad row of 71"]
    recs = [json.loads(x) for x in cg("eval", "x", "--data", d, "--skip-bad-rows", "--format", "jsonl").out.splitlines()]
    assert recs[63]["note"] == "one\ntwo\nthree" and [r["x"] for r in recs[63:66]] == [64, 65, 66]


def test_unclosed_quote_is_one_bad_row(cg, tmp_path):
    d = write(tmp_path, "d.csv", 'x,note\n1,a\n2,"b\n3,c\n')
    r = cg("eval", "x", "--data", d)
    assert r.status == 1 and r.err.splitlines() == ["warning: column note of %s is not read by the program (passed through)" % d,
        "error: %s line 3: a quoted cell runs to the end of the file (is a closing quote missing?)" % d]
    d = write(tmp_path, "e.csv", 'x,note\n1,"a"b\n2,c\n')
    r = cg("eval", "x", "--data", d, "--skip-bad-rows")
    assert r.err.splitlines() == ["warning: column note of %s is not read by the program (passed through)" % d,
                                  "error: %s line 2: not valid CSV (',' expected after '\"') (skipped)" % d,
                                  "error: skipped 1 bad row of 2"]


# ---- 7: columns named like the computed fields --------------------------------

@pytest.mark.parametrize("col", ["value", "grad_x"])
def test_columns_named_like_computed_fields(cg, tmp_path, col):
    d = write(tmp_path, "d.csv", "x,%s\n1,2\n" % col)
    r = cg("eval", "x", "--data", d)
    assert r.status == 2 and r.out == "" and r.err == (
        "error: column %s of %s has the name of a field each record adds (rename the column, say to %s_in, "
        "in the file and in the program if it reads it)\n" % (col, d, col))


def test_grad_column_of_an_unreported_input_is_fine(cg, tmp_path):
    d = write(tmp_path, "d.csv", "x,y,grad_y\n1,2,3\n")
    r = cg("eval", "x*y", "--data", d, "--wrt", "x")
    assert r.status == 0 and r.out.splitlines() == ["x,y,grad_y,value,grad_x", "1,2,3,2.0,2.0"]


def test_jsonl_extra_key_named_like_a_computed_field_is_a_bad_row(cg, tmp_path):
    d = write(tmp_path, "d.jsonl", '{"x": 1}\n{"x": 2, "value": 5}\n{"x": 3}\n')
    r = cg("eval", "x", "--data", d, "--format", "jsonl", "--skip-bad-rows")
    assert [json.loads(x)["x"] for x in r.out.splitlines()] == [1, 3]
    assert r.err.splitlines() == [
        "error: %s line 2: key value has the name of a field each record adds (rename it) (skipped)" % d,
        "error: skipped 1 bad row of 3"]


# ---- 8: JSON output is RFC 8259 ----------------------------------------------

def _strict(line):
    def bad(c):
        raise ValueError(c)
    return json.loads(line, parse_constant=bad)


def test_jsonl_pass_through_nonfinite_fields_are_strings(cg, tmp_path):
    d = write(tmp_path, "d.csv", "x,y\ninf,1\nnan,1e999\n-inf,2\n")
    r = cg("eval", "y", "--data", d, "--nonfinite", "--format", "jsonl")
    recs = [_strict(x) for x in r.out.splitlines()]
    assert [(o["x"], o["y"]) for o in recs] == [("inf", 1), ("nan", "inf"), ("-inf", 2)]
    d = write(tmp_path, "d.jsonl", '{"x": 1, "m": [NaN, {"a": -Infinity}]}\n{"x": 1e999}\n{"x": Infinity}\n')
    r = cg("eval", "x", "--data", d, "--nonfinite", "--format", "jsonl")
    recs = [_strict(x) for x in r.out.splitlines()]
    assert recs[0]["m"] == ["nan", {"a": "-inf"}] and recs[1]["x"] == "inf" and recs[2]["x"] == "inf"
    r = cg("eval", "x", "--data", d, "--nonfinite")
    assert r.out.splitlines()[1:] == ['1,"[""nan"", {""a"": ""-inf""}]",1.0,1.0', "inf,,inf,1.0", "inf,,inf,1.0"]


# ---- 9: the pass-through warning, once ----------------------------------------

def test_pass_through_warning_once(cg, tmp_path):
    d = write(tmp_path, "d.csv", "x,y\n" + "".join("%d,%d\n" % (i, i) for i in range(5000)))
    r = cg("eval", "x", "--data", d)
    assert r.status == 0 and r.err == "warning: column y of %s is not read by the program (passed through)\n" % d
