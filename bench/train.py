"""The training loop: `cgraph train` against PyTorch (issue 6, point 5).

Prints, from one run (this machine is noisy: the contenders alternate, every
figure is a median of repeats, every ratio is taken within the run), epochs per
second for cgraph and for PyTorch (float64, CPU, ONE thread: torch.set_num_threads(1),
since cgraph is single-threaded), and their ratio, for

  (a) the XOR 2-2-1 network of samples/xor.cg on samples/xor.csv (4 rows),
      batch size 1 and 4, lr 0.5;
  (b) a 2-16-16-1 network (tanh hidden layers, sigmoid output, squared error:
      xor.cg made wider and deeper) on 10^4 generated rows (x1, x2 uniform in
      [-1, 1], y = 1 inside the circle x1^2 + x2^2 < 0.5), batch size 1 and 100,
      lr 0.1.

Both contenders do the same computation: the same parameter names and the same
starting values (cgraph gets them as a --bind JSON file, written under
bench/out/ with the program and the data), no shuffling (cgraph's --no-shuffle;
PyTorch goes through the batches in file order), plain SGD W = W - lr * grad
with the same lr, the cost and the gradients averaged over each batch, and the
epoch's mean cost accumulated (cgraph needs it for --tol and its report; the
PyTorch loop calls loss.item() for the same). The PyTorch side is what a PyTorch
user writes: parameter tensors, F.linear / tanh / sigmoid, ((out - y)**2).mean(),
loss.backward(), then `p -= lr * p.grad` under torch.no_grad().

cgraph is timed through its Python API (optimize.train on rows.open_rows, as
`cgraph train` calls it; no process start-up, no parse: the program is parsed
once, outside). The data file is read inside the timed call, as the CLI does;
PyTorch's timed call reads it too (numpy.loadtxt). The "read" columns give that
share; cgraph's also includes the final pass over all rows that optimize.train
makes for the reported cost and gradient.

Verified (asserted) before timing:
  - after a short run, both contenders' learned parameters agree to rtol 1e-9
    (both are float64 with the same operations; only the order of the sums in
    PyTorch's matrix products and libm-vs-vectorised tanh/sigmoid/exp differ, at
    the rounding level), and so do the epoch mean costs;
  - `cgraph train` on the command line (--bind FILE.json --no-shuffle --save)
    learns bit-for-bit the parameters the timed API call learns.
The timed runs' parameters are compared too (columns "max rel diff" and "agree",
not asserted): SGD amplifies rounding differences (a 1-ulp change of the
starting values moves the 2-16-16-1 batch-size-1 parameters by ~1e-12 (relative)
after one epoch and by up to ~1e-2 (absolute) after three), so agreement is
asserted on short runs only.

    python bench/train.py [--repeats 5] [--quick] [--json] [--blocks]

--blocks: only the 2-16-16-1 batch-100 case, the block plan (core/blocks.py)
against the per-node column passes and PyTorch (issue 13, part 2).

The default run takes about two minutes, most of it the 2-16-16-1 batch-size-1
rows (one epoch is 10^4 forward/backward passes of a ~1000-node tape).
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from cgcli.core.language import parse_program  # noqa: E402
from cgcli.features import learn as optimize  # noqa: E402
from cgcli.features import rows  # noqa: E402

now = time.perf_counter
RTOL, ATOL = 1e-9, 1e-12


# ---- the networks ---------------------------------------------------------------

class Net:
    """A tanh MLP with a sigmoid output: the cgraph program text and, per layer,
    the parameter names laid out as PyTorch's (weight[out][in], bias[out])."""

    def __init__(self, label, text, layers, data, lr):
        self.label = label
        self.text = text
        self.layers = layers  # [(weight names: rows of names, bias names)]
        self.data = data  # CSV path with columns x1, x2, y
        self.lr = lr
        self.names = [n for W, b in layers for n in [x for row in W for x in row] + b]


def xor_net():
    path = os.path.join(ROOT, "samples", "xor.cg")
    with open(path) as fh:
        text = fh.read()
    layers = [([["w11", "w12"], ["w21", "w22"]], ["b1", "b2"]), ([["v1", "v2"]], ["c"])]
    return Net("xor 2-2-1", text, layers, os.path.join(ROOT, "samples", "xor.csv"), 0.5)


