"""`eval --data ROWS --tangent NAME=VALUE`: a `tangent` field in every record.

The records of features/rows.py are wrapped: for each chunk the column forward
pass is run again on the inputs the records carry, then core/forward.py's tangent
sweep over the numpy columns, and the output's tangent goes after the other
computed fields (value, grad_NAME, hess_A_B), as one more float column, so
that every writer (CSV on both paths, JSON Lines, Parquet, Arrow, the table)
writes it as it writes a gradient. CSV's whole blocks on workers (fastjobs.py)
write records without it, so such runs keep their blocks in this process (the
rows' `no_offload`); the other --jobs work stays on the workers.
"""

from ..core.errors import CgraphError, UsageError
from ..core.forward import check_direction, column_tangents
from ..core.numbers import fmt

FIELD = "tangent"


def prepare(rows):
    """Before the stream is made: CSV's workers may not write whole blocks."""
    rows.no_offload = True


def with_tangent(stream, program, rows, direction, bindings, nonfinite=False, cols=()):
    """The Stream `stream` (rows.stream_rows) with a `tangent` field in each record."""
    d = check_direction(program, direction)
    if FIELD in stream.head:
        raise UsageError("column %s of %s has the name of a field each record adds" % (FIELD, rows.name),
                         hint="rename the column, say to %s_in, in the file and in the program if it reads it" % FIELD)
    g, _ = program.cone()
    from .select import Columns
    pairs = Columns(rows, bindings, cols).reads(rows.columns, g.inputs)  # (input, the column it reads)
    unit = getattr(rows, "unit", "line")
    stream.hess.append(FIELD)
    stream.fields.append(FIELD)  # the writers' header: value, grad_*, hess_*, then tangent
    records = stream._records

    def wrapped():
        import numpy as np

        from ..core import columns as batch
        for rec in records:
            if hasattr(rec, "csv"):  # a worker's block: cannot happen with prepare()
                raise CgraphError("--tangent: a block was written without its tangents")
            n = len(rec.lines)
            given = dict(bindings)
            given.update({name: rec.numeric[c] for name, c in pairs if c in rec.numeric})
            with np.errstate(all="ignore"):
                v = batch.forward(np, g, given, n)
                t = column_tangents(np, g, v, d, n)
            out = t[-1] if t and t[-1] is not None else np.zeros(n)
            keep = rec.keep
            if not nonfinite:
                ok = np.isfinite(out) if keep is None else np.isfinite(out[keep])
                if not ok.all():
                    j = int(np.flatnonzero(~ok)[0])
                    j = j if keep is None else keep[j]
                    raise CgraphError("%s %s %d: the output's tangent is %s" % (rows.name, unit, rec.lines[j],
                                                                                    fmt(float(out[j]))),
                                      hint="--nonfinite lets inf and nan through")
            if rec.objs is not None:
                for j in (range(n) if keep is None else keep):
                    if FIELD in rec.objs[j] and FIELD not in stream.head:
                        raise CgraphError("%s %s %d: key %s has the name of a field each record adds (rename it)"
                                          % (rows.name, unit, rec.lines[j], FIELD))
            rec.hess = list(rec.hess) + [out]
            yield rec
    stream._records = wrapped()
    return stream
