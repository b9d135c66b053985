"""One evaluation per row: reading rows in chunks, running each chunk through the
tape with whole columns at once (batch.py), and finding the bad rows.

Rows are read, evaluated and handed on a chunk at a time, so memory does not
grow with the number of rows. A bad row (a non-numeric cell, a short row, a
domain error) stops the run with its line number, after the rows before it have
been written; with `skip_bad` it is reported through `on_bad` and left out, and
the rest go on. No row is ever dropped silently.
"""

import csv
import itertools
import json
import math

from ..core.errors import CgraphError, UsageError
from ..core.passes import check_bindings, evaluate
from ..core.numbers import parse_number

CELLS_PER_CHUNK = 1_000_000  # rows per chunk x nodes in the graph, at most
MAX_CHUNK = 16384  # rows; reached after about 32,000 rows, so memory is flat from there on


class Records:
    """A chunk's output: the rows' own columns, their line numbers, the value and
    the gradients (numpy arrays), and `keep`, the indices of the rows to write
    (None: all of them)."""

    def __init__(self, names, text, numeric, objs, lines, value, grads, keep=None):
        self.names = names  # the rows' own column names
        self.text = text  # per own column, the cells as text
        self.numeric = numeric  # own column name -> float array, for the columns read as numbers
        self.objs = objs  # JSON Lines input: the row objects (else None)
        self.lines = lines
        self.value = value
        self.grads = grads
        self.keep = keep

    def __len__(self):
        return len(self.lines) if self.keep is None else len(self.keep)


# ---- reading ------------------------------------------------------------------

def sniff_format(path, first_line):
    low = path.lower()
    if low.endswith(".csv"):
        return "csv"
    if low.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "jsonl" if first_line.lstrip().startswith("{") else "csv"


class _Chunk:
    def __init__(self, lines, text=None, objs=None):
        self.lines = lines  # line number of each row
        self.text = text  # CSV: per column, the cells
        self.objs = objs  # JSON Lines: the objects
        self.errors = {}  # row index -> message


def _sizes(largest, first=64):
    """Chunk sizes: small at first, so that the first records reach a pipe early
    (`| head`), then doubling up to `largest`."""
    n = min(first, largest)
    while True:
        yield n
        n = min(2 * n, largest)


class CsvRows:
    """A CSV file with a header line naming the columns."""

    def __init__(self, fh, name):
        self.fh = fh
        self.name = name
        header = fh.readline()
        if not header.strip():
            raise CgraphError("%s: no header line (a CSV file of rows starts with the column names)" % name)
        self.columns = [c.strip() for c in next(csv.reader([header]))]
        dup = sorted({c for c in self.columns if self.columns.count(c) > 1})
        if dup:
            raise CgraphError("%s line 1: column %s appears more than once" % (name, ", ".join(dup)))
        self.line = 1

    def chunks(self, size):
        k = len(self.columns)
        for n in _sizes(size):
            lines = list(itertools.islice(self.fh, n))
            if not lines:
                return
            first = self.line + 1
            self.line += len(lines)
            yield self._fast(lines, first, k) or self._slow(lines, first, k)

    @staticmethod
    def _fast(lines, first, k):
        """Split the whole chunk at once when it is plain: no quotes, no blank lines,
        every line with k - 1 commas."""
        text = "".join(lines)
        if '"' in text or "\r" in text or "\n" in lines:
            return None
        counts = set(map(str.count, lines, itertools.repeat(",", len(lines))))
        if counts != {k - 1}:
            return None
        if not text.endswith("\n"):
            text += "\n"
        cells = text[:-1].replace("\n", ",").split(",")
        return _Chunk(range(first, first + len(lines)), [cells[i::k] for i in range(k)])

    def _slow(self, lines, first, k):
        rows, numbers, errors = [], [], {}
        reader = csv.reader(lines)
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line is not a row
            line = first + reader.line_num - 1
            if len(row) != k:
                errors[len(rows)] = "%s line %d: expected %d cells, found %d" % (self.name, line, k, len(row))
                row = (row + [""] * k)[:k]
            rows.append(row)
            numbers.append(line)
        chunk = _Chunk(numbers, [list(c) for c in zip(*rows)] if rows else [[] for _ in range(k)])
        chunk.errors = errors
        return chunk