def mlp_net(hidden=16, n=10_000, seed=1):
    """2-h-h-1: h1_j = tanh(W1_j_1*x1 + W1_j_2*x2 + b1_j), h2_k = tanh(sum_j W2_k_j*h1_j + b2_k),
    out = sigmoid(sum_k v_k*h2_k + c), cost = (out - y)^2."""
    h = hidden
    lines = ["# 2-%d-%d-1 network, written by bench/train.py" % (h, h)]
    for j in range(1, h + 1):
        lines.append("h1_%d = tanh(W1_%d_1*x1 + W1_%d_2*x2 + b1_%d)" % (j, j, j, j))
    for k in range(1, h + 1):
        s = " + ".join("W2_%d_%d*h1_%d" % (k, j, j) for j in range(1, h + 1))
        lines.append("h2_%d = tanh(%s + b2_%d)" % (k, s, k))
    lines.append("out = sigmoid(%s + c)" % " + ".join("v_%d*h2_%d" % (k, k) for k in range(1, h + 1)))
    lines.append("cost = (out - y)^2")
    text = "\n".join(lines) + "\n"
    layers = [
        ([["W1_%d_%d" % (j, i) for i in (1, 2)] for j in range(1, h + 1)], ["b1_%d" % j for j in range(1, h + 1)]),
        ([["W2_%d_%d" % (k, j) for j in range(1, h + 1)] for k in range(1, h + 1)],
         ["b2_%d" % k for k in range(1, h + 1)]),
        ([["v_%d" % k for k in range(1, h + 1)]], ["c"]),
    ]
    os.makedirs(OUT, exist_ok=True)
    data = os.path.join(OUT, "circle_%d.csv" % n)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n, 2))
    y = (x[:, 0] ** 2 + x[:, 1] ** 2 < 0.5).astype(int)
    with open(data, "w") as fh:
        fh.write("x1,x2,y\n")
        fh.writelines("%r,%r,%d\n" % (float(a), float(b), c) for (a, b), c in zip(x, y))
    net = Net("2-%d-%d-1" % (h, h), text, layers, data, 0.1)
    with open(os.path.join(OUT, "mlp_%d.cg" % h), "w") as fh:
        fh.write(text)
    return net


def initial(net, seed):
    """Starting values: for xor, what `--init-seed 0` gives; for the wide net,
    uniform in +-1/sqrt(fan_in) per layer (PyTorch's nn.Linear default range).
    Written as the --bind JSON file; json round-trips every double exactly."""
    if net.label.startswith("xor"):
        init = optimize.init_params(net.names, seed)
    else:
        rng = np.random.default_rng(seed)
        init = {}
        for W, b in net.layers:
            bound = 1.0 / np.sqrt(len(W[0]))
            for n in [x for row in W for x in row] + b:
                init[n] = float(rng.uniform(-bound, bound))
    path = os.path.join(OUT, "%s_init.json" % net.label.split()[-1])
    with open(path, "w") as fh:
        json.dump(init, fh, indent=1)
    with open(path) as fh:
        return json.load(fh), path


# ---- the contenders ---------------------------------------------------------------

def run_cgraph(net, program, init, epochs, bs):
    """What `cgraph train -f P --data D --bind INIT --lr LR --epochs E --batch-size B
    --no-shuffle` runs, minus start-up and parse. Returns (seconds, params, history)."""
    t = now()
    with open(net.data) as fh:
        out = optimize.train(program, rows.open_rows(fh, net.data), dict(init), net.names,
                             lr=net.lr, epochs=epochs, batch_size=bs, shuffle=False)
    return now() - t, out.params, out.history


def run_torch(net, init, epochs, bs):
    import torch
    F = torch.nn.functional
    t = now()
    with open(net.data) as fh:
        header = fh.readline().strip().split(",")
    a = np.loadtxt(net.data, delimiter=",", skiprows=1, ndmin=2)
    X = torch.from_numpy(np.ascontiguousarray(a[:, [header.index("x1"), header.index("x2")]]))
    Y = torch.from_numpy(np.ascontiguousarray(a[:, [header.index("y")]]))
    n = len(a)
    params = []
    for W, b in net.layers:
        params.append(torch.tensor([[init[x] for x in row] for row in W], dtype=torch.float64, requires_grad=True))
        params.append(torch.tensor([init[x] for x in b], dtype=torch.float64, requires_grad=True))
    layers = [(params[2 * k], params[2 * k + 1]) for k in range(len(net.layers))]
    last = len(layers) - 1
    lr = net.lr
    batches = list(zip(X.split(bs), Y.split(bs)))
    history = []
    for _ in range(epochs):
        total = 0.0
        for xb, yb in batches:
            h = xb
            for k, (W, b) in enumerate(layers):
                h = torch.sigmoid(F.linear(h, W, b)) if k == last else torch.tanh(F.linear(h, W, b))
            loss = ((h - yb) ** 2).mean()
            loss.backward()
            total += loss.item() * len(xb)
            with torch.no_grad():
                for p in params:
                    p -= lr * p.grad
                    p.grad = None
        history.append(total / n)
    elapsed = now() - t
    learned = {}
    for (Wn, bn), (W, b) in zip(net.layers, layers):
        for row, wrow in zip(Wn, W.detach().tolist()):
            learned.update(zip(row, wrow))
        learned.update(zip(bn, b.detach().tolist()))
    return elapsed, learned, history


