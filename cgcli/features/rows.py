"""One evaluation per row: rows read in chunks (readers.py), each chunk run through
the tape with whole columns at once (core/columns.py), and the bad rows found.

Rows are read, evaluated and handed on a chunk at a time, so memory does not
grow with the number of rows. A bad row (a non-numeric cell, a short row, a
domain error) stops the run with its line number, after the rows before it have
been written; with `skip_bad` it is reported through `on_bad` and left out, and
the rest go on. No row is ever dropped silently.
"""

import itertools
import math

from ..core import jacobian
from ..core.errors import CgraphError, UsageError
from ..core.numbers import finite_json, fmt, json_text  # noqa: F401 (finite_json: for the callers)
from ..core.passes import NONFINITE, check_bindings, evaluate, read_inputs
from .readers import MAX_LINE, _numbers, open_rows, text_problem, too_long  # noqa: F401 (open_rows: for the callers)
from .select import Columns

CELLS_PER_CHUNK = 1_000_000  # rows per chunk x nodes in the graph, at most
MAX_CHUNK = 16384  # rows; reached after about 32,000 rows, so memory is flat from there on
FAST_CHUNK = 262144  # rows, at most, in a chunk of CSV's fast path (fastcsv.py)
FAST_CELLS = CELLS_PER_CHUNK  # ... and rows x nodes: fewer, larger chunks for --jobs (64 MB of columns a chunk)


class Records:
    """A chunk's output: the rows' own columns, their line numbers, the value and
    the gradients and, with --hessian, the second derivatives (numpy arrays, in the
    order of Stream.hess), and `keep`, the indices of the rows to write (None: all of them)."""

    def __init__(self, names, text, numeric, objs, lines, value, grads, keep=None, hess=()):
        self.names = names  # the rows' own column names
        self.text = text  # per own column, the cells as text
        self.numeric = numeric  # own column name -> float array, for the columns read as numbers
        self.objs = objs  # JSON Lines input: the row objects (else None)
        self.lines = lines
        self.value = value
        self.grads = grads
        self.keep = keep
        self.hess = hess
        self.frame = None  # Parquet/Arrow input: the chunk's typed rows (a Polars DataFrame)
        self.strings = None  # CSV input on the fast path (fastcsv.py): the own columns' cells (a Polars frame)
        self.commas = True  # ... and whether one may hold a comma

    def __len__(self):
        return len(self.lines) if self.keep is None else len(self.keep)


# ---- evaluating ---------------------------------------------------------------

class Stream:
    """An `eval --data` or `--lines` run: `head` (the rows' own columns), `names`
    (the inputs whose gradients each record reports), `hess` (the hess_A_B fields
    each record adds, with --hessian), and the Records as they are made (iterate).
    With skip_bad, bad rows go to `on_bad` and are counted; `finish()` then raises the error that says how many were skipped."""

    def __init__(self, what, head, names, make_records, on_bad=None, hess=(), fields=None):
        self.what = what  # "row" or "line"
        self.head = head
        self.names = names
        self.hess = list(hess)
        # the fields each record adds, in the order of Records' arrays (value, grads, hess)
        self.fields = fields or ["value"] + ["grad_%s" % w for w in names] + self.hess
        self.skipped = 0
        self.total = 0
        self._on_bad = on_bad
        self._records = make_records(self._bad)

    def _bad(self, message):
        self.skipped += 1
        if self._on_bad is not None:
            self._on_bad(message)

    def __iter__(self):
        for rec in self._records:
            self.total += len(rec.lines)
            yield rec

    def finish(self):
        if self.skipped:
            raise CgraphError("skipped %d bad %s%s of %d" % (
                self.skipped, self.what, "" if self.skipped == 1 else "s", self.total))


