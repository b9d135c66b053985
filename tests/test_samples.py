"""Every sample runs with the command written in its header, and the main ones
give the values computed here independently, in plain Python."""

import glob
import json
import math
import os
import shlex

import pytest
from conftest import ROOT, SAMPLES

PROGRAMS = sorted(glob.glob(os.path.join(SAMPLES, "*.cg")))


def header_command(path):
    for line in open(path):
        if line.startswith("# cgraph "):  # paths in it are relative to the repository
            return [os.path.join(ROOT, a) if a.startswith("samples/") else a
                    for a in shlex.split(line[2:])[1:]]
    raise AssertionError("%s has no '# cgraph ...' line showing how to run it" % path)


def test_there_are_samples():
    names = {os.path.basename(p) for p in PROGRAMS}
    assert {"seed.cg", "neuron.cg", "rnn.cg"} <= names and len(names) >= 5


@pytest.mark.parametrize("path", PROGRAMS, ids=os.path.basename)
def test_sample_runs_with_its_header_command(cg, path):
    args = header_command(path)
    r = cg(*args, "--format", "json")
    assert r.status == 0, r.err
    assert r.err == ""  # no unused bindings in the documented command
    d = r.json()
    if args[0] == "fit":  # NIST's certified values for Misra1a
        assert d["converged"] and abs(d["params"]["b1"] / 238.94212918 - 1) < 1e-6
        assert abs(d["stderr"]["b2"] / 7.2668688436e-06 - 1) < 1e-4
        return
    if args[0] == "train":
        assert math.isfinite(d["cost"]) and d["params"] and d["costs"][-1] < d["costs"][0]
    else:
        assert math.isfinite(d["value"])
    assert d["gradients"] and all(math.isfinite(v) for v in d["gradients"].values())


def run(cg, name, *extra):
    args = header_command(os.path.join(SAMPLES, name))
    return cg(*args, *extra, "--format", "json").json()


def test_seed_sample(cg):
    d = run(cg, "seed.cg")
    assert (d["output"], d["value"], d["gradients"]) == ("g", -12.0, {"x": -3.0, "y": -3.0, "z": 4.0})


def test_neuron_sample(cg):
    b = json.load(open(os.path.join(SAMPLES, "neuron.json")))
    z = b["w1"] * b["x1"] + b["w2"] * b["x2"] + b["b"]
    a = 1 / (1 + math.exp(-z))
    loss = (a - b["target"]) ** 2
    dz = 2 * (a - b["target"]) * a * (1 - a)
    d = run(cg, "neuron.cg")
    assert d["output"] == "loss"
    assert d["value"] == pytest.approx(loss, rel=1e-14)
    expected = {"w1": dz * b["x1"], "w2": dz * b["x2"], "b": dz, "x1": dz * b["w1"], "x2": dz * b["w2"],
                "target": -2 * (a - b["target"])}
    assert d["gradients"] == pytest.approx(expected, rel=1e-12)


def test_rnn_sample_is_backprop_through_time(cg):
    b = json.load(open(os.path.join(SAMPLES, "rnn.json")))
    xs = [b["x%d" % k] for k in range(1, 6)]
    hs = [b["h0"]]
    for x in xs:
        hs.append(math.tanh(b["w"] * hs[-1] + b["u"] * x))
    loss = (hs[-1] - b["y"]) ** 2
    dh = 2 * (hs[-1] - b["y"])
    dw = du = 0.0
    for k in range(5, 0, -1):  # back through time
        da = dh * (1 - hs[k] ** 2)
        dw += da * hs[k - 1]
        du += da * xs[k - 1]
        dh = da * b["w"]
    d = run(cg, "rnn.cg")
    assert d["value"] == pytest.approx(loss, rel=1e-14)
    assert d["gradients"]["w"] == pytest.approx(dw, rel=1e-12)
    assert d["gradients"]["u"] == pytest.approx(du, rel=1e-12)
    assert d["gradients"]["h0"] == pytest.approx(dh, rel=1e-12)


def test_language_sample(cg):
    x = 2.0
    a, b, c = -x ** 2, 2 ** 3 ** 2, x ** -1
    dd = max(max(x - 1, 0), abs(x), math.log1p(math.exp(-x)))
    f = math.log2(8) + math.log10(100) + math.log(math.e)
    g = a + b / 512 + c + dd + f * math.sqrt(math.pi) / math.pi - math.atan(1) * 4 / math.pi
    d = run(cg, "language.cg")
    assert d["value"] == pytest.approx(g, rel=1e-14)
    assert d["gradients"]["x"] == pytest.approx(-2 * x - x ** -2 + 1, rel=1e-14)  # max picks abs(x)