def max_rel_diff(p, q):
    """The largest |a - b| / max(|a|, |b|) over the parameters (0 where both are 0)."""
    worst = 0.0
    for k in p:
        a, b = p[k], q[k]
        if a != b:
            worst = max(worst, abs(a - b) / max(abs(a), abs(b)))
    return worst


def agree(p, q):
    return all(abs(p[k] - q[k]) <= RTOL * max(abs(p[k]), abs(q[k])) + ATOL for k in p)


# ---- the shares -------------------------------------------------------------------

def cgraph_read_share(net, program, init):
    """Seconds of a timed cgraph call that are not epochs: reading the data
    (open_rows + read_columns) and the final pass over all rows (_mean_cost)."""
    g, _ = program.graph.cone(program.output)
    names = [n for n in g.inputs if n not in init]
    t = now()
    with open(net.data) as fh:
        cols, n = optimize.read_columns(rows.open_rows(fh, net.data), names)
    t_read = now() - t
    ids = [g.inputs.get(p) for p in net.names]
    t = now()
    optimize._mean_cost(g, cols, {}, dict(init), n, ids)
    return t_read, now() - t


def torch_read_share(net):
    t = now()
    np.loadtxt(net.data, delimiter=",", skiprows=1, ndmin=2)
    return now() - t


# ---- checks -----------------------------------------------------------------------

def check(net, program, init, epochs, bs):
    """A short run: the learned parameters and the epoch mean costs agree. For
    scale, also cgraph against itself started with every parameter one ulp away:
    SGD amplifies rounding differences, so agreement is asserted on short runs."""
    _, p_cg, h_cg = run_cgraph(net, program, init, epochs, bs)
    _, p_t, h_t = run_torch(net, init, epochs, bs)
    d = max_rel_diff(p_cg, p_t)
    assert agree(p_cg, p_t), "%s batch %d: parameters differ after %d epochs (max rel diff %.3g)" % (
        net.label, bs, epochs, d)
    dh = max(abs(a - b) / abs(b) for a, b in zip(h_cg, h_t))
    assert dh < RTOL, "%s batch %d: epoch mean costs differ (rel %.3g)" % (net.label, bs, dh)
    nudged = {k: float(np.nextafter(x, np.inf)) for k, x in init.items()}
    d_self = max_rel_diff(p_cg, run_cgraph(net, program, nudged, epochs, bs)[1])
    return d, dh, d_self, p_cg


def check_cli(net, init_path, epochs, bs, p_api):
    """`cgraph train` on the command line learns exactly what the timed API call learns."""
    save = os.path.join(OUT, "train_cli_%s_%d.json" % (net.label.split()[-1], bs))
    cg = os.path.join(OUT, "mlp_16.cg") if not net.label.startswith("xor") else os.path.join(ROOT, "samples", "xor.cg")
    cmd = [sys.executable, "-m", "cgcli", "train", "-f", cg, "--data", net.data, "--bind", init_path,
           "--lr", repr(net.lr), "--epochs", str(epochs), "--batch-size", str(bs), "--no-shuffle",
           "--save", save, "--format", "plain"]
    r = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode:
        raise SystemExit("failed: %s\n%s" % (" ".join(cmd), r.stderr.decode()))
    with open(save) as fh:
        p_cli = json.load(fh)
    assert p_cli == p_api, "%s batch %d: the CLI and the API learn different parameters" % (net.label, bs)


# ---- issue 13, part 2: the block plan --------------------------------------------

