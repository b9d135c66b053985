"""--col NAME=COLUMN, --keep and --drop: which column each input reads, and which
of the rows' own columns the records carry (the conventions of xsv, miller, csvkit)."""

from ..core.errors import UsageError, name_list


class Columns:
    """Which column each input reads (--col NAME=COLUMN; else the column of its own
    name) and which columns the records carry (--keep COLS or --drop COLS, which
    choose among the output's columns only: a dropped column is still read).
    Every mistake is a usage error naming the columns there are."""

    def __init__(self, rows, bindings, cols=(), keep=None, drop=None):
        columns = rows.columns
        there = "columns: %s" % (name_list(columns) or "none")
        self.source = {}  # input name -> the column it reads, for --col
        for name, col in cols:
            what = "--col %s=%s" % (name, col)
            if name in self.source:
                raise UsageError("%s: %s is given another column already (--col %s=%s)" % (
                    what, name, name, self.source[name]))
            if col not in columns:
                raise UsageError("%s: %s has no column %s (%s)" % (what, rows.name, col, there))
            if name != col and name in columns:
                raise UsageError("%s: %s is also a column of %s" % (what, name, rows.name),
                                 hint="drop the --col, or rename the column %s in the file" % name)
            if name in bindings:
                raise UsageError("%s: %s is also bound on the command line" % (what, name))
            self.source[name] = col
        if keep is not None and drop is not None:
            raise UsageError("--keep and --drop do not go together")
        for opt, names in (("--keep", keep), ("--drop", drop)):
            unknown = [n for n in dict.fromkeys(names or ()) if n not in columns]
            if unknown:
                raise UsageError("%s: %s has no column%s %s (%s)" % (
                    opt, rows.name, "" if len(unknown) == 1 else "s", ", ".join(unknown), there))
        self.selected = keep is not None or drop is not None
        self._keep = None if keep is None else list(dict.fromkeys(keep))  # in the order given, as xsv select
        self._drop = set(drop or ())
        self.out = self._keep if self._keep is not None else [c for c in columns if c not in self._drop]
        self._index = [columns.index(c) for c in self.out]

    def reads(self, columns, inputs):
        """(input, column) for each input the rows give, in the columns' order, then --col's."""
        pairs = [(c, c) for c in columns if c in inputs and c not in self.source]
        return pairs + [(n, c) for n, c in self.source.items() if n in inputs]

    def given(self, columns):
        """The inputs the rows give: the columns and --col's names."""
        return set(columns) | set(self.source)

    def text(self, text):
        """A CSV chunk's columns of cells, cut down to the output's columns."""
        return text if not self.selected else [text[i] for i in self._index]

    def objs(self, objs):
        """JSON Lines objects cut down: --keep's keys only, in its order; or all but --drop's
        (keys beyond the columns then stay)."""
        if self._drop:
            return [{k: v for k, v in o.items() if k not in self._drop} for o in objs]
        if self._keep is not None:
            return [{k: o[k] for k in self._keep if k in o} for o in objs]
        return objs
