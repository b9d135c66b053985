"""`eval --data --jobs N`: the column passes of each chunk on worker processes,
the results handed back in input order.

The parent keeps everything that has an order: reading the file, the line
numbers, the bad rows' messages (the scalar re-run) and the writing. A worker
gets a chunk's numeric columns (numpy arrays) and returns the value, the
reported gradients and the indices of the rows with a non-finite number, which
is all `rows.py` needs from `core/columns.py`. At most 2*N chunks are in
flight, so memory stays flat. Imported only when --jobs can start a pool.

Workers ignore SIGINT (the parent's Ctrl-C ends the pool after the chunks being
run) and, on Linux, die with the parent (a closed pipe ends the parent by
SIGPIPE; its workers must not wait for chunks forever).
"""

import collections
import os
import signal
import sys

AUTO_ROWS = 200_000  # auto (--jobs 0 or none): a pool only once this many rows have been run in-process
# ... and only for a program this large: below it reading and writing, which stay in the
# parent, take most of the time, and workers cost memory and pickling for nothing
AUTO_NODES = 64


class Tape:
    """The parts of a Graph the column passes read (a Graph itself does not pickle)."""

    def __init__(self, g):
        self.ops, self.args, self.attr, self.depends, self.inputs = g.ops, g.args, g.attr, g.depends, g.inputs


def cores():
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class Several:
    """--output u,v in place of `wrt`: the outputs' nodes in the shared tape, each one's
    cone (a Tape, the shared tape's ids of its nodes) and the reported inputs."""

    def __init__(self, outs, wrt):
        self.ids, self.wrt = outs.ids, list(wrt)
        self.cones = [(Tape(sub), old) for sub, old in outs.cones]


def compute(g, wrt, nonfinite, cols, n):
    """One chunk through the column passes: (value, gradients of `wrt`, bad row indices).
    `wrt` a Several: (value_u, [value_v, ..., grad_u_x, ...] in field order, bad rows)."""
    import numpy as np

    from ..core import columns as batch
    if isinstance(wrt, Several):
        from ..core.jacobian import jacobian_columns
        values, jac, checked = jacobian_columns(g, wrt.cones, wrt.ids, wrt.wrt, cols, n)
        bad = [] if nonfinite else np.flatnonzero(batch.bad_rows(np, values, checked)).tolist()
        arrays = [values[o] for o in wrt.ids] + [np.zeros(n) if d is None else d for row in jac for d in row]
        return arrays[0], arrays[1:], bad
    values, grads = batch.run(g, cols, n)
    bad = [] if nonfinite else np.flatnonzero(batch.bad_rows(np, values, grads)).tolist()
    inputs = g.inputs
    return values[-1], [grads[inputs[w]] if w in inputs else np.zeros(n) for w in wrt], bad


def plan(g, jobs):
    """(workers, rows run here first) for `jobs`: 1 runs here; N > 1 on N workers; None
    or 0 on the cores there are (for a program of AUTO_NODES nodes or more), once
    AUTO_ROWS rows have been run here (a small file pays for no pool)."""
    if jobs:
        return jobs, 0
    return (cores() if len(g.ops) >= AUTO_NODES else 1), AUTO_ROWS


def results(g, wrt, nonfinite, items, jobs=1):
    """(meta, compute(...)) for each (meta, cols, n) of `items`, in order (cols None: the
    chunk's records are made already, fastjobs.py: (meta, (None, [], []))). `jobs`: as `plan`."""
    workers, threshold = plan(g, jobs)
    it = iter(items)
    if workers > 1 and not threshold:
        yield from _pooled(Tape(g), wrt, nonfinite, it, workers)
        return
    seen = 0
    for meta, cols, n in it:
        yield meta, ((None, [], []) if cols is None else compute(g, wrt, nonfinite, cols, n))
        seen += n
        if workers > 1 and seen >= threshold:
            break
    else:
        return
    yield from _pooled(Tape(g), wrt, nonfinite, it, workers)


def pool(workers, initializer, initargs, preload=None):
    """A pool of `workers` processes (forked on Linux: started in milliseconds, and the
    arguments copied, not pickled); each runs initializer(*initargs, parent's pid) first.
    `preload` (modules): the workers come from a fork server that imports them (Linux),
    so as to be forked from a process where they have not run (Polars: fastjobs.py)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    linux = sys.platform.startswith("linux")
    parent = os.getpid()
    if linux and preload:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(preload)
        parent = None  # a worker's parent is then the server
    else:
        ctx = multiprocessing.get_context("fork" if linux else None)
    for s in (sys.stdout, sys.stderr):  # a forked child must not write the parent's buffers again
        try:
            s.flush()
        except (AttributeError, OSError, ValueError):
            pass
    return ProcessPoolExecutor(workers, ctx, initializer=initializer, initargs=(*initargs, parent))


def result(future):
    """future.result(); a worker that died is an error of its own."""
    from concurrent.futures.process import BrokenProcessPool

    from ..core.errors import CgraphError
    try:
        return future.result()
    except BrokenProcessPool:
        raise CgraphError("a worker process of --jobs ended unexpectedly") from None


def shutdown(p):
    """The pool ended, after the work being run (the rest cancelled)."""
    try:
        p.shutdown(wait=True, cancel_futures=True)
    except OSError:  # finalized at exit (after Ctrl-C), when the pool's pipes are closed already
        pass


def _pooled(tape, wrt, nonfinite, it, workers):
    p = pool(workers, _init, (tape, wrt, nonfinite))
    pending = collections.deque()
    failure = None
    try:
        more = True
        while True:
            while more and len(pending) < 2 * workers:
                try:
                    meta, cols, n = next(it)
                except StopIteration:
                    more = False
                    break
                except Exception as e:  # a reading error: after the chunks before it, as with one job
                    failure, more = e, False
                    break
                pending.append((meta, submit(p, _work, cols, n)))
            if not pending:
                break
            meta, future = pending.popleft()
            yield meta, result(future)
        if failure is not None:
            raise failure
    finally:
        shutdown(p)


def submit(p, fn, *args):
    """p.submit; the first call starts the workers, which must not take the parent's Ctrl-C."""
    old = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
    try:
        return p.submit(fn, *args)
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)


def _main_thread():
    import threading
    return threading.current_thread() is threading.main_thread()


_STATE = None  # in a worker: (tape, wrt, nonfinite)


def _init(tape, wrt, nonfinite, parent):
    global _STATE
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if parent is not None and os.getppid() != parent:  # the parent ended before prctl
        os._exit(0)
    _STATE = (tape, wrt, nonfinite)


def _work(cols, n):
    assert _STATE is not None
    tape, wrt, nonfinite = _STATE
    return compute(tape, wrt, nonfinite, cols, n)