def stream_rows(program, rows, bindings, wrt=None, nonfinite=False, skip_bad=False, on_bad=None,
                on_warnings=None, hessian=False, jobs=1, cols=(), keep=None, drop=None, outputs=None):
    """`eval --data`: a Stream of the program evaluated on each row of `rows`.
    Bindings and columns the program never reads go to `on_warnings` first (the
    columns pass through), before the rows are checked against the program.
    With `hessian`, each record adds hess_A_B for each pair of reported inputs A <= B
    (in their order): the second derivatives, from one graph built before the rows.
    `jobs`: worker processes for the column passes (parallel.results). `outputs`: several
    (--output u,v): value_u, then grad_u_x per output and input (core/jacobian.py)."""
    g, checked, outs = jacobian.shared(program, outputs)
    names, warnings = check_bindings(checked, g, bindings, wrt)
    view = Columns(rows, bindings, cols, keep, drop)
    fields = jacobian.fields(outputs, names) if outs else None
    _check_clash(rows, names, hessian, view.out, fields)
    inputs = program.graph.inputs
    for n, c in view.source.items():
        if n not in inputs:
            warnings.append("--col %s=%s: the program does not read %s" % (n, c, n))
    read = {c for _, c in view.reads(rows.columns, inputs)}
    shown = set(view.out)  # a dropped column draws no warning
    unread = [c for c in rows.columns if c not in read and c in shown]
    if unread:
        one = len(unread) == 1
        warnings.append("column%s %s of %s %s not read by the program (passed through)" % (
            "" if one else "s", ", ".join(unread), rows.name, "is" if one else "are"))
    if on_warnings is not None:
        on_warnings(warnings)
    return Stream("row", view.out, names, lambda bad: evaluate_rows(
        program, rows, bindings, wrt, nonfinite, skip_bad, bad, hessian, jobs, view, outputs), on_bad,
        hessian_fields(names) if hessian else (), fields)


def stream_lines(lines, name, bindings, wrt=None, nonfinite=False, skip_bad=False, on_bad=None):
    """`eval --lines`: a Stream of each non-empty line evaluated as its own expression."""
    names = list(dict.fromkeys(wrt)) if wrt else list(bindings)
    return Stream("line", ["line", "expr"], names, lambda bad: evaluate_lines(
        lines, name, bindings, wrt, nonfinite, skip_bad, bad), on_bad)


def evaluate_rows(program, rows, bindings, wrt=None, nonfinite=False, skip_bad=False, on_bad=None,
                  hessian=False, jobs=1, view=None, outputs=None):
    """Check the columns against the program, then return an iterator of Records,
    one per chunk of rows. `bindings` (NAME=VALUE) hold for every row. With
    `hessian`, the second-derivative graph is built here, once, and each chunk's
    Records carry its values (Records.hess). `view`: a Columns (--col, --keep, --drop)."""
    g, checked, outs = jacobian.shared(program, outputs)
    columns = rows.columns
    both = [c for c in columns if c in bindings]
    if both:
        raise UsageError("%s %s both bound on the command line and a column of %s" % (
            ", ".join(both), "is" if len(both) == 1 else "are", rows.name))
    if view is None:
        view = Columns(rows, bindings)
    wrt, _ = check_bindings(checked, g, bindings, wrt)
    _check_clash(rows, wrt, hessian, view.out, jacobian.fields(outputs, wrt) if outs else None)
    given = view.given(columns)
    missing = [n for n in read_inputs(checked) if n not in bindings and n not in given]
    if missing:
        raise CgraphError("%s: no column or binding for input%s %s (columns: %s)" % (
            rows.name, "" if len(missing) == 1 else "s", ", ".join(missing), ", ".join(columns) or "none"))
    second = None
    if hessian:
        from .derive import hessian_graph
        second = hessian_graph(program, wrt)
    return _row_chunks(program, g, rows, bindings, wrt, nonfinite, skip_bad, on_bad, second, jobs, view, outs)


def _check_clash(rows, wrt, hessian=False, out=None, fields=None):
    """A column the records carry (`out`, default all) named value, grad_NAME or (with
    hessian) hess_A_B (NAME, A, B reported), or one of `fields`, would be a record's field twice."""
    fields = set(fields) if fields else computed_fields(wrt, hessian)
    clash = [c for c in (rows.columns if out is None else out) if c in fields]
    if clash:
        raise UsageError("column %s of %s has the name of a field each record adds" % (clash[0], rows.name),
                         hint="rename the column, say to %s_in, in the file and in the program if it reads it"
                         % clash[0])


def computed_fields(wrt, hessian=False):
    """The names a record adds after the row's own columns: value, grad_NAME, and
    with hessian hess_A_B."""
    return {"value"} | {"grad_%s" % w for w in wrt} | (set(hessian_fields(wrt)) if hessian else set())


