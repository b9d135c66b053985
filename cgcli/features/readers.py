"""Rows from a file: CSV with a header line, or JSON Lines, read a chunk at a time.

`open_rows` picks the format (by the file's extension, else by its first line)
and returns a source with `columns`, `name` and `chunks(size)`; `_numbers` turns
a column of cells into floats, bad cells into an error for their row.
"""

import csv
import itertools
import json
import math

from ..core.errors import CgraphError
from ..core.numbers import parse_number


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
