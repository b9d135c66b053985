"""The command line: the `cgraph` group, `main()`, and the one place that exits.

`CgraphGroup.main` turns every CgraphError and click usage error into an
`error: ...` line on stderr and the exit status of the contract, and a closed pipe into
a quiet exit. Each command is its own module under cgcli/commands/, imported
only when it runs (or when help lists it), so start-up loads one command; and
a command imports the library and Rich inside its body, so importing this
module loads neither Rich, numpy nor Lark.
"""

import importlib
import os
import sys
from collections.abc import MutableMapping

import click

from . import __version__
from .core.errors import CgraphError

# name -> the module under cgcli.commands that defines it (as `command`)
COMMANDS = {"eval": "eval", "graph": "graph", "explain": "explain", "check": "check", "diff": "diff",
            "minimize": "minimize", "train": "train", "fit": "fit"}


class LazyCommands(MutableMapping):
    """click's `Group.commands`, with each command imported on first use."""

    def __init__(self, modules):
        self._modules = dict(modules)
        self._loaded = {}

    def __getitem__(self, name):
        cmd = self._loaded.get(name)
        if cmd is None:
            module = importlib.import_module(".commands." + self._modules[name], __package__)
            cmd = self._loaded[name] = module.command
        return cmd

    def __setitem__(self, name, cmd):
        self._modules.setdefault(name, None)
        self._loaded[name] = cmd

    def __delitem__(self, name):
        del self._modules[name]
        self._loaded.pop(name, None)

    def __iter__(self):
        return iter(self._modules)

    def __len__(self):
        return len(self._modules)


class CgraphGroup(click.Group):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands(COMMANDS)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        status = 0
        argv = sys.argv[1:] if args is None else list(args)
        try:
            if not argv and not os.environ.get(complete_var or "_CGRAPH_COMPLETE"):
                # bare `cgraph`: a short usage and the commands on stdout, as git does; status 2
                click.echo(self.short_usage())
                status = 2
            else:
                rv = super().main(args, prog_name or "cgraph", complete_var, standalone_mode=False, **extra)
                status = rv if isinstance(rv, int) else 0
            sys.stdout.flush()  # a full disk shows here, not at exit
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
            if isinstance(e, click.NoSuchOption) and ctx is not None:
                msg += _dash_hint(e.option_name, argv, ctx)
            _stderr("error: %s" % msg)
            status = e.exit_code
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as Unix tools do.
            _silence_stdout()
            status = 141 if standalone_mode else 1
        except KeyboardInterrupt:
            _stderr("error: interrupted")
            status = 130
        except OSError as e:
            if e.filename is not None:
                raise
            # a write failed: a full disk (/dev/full), an I/O error
            if _writes_stdout(e.__traceback__):
                _silence_stdout()
                _stderr("error: cannot write to standard output: %s" % (e.strerror or e))
            else:
                _stderr("error: cannot write: %s" % (e.strerror or e))
            status = 1
        if standalone_mode:
            sys.exit(status)
        return status

    def short_usage(self):
        """What bare `cgraph` prints: the usage line, the commands, where help is."""
        ctx = click.Context(self, info_name="cgraph")
        rows = [(name, self.commands[name].get_short_help_str(60)) for name in self.list_commands(ctx)]
        width = max(len(n) for n, _ in rows)
        return "\n".join(["usage: cgraph [--color auto|always|never] [-q] COMMAND [ARGS]...", "", "commands:"]
                         + ["  %-*s  %s" % (width, n, h) for n, h in rows]
                         + ["", "'cgraph COMMAND --help' describes a command; 'cgraph --help' says more."])


def _dash_hint(option, argv, ctx):
    """click read a program that starts with '-' (`cgraph eval -x+1 x=1`) as an option:
    say that the program goes after --, with the command line that does it."""
    if not option or option.startswith("--"):
        return ""
    import shlex
    words = list(argv)
    for k, w in enumerate(words):
        if w.startswith(option) and w != "--":
            if "--" in words[:k]:
                return ""
            fixed, rest = words[:k], []
            known = {o: p for p in ctx.command.params for o in getattr(p, "opts", []) + getattr(p, "secondary_opts", [])}
            j = k
            while j < len(words):  # the options after the program stay before --
                p = known.get(words[j].split("=", 1)[0])
                if p is None:
                    rest.append(words[j])
                    j += 1
                    continue
                takes_value = "=" not in words[j] and not getattr(p, "is_flag", False) and p.nargs != 0
                fixed.extend(words[j:j + 1 + takes_value])
                j += 1 + takes_value
            fixed += ["--"] + rest
            return "; a program that starts with '-' goes after --: %s %s" % (
                ctx.find_root().info_name, " ".join(map(shlex.quote, fixed)))
    return ""


def _silence_stdout():
    """Point file descriptor 1 at /dev/null so that the flush at exit (of what is still
    buffered) cannot fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _writes_stdout(tb):
    """Whether the failed write was to standard output: a frame of the traceback
    holds sys.stdout (as `out`, `self.out`, a console's file, ...)."""
    targets = {id(sys.stdout), id(getattr(sys.stdout, "buffer", None))}
    while tb is not None:
        for v in tb.tb_frame.f_locals.values():
            if id(v) in targets or id(getattr(v, "out", None)) in targets or id(getattr(v, "file", None)) in targets:
                return True
        tb = tb.tb_next
    return False


def _stderr(text):
    """A message on stderr; control characters in it (from program text or a file)
    are shown escaped, the message's own line breaks kept."""
    from .core.errors import printable
    try:
        click.echo(printable(text, keep_newlines=True), err=True)
    except OSError:  # stderr itself cannot be written: nothing more to say
        pass


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
  cgraph eval -f samples/neuron.cg --bind samples/neuron.json --format json
  cgraph eval -- "-x^2" x=3""")
@click.version_option(__version__, "-V", "--version", prog_name="cgraph")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour in tables and trees: always, never, or auto (NO_COLOR, then FORCE_COLOR, "
                   "then whether stdout is a terminal).")
@click.option("-q", "--quiet", is_flag=True, help="Print no warnings (errors still go to stderr).")
@click.pass_context
def cli(ctx, color, quiet):
    """cgraph: the computational graph of an expression, its forward values and
    its gradients by reverse-mode automatic differentiation."""
    from .commands import options
    options.set_globals(ctx, color=color, quiet=quiet)
