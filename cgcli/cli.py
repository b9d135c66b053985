"""The command line: options in, one core call, render out.

This is the one module that imports click and the one place that exits:
`CgraphGroup.main` turns every CgraphError and click usage error into an
`error: ...` line on stderr and its exit status (docs/contract.md), and a closed pipe into
a quiet exit.
"""

import os
import re
import sys

import click

from . import __version__
from .core.errors import CgraphError, UsageError
from .core.numbers import parse_number

_BINDING = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.S)


class CgraphGroup(click.Group):
    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        status = 0
        try:
            rv = super().main(args, prog_name or "cgraph", complete_var, standalone_mode=False, **extra)
            status = rv if isinstance(rv, int) else 0
        except CgraphError as e:
            _stderr("error: %s" % e.message)
            status = e.status
        except click.exceptions.Abort:
            _stderr("error: aborted")
            status = 130
        except click.ClickException as e:
            msg = e.format_message()
            ctx = getattr(e, "ctx", None)
            if ctx is not None and isinstance(e, click.UsageError):
                msg += " (try '%s --help')" % ctx.command_path
            _stderr("error: %s" % msg)
            status = e.exit_code
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as Unix tools do.
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            except (OSError, ValueError):
                pass
            status = 141 if standalone_mode else 1
        except KeyboardInterrupt:
            _stderr("error: interrupted")
            status = 130
        if standalone_mode:
            sys.exit(status)
        return status


def _stderr(text):
    click.echo(text, err=True)


def main(argv=None):
    """The `cgraph` command. A closed pipe (`cgraph ... | head`) ends the process
    the way it ends other Unix tools: by SIGPIPE, silently."""
    import signal
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    cli.main(args=argv, prog_name="cgraph")


@click.group(cls=CgraphGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="""\b
Examples:
  cgraph eval "(x+y)*z" x=1 y=3 z=-3
  cgraph eval -f samples/neuron.cg --format json
  cgraph eval -- "-x^2" x=3""")
@click.version_option(__version__, "-V", "--version", prog_name="cgraph")
def cli():
    """cgraph: the computational graph of an expression, its forward values and
    its gradients by reverse-mode automatic differentiation."""


# ---- shared option bundles --------------------------------------------------

def _apply(decorators, f):
    for d in reversed(decorators):
        f = d(f)
    return f


def source_options(f):
    """EXPR or -f FILE, NAME=VALUE bindings, --bind, --output."""
    return _apply([
        click.argument("args", nargs=-1, metavar="[EXPR] [NAME=VALUE]..."),
        click.option("-f", "--file", "file", metavar="FILE",
                     help='Read the program from FILE ("-" for standard input) instead of EXPR.'),
        click.option("--bind", "bind_file", metavar="FILE.json",
                     help="Bindings as a JSON object {name: number}; NAME=VALUE arguments win."),
        click.option("--output", "output", metavar="NAME",
                     help="Use NAME's newest value as the output instead of the last statement's."),
    ], f)


def program_options(f):
    """source_options, and --wrt and --nonfinite."""
    return _apply([
        source_options,
        click.option("--wrt", "wrt", metavar="A,B", multiple=True,
                     help="Report gradients with respect to these inputs only (default: all)."),
        click.option("--nonfinite", is_flag=True,
                     help="Let inf and nan flow through instead of stopping at a domain error."),
    ], f)


def _read(path):
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError("cannot read %s: %s" % (path, getattr(e, "strerror", None) or e))


def split_args(args, file):
    """(program text, binding words) from the positional arguments and -f."""
    args = list(args)
    if file is not None:
        return _read(file), args
    if not args:
        raise UsageError("no program: give an expression (EXPR) or -f FILE")
    return args[0], args[1:]


