"""`cgraph eval`: one evaluation, or one record per row (--data) or line (--lines)."""

import sys

import click

from ..core.errors import CgraphError, UsageError
from .inputs import display_name, open_data, open_text, stderr, warn
from .options import format_option, on_terminal, precision_option, program_options, tangent_option


@click.command("eval", epilog="""\b
Examples:
  cgraph eval "(x+y)*z" x=1 y=3 z=-3
  cgraph eval "p = x + y; g = p * z" x=1 y=3 z=-3 --format json
  cgraph eval -f samples/neuron.cg --bind samples/neuron.json --summary
  echo "sin(x)^2 + cos(x)^2" | cgraph eval -f - x=0.7 --format tree
  cgraph eval -- "-x^2" x=3        (a program starting with "-" goes after --)
  cgraph eval "(x+y)*z" --data samples/rows.csv        (one record per row)
  cgraph eval -f samples/exprs.txt --lines x=1 y=2     (one record per line)
  cgraph eval "x^2*y" x=1 y=2 --hessian --format json   (second derivatives too)
  cgraph eval "u = x*y; v = x + y" x=1 y=2 --output u,v --summary   (the Jacobian)
  cgraph eval "(x+y)*z" x=1 y=3 z=-3 --tangent x=1      (forward mode: d/dx at every node)""")
@program_options
@format_option(["table", "tree", "plain", "json", "csv", "jsonl", "parquet", "arrow"], "table", None,
               help="Output format (default: table on a terminal; plain, or csv with --data/--lines, otherwise; "
                    "with -o FILE, by its extension). parquet and arrow only with -o FILE.")
@precision_option(help="Significant digits in table and tree (the other formats are exact).")
@click.option("--summary", is_flag=True,
              help="Only the output's value and the inputs' gradients (JSON: empty nodes).")
@click.option("--data", "data", metavar="ROWS",
              help='Evaluate once per row of ROWS: a CSV file with a header, TSV, JSON Lines ("-": stdin), '
                   'Parquet (a file, a directory, a glob) or Arrow IPC.')
@click.option("--data-format", type=click.Choice(["csv", "tsv", "jsonl", "parquet", "arrow"]),
              help="The format of ROWS (default: by its extension, else by its first line; tsv: tab-delimited CSV; "
                   "a directory or a glob: Parquet files).")
@click.option("-o", "--out", "out", metavar="FILE",
              help="--data/--lines: write the records to FILE, in the format its extension names "
                   "(.csv .tsv .jsonl .ndjson .parquet .arrow .feather .ipc); written whole or not at all. "
                   "With --engine dask: the Parquet directory to write.")
@click.option("-d", "--delimiter", metavar="C",
              help='CSV input: the cells\' delimiter, one character ("\\t" or "tab": a tab; default "," '
                   'and, for .tsv, a tab).')
@click.option("--no-header", is_flag=True,
              help="CSV input: the first line is a row; name the columns with --columns.")
@click.option("--columns", "column_names", metavar="A,B,...",
              help="With --no-header: the names of the columns, in order.")
@click.option("--col", "col", multiple=True, metavar="NAME=COLUMN",
              help="Read input NAME from column COLUMN (repeatable): --col x=height.")
@click.option("--keep", metavar="COLS", help="Only these of the rows' own columns in the records, in this order.")
@click.option("--drop", metavar="COLS",
              help="The rows' own columns without these in the records (a dropped column is still read).")
@click.option("--lines", is_flag=True,
              help="Each non-empty line of -f FILE is its own expression: one record per line.")
@click.option("--skip-bad-rows", is_flag=True,
              help="Report a bad row or line on stderr and go on (the exit status is still 1).")
@click.option("--jobs", type=int, metavar="N",
              help="--data: evaluate chunks of rows on N worker processes, output in input order "
                   "(default and 0: the cores there are, once a file passes 200,000 rows; 1: no workers).")
@click.option("--hessian", is_flag=True,
              help="Add the matrix of second derivatives of the reported inputs (JSON: key hessian; "
                   "with --data: hess_A_B fields, A <= B; not with --lines).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help='--data: "dask" evaluates Parquet or CSV files (paths or a glob) on a Dask cluster '
                   'into the Parquet directory -o OUTDIR (needs pip install "cgraph[dask]").')
@click.option("--scheduler", metavar="ADDRESS",
              help="--engine dask: the address of a running Dask scheduler (default: a local cluster of the cores).")
