"""`cgcli.columns`: the passes over numpy columns, arrays in and arrays out (api.py's
`columns` is this), for one output or several (core/jacobian.py). numpy is imported
only when it runs."""

from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Tuple

from ..core.errors import CgraphError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    BoolArray = npt.NDArray[np.bool_]

# at most this many rows x nodes in one numpy pass of `columns` (as --data does)
_CELLS_PER_CHUNK = 1_000_000
_MAX_CHUNK = 16384


class ColumnsResult(Mapping[str, "FloatArray"]):
    """The passes over columns: a read-only dict of float64 arrays, one entry per
    row: "value", then "grad_NAME" for each reported input, then with hessian=True
    "hess_A_B" for each pair of reported inputs A <= B (in their order).

    `errors` lists (row index, message) for every row whose value, a gradient or a
    second derivative is not finite or that hit a domain error, with the message the scalar passes give
    for that row (empty with nonfinite=True); those rows hold inf or nan. `ok` is a
    boolean array, False at those rows. `dict(result)` (or `result.to_dict()`) is a
    plain dict, ready for `pl.DataFrame`, `pd.DataFrame` or a Ray numpy batch.

    Several outputs (`outputs`): "value_U" per output, then "grad_U_X" per output and
    reported input; `output_values` and `jacobian` give them by name.
    """

    errors: List[Tuple[int, str]]
    warnings: List[str]
    size: int
    wrt: List[str]

    def __init__(self, arrays: Dict[str, "FloatArray"], errors: List[Tuple[int, str]], size: int,
                 wrt: List[str], warnings: List[str]) -> None:
        self._arrays = arrays
        self.errors = errors
        self.size = size
        self.wrt = wrt
        self.warnings = warnings
        self.outputs: Optional[List[str]] = None  # several outputs: their names

    def __getitem__(self, key: str) -> "FloatArray":
        return self._arrays[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    @property
    def value(self) -> "FloatArray":
        """The output's value per row."""
        return self._arrays["value"]

    @property
    def gradients(self) -> Dict[str, "FloatArray"]:
        """Input name -> its gradient per row."""
        return {name: self._arrays["grad_" + name] for name in self.wrt}

    @property
    def output_values(self) -> Dict[str, "FloatArray"]:
        """Several outputs: output name -> its value per row."""
        return {u: self._arrays["value_" + u] for u in self.outputs or []}

    @property
    def jacobian(self) -> Dict[str, Dict[str, "FloatArray"]]:
        """Several outputs: output name -> input name -> d output / d input per row."""
        return {u: {x: self._arrays["grad_%s_%s" % (u, x)] for x in self.wrt} for u in self.outputs or []}

    @property
    def ok(self) -> "BoolArray":
        """True for the rows without an error."""
        import numpy as np
        mask = np.ones(self.size, dtype=bool)
        for row, _ in self.errors:
            mask[row] = False
        return mask

    def to_dict(self) -> Dict[str, "FloatArray"]:
        return dict(self._arrays)

    def __repr__(self) -> str:
        return "ColumnsResult(%d rows, columns=%s, errors=%d)" % (self.size, list(self._arrays), len(self.errors))



def columns(prog, data, outputs, wrt, nonfinite=False, hessian=False):
    """api.columns: `prog` with its output chosen, `outputs` the names when several."""
    import numpy as np

    from ..core import columns as batch
    from ..core.passes import check_bindings
    several = len(outputs) > 1
    if several:
        from ..core import jacobian
        if hessian:
            raise UsageError("hessian takes one output, not several (output=%s)" % ",".join(outputs))
        outs = jacobian.Outputs(prog, outputs)
        g = outs.graph
        names, warnings = check_bindings(outs.program, g, {}, wrt)
        jfields = jacobian.fields(outputs, names)
    else:
        g, _ = prog.graph.cone(prog.output)
        names, warnings = check_bindings(prog, g, {}, wrt)
    missing = [n for n in g.inputs if n not in data]
    if missing:
        raise CgraphError("no column for input%s %s" % ("" if len(missing) == 1 else "s", ", ".join(missing)))
    cols, size = read_arrays(np, data, list(g.inputs))
    if size is None:
        size = _rows_of(data)
    if several:
        return _several(np, prog, outs, jfields, cols, size, names, warnings, nonfinite)
    arrays: Dict[str, Any] = {"value": np.empty(size)}
    for name in names:
        arrays["grad_" + name] = np.empty(size) if name in g.inputs else np.zeros(size)
    h: Any = None
    outs: List[int] = []
    fields: List[str] = []
    if hessian:
        from .derive import hessian_graph
        from .rows import hessian_fields
        fields = hessian_fields(names)
        h, outs = hessian_graph(prog, names)
        for f in fields:
            arrays[f] = np.zeros(size)
    errors: List[Tuple[int, str]] = []
    cells = len(g.ops) + (len(h.ops) if h is not None else 0)
    step = max(256, min(_MAX_CHUNK, _CELLS_PER_CHUNK // max(1, cells)))
    for lo in range(0, size, step):
        hi = min(size, lo + step)
        part = {k: (v[lo:hi] if not isinstance(v, float) else v) for k, v in cols.items()}
        values, grads = batch.run(g, part, hi - lo)
        arrays["value"][lo:hi] = values[-1]
        for name in names:
            if name in g.inputs:
                gr = grads[g.inputs[name]]
                arrays["grad_" + name][lo:hi] = 0.0 if gr is None else gr
        mask = batch.bad_rows(np, values, grads)
        if h is not None:
            for f, x in zip(fields, batch.values(h, part, hi - lo, outs)):
                arrays[f][lo:hi] = x
                mask |= ~np.isfinite(x)
        if not nonfinite:
            for j in np.flatnonzero(mask).tolist():
                row = {k: float(v if isinstance(v, float) else v[j]) for k, v in part.items()}
                errors.append((lo + j, _row_error(prog, row, names if hessian else None)))
    return ColumnsResult(arrays, errors, size, names, warnings)


def read_arrays(np, data, names):
    """({name: float array, or a float for a number that holds for every row}, rows or
    None if every one is a number) for `names` of the mapping `data`: each a number or
    a 1-D array-like of numbers, all arrays of one length, else CgraphError naming it."""
    cols: Dict[str, Any] = {}
    size: Optional[int] = None
    for name in names:
        raw = data[name]
        if isinstance(raw, (str, bytes, bool)):
            raise CgraphError("column %s: expected numbers, not %r" % (name, raw))
        try:
            arr = np.asarray(raw, dtype=float)
        except (TypeError, ValueError) as e:
            raise CgraphError("column %s: not numeric (%s)" % (name, e)) from None
        if arr.ndim == 0:
            cols[name] = float(arr)
            continue
        if arr.ndim != 1:
            raise CgraphError("column %s: expected one number per row, got an array of shape %s" % (name, arr.shape))
        if size is not None and len(arr) != size:
            raise CgraphError("column %s has %d rows, the others %d" % (name, len(arr), size))
        size = len(arr)
        cols[name] = arr
    return cols, size


def _rows_of(data: Mapping[str, Any]) -> int:
    """The number of rows when no input is an array: the length of another entry, else 1."""
    keys = data.keys() if hasattr(data, "keys") else getattr(data, "columns", [])
    for k in keys:
        v = data[k]
        if hasattr(v, "__len__") and not isinstance(v, (str, bytes)):
            return len(v)
    return 1


def _row_error(prog: Any, row: Dict[str, float], hessian: Optional[List[str]] = None) -> str:
    """The message the scalar passes give for one row (they name the node and the
    values); with `hessian` (the reported inputs), those of the second derivatives too."""
    from ..core import passes
    try:
        passes.evaluate(prog, row)
        if hessian is not None:
            from .derive import hessian as second
            second(prog, row, hessian)
    except CgraphError as e:
        return e.message
    what = "a value, gradient or second derivative" if hessian is not None else "a value or gradient"
    return "%s is not finite (nonfinite=True lets inf and nan through)" % what



def _several(np, prog, outs, fields, cols, size, names, warnings, nonfinite):
    """Several outputs: one forward pass over the shared tape and a backward pass per
    output (or a tangent sweep per input when fewer: core/jacobian.py), a chunk of
    rows at a time; a bad row's message from the scalar reverse passes."""
    from ..core import columns as batch
    from ..core import jacobian
    g = outs.graph
    arrays = {f: np.zeros(size) for f in fields}
    errors: List[Tuple[int, str]] = []
    step = max(256, min(_MAX_CHUNK, _CELLS_PER_CHUNK // max(1, len(g.ops) * len(outs.names))))
    for lo in range(0, size, step):
        hi = min(size, lo + step)
        part = {k: (v[lo:hi] if not isinstance(v, float) else v) for k, v in cols.items()}
        values, jac, checked = jacobian.jacobian_columns(g, outs.cones, outs.ids, names, part, hi - lo)
        mask = batch.bad_rows(np, values, checked)
        for u, o, row in zip(outs.names, outs.ids, jac):
            arrays["value_" + u][lo:hi] = values[o]
            for x, gr in zip(names, row):
                if gr is not None:
                    arrays["grad_%s_%s" % (u, x)][lo:hi] = gr
        if not nonfinite:
            for j in np.flatnonzero(mask).tolist():
                row = {k: float(v if isinstance(v, float) else v[j]) for k, v in part.items()}
                try:
                    jacobian.evaluate(prog, outs.names, row)
                    message = "a value or gradient is not finite (nonfinite=True lets inf and nan through)"
                except CgraphError as e:
                    message = e.message
                errors.append((lo + j, message))
    result = ColumnsResult(arrays, errors, size, names, warnings)
    result.outputs = list(outs.names)
    return result