def parse_bindings(words, bind_file=None):
    """NAME=VALUE words (and a --bind JSON file) into {name: float}."""
    out = {}
    if bind_file is not None:
        import json
        try:
            data = json.loads(_read(bind_file))
        except ValueError as e:
            raise UsageError("--bind %s: not valid JSON (%s)" % (bind_file, e))
        if not isinstance(data, dict):
            raise UsageError("--bind %s: expected a JSON object of name: number" % bind_file)
        for k, v in data.items():
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                raise UsageError("--bind %s: %s must be a number, not %s" % (bind_file, k, json.dumps(v)))
            x = float(v) if not isinstance(v, str) else parse_number(v)
            if x is None or not _BINDING.fullmatch("%s=0" % k):
                raise UsageError("--bind %s: malformed binding %s: %s" % (bind_file, json.dumps(k), json.dumps(v)))
            out[k] = x
    for w in words:
        m = _BINDING.fullmatch(w)
        x = parse_number(m.group(2)) if m else None
        if x is None:
            raise UsageError("malformed binding %r: expected NAME=VALUE with a number, such as x=1.5" % w)
        out[m.group(1)] = x
    return out


def split_names(values):
    """--wrt a,b --wrt c -> [a, b, c] (None when not given)."""
    if not values:
        return None
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    return names or None


def load_program(args, file, output):
    from .core.language import parse_program
    text, words = split_args(args, file)
    prog = parse_program(text)
    if output is not None:
        prog = prog.select(output)
    return prog, words


def default_format():
    return "table" if sys.stdout.isatty() else "plain"


def warn(lines):
    for w in lines:
        _stderr("warning: %s" % w)


# ---- eval -------------------------------------------------------------------

@cli.command("eval", epilog="""\b
Examples:
  cgraph eval "(x+y)*z" x=1 y=3 z=-3
  cgraph eval "p = x + y; g = p * z" x=1 y=3 z=-3 --format json
  cgraph eval -f samples/neuron.cg --bind samples/neuron.json --summary
  echo "sin(x)^2 + cos(x)^2" | cgraph eval -f - x=0.7 --format tree
  cgraph eval -- "-x^2" x=3        (a program starting with "-" goes after --)
  cgraph eval "(x+y)*z" --data samples/rows.csv        (one record per row)
  cgraph eval -f samples/exprs.txt --lines x=1 y=2     (one record per line)
  cgraph eval "x^2*y" x=1 y=2 --hessian --format json   (second derivatives too)""")
@program_options
@click.option("--format", "fmt_", type=click.Choice(["table", "tree", "plain", "json", "csv", "jsonl"]),
              help="Output format (default: table on a terminal; plain, or csv with --data/--lines, otherwise).")
@click.option("--precision", type=click.IntRange(1, 17), default=6, show_default=True,
              help="Significant digits in table and tree (the other formats are exact).")
@click.option("--summary", is_flag=True,
              help="Only the output's value and the inputs' gradients (JSON: empty nodes).")
@click.option("--data", "data", metavar="ROWS",
              help='Evaluate once per row of ROWS, a CSV file with a header or JSON Lines ("-": stdin).')
@click.option("--data-format", type=click.Choice(["csv", "jsonl"]),
              help="The format of ROWS (default: by its extension, else by its first line).")
@click.option("--lines", is_flag=True,
              help="Each non-empty line of -f FILE is its own expression: one record per line.")
@click.option("--skip-bad-rows", is_flag=True,
              help="Report a bad row or line on stderr and go on (the exit status is still 1).")
@click.option("--hessian", is_flag=True,
              help="Add the matrix of second derivatives of the reported inputs (JSON: key hessian).")
def eval_cmd(args, file, bind_file, output, wrt, nonfinite, fmt_, precision, summary, data, data_format,
             lines, skip_bad_rows, hessian):
    """Forward and backward passes: every node's value and gradient.

    EXPR is an expression or a program of `name = expr` statements separated by
    newlines or ";". Bind every input as NAME=VALUE. With --data, the program is
    evaluated once per row of a data file; with --lines, once per line of FILE.
    """
    if data is not None or lines:
        if hessian:
            raise UsageError("--hessian goes with one evaluation, not with --data or --lines")
        return _records(args, file, bind_file, output, wrt, nonfinite, fmt_, precision, data,
                        data_format, lines, skip_bad_rows)
    if fmt_ in ("csv", "jsonl"):
        raise UsageError("--format %s is for --data and --lines; one evaluation prints table, tree, plain or json"
                         % fmt_)
    from .core.passes import evaluate
    from .present import render
    prog, words = load_program(args, file, output)
    bindings = parse_bindings(words, bind_file)
    result = evaluate(prog, bindings, wrt=split_names(wrt), nonfinite=nonfinite)
    warn(result.warnings)
    fmt_ = fmt_ or default_format()
    out = sys.stdout
    h = None
    if hessian:
        from .features.derive import hessian as second
        h = second(prog, bindings, result.wrt, nonfinite)
    if fmt_ == "json":
        render.json_out(result, out, summary, extra=None if h is None else {"hessian": render.hessian_json(h)})
    elif fmt_ == "plain":
        render.plain(result, out, summary)
    elif fmt_ == "tree":
        render.tree(result, out, precision)
    else:
        render.table(result, out, precision, summary)
    if h is not None and fmt_ != "json":
        (render.hessian_plain if fmt_ == "plain" else render.hessian_table)(h, out, precision)
    out.flush()


