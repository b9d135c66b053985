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
            "minimize": "minimize", "train": "train"}


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
  cgraph eval -f samples/neuron.cg --bind samples/neuron.json --format json
  cgraph eval -- "-x^2" x=3""")
@click.version_option(__version__, "-V", "--version", prog_name="cgraph")
def cli():
    """cgraph: the computational graph of an expression, its forward values and
    its gradients by reverse-mode automatic differentiation."""
