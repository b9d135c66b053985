"""The bulk fast paths for big programs (issue 13, part 1b) give the same results and
messages as the per-item paths they skip: --bind's keys checked in one match, the
binding checks as set operations, the JSON gradients written without json.dumps."""

import json

import pytest

NAME_HINT = " (a name is a letter or _, then letters, digits and _)"


def bind(cg, tmp_path, text, *args):
    b = tmp_path / "b.json"
    b.write_text(text)
    return str(b), cg("eval", *args, "--bind", str(b))


@pytest.mark.parametrize("text,err", [
    # a key holding a newline between two names: the joined keys match, the count does not
    ('{"x": 1.0, "a\\nb": 2.0}', '"a\\nb" is not a name' + NAME_HINT),
    ('{"x": 1.0, "a\\n": 2.0}', '"a\\n" is not a name' + NAME_HINT),
    ('{"\\nx": 1.0}', '"\\nx" is not a name' + NAME_HINT),
    # the first bad item in file order wins, a value before a key
    ('{"x": "abc", "1y": 2.0}', 'x must be a number, not "abc"'),
    ('{"1y": "abc", "x": 2.0}', '"1y" is not a name' + NAME_HINT),
    ('{"x": 1.0, "y": [2.0]}', "y must be a number, not [2.0]"),
])
def test_bind_bulk_check_falls_back_to_the_first_bad_item(cg, tmp_path, text, err):
    b, r = bind(cg, tmp_path, text, "x")
    assert r.status == 2 and r.err == "error: --bind %s: %s\n" % (b, err)


def test_bind_all_floats_and_mixed_values(cg, tmp_path):
    _, r = bind(cg, tmp_path, '{"x": 1.5, "y": -2.0}', "x*y", "--format", "json")
    assert r.status == 0 and r.json()["gradients"] == {"x": -2.0, "y": 1.5}
    _, r = bind(cg, tmp_path, '{"x": 3, "y": "0.5"}', "x*y", "--format", "json")
    assert r.status == 0 and r.json()["value"] == 1.5 and r.json()["gradients"] == {"x": 0.5, "y": 3.0}


def test_bind_checks_unread_constant_and_missing(cg, tmp_path):
    _, r = bind(cg, tmp_path, '{"x": 1.0, "z": 2.0}', "x*2")
    assert r.status == 0 and r.err == "warning: z is bound but the program never reads it\n"
    _, r = bind(cg, tmp_path, '{"x": 1.0, "pi": 2.0}', "x*2")
    assert r.status == 2 and r.err.startswith("error: pi is a constant and cannot be bound")
    _, r = bind(cg, tmp_path, '{"x": 1.0}', "x*y")
    assert r.status == 1 and r.err == "error: unbound input: y (bind it as NAME=VALUE)\n"


def test_json_gradients_text_is_json_dumps(cg):
    r = cg("eval", "a*b + c/3", "a=0.1", "b=1e-300", "c=7", "--format", "json", "--summary")
    assert r.status == 0
    obj = json.loads(r.out)
    assert obj["gradients"] == {"a": 1e-300, "b": 0.1, "c": 1 / 3}
    head = r.out[:r.out.index(', "nodes"')]
    assert head == json.dumps({"output": None, "value": obj["value"], "gradients": obj["gradients"]})[:-1]
    # a non-finite gradient goes through json.dumps's strings, as before
    r = cg("eval", "sqrt(x)", "x=0", "--nonfinite", "--format", "json", "--summary")
    assert r.status == 0 and '"gradients": {"x": "inf"}' in r.out