def _records(args, file, bind_file, output, wrt, nonfinite, fmt_, precision, data, data_format, lines,
             skip_bad_rows):
    """--data and --lines: stream one record per row or line, a chunk at a time."""
    from .present import render
    from .features import rows
    if data is not None and lines:
        raise UsageError("--data and --lines do not go together")
    if fmt_ in ("json", "tree"):
        raise UsageError("--format %s shows one evaluation; with --data or --lines use csv, jsonl, plain or table"
                         % fmt_)
    if fmt_ is None:
        fmt_ = "table" if sys.stdout.isatty() else "csv"
    skipped = []

    def on_bad(message):
        skipped.append(message)
        _stderr("error: %s (skipped)" % message)

    wrt = split_names(wrt)
    if lines:
        if file is None:
            raise UsageError("--lines reads the expressions from -f FILE (\"-\" for standard input)")
        bindings = parse_bindings(list(args), bind_file)
        src = _open_text(file)
        names = list(dict.fromkeys(wrt)) if wrt else list(bindings)
        records = rows.evaluate_lines(src, "<stdin>" if file == "-" else file, bindings, wrt, nonfinite,
                                      skip_bad_rows, on_bad)
        head = ["line", "expr"]
    else:
        prog, words = load_program(args, file, output)
        if data == "-" and file == "-":
            raise UsageError("the program (-f -) and the rows (--data -) cannot both come from standard input")
        bindings = parse_bindings(words, bind_file)
        source = rows.open_rows(_open_text(data), "<stdin>" if data == "-" else data, data_format)
        names, warnings = _row_names(prog, source, bindings, wrt)
        warn(warnings)
        records = rows.evaluate_rows(prog, source, bindings, wrt, nonfinite, skip_bad_rows, on_bad)
        head = source.columns
    writer = render.record_writer(fmt_, sys.stdout, precision)
    writer.start(head, names)
    total = 0
    for rec in records:
        writer.write(rec)
        sys.stdout.flush()
        total += len(rec.lines)
    writer.end()
    if skipped:
        what = "line" if lines else "row"
        raise CgraphError("skipped %d bad %s%s of %d" % (len(skipped), what, "" if len(skipped) == 1 else "s",
                                                         total))


def _row_names(prog, source, bindings, wrt):
    """The gradients a record reports, and warnings for columns and bindings the program never reads."""
    from .core.passes import check_bindings
    cone, _ = prog.graph.cone(prog.output)
    names, warnings = check_bindings(prog, cone, bindings, wrt)
    unread = [c for c in source.columns if c not in prog.graph.inputs]
    if unread:
        warnings.append("column%s %s of %s %s not read by the program (passed through)" % (
            "" if len(unread) == 1 else "s", ", ".join(unread), source.name, "is" if len(unread) == 1 else "are"))
    return names, warnings


def _open_text(path):
    if path == "-":
        return sys.stdin
    try:
        return open(path, encoding="utf-8", newline="")
    except OSError as e:
        raise UsageError("cannot read %s: %s" % (path, e.strerror or e))


# ---- minimize and train -------------------------------------------------------

def _learn_format(fmt_):
    return fmt_ or ("table" if sys.stdout.isatty() else "plain")


