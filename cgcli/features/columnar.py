"""Parquet and Arrow IPC (Feather) rows in, and records out, with Polars.

Polars is imported here only, inside the functions: the data path pays for it,
start-up does not. `open_columnar` gives a source like readers.py's (`columns`,
`name`, `chunks(size)`), a chunk at a time sliced from a
lazy scan (Parquet, Arrow IPC), so memory stays flat. Rows are named by their
0-based row index (`d.parquet row 3: ...`), not a line. `write_binary` writes a
rows.Stream's records to a Parquet or Arrow IPC file in one pass: a generator of
the chunks' DataFrames is the source (an IO-source plugin) of one streaming Polars
sink into a temporary file beside the target, renamed over it at the end (a failed
run leaves no half-written file).
"""

import glob
import itertools
import os
import tempfile
import threading

from ..core.errors import CgraphError, UsageError

BINARY = ("parquet", "arrow")
_EXT = {".parquet": "parquet", ".pq": "parquet", ".arrow": "arrow", ".feather": "arrow", ".ipc": "arrow"}
READ_ROWS = 65536  # rows a batch read holds: sliced into the chunks (fewer batches read faster)
SINK_ROWS = 65536  # rows gathered before a chunk goes to the sink: fewer, larger pieces write faster
OUT_EXT = {".csv": "csv", ".tsv": "plain", ".jsonl": "jsonl", ".ndjson": "jsonl", **_EXT}


def binary_format(path, fmt=None):
    """'parquet' or 'arrow' when `path` is read with Polars (by --data-format, else by
    its extension; a directory is Parquet files), else None."""
    if fmt is not None:
        return fmt if fmt in BINARY else None
    if path is None or path == "-":
        return None
    ext = os.path.splitext(path.rstrip("/" + os.sep))[1].lower()
    if ext in _EXT:
        return _EXT[ext]
    if os.path.isdir(path):
        return "parquet"
    return None


def out_format(path):
    """The records format an -o FILE's extension names, or None."""
    return OUT_EXT.get(os.path.splitext(path)[1].lower())


def _paths(path, fmt):
    """The files of a dataset: a file, a directory's *.parquet files, or a glob's matches (sorted)."""
    if path == "-":
        raise UsageError("--data -: %s rows are read from a file, not standard input" % fmt)
    if os.path.isdir(path):
        if fmt != "parquet":
            raise UsageError("--data %s: a directory is read as Parquet files (use --data-format parquet)" % path)
        files = sorted(glob.glob(os.path.join(glob.escape(path), "*.parquet")))
        if not files:
            raise CgraphError("%s: no .parquet files in the directory" % path)
        return files
    if glob.has_magic(path) and not os.path.exists(path):
        files = sorted(p for p in glob.glob(path) if os.path.isfile(p))
        if not files:
            raise CgraphError("%s: no file matches" % path)
        return files
    if not os.path.isfile(path):
        raise CgraphError("cannot read %s: no such file" % path)
    return [path]


def _polars_error(name, e):
    why = str(e).strip().splitlines()
    return CgraphError("cannot read %s: %s" % (name, why[0] if why else type(e).__name__))


class _Chunk:
    """A slice of rows: `lines` are their row indices; `text` the cells as text (for
    the text writers), `frame` the typed slice (for the binary writers); `floats`
    gives an input column as a float array, its bad rows into `errors`."""

    def __init__(self, frame, start, name):
        import polars as pl
        self.frame = frame
        self.lines = range(start, start + frame.height)
        self.objs = None
        self.errors = {}
        self.fatal = None
        self._name = name
        # the cells as text, made only if a text writer asks (a binary output never does)
        self.text = LazyColumns(lambda: [_texts(pl, frame[c]) for c in frame.columns])
        self.typed = {c: frame[c].cast(pl.Float64).to_numpy() for c in frame.columns
                      if frame[c].dtype.is_numeric()}

    def floats(self, np, col, errors):
        s = self.frame[col]
        n = len(s)
        if not s.dtype.is_numeric():
            for j in range(n):
                errors.setdefault(j, "%s row %d, column %s: a %s value, not a number" % (
                    self._name, self.lines[j], col, s.dtype))
            return np.full(n, np.nan)
        out = np.asarray(self.typed[col], dtype=float)
        if s.null_count():
            out = np.array(out, dtype=float)
            for j in np.flatnonzero(s.is_null().to_numpy()).tolist():
                errors.setdefault(j, "%s row %d, column %s: is null" % (self._name, self.lines[j], col))
                out[j] = np.nan
        return out


