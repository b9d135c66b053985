"""Rows from a file: CSV (or TSV, or another delimiter) with a header line or
named columns, or JSON Lines, read a chunk at a time.

`open_rows` picks the format (by the file's extension, else by its first line)
and returns a source with `columns`, `name` and `chunks(size)`; `_numbers` turns
a column of cells into floats, bad cells into an error for their row.
"""

import csv
import functools
import itertools
import json
import math
import re
import sys

from ..core.errors import CgraphError, UsageError
from ..core.numbers import int_to_float, parse_number

MAX_LINE = 1 << 24  # characters in a line, and in a CSV cell: beyond it a file is not rows of text

_SUSPECT = re.compile("[\x00\udc80-\udcff]")  # NUL, or a byte that is not UTF-8 (surrogateescape)
_CELL_CHARS = re.compile(r"[0-9.eE+\- \tiInNfFtTyYaA]*").fullmatch  # what numbers and inf/nan are made of
_CELL_QUOTE = 40  # characters of a bad cell quoted in its message


def _field_limit():
    """CSV cells as long as a line (the csv module's default is 131,072 characters)."""
    limit = max(MAX_LINE, 1 << 20)
    try:
        csv.field_size_limit(limit)
    except OverflowError:  # a C long smaller than the limit
        csv.field_size_limit(min(limit, 2 ** 31 - 1, sys.maxsize))


def text_problem(text):
    """What makes `text` not a line of text, or None: a NUL, or a byte that is not
    UTF-8 (files are opened with errors="surrogateescape"). Returns (offset, why)."""
    m = _SUSPECT.search(text)
    if m is None:
        return None
    ch = m.group()
    if ch == "\x00":
        return m.start(), "contains a NUL byte (is it a text file?)"
    return m.start(), "not UTF-8 text (byte 0x%02x)" % (ord(ch) - 0xDC00)


def quote_cell(c):
    """A cell as its message quotes it: repr, cut short when it is long."""
    if len(c) <= _CELL_QUOTE:
        return repr(c)
    return "%r... (%d characters)" % (c[:_CELL_QUOTE], len(c))


def too_long(name, line):
    return "%s line %d: longer than %d characters (is it a text file of rows?)" % (name, line, MAX_LINE)


def sniff_format(path, first_line):
    low = path.lower()
    if low.endswith(".csv"):
        return "csv"
    if low.endswith(".tsv"):
        return "tsv"
    if low.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "jsonl" if first_line.lstrip().startswith("{") else "csv"


class _Chunk:
    def __init__(self, lines, text=None, objs=None):
        self.lines = lines  # line number of each row
        self.text = text  # CSV: per column, the cells
        self.objs = objs  # JSON Lines: the objects
        self.errors = {}  # row index -> message
        self.fatal = None  # a message that ends the reading: raised after this chunk is handed on


def _sizes(largest, first=64):
    """Chunk sizes: small at first, so that the first records reach a pipe early
    (`| head`), then doubling up to `largest`."""
    n = min(first, largest)
    while True:
        yield n
        n = min(2 * n, largest)


def _lines_of(fh):
    """The lines of a text file, none longer than MAX_LINE characters (a longer one
    comes as pieces; `_take` stops there), so a file without newlines (1 GB of NUL
    bytes) is not read into memory whole."""
    readline = getattr(fh, "readline", None)
    if readline is None:
        return iter(fh)
    return iter(functools.partial(readline, MAX_LINE), "")


def _first_line(it):
    """The first line, without a UTF-8 byte-order mark."""
    line = next(it, "")
    return line[1:] if line.startswith("\ufeff") else line


class _Rows:
    def _take(self, n):
        """Up to n lines, and the message for a line too long to be one (the lines
        before it are returned; the reading stops there)."""
        lines = list(itertools.islice(self._it, n))
        if lines and max(map(len, lines)) >= MAX_LINE:
            for j, line in enumerate(lines):
                if len(line) >= MAX_LINE and not line.endswith("\n"):
                    return lines[:j], too_long(self.name, self.line + j + 1)
        return lines, None