def hessian_fields(wrt):
    """hess_A_B for each pair A <= B of the reported inputs, in their order (the upper
    triangle). Two pairs with one name (inputs a_b, c and a, b_c: hess_a_b_c) are a usage error."""
    from .derive import hessian_pairs
    fields = ["hess_%s_%s" % p for p in hessian_pairs(list(wrt))]
    twice = [f for k, f in enumerate(fields) if f in fields[:k]]
    if twice:
        raise UsageError("--hessian: two second derivatives would both be the field %s" % twice[0],
                         hint="rename an input so that no hess_A_B name is made twice")
    return fields


def _clashes(chunk, columns, reserved, name, errors, objs=None):
    """JSON Lines: an object (as the record carries it: `objs`) with a key beyond the
    columns named like a computed field is a bad row (its record would have that key twice)."""
    extra = reserved - set(columns)
    for j, o in enumerate(chunk.objs if objs is None else objs):
        if len(o) > len(columns) and j not in errors:
            hit = sorted(extra.intersection(o))
            if hit:
                errors[j] = "%s line %d: key %s has the name of a field each record adds (rename it)" % (
                    name, chunk.lines[j], hit[0])


def _row_chunks(program, g, rows, bindings, wrt, nonfinite, skip_bad, on_bad, second=None, jobs=1, view=None,
                several=None):
    import numpy as np

    from ..core import columns as batch
    from . import parallel
    columns = rows.columns
    pairs = view.reads(columns, g.inputs)  # (input, the column it reads)
    read = [n for n, _ in pairs]
    out = view.out
    h, outs = second if second is not None else (None, [])
    cells = len(g.ops) + (len(h.ops) if h is not None else 0)
    size = max(256, min(MAX_CHUNK, CELLS_PER_CHUNK // max(1, cells)))
    reserved = set(jacobian.fields(several.names, wrt)) if several else computed_fields(wrt, second is not None)
    spec = parallel.Several(several, wrt) if several else wrt  # what the column passes compute
    unit = getattr(rows, "unit", "line")  # what a bad row's message names: a line, or a row index

    if hasattr(rows, "reads"):  # CSV: the columns read as numbers, for the fast path (fastcsv.py),
        rows.reads = list(dict.fromkeys(c for _, c in pairs))  # whose chunks are bounded by cells only
        rows.fast_size = max(256, min(FAST_CHUNK, FAST_CELLS // max(1, cells)))
        if second is None and not getattr(rows, "no_offload", False) and parallel.plan(g, jobs)[0] > 1:  # fastjobs.py
            from .fastjobs import Offload
            rows.offload = Offload(g, spec, nonfinite, bindings, pairs, out, view.selected, jobs)
    source = rows.chunks(size)
    jobs = 1 if getattr(rows, "offloaded", False) else jobs  # the workers are the fast path's

    def chunks():  # (the chunk and its own columns, the columns the passes read, rows)
        for chunk in source:
            n = len(chunk.lines)
            if n == 0:
                continue
            if hasattr(chunk, "csv"):  # a block's records, written by a worker (fastjobs.py)
                yield (chunk, None, None, None, None, None), None, n
                continue
            errors = chunk.errors
            if hasattr(chunk, "floats"):  # Parquet, Arrow (columnar.py): typed columns; CSV's fast path
                numeric = {n: chunk.floats(np, c, errors) for n, c in pairs}
                cols = dict(bindings)
                cols.update(numeric)
                if hasattr(chunk, "strings"):  # CSV's fast path: the cells as lists only if a writer asks
                    from .columnar import LazyColumns
                    text = LazyColumns(lambda chunk=chunk: view.text(chunk.text))
                else:
                    text = view.text(chunk.text)
                yield (chunk, text, {c: numeric[n] for n, c in pairs}, None, numeric, cols), cols, n
                continue
            if chunk.objs is not None:
                objs = view.objs(chunk.objs)
                _clashes(chunk, out, reserved, rows.name, errors, objs)
                text = [[_cell_text(o.get(c)) for o in objs] for c in out]
                raw = {n: [o.get(c) for o in chunk.objs] for n, c in pairs}
            else:
                objs = None
                text = view.text(chunk.text)
                raw = {n: chunk.text[columns.index(c)] for n, c in pairs}
            numeric = {n: _numbers(np, chunk, c, raw[n], rows.name, errors,
                                   None if n == c else "%s (input %s)" % (c, n)) for n, c in pairs}
            cols = dict(bindings)
            cols.update(numeric)
            own = {c: numeric[n] for n, c in pairs}  # by column, for the records
            yield (chunk, text, own, objs, numeric, cols), cols, n

    # the first-order passes run here or, with --jobs, on workers; the results come back in
    # input order; the second derivatives (--hessian) run here
    for (chunk, text, own, objs, numeric, cols), (value, grads, bad) in parallel.results(
            g, spec, nonfinite, chunks(), jobs):
        n = len(chunk.lines)
        if text is None:  # a worker's CSV bytes (records.py writes them)
            yield chunk
            continue
        errors = chunk.errors
        hess = []
        if second is not None:
            hess = [np.zeros(n) for _ in outs] if h is None else batch.values(h, cols, n, outs)
            if not nonfinite:
                mask = np.zeros(n, dtype=bool)
                for x in hess:
                    mask |= ~np.isfinite(x)
                bad = sorted(set(bad) | set(np.flatnonzero(mask).tolist()))
        for j in bad:
            if j not in errors:
                errors[j] = "%s %s %d: %s" % (rows.name, unit, chunk.lines[j], _row_error(
                    program, bindings, {c: float(numeric[c][j]) for c in read},
                    wrt if second is not None else None, several))
        keep = _keep(errors, n, skip_bad, on_bad)
        typed = getattr(chunk, "typed", None)  # a binary input's numeric columns, read or not
        rec = Records(out, text, {**typed, **own} if typed else own, objs, chunk.lines, value, grads, keep, hess)
        rec.frame = getattr(chunk, "frame", None)  # the typed rows (columnar.py), for a binary output
        strings = getattr(chunk, "strings", None)  # CSV's fast path: the cells in a Polars frame
        if strings is not None:
            rec.strings = strings.select(out) if view.selected else strings
            rec.commas = chunk.commas
        yield rec
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
    """A JSON value as a cell's text: strings as they are, numbers as JSON writes
    them, a non-finite number as inf/-inf/nan (never JSON's invalid Infinity/NaN)."""
    if isinstance(v, str):
        return v
    if v is None:
        return ""
    if isinstance(v, float) and not math.isfinite(v):
        return fmt(v)
    return json_text(v)


def _row_error(program, bindings, row, hessian=None, outs=None):
    """The message the scalar passes give for one row (they name the node); with
    `hessian` (the reported inputs), those of the second derivatives too; `outs`: of each output."""
    b = dict(bindings)
    b.update(row)
    try:
        jacobian.evaluate(program, outs.names, b) if outs else evaluate(program, b)
        if hessian is not None:
            from .derive import hessian as second
            second(program, b, hessian)
    except CgraphError as e:
        return e.message
    what = "a value, gradient or second derivative" if hessian is not None else "a value or gradient"
    return CgraphError("%s is not finite" % what, hint=NONFINITE).message


def evaluate_lines(lines, name, bindings, wrt=None, nonfinite=False, skip_bad=False, on_bad=None,
                   chunk=1000):
    """Each non-empty line is its own expression: yield Records with columns line and expr.
    The gradients reported are --wrt's names, else the bound names."""
    import numpy as np

    from ..core.language import parse_program
    names = list(dict.fromkeys(wrt)) if wrt else list(bindings)
    readline = getattr(lines, "readline", None)
    it = iter(enumerate(iter(lambda: readline(MAX_LINE), "") if readline else lines, 1))
    fatal = None
    while fatal is None:
        batch_ = list(itertools.islice(it, chunk))
        if not batch_:
            return
        for k, (number, raw) in enumerate(batch_):
            if len(raw) >= MAX_LINE and not raw.endswith("\n"):
                fatal = too_long(name, number)
                del batch_[k:]
                break
        nums, texts, values, grads, errors = [], [], [], [], {}
        for number, raw in batch_:
            src = raw.rstrip("\r\n")
            if number == 1 and src.startswith("\ufeff"):
                src = src[1:]
            if not src.strip():
                continue
            j = len(nums)
            nums.append(number)
            bad = text_problem(src)
            if bad is not None:
                texts.append("")
                errors[j] = "%s line %d: %s" % (name, number, bad[1])
                values.append(math.nan)
                grads.append([math.nan] * len(names))
                continue
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
    raise CgraphError(fatal)