@tangent_option
def command(source, wrt, nonfinite, fmt, precision, summary, data, data_format, out, delimiter, no_header,
            column_names, col, keep, drop, lines, skip_bad_rows, jobs, hessian, engine, scheduler, tangent):
    """Forward and backward passes: every node's value and gradient.

    EXPR is an expression or a program of `name = expr` statements separated by
    newlines or ";". Bind every input as NAME=VALUE. With --data, the program is
    evaluated once per row of a data file; with --lines, once per line of FILE.
    """
    if engine == "dask" or scheduler is not None:
        shaped = [o for o, v in (("--delimiter", delimiter), ("--no-header", no_header), ("--columns", column_names),
                                 ("--col", col), ("--keep", keep), ("--drop", drop)) if v]
        if shaped:
            raise UsageError("--engine dask does not take %s (the workers read the files as they are)" % shaped[0])
        if tangent is not None:
            raise UsageError("--tangent does not go with --engine dask")
        return _cluster(source, wrt, nonfinite, fmt, data, data_format, lines, skip_bad_rows, jobs, hessian,
                        engine, scheduler, out)
    if jobs is not None:
        if jobs < 0:
            raise UsageError("--jobs %d: the number of worker processes is 0 (auto) or more" % jobs)
        if data is None:
            raise UsageError("--jobs goes with --data")
    shape = _data_options(data, data_format, delimiter, no_header, column_names, col, keep, drop)
    if source.several and (hessian or lines or tangent is not None):
        raise UsageError("--output %s: several outputs do not go with %s" % (
            ",".join(source.outputs), "--lines (each line is its own program)" if lines
            else "--hessian" if hessian else "--tangent (the tangent is of one output)"))
    if data is not None or lines:
        if hessian and lines:
            raise UsageError("--hessian goes with one evaluation or --data, not with --lines")
        if tangent is not None and lines:
            raise UsageError("--tangent goes with one evaluation or --data, not with --lines")
        return _records(source, wrt, nonfinite, fmt, precision, data, data_format, lines, skip_bad_rows, hessian,
                        jobs, out, shape, tangent)
    if out is not None:
        raise UsageError("-o FILE goes with --data or --lines")
    if fmt in ("csv", "jsonl", "parquet", "arrow"):
        raise UsageError("--format %s is for --data and --lines; one evaluation prints table, tree, plain or json"
                         % fmt)
    if source.several:
        return _several(source, wrt, nonfinite, fmt, precision, summary, hessian)
    from ..core.passes import evaluate
    from ..present.result import show
    prog, bindings = source.load()
    result = evaluate(prog, bindings, wrt=wrt, nonfinite=nonfinite)
    if tangent is not None:
        from ..core.forward import attach
        attach(result, prog, tangent, nonfinite)
    warn(result.warnings)
    h = None
    if hessian:
        from ..features.derive import hessian as second
        h = second(prog, bindings, result.wrt, nonfinite)
    show(result, fmt or on_terminal("table", "plain"), sys.stdout, precision, summary, h)


def _several(source, wrt, nonfinite, fmt, precision, summary, hessian):
    """--output u,v: one forward pass, a backward pass per output (core/jacobian.py);
    --summary (the Jacobian only): a tangent sweep per input instead, when fewer."""
    from ..core.jacobian import evaluate
    from ..present.jacobian import show
    prog, bindings = source.load_several()
    result = evaluate(prog, source.outputs, bindings, wrt=wrt, nonfinite=nonfinite,
                      mode="auto" if summary else "reverse")
    warn(result.warnings)
    show(result, fmt or on_terminal("table", "plain"), sys.stdout, precision, summary)


def _comma_list(opt, text):
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise UsageError("%s %r: a comma-separated list of column names, none empty" % (opt, text))
    return names


def _data_options(data, data_format, delimiter, no_header, column_names, col, keep, drop):
    """The options that shape how ROWS is read, checked: a dict for _records."""
    given = [o for o, v in (("--delimiter", delimiter), ("--no-header", no_header or None),
                            ("--columns", column_names), ("--col", col or None), ("--keep", keep),
                            ("--drop", drop)) if v is not None]
    if data is None:
        if given:
            raise UsageError("%s goes with --data" % given[0])
        return {}
    if delimiter is not None:
        named = "\t" if delimiter == "\\t" or delimiter.lower() == "tab" else delimiter
        if len(named) != 1 or named in "\"\r\n":
            raise UsageError("--delimiter %r: one character (\"\\t\" or \"tab\": a tab), not a quote or a newline"
                             % delimiter)
        delimiter = named
    columns = None
    if no_header:
        if column_names is None:
            raise UsageError("--no-header needs --columns A,B,... to name the columns")
        columns = _comma_list("--columns", column_names)
        dup = sorted({c for c in columns if columns.count(c) > 1})
        if dup:
            raise UsageError("--columns: column %s appears more than once" % ", ".join(dup))
    elif column_names is not None:
        raise UsageError("--columns goes with --no-header (a file with a header line names its own columns)")
    if data_format == "jsonl":
        csv_only = [o for o in given if o in ("--delimiter", "--no-header", "--columns")]
        if csv_only:
            raise UsageError("%s is for CSV input, not --data-format jsonl" % csv_only[0])
    pairs = []
    for c in col:
        name, eq, column = c.partition("=")
        name, column = name.strip(), column.strip()
        if not eq or not name.isidentifier() or not column:
            raise UsageError("--col %r: NAME=COLUMN, an input's name and a column's (--col x=height)" % c)
        pairs.append((name, column))
    return {"delimiter": delimiter, "columns": columns, "cols": pairs,
            "keep": None if keep is None else _comma_list("--keep", keep),
            "drop": None if drop is None else _comma_list("--drop", drop)}