class CsvRows(_Rows):
    """A CSV file with a header line naming the columns (or, given `columns`, none:
    the first line is a row). Lines starting with "#" before the header (or the first
    row) are comments: skipped, but counted in the line numbers. `delimiter`: one character.
    `path`: the file's path when it may be read by Polars (fastcsv.py: the records are CSV);
    `reads`: the columns read as numbers, set by the caller before `chunks`."""

    def __init__(self, fh, name, first=None, delimiter=",", columns=None, path=None):
        _field_limit()
        self._it = _lines_of(fh)
        self.name = name
        self.d = delimiter
        self.path = path
        self.reads = None
        self.fast_size = None  # rows in a chunk on the fast path (default: as on the exact path)
        header = _first_line(self._it) if first is None else first
        self.line = 1
        while True:
            if len(header) >= MAX_LINE and not header.endswith("\n"):
                raise CgraphError(too_long(name, self.line))
            if not header.startswith("#"):
                break
            header = next(self._it, "")
            self.line += 1
        if columns is not None:  # no header: the line read is the first row
            self.columns = list(columns)
            self.line -= 1
            if header:
                self._it = itertools.chain([header], self._it)
            return
        bad = text_problem(header)
        if bad:
            raise CgraphError("%s line %d: %s" % (name, self.line, bad[1]))
        if not header.strip():
            raise CgraphError("%s: no header line (a CSV file of rows starts with the column names)" % name)
        try:
            self.columns = [c.strip() for c in next(csv.reader([header], delimiter=delimiter, strict=True))]
        except csv.Error as e:
            raise CgraphError("%s line %d: not a CSV header line (%s)" % (name, self.line, e)) from None
        dup = sorted({c for c in self.columns if self.columns.count(c) > 1})
        if dup:
            raise CgraphError("%s line %d: column %s appears more than once" % (name, self.line, ", ".join(dup)))

    def chunks(self, size):
        if self.path is not None and self.reads is not None:
            from . import fastcsv
            if fastcsv.eligible(self.path, self.d):
                self._it = iter(())  # the file is read again, by Polars and, for the rows it leaves, as text
                return fastcsv.chunks(self, self.path, size, self.reads, self.fast_size)
        return self.text_chunks(size)

    def text_chunks(self, size):
        """The exact path: the lines from self._it, as the csv module reads them."""
        k = len(self.columns)
        for n in _sizes(size):
            lines, fatal = self._take(n)
            if not lines and fatal is None:
                return
            first = self.line + 1
            text = "".join(lines)
            chunk = None
            if fatal is None and not _SUSPECT.search(text):
                chunk = self._fast(text, lines, first, k, self.d)
            if chunk is None:
                chunk = self._slow(lines, first, k, more=fatal is None)
            else:
                self.line += len(lines)
            if chunk.fatal is None:
                chunk.fatal = fatal
            yield chunk
            if chunk.fatal is not None:  # after the rows before it are handed on
                raise CgraphError(chunk.fatal)

    @staticmethod
    def _fast(text, lines, first, k, d=","):
        """Split the whole chunk at once when it is plain: no quotes, no blank lines,
        every line with k - 1 delimiters."""
        if '"' in text or "\r" in text or "\n" in lines:
            return None
        if k == 1 and not all(map(str.strip, lines)):  # a line of white space only: blank, not a row
            return None
        counts = set(map(str.count, lines, itertools.repeat(d, len(lines))))
        if counts != {k - 1}:
            return None
        if not text.endswith("\n"):
            text += "\n"
        cells = text[:-1].replace("\n", d).split(d)
        return _Chunk(range(first, first + len(lines)), [cells[i::k] for i in range(k)])

    def _slow(self, lines, first, k, more=True):
        """The csv module's reading of the chunk. A quoted cell may hold newlines: a
        row that starts in the chunk is read to its end, past the chunk's last line
        if it must be, and the next chunk starts after it."""
        rows, numbers, errors = [], [], {}
        n = len(lines)
        reader = csv.reader(itertools.chain(lines, self._it) if more else lines, delimiter=self.d, strict=True)
        fatal = None
        while reader.line_num < n:
            start = first + reader.line_num
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                why = str(e)
                if "field limit" in why:
                    fatal = "%s line %d: a cell longer than %d characters (is a closing quote missing?)" % (
                        self.name, start, MAX_LINE)
                    break
                if "unexpected end of data" in why:
                    why = "a quoted cell runs to the end of the file (is a closing quote missing?)"
                else:
                    why = "not valid CSV (%s)" % why
                errors[len(rows)] = "%s line %d: %s" % (self.name, start, why)
                rows.append([""] * k)
                numbers.append(start)
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line is not a row
            joined = ",".join(row)
            bad = text_problem(joined)
            if bad:
                errors[len(rows)] = "%s line %d: %s" % (self.name, start + joined.count("\n", 0, bad[0]), bad[1])
            elif len(row) != k:
                errors[len(rows)] = "%s line %d: expected %d cells, found %d" % (self.name, start, k, len(row))
            if len(row) != k:
                row = (row + [""] * k)[:k]
            rows.append(row)
            numbers.append(start)
        self.line = first - 1 + reader.line_num
        chunk = _Chunk(numbers, [list(c) for c in zip(*rows)] if rows else [[] for _ in range(k)])
        chunk.errors = errors
        chunk.fatal = fatal
        return chunk


def _loads(raw):
    """(object, None) or (None, why) for one line of JSON Lines."""
    try:
        return json.loads(raw), None
    except RecursionError:
        return None, "not valid JSON (nested too deeply)"
    except ValueError as e:
        return None, "not valid JSON (%s)" % e


