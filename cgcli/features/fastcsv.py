"""The fast path of CSV (or TSV) rows in, CSV records out: Polars reads, casts
and writes, and the results are byte for byte those of the exact path
(readers.py, present/records.py), which it falls back on.

It is taken only where it is provably equivalent. The file (a regular one) is
read a block at a time on a reader thread (`_blocks`, `_ahead`), never whole, and
a block goes to Polars only if its bytes hold no quote, no carriage return, no NUL
and no line longer than MAX_LINE, and are UTF-8 (`_plain`): then each of its lines
is one row for Polars (an empty one a row of nulls; checked: the rows must be as
many as the lines), row i is line `first + i`. From the first block that is not
plain, the exact path reads the rest; a block Polars fails on (a row with more
cells than the header) goes the exact way, and the next one to Polars. A row goes
through Polars only if none of its cells is empty or missing (a short row, a blank
line), every number it reads is finite (Polars reads a subset of the language's
numbers, to the same doubles: tests/test_fastcsv.py) and, in a file of one column,
its cell does not start with white space (a blank line, which the exact path
skips); the other rows, in runs, are read again as text by the exact path, with
their line numbers. Polars is imported here only, on the data path.

The records are written by fastwrite.py. With --jobs, fastjobs.py sends whole
blocks to workers, which parse, check, evaluate and write them.
"""

import itertools
import os

from .readers import MAX_LINE

SMALL_FILE = 1 << 20  # bytes: below it, the exact path
BLOCK = 1 << 22  # bytes of the file scanned at a time (at most MAX_LINE)
JOB_BLOCK = 1 << 19  # ... with --jobs (fastjobs.py): smaller blocks share the work out evenly, in less memory
MAX_RUNS = 16  # runs of rows for the exact path in one batch; beyond it the whole batch goes there
DELIMITERS = ",\t;|"  # the ones the tests compare both paths on (not a space: Polars and csv may differ)


def eligible(path, delimiter):
    """Whether the file at `path` may be read by the fast path: a regular file of
    SMALL_FILE bytes or more (below it, Polars' import costs more than it saves), split
    by one of DELIMITERS. Its bytes are checked as it is read
    (`chunks`). CGRAPH_FASTCSV=0 turns the fast path off, =1 takes it whatever the size
    (for the tests)."""
    force = os.environ.get("CGRAPH_FASTCSV")
    if force == "0" or path is None or path == "-" or delimiter not in DELIMITERS:
        return False
    try:
        return os.path.isfile(path) and (force == "1" or os.path.getsize(path) >= SMALL_FILE)
    except OSError:
        return False


def _after(fh, skip, size=None):
    """The bytes after the first `skip` lines (read up to a block past them), or None when
    the exact path must read the file: a line too long, a byte-order mark on a row."""
    size = size or BLOCK
    data = b""
    while skip:  # the header and comment lines: the exact path has read them already
        block = fh.read(size)
        if not block:
            return b""
        data += block
        while skip:
            nl = data.find(b"\n")
            if nl < 0:
                break
            data, skip = data[nl + 1:], skip - 1
        if skip and len(data) >= MAX_LINE:
            return None
    if not data:
        data = fh.read(size)
    if len(data) > size or data.startswith(b"\xef\xbb\xbf"):
        return None
    return data


def _plain(body):
    """Whether whole lines (the rest of the block before's last line, then a block's) are
    read alike by Polars and the exact path, line for line: no quote (a quoted cell may
    hold line breaks), no carriage return (a line break for the exact path), no NUL,
    UTF-8, and no line longer than MAX_LINE (one after the first is within a block, so
    shorter)."""
    if b'"' in body or b"\r" in body or b"\x00" in body:
        return False
    first = body.find(b"\n")
    if (first + 1 if first >= 0 else len(body)) >= MAX_LINE - 1:
        return False
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


