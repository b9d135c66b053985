"""The command line: options in, one core call, render out.

This is the one module that imports click and the one place that exits:
`CgraphGroup.main` turns every CgraphError and click usage error into an
`error: ...` line on stderr and the SPEC's exit status, and a closed pipe into
a quiet exit.
"""

import os
import re
import sys

import click

from . import __version__
from .errors import CgraphError, UsageError
from .numbers import parse_number

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

def program_options(f):
    """EXPR or -f FILE, NAME=VALUE bindings, --bind, --output, --wrt, --nonfinite."""
    decorators = [
        click.argument("args", nargs=-1, metavar="[EXPR] [NAME=VALUE]..."),
        click.option("-f", "--file", "file", metavar="FILE",
                     help='Read the program from FILE ("-" for standard input) instead of EXPR.'),
        click.option("--bind", "bind_file", metavar="FILE.json",
                     help="Bindings as a JSON object {name: number}; NAME=VALUE arguments win."),
        click.option("--output", "output", metavar="NAME",
                     help="Differentiate NAME's newest value instead of the last statement's."),
        click.option("--wrt", "wrt", metavar="A,B", multiple=True,
                     help="Report gradients with respect to these inputs only (default: all)."),
        click.option("--nonfinite", is_flag=True,
                     help="Let inf and nan flow through instead of stopping at a domain error."),
    ]
    for d in reversed(decorators):
        f = d(f)
    return f


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
    from .parse import parse_program
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
  cgraph eval -- "-x^2" x=3        (a program starting with "-" goes after --)""")
@program_options
@click.option("--format", "fmt_", type=click.Choice(["table", "tree", "plain", "json"]),
              help="Output format (default: table on a terminal, plain otherwise).")
@click.option("--precision", type=click.IntRange(1, 17), default=6, show_default=True,
              help="Significant digits in table and tree (plain and json are exact).")
@click.option("--summary", is_flag=True,
              help="Only the output's value and the inputs' gradients (JSON: empty nodes).")
def eval_cmd(args, file, bind_file, output, wrt, nonfinite, fmt_, precision, summary):
    """Forward and backward passes: every node's value and gradient.

    EXPR is an expression or a program of `name = expr` statements separated by
    newlines or ";". Bind every input as NAME=VALUE.
    """
    from .evaluate import evaluate
    from . import render
    prog, words = load_program(args, file, output)
    bindings = parse_bindings(words, bind_file)
    result = evaluate(prog, bindings, wrt=split_names(wrt), nonfinite=nonfinite)
    warn(result.warnings)
    fmt_ = fmt_ or default_format()
    out = sys.stdout
    if fmt_ == "json":
        render.json_out(result, out, summary)
    elif fmt_ == "plain":
        render.plain(result, out, summary)
    elif fmt_ == "tree":
        render.tree(result, out, precision)
    else:
        render.table(result, out, precision, summary)
    out.flush()


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
    from .diagram import graph_view, dot_lines, mermaid_lines, json_obj
    from . import render
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
    from .explain import explain
    from . import render
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
    from .check import check
    from . import render
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
    from .numbers import fmt
    return fmt(x)