class JsonRows:
    """JSON Lines: one object per line; the first object's keys are the columns."""

    def __init__(self, fh, name):
        self.fh = fh
        self.name = name
        self.line = 0
        self._pending = None
        for raw in fh:
            self.line += 1
            if raw.strip():
                self._pending = raw
                break
        self.columns = []
        if self._pending is not None:
            try:
                obj = json.loads(self._pending)
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                self.columns = list(obj)

    def chunks(self, size):
        pending = self._pending
        for n in _sizes(size):
            lines = list(itertools.islice(self.fh, n))
            if pending is not None:
                lines.insert(0, pending)
                first = self.line
                self.line += len(lines) - 1
                pending = None
            else:
                if not lines:
                    return
                first = self.line + 1
                self.line += len(lines)
            objs, numbers, errors = [], [], {}
            for j, raw in enumerate(lines):
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                except ValueError as e:
                    obj = None
                    why = "not valid JSON (%s)" % e
                else:
                    why = "not a JSON object"
                if not isinstance(obj, dict):
                    errors[len(objs)] = "%s line %d: %s" % (self.name, first + j, why)
                    obj = {}
                objs.append(obj)
                numbers.append(first + j)
            chunk = _Chunk(numbers, objs=objs)
            chunk.errors = errors
            yield chunk


def open_rows(fh, name, fmt=None):
    if fmt is None:
        first = fh.readline()
        fmt = sniff_format(name, first)
        fh = itertools.chain([first], fh)
        fh = _Lines(fh)
    return (CsvRows if fmt == "csv" else JsonRows)(fh, name)


class _Lines:
    """A chained iterator of lines that also has readline()."""

    def __init__(self, it):
        self._it = iter(it)

    def __iter__(self):
        return self._it

    def __next__(self):
        return next(self._it)

    def readline(self):
        return next(self._it, "")


def _numbers(np, chunk, name, col, source, errors):
    """A column of cells as a float array; bad cells become nan and an error for their row."""
    if chunk.objs is None:
        try:
            return np.array(col, dtype=float)
        except ValueError:
            pass
    out = np.empty(len(col))
    for j, c in enumerate(col):
        if chunk.objs is not None:
            if name not in chunk.objs[j]:
                errors.setdefault(j, "%s line %d: no %s" % (source, chunk.lines[j], name))
                x = math.nan
            elif isinstance(c, (int, float)) and not isinstance(c, bool):
                x = float(c)
            else:
                x = parse_number(c) if isinstance(c, str) else None
                if x is None:
                    errors.setdefault(j, "%s line %d, %s: %s is not a number" % (
                        source, chunk.lines[j], name, json.dumps(c)))
                    x = math.nan
        else:
            x = parse_number(c)
            if x is None:
                try:
                    x = float(c)
                except ValueError:
                    what = "is empty" if not c.strip() else "%r is not a number" % c
                    errors.setdefault(j, "%s line %d, column %s: %s" % (source, chunk.lines[j], name, what))
                    x = math.nan
        out[j] = x
    return out


# ---- evaluating ---------------------------------------------------------------

def evaluate_rows(program, rows, bindings, wrt=None, nonfinite=False, skip_bad=False, on_bad=None):
    """Check the columns against the program, then return an iterator of Records,
    one per chunk of rows. `bindings` (NAME=VALUE) hold for every row."""
    g, _ = program.graph.cone(program.output)
    columns = rows.columns
    both = [c for c in columns if c in bindings]
    if both:
        raise UsageError("%s %s both bound on the command line and a column of %s" % (
            ", ".join(both), "is" if len(both) == 1 else "are", rows.name))
    wrt, _ = check_bindings(program, g, bindings, wrt)
    missing = [n for n in g.inputs if n not in bindings and n not in columns]
    if missing:
        raise CgraphError("%s: no column or binding for input%s %s (columns: %s)" % (
            rows.name, "" if len(missing) == 1 else "s", ", ".join(missing), ", ".join(columns) or "none"))
    return _row_chunks(program, g, rows, bindings, wrt, nonfinite, skip_bad, on_bad)