def blocks_case(net, program, init, repeats, epochs=10, bs=100):
    """The 2-16-16-1 network, batch 100: ms per epoch with the block plan (core/blocks.py),
    with the per-node column passes (the plan switched off) and PyTorch; the parameters
    after 2 epochs compared (asserted to 1e-9) between the three."""
    from cgcli.core import blocks
    real = blocks.plan_for

    def per_node(fn, *args):
        blocks.plan_for = lambda g: None
        try:
            return fn(*args)
        finally:
            blocks.plan_for = real

    p_blk = run_cgraph(net, program, init, 2, bs)[1]
    p_old = per_node(run_cgraph, net, program, init, 2, bs)[1]
    p_t = run_torch(net, init, 2, bs)[1]
    d_old, d_t = max_rel_diff(p_blk, p_old), max_rel_diff(p_blk, p_t)
    assert agree(p_blk, p_old) and agree(p_blk, p_t), (d_old, d_t)
    t_blk, t_old, t_t = [], [], []
    for _ in range(repeats):
        t_blk.append(run_cgraph(net, program, init, epochs, bs)[0] / epochs)
        t_old.append(per_node(run_cgraph, net, program, init, epochs, bs)[0] / epochs)
        t_t.append(run_torch(net, init, epochs, bs)[0] / epochs)
    b, o, t = (statistics.median(x) for x in (t_blk, t_old, t_t))
    print("issue 13, part 2 (the block plan): %s, batch %d, %d epochs per timed call (each includes its "
          "CSV read and final pass)" % (net.label, bs, epochs))
    print("  cgraph blocks %.1f ms/epoch, per-node passes %.1f ms/epoch, PyTorch %.1f ms/epoch" % (
        1e3 * b, 1e3 * o, 1e3 * t))
    print("  blocks / PyTorch time: %.2fx (goal <= 2x); per-node / PyTorch: %.1fx; blocks speed-up %.1fx"
          % (b / t, o / t, o / b))
    print("  parameters after 2 epochs: blocks vs per-node max rel diff %.1e, blocks vs PyTorch %.1e "
          "(both asserted <= %g)" % (d_old, d_t, RTOL))
    return dict(blocks_ms=1e3 * b, pernode_ms=1e3 * o, torch_ms=1e3 * t, ratio=b / t, d_pernode=d_old, d_torch=d_t)