class LazyColumns:
    """A list of columns built on first use (indexing, iteration, len)."""

    def __init__(self, make):
        self._make = make
        self._cols = None

    def _get(self):
        if self._cols is None:
            self._cols = self._make()
        return self._cols

    def __getitem__(self, k):
        return self._get()[k]

    def __iter__(self):
        return iter(self._get())

    def __len__(self):
        return len(self._get())


def _texts(pl, s):
    """A column's cells as text: numbers as Python writes them, null as ""."""
    if s.dtype == pl.String:
        return s.fill_null("").to_list()
    if s.dtype.is_float():
        return ["" if v is None else repr(v) for v in s.to_list()]
    if s.dtype.is_integer():
        return ["" if v is None else str(v) for v in s.to_list()]
    try:
        return s.cast(pl.String).fill_null("").to_list()
    except Exception:  # noqa: BLE001 (a nested type: its Python value as text)
        return ["" if v is None else str(v) for v in s.to_list()]


class ColumnarRows:
    """A Parquet dataset (a file, a directory, a glob) or an Arrow IPC file, a chunk at a time."""

    unit = "row"  # a bad row is named by its 0-based row index

    def __init__(self, path, fmt):
        import polars as pl
        self.name = path
        self.fmt = fmt
        files = _paths(path, fmt)
        try:
            scan = pl.scan_parquet if fmt == "parquet" else pl.scan_ipc
            self._lf = scan(files)
            self.columns = list(self._lf.collect_schema().names())
            self._n = self._lf.select(pl.len()).collect().item()
        except CgraphError:
            raise
        except Exception as e:  # noqa: BLE001 (Polars' errors: not the format, a schema mismatch, ...)
            raise _polars_error(path, e) from None

    def chunks(self, size):
        from .readers import _sizes
        start = 0
        sizes = iter(_sizes(size))
        want = next(sizes)
        pending = None  # rows read but not yet handed on
        try:
            batches = self._lf.collect_batches(chunk_size=max(size, READ_ROWS))
            for batch in batches:
                pending = batch if pending is None else pending.vstack(batch)
                while pending.height >= want:
                    frame, pending = pending.slice(0, want), pending.slice(want)
                    yield _Chunk(frame, start, self.name)
                    start += want
                    want = next(sizes)
        except CgraphError:
            raise
        except Exception as e:  # noqa: BLE001
            raise _polars_error(self.name, e) from None
        if pending is not None and pending.height:
            yield _Chunk(pending, start, self.name)


def open_columnar(path, fmt):
    return ColumnarRows(path, fmt)


# ---- writing ------------------------------------------------------------------

def _frame(pl, rec, fields):
    """A chunk's records as a DataFrame: the own columns (typed from a binary input;
    else Float64 for the columns read as numbers, String for the others), then
    value, grad_* and hess_* as Float64. The Series share the float arrays' memory
    (no copy): each chunk's arrays are new, and nothing writes to them afterwards."""
    import numpy as np
    keep = None if rec.keep is None else np.asarray(rec.keep, dtype=np.int64)
    frame = getattr(rec, "frame", None)
    cols = []
    if frame is not None:  # the own columns --keep/--drop leave, in their order
        cols.extend(frame.get_column(c) if keep is None else frame.get_column(c).gather(keep) for c in rec.names)
    else:
        for k, name in enumerate(rec.names):
            if name in rec.numeric:
                cols.append(_floats(pl, np, name, rec.numeric[name], keep))
            else:
                t = rec.text[k]
                cols.append(pl.Series(name, t if keep is None else [t[j] for j in keep], dtype=pl.String))
    cols.extend(_floats(pl, np, f, arr, keep) for f, arr in zip(fields, [rec.value] + list(rec.grads) + list(rec.hess)))
    return pl.DataFrame(cols)


