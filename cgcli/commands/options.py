"""The options commands share, declared once: a new command stacks these
instead of redeclaring them.

    @click.command("name", epilog=...)
    @program_options                       # EXPR/-f, NAME=VALUE, --bind, --output, --wrt, --nonfinite
    @format_option(["table", "plain", "json"], terminal="table", piped="plain")
    @precision_option()
    def command(source, wrt, nonfinite, fmt, precision): ...

`source` is an inputs.Source; --wrt (and names_option's) arrive as a list of
names or None; --format arrives resolved (its default depends on whether
standard output is a terminal) unless `piped` is None.
"""

import functools
import math
import sys

import click

from ..core.errors import UsageError
from .inputs import Source, split_names

# ---- the group's options (cli.py): --color and -q/--quiet ----------------------

def set_globals(ctx, color="auto", quiet=False):
    """Keep the group's options for this run: quiet in the click context (read by
    inputs.warn), colour where the renderers make their console."""
    ctx.meta["cgraph.quiet"] = quiet
    if color != "auto" or "cgcli.present.common" in sys.modules:
        from ..present import common
        common.COLOR = color


INTERRUPTED = 130  # the exit status of a run stopped by Ctrl-C (128 + SIGINT)


class FiniteRange(click.FloatRange):
    """A real-valued option within a range that refuses nan and inf (which pass
    click's range checks, since nan compares false with everything)."""

    name = "finite number"

    def convert(self, value, param, ctx):
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail("%s is not a finite number" % value, param, ctx)
        return rv


class OutputFile(click.ParamType):
    """A file a command writes when it ends (--save, --trace): checked when the
    option is read, before any work (not empty, not a directory, a directory
    that can be written)."""

    name = "file"

    def convert(self, value, param, ctx):
        from ..features.learn import check_writable
        check_writable(value, param.opts[0] if param is not None else "FILE")
        return value


def _names(ctx, param, values, split):
    """--wrt/--params values: a value that names nothing ("" or ",") is a usage error."""
    for v in values:
        if not split_names([v]):
            raise UsageError("%s: %s names no input" % (param.opts[0], '""' if not v else repr(v)),
                             hint="give NAME or A,B, or leave the option out")
    return split_names(values) if split else values


def _apply(decorators, f):
    for d in reversed(decorators):
        f = d(f)
    return f


def on_terminal(terminal, piped):
    """`terminal` when standard output is a terminal, else `piped`."""
    return terminal if sys.stdout.isatty() else piped


class FormatChoice(click.Choice):
    """click.Choice that also takes older names (`pretty` for `table`), not shown in help."""

    def __init__(self, choices, aliases=None):
        super().__init__(choices)
        self.aliases = dict(aliases or {})

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value in self.aliases:
            return self.aliases[value]
        return super().convert(value, param, ctx)


def format_option(choices, terminal, piped, help=None, aliases=None):
    """--format, defaulting to `terminal` on a terminal and `piped` otherwise
    (piped None: left None, for a command whose default depends on other options).
    `aliases`: other accepted names, {"pretty": "table"}."""
    def resolve(ctx, param, value):
        return on_terminal(terminal, piped) if value is None and piped is not None else value
    return click.option("--format", "fmt", type=FormatChoice(choices, aliases), callback=resolve,
                        help=help or "Output format (default: %s on a terminal, %s otherwise)." % (terminal, piped))


def precision_option(default=6, help="Significant digits in the table."):
    return click.option("--precision", type=click.IntRange(1, 17), default=default, show_default=True, help=help)


def names_option(flag, help, split=True):
    """A repeatable A,B option (--wrt, --params): a list of names or None; with
    split False, the values as given, one per use."""
    return click.option(flag, metavar="A,B", multiple=True, help=help,
                        callback=lambda ctx, param, value: _names(ctx, param, value, split))


def wrt_option(help="Report gradients with respect to these inputs only (default: all).", split=True):
    return names_option("--wrt", help, split)


nonfinite_option = click.option("--nonfinite", is_flag=True,
                                help="Let inf and nan flow through instead of stopping at a domain error.")


def file_option(help='Read the program from FILE ("-" for standard input) instead of EXPR.'):
    return click.option("-f", "--file", "file", metavar="FILE", help=help)


def output_option(help="Use NAME's newest value as the output instead of the last statement's "
                       "(eval, graph, explain, diff: several outputs as A,B or the option repeated)."):
    def names(ctx, param, values):
        if not values:
            return []
        from ..core.jacobian import output_names
        return output_names(values)
    return click.option("--output", "output", metavar="NAME", multiple=True, callback=names, help=help)


bind_option = click.option("--bind", "bind_file", metavar="FILE.json",
                           help="Bindings as a JSON object {name: number}; NAME=VALUE arguments win.")


def source(bind=True, metavar="[EXPR] [NAME=VALUE]...", output_help=None):
    """EXPR or -f FILE, NAME=VALUE bindings, --bind (unless bind is False) and
    --output; the command receives them as one `source` (an inputs.Source)."""
    def decorate(f):
        @functools.wraps(f)
        def command(*a, args, file, output, bind_file=None, **kw):
            return f(*a, source=Source(args, file, bind_file, output), **kw)
        params = [click.argument("args", nargs=-1, metavar=metavar), file_option()]
        if bind:
            params.append(bind_option)
        params.append(output_option(output_help) if output_help else output_option())
        return _apply(params, command)
    return decorate


source_options = source()


def program_options(f):
    """source_options, and --wrt and --nonfinite."""
    return _apply([source_options, wrt_option(), nonfinite_option], f)


def _direction(ctx, param, values):
    """--tangent NAME=VALUE words into {name: float}, or None when not given: a
    malformed word is a usage error as a malformed binding is, and so is a name
    given twice or a tangent that is not finite (core/forward.check_direction)."""
    if not values:
        return None
    from .inputs import parse_bindings
    out = {}
    for w in values:
        try:
            (name, x), = parse_bindings([w]).items()
        except UsageError:
            raise UsageError("malformed --tangent %r: expected NAME=VALUE with a number, such as x=1" % w) from None
        if name in out:
            raise UsageError("--tangent %s is given twice" % name, hint="one tangent per input")
        if not math.isfinite(x):
            raise UsageError("--tangent %s: a tangent is a finite number" % w)
        out[name] = x
    return out


tangent_option = click.option(
    "--tangent", "tangent", multiple=True, metavar="NAME=VALUE", callback=_direction,
    help="Forward mode: input NAME's tangent in the direction (repeatable; inputs not named: 0). "
         "Every node also carries its tangent, the derivative along the direction.")
