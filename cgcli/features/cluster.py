"""`eval --data PATHS --engine dask -o OUTDIR`: the evaluation on a Dask cluster.

The rows are Parquet or CSV files (paths or globs the workers can read), read as a
Dask DataFrame; each partition is one task on a worker: `cgcli.columns` over its
columns, the good rows with their own columns, value, grad_* (and hess_*) written
to OUTDIR/part.NNNNN.parquet (pandas' to_parquet, pyarrow), and the task hands back
only the partition's number of rows and its bad rows (index within it, message).
So nothing but the errors comes back to the client, each partition is evaluated
once, and OUTDIR's files in name order are the input order.

A bad row names its row in the whole data (1-based, counted over the partitions
before it) and its partition (0-based, as `df.partitions[P]`) with its row there.
Without skip_bad the run fails on the first bad row in input order and OUTDIR's
files are removed (when OUTDIR is a local path); with skip_bad the bad rows are left
out and reported. Workers must have cgraph installed (the task is a function of
this module). Dask and distributed are imported here only, when the run starts.
"""

import functools
import glob
import logging
import os
import re
import threading

from ..core.errors import CgraphError, UsageError

INSTALL = 'pip install "cgraph[dask]"'
PARQUET = (".parquet", ".pq", ".parq")
_PARSING = threading.Lock()  # the parser is one per process (threaded workers share it)


def require():
    """A UsageError naming the install command unless dask's dataframe, distributed and pyarrow import."""
    missing = []
    for mod in ("dask.dataframe", "distributed", "pyarrow"):
        try:
            __import__(mod)
        except ImportError:
            missing.append(mod.split(".")[0])
    if missing:
        raise UsageError("--engine dask needs %s, which %s not installed" % (
            " and ".join(sorted(set(missing))), "is" if len(set(missing)) == 1 else "are"), hint=INSTALL)


def _kind(path):
    """"parquet" or "csv", by the extension of a path or glob (a directory: Parquet)."""
    low = path.lower().rstrip("/")
    if low.endswith(PARQUET) or ("://" not in path and os.path.isdir(path)):
        return "parquet"
    if low.endswith(".csv"):
        return "csv"
    raise UsageError("--engine dask: cannot tell the format of %s" % path,
                     hint="give .parquet or .csv files, a glob of them, or a Parquet directory")


def _local(path):
    return "://" not in path


def check_out(out):
    """OUTDIR must be new or an empty directory (its files are the result, and a failed run removes them)."""
    if not out:
        raise UsageError("--engine dask writes a Parquet directory: give it with -o OUTDIR")
    if _local(out) and os.path.exists(out):
        if not os.path.isdir(out):
            raise UsageError("-o %s: not a directory" % out)
        if os.listdir(out):
            raise UsageError("-o %s: the directory is not empty" % out, hint="give a new or empty directory")


@functools.lru_cache(maxsize=8)
def _program(text, output):
    from ..api import parse
    with _PARSING:
        prog = parse(text)
    return prog.select(output) if output is not None else prog


def evaluate(part, text, output, wrt, nonfinite, hessian, bindings):
    """One pandas partition: (the output frame of its good rows, [(index in it, message)])."""
    from ..api import columns
    data = dict(bindings)
    data.update({c: part[c] for c in part.columns})
    res = columns(_program(text, output), data, wrt=wrt, nonfinite=nonfinite, hessian=hessian)
    clash = [k for k in res if k in part.columns]
    if clash:
        raise UsageError("column %s has the name of a field each record adds (rename it)" % clash[0])
    out = part.reset_index(drop=True).assign(**res)
    errors = list(res.errors)
    if errors:
        out = out.drop(index=[j for j, _ in errors]).reset_index(drop=True)
    return out, errors


def _task(part, number, out, text, output, wrt, nonfinite, hessian, bindings, skip_bad):
    """On a worker: evaluate partition `number`, write its file, return (rows, errors)."""
    frame, errors = evaluate(part, text, output, wrt, nonfinite, hessian, bindings)
    if skip_bad or not errors:
        if _local(out):
            os.makedirs(out, exist_ok=True)
        frame.to_parquet("%s/part.%05d.parquet" % (out.rstrip("/"), number), index=False)
    return len(part), errors[:None if skip_bad else 1]


def _read(paths, workers=1):
    """A Dask DataFrame; CSV in blocks of 1 to 64 MB, about 4 a worker (one big file is split too)."""
    import dask.dataframe as dd
    if _kind(paths) == "parquet":
        return dd.read_parquet(paths)
    size = sum(os.path.getsize(p) for p in glob.glob(paths)) if _local(paths) else 0
    block = min(64 << 20, max(1 << 20, size // (4 * max(1, workers)))) if size else 64 << 20
    return dd.read_csv(paths, blocksize=block)


def _quiet():
    for name in ("distributed", "dask"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _client(scheduler):
    """(Client, the LocalCluster started for this run or None)."""
    from distributed import Client, LocalCluster
    _quiet()
    if scheduler:
        try:
            return Client(scheduler, timeout="10s"), None
        except (OSError, TimeoutError) as e:
            raise CgraphError("--scheduler %s: cannot connect (%s)" % (scheduler, e)) from None
    # no dashboard; the scheduler's small HTTP server (health, metrics) on a free port of localhost, not 8787
    # (taken: a warning on stderr)
    cluster = LocalCluster(dashboard_address="localhost:0", scheduler_kwargs={"dashboard": False},
                           silence_logs=logging.WARNING, processes=True)
    return Client(cluster), cluster


def run(text, paths, out, output=None, wrt=None, nonfinite=False, hessian=False, bindings=None, skip_bad=False,
        scheduler=None, on_bad=None):
    """Evaluate on a cluster, write OUTDIR; return (rows, bad rows). A bad row without skip_bad raises
    (status 1) after the files are removed; with it, each bad row's message goes to `on_bad`."""
    require()
    check_out(out)
    bindings = dict(bindings or {})
    _kind(paths)
    import dask
    client, cluster = _client(scheduler)
    try:
        df = _read(paths, sum(client.nthreads().values()))
        # the program, its inputs and the names of the fields, checked on the client on an empty frame
        evaluate(df._meta, text, output, wrt, nonfinite, hessian, bindings)
        parts = df.to_delayed()
        task = dask.delayed(_task, pure=False)
        futures = client.compute([task(p, i, out, text, output, wrt, nonfinite, hessian, bindings, skip_bad)
                                  for i, p in enumerate(parts)])
        results = client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    total, start, bad = 0, [], []
    for number, (n, errors) in enumerate(results):
        start.append(total)
        total += n
        bad.extend((number, j, msg) for j, msg in errors)
    messages = ["%s row %d (partition %d, its row %d): %s" % (paths, start[p] + j + 1, p, j + 1, msg)
                for p, j, msg in bad]
    if bad and not skip_bad:
        _remove(out)
        raise CgraphError(messages[0])
    for m in messages:
        if on_bad is not None:
            on_bad(m)
    return total, len(bad)


def _remove(out):
    if _local(out) and os.path.isdir(out):
        for name in os.listdir(out):
            if re.fullmatch(r"part\.\d{5}\.parquet", name):
                os.remove(os.path.join(out, name))
