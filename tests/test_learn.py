"""`cgraph minimize` and `cgraph train`: the tutorial's training loop (issue 6)."""

import csv
import json
import os

import numpy as np
import pytest
from conftest import SAMPLES


def sample(name):
    return os.path.join(SAMPLES, name)


# ---- minimize -----------------------------------------------------------------

def test_minimize_a_quadratic(cg):
    r = cg("minimize", "(x-3)^2 + (y+1)^2", "x=0", "y=0", "--format", "json")
    assert r.status == 0, r.err
    d = r.json()
    assert d["converged"] is True
    assert d["params"]["x"] == pytest.approx(3, abs=1e-4) and d["params"]["y"] == pytest.approx(-1, abs=1e-4)
    assert d["value"] < 1e-8
    assert set(d) >= {"reason", "steps", "value", "params", "gradients"}


def test_one_step_is_x_minus_lr_times_the_gradient(cg):
    d = cg("minimize", "x^2 + 3*x*y", "x=3", "y=2", "--lr", "0.1", "--steps", "1", "--format", "json").json()
    # d/dx = 2x + 3y = 12, d/dy = 3x = 9
    assert d["params"] == {"x": 3 - 0.1 * 12, "y": 2 - 0.1 * 9}
    assert d["steps"] == 1 and d["converged"] is False and d["reason"] == "reached --steps 1"
    assert d["value"] == pytest.approx((3 - 1.2) ** 2 + 3 * (3 - 1.2) * (2 - 0.9))


def test_params_fix_the_other_inputs(cg):
    d = cg("minimize", "(x - a)^2", "x=0", "a=5", "--params", "x", "--format", "json").json()
    assert set(d["params"]) == {"x"} and d["params"]["x"] == pytest.approx(5, abs=1e-4)
    r = cg("minimize", "(x - a)^2", "x=0", "a=5", "--params", "q")
    assert r.status == 2 and r.err.startswith("error: --params: q is not an input of the program")


def test_momentum_takes_fewer_steps_on_a_narrow_valley(cg):
    args = ["minimize", "x^2 + 50*y^2", "x=1", "y=1", "--lr", "0.005", "--steps", "20000", "--tol", "1e-12",
            "--format", "json"]
    plain = cg(*args).json()
    heavy = cg(*args, "--momentum", "0.9").json()
    assert plain["converged"] and heavy["converged"]
    assert heavy["steps"] < plain["steps"] / 3


def test_diverging_run_stops_with_status_1(cg):
    r = cg("minimize", "x^2", "x=1", "--lr", "1.5")
    assert r.status == 1
    assert r.err.startswith("error: diverged at step ") and "(try a smaller --lr than 1.5)" in r.err
    assert r.out == ""


def test_domain_error_during_descent_names_the_step(cg):
    r = cg("minimize", "log(x)", "x=1", "--lr", "2", "--steps", "5")
    assert r.status == 1 and r.err.startswith("error: step 1: log(x) is undefined at x = -1")


def test_trace_writes_value_and_parameters_per_step(cg, tmp_path):
    f = tmp_path / "trace.csv"
    d = cg("minimize", "(x-3)^2", "x=0", "--steps", "10", "--trace", str(f), "--format", "json").json()
    rows = list(csv.DictReader(open(f)))
    assert list(rows[0]) == ["step", "value", "x"]
    assert len(rows) == 11 and rows[0] == {"step": "0", "value": "9.0", "x": "0.0"}
    xs = [float(r["x"]) for r in rows]
    for a, b in zip(xs, xs[1:]):
        assert b == pytest.approx(a - 0.1 * 2 * (a - 3), rel=1e-15)
    assert float(rows[-1]["x"]) == d["params"]["x"]


def test_minimize_plain_and_table(cg):
    r = cg("minimize", "(x-3)^2", "x=0")
    lines = r.out.splitlines()
    assert lines[0].startswith("stopped\t") and "converged\ttrue" in lines
    (x,) = [float(line.split("\t")[2]) for line in lines if line.startswith("param\tx\t")]
    assert x == pytest.approx(3, abs=1e-4)
    t = cg("minimize", "(x-3)^2", "x=0", "--format", "table").out
    assert "final value" in t and "▁" in t