@cli.command("minimize", epilog="""\b
Examples:
  cgraph minimize "(x-3)^2 + (y+1)^2" x=0 y=0
  cgraph minimize "(1-a)^2 + 100*(b-a^2)^2" a=-1 b=1 --lr 0.001 --momentum 0.9 --steps 20000
  cgraph minimize -f samples/neuron.cg --bind samples/neuron.json --params w1,w2,b --format json
  cgraph minimize "x^4 - 3*x^2 + x" x=2 --trace trace.csv""")
@source_options
@click.option("--params", metavar="A,B", multiple=True,
              help="The inputs to adjust (default: every input); the others stay fixed.")
@click.option("--lr", type=float, default=0.1, show_default=True, help="Learning rate (step size).")
@click.option("--steps", type=click.IntRange(0), default=1000, show_default=True,
              help="The most gradient steps to take.")
@click.option("--tol", type=float, default=1e-10, show_default=True,
              help="Stop when the gradient's norm or the change in the value falls below this.")
@click.option("--momentum", type=click.FloatRange(0, 1, max_open=True), default=0.0, show_default=True,
              help="Heavy-ball momentum: v = momentum*v + grad; x = x - lr*v.")
@click.option("--trace", metavar="FILE", help="Write the value and the parameters per step as CSV.")
@click.option("--format", "fmt_", type=click.Choice(["table", "plain", "json"]),
              help="Output format (default: table on a terminal, plain otherwise).")
@click.option("--precision", type=click.IntRange(1, 17), default=6, show_default=True,
              help="Significant digits in the table.")
def minimize_cmd(args, file, bind_file, output, params, lr, steps, tol, momentum, trace, fmt_, precision):
    """Gradient descent on the inputs: x = x - lr * d(output)/dx, step after step,
    from the starting values given as NAME=VALUE, until --tol or --steps."""
    from .features import learn as optimize
    from .present import render
    prog, words = load_program(args, file, output)
    bindings = parse_bindings(words, bind_file)
    tracer = _Trace(trace) if trace else None
    try:
        outcome = optimize.minimize(prog, bindings, split_names(params), lr, steps, tol, momentum,
                                    tracer.step if tracer else None)
    finally:
        if tracer:
            tracer.close()
    render.learned(outcome, sys.stdout, _learn_format(fmt_), precision, "minimize")


class _Trace:
    """--trace FILE: CSV of step, value and the parameters, written as the steps go."""

    def __init__(self, path):
        try:
            self.fh = open(path, "w", encoding="utf-8")
        except OSError as e:
            raise UsageError("cannot write %s: %s" % (path, e.strerror or e))
        self.header = False

    def step(self, step, value, params):
        if not self.header:
            self.fh.write(",".join(["step", "value"] + list(params)) + "\n")
            self.header = True
        self.fh.write(",".join([str(step), repr(value)] + [repr(v) for v in params.values()]) + "\n")

    def close(self):
        self.fh.close()


@cli.command("train", epilog="""\b
Examples:
  cgraph train -f samples/linreg.cg --data samples/linreg.csv --params w,b w=0 b=0 --epochs 50
  cgraph train -f samples/xor.cg --data samples/xor.csv --init-seed 1 --lr 0.5 \\
      --epochs 2000 --batch-size 4 --save xor.json
  cgraph eval -f samples/xor.cg --bind xor.json x1=1 x2=0 --summary""")
@source_options
@click.option("--data", "data", metavar="ROWS", required=True,
              help='Training rows: CSV with a header or JSON Lines ("-": stdin).')
@click.option("--data-format", type=click.Choice(["csv", "jsonl"]), help="The format of ROWS.")
@click.option("--params", metavar="A,B", multiple=True,
              help="The parameters to learn (default: the inputs that are not columns of ROWS).")
@click.option("--init-seed", type=int, help="Start unbound parameters at small random values from this seed.")
@click.option("--lr", type=float, default=0.1, show_default=True, help="Learning rate.")
@click.option("--epochs", type=click.IntRange(1), default=100, show_default=True, help="The most passes over the rows.")
@click.option("--batch-size", type=click.IntRange(1), default=1, show_default=True,
              help="Rows per update; the cost and gradients are averaged over a batch.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for shuffling the rows each epoch.")
