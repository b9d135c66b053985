"""Start-up: the seed command as a whole process, as a ratio to `python3 -c pass`.

The two are run in alternation in one run (this machine is noisy), and the
ratio of medians is printed. Start-up must be measured on a non-editable
install, where pip has written the .pyc files (PYTHONDONTWRITEBYTECODE=1 makes
a source checkout recompile at every start): by default this script builds the
wheel and installs it into bench/out/venv first.

    python bench/startup.py [--runs 40] [--cgraph PATH/TO/cgraph]

Targets (issue 2): plain and json within 6x, table within 10x.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")


def install():
    venv = os.path.join(OUT, "venv")
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    dist = os.path.join(OUT, "dist")
    subprocess.run([py, "-m", "pip", "install", "-q", "build"], check=True)
    subprocess.run([py, "-m", "build", "--wheel", "-o", dist, ROOT], check=True,
                   stdout=subprocess.DEVNULL)
    wheel = sorted(os.listdir(dist))[-1]
    subprocess.run([py, "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps",
                    os.path.join(dist, wheel)], check=True)
    subprocess.run([py, "-m", "pip", "install", "-q", os.path.join(dist, wheel)], check=True)
    return os.path.join(venv, "bin", "cgraph"), py


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--cgraph", help="an installed cgraph executable (default: build and install one)")
    a = ap.parse_args()
    if a.cgraph:
        exe = a.cgraph
        py = os.path.join(os.path.dirname(exe), "python")
    else:
        exe, py = install()
    seed = [exe, "eval", "(x+y)*z", "x=1", "y=3", "z=-3"]
    cases = {
        "python3 -c pass": [py, "-c", "pass"],
        "plain": seed + ["--format", "plain"],
        "json": seed + ["--format", "json"],
        "table": seed + ["--format", "table"],
        "--version": [exe, "--version"],
    }
    env = dict(os.environ, COLUMNS="100")
    times = {k: [] for k in cases}
    with open(os.devnull, "w") as devnull:
        for _ in range(3):  # warm the file cache
            for cmd in cases.values():
                subprocess.run(cmd, stdout=devnull, env=env)
        for _ in range(a.runs):
            for k, cmd in cases.items():
                t = time.perf_counter()
                r = subprocess.run(cmd, stdout=devnull, env=env)
                times[k].append(time.perf_counter() - t)
                assert r.returncode == 0, (k, r.returncode)
    base = statistics.median(times["python3 -c pass"])
    print("%-18s %10s %8s" % ("command", "median ms", "ratio"))
    for k, v in times.items():
        m = statistics.median(v)
        print("%-18s %10.1f %7.2fx" % (k, m * 1000, m / base))


if __name__ == "__main__":
    main()
