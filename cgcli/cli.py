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
  cgraph eval -- "-x^2" x=3        (a program starting with "-" goes after --)
  cgraph eval "x^2*y" x=1 y=2 --hessian --format json   (second derivatives too)""")
@program_options
@click.option("--format", "fmt_", type=click.Choice(["table", "tree", "plain", "json"]),
              help="Output format (default: table on a terminal, plain otherwise).")
@click.option("--precision", type=click.IntRange(1, 17), default=6, show_default=True,
              help="Significant digits in table and tree (plain and json are exact).")
@click.option("--summary", is_flag=True,
              help="Only the output's value and the inputs' gradients (JSON: empty nodes).")
@click.option("--hessian", is_flag=True,
              help="Add the matrix of second derivatives of the reported inputs (JSON: key hessian).")
def eval_cmd(args, file, bind_file, output, wrt, nonfinite, fmt_, precision, summary, hessian):
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
    h = None
    if hessian:
        from .derive import hessian as second
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
    from .derive import diff_text
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
