"""`--jobs N` on CSV's fast path (fastcsv.py): whole blocks of the file on workers.

The parent only reads the file, a block of whole lines at a time (on its reader
thread), and sends each block's bytes to a worker, which parses it with Polars,
checks it as the parent would (fastcsv.parser: one row per line, every cell
there, every number finite), runs the column passes (core/columns.py) and writes
the block's CSV records (fastwrite.RowWriter: the bytes of one job). It returns
them, or None when the block needs the parent: a row Polars does not take or a
non-finite value or gradient. The parent then runs that block itself, as with
one job, with its line numbers (its first line is known). The bytes are written
in input order; at most 2*N blocks are in flight, so memory stays flat.

The workers are forked before the parent reads a block or imports Polars (a
child forked after Polars has run would have no threads for it; where Polars is
imported already, a library caller's or the tests', they come from a fork server). With --jobs 0 (auto) a pool starts
only for a file that looks to hold parallel.AUTO_ROWS rows (from its first
block's lines), else the file is run here.
"""

import collections
import os
import sys

from . import parallel


class Offload:
    """What a worker needs for a block (copied to it when it is forked)."""

    def __init__(self, g, wrt, nonfinite, bindings, pairs, out, selected, jobs):
        self.tape = parallel.Tape(g)
        self.wrt, self.nonfinite = wrt, nonfinite
        self.bindings = dict(bindings)
        self.pairs = list(pairs)  # (input, the column it reads)
        self.out, self.selected = list(out), selected  # the columns shown (--keep, --drop)
        self.workers, self.threshold = parallel.plan(g, jobs)
        self.d = self.columns = self.reads = self.size = None  # set by `ready`
        self.parse = None

    def ready(self, rows, reads, size, path, block):
        """Whether the file at `path` goes to workers: with more than one, and (auto) a
        file that looks to hold `threshold` rows or more, from its first `block` bytes."""
        if self.workers <= 1:
            return False
        self.d, self.columns, self.reads, self.size = rows.d, list(rows.columns), list(reads), size
        if not self.threshold:
            return True
        try:
            with open(path, "rb") as fh:
                head = fh.read(block)
                total = os.fstat(fh.fileno()).st_size
        except OSError:
            return False
        return bool(head) and head.count(b"\n") * total / len(head) >= self.threshold


class BytesChunk:
    """A block's CSV records, written by a worker: `csv` the bytes, `lines` its line numbers."""

    def __init__(self, data, first, n):
        self.csv = data
        self.lines = range(first, first + n)
        self.errors: dict = {}
        self.keep = None


def blocks(items, off, block, skip):
    """fastcsv.chunks' chunks for `items()` ((lines, bytes) per block; (None, None): the exact
    path from there on), each block's records from a worker (a BytesChunk) or, where it
    returns None, the block's chunks here (`block(done, n, None, its bytes)`). Returns the
    rows done when the exact path takes the rest, else None."""
    # forked here unless Polars has been imported (a library caller, the tests): it may have
    # run, and a child forked since has no threads for it; then from a fork server
    p = parallel.pool(off.workers, _init, (off,), ["polars", __name__] if "polars" in sys.modules else None)
    pending: collections.deque = collections.deque()
    done = 0
    tail = False  # the exact path after the blocks in flight
    failure = None
    try:
        parallel.submit(p, os.getpid)  # the workers forked now, before a thread reads the file
        it = iter(items())
        more = True
        while True:
            while more and len(pending) < 2 * off.workers:
                try:
                    n, body = next(it)
                except StopIteration:
                    more = False
                    break
                except Exception as e:  # a reading error: after the blocks before it, as with one job
                    failure, more = e, False
                    break
                if n is None:
                    tail, more = True, False
                    break
                pending.append((n, body, parallel.submit(p, _work, body, n)))
            if not pending:
                break
            n, body, future = pending.popleft()
            data = parallel.result(future)
            if data is None:
                yield from block(done, n, None, body)
            else:
                yield BytesChunk(data, skip + done + 1, n)
            done += n
        if failure is not None:
            raise failure
    finally:
        parallel.shutdown(p)
    return done if tail else None


_OFF = None  # in a worker: the Offload


def _init(off, parent):
    global _OFF
    parallel._init(off.tape, off.wrt, off.nonfinite, parent)
    from . import fastcsv  # Polars imported here, after the fork
    off.names, off.nums, off.parse = fastcsv.parser(off.d, off.columns, off.reads)
    _OFF = off


class _Bytes:
    """An output for RowWriter that keeps the bytes."""

    def __init__(self):
        import io
        self.buffer = io.BytesIO()

    def flush(self):
        pass


def _work(body, n):
    """A block's CSV records (bytes), or None if the parent must run it."""
    from . import fastcsv
    from .fastwrite import RowWriter
    off = _OFF
    assert off is not None
    batch = fastcsv.parsed(body, n, off.parse)
    if batch is None or not batch.get_column("_ok").all():
        return None
    sink = _Bytes()
    w = RowWriter(sink)
    for _, _, strings, numbers in fastcsv.fast_parts(batch, off.names, off.columns, off.nums, off.size):
        cols = dict(off.bindings)
        cols.update({i: numbers[c] for i, c in off.pairs})
        value, grads, bad = parallel.compute(off.tape, off.wrt, off.nonfinite, cols, strings.height)
        if bad:
            return None
        w.add(strings.select(off.out) if off.selected else strings, [value, *grads], None, off.d != ",")
    w.flush()
    return sink.buffer.getvalue()
