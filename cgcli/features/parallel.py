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


def compute(g, wrt, nonfinite, cols, n):
    """One chunk through the column passes: (value, gradients of `wrt`, bad row indices)."""
    import numpy as np

    from ..core import columns as batch
    values, grads = batch.run(g, cols, n)
    bad = [] if nonfinite else np.flatnonzero(batch.bad_rows(np, values, grads)).tolist()
    inputs = g.inputs
    return values[-1], [grads[inputs[w]] if w in inputs else np.zeros(n) for w in wrt], bad


def results(g, wrt, nonfinite, items, jobs=1):
    """(meta, compute(...)) for each (meta, cols, n) of `items`, in order. `jobs`:
    1 runs here; N > 1 on N workers; None or 0 on the cores there are, once
    AUTO_ROWS rows have been run here (a small file pays for no pool)."""
    workers = (cores() if len(g.ops) >= AUTO_NODES else 1) if not jobs else jobs
    threshold = AUTO_ROWS if not jobs else 0
    it = iter(items)
    if workers > 1 and not threshold:
        yield from _pooled(Tape(g), wrt, nonfinite, it, workers)
        return
    seen = 0
    for meta, cols, n in it:
        yield meta, compute(g, wrt, nonfinite, cols, n)
        seen += n
        if workers > 1 and seen >= threshold:
            break
    else:
        return
    yield from _pooled(Tape(g), wrt, nonfinite, it, workers)


def _pooled(tape, wrt, nonfinite, it, workers):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from ..core.errors import CgraphError
    # fork starts a worker in milliseconds and copies the tape; elsewhere the tape is pickled
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
    for s in (sys.stdout, sys.stderr):  # a forked child must not write the parent's buffers again
        try:
            s.flush()
        except (AttributeError, OSError, ValueError):
            pass
    pool = ProcessPoolExecutor(workers, ctx, initializer=_init, initargs=(tape, wrt, nonfinite, os.getpid()))
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
                pending.append((meta, _submit(pool, cols, n)))
            if not pending:
                break
            meta, future = pending.popleft()
            try:
                out = future.result()
            except BrokenProcessPool:
                raise CgraphError("a worker process of --jobs ended unexpectedly") from None
            yield meta, out
        if failure is not None:
            raise failure
    finally:
        try:
            pool.shutdown(wait=True, cancel_futures=True)
        except OSError:  # finalized at exit (after Ctrl-C), when the pool's pipes are closed already
            pass


def _submit(pool, cols, n):
    """pool.submit; the first call starts the workers, which must not take the parent's Ctrl-C."""
    old = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
    try:
        return pool.submit(_work, cols, n)
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
    if os.getppid() != parent:  # the parent ended before prctl
        os._exit(0)
    _STATE = (tape, wrt, nonfinite)


def _work(cols, n):
    assert _STATE is not None
    tape, wrt, nonfinite = _STATE
    return compute(tape, wrt, nonfinite, cols, n)