# ---- main -------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per contender and case (median)")
    ap.add_argument("--quick", action="store_true", help="a tenth of the epochs, one repeat fewer")
    ap.add_argument("--json", action="store_true", help="also print the results as JSON")
    ap.add_argument("--blocks", action="store_true",
                    help="only issue 13's case: 2-16-16-1 batch 100, block plan vs per-node vs PyTorch")
    a = ap.parse_args()

    import torch
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)

    xor = xor_net()
    mlp = mlp_net()
    nets = {}
    for net in (xor, mlp):
        prog = parse_program(net.text)
        init, path = initial(net, 0)
        assert sorted(init) == sorted(n for n in prog.graph.inputs if n not in ("x1", "x2", "y"))
        nets[net.label] = (net, prog, init, path)

    if a.blocks:
        _, prog, init, _ = nets[mlp.label]
        blocks_case(mlp, prog, init, repeats=a.repeats)
        return
    # (net, batch size, epochs per timed call)
    scale = 0.1 if a.quick else 1.0
    repeats = max(1, a.repeats - 1) if a.quick else a.repeats
    cases = [(xor, 1, 2000), (xor, 4, 2000), (mlp, 1, 2), (mlp, 100, 10)]

    print("cgraph train vs PyTorch %s (float64, CPU, torch.set_num_threads(1); cgraph is single-threaded)"
          % torch.__version__)
    print("python %s, numpy %s, %s; %d repeats per case, contenders alternating, medians"
          % (platform.python_version(), np.__version__, platform.machine(), repeats))
    print()

    # 1. honesty: short runs agree, and the CLI learns what the API learns
    print("checks (asserted):")
    for net, bs, ep in [(xor, 1, 50), (xor, 4, 50), (mlp, 1, 1), (mlp, 100, 3)]:
        _, prog, init, path = nets[net.label]
        if net is mlp and bs == 1 and a.quick:
            continue
        d, dh, d_self, p_api = check(net, prog, init, ep, bs)
        check_cli(net, path, ep, bs, p_api)
        print("  %-10s batch %3d, %2d epoch%s: %d parameters agree with PyTorch: max rel diff %.1e "
              "(cgraph vs itself started 1 ulp away: %.1e), epoch mean costs %.1e; CLI == API bit for bit"
              % (net.label, bs, ep, "" if ep == 1 else "s", len(p_api), d, d_self, dh))
    print()

    # 2. the shares of a call that are not epochs
    shares = {}
    for label, (net, prog, init, _) in nets.items():
        rc, fc, rt = [], [], []
        for _ in range(5):
            r, f = cgraph_read_share(net, prog, init)
            rc.append(r)
            fc.append(f)
            rt.append(torch_read_share(net))
        shares[label] = (statistics.median(rc), statistics.median(fc), statistics.median(rt))

    # 3. the timings
    results = []
    for net, bs, epochs in cases:
        epochs = max(1, int(epochs * scale))
        _, prog, init, _ = nets[net.label]
        run_cgraph(net, prog, init, 1, bs)  # warm-up (imports, first-call costs)
        run_torch(net, init, 1, bs)
        t_cg, t_t, ratios, diffs = [], [], [], []
        for r in range(repeats):
            if r % 2 == 0:
                c = run_cgraph(net, prog, init, epochs, bs)
                t = run_torch(net, init, epochs, bs)
            else:
                t = run_torch(net, init, epochs, bs)
                c = run_cgraph(net, prog, init, epochs, bs)
            t_cg.append(c[0])
            t_t.append(t[0])
            ratios.append(t[0] / c[0])
            diffs.append((max_rel_diff(c[1], t[1]), agree(c[1], t[1])))
        rd, fin, rt = shares[net.label]
        n_rows = sum(1 for _ in open(net.data)) - 1
        res = dict(net=net.label, rows=n_rows, batch=bs, epochs=epochs,
                   cgraph_s=statistics.median(t_cg), torch_s=statistics.median(t_t),
                   ratio=statistics.median(ratios), max_rel_diff=max(d for d, _ in diffs),
                   agree=all(ok for _, ok in diffs),
                   cgraph_read_s=rd, cgraph_final_s=fin, torch_read_s=rt)
        results.append(res)

    print("epochs per second (a timed call = read the CSV + E epochs; cgraph also makes its final "
          "cost pass);")
    print("ratio = cgraph epochs/s / PyTorch epochs/s (> 1: cgraph faster), median of the per-repeat ratios")
    print()
    hdr = ("%-10s %6s %5s %6s | %10s %10s %6s | %10s %10s %6s | %7s | %12s %5s"
           % ("network", "rows", "batch", "epochs", "cgraph e/s", "ms/epoch", "read%",
              "torch e/s", "ms/epoch", "read%", "ratio", "max rel diff", "agree"))
    print(hdr)
    print("-" * len(hdr))
    for r in results:
        e = r["epochs"]
        cg_fixed = r["cgraph_read_s"] + r["cgraph_final_s"]
        print("%-10s %6d %5d %6d | %10.4g %10.4g %5.1f%% | %10.4g %10.4g %5.1f%% | %6.3gx | %12.1e %5s"
              % (r["net"], r["rows"], r["batch"], e,
                 e / r["cgraph_s"], 1e3 * r["cgraph_s"] / e, 100 * cg_fixed / r["cgraph_s"],
                 e / r["torch_s"], 1e3 * r["torch_s"] / e, 100 * r["torch_read_s"] / r["torch_s"],
                 r["ratio"], r["max_rel_diff"], "yes" if r["agree"] else "no"))
    print()
    print("max rel diff / agree: the timed runs' learned parameters, cgraph against PyTorch (agree: within")
    print("rtol %g + atol %g; long batch-size-1 runs drift apart as rounding differences grow, see the checks)"
          % (RTOL, ATOL))
    print("read%: the share of the timed call spent outside the epochs (cgraph: reading the CSV and the")
    print("final cost pass; PyTorch: numpy.loadtxt):")
    for label, (rd, fin, rt) in shares.items():
        print("  %-10s cgraph read %.2f ms + final cost pass %.2f ms; PyTorch numpy.loadtxt %.2f ms"
              % (label, 1e3 * rd, 1e3 * fin, 1e3 * rt))
    print("per step (one batch's forward + backward + update):")
    for r in results:
        steps = r["epochs"] * -(-r["rows"] // r["batch"])
        print("  %-10s batch %3d: cgraph %8.1f us, PyTorch %8.1f us"
              % (r["net"], r["batch"], 1e6 * r["cgraph_s"] / steps, 1e6 * r["torch_s"] / steps))
    if a.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