# ---- train --------------------------------------------------------------------

def load(name):
    with open(sample(name)) as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def test_linear_regression_reaches_the_least_squares_solution(cg):
    rows = load("linreg.csv")
    A = np.array([[r["x"], 1.0] for r in rows])
    y = np.array([r["y"] for r in rows])
    (w, b), *_ = np.linalg.lstsq(A, y, rcond=None)  # the normal equations' solution
    r = cg("train", "-f", sample("linreg.cg"), "--data", sample("linreg.csv"), "w=0", "b=0", "--lr", "0.5",
           "--epochs", "3000", "--batch-size", "50", "--no-shuffle", "--format", "json")
    assert r.status == 0, r.err
    d = r.json()
    assert d["params"]["w"] == pytest.approx(w, abs=1e-4)
    assert d["params"]["b"] == pytest.approx(b, abs=1e-4)
    assert len(d["costs"]) == d["epochs"] == 3000
    assert d["cost"] == pytest.approx(np.mean((A @ [w, b] - y) ** 2), rel=1e-6)


def test_sgd_one_row_at_a_time_matches_a_hand_written_loop(cg):
    """Batch size 1, in file order: the tutorial's loop, computed here by hand."""
    rows = load("linreg.csv")
    w = b = 0.0
    lr = 0.1
    for _ in range(2):
        for r in rows:
            e = w * r["x"] + b - r["y"]
            w, b = w - lr * 2 * e * r["x"], b - lr * 2 * e
    d = cg("train", "-f", sample("linreg.cg"), "--data", sample("linreg.csv"), "w=0", "b=0", "--lr", "0.1",
           "--epochs", "2", "--no-shuffle", "--format", "json").json()
    assert d["params"]["w"] == pytest.approx(w, rel=1e-13)
    assert d["params"]["b"] == pytest.approx(b, rel=1e-13)


def test_mini_batches_average_the_gradient(cg):
    rows = load("linreg.csv")
    w = b = 0.0
    lr = 0.3
    for _ in range(3):
        for k in range(0, len(rows), 8):
            batch = rows[k:k + 8]
            es = [w * r["x"] + b - r["y"] for r in batch]
            gw = sum(2 * e * r["x"] for e, r in zip(es, batch)) / len(batch)
            gb = sum(2 * e for e in es) / len(batch)
            w, b = w - lr * gw, b - lr * gb
    d = cg("train", "-f", sample("linreg.cg"), "--data", sample("linreg.csv"), "w=0", "b=0", "--lr", "0.3",
           "--epochs", "3", "--batch-size", "8", "--no-shuffle", "--format", "json").json()
    assert d["params"]["w"] == pytest.approx(w, rel=1e-12)
    assert d["params"]["b"] == pytest.approx(b, rel=1e-12)


def test_shuffling_is_seeded(cg):
    args = ["train", "-f", sample("linreg.cg"), "--data", sample("linreg.csv"), "w=0", "b=0", "--epochs", "3",
            "--format", "json"]
    a, b, c = cg(*args).json(), cg(*args).json(), cg(*args, "--seed", "7").json()
    assert a["params"] == b["params"] != c["params"]


def test_logistic_regression_classifies_its_set(cg):
    d = cg("train", "-f", sample("logreg.cg"), "--data", sample("logreg.csv"), "w1=0", "w2=0", "b=0",
           "--lr", "0.5", "--epochs", "100", "--format", "json").json()
    p = d["params"]
    rows = load("logreg.csv")
    predicted = [1.0 if p["w1"] * r["x1"] + p["w2"] * r["x2"] + p["b"] > 0 else 0.0 for r in rows]
    assert predicted == [r["label"] for r in rows]