def _row_chunks(program, g, rows, bindings, wrt, nonfinite, skip_bad, on_bad):
    import numpy as np
    from ..core import columns as batch
    columns = rows.columns
    read = [c for c in columns if c in g.inputs]
    size = max(256, min(MAX_CHUNK, CELLS_PER_CHUNK // max(1, len(g.ops))))
    for chunk in rows.chunks(size):
        n = len(chunk.lines)
        if n == 0:
            continue
        errors = chunk.errors
        if chunk.objs is not None:
            text = [[_cell_text(o.get(c)) for o in chunk.objs] for c in columns]
            raw = {c: [o.get(c) for o in chunk.objs] for c in read}
        else:
            text = chunk.text
            raw = {c: text[columns.index(c)] for c in read}
        numeric = {c: _numbers(np, chunk, c, raw[c], rows.name, errors) for c in read}
        cols = dict(bindings)
        cols.update(numeric)
        values, grads = batch.run(g, cols, n)
        if not nonfinite:
            bad = np.flatnonzero(batch.bad_rows(np, values, grads))
            for j in bad.tolist():
                if j not in errors:
                    errors[j] = "%s line %d: %s" % (rows.name, chunk.lines[j], _row_error(
                        program, bindings, {c: float(numeric[c][j]) for c in read}))
        keep = _keep(errors, n, skip_bad, on_bad)
        inputs = g.inputs
        yield Records(columns, text, numeric, chunk.objs, chunk.lines, values[-1],
                      [grads[inputs[w]] if w in inputs else np.zeros(n) for w in wrt], keep)
        if errors and not skip_bad:
            raise CgraphError(errors[sorted(errors)[0]])


def _keep(errors, n, skip_bad, on_bad):
    """The rows of a chunk to write: all (None) when there are no errors; else with
    skip_bad all but the bad ones (each reported through on_bad), or without it the
    rows before the first bad one (the caller then stops with its error)."""
    if not errors:
        return None
    bad = sorted(errors)
    if not skip_bad:
        return list(range(bad[0]))
    for j in bad:
        on_bad(errors[j])
    return [j for j in range(n) if j not in errors]


def _cell_text(v):
    if isinstance(v, str):
        return v
    if v is None:
        return ""
    return json.dumps(v)


def _row_error(program, bindings, row):
    """The message the scalar passes give for one row (they name the node)."""
    b = dict(bindings)
    b.update(row)
    try:
        evaluate(program, b)
    except CgraphError as e:
        return e.message
    return "a value or gradient is not finite (--nonfinite lets inf and nan through)"


def evaluate_lines(lines, name, bindings, wrt=None, nonfinite=False, skip_bad=False, on_bad=None,
                   chunk=1000):
    """Each non-empty line is its own expression: yield Records with columns line and expr.
    The gradients reported are --wrt's names, else the bound names."""
    import numpy as np
    from ..core.language import parse_program
    names = list(dict.fromkeys(wrt)) if wrt else list(bindings)
    it = iter(enumerate(lines, 1))
    while True:
        batch_ = list(itertools.islice(it, chunk))
        if not batch_:
            return
        nums, texts, values, grads, errors = [], [], [], [], {}
        for number, raw in batch_:
            src = raw.rstrip("\r\n")
            if not src.strip():
                continue
            j = len(nums)
            nums.append(number)
            texts.append(src)
            try:
                r = evaluate(parse_program(src), bindings, nonfinite=nonfinite)
                values.append(r.value)
                grads.append([r.grads[r.graph.inputs[w]] if w in r.graph.inputs else 0.0 for w in names])
            except CgraphError as e:
                errors[j] = "%s line %d: %s" % (name, number, e.message)
                values.append(math.nan)
                grads.append([math.nan] * len(names))
        if not nums:
            continue
        keep = _keep(errors, len(nums), skip_bad, on_bad)
        g = np.array(grads, dtype=float).reshape(len(nums), len(names))
        yield Records(["line", "expr"], [[str(n) for n in nums], texts], {"line": np.array(nums, dtype=float)},
                      None, nums, np.array(values, dtype=float), [g[:, k] for k in range(len(names))], keep)
        if errors and not skip_bad:
            raise CgraphError(errors[sorted(errors)[0]])  # a bad line is a bad row: status 1