def _floats(pl, np, name, arr, keep):
    a = np.asarray(arr, dtype=np.float64)
    return pl.Series(name, a if keep is None else a[keep])


def check_out(path):
    from .outfiles import check_writable
    check_writable(path, "-o")


def _empty(pl, stream):
    """The file's columns when no record was made: String where no row said."""
    schema = {c: pl.String for c in stream.head}
    schema.update({f: pl.Float64 for f in stream.fields})
    return pl.DataFrame(schema=schema)


def write_binary(stream, path, fmt):
    """Every record of `stream` into the Parquet or Arrow IPC file `path`: one streaming
    Polars sink into a temporary file beside it, fed a chunk at a time by a generator
    (an IO-source plugin, pulled lazily: memory stays flat), renamed over `path` once
    whole. On any error (a bad row raised inside the generator comes out as itself)
    the temporary file is removed."""
    import polars as pl
    check_out(path)
    folder = os.path.dirname(os.path.abspath(path))
    stop = threading.Event()  # set on Ctrl-C: the generator then ends the sink
    frames = (_frame(pl, rec, stream.fields) for rec in stream)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
        os.close(fd)
        # the first chunk is made here, on this thread: it gives the schema (and starts --jobs' workers)
        first = next(frames, None)
        if first is None:
            first = _empty(pl, stream)
        _sink(_source(pl, first, frames, stop), tmp, fmt, stop)
        os.chmod(tmp, _mode(path))
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise CgraphError("cannot write %s: %s" % (path, e.strerror or e)) from None
    except pl.exceptions.PolarsError as e:
        why = str(e).strip().splitlines()
        raise CgraphError("cannot write %s: %s" % (path, why[0] if why else type(e).__name__)) from None
    finally:
        frames.close()  # the sink has ended: the stream's generators (--jobs' workers) end here, now
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _mode(path):
    """The permissions of the file replaced, else those a new file gets (the umask's)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


class _Stopped(Exception):
    """Raised inside the generator when the main thread was interrupted."""


def _sink(lf, tmp, fmt, stop):
    """lf.sink_parquet/sink_ipc(tmp) on a thread of its own, so that this (the main) thread
    takes Ctrl-C at once: it then stops the generator at its next chunk, waits for the
    sink to end (a thread left inside Polars at exit aborts the interpreter) and re-raises.
    (An Event, not Thread.join: an interrupted join can report the thread ended.)"""
    failure, done = [], threading.Event()

    def run():
        try:
            lf.sink_parquet(tmp) if fmt == "parquet" else lf.sink_ipc(tmp)
        except BaseException as e:  # noqa: BLE001 (handed to the main thread)
            failure.append(e)
        finally:
            done.set()

    threading.Thread(target=run, name="cgraph-sink", daemon=True).start()
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        stop.set()
        while True:
            try:
                done.wait()
                break
            except KeyboardInterrupt:  # a second Ctrl-C: the generator stops at its next chunk all the same
                pass
        raise
    if failure:
        raise failure[0]


def _source(pl, first, frames, stop):
    """A LazyFrame whose rows are `first` then each of `frames`, made as the sink asks."""
    from polars.io.plugins import register_io_source
    schema = first.schema

    def gathered():  # chunks of about SINK_ROWS rows: the sink writes fewer, larger pieces
        pending, rows = [], 0
        for df in itertools.chain([first], frames):
            if stop.is_set():
                raise _Stopped()
            if df.schema != schema:
                df = df.cast(schema)  # type: ignore[arg-type]
            pending.append(df)
            rows += df.height
            if rows >= SINK_ROWS:
                yield pl.concat(pending, rechunk=False) if len(pending) > 1 else pending[0]
                pending, rows = [], 0
        if pending:
            yield pl.concat(pending, rechunk=False) if len(pending) > 1 else pending[0]

    def chunks(with_columns, predicate, n_rows, batch_size):
        for df in gathered():
            yield df if with_columns is None else df.select(with_columns)

    return register_io_source(chunks, schema=schema)
