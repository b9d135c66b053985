"""CSV records of CSV's fast path (fastcsv.py) with Polars: `float_texts` writes doubles
as Python's repr does (the records' format) a column at a time: Polars' shortest
round-trip text, with repr's own text for the few values where the two forms differ
(NaN, and magnitudes below 1e-4). Polars is imported here only, on the data path.
"""

SMALL = 1e-4  # below it (and not 0) repr writes an exponent where Polars may not


def _odd(np, arr):
    """Where Polars' text of a double is not repr's: NaN, and 0 < |x| < SMALL."""
    with np.errstate(invalid="ignore"):
        return np.isnan(arr) | ((np.abs(arr) < SMALL) & (arr != 0))


def float_texts(arr):
    """A float array as a Polars String series, each value as Python's repr writes it."""
    import numpy as np
    import polars as pl
    arr = np.asarray(arr, dtype=float)
    s = pl.Series(arr, dtype=pl.Float64).cast(pl.String)
    odd = _odd(np, arr)
    if odd.any():
        idx = np.flatnonzero(odd)
        s = s.scatter(idx, [repr(v) for v in arr[idx].tolist()])
    return s


def repr_list(arr):
    """list(map(repr, arr.tolist())), faster for a long array."""
    if len(arr) < 2048:
        return list(map(repr, arr.tolist()))
    return float_texts(arr).to_list()


def _column(np, pl, arr, name):
    """A column of numbers for write_csv: the doubles themselves where Polars writes each
    as repr does (it writes them as its cast to String does), else their text."""
    if _odd(np, arr).any():
        return float_texts(arr).alias(name)
    return pl.Series(name, arr, dtype=pl.Float64)


GATHER = 65536  # rows of records gathered before one write_csv (a call costs about 2 ms)


class RowWriter:
    """CSV lines of the fast path's records, gathered up to GATHER rows a write: `add` the
    cells in `strings` (a Polars frame of String columns, none empty and none holding a
    quote or a line break) and `numbers` (float arrays), `flush` what is gathered. As
    csv.writer writes them: a cell is quoted only if it holds a comma (`commas`: it may)."""

    def __init__(self, out):
        self.out = out
        self.frames = []
        self.rows = 0
        self.quote = False

    def add(self, strings, numbers, keep=None, commas=True):
        import numpy as np
        import polars as pl
        if keep is not None:
            idx = np.asarray(keep, dtype=np.int64)
            strings = strings[idx] if len(idx) else strings.clear()
            numbers = [a[idx] for a in numbers]
        if strings.height == 0:
            return
        self.frames.append(pl.DataFrame([s.alias("s%d" % i) for i, s in enumerate(strings.get_columns())]
                                        + [_column(np, pl, a, "n%d" % i) for i, a in enumerate(numbers)]))
        self.rows += strings.height
        # no cell holds a quote or a line break; one holding a comma (TSV input) is quoted
        self.quote = self.quote or bool(commas and strings.width and strings.select(
            pl.any_horizontal(pl.all().str.contains(",", literal=True)).any()).item())
        if self.rows >= GATHER:
            self.flush()

    def flush(self):
        import polars as pl
        if not self.frames:
            return
        # a column of numbers is Float64 in one frame and String (repr's text) in another:
        # the String cast of the doubles is the text write_csv gives them
        frame = self.frames[0] if len(self.frames) == 1 else pl.concat(self.frames, how="vertical_relaxed")
        quote = "necessary" if self.quote else "never"
        self.frames, self.rows, self.quote = [], 0, False
        buf = getattr(self.out, "buffer", None)
        if buf is not None:
            self.out.flush()
            frame.write_csv(buf, include_header=False, line_terminator="\n", quote_style=quote)
        else:
            self.out.write(frame.write_csv(include_header=False, line_terminator="\n", quote_style=quote))


def write_rows(out, strings, numbers, keep=None, commas=True):
    """RowWriter's lines for one chunk, written at once."""
    w = RowWriter(out)
    w.add(strings, numbers, keep, commas)
    w.flush()