class JsonRows(_Rows):
    """JSON Lines: one object per line; the first object's keys are the columns."""

    def __init__(self, fh, name, first=None):
        self._it = _lines_of(fh)
        self.name = name
        self.line = 0
        self._pending = None
        lines = itertools.chain([first], self._it) if first is not None else self._it
        for raw in lines:
            self.line += 1
            if self.line == 1 and raw.startswith("\ufeff"):
                raw = raw[1:]
            if len(raw) >= MAX_LINE and not raw.endswith("\n"):
                raise CgraphError(too_long(name, self.line))
            if raw.strip():
                self._pending = raw
                break
        self.columns = []
        if self._pending is not None:
            bad = text_problem(self._pending)
            if bad:
                raise CgraphError("%s line %d: %s" % (name, self.line, bad[1]))
            obj, why = _loads(self._pending)
            if why is None and not isinstance(obj, dict):
                why = "not a JSON object"
            if why is not None:
                raise CgraphError("%s line %d: %s (the first line's object names the columns)" % (
                    name, self.line, why))
            self.columns = list(obj)

    def chunks(self, size):
        pending = self._pending
        for n in _sizes(size):
            lines, fatal = self._take(n)
            if pending is not None:
                lines.insert(0, pending)
                first = self.line
                self.line += len(lines) - 1
                pending = None
            else:
                if not lines and fatal is None:
                    return
                first = self.line + 1
                self.line += len(lines)
            objs, numbers, errors = [], [], {}
            for j, raw in enumerate(lines):
                if not raw.strip():
                    continue
                bad = text_problem(raw)
                if bad:
                    obj, why = None, bad[1]
                else:
                    obj, why = _loads(raw)
                    if why is None:
                        why = "not a JSON object"
                if not isinstance(obj, dict):
                    errors[len(objs)] = "%s line %d: %s" % (self.name, first + j, why)
                    obj = {}
                objs.append(obj)
                numbers.append(first + j)
            chunk = _Chunk(numbers, objs=objs)
            chunk.errors = errors
            chunk.fatal = fatal
            yield chunk
            if fatal is not None:
                raise CgraphError(fatal)


def open_rows(fh, name, fmt=None, delimiter=None, columns=None, path=None):
    """A source of rows: CSV (`fmt` "csv", or "tsv": tab-delimited), or JSON Lines;
    without `fmt`, by the extension, else by the first line. `delimiter` (one character)
    and `columns` (no header line: the column names) are for CSV; with JSON Lines
    they are a usage error. `path`: the file's, for the fast path (CsvRows)."""
    first = None
    if fmt is None:
        it = _lines_of(fh)
        first = _first_line(it)
        if len(first) >= MAX_LINE and not first.endswith("\n"):
            raise CgraphError(too_long(name, 1))
        fmt = sniff_format(name, first)
        fh = it
    if fmt == "jsonl":
        given = [o for o, v in (("--delimiter", delimiter), ("--no-header", columns)) if v is not None]
        if given:
            raise UsageError("%s %s for CSV input; %s is JSON Lines" % (
                " and ".join(given), "is" if len(given) == 1 else "are", name))
        return JsonRows(fh, name, first)
    if delimiter is None:
        delimiter = "\t" if fmt == "tsv" else ","
    return CsvRows(fh, name, first, delimiter, columns, path)


def _numbers(np, chunk, name, col, source, errors, label=None):
    """A column of cells as a float array; bad cells become nan and an error for their row.
    `label`: the column as messages name it (default: `name`)."""
    label = name if label is None else label
    if chunk.objs is None and _CELL_CHARS("".join(col)):
        try:  # numpy reads as float() does; the characters checked leave only numbers and inf/nan
            return np.array(col, dtype=float)
        except ValueError:
            pass
    out = np.empty(len(col))
    for j, c in enumerate(col):
        if chunk.objs is not None:
            if name not in chunk.objs[j]:
                errors.setdefault(j, "%s line %d: no %s" % (source, chunk.lines[j], label))
                x = math.nan
            elif isinstance(c, int) and not isinstance(c, bool):
                x = int_to_float(c)
            elif isinstance(c, float):
                x = c
            else:
                x = parse_number(c) if isinstance(c, str) else None
                if x is None:
                    errors.setdefault(j, "%s line %d, %s: %s is not a number" % (
                        source, chunk.lines[j], label, _quote_json(c)))
                    x = math.nan
        else:
            x = parse_number(c)
            if x is None:
                what = "is empty" if not c.strip() else "%s is not a number" % quote_cell(c)
                errors.setdefault(j, "%s line %d, column %s: %s" % (source, chunk.lines[j], label, what))
                x = math.nan
        out[j] = x
    return out


def _quote_json(v):
    """A JSON value as its message quotes it, cut short when it is long."""
    try:
        t = json.dumps(v)
    except (ValueError, RecursionError):
        t = "a value"
    if len(t) <= _CELL_QUOTE:
        return t
    return "%s... (%d characters)" % (t[:_CELL_QUOTE], len(t))
