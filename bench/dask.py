"""--engine dask on a 2-worker local cluster against --jobs 2 (local worker processes).

`cgraph eval "(x+y)*z" --data rows.csv` on 10^6 rows: `--jobs 2 > out.csv` against
`--engine dask --scheduler ADDRESS -o OUTDIR` (a LocalCluster of 2 single-threaded
worker processes started here once, so its start-up is not in the figure; the
`--engine dask` run without --scheduler, which starts its own, is timed once too).
One run each, alternating; prints the seconds and the ratio.

    python bench/dask.py [--rows 1000000]
"""

import argparse
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# this file is named dask.py: keep its folder off the path, or `import distributed` would import it as dask
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]

import subprocess  # noqa: E402

ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
sys.path.insert(0, HERE)
from jobs import make_rows  # noqa: E402

sys.path.remove(HERE)


def timed(cmd, stdout=subprocess.DEVNULL):
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE)
    if r.returncode:
        raise SystemExit("failed: %s\n%s" % (" ".join(cmd), r.stderr.decode()))
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    from distributed import LocalCluster
    os.makedirs(OUT, exist_ok=True)
    rows = os.path.join(OUT, "dask_rows.csv")
    make_rows(rows, args.rows)
    outdir = os.path.join(OUT, "dask_out")
    cg = [sys.executable, "-m", "cgcli", "eval", "(x+y)*z", "--data", rows]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="localhost:0",
                      scheduler_kwargs={"dashboard": False}) as lc:
        times = {}
        for name in ("--jobs 2", "--engine dask"):
            shutil.rmtree(outdir, ignore_errors=True)
            if name == "--jobs 2":
                with open(os.path.join(OUT, "dask_jobs.csv"), "wb") as fh:
                    times[name] = timed(cg + ["--jobs", "2"], stdout=fh)
            else:
                times[name] = timed(cg + ["--engine", "dask", "--scheduler", lc.scheduler_address, "-o", outdir])
            print("%-14s %.2f s" % (name, times[name]), flush=True)
    shutil.rmtree(outdir, ignore_errors=True)
    own = timed(cg + ["--engine", "dask", "-o", outdir])
    shutil.rmtree(outdir, ignore_errors=True)
    print("%-14s %.2f s (its own local cluster, start-up included)" % ("--engine dask", own))
    print("ratio --jobs 2 / --engine dask: %.2fx" % (times["--jobs 2"] / times["--engine dask"]))


if __name__ == "__main__":
    main()