class FastChunk:
    """A batch of rows read by Polars: `lines` their line numbers, `strings` the cells as
    text (a Polars frame of the columns, by name), `floats` an input column's doubles
    (all finite: checked before the batch is taken). `text`: the cells as lists, made
    only if a writer other than the fast one asks."""

    objs = None
    fatal = None

    def __init__(self, strings, numbers, first, commas=False):
        from .columnar import LazyColumns
        self.strings = strings
        self.commas = commas  # whether a cell may hold a comma (not when "," split the line)
        self._numbers = numbers
        self.lines = range(first, first + strings.height)
        self.errors = {}
        self.text = LazyColumns(lambda: [strings.get_column(c).to_list() for c in strings.columns])

    def floats(self, np, col, errors):
        return self._numbers[col]


def parser(d, columns, reads):
    """(names, nums, parse): the Polars names of the columns, those of the numbers read
    (column -> name) and `parse`, a block's bytes to a frame with each row's "_ok"."""
    import polars as pl
    k = len(columns)
    names = ["c%d" % i for i in range(k)]
    nums = {c: "f%d" % columns.index(c) for c in reads}
    schema = {n: pl.String for n in names}
    checks = [pl.col(n).is_not_null() for n in names]
    casts = []
    for c, f in nums.items():  # Polars reads a subset of the language's numbers, to the same doubles
        casts.append(pl.col(names[columns.index(c)]).cast(pl.Float64, strict=False).alias(f))
        checks.append(pl.col(f).is_finite().fill_null(False))
    if k == 1:  # a line of white space only is blank (no row) for the exact path; with more
        # columns it is a short row for Polars, so a row of nulls
        checks.append(~pl.col(names[0]).str.contains(r"^[\s\x00-\x20\x7f-\x{a0}\x{feff}]"))

    def parse(body):
        return pl.read_csv(body, has_header=False, separator=d, quote_char=None, schema=schema,
                           raise_if_empty=False).with_columns(casts).with_columns(pl.all_horizontal(checks).alias("_ok"))
    return names, nums, parse


def parsed(body, n, parse):
    """`parse(body)` if it reads one row per line (`n` of them), else None."""
    try:
        batch = parse(body)
    except Exception:  # noqa: BLE001 (a row Polars cannot read: this block the exact way)
        return None
    return batch if batch.height == n else None


def fast_parts(batch, names, columns, nums, size):
    """(start, part, its strings, its numbers) for the runs of good rows of a parsed block,
    in parts of at most `size` rows, or (start, end, None, None) for a run of other rows."""
    import polars as pl
    for start, end, ok in _runs(batch.get_column("_ok")):
        if not ok:
            yield start, end, None, None
            continue
        for at in range(start, end, size):  # the column passes' memory is bounded by `size`
            part = batch.slice(at, min(size, end - at))
            strings = part.select([pl.col(n).alias(c) for n, c in zip(names, columns)])
            yield at, at + part.height, strings, {c: part.get_column(f).to_numpy() for c, f in nums.items()}


def chunks(rows, path, size, reads, fast_size=None):
    """The chunks of `rows` (a readers.CsvRows that has read its header: rows.line
    lines are behind) from Polars, a block of the file at a time, with the exact
    path's chunks for the rows it does not take. `reads`: the columns read as numbers;
    `fast_size`: rows in a chunk from Polars (default `size`, the exact path's).
    With rows.offload (--jobs: fastjobs.py), whole blocks may go to workers; then
    rows.offloaded is set (the chunks' column passes are done, or are to run here)."""
    off = getattr(rows, "offload", None)
    if off is not None and not off.ready(rows, reads, fast_size or size, path, BLOCK):
        off = None
    rows.offloaded = off is not None
    return _chunks(rows, path, size, reads, fast_size, off)