@click.option("--no-shuffle", is_flag=True, help="Go through the rows in file order.")
@click.option("--tol", type=float, default=0.0, show_default=True,
              help="Stop when the epoch's mean cost changes by less than this.")
@click.option("--every", type=click.IntRange(1), help="Print the cost every K epochs (default: about 20 lines).")
@click.option("--save", metavar="FILE.json", help="Write the learned parameters as JSON (what --bind reads).")
@click.option("--format", "fmt_", type=click.Choice(["table", "plain", "json"]),
              help="Output format (default: table on a terminal, plain otherwise).")
@click.option("--precision", type=click.IntRange(1, 17), default=6, show_default=True,
              help="Significant digits in the table.")
def train_cmd(args, file, bind_file, output, data, data_format, params, init_seed, lr, epochs,
              batch_size, seed, no_shuffle, tol, every, save, fmt_, precision):
    """The training loop: for each mini-batch of rows, a forward pass computing the
    cost (the program's output), a backward pass computing every gradient, and
    W = W - lr * gradient for each parameter; epoch after epoch until a stop criterion."""
    from .features import learn as optimize
    from .present import render
    from .features import rows
    prog, words = load_program(args, file, output)
    bindings = parse_bindings(words, bind_file)
    source = rows.open_rows(_open_text(data), "<stdin>" if data == "-" else data, data_format)
    names = split_names(params)
    if names is None:
        names = [n for n in prog.graph.inputs if n not in source.columns]
        if not names:
            raise UsageError("every input of the program is a column of %s: name the parameters with --params"
                             % source.name)
    if init_seed is not None:
        bindings.update(optimize.init_params([p for p in names if p not in bindings], init_seed))
    fmt_ = _learn_format(fmt_)
    every = every or max(1, epochs // 20)
    show = render.EpochReporter(fmt_, sys.stdout, sys.stderr, epochs, every, precision)
    with show:
        outcome = optimize.train(prog, source, bindings, names, lr, epochs, batch_size, not no_shuffle, seed,
                                 tol, show.epoch)
    if save:
        import json
        try:
            with open(save, "w", encoding="utf-8") as fh:
                json.dump(outcome.params, fh, indent=1)
                fh.write("\n")
        except OSError as e:
            raise UsageError("cannot write %s: %s" % (save, e.strerror or e))
    render.learned(outcome, sys.stdout, fmt_, precision, "train")


# ---- graph, explain, check --------------------------------------------------

@cli.command("graph", epilog="""\b
Examples:
  cgraph graph "(x+y)*z"                         the structure, as a tree
  cgraph graph "(x+y)*z" x=1 y=3 z=-3            with every value and gradient
  cgraph graph "(x+y)*z" x=1 y=3 z=-3 | dot -Tsvg > seed.svg
  cgraph graph "tanh(w*x + b)" --format mermaid  (paste into Markdown)
Piped, the default format is dot, ready for Graphviz.""")
@program_options
@click.option("--format", "fmt_", type=click.Choice(["tree", "dot", "mermaid", "json"]),
              help="Output format (default: tree on a terminal, dot otherwise).")
@click.option("--precision", type=click.IntRange(1, 17), default=6, show_default=True,
              help="Significant digits in tree, dot and mermaid labels (json is exact).")
def graph_cmd(args, file, bind_file, output, wrt, nonfinite, fmt_, precision):
    """The computational graph: each operation once, an edge for each use.

    Without bindings it shows the structure only; bind every input (NAME=VALUE)
    to label each node with its value and gradient too. DOT output is a Graphviz
    digraph drawn left to right, inputs first; mermaid is a flowchart for
    Markdown viewers; json lists nodes and edges.
    """
    from .features.diagram import graph_view, dot_lines, mermaid_lines, json_obj
    from .present import render
    prog, words = load_program(args, file, output)
    bindings = parse_bindings(words, bind_file)
    view = graph_view(prog, bindings, wrt=split_names(wrt), nonfinite=nonfinite)
    warn(view.warnings)
    fmt_ = fmt_ or ("tree" if sys.stdout.isatty() else "dot")
    out = sys.stdout
    if fmt_ == "tree":
        render.graph_tree(view, out, precision)
    elif fmt_ == "json":
        render.json_write(json_obj(view), out)
    else:
        lines = dot_lines(view, precision) if fmt_ == "dot" else mermaid_lines(view, precision)
        for line in lines:
            out.write(line + "\n")
    out.flush()


@cli.command("explain", epilog="""\b
Examples:
  cgraph explain "(x+y)*z" x=1 y=3 z=-3
  cgraph explain "p = x + y; g = p * z" x=1 y=3 z=-3 --format json
  cgraph explain "tanh(w*x + b)" w=0.5 x=2 b=-1 | less""")
@program_options
@click.option("--format", "fmt_", type=click.Choice(["pretty", "plain", "json"]),
              help="Output format (default: pretty on a terminal, plain otherwise).")
@click.option("--precision", type=click.IntRange(1, 17), default=6, show_default=True,
              help="Significant digits in pretty output (plain and json are exact).")
def explain_cmd(args, file, bind_file, output, wrt, nonfinite, fmt_, precision):
    """The forward and backward passes, step by step, with the numbers.

    The forward pass computes each node from its inputs, inputs first. The
    backward pass starts from the output's gradient, 1, and works back: each
    node's gradient is the chain rule, upstream gradient times local
    derivative, summed over the node's uses. Unnamed results are named p, q,
    r, ... and an unnamed output g.
    """
    from .features.explain import explain
    from .present import render
    prog, words = load_program(args, file, output)
    bindings = parse_bindings(words, bind_file)
    fmt_ = fmt_ or ("pretty" if sys.stdout.isatty() else "plain")
    ex = explain(prog, bindings, wrt=split_names(wrt), nonfinite=nonfinite,
                 precision=precision if fmt_ == "pretty" else None)
    warn(ex.result.warnings)
    out = sys.stdout
    if fmt_ == "json":
        render.json_write(ex.json_obj(), out)
    elif fmt_ == "plain":
        render.explain_plain(ex, out)
    else:
        render.explain_rich(ex, out, precision)
    out.flush()


@cli.command("check", epilog="""\b
Examples:
  cgraph check "(x+y)*z" x=1 y=3 z=-3
  cgraph check "log(x) * sin(y)" x=0.5 y=2 --rtol 1e-7
  cgraph check "relu(x) + abs(y)" x=0 y=0      (kinks: reported, exit 0)
  cgraph check "relu(x)" x=0 --strict          (kinks count as failures: exit 1)
Exit status: 0 when no gradient disagrees, 1 when one does (or a domain error).""")
@program_options
@click.option("--eps", type=click.FloatRange(0, 1, min_open=True), default=1e-6, show_default=True,
              help="Relative step: h = EPS * max(1, |x|) for each input x.")
@click.option("--rtol", type=click.FloatRange(0, min_open=True), default=1e-5, show_default=True,
              help="Fail an input whose relative error exceeds RTOL.")
@click.option("--atol", type=click.FloatRange(0), default=1e-8, show_default=True,
              help="Absolute floor: gradients smaller than ATOL/RTOL are compared to within ATOL.")
@click.option("--strict", is_flag=True,
              help="Count inputs that cannot be verified (at a kink, or undefined around) as failures.")
@click.option("--format", "fmt_", type=click.Choice(["table", "plain", "json"]),
              help="Output format (default: table on a terminal, plain otherwise).")
@click.option("--precision", type=click.IntRange(1, 17), default=10, show_default=True,
              help="Significant digits in the table (plain and json are exact).")
def check_cmd(args, file, bind_file, output, wrt, nonfinite, eps, rtol, atol, strict, fmt_, precision):
    """Check the backward pass's gradients against central finite differences.

    For each input x the output is evaluated again at x - h and x + h, and
    (f(x+h) - f(x-h)) / 2h is compared with the gradient. Next to a kink
    (relu, abs, min, max) or the edge of a function's domain it says so and
    uses a one-sided difference; at a kink it shows the one-sided derivatives
    and the convention the backward pass used.
    """
    from .features.check import check
    from .present import render
    prog, words = load_program(args, file, output)
    bindings = parse_bindings(words, bind_file)
    cr = check(prog, bindings, wrt=split_names(wrt), eps=eps, rtol=rtol, atol=atol, nonfinite=nonfinite)
    warn(cr.result.warnings)
    fmt_ = fmt_ or default_format()
    out = sys.stdout
    if fmt_ == "json":
        render.json_write(cr.json_obj(strict), out)
    elif fmt_ == "plain":
        render.check_plain(cr, out)
    else:
        render.check_table(cr, out, precision)
    out.flush()
    if not cr.checks:
        warn(["nothing to check: the output depends on no input"])
    warn(["%s is not verified (%s): %s" % (c.name, c.status, "; ".join(c.notes)) for c in cr.unverified])
    bad = cr.failed + ([c.name for c in cr.unverified] if strict else [])
    if bad:
        raise CgraphError("gradient check failed for %s (%s)" % (", ".join(bad), "; ".join(
            _why(c, cr) for c in cr.checks if c.name in bad)))


def _why(c, cr):
    if c.status == "fail":
        return "%s: backward pass %s, finite difference %s, relative error %.1e > rtol %g" % (
            c.name, _fmt(c.grad), _fmt(c.fd), c.rel_error, cr.rtol)
    return "%s: %s, not verified, with --strict" % (c.name, c.status)


def _fmt(x):
    from .core.numbers import fmt
    return fmt(x)
# ---- diff -------------------------------------------------------------------

@cli.command("diff", epilog="""\b
Examples:
  cgraph diff "x^2*y + sin(x)" --wrt x          2*x*y + cos(x)
  cgraph diff "x^2*y + sin(x)" --wrt x,y        d_x = ... and d_y = ... lines
  cgraph diff "x^3" --wrt x --order 2           6*x
  cgraph diff "x^2*y^3" --wrt x --wrt y         the mixed partial d2/dxdy: 6*x*y^2
  cgraph diff -f samples/rnn.cg --wrt w         a program with temporaries t1, t2, ...
  cgraph diff "sin(x)*y" --wrt x | cgraph eval -f - x=1 y=2   (the output parses again)
  cgraph diff --wrt x -- "-x^2"                 (a program starting with "-" goes after --)""")
@click.argument("args", nargs=-1, metavar="[EXPR]")
@click.option("-f", "--file", "file", metavar="FILE",
              help='Read the program from FILE ("-" for standard input) instead of EXPR.')
@click.option("--output", "output", metavar="NAME",
              help="Differentiate NAME's newest value instead of the last statement's.")
@click.option("--wrt", "wrt", metavar="A,B", multiple=True,
              help="Differentiate with respect to these inputs, one derivative per name (default: each "
                   "input). Given again (--wrt x --wrt y), differentiate again: the mixed partial.")
@click.option("--order", type=click.IntRange(1, 20), default=1, show_default=True, metavar="N",
              help="Differentiate N times with respect to each name (d2/dx2 for --order 2).")
def diff_cmd(args, file, output, wrt, order):
    """The derivative as an expression in the language, so that it parses again.

    One derivative is printed as an expression; several, or one with shared
    subexpressions, as a program: temporaries `t1 = ...` for subexpressions used
    more than once, then a `d_x = ...` line per derivative (`d2_x` for d2/dx2,
    `d2_x_y` for d2/dxdy).
    """
    from .features.derive import diff_text
    prog, words = load_program(args, file, output)
    if words:
        raise UsageError("diff takes an expression, not bindings (%s); to evaluate the derivative, pipe it: "
                         "cgraph diff EXPR --wrt x | cgraph eval -f - NAME=VALUE ..." % " ".join(words))
    steps = [split_names([w]) or [] for w in wrt]
    if not steps:
        steps = [list(prog.graph.cone(prog.output)[0].inputs)]
        if not steps[0]:
            raise UsageError("nothing to differentiate: the output reads no inputs (name one with --wrt for its 0)")
    if order > 1:
        if len(steps) > 1:
            raise UsageError("--order repeats a single --wrt; --wrt given %d times already differentiates "
                             "%d times" % (len(steps), len(steps)))
        seqs = [(name,) * order for name in steps[0]]
    else:
        seqs = [()]
        for step in steps:
            seqs = [s + (name,) for s in seqs for name in step]
    click.echo(diff_text(prog, list(dict.fromkeys(seqs))))