def test_xor_from_a_fixed_seed_and_saved_parameters(cg, tmp_path):
    saved = tmp_path / "xor.json"
    r = cg("train", "-f", sample("xor.cg"), "--data", sample("xor.csv"), "--init-seed", "0", "--lr", "0.5",
           "--epochs", "2000", "--save", str(saved), "--format", "json")
    assert r.status == 0, r.err
    d = r.json()
    assert d["cost"] < 0.05
    assert sorted(d["params"]) == sorted(["w11", "w12", "b1", "w21", "w22", "b2", "v1", "v2", "c"])
    assert json.load(open(saved)) == d["params"]
    for x1, x2, y in [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)]:
        e = cg("eval", "-f", sample("xor.cg"), "--bind", str(saved), "x1=%d" % x1, "x2=%d" % x2, "y=%d" % y,
               "--output", "out", "--format", "json").json()
        assert round(e["value"]) == y


def test_tol_stops_early(cg):
    d = cg("train", "-f", sample("linreg.cg"), "--data", sample("linreg.csv"), "w=0", "b=0", "--lr", "0.5",
           "--epochs", "5000", "--batch-size", "50", "--tol", "1e-9", "--format", "json").json()
    assert d["converged"] is True and d["epochs"] < 5000
    assert abs(d["costs"][-1] - d["costs"][-2]) < 1e-9


def test_train_errors(cg, tmp_path):
    base = ["train", "-f", sample("linreg.cg"), "--data", sample("linreg.csv")]
    r = cg(*base, "w=0")
    assert r.status == 2 and r.err.startswith("error: no starting value for b")
    r = cg(*base, "--params", "w,x", "w=0", "x=1")
    assert r.status == 2 and "x is both a parameter and a column" in r.err
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n2,oops\n")
    r = cg("train", "-f", sample("linreg.cg"), "--data", str(bad), "w=0", "b=0")
    assert r.status == 1 and r.err == "error: %s line 3, column y: 'oops' is not a number\n" % bad
    r = cg("train", "cost = (w*q - y)^2", "--data", sample("linreg.csv"), "--params", "w", "w=0")
    assert r.status == 1 and "no column for input q" in r.err


def test_train_shows_epochs_and_a_loss_curve(cg):
    r = cg(*["train", "-f", sample("linreg.cg"), "--data", sample("linreg.csv"), "w=0", "b=0", "--epochs", "40",
             "--format", "table"])
    assert r.status == 0 and r.err == ""  # no progress bar when stderr is not a terminal
    assert "epoch  1/40" in r.out and "epoch 40/40" in r.out
    assert "final mean cost" in r.out and "▁" in r.out
    p = cg("train", "-f", sample("linreg.cg"), "--data", sample("linreg.csv"), "w=0", "b=0", "--epochs", "40",
           "--every", "10").out.splitlines()
    assert [line.split("\t")[1] for line in p if line.startswith("epoch\t")] == ["1", "10", "20", "30", "40"]


def test_train_reads_parquet_and_arrow_like_the_csv(cg, tmp_path):
    pl = pytest.importorskip("polars")
    frame = pl.read_csv(sample("linreg.csv"))
    args = ["-f", sample("linreg.cg"), "w=0", "b=0", "--epochs", "20", "--batch-size", "4", "--format", "json"]
    want = cg("train", "--data", sample("linreg.csv"), *args)
    assert want.status == 0, want.err
    for ext, write in ((".parquet", frame.write_parquet), (".arrow", frame.write_ipc)):
        path = str(tmp_path / ("rows" + ext))
        write(path)
        got = cg("train", "--data", path, *args)
        assert got.status == 0, got.err
        assert got.json() == want.json()  # the same doubles, the same shuffles, the same steps


def test_train_names_a_null_in_parquet_by_its_row_index(cg, tmp_path):
    pl = pytest.importorskip("polars")
    frame = pl.read_csv(sample("linreg.csv")).with_row_index("i").with_columns(
        x=pl.when(pl.col("i") == 7).then(None).otherwise(pl.col("x"))).drop("i")
    path = str(tmp_path / "rows.parquet")
    frame.write_parquet(path)
    r = cg("train", "-f", sample("linreg.cg"), "--data", path, "w=0", "b=0", "--epochs", "2")
    assert r.status == 1
    assert r.err.strip() == "error: %s row 7, column x: is null" % path