def _chunks(rows, path, size, reads, fast_size, off):
    columns = rows.columns
    skip = rows.line  # lines before the first row
    text = _TextLines(path)
    exact, size = size, fast_size or size
    made = []

    def parsing():  # (names, nums, parse); with workers, made (Polars imported) only if one leaves a block
        if not made:
            made.append(parser(rows.d, columns, reads))
        return made[0]

    def block(done, n, batch, body=None):  # a block's chunks, its first line after skip + done
        names, nums, parse = parsing()
        if body is not None:
            batch = parsed(body, n, parse)
        if batch is None:  # one row per line, always; else this block the exact way
            yield from _exact(rows, text, skip + done, n, exact)
            return
        for start, end, strings, numbers in fast_parts(batch, names, columns, nums, size):
            if strings is None:
                yield from _exact(rows, text, skip + done + start, end - start, exact)
            else:
                yield FastChunk(strings, numbers, skip + done + start + 1, rows.d != ",")

    if off is not None:
        from . import fastjobs
        items = fastjobs.blocks(lambda: _ahead(_blocks(path, skip, None, min(BLOCK, JOB_BLOCK))), off, block, skip)
    else:
        items = _serial(_ahead(_blocks(path, skip, parsing()[2])), block)
    done = yield from items
    if done is not None:
        yield from _exact(rows, text, skip + done, None, exact)


def _serial(blocks, block):
    """Each block's chunks; returns the rows done when the exact path takes the rest."""
    done = 0  # rows handed on
    for n, batch in blocks:
        if n is None:  # the exact path from this block's first row to the end
            return done
        yield from block(done, n, batch)
        done += n
    return None


def _blocks(path, skip, parse, size=None):
    """(lines, rows parsed by `parse` or None if it failed) for each block of whole lines after
    the first `skip` (`parse` None: the block's bytes); (None, None) once a block is not
    plain (the rest goes the exact way). `size`: bytes read at a time (default BLOCK)."""
    size = size or BLOCK
    with open(path, "rb") as fh:
        carry = _after(fh, skip, size)
        if carry is None:
            yield None, None
            return
        while carry is not None:
            block = fh.read(size)
            data = carry + block
            if not block:
                body, carry = data, None
            else:
                last = data.rfind(b"\n")
                body, carry = data[:last + 1], data[last + 1:]
            if not body:
                if carry is not None and len(carry) >= MAX_LINE - 1:
                    yield None, None  # a line too long: the exact path says so, after the rows before it
                    return
                continue
            if not _plain(body):
                yield None, None
                return
            n = body.count(b"\n") + (not body.endswith(b"\n"))
            yield n, (body if parse is None else parsed(body, n, parse))


def _ahead(items, depth=2):
    """The items of an iterator made on a thread, up to `depth` ahead (Polars parses the
    next block while this thread evaluates and writes one). An exception comes in its place."""
    import queue
    import threading
    q: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    end = object()

    def put(item):
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run():
        try:
            for item in items:
                if not put(item):
                    return
            put(end)
        except BaseException as e:  # noqa: BLE001 (an OSError reading, say: raised in the reader's place)
            put(e)

    threading.Thread(target=run, daemon=True, name="cgraph-fastcsv").start()
    try:
        while True:
            item = q.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def _runs(ok):
    """(start, end, ok) of the runs of a batch's rows; one run of bad rows for the whole
    batch when there are more than MAX_RUNS."""
    n = len(ok)
    if n == 0:
        return []
    if ok.all():
        return [(0, n, True)]
    import numpy as np
    a = ok.to_numpy()
    cuts = np.flatnonzero(a[1:] != a[:-1]) + 1
    if len(cuts) >= MAX_RUNS:
        return [(0, n, False)]
    bounds = [0] + cuts.tolist() + [n]
    return [(s, e, bool(a[s])) for s, e in zip(bounds, bounds[1:])]


class _TextLines:
    """The file's lines as the exact path reads them (readers.py), from a line on: one
    handle that only moves forward."""

    def __init__(self, path):
        self.path = path
        self.fh = None
        self.at = 0

    def lines(self, start, n):
        if self.fh is None:
            self.fh = open(self.path, encoding="utf-8-sig", errors="surrogateescape", newline="")
        if start > self.at:
            next(itertools.islice(self.fh, start - self.at, start - self.at), None)
            self.at = start
        self.at = start + n if n is not None else self.at
        return self.fh if n is None else itertools.islice(self.fh, n)


def _exact(rows, text, skipped, n, size):
    """Rows after line `skipped` (n of them, or to the end) through the exact path's reader."""
    rows.line = skipped
    rows._it = iter(list(text.lines(skipped, n))) if n is not None else text.lines(skipped, None)
    yield from rows.text_chunks(size)
