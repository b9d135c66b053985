"""Records (`eval --data`, `eval --lines`): one line per input row or line, in
CSV, tab-separated plain text, JSON Lines or a Rich table, a chunk at a time."""

import re
import sys

from ..core.errors import printable
from .common import console, fit_table, num, text

_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?").fullmatch


def write_stream(stream, fmt_, out, precision=6):
    """Every record of a rows.Stream, flushed chunk by chunk so that a pipe sees them early."""
    writer = record_writer(fmt_, out, precision)
    writer.start(stream.head, stream.fields)
    try:
        for rec in stream:
            writer.write(rec)
            out.flush()
    finally:  # the records gathered (CSV's fast path) before an error, or at the end
        if hasattr(writer, "finish"):
            writer.finish()


def record_writer(fmt_, out, precision=6):
    if fmt_ == "csv":
        return CsvRecords(out)
    if fmt_ == "plain":
        return CsvRecords(out, "\t")
    if fmt_ == "jsonl":
        return JsonlRecords(out)
    return TableRecords(out, precision)


def _pick(seq, keep):
    if keep is None:
        return seq
    if hasattr(seq, "shape"):
        return seq[keep]
    return [seq[j] for j in keep]


LONG_RUN = 100_000  # records written before the numbers are formatted with Polars (its import costs)


def _reprs(arr, polars=False):
    """repr of each float; with `polars`, a long array a column at a time (fastcsv.py)."""
    if not polars or len(arr) < 2048:
        return list(map(repr, arr.tolist()))
    from ..features.fastwrite import repr_list
    return repr_list(arr)


class CsvRecords:
    """CSV (or, with a tab delimiter, plain): a header, then a line per record."""

    def __init__(self, out, delimiter=","):
        import csv
        self.out = out
        self.d = delimiter
        self.writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
        self.written = 0
        self.rows = None  # the fast path's gathered rows (fastwrite.RowWriter)

    def finish(self):
        if self.rows is not None:
            self.rows.flush()

    def start(self, names, fields):
        self.writer.writerow(list(names) + list(fields))

    def write(self, rec):
        keep = rec.keep
        data = getattr(rec, "csv", None)
        if data is not None:  # the records written by a worker (features/fastjobs.py)
            self.finish()
            buf = getattr(self.out, "buffer", None)
            if buf is not None:
                self.out.flush()
                buf.write(data)
            else:
                self.out.write(data.decode("utf-8", "surrogateescape"))
            return
        if getattr(rec, "strings", None) is not None and self.d == ",":  # the fast path (fastcsv.py)
            if self.rows is None:
                from ..features.fastwrite import RowWriter
                self.rows = RowWriter(self.out)
            self.rows.add(rec.strings, [rec.value, *rec.grads, *rec.hess], keep, rec.commas)
            return
        self.finish()  # the rows gathered go first
        cols = [_pick(c, keep) for c in rec.text]
        if self.d == "\t":  # plain output is for a terminal too: control characters escaped
            cols = [[printable(s) for s in c] for c in cols]
        plain_text = all(not any(ch in s for ch in (self.d, '"', "\n", "\r"))
                         for s in ("\x00".join(c) for c in cols))
        fast = self.written >= LONG_RUN or "polars" in sys.modules
        cols.append(_reprs(_pick(rec.value, keep), fast))
        cols.extend(_reprs(_pick(gr, keep), fast) for gr in rec.grads)
        cols.extend(_reprs(_pick(h, keep), fast) for h in rec.hess)
        if not cols[-1]:
            return
        self.written += len(cols[-1])
        if plain_text:
            self.out.write("\n".join(map(self.d.join, zip(*cols))) + "\n")
        else:
            self.writer.writerows(zip(*cols))


def _json_numbers(arr):
    import numpy as np
    strs = _reprs(arr)
    if not np.isfinite(arr).all():
        for j in np.flatnonzero(~np.isfinite(arr)).tolist():
            strs[j] = '"%s"' % strs[j]
    return strs


def _json_object(o):
    """A row's own object as RFC 8259 JSON: a non-finite number in it (JSON Lines
    input may hold NaN, Infinity or 1e999, which Python reads) as "inf", "-inf", "nan"."""
    import json
    try:
        return json.dumps(o, allow_nan=False)
    except ValueError:
        from ..features.rows import finite_json
        return json.dumps(finite_json(o))


class JsonlRecords:
    """JSON Lines: one object per record, the row's own fields first."""

    def __init__(self, out):
        self.out = out

    def start(self, names, fields):
        self.keys = list(fields)

    def write(self, rec):
        import json
        keep = rec.keep
        parts = []
        if rec.objs is not None:
            objs = _pick(rec.objs, keep)
            parts.append([_json_object(o)[1:-1] for o in objs])
        else:
            for name, col in zip(rec.names, rec.text):
                col = _pick(col, keep)
                if name in rec.numeric:  # the cell's own text where it is a finite JSON number
                    strs = [c if j[0] != '"' and _JSON_NUMBER(c) else j
                            for c, j in zip(col, _json_numbers(_pick(rec.numeric[name], keep)))]
                else:
                    strs = list(map(json.dumps, col))
                parts.append(list(map((json.dumps(name) + ": ").__add__, strs)))
        for key, arr in zip(self.keys, [rec.value] + list(rec.grads) + list(rec.hess)):
            parts.append(list(map(('"%s": ' % key).__add__, _json_numbers(_pick(arr, keep)))))
        rows = list(map(", ".join, zip(*parts)))
        if rows:
            self.out.write("{" + "}\n{".join(rows) + "}\n")


class TableRecords:
    """A Rich table for people, printed a chunk at a time."""

    def __init__(self, out, precision=6):
        self.out = out
        self.precision = precision
        self.first = True

    def start(self, names, fields):
        self.header = list(names) + list(fields)
        self.con = console(self.out)

    def write(self, rec):
        from rich import box
        from rich.table import Table
        from rich.text import Text
        keep = rec.keep
        t = Table(box=box.SIMPLE_HEAD, show_header=self.first, show_edge=False)
        self.first = False
        nt = len(rec.names)
        for k, h in enumerate(self.header):
            # the row's own cells fold; the numbers are never cut short
            t.add_column(text(h), justify="left" if k < nt else "right",
                         style="green" if h.startswith("grad_") else None,
                         no_wrap=k >= nt, overflow="fold")
        cols = [[printable(s) for s in _pick(c, keep)] for c in rec.text]
        cols.append([num(x, self.precision) for x in _pick(rec.value, keep).tolist()])
        cols.extend([num(x, self.precision) for x in _pick(gr, keep).tolist()] for gr in rec.grads)
        cols.extend([num(x, self.precision) for x in _pick(h, keep).tolist()] for h in rec.hess)
        rows = list(zip(*cols))
        fit_table(self.con, t, rows, set(range(nt, len(self.header))), self.header)
        for row in rows:
            t.add_row(*[Text(s) for s in row])
        self.con.print(t)