def _records(source, wrt, nonfinite, fmt, precision, data, data_format, lines, skip_bad_rows, hessian=False,
             jobs=None, out=None, shape=None, tangent=None):
    """--data and --lines: stream one record per row or line, a chunk at a time."""
    from ..features import rows
    from ..present.records import write_stream
    if data is not None and lines:
        raise UsageError("--data and --lines do not go together")
    if fmt in ("json", "tree"):
        raise UsageError("--format %s shows one evaluation; with --data or --lines use csv, jsonl, plain or table"
                         % fmt)

    fmt = _out_format(fmt, out)

    def on_bad(message):
        stderr("error: %s (skipped)" % message)

    if lines:
        if source.file is None:
            raise UsageError("--lines reads the expressions from -f FILE (\"-\" for standard input)")
        stream = rows.stream_lines(open_text(source.file), display_name(source.file), source.bindings(), wrt,
                                   nonfinite, skip_bad_rows, on_bad)
    else:
        prog, bindings = source.load_several() if source.several else source.load()
        if data == "-" and source.file == "-":
            raise UsageError("the program (-f -) and the rows (--data -) cannot both come from standard input")
        shape = shape or {}
        to_file = out is not None and out != "-"
        csv_out = (fmt if to_file else fmt or on_terminal("table", "csv")) == "csv"
        source_rows = open_data(data, data_format, shape.get("delimiter"), shape.get("columns"), csv_out)
        if tangent is not None:
            from ..features import tangent_rows
            tangent_rows.prepare(source_rows)
        stream = rows.stream_rows(prog, source_rows, bindings, wrt, nonfinite,
                                  skip_bad_rows, on_bad, warn, hessian, jobs, shape.get("cols", ()),
                                  shape.get("keep"), shape.get("drop"), source.outputs if source.several else None)
        if tangent is not None:
            stream = tangent_rows.with_tangent(stream, prog, source_rows, tangent, bindings, nonfinite,
                                               shape.get("cols", ()))
    if out is not None and out != "-":
        _write_file(stream, fmt, out, precision)
    else:
        write_stream(stream, fmt or on_terminal("table", "csv"), sys.stdout, precision)
    stream.finish()


def _out_format(fmt, out):
    """The records' format: --format, else -o FILE's extension. A binary format
    (parquet, arrow) only to a file: not to a terminal or a pipe."""
    to_file = out is not None and out != "-"
    if to_file and fmt is None:
        from ..features.columnar import out_format
        fmt = out_format(out)
        if fmt is None:
            raise UsageError("-o %s: the extension names no format (.csv .tsv .jsonl .ndjson .parquet .arrow "
                             ".feather .ipc); or give --format" % out)
    if fmt in ("parquet", "arrow") and not to_file:
        raise UsageError("--format %s is binary: it is not written to %s; use -o FILE" % (
            fmt, "a terminal" if sys.stdout.isatty() else "standard output"))
    if to_file and fmt == "table":
        raise UsageError("--format table is for a terminal; -o FILE takes csv, plain, jsonl, parquet or arrow")
    return fmt


def _write_file(stream, fmt, out, precision):
    """-o FILE: the records written to a temporary file renamed over FILE once whole."""
    from ..features import columnar
    if fmt in ("parquet", "arrow"):
        columnar.write_binary(stream, out, fmt)
        return
    from ..features.outfiles import AtomicFile
    from ..present.records import write_stream
    f = AtomicFile(out, "-o")
    try:
        write_stream(stream, fmt, f.fh, precision)
    except OSError as e:
        f.discard()
        raise f._error(e) from None
    except BaseException:
        f.discard()
        raise
    f.commit()


def _cluster(source, wrt, nonfinite, fmt, data, data_format, lines, skip_bad_rows, jobs, hessian, engine, scheduler,
             out):
    """--engine dask: features/cluster.py; the options it does not take are usage errors."""
    if engine != "dask":
        raise UsageError("--scheduler goes with --engine dask")
    source.one_output("--engine dask")
    for given, name in ((data is None, "needs --data PATHS"), (lines, "does not go with --lines"),
                        (jobs is not None, "does not go with --jobs (the cluster has its workers)"),
                        (fmt is not None, "writes Parquet: no --format"),
                        (data_format is not None, "reads by the extension: no --data-format")):
        if given:
            raise UsageError("--engine dask %s" % name)
    from ..features import cluster
    from .inputs import parse_bindings
    cluster.require()
    cluster.check_out(out)
    text, words = source.text_and_words()
    bindings = parse_bindings(words, source.bind_file)

    def on_bad(message):
        stderr("error: %s (skipped)" % message)

    total, skipped = cluster.run(text, data, out, source.output, wrt, nonfinite, hessian, bindings, skip_bad_rows,
                                 scheduler, on_bad)
    if skipped:
        raise CgraphError("skipped %d bad row%s of %d" % (skipped, "" if skipped == 1 else "s", total))
